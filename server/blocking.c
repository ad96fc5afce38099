/* blocking.c — clients blocked on keys: the generic machinery behind BLPOP,
 * BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (and later BZPOP*, XREAD BLOCK), plus
 * CLIENT UNBLOCK. See blocking.h for the contract.
 *
 * State: every blocked client owns a block_state (c->block_state) holding
 * a private copy of its arguments, its key positions, its deadline timer
 * (one ev_timer per blocked client on srv.loop: millisecond resolution, not
 * the cron's 100 ms), and its place in one global list kept in blocking
 * order. Keys made ready by writes are queued (deduplicated) and served in
 * serve_ready(): called before the next command is processed (as Redis does
 * after each command) and from before_sleep. Served or timed-out clients are
 * queued by id for their pipelined input to be resumed at before_sleep.
 *
 * Cost: offering a ready key walks the blocked clients (O(blocked clients x
 * keys per client)); fine for the hundreds of blocked clients real setups
 * have. A key -> clients index is the upgrade path if that ever matters. */
#include "server/blocking.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/hooks.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/num.h"

typedef struct block_state {
    client *c;
    const block_ops *ops;
    int db;
    int argc;
    arg *argv;       /* copies of the command's arguments, one allocation */
    int *keyidx;
    int nkeys;
    ev_timer timer;
    int timer_on;
    struct block_state *next, *prev;
} block_state;

typedef struct ready_key {
    int db;
    uint8_t *key;
    size_t klen;
} ready_key;

static block_state *bhead, *btail; /* blocking order */
static long long nblocked;
static ready_key *ready;
static size_t nready, ready_cap;
static uint64_t *resume;            /* client ids whose input must be resumed */
static size_t nresume, resume_cap;
static int serving;                 /* serve_ready() is running */

long long block_count(void) {
    return nblocked;
}

int block_allowed(const client *c) {
    /* MULTI/EXEC and Lua set these flags on the client running the command
     * (MULTI does not exist yet: when it lands, EXEC must keep CLIENT_MULTI
     * set while the queued commands run, as Redis does). */
    return c->fd >= 0 && !(c->flags & (CLIENT_MULTI | CLIENT_SCRIPT));
}

int block_parse_timeout_or_reply(client *c, const arg *a, int64_t *deadline_ms) {
    long double ld;
    if (num_parse_long_double(a->p, a->len, &ld) != 0) {
        reply_error(c, "timeout is not a float or out of range");
        return -1;
    }
    long double ms = ld * 1000.0L;
    long long t;
    /* Redis 7.0.15 rounds up (ceill), so 0.001 is 1 ms and not "forever";
     * values a cast does not define (huge, infinite) behave as on x86. */
    ms = ceill(ms);
    if (ms >= 9223372036854775807.0L || ms < -9223372036854775807.0L || isnan(ms))
        t = LLONG_MIN;
    else t = (long long)ms;
    if (t < 0) {
        reply_error(c, "timeout is negative");
        return -1;
    }
    if (t > 0) {
        /* Redis 7.0 adds the time without a range check; the overflowed
         * deadline never fires there, so a deadline past the range of
         * int64 ms means "forever" here. */
        int64_t now = mstime();
        t = t > LLONG_MAX - now ? 0 : t + now;
    }
    *deadline_ms = t;
    return 0;
}

static void resume_later(client *c) {
    if (nresume == resume_cap) {
        resume_cap = resume_cap ? resume_cap * 2 : 16;
        resume = realloc(resume, resume_cap * sizeof *resume);
        if (!resume) abort();
    }
    resume[nresume++] = c->id;
}

/* Take c out of the blocked state (no reply here). */
static void unblock(client *c) {
    block_state *bs = c->block_state;
    if (!bs) return;
    if (bs->timer_on) ev_timer_stop(srv.loop, &bs->timer);
    if (bs->prev) bs->prev->next = bs->next;
    else bhead = bs->next;
    if (bs->next) bs->next->prev = bs->prev;
    else btail = bs->prev;
    nblocked--;
    free(bs->argv);
    free(bs);
    c->block_state = NULL;
    c->flags &= ~CLIENT_BLOCKED;
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop;
    (void)revents;
    block_state *bs = w->data;
    client *c = bs->c;
    bs->timer_on = 0;
    bs->ops->timeout(c);
    unblock(c);
    resume_later(c);
}

