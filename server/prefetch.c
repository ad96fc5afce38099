/* prefetch.c — cold reads off the event loop: the server's half of
 * storage's reader threads (store.h, "Cold reads").
 *
 * Under maxmemory, a command whose keys no memtable and no clean-cache
 * entry holds reads LMDB pages that are likely on disk only. Run on the
 * event loop, each such read is a page fault that stops every client for
 * the disk's latency. Instead, process_command parks the client (its
 * request stays in the query buffer, as for CLIENT PAUSE) and hands the
 * keys' record addresses to the reader threads; when they are done, the
 * client's input runs again through the normal path and the command finds
 * its pages in RAM. A client's own commands keep their order (it is parked
 * as a whole); commands of different clients may run in another order than
 * they arrived, which no client can tell from a concurrent execution.
 *
 * A command is run where it is, without a detour, when it is nested (EXEC,
 * scripts), queued by MULTI, sent by a client without a socket, or ran a
 * detour already: the re-run never detours twice, so a key written back to
 * disk meanwhile costs a fault rather than a loop. The requests pipelined
 * behind a parked one have their keys read in the same job and run after
 * it without a detour of their own.
 *
 * The threads run only while maxmemory is set: without it the clean cache
 * does not exist, every key would look cold, and the data is expected to be
 * in RAM anyway. Even under maxmemory most "cold" keys may well be in the
 * page cache (a dataset that fits in RAM, a server with maxmemory set for
 * the tier's sake): a detour then costs a thread hand-off and a second
 * parse for nothing (SET of a new key is always cold). So in auto mode the
 * detour is taken only while the disk is really being waited on: the cron
 * looks at the event loop's own major faults and at how many detours made
 * a reader thread fault, and switches it on or off every 1/hz seconds. */
#include "server/prefetch.h"

#include <stdlib.h>
#include <sys/resource.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/resp.h"
#include "server/server.h"
#include "storage/keyspace.h"

#define MAX_KEYS  16 /* keys looked at per command (MGET, DEL, ...) */
#define LOOKAHEAD 64 /* pipelined requests whose keys join a detour */
#define JOB_KEYS  128 /* cold keys per detour at most */

/* What a parked client waits for; the client may be freed meanwhile (then
 * c is NULL and the ticket is freed when its job comes back). */
typedef struct ticket {
    client *c;
} ticket;

static ev_async done_async;
static int async_started;
static int disk_bound;     /* auto mode: the disk was waited on lately */
static long last_majflt;
static uint64_t last_done, last_faulted;

static void wake(void *ud) {
    (void)ud;
    ev_async_send(srv.loop, &done_async);
}

static void resume_done(void) {
    void *tags[256];
    size_t n;
    while ((n = store_prefetch_done(srv.st, tags, 256)) > 0) {
        for (size_t i = 0; i < n; i++) {
            ticket *t = tags[i];
            client *c = t->c;
            free(t);
            if (!c) continue;
            c->prefetch_state = NULL;
            c->flags &= ~CLIENT_PREFETCH;
            if (c->fd >= 0) ev_io_start(srv.loop, &c->rio);
            client_input_ready(c);
        }
    }
}

static void done_cb(struct ev_loop *loop, ev_async *w, int revents) {
    (void)loop;
    (void)w;
    (void)revents;
    resume_done();
}

void prefetch_apply(void) {
    if (!srv.st || !srv.loop) return;
    int want = cfg.maxmemory ? (int)cfg.tier_read_threads : 0;
    if (want == store_prefetch_threads(srv.st)) return;
    if (!async_started) {
        ev_async_init(&done_async, done_cb);
        ev_async_start(srv.loop, &done_async);
        async_started = 1;
    }
    if (store_prefetch_start(srv.st, want, wake, NULL) != ST_OK)
        server_log(3, "cannot start %d tier read threads: cold reads stay on the event loop",
                   want);
    /* Stopping ran the queued jobs: their clients go on now. */
    if (!store_prefetch_threads(srv.st)) resume_done();
}

void prefetch_shutdown(void) {
    if (!srv.st || !store_prefetch_threads(srv.st)) return;
    store_prefetch_start(srv.st, 0, NULL, NULL);
    resume_done();
}

