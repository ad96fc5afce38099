/* tracking.c — client-side caching: CLIENT TRACKING / CACHING / GETREDIR /
 * TRACKINGINFO and the invalidation messages; see tracking.h.
 *
 * State and invariants:
 * - The key table maps a key's bytes (in any database, as in Redis) to the
 *   ids of the clients that read it since its last invalidation. An id is not
 *   removed when its client stops tracking or leaves (Redis does the same): a
 *   stale id is skipped when the key is invalidated. nitems is the sum of the
 *   id lists; the table holds at most tracking-table-max-keys keys after each
 *   top-level command and each cron run (random keys are invalidated early).
 * - Each BCAST prefix lists its clients (pointers: a client leaves all its
 *   prefixes when it stops tracking or closes) and the keys changed under it
 *   during this tick, each with who changed it last (NULL for expiry and
 *   eviction) so that NOLOOP clients skip their own changes. The keys go out,
 *   sorted and without duplicates, once per tick before sleeping.
 * - An invalidation aimed at the client whose command is running
 *   (srv.caller) waits in `pending` until that command's whole reply is out
 *   (the after-command hook at top level, or before sleeping for a served
 *   blocked client), so it never interleaves with a reply.
 * - Per-client options live in c->tracking_state (allocated on first use,
 *   freed on close); CLIENT_TRACKING, _BCAST and _BROKEN_REDIR are client
 *   flags because CLIENT LIST shows them. */
#include "server/tracking.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/args.h"
#include "server/cmd_conn.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/hooks.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/siphash.h"

#define T_OPTIN   (1u << 0)
#define T_OPTOUT  (1u << 1)
#define T_NOLOOP  (1u << 2)
#define T_CACHING (1u << 3) /* CLIENT CACHING yes|no given for the next command */

struct tprefix;

typedef struct tstate {
    uint64_t redirect; /* 0: none */
    unsigned opts;     /* T_* */
    struct tprefix **pfx; /* BCAST prefixes of this client */
    int npfx;
} tstate;

/* ------------------------------------------------------------------ */
/* allocation                                                          */

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();
    return q;
}

static uint8_t *dup_bytes(const void *p, size_t n) {
    uint8_t *d = xrealloc(NULL, n);
    if (n) memcpy(d, p, n);
    return d;
}

/* ------------------------------------------------------------------ */
/* the key table                                                       */

typedef struct tkey {
    struct tkey *next;
    uint64_t h;
    uint64_t *ids;
    uint32_t nids, cap;
    size_t klen;
    uint8_t key[];
} tkey;

static tkey **tab;
static size_t tab_size; /* buckets: a power of two, or 0 */
static size_t nkeys;
static uint64_t nitems;
static uint8_t hash_key[16];
static long long ntracking; /* clients with CLIENT_TRACKING */

static uint64_t khash(const uint8_t *k, size_t n) {
    return siphash64(hash_key, k, n);
}

static tkey **tk_slot(const uint8_t *k, size_t n, uint64_t h) {
    tkey **p = &tab[h & (tab_size - 1)];
    for (; *p; p = &(*p)->next)
        if ((*p)->h == h && (*p)->klen == n && memcmp((*p)->key, k, n) == 0) break;
    return p;
}

static void tk_grow(void) {
    size_t ns = tab_size ? tab_size * 2 : 64;
    tkey **nt = calloc(ns, sizeof *nt);
    if (!nt) abort();
    for (size_t b = 0; b < tab_size; b++) {
        tkey *e = tab[b];
        while (e) {
            tkey *next = e->next;
            e->next = nt[e->h & (ns - 1)];
            nt[e->h & (ns - 1)] = e;
            e = next;
        }
    }
    free(tab);
    tab = nt;
    tab_size = ns;
}

/* Remember that client id read key k. */
static void tk_add(const uint8_t *k, size_t n, uint64_t id) {
    if (nkeys >= tab_size) tk_grow();
    uint64_t h = khash(k, n);
    tkey **p = tk_slot(k, n, h);
    tkey *e = *p;
    if (!e) {
        e = malloc(sizeof *e + (n ? n : 1));
        if (!e) abort();
        memset(e, 0, sizeof *e);
        e->h = h;
        e->klen = n;
        if (n) memcpy(e->key, k, n);
        *p = e;
        nkeys++;
    }
    for (uint32_t i = 0; i < e->nids; i++)
        if (e->ids[i] == id) return;
    if (e->nids == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 2;
        e->ids = xrealloc(e->ids, e->cap * sizeof *e->ids);
    }
    e->ids[e->nids++] = id;
    nitems++;
}

