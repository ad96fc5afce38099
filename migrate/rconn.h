/* rconn.h — a small blocking RESP client for lodis-migrate copy: one TCP
 * connection to a Redis (the source) or a lodis (the target), commands
 * appended to an output buffer and sent pipelined, replies parsed from an
 * input buffer as whole trees.
 *
 * The parser does no I/O (rc_parse works on what rc_fill read), so the
 * replication follower can mix raw bytes (the RDB transfer) and replies on
 * the same buffer. Every error message in c->err is meant for the user.
 *
 * Ownership: rreply trees are malloc'd and owned by the caller
 * (rreply_free). */
#ifndef LODIS_RCONN_H
#define LODIS_RCONN_H

#include <stddef.h>
#include <stdint.h>

/* A URL given to --from / --to: redis://[user:pass@]host:port[/db] or
 * lodis://... (same form). */
typedef struct mig_url {
    char scheme[8];
    char host[256];
    int port;
    char user[128];
    char pass[256];
    int db; /* -1: not given */
} mig_url;

/* 0 ok, -1 not a URL of that form (err says why). */
int mig_url_parse(const char *s, mig_url *u, char *err, size_t errlen);

/* Reply types: RESP's first byte ('+', '-', ':', '$', '*'), 0 for nil. */
typedef struct rreply {
    int type;
    long long n;       /* ':' value; '*' element count */
    char *s;           /* '+', '-', '$': bytes (NUL-terminated, may hold NULs) */
    size_t len;
    struct rreply *el; /* '*' elements */
} rreply;
void rreply_free(rreply *r);

typedef struct rconn {
    int fd;
    uint8_t *in;
    size_t ilen, ipos, icap;
    uint8_t *out;
    size_t olen, opos, ocap;
    int timeout_ms;    /* for blocking reads and writes */
    char where[300];   /* "host:port", for messages */
    char err[2048];
} rconn;

/* Connect (TCP, with timeout). 0 ok; -1 with c->err saying what to do. */
int rc_connect(rconn *c, const char *host, int port, int timeout_ms);
void rc_close(rconn *c);

/* Append one command (argc arguments with lengths) to the output buffer. */
void rc_append(rconn *c, int argc, const char *const *argv, const size_t *lens);
/* The same with NUL-terminated strings. */
void rc_appendv(rconn *c, int argc, ...);
/* Raw bytes to the output buffer (already RESP). */
void rc_append_raw(rconn *c, const void *p, size_t n);
/* Write what the output buffer holds. block: until empty (else write what the
 * socket takes now). 0 ok, -1 error. */
int rc_write(rconn *c, int block);
/* Read what is available into the input buffer, waiting up to timeout_ms
 * (-1: c->timeout_ms) for the first byte. >0 bytes read, 0 timeout, -1
 * closed or error (c->err). */
int rc_fill(rconn *c, int timeout_ms);
/* Parse one reply from the input buffer: 1 (*out set, consumed), 0 need
 * more bytes, -1 protocol error. */
int rc_parse(rconn *c, rreply **out);
/* Blocking: flush output, then read one reply. NULL on error (c->err). */
rreply *rc_read(rconn *c);
/* Blocking: send one command and read its reply. */
rreply *rc_cmd(rconn *c, int argc, ...);

/* Connect and authenticate to a URL's server (AUTH user pass, or AUTH pass),
 * then check it answers PING. 0 ok, -1 with c->err naming what to do. */
int rc_open_url(rconn *c, const mig_url *u, int timeout_ms);

#endif
