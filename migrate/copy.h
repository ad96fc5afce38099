/* copy.h — lodis-migrate copy: what cmd_copy.c (options, the SCAN copy) and
 * follow.c (--follow: the replication link) share. */
#ifndef LODIS_COPY_H
#define LODIS_COPY_H

#include "migrate/rconn.h"

typedef struct copy_opts {
    const char *from, *to;
    mig_url src;
    int quiet;
    long batch;           /* keys per SCAN batch */
    const char *state;    /* resume file (SCAN copy) */
    int restart;          /* ignore an existing resume file */
    const char *server;   /* lodis-server binary for --follow into a DATADIR */
} copy_opts;

/* Explain an error reply of the source for a command it refused. */
void copy_explain_source_error(const copy_opts *o, const char *cmd, const char *reply, char *out,
                               size_t cap);

/* --follow: replicate from the source into o->to until SIGINT/SIGTERM.
 * src is connected and authenticated. Returns an exit status. */
int copy_follow(const copy_opts *o, rconn *src);

#endif