/* Take key k out of the table (NULL if it is not there); free with tk_free. */
static tkey *tk_take(const uint8_t *k, size_t n) {
    if (!nkeys) return NULL;
    tkey **p = tk_slot(k, n, khash(k, n));
    tkey *e = *p;
    if (!e) return NULL;
    *p = e->next;
    nkeys--;
    nitems -= e->nids;
    return e;
}

static void tk_free(tkey *e) {
    free(e->ids);
    free(e);
}

static void tk_clear(void) {
    for (size_t b = 0; b < tab_size; b++) {
        tkey *e = tab[b];
        while (e) {
            tkey *next = e->next;
            tk_free(e);
            e = next;
        }
        tab[b] = NULL;
    }
    nkeys = 0;
    nitems = 0;
}

/* ------------------------------------------------------------------ */
/* sending                                                             */

/* One invalidation for tracking client c: n keys, or with n < 0 a null
 * ("everything": a flush). It goes to c itself (RESP3 only) or to its
 * redirect target (RESP3 push, or for RESP2 a message on
 * __redis__:invalidate when the target is subscribed); a vanished target
 * marks the redirect broken and, for RESP3, tells c so. */
static void send_invalidation(client *c, long n, const uint8_t *const *keys, const size_t *lens) {
    tstate *t = c->tracking_state;
    client *to = c;
    unsigned saved;
    if (t->redirect) {
        to = client_by_id(t->redirect);
        if (!to) {
            c->flags |= CLIENT_TRACKING_BROKEN_REDIR;
            if (c->resp > 2) {
                saved = reply_push_begin(c);
                reply_push_len(c, 2);
                reply_bulk(c, "tracking-redir-broken", 21);
                reply_int(c, (long long)t->redirect);
                reply_push_end(c, saved);
            }
            return;
        }
    }
    saved = reply_push_begin(to);
    if (to->resp > 2) {
        reply_push_len(to, 2);
        reply_bulk(to, "invalidate", 10);
    } else if (to != c && (to->flags & CLIENT_PUBSUB)) {
        reply_array_len(to, 3);
        reply_bulk(to, "message", 7);
        reply_bulk(to, "__redis__:invalidate", 20);
    } else {
        /* RESP2 has no push messages on the client's own connection. */
        reply_push_end(to, saved);
        return;
    }
    if (n < 0) {
        /* Redis writes the null in the protocol of the tracking client. */
        if (c->resp > 2) reply_raw(to, "_\r\n", 3);
        else reply_raw(to, "$-1\r\n", 5);
    } else {
        reply_array_len(to, n);
        for (long i = 0; i < n; i++) reply_bulk(to, keys[i], lens[i]);
    }
    reply_push_end(to, saved);
}

/* Invalidations waiting for the end of the running command's reply. */
typedef struct pend {
    uint64_t id;
    uint8_t *key; /* NULL: a null (flush) */
    size_t klen;
} pend;
static pend *pending;
static size_t npending, cappending;

static void pend_add(uint64_t id, const uint8_t *k, size_t n) {
    if (npending == cappending) {
        cappending = cappending ? cappending * 2 : 8;
        pending = xrealloc(pending, cappending * sizeof *pending);
    }
    pending[npending].id = id;
    pending[npending].key = k ? dup_bytes(k, n) : NULL;
    pending[npending].klen = n;
    npending++;
}

static void flush_pending(void) {
    /* Sending never adds to the list, but keep the loop index-based anyway. */
    for (size_t i = 0; i < npending; i++) {
        pend *p = &pending[i];
        client *c = client_by_id(p->id);
        if (c && (c->flags & CLIENT_TRACKING)) {
            const uint8_t *k = p->key;
            if (k) send_invalidation(c, 1, &k, &p->klen);
            else send_invalidation(c, -1, NULL, NULL);
        }
        free(p->key);
    }
    npending = 0;
}

