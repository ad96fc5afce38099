/* multi.c — transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
 *
 * Queueing: while CLIENT_MULTI is set, the intercept hook copies every
 * command that passed dispatch's checks into the client's queue and answers
 * +QUEUED (MULTI, EXEC, DISCARD, WATCH, QUIT and RESET still run at once).
 * A request dispatch rejects (unknown command, arity, ...) sets
 * CLIENT_DIRTY_EXEC, and EXEC then answers EXECABORT.
 *
 * WATCH: a table maps (db, key) to the clients watching it. The key-change
 * hook (every write, delete, expiry, eviction, FLUSHDB and SWAPDB goes
 * through storage's one write path) sets CLIENT_DIRTY_CAS on the watchers,
 * and EXEC then answers a null array. Each watched key also remembers
 * whether it exists, because FLUSHDB and SWAPDB (reported without key
 * names) only touch watchers of keys that were really there.
 *
 * Atomicity: EXEC runs every queued command inside one event-loop tick, and
 * every write of a tick is one WAL record committed before any reply of the
 * tick leaves (server_before_sleep): a crash replays the whole transaction
 * or none of it, and a client that saw EXEC's reply has it all on disk when
 * appendfsync is always. */
#include "server/multi.h"

#include <stdlib.h>
#include <string.h>

#include "server/cmd_conn.h"
#include "server/cmdtable.h"
#include "server/hooks.h"
#include "server/reply.h"
#include "server/server.h"

/* ------------------------------------------------------------------ */
/* Watched keys: (db, key) -> watchers                                  */

typedef struct watcher {
    client *c;
    int expired; /* the key was logically expired when c watched it */
} watcher;

typedef struct wkey {
    struct wkey *next; /* hash chain */
    int db;
    int exists; /* the key is present in the store (expired or not) */
    size_t klen;
    watcher *w;
    int nw, capw;
    uint8_t key[]; /* klen bytes */
} wkey;

static wkey **wtab;
static size_t wtab_size; /* power of two, or 0 */
static size_t wtab_count;

typedef struct mcmd {
    const struct command *cmd;
    int argc;
    arg *argv; /* argv[i].p points into one allocation with the bytes */
} mcmd;

typedef struct multi_state {
    mcmd *q;
    int nq, capq;
    wkey **watched; /* keys this client watches */
    int nwatched, capwatched;
    int in_exec;
} multi_state;