void block_on_keys(client *c, const int *keyidx, int nkeys, int64_t deadline_ms,
                   const block_ops *ops) {
    size_t bytes = sizeof(arg) * (size_t)c->argc + sizeof(int) * (size_t)nkeys;
    for (int i = 0; i < c->argc; i++) bytes += c->argv[i].len + 1;
    block_state *bs = calloc(1, sizeof *bs);
    arg *argv = malloc(bytes);
    if (!bs || !argv) abort();
    char *p = (char *)(argv + c->argc);
    int *ki = (int *)p;
    p += sizeof(int) * (size_t)nkeys;
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].p, c->argv[i].len);
        p[c->argv[i].len] = '\0';
        argv[i].p = p;
        argv[i].len = c->argv[i].len;
        p += c->argv[i].len + 1;
    }
    memcpy(ki, keyidx, sizeof(int) * (size_t)nkeys);
    bs->c = c;
    bs->ops = ops;
    bs->db = c->db;
    bs->argc = c->argc;
    bs->argv = argv;
    bs->keyidx = ki;
    bs->nkeys = nkeys;
    if (deadline_ms > 0) {
        double delay = (double)(deadline_ms - mstime()) / 1000.0;
        if (delay < 0) delay = 0;
        ev_timer_init(&bs->timer, timeout_cb, delay, 0.);
        bs->timer.data = bs;
        ev_timer_start(srv.loop, &bs->timer);
        bs->timer_on = 1;
    }
    bs->prev = btail;
    if (btail) btail->next = bs;
    else bhead = bs;
    btail = bs;
    nblocked++;
    c->block_state = bs;
    c->flags |= CLIENT_BLOCKED;
}

static int waits_on(const block_state *bs, int db, const uint8_t *key, size_t klen) {
    if (bs->db != db) return 0;
    for (int i = 0; i < bs->nkeys; i++) {
        const arg *a = &bs->argv[bs->keyidx[i]];
        if (a->len == klen && memcmp(a->p, key, klen) == 0) return 1;
    }
    return 0;
}

void block_signal_key(int db, const uint8_t *key, size_t klen) {
    if (nblocked == 0) return;
    int wanted = 0;
    for (block_state *bs = bhead; bs && !wanted; bs = bs->next)
        wanted = waits_on(bs, db, key, klen);
    if (!wanted) return;
    for (size_t i = 0; i < nready; i++)
        if (ready[i].db == db && ready[i].klen == klen && memcmp(ready[i].key, key, klen) == 0)
            return;
    if (nready == ready_cap) {
        ready_cap = ready_cap ? ready_cap * 2 : 8;
        ready = realloc(ready, ready_cap * sizeof *ready);
        if (!ready) abort();
    }
    uint8_t *copy = malloc(klen ? klen : 1);
    if (!copy) abort();
    memcpy(copy, key, klen);
    ready[nready].db = db;
    ready[nready].key = copy;
    ready[nready].klen = klen;
    nready++;
}

/* Offer key to the clients blocked on it, in blocking order. */
static void serve_key(const ready_key *rk) {
    block_state *bs = bhead;
    while (bs) {
        block_state *next = bs->next;
        if (waits_on(bs, rk->db, rk->key, rk->klen)) {
            client *c = bs->c;
            int argc = c->argc, db = c->db;
            arg *argv = c->argv;
            client *cur = srv.current, *cur_caller = srv.caller;
            c->argc = bs->argc;
            c->argv = bs->argv;
            c->db = bs->db;
            srv.current = srv.caller = c;
            uint64_t errs_before = srv.stat_total_error_replies;
            int done = bs->ops->serve(c, rk->key, rk->klen);
            /* An error served to a blocked client fails its call (Redis's
             * updateStatsOnUnblock): XREADGROUP's -NOGROUP / -UNBLOCKED. */
            if (srv.stat_total_error_replies != errs_before && c->cmd)
                cmd_stats(c->cmd)->failed_calls++;
            srv.current = cur;
            srv.caller = cur_caller;
            c->argc = argc;
            c->argv = argv;
            c->db = db;
            if (done) {
                unblock(c);
                resume_later(c);
            }
        }
        /* A serve never unblocks anyone but its own client, so next is
         * still linked (or NULL). */
        bs = next;
    }
}