/* Send now, or after the running command's reply when c is its client. */
static void deliver(client *c, const uint8_t *k, size_t n) {
    if (c == srv.caller) pend_add(c->id, k, n);
    else if (k) send_invalidation(c, 1, &k, &n);
    else send_invalidation(c, -1, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* BCAST prefixes                                                      */

typedef struct bkey {
    uint8_t *key;
    size_t klen;
    const client *by; /* who changed it last; NULL: expiry, eviction */
    uint64_t seq;
} bkey;

typedef struct tprefix {
    uint8_t *p;
    size_t len;
    client **cl;
    int ncl, capcl;
    bkey *keys; /* changed this tick, in change order, duplicates included */
    size_t nk, capk;
} tprefix;

static tprefix **pfxs;
static int npfxs, cappfxs;
static uint64_t bseq;

static tprefix *prefix_find(const uint8_t *p, size_t len) {
    for (int i = 0; i < npfxs; i++)
        if (pfxs[i]->len == len && memcmp(pfxs[i]->p, p, len) == 0) return pfxs[i];
    return NULL;
}

static void prefix_free_keys(tprefix *x) {
    for (size_t i = 0; i < x->nk; i++) free(x->keys[i].key);
    x->nk = 0;
}

/* Add c to the prefix's listeners (creating the prefix), once. */
static void prefix_join(client *c, tstate *t, const uint8_t *p, size_t len) {
    tprefix *x = prefix_find(p, len);
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x) abort();
        x->p = dup_bytes(p, len);
        x->len = len;
        if (npfxs == cappfxs) {
            cappfxs = cappfxs ? cappfxs * 2 : 4;
            pfxs = xrealloc(pfxs, (size_t)cappfxs * sizeof *pfxs);
        }
        pfxs[npfxs++] = x;
    }
    for (int i = 0; i < x->ncl; i++)
        if (x->cl[i] == c) return;
    if (x->ncl == x->capcl) {
        x->capcl = x->capcl ? x->capcl * 2 : 4;
        x->cl = xrealloc(x->cl, (size_t)x->capcl * sizeof *x->cl);
    }
    x->cl[x->ncl++] = c;
    t->pfx = xrealloc(t->pfx, (size_t)(t->npfx + 1) * sizeof *t->pfx);
    t->pfx[t->npfx++] = x;
}

/* Remove c from every prefix it listens to; a prefix nobody listens to is
 * dropped with its pending keys. */
static void prefix_leave_all(client *c, tstate *t) {
    for (int j = 0; j < t->npfx; j++) {
        tprefix *x = t->pfx[j];
        for (int i = 0; i < x->ncl; i++)
            if (x->cl[i] == c) {
                x->cl[i] = x->cl[--x->ncl];
                break;
            }
        if (x->ncl) continue;
        for (int i = 0; i < npfxs; i++)
            if (pfxs[i] == x) {
                pfxs[i] = pfxs[--npfxs];
                break;
            }
        prefix_free_keys(x);
        free(x->keys);
        free(x->cl);
        free(x->p);
        free(x);
    }
    free(t->pfx);
    t->pfx = NULL;
    t->npfx = 0;
}

static void bcast_remember(const uint8_t *k, size_t n, const client *by) {
    for (int i = 0; i < npfxs; i++) {
        tprefix *x = pfxs[i];
        if (x->len > n || memcmp(x->p, k, x->len) != 0) continue;
        if (x->nk == x->capk) {
            x->capk = x->capk ? x->capk * 2 : 8;
            x->keys = xrealloc(x->keys, x->capk * sizeof *x->keys);
        }
        bkey *b = &x->keys[x->nk++];
        b->key = dup_bytes(k, n);
        b->klen = n;
        b->by = by;
        b->seq = bseq++;
    }
}

static int bkey_cmp(const void *a, const void *b) {
    const bkey *x = a, *y = b;
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int r = memcmp(x->key, y->key, m);
    if (r) return r;
    if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Send each prefix's changed keys (sorted, each once, with its last
 * changer) to the prefix's clients, as Redis does before sleeping. */
