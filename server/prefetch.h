/* prefetch.h — cold reads off the event loop (see prefetch.c). */
#ifndef LODIS_PREFETCH_H
#define LODIS_PREFETCH_H

#include <stdint.h>

#include "server/client.h"

struct command;

/* tier-read-offload: when a command with cold keys takes the detour.
 * auto: while the disk is being waited on (prefetch_cron decides); always:
 * whenever its keys are cold (tests); never: no detour. */
#define PREFETCH_AUTO   0
#define PREFETCH_ALWAYS 1
#define PREFETCH_NEVER  2

/* Start or stop the reader threads as maxmemory and tier-read-threads say
 * (startup and CONFIG SET). */
void prefetch_apply(void);
/* Called by process_command just before it runs cmd: 1 if the client was
 * parked until its keys' pages are read (the request stays in its query
 * buffer and runs again), 0 to run the command now. */
int prefetch_defer(client *c, const struct command *cmd);
/* Decide, ten times a second, whether auto mode detours (server cron). */
void prefetch_cron(void);
/* A parked client is being freed: its job must not resume it. */
void prefetch_client_gone(client *c);
/* Stop the threads and free what their last jobs hand back (shutdown,
 * after every client is freed). */
void prefetch_shutdown(void);

#endif