static void serve_ready(void) {
    if (serving) return;
    serving = 1;
    while (nready > 0) {
        ready_key *batch = ready;
        size_t n = nready;
        ready = NULL;
        nready = ready_cap = 0;
        for (size_t i = 0; i < n; i++) {
            serve_key(&batch[i]);
            free(batch[i].key);
        }
        free(batch);
    }
    serving = 0;
}

static void before_sleep(void) {
    /* Resumed clients may push or block again: loop until quiet. */
    for (;;) {
        serve_ready();
        if (nresume == 0) break;
        uint64_t *ids = resume;
        size_t n = nresume;
        resume = NULL;
        nresume = resume_cap = 0;
        for (size_t i = 0; i < n; i++) {
            client *c = client_by_id(ids[i]);
            if (c && !(c->flags & (CLIENT_BLOCKED | CLIENT_CLOSED))) client_process_input(c);
        }
        free(ids);
    }
}

static int intercept(client *c, const struct command *cmd) {
    (void)cmd;
    if (nready > 0 && block_allowed(c)) serve_ready();
    return 0;
}

/* Every key waited on in db a or db b is ready (FLUSHDB: a == b; SWAPDB). */
static void signal_dbs(int a, int b) {
    for (block_state *bs = bhead; bs; bs = bs->next)
        if (bs->db == a || bs->db == b)
            for (int i = 0; i < bs->nkeys; i++) {
                const arg *k = &bs->argv[bs->keyidx[i]];
                block_signal_key(bs->db, (const uint8_t *)k->p, k->len);
            }
}

/* Writes make a key ready, and so do deletions of every kind (as Redis's
 * dbGenericDelete and FLUSHDB do): a client blocked in XREADGROUP must then
 * be told the stream is gone; list and zset waiters just keep waiting. */
static void key_change(int db, const uint8_t *key, size_t klen, int kind) {
    if (nblocked == 0) return;
    if ((kind == KS_CH_WRITE || kind == KS_CH_DEL || kind == KS_CH_EXPIRED ||
         kind == KS_CH_EVICTED) && key)
        block_signal_key(db, key, klen);
    else if (kind == KS_CH_FLUSHDB)
        signal_dbs(db, db);
    else if (kind == KS_CH_SWAPDB)
        signal_dbs(db, (int)klen); /* klen is the other db */
}

static void client_close(client *c) {
    unblock(c);
}

/* CLIENT UNBLOCK client-id [TIMEOUT | ERROR] */
void client_unblock_command(client *c) {
    if (c->argc > 4) {
        reply_errorf(c,
                     "unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT "
                     "HELP.",
                     (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    int err = 0;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "timeout")) err = 0;
        else if (arg_is(&c->argv[3], "error")) err = 1;
        else {
            reply_error(c, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    long long id;
    if (arg_ll_or_reply(c, &c->argv[2], &id, NULL) != 0) return;
    client *t = client_by_id((uint64_t)id);
    if (!t || !(t->flags & CLIENT_BLOCKED) || !t->block_state) {
        reply_int(c, 0);
        return;
    }
    block_state *bs = t->block_state;
    if (err) {
        reply_error(t, "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
        if (t->cmd) cmd_stats(t->cmd)->failed_calls++;
    } else {
        bs->ops->timeout(t);
    }
    unblock(t);
    resume_later(t);
    reply_int(c, 1);
}

void blocking_family_init(void) {
    hooks_on_key_change(key_change);
    hooks_on_before_sleep(before_sleep);
    hooks_on_intercept(intercept);
    hooks_on_client_close(client_close);
}