static void bcast_flush(void) {
    const uint8_t **keys = NULL;
    size_t *lens = NULL, cap = 0;
    for (int i = 0; i < npfxs; i++) {
        tprefix *x = pfxs[i];
        if (!x->nk) continue;
        qsort(x->keys, x->nk, sizeof *x->keys, bkey_cmp);
        /* Keep the last change of each key. */
        size_t u = 0;
        for (size_t j = 0; j < x->nk; j++) {
            const bkey *a = &x->keys[j], *b = a + 1;
            if (j + 1 < x->nk && a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0) {
                free(x->keys[j].key);
                continue;
            }
            x->keys[u++] = x->keys[j];
        }
        x->nk = u;
        if (u > cap) {
            cap = u;
            keys = xrealloc(keys, cap * sizeof *keys);
            lens = xrealloc(lens, cap * sizeof *lens);
        }
        for (int ci = 0; ci < x->ncl; ci++) {
            client *c = x->cl[ci];
            tstate *t = c->tracking_state;
            size_t n = 0;
            for (size_t j = 0; j < u; j++) {
                if ((t->opts & T_NOLOOP) && x->keys[j].by == c) continue;
                keys[n] = x->keys[j].key;
                lens[n++] = x->keys[j].klen;
            }
            if (n) send_invalidation(c, (long)n, keys, lens);
        }
        prefix_free_keys(x);
    }
    free(keys);
    free(lens);
}

/* ------------------------------------------------------------------ */
/* invalidation                                                        */

/* Key k changed: queue it for the BCAST prefixes (bcast; by = the changer),
 * and tell every client that read it, forgetting them. */
static void invalidate_key(const uint8_t *k, size_t n, const client *by, int bcast) {
    if (bcast && npfxs) bcast_remember(k, n, by);
    tkey *e = tk_take(k, n);
    if (!e) return;
    for (uint32_t i = 0; i < e->nids; i++) {
        client *t = client_by_id(e->ids[i]);
        /* A client that switched to BCAST hears nothing about keys it read
         * before. */
        if (!t || !(t->flags & CLIENT_TRACKING) || (t->flags & CLIENT_TRACKING_BCAST)) continue;
        tstate *ts = t->tracking_state;
        if ((ts->opts & T_NOLOOP) && t == srv.caller) continue;
        deliver(t, e->key, e->klen);
    }
    tk_free(e);
}

/* FLUSHDB / FLUSHALL: a null to every tracking client, and nothing is
 * remembered any more. */
static void invalidate_all(void) {
    if (ntracking)
        for (client *c = srv.clients; c; c = c->next)
            if ((c->flags & CLIENT_TRACKING) && !(c->flags & CLIENT_CLOSED)) deliver(c, NULL, 0);
    tk_clear();
}

/* A flush of several databases (FLUSHALL) reports each one; Redis sends one
 * null per flushing command. */
static uint64_t flush_cmd_seq = UINT64_MAX;
static const client *flush_caller;

static void key_change(int db, const uint8_t *key, size_t klen, int kind) {
    (void)db;
    if (!ntracking && !nkeys) return;
    switch (kind) {
    case KS_CH_WRITE:
    case KS_CH_DEL: invalidate_key(key, klen, srv.current, 1); break;
    case KS_CH_EXPIRED:
    case KS_CH_EVICTED: invalidate_key(key, klen, NULL, 1); break;
    case KS_CH_FLUSHDB:
        if (srv.caller && flush_caller == srv.caller && flush_cmd_seq == srv.stat_numcommands)
            return;
        flush_caller = srv.caller;
        flush_cmd_seq = srv.stat_numcommands;
        invalidate_all();
        break;
    default: break; /* KS_CH_NEW (a KS_CH_WRITE follows), KS_CH_SWAPDB */
    }
}

/* Keep the table within tracking-table-max-keys by invalidating random
 * keys, with an effort that grows while the limit stays exceeded. */
static unsigned limit_rounds;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static void enforce_limit(void) {
    long long max = cfg.tracking_table_max_keys;
    if (max <= 0 || nkeys <= (size_t)max) {
        limit_rounds = 0;
        return;
    }
    long effort = 100L * (limit_rounds + 1);
    /* The table's own eviction is nobody's change: NOLOOP does not hide it,
     * and it is sent at once (after the running command's reply, which is
     * already out). */
    client *caller = srv.caller;
    srv.caller = NULL;
    while (effort-- > 0 && nkeys) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t b = (size_t)rng & (tab_size - 1);
        while (!tab[b]) b = (b + 1) & (tab_size - 1);
        tkey *e = tab[b];
        uint8_t *k = dup_bytes(e->key, e->klen);
        size_t n = e->klen;
        invalidate_key(k, n, NULL, 0);
        free(k);
        if (nkeys <= (size_t)max) break;
    }
    srv.caller = caller;
    if (nkeys <= (size_t)max) limit_rounds = 0;
    else limit_rounds++;
}