void prefetch_cron(void) {
    if (!srv.st || !store_prefetch_threads(srv.st)) {
        disk_bound = 0;
        return;
    }
    struct rusage ru;
    long mf = getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_majflt : last_majflt;
    store_prefetch_stats ps;
    store_prefetch_get_stats(srv.st, &ps);
    uint64_t done = ps.jobs_done - last_done, faulted = ps.jobs_faulted - last_faulted;
    /* On while the event loop itself waited for the disk, or while at least
     * one detour in 16 found a page only the disk had. */
    disk_bound = mf > last_majflt || (faulted > 0 && faulted * 16 >= done);
    last_majflt = mf;
    last_done = ps.jobs_done;
    last_faulted = ps.jobs_faulted;
}

/* The packed record addresses of one job. */
typedef struct packbuf {
    uint8_t *p;
    size_t len, cap;
    int keys;
} packbuf;

/* Append the cold ones among a command line's keys. */
static void pack_cold_keys(packbuf *b, client *c, const struct command *cmd, int argc,
                           const arg *argv) {
    int pos[MAX_KEYS];
    int n = cmd_getkeys(cmd, argc, argv, pos, MAX_KEYS);
    if (n > MAX_KEYS) n = MAX_KEYS;
    for (int i = 0; i < n && b->keys < JOB_KEYS; i++) {
        if (b->cap - b->len < KS_COLD_KEY_MAX) {
            size_t nc = b->cap ? b->cap * 2 : 8 * KS_COLD_KEY_MAX;
            uint8_t *np = realloc(b->p, nc);
            if (!np) return;
            b->p = np;
            b->cap = nc;
        }
        size_t added = ks_cold_key(srv.ks, c->db, argv[pos[i]].p, argv[pos[i]].len, b->p + b->len);
        if (added) {
            b->len += added;
            b->keys++;
        }
    }
}

/* The requests pipelined behind the parked one: their cold keys join its
 * job, so a pipeline of cold reads costs one detour, not one per request
 * (each would find its keys still "cold": the first read fills the cache).
 * Returns how many requests were looked at. Only whole multibulk requests:
 * parsing an inline one unescapes it in place. */
static int pack_pipelined(packbuf *b, client *c) {
    resp_parser p;
    resp_parser_init(&p, (long long)cfg.proto_max_bulk_len);
    arg argv[64];
    int seen = 0;
    size_t at = c->qnext;
    while (seen < LOOKAHEAD && b->keys < JOB_KEYS && at < c->query.len &&
           c->query.p[at] == '*') {
        size_t used = 0, hint = 0;
        int r = resp_parse(&p, c->query.p + at, c->query.len - at, &used, &hint);
        if (r != RESP_OK && r != RESP_EMPTY) break;
        if (r == RESP_OK && p.argc <= 64) {
            for (int i = 0; i < p.argc; i++) {
                argv[i].p = c->query.p + at + p.argv[i].off;
                argv[i].len = p.argv[i].len;
            }
            const struct command *cmd = cmd_lookup_argv(p.argc, argv);
            if (cmd && cmd_arity_ok(cmd, p.argc) && cmd_has_keys(cmd))
                pack_cold_keys(b, c, cmd, p.argc, argv);
        }
        if (r == RESP_OK) seen++;
        at += used;
    }
    resp_parser_free(&p);
    return seen;
}

int prefetch_defer(client *c, const struct command *cmd) {
    if (cfg.tier_read_offload == PREFETCH_NEVER ||
        (cfg.tier_read_offload == PREFETCH_AUTO && !disk_bound))
        return 0;
    if (c->fd < 0 || c->prefetch_credit > 0 || (c->flags & (CLIENT_MULTI | CLIENT_SCRIPT)) ||
        srv.current || srv.busy_script || !cmd_has_keys(cmd) || !store_prefetch_threads(srv.st))
        return 0;
    packbuf b = {0};
    pack_cold_keys(&b, c, cmd, c->argc, c->argv);
    if (b.len == 0) {
        free(b.p);
        return 0;
    }
    int behind = pack_pipelined(&b, c);
    ticket *t = malloc(sizeof *t);
    if (t) t->c = c; /* before the job is queued: it may be back at once */
    if (!t || ks_prefetch(srv.ks, b.p, b.len, t) != ST_OK) {
        free(t);
        free(b.p);
        return 0;
    }
    free(b.p);
    c->prefetch_state = t;
    c->prefetch_credit = 1 + behind; /* this request and those looked at */
    c->flags |= CLIENT_PREFETCH;
    /* Read no more from it meanwhile: a pipelining client (a bulk load)
     * would otherwise grow its query buffer for as long as it is parked. */
    ev_io_stop(srv.loop, &c->rio);
    return 1;
}

void prefetch_client_gone(client *c) {
    ticket *t = c->prefetch_state;
    if (!t) return;
    t->c = NULL;
    c->prefetch_state = NULL;
}
