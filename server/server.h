/* server.h — the server's global state and the services the connection
 * layer offers to commands. Not a god header: command families include what
 * they use (reply.h, client.h, keyspace.h) and this for `srv` itself. */
#ifndef LODIS_SERVER_H
#define LODIS_SERVER_H

#include <stdint.h>
#include <ev.h>

#include "server/client.h"
#include "storage/keyspace.h"
#include "storage/store.h"

struct config; /* config.h */

#define LODIS_VERSION "7.0.15"   /* the Redis version whose behaviour lodis follows */
#define LODIS_OWN_VERSION "0.1.0"

typedef struct slowlog_entry {
    long long id;
    int64_t time;      /* unix seconds */
    int64_t duration;  /* microseconds */
    int argc;
    char **argv;       /* truncated copies */
    size_t *argvlen;
    char peer[128]; /* the client's addr */
    char name[64];
} slowlog_entry;

typedef struct server {
    struct ev_loop *loop;
    ev_io listen_io[16];
    int listen_fd[16];
    int nlisten;
    ev_prepare before_sleep;
    ev_timer cron;
    ev_async store_async;
    ev_signal sigterm, sigint;

    store *st;
    ks *ks;

    client *clients;          /* all connected clients */
    client *pending_write;    /* clients with replies to flush */
    uint64_t next_client_id;
    long long nclients;
    client *current;          /* client whose command is running */
    client *caller;           /* the connection on whose behalf it runs: a script's
                               * caller rather than its fake client, a served
                               * blocked client; NULL between commands */

    /* state */
    int64_t start_ms;
    int64_t lastsave;         /* unix seconds */
    int shutdown_asap;
    int shutdown_flags;
    int active_expire_enabled;
    int64_t pause_until_ms;
    int pause_writes_only;
    uint64_t dirty;           /* writes since last save */
    uint64_t tick_writes;     /* key changes since the last WAL commit */
    int64_t bgsave_started_ms; /* a BGSAVE copy is running since (0: none) */
    uint64_t bgsave_dirty;    /* dirty when it started */
    int bgsave_scheduled;     /* BGSAVE SCHEDULE while one ran */
    int64_t cron_loops;
    int reclaim_pending;
    char run_id[41];
    char *executable;
    char *configfile;
    int64_t loading_ms;       /* how long store open + replay took */
    int busy_script;          /* BUSY_EVAL / BUSY_FUNCTION while a script runs past
                               * busy-reply-threshold, else 0 */
    int store_poll_deferred;  /* checkpoint news arrived while busy */

    /* stats */
    uint64_t stat_numcommands;
    uint64_t stat_numconnections;
    uint64_t stat_rejected_conn;
    uint64_t stat_expiredkeys;
    uint64_t stat_keyspace_hits, stat_keyspace_misses;
    uint64_t stat_net_input_bytes, stat_net_output_bytes;
    uint64_t stat_total_error_replies;
    uint64_t stat_reclaimed;
    uint64_t stat_evictedkeys;
    uint64_t stat_unexpected_error_replies;
    uint64_t stat_io_reads, stat_io_writes;
    int64_t stat_peak_memory;
    struct errstat *errstats;  /* INFO errorstats */

    /* slowlog */
    slowlog_entry *slowlog;
    int slowlog_len, slowlog_cap;
    long long slowlog_next_id;

    /* monitors */
    client **monitors;
    int nmonitors, monitors_cap;

    /* latency monitor */
    struct latency_state *latency;
} server;

extern server srv;

#define BUSY_EVAL     1
#define BUSY_FUNCTION 2
#define ERR_BUSY_EVAL                                                                             \
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
#define ERR_BUSY_FUNCTION                                                                         \
    "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
#define ERR_BUSY(kind) ((kind) == BUSY_EVAL ? ERR_BUSY_EVAL : ERR_BUSY_FUNCTION)

/* Time */
int64_t mstime(void);
int64_t ustime(void);

/* Connection layer services (net.c) */
void server_client_pending_write(client *c);
/* A script ran past busy-reply-threshold (script_lua.c): serve other clients
 * from inside it without committing the tick. begin: the caller stops being
 * read and its replies wait; with hold_pending (the tick wrote before the
 * script began) so does every reply already waiting, which may acknowledge
 * or show a write not yet in the WAL; events: one non-blocking pass of the
 * event loop, whose before-sleep step then writes only the replies that may
 * go (server_busy_flush); end: back to normal, the held replies go out after
 * the tick's commit. */
void server_busy_begin(client *caller, int hold_pending);
void server_busy_events(void);
void server_busy_flush(void);
void server_busy_end(void);
void server_count_error(const char *code);
void server_reset_errorstats(void);
void client_free(client *c);
client *client_by_id(uint64_t id);
/* Close the client after its pending replies are written. */
void client_close_after_reply(client *c);
void client_info_string(client *c, buf *out);
/* Parse and run the requests waiting in the client's query buffer. */
void client_process_input(client *c);
/* Run c's buffered input at this tick's before-sleep (a parked client
 * whose wait is over). */
void client_input_ready(client *c);
/* A client without a socket, for scripts and internal callers. */
client *client_create_fake(void);
void client_destroy_fake(client *c);
int server_listen(void);
void server_close_listeners(void);
void server_free_all_clients(void);
/* The tick's end: commit the WAL batch, write replies, free closed clients. */
void server_before_sleep(void);
void server_cron(void);
void server_unpause(void);
int server_errorstat_next(void **it, const char **code, uint64_t *count);

/* Logging (log.c): levels as in Redis: 0 debug, 1 verbose, 2 notice, 3 warning */
void server_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Dispatch (dispatch.c) */
void process_command(client *c);
void call_command(client *c, const struct command *cmd);
/* The errors counted so far belong to a command refused inside a script:
 * they do not fail the command that runs it (Redis's failed_calls rule). */
void call_errors_accounted(void);
/* Show c's current command to the MONITOR clients. */
void server_feed_monitors(client *c);
/* Reply for a container command called with an unknown subcommand. */
void container_unknown_subcommand(client *c);
int server_databases(void);

/* Periodic work and persistence (server.c) */
int server_save(void);  /* checkpoint: 0 ok, -1 failed */
/* SAVE/BGSAVE snapshots (cmd_server.c): start a background copy to
 * dir/dbfilename (0 started, -1 failed; logged); the cron notices its end. */
int bgsave_start(void);
void bgsave_cron(void);
void server_prepare_shutdown(int flags);

#endif