/* ------------------------------------------------------------------ */
/* remembering reads                                                   */

static void remember_keys(client *c) {
    tstate *t = c->tracking_state;
    if ((t->opts & T_OPTIN) && !(t->opts & T_CACHING)) return;
    if ((t->opts & T_OPTOUT) && (t->opts & T_CACHING)) return;
    const struct command *cmd = c->cmd;
    /* Shard channels are keys for routing only. */
    if (!cmd || (cmd->flags & CMD_PUBSUB)) return;
    int stackpos[16], *pos = stackpos;
    int n = cmd_getkeys(cmd, c->argc, c->argv, NULL, 0);
    if (n <= 0) return;
    if (n > 16) pos = xrealloc(NULL, (size_t)n * sizeof *pos);
    n = cmd_getkeys(cmd, c->argc, c->argv, pos, n);
    for (int i = 0; i < n; i++)
        tk_add((const uint8_t *)c->argv[pos[i]].p, c->argv[pos[i]].len, c->id);
    if (pos != stackpos) free(pos);
}

static int is_client_subcommand(const struct command *cmd) {
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    return top->id == CMDID_client;
}

static void after_command(client *c, const struct command *cmd, int nested) {
    /* A read-only command remembers its keys; inside a script, the
     * script's declared keys for the script's caller (Redis's rule). The
     * read-only script commands themselves remember nothing. */
    if ((cmd->flags & CMD_READONLY) && cmd->id != CMDID_eval_ro && cmd->id != CMDID_evalsha_ro &&
        cmd->id != CMDID_fcall_ro) {
        client *caller = (c->flags & CLIENT_SCRIPT) ? srv.caller : c;
        if (caller && (caller->flags & CLIENT_TRACKING) &&
            !(caller->flags & CLIENT_TRACKING_BCAST))
            remember_keys(caller);
    }
    if (nested) return;
    /* CLIENT CACHING covers the next command, or the next transaction. */
    tstate *t = c->tracking_state;
    if (t && !(c->flags & CLIENT_MULTI) && !is_client_subcommand(cmd)) t->opts &= ~T_CACHING;
    if (ntracking) enforce_limit();
    flush_pending();
}

static void before_sleep(void) {
    flush_pending();
    if (npfxs) bcast_flush();
}

static void cron(void) {
    if (ntracking) enforce_limit();
}

/* ------------------------------------------------------------------ */
/* per-client state                                                    */

static tstate *state_of(client *c) {
    if (!c->tracking_state) {
        c->tracking_state = calloc(1, sizeof(tstate));
        if (!c->tracking_state) abort();
    }
    return c->tracking_state;
}

static void disable(client *c) {
    tstate *t = c->tracking_state;
    if (!t) return;
    if (c->flags & CLIENT_TRACKING_BCAST) prefix_leave_all(c, t);
    if (c->flags & CLIENT_TRACKING) {
        ntracking--;
        c->flags &= ~(CLIENT_TRACKING | CLIENT_TRACKING_BROKEN_REDIR | CLIENT_TRACKING_BCAST);
        t->opts = 0;
    }
}

static void client_close(client *c) {
    disable(c);
    free(c->tracking_state);
    c->tracking_state = NULL;
}

long long tracking_redirection(const client *c) {
    if (!(c->flags & CLIENT_TRACKING)) return -1;
    return (long long)((tstate *)c->tracking_state)->redirect;
}

long long tracking_clients(void) {
    return ntracking;
}
unsigned long long tracking_total_keys(void) {
    return nkeys;
}
unsigned long long tracking_total_items(void) {
    return nitems;
}
unsigned long long tracking_total_prefixes(void) {
    return (unsigned long long)npfxs;
}

/* ------------------------------------------------------------------ */
/* commands                                                            */

/* Do two prefixes overlap (one starts the other)? */
static int overlap(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    return memcmp(a, b, al < bl ? al : bl) == 0;
}

/* Redis prints the prefixes with %s: up to a NUL byte. */
static int cstr_len(const uint8_t *p, size_t n) {
    const void *z = memchr(p, 0, n);
    return (int)(z ? (size_t)((const uint8_t *)z - p) : n);
}