static uint64_t wk_hash(int db, const uint8_t *key, size_t klen) {
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)db;
    for (size_t i = 0; i < klen; i++) {
        h ^= key[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static wkey *wk_find(int db, const uint8_t *key, size_t klen) {
    if (!wtab_size) return NULL;
    wkey *k = wtab[wk_hash(db, key, klen) & (wtab_size - 1)];
    for (; k; k = k->next)
        if (k->db == db && k->klen == klen && memcmp(k->key, key, klen) == 0) return k;
    return NULL;
}

static void *xrealloc(void *p, size_t n) {
    void *r = realloc(p, n);
    if (!r) abort();
    return r;
}

static void wtab_grow(void) {
    size_t ns = wtab_size ? wtab_size * 2 : 64;
    wkey **nt = calloc(ns, sizeof *nt);
    if (!nt) abort();
    for (size_t i = 0; i < wtab_size; i++) {
        wkey *k = wtab[i];
        while (k) {
            wkey *next = k->next;
            size_t b = wk_hash(k->db, k->key, k->klen) & (ns - 1);
            k->next = nt[b];
            nt[b] = k;
            k = next;
        }
    }
    free(wtab);
    wtab = nt;
    wtab_size = ns;
}

static void wk_unlink(wkey *k) {
    wkey **pp = &wtab[wk_hash(k->db, k->key, k->klen) & (wtab_size - 1)];
    while (*pp != k) pp = &(*pp)->next;
    *pp = k->next;
    wtab_count--;
    free(k->w);
    free(k);
}

/* Look the key up in the store without deleting it when expired: *present
 * says whether it is there at all, *expired whether its TTL has passed. */
static void key_state(int db, const uint8_t *key, size_t klen, int *present, int *expired) {
    /* ks_peek hides expired keys; with the clock at 0 nothing is expired,
     * so the record itself is seen. The clock is put back at once. */
    int64_t now = ks_now(srv.ks);
    ks_meta m;
    ks_set_now(srv.ks, 0);
    int rc = ks_peek(srv.ks, db, key, klen, &m);
    ks_set_now(srv.ks, now);
    *present = rc == ST_OK;
    *expired = 0;
    if (rc == ST_OK) {
        *expired = m.expire && m.expire <= now;
        ks_meta_release(&m);
    }
}

static multi_state *mstate(client *c) {
    if (!c->multi_state) {
        multi_state *s = calloc(1, sizeof *s);
        if (!s) abort();
        c->multi_state = s;
    }
    return c->multi_state;
}

static void watch_key(client *c, int db, const uint8_t *key, size_t klen) {
    multi_state *s = mstate(c);
    wkey *k = wk_find(db, key, klen);
    if (k)
        for (int i = 0; i < k->nw; i++)
            if (k->w[i].c == c) return; /* already watched by c */
    int present, expired;
    key_state(db, key, klen, &present, &expired);
    if (!k) {
        if (wtab_count >= wtab_size) wtab_grow();
        k = calloc(1, sizeof *k + klen);
        if (!k) abort();
        k->db = db;
        k->klen = klen;
        memcpy(k->key, key, klen);
        size_t b = wk_hash(db, key, klen) & (wtab_size - 1);
        k->next = wtab[b];
        wtab[b] = k;
        wtab_count++;
    }
    k->exists = present;
    if (k->nw == k->capw) {
        k->capw = k->capw ? k->capw * 2 : 4;
        k->w = xrealloc(k->w, (size_t)k->capw * sizeof *k->w);
    }
    k->w[k->nw].c = c;
    k->w[k->nw].expired = expired;
    k->nw++;
    if (s->nwatched == s->capwatched) {
        s->capwatched = s->capwatched ? s->capwatched * 2 : 8;
        s->watched = xrealloc(s->watched, (size_t)s->capwatched * sizeof *s->watched);
    }
    s->watched[s->nwatched++] = k;
}

static void unwatch_all(client *c) {
    multi_state *s = c->multi_state;
    if (!s) return;
    for (int i = 0; i < s->nwatched; i++) {
        wkey *k = s->watched[i];
        for (int j = 0; j < k->nw; j++)
            if (k->w[j].c == c) {
                k->w[j] = k->w[--k->nw];
                break;
            }
        if (k->nw == 0) wk_unlink(k);
    }
    free(s->watched);
    s->watched = NULL;
    s->nwatched = s->capwatched = 0;
}

/* Redis 7 rule: a watched key that was alive at WATCH time and has expired
 * by EXEC time counts as changed, even if nobody deleted it yet. */
static int watched_key_expired(client *c) {
    multi_state *s = c->multi_state;
    if (!s) return 0;
    for (int i = 0; i < s->nwatched; i++) {
        wkey *k = s->watched[i];
        for (int j = 0; j < k->nw; j++) {
            if (k->w[j].c != c || k->w[j].expired) continue;
            int present, expired;
            key_state(k->db, k->key, k->klen, &present, &expired);
            if (present && expired) return 1;
        }
    }
    return 0;
}

/* FLUSHDB / SWAPDB of db: reported after the fact and without key names.
 * For SWAPDB, `other_now` is whether the key is in db now (it came from the
 * other db); the key's `exists` still says whether it was in db before. */
static void touch_db(int db, int swapped) {
    for (size_t b = 0; b < wtab_size; b++) {
        for (wkey *k = wtab[b]; k; k = k->next) {
            if (k->db != db) continue;
            int present = 0, expired = 0;
            if (swapped) key_state(db, k->key, k->klen, &present, &expired);
            if (k->exists || present) {
                for (int i = 0; i < k->nw; i++) {
                    watcher *w = &k->w[i];
                    if (w->expired) {
                        /* An expired key that disappears is no logical
                         * change; one replaced by another expired key
                         * neither. */
                        if (!present) {
                            w->expired = 0;
                            continue;
                        }
                        if (expired) continue;
                    } else if (!k->exists && present && expired) {
                        w->expired = 1;
                        continue;
                    }
                    w->c->flags |= CLIENT_DIRTY_CAS;
                }
            }
            k->exists = present;
        }
    }
}

static void multi_key_change(int db, const uint8_t *key, size_t klen, int kind) {
    if (wtab_count == 0 || kind == KS_CH_NEW) return; /* the KS_CH_WRITE follows */
    if (kind == KS_CH_FLUSHDB || kind == KS_CH_SWAPDB) {
        touch_db(db, kind == KS_CH_SWAPDB);
        return;
    }
    if (!key) return;
    wkey *k = wk_find(db, key, klen);
    if (!k) return;
    for (int i = 0; i < k->nw; i++) {
        watcher *w = &k->w[i];
        if (w->expired && kind != KS_CH_WRITE) {
            /* Deleting a key that was already expired at WATCH time
             * changes nothing logically. */
            w->expired = 0;
            continue;
        }
        w->c->flags |= CLIENT_DIRTY_CAS;
    }
    k->exists = kind == KS_CH_WRITE;
}

/* ------------------------------------------------------------------ */
/* The queue                                                            */

static void free_queue(multi_state *s) {
    for (int i = 0; i < s->nq; i++) {
        if (s->q[i].argc) free(s->q[i].argv[0].p);
        free(s->q[i].argv);
    }
    free(s->q);
    s->q = NULL;
    s->nq = s->capq = 0;
}

void multi_discard(client *c) {
    multi_state *s = c->multi_state;
    if (s) {
        free_queue(s);
        unwatch_all(c);
    }
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    c->multi_count = 0;
}

static void queue_command(client *c, const struct command *cmd) {
    multi_state *s = mstate(c);
    if (s->nq == s->capq) {
        s->capq = s->capq ? s->capq * 2 : 8;
        s->q = xrealloc(s->q, (size_t)s->capq * sizeof *s->q);
    }
    mcmd *m = &s->q[s->nq++];
    m->cmd = cmd;
    m->argc = c->argc;
    m->argv = xrealloc(NULL, (size_t)(c->argc ? c->argc : 1) * sizeof *m->argv);
    size_t total = 0;
    for (int i = 0; i < c->argc; i++) total += c->argv[i].len + 1;
    char *bytes = xrealloc(NULL, total ? total : 1);
    /* Every copied argument is followed by a NUL, as client.h promises. */
    for (int i = 0; i < c->argc; i++) {
        memcpy(bytes, c->argv[i].p, c->argv[i].len);
        bytes[c->argv[i].len] = '\0';
        m->argv[i].p = bytes;
        m->argv[i].len = c->argv[i].len;
        bytes += c->argv[i].len + 1;
    }
    c->multi_count = s->nq;
}

/* The union of the queued commands' flags (dispatch's OOM check of EXEC). */
uint64_t multi_queued_flags(client *c);
uint64_t multi_queued_flags(client *c) {
    multi_state *s = c->multi_state;
    uint64_t f = 0;
    for (int i = 0; s && i < s->nq; i++) f |= s->q[i].cmd->flags;
    return f;
}

static int multi_intercept(client *c, const struct command *cmd) {
    if (!(c->flags & CLIENT_MULTI)) return 0;
    if (cmd->proc == exec_command || cmd->proc == discard_command ||
        cmd->proc == multi_command || cmd->proc == watch_command || cmd->proc == quit_command ||
        cmd->proc == reset_command)
        return 0;
    if (cmd->flags & CMD_NO_MULTI) {
        reply_error(c, "Command not allowed inside a transaction");
        cmd_stats(cmd)->rejected_calls++;
        c->flags |= CLIENT_DIRTY_EXEC;
        return 1;
    }
    queue_command(c, cmd);
    reply_status(c, "QUEUED");
    return 1;
}

static void multi_client_close(client *c) {
    multi_state *s = c->multi_state;
    if (!s) return;
    multi_discard(c);
    free(s);
    c->multi_state = NULL;
}

static void multi_reset(client *c) {
    multi_discard(c);
}

int multi_in_exec(client *c) {
    multi_state *s = c->multi_state;
    return s && s->in_exec;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

/* MULTI */
void multi_command(client *c) {
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    c->multi_count = 0;
    reply_ok(c);
}

/* DISCARD */
void discard_command(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(c);
}

/* EXEC */
void exec_command(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "EXEC without MULTI");
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        multi_discard(c);
        reply_error(c, "-EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if ((c->flags & CLIENT_DIRTY_CAS) || watched_key_expired(c)) {
        multi_discard(c);
        reply_null_array(c);
        return;
    }
    multi_state *s = mstate(c);
    /* Our own writes must not dirty us: watching ends before running. */
    unwatch_all(c);
    mcmd *q = s->q;
    int nq = s->nq;
    s->q = NULL;
    s->nq = s->capq = 0;

    int saved_argc = c->argc;
    arg *saved_argv = c->argv;
    const struct command *self = c->cmd;
    s->in_exec = 1;
    reply_array_len(c, nq);
    for (int i = 0; i < nq && !(c->flags & CLIENT_CLOSED); i++) {
        c->argc = q[i].argc;
        c->argv = q[i].argv;
        call_command(c, q[i].cmd);
    }
    s->in_exec = 0;
    c->argc = saved_argc;
    c->argv = saved_argv;
    c->cmd = self;
    c->last_cmd = self;

    multi_state tmp = {.q = q, .nq = nq, .capq = nq};
    free_queue(&tmp);
    multi_discard(c);
}

/* WATCH key [key ...] */
void watch_command(client *c) {
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "WATCH inside MULTI is not allowed");
        return;
    }
    /* A client already dirty stays dirty: watching more changes nothing. */
    if (!(c->flags & CLIENT_DIRTY_CAS))
        for (int i = 1; i < c->argc; i++)
            watch_key(c, c->db, (const uint8_t *)c->argv[i].p, c->argv[i].len);
    reply_ok(c);
}

/* UNWATCH */
void unwatch_command(client *c) {
    unwatch_all(c);
    c->flags &= ~CLIENT_DIRTY_CAS;
    reply_ok(c);
}

void multi_family_init(void) {
    hooks_on_intercept(multi_intercept);
    hooks_on_key_change(multi_key_change);
    hooks_on_client_close(multi_client_close);
    conn_on_reset(multi_reset);
}
