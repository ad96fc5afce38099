/* client.h — per-connection state shared by the connection layer and the
 * command implementations.
 *
 * A command procedure receives the client with c->argc / c->argv filled in.
 * argv[i] points into the client's query buffer (or a MULTI queue copy) and
 * stays valid only until the procedure returns: copy what must outlive it. */
#ifndef LODIS_CLIENT_H
#define LODIS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#include "server/buf.h"

struct command;

typedef struct arg {
    char *p; /* not NUL-terminated in general; argv bytes are followed by "\r\n" or a NUL */
    size_t len;
} arg;

/* Client flags */
#define CLIENT_CLOSE_AFTER_REPLY (1u << 0) /* QUIT, protocol errors */
#define CLIENT_CLOSE_ASAP        (1u << 1) /* output limit, CLIENT KILL */
#define CLIENT_PENDING_WRITE     (1u << 2) /* in the pending-write list */
#define CLIENT_MONITOR           (1u << 3)
#define CLIENT_AUTHENTICATED     (1u << 4)
#define CLIENT_REPLY_OFF         (1u << 5) /* CLIENT REPLY OFF */
#define CLIENT_REPLY_SKIP_NEXT   (1u << 6) /* CLIENT REPLY SKIP: set for the next command */
#define CLIENT_REPLY_SKIP        (1u << 7) /* CLIENT REPLY SKIP: the current command */
#define CLIENT_PUBSUB            (1u << 8)
#define CLIENT_MULTI             (1u << 9)
#define CLIENT_DIRTY_EXEC        (1u << 10)
#define CLIENT_BLOCKED           (1u << 11)
#define CLIENT_NO_EVICT          (1u << 12)
#define CLIENT_SCRIPT            (1u << 13) /* fake client running a Lua script */
#define CLIENT_PAUSED            (1u << 14) /* waiting for CLIENT UNPAUSE */
#define CLIENT_CLOSED            (1u << 15) /* freed at the end of the tick */
#define CLIENT_DIRTY_CAS         (1u << 16) /* a WATCHed key was touched */
/* Client-side caching (tracking.c); the letters t, R, B of CLIENT LIST. */
#define CLIENT_TRACKING              (1u << 17)
#define CLIENT_TRACKING_BROKEN_REDIR (1u << 18) /* the redirect target is gone */
#define CLIENT_TRACKING_BCAST        (1u << 19)
/* A push message (invalidation) is being written: it reaches the client even
 * under CLIENT REPLY OFF/SKIP, as in Redis. */
#define CLIENT_PUSHING               (1u << 20)
/* While a script is busy: replies wait for the tick's commit (net.c). */
#define CLIENT_HELD                  (1u << 21)
/* Connected through the unixsocket listener: the U of CLIENT LIST. */
#define CLIENT_UNIX                  (1u << 22)
/* Cold reads (prefetch.c): parked while reader threads fault its keys'
 * pages in; then its request runs once more, without another detour. */
#define CLIENT_PREFETCH              (1u << 23)
#define CLIENT_PREFETCHED            (1u << 24)

typedef struct client {
    uint64_t id;
    int fd;
    ev_io rio, wio;
    int wio_active;
    uint32_t flags;
    int db;          /* selected logical database */
    int resp;        /* 2 or 3 */
    char *name;      /* CLIENT SETNAME, malloc'd or NULL */
    char addr[128];  /* "ip:port" of the peer, "path:0" on the unix socket */
    char laddr[128]; /* "ip:port" of our side, "path:0" on the unix socket */
    char lib_name[64];
    char lib_ver[32];

    /* Input */
    buf query;          /* unparsed bytes */
    size_t qpos;        /* start of the next request inside query */
    struct resp_parser *parser;
    int argc;
    int argv_cap;
    arg *argv;
    const struct command *cmd, *last_cmd;

    /* Output */
    buf reply;             /* bytes not yet written */
    size_t sentlen;        /* bytes of reply already written */
    uint64_t obuf_soft_since_ms; /* output-buffer soft limit: when it was first exceeded */

    /* Timing, stats */
    int64_t ctime_ms;      /* connection time */
    int64_t last_interaction_ms;
    uint64_t cmds_processed;

    /* Lists of clients */
    struct client *next, *prev;           /* all clients */
    struct client *pw_next;               /* pending-write list */

    /* Counts the families keep up to date for CLIENT LIST. */
    int nsub, npsub, nssub; /* pub/sub subscriptions */
    int multi_count;        /* commands queued in MULTI */

    /* Extension slots for command families (MULTI queue, pub/sub, blocking).
     * Each family owns its own struct and frees it in its client-free hook. */
    void *multi_state;
    void *pubsub_state;
    void *block_state;
    void *tracking_state;
    void *prefetch_state;
} client;

#endif