static int prefixes_ok_or_reply(client *c, tstate *t, const arg *const *pfx, int n) {
    for (int i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)pfx[i]->p;
        size_t pl = pfx[i]->len;
        for (int j = 0; (c->flags & CLIENT_TRACKING_BCAST) && j < t->npfx; j++) {
            tprefix *x = t->pfx[j];
            if (!overlap(x->p, x->len, p, pl)) continue;
            reply_errorf(c,
                         "Prefix '%.*s' overlaps with an existing prefix '%.*s'. Prefixes for "
                         "a single client must not overlap.",
                         cstr_len(p, pl), (const char *)p, cstr_len(x->p, x->len),
                         (const char *)x->p);
            return -1;
        }
        for (int j = i + 1; j < n; j++) {
            const uint8_t *q = (const uint8_t *)pfx[j]->p;
            if (!overlap(p, pl, q, pfx[j]->len)) continue;
            reply_errorf(c,
                         "Prefix '%.*s' overlaps with another provided prefix '%.*s'. Prefixes "
                         "for a single client must not overlap.",
                         cstr_len(p, pl), (const char *)p, cstr_len(q, pfx[j]->len),
                         (const char *)q);
            return -1;
        }
    }
    return 0;
}

/* CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST]
 *   [OPTIN] [OPTOUT] [NOLOOP] */
void client_tracking_command(client *c) {
    long long redir = 0;
    unsigned opts = 0;
    int bcast = 0, npfx = 0;
    const arg **pfx = xrealloc(NULL, (size_t)c->argc * sizeof *pfx);
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const arg *a = &c->argv[j];
        if (arg_is(a, "redirect") && more) {
            j++;
            if (redir != 0) {
                reply_error(c, "A client can only redirect to a single other client");
                goto out;
            }
            if (arg_ll_or_reply(c, &c->argv[j], &redir, NULL) != 0) goto out;
            /* The target must exist now, even if it may leave later. */
            if (redir <= 0 || !client_by_id((uint64_t)redir)) {
                reply_error(c, "The client ID you want redirect to does not exist");
                goto out;
            }
        } else if (arg_is(a, "bcast")) {
            bcast = 1;
        } else if (arg_is(a, "optin")) {
            opts |= T_OPTIN;
        } else if (arg_is(a, "optout")) {
            opts |= T_OPTOUT;
        } else if (arg_is(a, "noloop")) {
            opts |= T_NOLOOP;
        } else if (arg_is(a, "prefix") && more) {
            pfx[npfx++] = &c->argv[++j];
        } else {
            reply_error(c, ERR_SYNTAX);
            goto out;
        }
    }
    if (arg_is(&c->argv[2], "on")) {
        tstate *t = state_of(c);
        if (!bcast && npfx) {
            reply_error(c, "PREFIX option requires BCAST mode to be enabled");
            goto out;
        }
        if ((c->flags & CLIENT_TRACKING) && !!(c->flags & CLIENT_TRACKING_BCAST) != bcast) {
            reply_error(c, "You can't switch BCAST mode on/off before disabling tracking for "
                           "this client, and then re-enabling it with a different mode.");
            goto out;
        }
        if (bcast && (opts & (T_OPTIN | T_OPTOUT))) {
            reply_error(c, "OPTIN and OPTOUT are not compatible with BCAST");
            goto out;
        }
        if ((opts & T_OPTIN) && (opts & T_OPTOUT)) {
            reply_error(c, "You can't specify both OPTIN mode and OPTOUT mode");
            goto out;
        }
        if ((c->flags & CLIENT_TRACKING) &&
            (((opts & T_OPTIN) && (t->opts & T_OPTOUT)) ||
             ((opts & T_OPTOUT) && (t->opts & T_OPTIN)))) {
            reply_error(c, "You can't switch OPTIN/OPTOUT mode before disabling tracking for "
                           "this client, and then re-enabling it with a different mode.");
            goto out;
        }
        if (bcast && prefixes_ok_or_reply(c, t, pfx, npfx) != 0) goto out;
        if (!(c->flags & CLIENT_TRACKING)) ntracking++;
        c->flags |= CLIENT_TRACKING;
        c->flags &= ~(CLIENT_TRACKING_BROKEN_REDIR | CLIENT_TRACKING_BCAST);
        t->redirect = (uint64_t)redir;
        t->opts = (t->opts & T_CACHING) | opts;
        if (bcast) {
            c->flags |= CLIENT_TRACKING_BCAST;
            if (npfx == 0) prefix_join(c, t, (const uint8_t *)"", 0);
            for (int i = 0; i < npfx; i++)
                prefix_join(c, t, (const uint8_t *)pfx[i]->p, pfx[i]->len);
        }
    } else if (arg_is(&c->argv[2], "off")) {
        disable(c);
    } else {
        reply_error(c, ERR_SYNTAX);
        goto out;
    }
    reply_ok(c);
out:
    free(pfx);
}

/* CLIENT CACHING YES|NO */
void client_caching_command(client *c) {
    tstate *t = c->tracking_state;
    if (!(c->flags & CLIENT_TRACKING)) {
        reply_error(c, "CLIENT CACHING can be called only when the client is in tracking mode "
                       "with OPTIN or OPTOUT mode enabled");
        return;
    }
    if (arg_is(&c->argv[2], "yes")) {
        if (!(t->opts & T_OPTIN)) {
            reply_error(c, "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN "
                           "mode.");
            return;
        }
    } else if (arg_is(&c->argv[2], "no")) {
        if (!(t->opts & T_OPTOUT)) {
            reply_error(c, "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT "
                           "mode.");
            return;
        }
    } else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    t->opts |= T_CACHING;
    reply_ok(c);
}

/* CLIENT GETREDIR */
void client_getredir_command(client *c) {
    reply_int(c, tracking_redirection(c));
}

static int cmp_prefix(const void *a, const void *b) {
    const tprefix *x = *(tprefix *const *)a, *y = *(tprefix *const *)b;
    int r = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* CLIENT TRACKINGINFO */
void client_trackinginfo_command(client *c) {
    tstate *t = c->tracking_state;
    unsigned opts = t ? t->opts : 0;
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "flags");
    const char *flags[8];
    int n = 0;
    flags[n++] = (c->flags & CLIENT_TRACKING) ? "on" : "off";
    if (c->flags & CLIENT_TRACKING_BCAST) flags[n++] = "bcast";
    if (opts & T_OPTIN) {
        flags[n++] = "optin";
        if (opts & T_CACHING) flags[n++] = "caching-yes";
    }
    if (opts & T_OPTOUT) {
        flags[n++] = "optout";
        if (opts & T_CACHING) flags[n++] = "caching-no";
    }
    if (opts & T_NOLOOP) flags[n++] = "noloop";
    if (c->flags & CLIENT_TRACKING_BROKEN_REDIR) flags[n++] = "broken_redirect";
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) reply_bulk_cstr(c, flags[i]);
    reply_bulk_cstr(c, "redirect");
    reply_int(c, tracking_redirection(c));
    reply_bulk_cstr(c, "prefixes");
    int np = t ? t->npfx : 0;
    reply_array_len(c, np);
    if (np) {
        tprefix **sorted = xrealloc(NULL, (size_t)np * sizeof *sorted);
        memcpy(sorted, t->pfx, (size_t)np * sizeof *sorted);
        qsort(sorted, (size_t)np, sizeof *sorted, cmp_prefix);
        for (int i = 0; i < np; i++) reply_bulk(c, sorted[i]->p, sorted[i]->len);
        free(sorted);
    }
}

/* ------------------------------------------------------------------ */
/* setup                                                               */

void tracking_family_init(void) {
    if (getrandom(hash_key, sizeof hash_key, 0) != (ssize_t)sizeof hash_key) {
        uint64_t t = (uint64_t)ustime();
        memcpy(hash_key, &t, sizeof t);
    }
    hooks_on_key_change(key_change);
    hooks_on_after_command(after_command);
    hooks_on_before_sleep(before_sleep);
    hooks_on_client_close(client_close);
    hooks_on_cron(cron);
    conn_on_reset(disable);
}

void tracking_family_shutdown(void) {
    tk_clear();
    free(tab);
    tab = NULL;
    tab_size = 0;
    for (size_t i = 0; i < npending; i++) free(pending[i].key);
    free(pending);
    pending = NULL;
    npending = cappending = 0;
}
