/* cmd_zset.c — the sorted set family: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE,
 * ZMSCORE, Z[REV]RANK, ZCOUNT, ZLEXCOUNT, ZRANGE and its older forms,
 * ZRANGESTORE, ZREMRANGEBY*, ZPOPMIN/MAX, ZMPOP, ZRANDMEMBER, ZUNION /
 * ZINTER / ZDIFF (and STORE), ZINTERCARD, ZSCAN, and the blocking BZPOPMIN,
 * BZPOPMAX, BZMPOP (through server/blocking.c; non-blocking inside
 * MULTI/EXEC and scripts).
 *
 * Storage is storage/t_zset.c (member index + score index under the id):
 * point operations are O(log N); ranks go through the counted rank index
 * (storage/t_zset_rank.c: tz_rank, tz_iter_seek_rank), which writers build
 * with tz_rank_maintain when a zset grows past TZ_RANK_MIN; ZCOUNT is the
 * difference of two ranks there, and on small zsets walks the range or its
 * complement, whichever ends first.
 * Behaviour follows Redis 7.0.15 exactly: parsing order, error texts, the
 * encoding Redis would pick (a header flag: OBJECT ENCODING, and -0.0 stored
 * as 0 in a listpack), linear first-match lex ranges on small zsets. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/args.h"
#include "server/blocking.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/keyspace_cmd.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/scan_cursor.h"
#include "server/server.h"
#include "storage/glob.h"
#include "storage/keyspace.h"
#include "storage/num.h"
#include "storage/siphash.h"
#include "storage/t_hash.h"
#include "storage/t_set.h"
#include "storage/t_zset.h"

#define K(i) c->argv[i].p, c->argv[i].len

#define ERR_MINMAX_FLOAT "min or max is not a float"
#define ERR_MINMAX_LEX   "min or max not valid string range item"
#define ERR_NAN          "resulting score is not a number (NaN)"
#define ERR_POSITIVE     "value is out of range, must be positive"

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort(); /* like buf.h: no way to go on without memory */
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}

/* Redis's getLongFromObjectOrReply / getRangeLongFromObjectOrReply. */
static int long_or_reply(client *c, const arg *a, long long *out, const char *msg) {
    return arg_ll_or_reply(c, a, out, msg);
}

static int range_long_or_reply(client *c, const arg *a, long long min, long long max,
                               long long *out, const char *msg) {
    if (long_or_reply(c, a, out, msg) != 0) return -1;
    if (*out < min || *out > max) {
        if (msg) reply_error(c, msg);
        else reply_errorf(c, "value is out of range, value must between %lld and %lld", min, max);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* encoding rules                                                      */

const char *zset_encoding(const ks_meta *m) {
    return (tz_hdr_flags(m) & TZ_F_SKIPLIST) ? "skiplist" : "listpack";
}

/* Would inserting one more member (of mlen bytes) into a zset of `count`
 * members make Redis convert its listpack to a skiplist? */
static int lp_overflows(uint64_t count, size_t mlen) {
    return (long long)count + 1 > cfg.zset_max_listpack_entries ||
           (long long)mlen > cfg.zset_max_listpack_value;
}

/* A listpack stores an integral score as an integer: -0.0 becomes 0. */
static double lp_score(uint8_t flags, double score) {
    if (!(flags & TZ_F_SKIPLIST) && score == 0.0) return 0.0;
    return score;
}

/* ------------------------------------------------------------------ */
/* zset handles                                                        */

/* A zset opened for reading. */
typedef struct zr {
    uint64_t id;
    uint64_t count;
    uint8_t flags;
} zr;

/* Look argv[i] up for reading (keyspace hit/miss counted). 1 found, 0
 * missing, -1 after an error reply. */
static int zr_lookup(client *c, int i, zr *z) {
    ks_meta m;
    memset(z, 0, sizeof *z);
    int r = lookup_read_or_reply(c, i, KS_ZSET, &m);
    if (r == 1) {
        z->id = m.id;
        z->count = m.count;
        z->flags = tz_hdr_flags(&m);
        ks_meta_release(&m);
    }
    return r;
}

/* A zset opened for writing: members change through zw_*, zw_commit writes
 * the meta record (or deletes an emptied key) and reports the change. */
typedef struct zw {
    int db;
    const void *key;
    size_t klen;
    int exists;
    uint64_t id, count, count0;
    int64_t expire;
    uint8_t flags, flags0;
    int dirty;
} zw;

/* ST_OK, ST_NOTFOUND (then zw_create may follow), or an error. The key
 * bytes must stay valid until zw_commit. */
static int zw_open_key(zw *z, int db, const void *key, size_t klen) {
    memset(z, 0, sizeof *z);
    z->db = db;
    z->key = key;
    z->klen = klen;
    ks_meta m;
    int rc = ks_lookup(srv.ks, db, z->key, z->klen, KS_ZSET, &m);
    if (rc != ST_OK) return rc;
    z->exists = 1;
    z->id = m.id;
    z->count = z->count0 = m.count;
    z->expire = m.expire;
    z->flags = z->flags0 = tz_hdr_flags(&m);
    ks_meta_release(&m);
    return ST_OK;
}

static int zw_open(zw *z, client *c, int i) {
    return zw_open_key(z, c->db, c->argv[i].p, c->argv[i].len);
}

static void zw_create(zw *z) {
    z->id = ks_new_id(srv.ks);
    z->count = z->count0 = 0;
    z->expire = 0;
    z->flags = z->flags0 = 0;
}

static int zw_add(zw *z, const void *m, size_t mlen, double score) {
    if (!(z->flags & TZ_F_SKIPLIST) && lp_overflows(z->count, mlen)) z->flags |= TZ_F_SKIPLIST;
    int rc = tz_put(srv.ks, z->id, m, mlen, lp_score(z->flags, score), NULL);
    if (rc) return rc;
    z->count++;
    z->dirty = 1;
    return ST_OK;
}

static int zw_update(zw *z, const void *m, size_t mlen, double old, double score) {
    int rc = tz_put(srv.ks, z->id, m, mlen, lp_score(z->flags, score), &old);
    if (rc) return rc;
    z->dirty = 1;
    return ST_OK;
}

static int zw_remove(zw *z, const void *m, size_t mlen, double score) {
    int rc = tz_del(srv.ks, z->id, m, mlen, score);
    if (rc) return rc;
    z->count--;
    z->dirty = 1;
    return ST_OK;
}

static int zw_commit(zw *z) {
    if (!z->dirty) return ST_OK;
    if (z->count == 0) {
        int rc = z->exists ? ks_delete(srv.ks, z->db, z->key, z->klen) : 0;
        return rc < 0 ? rc : ST_OK;
    }
    if (z->count > z->count0) {
        int rc = tz_rank_maintain(srv.ks, z->id, z->count);
        if (rc) return rc;
    }
    if (z->exists && z->count == z->count0 && z->flags == z->flags0) {
        ks_notify_write(srv.ks, z->db, z->key, z->klen);
        return ST_OK;
    }
    ks_meta m = {0};
    m.type = KS_ZSET;
    m.id = z->id;
    m.count = z->count;
    m.expire = z->expire;
    m.hdr = &z->flags;
    m.hdrlen = TZ_HDR_LEN;
    return ks_write_meta(srv.ks, z->db, z->key, z->klen, &m);
}

/* Keyspace events after a committed write to z: `event` when the command
 * changed it, then "del" when that emptied the key (Redis's order). */
static void zw_notify(const zw *z, const char *event, int changed) {
    if (!changed) return;
    notify_keyspace_event(NOTIFY_ZSET, event, z->key, z->klen, z->db);
    if (z->exists && z->count == 0)
        notify_keyspace_event(NOTIFY_GENERIC, "del", z->key, z->klen, z->db);
}

/* A new zset written from scratch under a fresh id (the STORE commands):
 * it replaces the destination key only at zdst_finish, after every input
 * was read, so the destination may also be an input. */
typedef struct zdst {
    uint64_t id, count;
    uint8_t flags;
    int incremental; /* apply the listpack rules member by member */
    int err;
} zdst;

static void zdst_begin(zdst *d, uint8_t flags, int incremental) {
    d->id = ks_new_id(srv.ks);
    d->count = 0;
    d->flags = flags;
    d->incremental = incremental;
    d->err = 0;
}

static void zdst_add(zdst *d, const uint8_t *m, size_t mlen, double score) {
    if (d->incremental && !(d->flags & TZ_F_SKIPLIST) && lp_overflows(d->count, mlen))
        d->flags |= TZ_F_SKIPLIST;
    int rc = tz_put(srv.ks, d->id, m, mlen, lp_score(d->flags, score), NULL);
    if (rc && !d->err) d->err = rc;
    d->count++;
}

/* Replace the destination with the new zset (overwriting it, as Redis's
 * setKey: no "new" event for an existing key), or delete it when empty;
 * publish `event` (or "del") and reply with the number of members. */
static void zdst_finish(client *c, zdst *d, int dsti, const char *event) {
    if (d->err) {
        reply_store_error(c, d->err);
        return;
    }
    int rc;
    if (d->count && (rc = tz_rank_maintain(srv.ks, d->id, d->count)) != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    if (d->count) {
        ks_meta m = {0};
        m.type = KS_ZSET;
        m.id = d->id;
        m.count = d->count;
        m.hdr = &d->flags;
        m.hdrlen = TZ_HDR_LEN;
        rc = ks_write_meta(srv.ks, c->db, K(dsti), &m);
    } else {
        rc = ks_delete(srv.ks, c->db, K(dsti));
    }
    if (rc < 0) {
        reply_store_error(c, rc);
        return;
    }
    if (d->count) notify_keyspace_event(NOTIFY_ZSET, event, K(dsti), c->db);
    else if (rc > 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(dsti), c->db);
    reply_int(c, (long long)d->count);
}

/* ------------------------------------------------------------------ */
/* ranges                                                              */

/* Score bounds are parsed as Redis does: strtod over the argument up to its
 * first NUL, optional leading '(' for an open bound, NaN refused. So "",
 * "(", " 1" and "0x10" are valid bounds, and "1e999" is +inf. */
static int parse_score_bound(const arg *a, double *v, int *ex) {
    char stackbuf[128], *sbuf = stackbuf;
    size_t n = a->len;
    const char *nul = memchr(a->p, '\0', n);
    if (nul) n = (size_t)(nul - a->p);
    if (n + 1 > sizeof stackbuf) sbuf = xmalloc(n + 1);
    memcpy(sbuf, a->p, n);
    sbuf[n] = '\0';
    char *s = sbuf, *end;
    *ex = 0;
    if (s[0] == '(') {
        s++;
        *ex = 1;
    }
    *v = strtod(s, &end);
    int ok = end[0] == '\0' && !isnan(*v);
    if (sbuf != stackbuf) free(sbuf);
    return ok ? 0 : -1;
}

typedef struct zscore_range {
    double min, max;
    int minex, maxex;
} zscore_range;

static int parse_score_range(const arg *min, const arg *max, zscore_range *r) {
    if (parse_score_bound(min, &r->min, &r->minex) != 0) return -1;
    if (parse_score_bound(max, &r->max, &r->maxex) != 0) return -1;
    return 0;
}

static int score_gte_min(double v, const zscore_range *r) {
    return r->minex ? v > r->min : v >= r->min;
}

static int score_lte_max(double v, const zscore_range *r) {
    return r->maxex ? v < r->max : v <= r->max;
}

static int score_range_empty(const zscore_range *r) {
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

/* A lex bound: inf -1 for "-", +1 for "+", 0 for a string (p, len). */
typedef struct zlex_bound {
    int inf;
    int ex;
    const uint8_t *p;
    size_t len;
} zlex_bound;

typedef struct zlex_range {
    zlex_bound min, max;
} zlex_range;

static int parse_lex_bound(const arg *a, zlex_bound *b) {
    b->p = NULL;
    b->len = 0;
    if (a->len == 0) return -1;
    switch (a->p[0]) {
    case '+':
    case '-':
        /* Redis looks at the NUL-terminated text: "+" followed by a NUL is "+". */
        if (a->len > 1 && a->p[1] != '\0') return -1;
        b->inf = a->p[0] == '+' ? 1 : -1;
        b->ex = 1;
        return 0;
    case '(':
    case '[':
        b->inf = 0;
        b->ex = a->p[0] == '(';
        b->p = (const uint8_t *)a->p + 1;
        b->len = a->len - 1;
        return 0;
    default: return -1;
    }
}

static int parse_lex_range(const arg *min, const arg *max, zlex_range *r) {
    if (parse_lex_bound(min, &r->min) != 0 || parse_lex_bound(max, &r->max) != 0) return -1;
    return 0;
}

static int bytes_cmp(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    size_t n = la < lb ? la : lb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

/* A member against a bound (Redis's sdscmplex with a real value on the left). */
static int lex_cmp(const uint8_t *m, size_t ml, const zlex_bound *b) {
    if (b->inf < 0) return 1;
    if (b->inf > 0) return -1;
    return bytes_cmp(m, ml, b->p, b->len);
}

static int lex_gte_min(const uint8_t *m, size_t ml, const zlex_range *r) {
    int c = lex_cmp(m, ml, &r->min);
    return r->min.ex ? c > 0 : c >= 0;
}

static int lex_lte_max(const uint8_t *m, size_t ml, const zlex_range *r) {
    int c = lex_cmp(m, ml, &r->max);
    return r->max.ex ? c < 0 : c <= 0;
}

/* min against max, both possibly infinite. */
static int lex_bounds_cmp(const zlex_bound *a, const zlex_bound *b) {
    if (a->inf && a->inf == b->inf) return 0;
    if (a->inf < 0 || b->inf > 0) return -1;
    if (a->inf > 0 || b->inf < 0) return 1;
    return bytes_cmp(a->p, a->len, b->p, b->len);
}

static int lex_range_empty(const zlex_range *r) {
    int c = lex_bounds_cmp(&r->min, &r->max);
    return c > 0 || (c == 0 && (r->min.ex || r->max.ex));
}

static int iter_lex_gte_min(const tz_iter *it, const zlex_range *r) {
    size_t ml;
    const uint8_t *m = tz_iter_member(it, &ml);
    return lex_gte_min(m, ml, r);
}

static int iter_lex_lte_max(const tz_iter *it, const zlex_range *r) {
    size_t ml;
    const uint8_t *m = tz_iter_member(it, &ml);
    return lex_lte_max(m, ml, r);
}

/* Score and member of the first (reverse: last) entry. */
static int zset_end(const zr *z, int reverse, double *score, uint8_t **m, size_t *ml) {
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, z->id, reverse);
    if (rc) return rc;
    rc = tz_iter_first(&it);
    if (rc == ST_OK) {
        const uint8_t *p = tz_iter_member(&it, ml);
        *m = xmalloc(*ml);
        memcpy(*m, p, *ml);
        *score = tz_iter_score(&it);
    }
    tz_iter_close(&it);
    return rc;
}

/* Position `it` (already open, in its direction) on the first entry of a lex
 * range, as Redis's zzlFirstInLexRange / zzlLastInLexRange do: empty if the
 * range is empty, if the last entry is below min or the first above max;
 * else the first entry (from the start) that is >= min, which must also be
 * <= max (from the end: the first <= max, which must be >= min). When all
 * scores are equal the index is in member order and that entry is found by
 * a seek; otherwise by the same linear walk a listpack gets. *same tells
 * which case it was. ST_OK when positioned. */
static int lex_first(tz_iter *it, const zr *z, const zlex_range *r, int *same) {
    *same = 0;
    if (lex_range_empty(r) || z->count == 0) return ST_NOTFOUND;
    double s0, s1;
    uint8_t *m0 = NULL, *m1 = NULL;
    size_t l0, l1;
    int rc = zset_end(z, 0, &s0, &m0, &l0);
    if (rc == ST_OK) rc = zset_end(z, 1, &s1, &m1, &l1);
    if (rc == ST_OK && (!lex_lte_max(m0, l0, r) || !lex_gte_min(m1, l1, r))) rc = ST_NOTFOUND;
    free(m0);
    free(m1);
    if (rc != ST_OK) return rc;
    int reverse = it->dir < 0;
    if (s0 == s1) {
        *same = 1;
        const zlex_bound *b = reverse ? &r->max : &r->min;
        if (b->inf) rc = tz_iter_first(it);
        else rc = tz_iter_seek_member(it, s0, b->p, b->len, b->ex);
    } else {
        rc = tz_iter_first(it);
        while (rc == ST_OK &&
               !(reverse ? iter_lex_lte_max(it, r) : iter_lex_gte_min(it, r)))
            rc = tz_iter_next(it);
    }
    if (rc != ST_OK) return rc;
    if (!(reverse ? iter_lex_gte_min(it, r) : iter_lex_lte_max(it, r))) return ST_NOTFOUND;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* replies                                                             */

static void reply_pair(client *c, const uint8_t *m, size_t ml, double score, int withscores) {
    if (withscores && c->resp > 2) reply_array_len(c, 2);
    reply_bulk(c, m, ml);
    if (withscores) reply_double(c, score);
}

/* Where the elements of a ZRANGE go: to the client, or into a new zset. */
typedef struct emitter {
    client *c;
    int store;
    int withscores;
    reply_deferred h;
    long long n;
    zdst d;
} emitter;

static void em_begin(emitter *e, long long length) {
    if (e->store) {
        /* Redis starts a ZRANGESTORE result as a skiplist only when the known
         * length already passes the listpack limit. */
        zdst_begin(&e->d, length > cfg.zset_max_listpack_entries ? TZ_F_SKIPLIST : 0, 1);
    } else {
        e->h = reply_defer_len(e->c);
    }
    e->n = 0;
}

static void em_emit(emitter *e, const uint8_t *m, size_t ml, double score) {
    e->n++;
    if (e->store) zdst_add(&e->d, m, ml, score);
    else reply_pair(e->c, m, ml, score, e->withscores);
}

static void em_finish(emitter *e, int dsti) {
    if (e->store) {
        zdst_finish(e->c, &e->d, dsti, "zrangestore");
        return;
    }
    long long n = e->withscores && e->c->resp == 2 ? e->n * 2 : e->n;
    reply_set_deferred_len(e->c, e->h, n, REPLY_ARRAY);
}

/* ------------------------------------------------------------------ */
/* ZADD / ZINCRBY                                                      */

#define ZADD_NX   (1 << 0)
#define ZADD_XX   (1 << 1)
#define ZADD_GT   (1 << 2)
#define ZADD_LT   (1 << 3)
#define ZADD_INCR (1 << 4)

static void zadd_generic(client *c, int flags) {
    int ch = 0, scoreidx = 2;
    while (scoreidx < c->argc) {
        const arg *a = &c->argv[scoreidx];
        if (arg_is(a, "nx")) flags |= ZADD_NX;
        else if (arg_is(a, "xx")) flags |= ZADD_XX;
        else if (arg_is(a, "ch")) ch = 1;
        else if (arg_is(a, "incr")) flags |= ZADD_INCR;
        else if (arg_is(a, "gt")) flags |= ZADD_GT;
        else if (arg_is(a, "lt")) flags |= ZADD_LT;
        else break;
        scoreidx++;
    }
    int incr = flags & ZADD_INCR, nx = flags & ZADD_NX, xx = flags & ZADD_XX;
    int gt = flags & ZADD_GT, lt = flags & ZADD_LT;
    int elements = c->argc - scoreidx;
    if (elements % 2 || !elements) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        reply_error(c, "XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(c, "GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_error(c, "INCR option supports a single increment-element pair");
        return;
    }
    /* Every score is checked before anything changes. */
    double stackscores[16], *scores = stackscores;
    if (elements > 16) scores = xmalloc(sizeof(double) * (size_t)elements);
    for (int j = 0; j < elements; j++) {
        if (arg_double_or_reply(c, &c->argv[scoreidx + j * 2], &scores[j], NULL) != 0) goto out;
    }

    zw z;
    int rc = zw_open(&z, c, 1);
    if (rc == ST_NOTFOUND) {
        if (xx) {
            if (incr) reply_null(c);
            else reply_int(c, 0);
            goto out;
        }
        zw_create(&z);
    } else if (rc != ST_OK) {
        reply_store_error(c, rc);
        goto out;
    }

    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    for (int j = 0; j < elements; j++) {
        const arg *ma = &c->argv[scoreidx + 1 + j * 2];
        score = scores[j];
        double cur;
        rc = tz_get(srv.ks, z.id, ma->p, ma->len, &cur);
        if (rc == ST_OK) {
            if (nx) continue;
            if (incr) {
                score += cur;
                if (isnan(score)) {
                    reply_error(c, ERR_NAN);
                    if (zw_commit(&z) == ST_OK) zw_notify(&z, "zincr", added || updated);
                    goto out;
                }
            }
            if ((lt && score >= cur) || (gt && score <= cur)) continue;
            processed++;
            if (score != cur) {
                if ((rc = zw_update(&z, ma->p, ma->len, cur, score))) break;
                updated++;
            }
        } else if (rc == ST_NOTFOUND) {
            rc = ST_OK;
            if (xx) continue;
            if ((rc = zw_add(&z, ma->p, ma->len, score))) break;
            processed++;
            added++;
        } else {
            break;
        }
        rc = ST_OK;
    }
    if (rc == ST_OK) rc = zw_commit(&z);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        goto out;
    }
    zw_notify(&z, incr ? "zincr" : "zadd", added || updated);
    if (incr) {
        /* The computed score, even where a listpack stores -0 as 0. */
        if (processed) reply_double(c, score);
        else reply_null(c);
    } else {
        reply_int(c, ch ? added + updated : added);
    }
out:
    if (scores != stackscores) free(scores);
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
void zadd_command(client *c) {
    zadd_generic(c, 0);
}

/* ZINCRBY key increment member */
void zincrby_command(client *c) {
    zadd_generic(c, ZADD_INCR);
}

/* ZREM key member [member ...] */
void zrem_command(client *c) {
    zw z;
    int rc = zw_open(&z, c, 1);
    if (rc == ST_NOTFOUND) {
        reply_int(c, 0);
        return;
    }
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    long long deleted = 0;
    for (int j = 2; j < c->argc && rc == ST_OK; j++) {
        double s;
        rc = tz_get(srv.ks, z.id, K(j), &s);
        if (rc == ST_NOTFOUND) {
            rc = ST_OK;
            continue;
        }
        if (rc == ST_OK && (rc = zw_remove(&z, K(j), s)) == ST_OK) deleted++;
        if (z.count == 0) break;
    }
    if (rc == ST_OK) rc = zw_commit(&z);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    zw_notify(&z, "zrem", deleted > 0);
    reply_int(c, deleted);
}

/* ------------------------------------------------------------------ */
/* simple reads                                                        */

/* ZCARD key */
void zcard_command(client *c) {
    zr z;
    int r = zr_lookup(c, 1, &z);
    if (r < 0) return;
    reply_int(c, r ? (long long)z.count : 0);
}

/* ZSCORE key member */
void zscore_command(client *c) {
    zr z;
    int r = zr_lookup(c, 1, &z);
    if (r < 0) return;
    double s;
    if (r == 0 || tz_get(srv.ks, z.id, K(2), &s) != ST_OK) reply_null(c);
    else reply_double(c, s);
}

/* ZMSCORE key member [member ...] */
void zmscore_command(client *c) {
    zr z;
    int r = zr_lookup(c, 1, &z);
    if (r < 0) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (r == 0 || tz_get(srv.ks, z.id, K(j), &s) != ST_OK) reply_null(c);
        else reply_double(c, s);
    }
}

static void zrank_generic(client *c, int reverse) {
    zr z;
    int r = zr_lookup(c, 1, &z);
    if (r < 0) return;
    double s;
    uint64_t rank;
    if (r == 0 || tz_get(srv.ks, z.id, K(2), &s) != ST_OK) {
        reply_null(c);
        return;
    }
    int rc = tz_rank(srv.ks, z.id, z.count, K(2), s, &rank);
    if (rc == ST_NOTFOUND) {
        reply_null(c);
        return;
    }
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    reply_int(c, (long long)(reverse ? z.count - 1 - rank : rank));
}

/* ZRANK key member */
void zrank_command(client *c) {
    zrank_generic(c, 0);
}

/* ZREVRANK key member */
void zrevrank_command(client *c) {
    zrank_generic(c, 1);
}

/* ------------------------------------------------------------------ */
/* counting                                                            */

/* Predicates of a sorted range, for count_sorted. */
typedef struct zpred {
    const zscore_range *sr; /* score range, or */
    const zlex_range *lr;   /* lex range (only when all scores are equal) */
} zpred;

static int pred_gte_min(const tz_iter *it, const zpred *p) {
    if (p->sr) return score_gte_min(tz_iter_score(it), p->sr);
    return iter_lex_gte_min(it, p->lr);
}

static int pred_lte_max(const tz_iter *it, const zpred *p) {
    if (p->sr) return score_lte_max(tz_iter_score(it), p->sr);
    return iter_lex_lte_max(it, p->lr);
}

/* Count the entries of a non-empty range over data sorted in the range's
 * order. `in` is positioned on the range's first entry (or past the end).
 * Walks the range and, at the same pace, its complement (from both ends);
 * the first walk to finish gives the answer: O(min(M, N - M)). */
static int count_sorted(const zr *z, tz_iter *in, int inrc, const zpred *p, long long *count) {
    tz_iter lo, hi;
    int rc;
    if ((rc = tz_iter_open(&lo, srv.ks, z->id, 0))) return rc;
    if ((rc = tz_iter_open(&hi, srv.ks, z->id, 1))) {
        tz_iter_close(&lo);
        return rc;
    }
    int rl = tz_iter_first(&lo), rh = tz_iter_first(&hi);
    int dl = 0, dh = 0;
    long long nin = 0, nlo = 0, nhi = 0;
    for (;;) {
        if (inrc != ST_OK || !pred_lte_max(in, p)) {
            *count = nin;
            break;
        }
        nin++;
        inrc = tz_iter_next(in);
        if (!dl) {
            if (rl == ST_OK && !pred_gte_min(&lo, p)) {
                nlo++;
                rl = tz_iter_next(&lo);
            } else {
                dl = 1;
            }
        }
        if (!dh) {
            if (rh == ST_OK && !pred_lte_max(&hi, p)) {
                nhi++;
                rh = tz_iter_next(&hi);
            } else {
                dh = 1;
            }
        }
        if (dl && dh) {
            *count = (long long)z->count - nlo - nhi;
            break;
        }
    }
    rc = in->err ? in->err : lo.err ? lo.err : hi.err;
    tz_iter_close(&lo);
    tz_iter_close(&hi);
    return rc;
}

/* Rank of the entry an iterator is on. */
static int iter_rank(const zr *z, const tz_iter *it, uint64_t *rank) {
    size_t ml;
    const uint8_t *m = tz_iter_member(it, &ml);
    return tz_rank(srv.ks, z->id, z->count, m, ml, tz_iter_score(it), rank);
}

/* ZCOUNT through the rank index: the ranks of the range's first and last
 * entries. ST_NOTFOUND (n = 0) when no entry is in the range. */
static int count_by_rank(const zr *z, const zscore_range *r, long long *n) {
    tz_iter lo, hi;
    *n = 0;
    int rc = tz_iter_open(&lo, srv.ks, z->id, 0);
    if (rc) return rc;
    if ((rc = tz_iter_open(&hi, srv.ks, z->id, 1))) {
        tz_iter_close(&lo);
        return rc;
    }
    uint64_t a, b;
    if ((rc = tz_iter_seek_score(&lo, r->min, r->minex)) == ST_OK &&
        (rc = tz_iter_seek_score(&hi, r->max, r->maxex)) == ST_OK &&
        score_lte_max(tz_iter_score(&lo), r) && score_gte_min(tz_iter_score(&hi), r) &&
        (rc = iter_rank(z, &lo, &a)) == ST_OK && (rc = iter_rank(z, &hi, &b)) == ST_OK)
        *n = b >= a ? (long long)(b - a + 1) : 0;
    tz_iter_close(&lo);
    tz_iter_close(&hi);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

/* ZCOUNT key min max */
void zcount_command(client *c) {
    zscore_range r;
    if (parse_score_range(&c->argv[2], &c->argv[3], &r) != 0) {
        reply_error(c, ERR_MINMAX_FLOAT);
        return;
    }
    zr z;
    int f = zr_lookup(c, 1, &z);
    if (f <= 0) {
        if (f == 0) reply_int(c, 0);
        return;
    }
    if (score_range_empty(&r)) {
        reply_int(c, 0);
        return;
    }
    tz_iter it;
    long long n = 0;
    int rc;
    if (tz_rank_indexed(srv.ks, z.id)) {
        if ((rc = count_by_rank(&z, &r, &n)) != ST_OK) reply_store_error(c, rc);
        else reply_int(c, n);
        return;
    }
    if ((rc = tz_iter_open(&it, srv.ks, z.id, 0)) == ST_OK) {
        int irc = tz_iter_seek_score(&it, r.min, r.minex);
        zpred p = {&r, NULL};
        rc = irc < 0 && irc != ST_NOTFOUND ? irc : count_sorted(&z, &it, irc, &p, &n);
        tz_iter_close(&it);
    }
    if (rc != ST_OK) reply_store_error(c, rc);
    else reply_int(c, n);
}

/* ZLEXCOUNT key min max */
void zlexcount_command(client *c) {
    zlex_range r;
    if (parse_lex_range(&c->argv[2], &c->argv[3], &r) != 0) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    zr z;
    int f = zr_lookup(c, 1, &z);
    if (f <= 0) {
        if (f == 0) reply_int(c, 0);
        return;
    }
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, z.id, 0);
    long long n = 0;
    if (rc == ST_OK) {
        int same;
        int irc = lex_first(&it, &z, &r, &same);
        if (irc == ST_OK && same) {
            zpred p = {NULL, &r};
            rc = count_sorted(&z, &it, irc, &p, &n);
        } else if (irc == ST_OK) {
            /* Mixed scores: count from the first match while <= max. */
            while (irc == ST_OK && iter_lex_lte_max(&it, &r)) {
                n++;
                irc = tz_iter_next(&it);
            }
            rc = it.err;
        } else if (irc != ST_NOTFOUND) {
            rc = irc;
        }
        tz_iter_close(&it);
    }
    if (rc != ST_OK) reply_store_error(c, rc);
    else reply_int(c, n);
}

/* ------------------------------------------------------------------ */
/* ZRANGE family                                                       */

enum { ZR_AUTO = 0, ZR_RANK, ZR_SCORE, ZR_LEX };
enum { ZD_AUTO = 0, ZD_FORWARD, ZD_REVERSE };

static void range_by_rank(emitter *e, const zr *z, long long start, long long end, int reverse) {
    long long llen = (long long)z->count;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        em_begin(e, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    long long rangelen = end - start + 1;
    em_begin(e, rangelen);
    tz_iter it;
    if (tz_iter_open(&it, srv.ks, z->id, reverse) != ST_OK) return;
    int rc = tz_iter_seek_rank(&it, z->count, (uint64_t)start);
    while (rc == ST_OK && rangelen--) {
        size_t ml;
        const uint8_t *m = tz_iter_member(&it, &ml);
        em_emit(e, m, ml, tz_iter_score(&it));
        rc = tz_iter_next(&it);
    }
    tz_iter_close(&it);
}

static void range_by_score(emitter *e, const zr *z, const zscore_range *r, long long offset,
                           long long limit, int reverse) {
    em_begin(e, -1);
    if (offset > 0 && offset >= (long long)z->count) return;
    /* Redis skips `offset` entries one by one; a negative offset never
     * reaches zero, so it walks off the end. */
    if (offset < 0) return;
    if (limit < 0) limit = LLONG_MAX; /* any negative count means no limit */
    tz_iter it;
    if (tz_iter_open(&it, srv.ks, z->id, reverse) != ST_OK) return;
    int rc = reverse ? tz_iter_seek_score(&it, r->max, r->maxex)
                     : tz_iter_seek_score(&it, r->min, r->minex);
    while (rc == ST_OK && offset--) rc = tz_iter_next(&it);
    while (rc == ST_OK && limit--) {
        double s = tz_iter_score(&it);
        if (reverse ? !score_gte_min(s, r) : !score_lte_max(s, r)) break;
        size_t ml;
        const uint8_t *m = tz_iter_member(&it, &ml);
        em_emit(e, m, ml, s);
        rc = tz_iter_next(&it);
    }
    tz_iter_close(&it);
}

static void range_by_lex(emitter *e, const zr *z, const zlex_range *r, long long offset,
                         long long limit, int reverse) {
    em_begin(e, -1);
    if (offset < 0) return; /* see range_by_score */
    if (limit < 0) limit = LLONG_MAX;
    tz_iter it;
    if (tz_iter_open(&it, srv.ks, z->id, reverse) != ST_OK) return;
    int same;
    int rc = lex_first(&it, z, r, &same);
    while (rc == ST_OK && offset--) rc = tz_iter_next(&it);
    while (rc == ST_OK && limit--) {
        if (reverse ? !iter_lex_gte_min(&it, r) : !iter_lex_lte_max(&it, r)) break;
        size_t ml;
        const uint8_t *m = tz_iter_member(&it, &ml);
        em_emit(e, m, ml, tz_iter_score(&it));
        rc = tz_iter_next(&it);
    }
    tz_iter_close(&it);
}

/* The shared body of ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE and
 * Z[REV]RANGEBYLEX: argv[argc_start] is the source key, then min, max and
 * options. With store, argv[1] is the destination. */
static void zrange_generic(client *c, int argc_start, int is_store, int type, int direction) {
    int minidx = argc_start + 1, maxidx = argc_start + 2;
    long long opt_start = 0, opt_end = 0, opt_offset = 0, opt_limit = -1;
    int withscores = 0;
    for (int j = argc_start + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const arg *a = &c->argv[j];
        if (!is_store && arg_is(a, "withscores")) {
            withscores = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (long_or_reply(c, &c->argv[j + 1], &opt_offset, NULL) != 0 ||
                long_or_reply(c, &c->argv[j + 2], &opt_limit, NULL) != 0)
                return;
            j += 2;
        } else if (direction == ZD_AUTO && arg_is(a, "rev")) {
            direction = ZD_REVERSE;
        } else if (type == ZR_AUTO && arg_is(a, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && arg_is(a, "byscore")) {
            type = ZR_SCORE;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (direction == ZD_AUTO) direction = ZD_FORWARD;
    if (type == ZR_AUTO) type = ZR_RANK;
    if (opt_limit != -1 && type == ZR_RANK) {
        reply_error(c, "syntax error, LIMIT is only supported in combination with either "
                       "BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZR_LEX) {
        reply_error(c, "syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    int reverse = direction == ZD_REVERSE;
    if (reverse && (type == ZR_SCORE || type == ZR_LEX)) {
        int t = maxidx;
        maxidx = minidx;
        minidx = t;
    }
    zscore_range sr;
    zlex_range lr;
    if (type == ZR_RANK) {
        if (long_or_reply(c, &c->argv[minidx], &opt_start, NULL) != 0 ||
            long_or_reply(c, &c->argv[maxidx], &opt_end, NULL) != 0)
            return;
    } else if (type == ZR_SCORE) {
        if (parse_score_range(&c->argv[minidx], &c->argv[maxidx], &sr) != 0) {
            reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else {
        if (parse_lex_range(&c->argv[minidx], &c->argv[maxidx], &lr) != 0) {
            reply_error(c, ERR_MINMAX_LEX);
            return;
        }
    }

    emitter e = {0};
    e.c = c;
    e.store = is_store;
    e.withscores = withscores || is_store;
    zr z;
    int f = zr_lookup(c, argc_start, &z);
    if (f < 0) return;
    if (f == 0) {
        if (is_store) {
            em_begin(&e, -1);
            em_finish(&e, 1);
        } else {
            reply_empty_array(c);
        }
        return;
    }
    if (type == ZR_RANK) range_by_rank(&e, &z, opt_start, opt_end, reverse);
    else if (type == ZR_SCORE) range_by_score(&e, &z, &sr, opt_offset, opt_limit, reverse);
    else range_by_lex(&e, &z, &lr, opt_offset, opt_limit, reverse);
    em_finish(&e, 1);
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
void zrange_command(client *c) {
    zrange_generic(c, 1, 0, ZR_AUTO, ZD_AUTO);
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
void zrangestore_command(client *c) {
    zrange_generic(c, 2, 1, ZR_AUTO, ZD_AUTO);
}

/* ZREVRANGE key start stop [WITHSCORES] */
void zrevrange_command(client *c) {
    zrange_generic(c, 1, 0, ZR_RANK, ZD_REVERSE);
}

/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
void zrangebyscore_command(client *c) {
    zrange_generic(c, 1, 0, ZR_SCORE, ZD_FORWARD);
}

/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
void zrevrangebyscore_command(client *c) {
    zrange_generic(c, 1, 0, ZR_SCORE, ZD_REVERSE);
}

/* ZRANGEBYLEX key min max [LIMIT offset count] */
void zrangebylex_command(client *c) {
    zrange_generic(c, 1, 0, ZR_LEX, ZD_FORWARD);
}

/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
void zrevrangebylex_command(client *c) {
    zrange_generic(c, 1, 0, ZR_LEX, ZD_REVERSE);
}

/* ------------------------------------------------------------------ */
/* ZREMRANGEBY*                                                        */

static void zremrange_generic(client *c, int type) {
    long long start = 0, end = 0;
    zscore_range sr;
    zlex_range lr;
    if (type == ZR_RANK) {
        if (long_or_reply(c, &c->argv[2], &start, NULL) != 0 ||
            long_or_reply(c, &c->argv[3], &end, NULL) != 0)
            return;
    } else if (type == ZR_SCORE) {
        if (parse_score_range(&c->argv[2], &c->argv[3], &sr) != 0) {
            reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (parse_lex_range(&c->argv[2], &c->argv[3], &lr) != 0) {
        reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    zw z;
    int rc = zw_open(&z, c, 1);
    if (rc == ST_NOTFOUND) {
        reply_int(c, 0);
        return;
    }
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    zr zr_ = {z.id, z.count, z.flags};
    long long rangelen = -1; /* rank: how many to delete */
    if (type == ZR_RANK) {
        long long llen = (long long)z.count;
        if (start < 0) start = llen + start;
        if (end < 0) end = llen + end;
        if (start < 0) start = 0;
        if (start > end || start >= llen) {
            reply_int(c, 0);
            return;
        }
        if (end >= llen) end = llen - 1;
        rangelen = end - start + 1;
    }
    tz_iter it;
    if ((rc = tz_iter_open(&it, srv.ks, z.id, 0)) != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    int irc, same;
    if (type == ZR_RANK) irc = tz_iter_seek_rank(&it, z.count, (uint64_t)start);
    else if (type == ZR_SCORE) irc = tz_iter_seek_score(&it, sr.min, sr.minex);
    else irc = lex_first(&it, &zr_, &lr, &same);
    long long deleted = 0;
    rc = ST_OK;
    while (irc == ST_OK) {
        if (type == ZR_RANK && deleted == rangelen) break;
        if (type == ZR_SCORE && !score_lte_max(tz_iter_score(&it), &sr)) break;
        if (type == ZR_LEX && !iter_lex_lte_max(&it, &lr)) break;
        size_t ml;
        const uint8_t *m = tz_iter_member(&it, &ml);
        if ((rc = zw_remove(&z, m, ml, tz_iter_score(&it))) != ST_OK) break;
        deleted++;
        irc = tz_iter_next(&it);
    }
    if (rc == ST_OK && irc != ST_OK && irc != ST_NOTFOUND) rc = irc;
    tz_iter_close(&it);
    if (rc == ST_OK) rc = zw_commit(&z);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    zw_notify(&z,
              type == ZR_RANK    ? "zremrangebyrank"
              : type == ZR_SCORE ? "zremrangebyscore"
                                 : "zremrangebylex",
              deleted > 0);
    reply_int(c, deleted);
}

/* ZREMRANGEBYRANK key start stop */
void zremrangebyrank_command(client *c) {
    zremrange_generic(c, ZR_RANK);
}

/* ZREMRANGEBYSCORE key min max */
void zremrangebyscore_command(client *c) {
    zremrange_generic(c, ZR_SCORE);
}

/* ZREMRANGEBYLEX key min max */
void zremrangebylex_command(client *c) {
    zremrange_generic(c, ZR_LEX);
}

/* ------------------------------------------------------------------ */
/* ZPOPMIN / ZPOPMAX / ZMPOP                                           */

static void zpop_reply(client *c, zw *zp, int max, long long count, int emitkey, int nested);

/* Pop from the first existing key among argv[first .. first+nkeys-1].
 * count -1 is the plain single pop. emitkey/nested/nil_when_empty shape the
 * reply as Redis's genericZpopCommand does. */
static void zpop_generic(client *c, int first, int nkeys, int max, long long count, int emitkey,
                         int nested, int nil_when_empty) {
    zw z;
    int rc = ST_NOTFOUND, idx = -1;
    for (int i = 0; i < nkeys; i++) {
        rc = zw_open(&z, c, first + i);
        if (rc == ST_NOTFOUND) continue;
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            return;
        }
        idx = first + i;
        break;
    }
    if (idx < 0) {
        if (nil_when_empty) reply_null_array(c);
        else reply_empty_array(c);
        return;
    }
    zpop_reply(c, &z, max, count, emitkey, nested);
}

/* Pop from the opened, existing zset z and reply in the shape zpop_generic
 * describes. */
static void zpop_reply(client *c, zw *zp, int max, long long count, int emitkey, int nested) {
    zw z = *zp;
    int rc;
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    if (count == -1) count = 1;
    long long rangelen = count > (long long)z.count ? (long long)z.count : count;
    if (!nested && !emitkey) {
        reply_array_len(c, rangelen * 2);
    } else if (nested && !emitkey) {
        reply_array_len(c, rangelen);
    } else if (!nested && emitkey) {
        reply_array_len(c, rangelen * 2 + 1);
        reply_bulk(c, z.key, z.klen);
    } else {
        reply_array_len(c, 2);
        reply_bulk(c, z.key, z.klen);
        reply_array_len(c, rangelen);
    }
    tz_iter it;
    if ((rc = tz_iter_open(&it, srv.ks, z.id, max)) != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    int irc = tz_iter_first(&it);
    long long done = 0;
    while (irc == ST_OK && done < rangelen) {
        size_t ml;
        const uint8_t *m = tz_iter_member(&it, &ml);
        double s = tz_iter_score(&it);
        if (nested) reply_array_len(c, 2);
        reply_bulk(c, m, ml);
        reply_double(c, s);
        if ((rc = zw_remove(&z, m, ml, s)) != ST_OK) break;
        done++;
        irc = tz_iter_next(&it);
    }
    tz_iter_close(&it);
    /* Every popped element was replied already; a storage failure here can
     * only be logged. */
    if (rc == ST_OK) rc = zw_commit(&z);
    if (rc != ST_OK) server_log(3, "ZPOP: storage error %s", store_strerror(rc));
    else zw_notify(&z, max ? "zpopmax" : "zpopmin", done > 0);
}

static void zpop_minmax(client *c, int max) {
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    long long count = -1;
    if (c->argc == 3 &&
        range_long_or_reply(c, &c->argv[2], 0, LONG_MAX, &count, ERR_POSITIVE) != 0)
        return;
    int nested = c->resp > 2 && count != -1;
    zpop_generic(c, 1, 1, max, count, 0, nested, 0);
}

/* ZPOPMIN key [count] */
void zpopmin_command(client *c) {
    zpop_minmax(c, 0);
}

/* ZPOPMAX key [count] */
void zpopmax_command(client *c) {
    zpop_minmax(c, 1);
}

/* Parse [B]ZMPOP's arguments from argv[numkeys_idx] on: 0, or -1 after an
 * error reply. */
static int zmpop_args_or_reply(client *c, int numkeys_idx, long long *numkeys, int *max,
                               long long *count) {
    *count = -1;
    if (range_long_or_reply(c, &c->argv[numkeys_idx], 1, LONG_MAX, numkeys,
                            "numkeys should be greater than 0") != 0)
        return -1;
    long long where_idx =
        *numkeys < c->argc ? numkeys_idx + *numkeys + 1 : c->argc;
    if (where_idx >= c->argc) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    if (arg_is(&c->argv[where_idx], "MIN")) *max = 0;
    else if (arg_is(&c->argv[where_idx], "MAX")) *max = 1;
    else {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    for (long long j = where_idx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - (int)j;
        if (*count == -1 && arg_is(&c->argv[j], "COUNT") && more) {
            j++;
            if (range_long_or_reply(c, &c->argv[j], 1, LONG_MAX, count,
                                    "count should be greater than 0") != 0)
                return -1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (*count == -1) *count = 1;
    return 0;
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
void zmpop_command(client *c) {
    long long numkeys, count;
    int max;
    if (zmpop_args_or_reply(c, 1, &numkeys, &max, &count) != 0) return;
    zpop_generic(c, 2, (int)numkeys, max, count, 1, 1, 1);
}

/* ------------------------------------------------------------------ */
/* BZPOPMIN / BZPOPMAX / BZMPOP                                        */

/* A timed-out (or non-blocking, found nothing) zset block replies a null
 * array, like the list blocks. */
static void bz_timeout(client *c) {
    reply_null_array(c);
}

/* Serve a blocked BZPOPMIN/BZPOPMAX: a key that is not (or no longer) a
 * zset leaves the client waiting. */
static int bz_serve_pop(client *c, const uint8_t *key, size_t klen, int max) {
    zw z;
    if (zw_open_key(&z, c->db, key, klen) != ST_OK || z.count == 0) return 0;
    zpop_reply(c, &z, max, -1, 1, 0);
    return 1;
}
static int bz_serve_min(client *c, const uint8_t *key, size_t klen) {
    return bz_serve_pop(c, key, klen, 0);
}
static int bz_serve_max(client *c, const uint8_t *key, size_t klen) {
    return bz_serve_pop(c, key, klen, 1);
}
static const block_ops bzpopmin_ops = {bz_serve_min, bz_timeout};
static const block_ops bzpopmax_ops = {bz_serve_max, bz_timeout};

/* Pop from the first existing zset among argv[first .. first+nkeys-1] or
 * block on all of them (a null array where blocking is not allowed). */
static void bz_pop_or_block(client *c, int first, int nkeys, int max, long long count,
                            int nested, int64_t deadline, const block_ops *ops) {
    for (int i = 0; i < nkeys; i++) {
        zw z;
        int rc = zw_open(&z, c, first + i);
        if (rc == ST_NOTFOUND) continue;
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            return;
        }
        if (z.count == 0) continue;
        zpop_reply(c, &z, max, count, 1, nested);
        return;
    }
    if (!block_allowed(c)) {
        reply_null_array(c);
        return;
    }
    int *idx = xmalloc(sizeof(int) * (size_t)nkeys);
    for (int i = 0; i < nkeys; i++) idx[i] = first + i;
    block_on_keys(c, idx, nkeys, deadline, ops);
    free(idx);
}

static void bzpop_minmax(client *c, int max) {
    int64_t deadline;
    if (block_parse_timeout_or_reply(c, &c->argv[c->argc - 1], &deadline) != 0) return;
    bz_pop_or_block(c, 1, c->argc - 2, max, -1, 0, deadline,
                    max ? &bzpopmax_ops : &bzpopmin_ops);
}

/* BZPOPMIN key [key ...] timeout */
void bzpopmin_command(client *c) {
    bzpop_minmax(c, 0);
}

/* BZPOPMAX key [key ...] timeout */
void bzpopmax_command(client *c) {
    bzpop_minmax(c, 1);
}

/* Serve a blocked BZMPOP: its arguments were valid when it blocked. */
static int bz_serve_mpop(client *c, const uint8_t *key, size_t klen) {
    long long numkeys, count;
    int max;
    if (zmpop_args_or_reply(c, 2, &numkeys, &max, &count) != 0) return 1;
    zw z;
    if (zw_open_key(&z, c->db, key, klen) != ST_OK || z.count == 0) return 0;
    zpop_reply(c, &z, max, count, 1, 1);
    return 1;
}
static const block_ops bzmpop_ops = {bz_serve_mpop, bz_timeout};

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
void bzmpop_command(client *c) {
    long long numkeys, count;
    int max;
    if (zmpop_args_or_reply(c, 2, &numkeys, &max, &count) != 0) return;
    int64_t deadline;
    if (block_parse_timeout_or_reply(c, &c->argv[1], &deadline) != 0) return;
    bz_pop_or_block(c, 3, (int)numkeys, max, count, 1, deadline, &bzmpop_ops);
}

/* ------------------------------------------------------------------ */
/* ZRANDMEMBER                                                         */

static uint64_t rng_state[2];

static uint64_t rng_next(void) {
    if (!rng_state[0] && !rng_state[1]) {
        rng_state[0] = (uint64_t)ustime() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
        rng_state[1] = (uint64_t)(uintptr_t)&rng_state ^ 0xbf58476d1ce4e5b9ULL;
    }
    /* xorshift128+ */
    uint64_t s1 = rng_state[0];
    const uint64_t s0 = rng_state[1];
    rng_state[0] = s0;
    s1 ^= s1 << 23;
    rng_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rng_state[1] + s0;
}

static uint64_t rng_below(uint64_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
    do v = rng_next();
    while (v >= lim);
    return v % n;
}

/* Members copied into memory, with their scores, in score order. */
typedef struct zlist {
    uint8_t *arena;
    size_t alen, acap;
    size_t *off, *len;
    double *score;
    size_t n, cap;
} zlist;

static void zlist_add(zlist *l, const uint8_t *m, size_t ml, double s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->off = xrealloc(l->off, l->cap * sizeof *l->off);
        l->len = xrealloc(l->len, l->cap * sizeof *l->len);
        l->score = xrealloc(l->score, l->cap * sizeof *l->score);
    }
    if (l->alen + ml > l->acap) {
        while (l->alen + ml > l->acap) l->acap = l->acap ? l->acap * 2 : 256;
        l->arena = xrealloc(l->arena, l->acap);
    }
    if (ml) memcpy(l->arena + l->alen, m, ml);
    l->off[l->n] = l->alen;
    l->len[l->n] = ml;
    l->score[l->n] = s;
    l->alen += ml;
    l->n++;
}

static void zlist_free(zlist *l) {
    free(l->arena);
    free(l->off);
    free(l->len);
    free(l->score);
    memset(l, 0, sizeof *l);
}

static int zlist_load(zlist *l, uint64_t id) {
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, id, 0);
    if (rc) return rc;
    rc = tz_iter_first(&it);
    while (rc == ST_OK) {
        size_t ml;
        const uint8_t *m = tz_iter_member(&it, &ml);
        zlist_add(l, m, ml, tz_iter_score(&it));
        rc = tz_iter_next(&it);
    }
    tz_iter_close(&it);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

typedef struct rank_req {
    uint64_t rank;
    size_t slot;
} rank_req;

static int rank_req_cmp(const void *a, const void *b) {
    const rank_req *x = a, *y = b;
    return x->rank < y->rank ? -1 : x->rank > y->rank ? 1 : 0;
}

/* A rank this close ahead is reached by stepping rather than by a seek (a
 * seek through the rank index reads about as many entries). */
#define FETCH_STEP_MAX (4 * TZ_RANK_B)

/* Fetch the entries at the given (sorted) ranks with one ascending
 * iterator: step to a rank close ahead, seek by rank to one further away
 * (on an unindexed zset: only the first, then one walk). The entry for
 * req[i] becomes item req[i].slot of out (empty on entry). */
static int fetch_ranks(const zr *z, const rank_req *req, size_t n, zlist *out) {
    zlist data = {0};
    size_t *slot_item = xmalloc(n * sizeof *slot_item);
    uint64_t step_max = tz_rank_indexed(srv.ks, z->id) ? FETCH_STEP_MAX : UINT64_MAX;
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, z->id, 0);
    if (rc == ST_OK) {
        int irc = ST_NOTFOUND;
        uint64_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t want = req[i].rank;
            if (irc == ST_OK && want >= pos && want - pos <= step_max) {
                while (irc == ST_OK && pos < want) {
                    irc = tz_iter_next(&it);
                    pos++;
                }
            } else {
                irc = tz_iter_seek_rank(&it, z->count, want);
                pos = want;
            }
            if (irc != ST_OK) break;
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            slot_item[req[i].slot] = data.n;
            zlist_add(&data, m, ml, tz_iter_score(&it));
        }
        if (irc != ST_OK) rc = irc == ST_NOTFOUND ? ST_CORRUPT : irc;
        tz_iter_close(&it);
    }
    if (rc == ST_OK && data.n != n) rc = ST_CORRUPT;
    if (rc == ST_OK) {
        for (size_t s = 0; s < n; s++) {
            size_t k = slot_item[s];
            zlist_add(out, data.arena + data.off[k], data.len[k], data.score[k]);
        }
    }
    free(slot_item);
    zlist_free(&data);
    return rc;
}

static void reply_zlist(client *c, const zlist *l, size_t from, int withscores) {
    for (size_t i = from; i < l->n; i++)
        reply_pair(c, l->arena + l->off[i], l->len[i], l->score[i], withscores);
}

#define ZRANDMEMBER_BATCH 1000
#define ZRANDMEMBER_LOAD_ALL 4096

static void zrandmember_with_count(client *c, long long l, int withscores) {
    zr z;
    int f = zr_lookup(c, 1, &z);
    if (f < 0) return;
    if (f == 0) {
        reply_empty_array(c);
        return;
    }
    uint64_t count, size = z.count;
    int uniq = 1;
    if (l >= 0) {
        count = (uint64_t)l;
    } else {
        count = (uint64_t)(-l);
        uniq = 0;
    }
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    int rc = ST_OK;
    zlist all = {0};
    if (!uniq || count == 1) {
        /* Sampling with repetition, in random order. */
        reply_array_len(c, (long long)(withscores && c->resp == 2 ? count * 2 : count));
        if (size <= ZRANDMEMBER_LOAD_ALL) {
            if ((rc = zlist_load(&all, z.id)) == ST_OK && all.n == 0) rc = ST_CORRUPT;
            for (uint64_t i = 0; rc == ST_OK && i < count; i++) {
                size_t k = rng_below(all.n);
                reply_pair(c, all.arena + all.off[k], all.len[k], all.score[k], withscores);
            }
        } else {
            rank_req *req = xmalloc(ZRANDMEMBER_BATCH * sizeof *req);
            while (count && rc == ST_OK) {
                size_t n = count > ZRANDMEMBER_BATCH ? ZRANDMEMBER_BATCH : (size_t)count;
                count -= n;
                for (size_t i = 0; i < n; i++) {
                    req[i].rank = rng_below(size);
                    req[i].slot = i;
                }
                qsort(req, n, sizeof *req, rank_req_cmp);
                zlist got = {0};
                if ((rc = fetch_ranks(&z, req, n, &got)) == ST_OK) reply_zlist(c, &got, 0, withscores);
                zlist_free(&got);
            }
            free(req);
        }
        if (rc != ST_OK) server_log(3, "ZRANDMEMBER: storage error %s", store_strerror(rc));
        zlist_free(&all);
        return;
    }
    uint64_t reply_size = count < size ? count : size;
    if (count >= size) {
        /* The whole zset, in order. */
        reply_deferred h = reply_defer_len(c);
        rc = zlist_load(&all, z.id);
        reply_zlist(c, &all, 0, withscores);
        reply_set_deferred_len(c, h, (long long)(withscores && c->resp == 2 ? all.n * 2 : all.n),
                               REPLY_ARRAY);
        zlist_free(&all);
        return;
    }
    /* Distinct random ranks, then one walk; answered in score order (as a
     * listpack-encoded zset answers). */
    rank_req *req = xmalloc((size_t)count * sizeof *req);
    if (count * 3 > size) {
        /* Partial Fisher-Yates over all ranks. */
        uint64_t *perm = xmalloc((size_t)size * sizeof *perm);
        for (uint64_t i = 0; i < size; i++) perm[i] = i;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t j = i + rng_below(size - i), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            req[i].rank = perm[i];
        }
        free(perm);
        qsort(req, (size_t)count, sizeof *req, rank_req_cmp);
    } else {
        /* Few picks in a big zset: draw, sort, drop duplicates, repeat. */
        size_t have = 0;
        while (have < count) {
            for (size_t i = have; i < count; i++) req[i].rank = rng_below(size);
            qsort(req, (size_t)count, sizeof *req, rank_req_cmp);
            have = 0;
            for (size_t i = 0; i < count; i++)
                if (have == 0 || req[i].rank != req[have - 1].rank) req[have++] = req[i];
        }
    }
    for (size_t i = 0; i < count; i++) req[i].slot = i;
    zlist got = {0};
    reply_array_len(c, (long long)(withscores && c->resp == 2 ? reply_size * 2 : reply_size));
    if ((rc = fetch_ranks(&z, req, (size_t)count, &got)) == ST_OK)
        reply_zlist(c, &got, 0, withscores);
    else
        server_log(3, "ZRANDMEMBER: storage error %s", store_strerror(rc));
    zlist_free(&got);
    free(req);
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
void zrandmember_command(client *c) {
    if (c->argc >= 3) {
        long long l;
        if (range_long_or_reply(c, &c->argv[2], -LONG_MAX, LONG_MAX, &l, NULL) != 0) return;
        int withscores = 0;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withscores"))) {
            reply_error(c, ERR_SYNTAX);
            return;
        } else if (c->argc == 4) {
            withscores = 1;
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                reply_error(c, "value is out of range");
                return;
            }
        }
        zrandmember_with_count(c, l, withscores);
        return;
    }
    zr z;
    int f = zr_lookup(c, 1, &z);
    if (f < 0) return;
    if (f == 0) {
        reply_null(c);
        return;
    }
    tz_iter it;
    int rc = tz_iter_open(&it, srv.ks, z.id, 0);
    if (rc == ST_OK) {
        rc = tz_iter_seek_rank(&it, z.count, rng_below(z.count));
        if (rc == ST_OK) {
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            reply_bulk(c, m, ml);
        }
        tz_iter_close(&it);
    }
    if (rc != ST_OK) reply_store_error(c, rc == ST_NOTFOUND ? ST_CORRUPT : rc);
}

/* ------------------------------------------------------------------ */
/* ZUNION / ZINTER / ZDIFF / ZINTERCARD and STORE                      */

/* Member -> score accumulator (open addressing over a zlist). */
typedef struct zacc {
    zlist l;
    uint32_t *slots; /* item index + 1; 0 = empty */
    size_t nslots;
} zacc;

static uint8_t hash_key[16];
static int hash_key_set;

static uint64_t member_hash(const uint8_t *m, size_t ml) {
    if (!hash_key_set) {
        uint64_t a = rng_next(), b = rng_next();
        memcpy(hash_key, &a, 8);
        memcpy(hash_key + 8, &b, 8);
        hash_key_set = 1;
    }
    return siphash64(hash_key, m, ml);
}

static void zacc_grow(zacc *a) {
    size_t ns = a->nslots ? a->nslots * 2 : 64;
    uint32_t *s = xmalloc(ns * sizeof *s);
    memset(s, 0, ns * sizeof *s);
    for (size_t i = 0; i < a->l.n; i++) {
        size_t h = (size_t)member_hash(a->l.arena + a->l.off[i], a->l.len[i]) & (ns - 1);
        while (s[h]) h = (h + 1) & (ns - 1);
        s[h] = (uint32_t)(i + 1);
    }
    free(a->slots);
    a->slots = s;
    a->nslots = ns;
}

/* Index of member in the accumulator; adds it with score s when absent. */
static size_t zacc_get(zacc *a, const uint8_t *m, size_t ml, double s, int *added) {
    if ((a->l.n + 1) * 2 > a->nslots) zacc_grow(a);
    size_t h = (size_t)member_hash(m, ml) & (a->nslots - 1);
    while (a->slots[h]) {
        size_t i = a->slots[h] - 1;
        /* ml 0: the arena may still be NULL, and memcmp must not see it */
        if (a->l.len[i] == ml && (ml == 0 || memcmp(a->l.arena + a->l.off[i], m, ml) == 0)) {
            *added = 0;
            return i;
        }
        h = (h + 1) & (a->nslots - 1);
    }
    zlist_add(&a->l, m, ml, s);
    a->slots[h] = (uint32_t)a->l.n;
    *added = 1;
    return a->l.n - 1;
}

static void zacc_free(zacc *a) {
    zlist_free(&a->l);
    free(a->slots);
    a->slots = NULL;
    a->nslots = 0;
}

enum { AGG_SUM, AGG_MIN, AGG_MAX };
enum { OP_UNION, OP_INTER, OP_DIFF };

static void aggregate(double *target, double v, int agg) {
    if (agg == AGG_SUM) {
        *target += v;
        /* inf + -inf: Redis's convention is 0. */
        if (isnan(*target)) *target = 0.0;
    } else if (agg == AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

/* One input of a set operation: a zset, a set (every member scores 1), or
 * a missing key (empty). Sets are read through storage/t_set.h. */
typedef struct zsrc {
    int type; /* KS_ZSET, KS_SET or KS_NONE */
    uint64_t id, count;
    double weight;
    size_t order; /* position among the keys, for a stable sort */
    ts_set set;   /* KS_SET: the open set */
} zsrc;

static int zsrc_card_cmp(const void *a, const void *b) {
    const zsrc *x = *(zsrc *const *)a, *y = *(zsrc *const *)b;
    if (x->count != y->count) return x->count < y->count ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

/* Visit every member of a source with its (unweighted) score. */
typedef int (*zsrc_fn)(void *ud, const uint8_t *m, size_t ml, double s);

static int zsrc_each(zsrc *s, zsrc_fn fn, void *ud) {
    int rc;
    if (s->type == KS_ZSET) {
        tz_iter it;
        if ((rc = tz_iter_open(&it, srv.ks, s->id, 0))) return rc;
        rc = tz_iter_first(&it);
        while (rc == ST_OK) {
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            if (fn(ud, m, ml, tz_iter_score(&it))) break;
            rc = tz_iter_next(&it);
        }
        tz_iter_close(&it);
        return rc == ST_NOTFOUND ? ST_OK : rc;
    }
    if (s->type != KS_SET) return ST_OK;
    cm_iter it;
    if ((rc = cm_iter_open(&it, srv.ks, s->id, NULL, 0))) return rc;
    cm_entry e;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        char text[TS_INT_TEXT];
        const uint8_t *m;
        size_t ml;
        ts_entry_text(e.kind, e.member, e.mlen, text, &m, &ml);
        if (fn(ud, m, ml, 1.0)) break;
    }
    cm_iter_close(&it);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

/* Score of member in a source: ST_OK, ST_NOTFOUND or an error. */
static int zsrc_find(zsrc *s, const uint8_t *m, size_t ml, double *score) {
    if (s->type == KS_ZSET) return tz_get(srv.ks, s->id, m, ml, score);
    if (s->type != KS_SET) return ST_NOTFOUND;
    int r = ts_ismember(&s->set, m, ml);
    if (r < 0) return r;
    *score = 1.0;
    return r ? ST_OK : ST_NOTFOUND;
}

typedef struct setop {
    zsrc *src;  /* inputs in key order */
    zsrc **sp;  /* the same, in processing order (by size for UNION/INTER) */
    long setnum;
    int agg;
    int op;
    int cardinality_only;
    long long limit;
    unsigned long long card;
    zacc acc;   /* union accumulator, or inter/diff results */
    int rc;     /* storage error met in a callback */
    size_t cur; /* union: index of the source being read */
} setop;

static int union_cb(void *ud, const uint8_t *m, size_t ml, double s) {
    setop *o = ud;
    double score = o->sp[o->cur]->weight * s;
    if (isnan(score)) score = 0;
    int added;
    size_t i = zacc_get(&o->acc, m, ml, score, &added);
    if (!added) aggregate(&o->acc.l.score[i], score, o->agg);
    return 0;
}

static int inter_cb(void *ud, const uint8_t *m, size_t ml, double s) {
    setop *o = ud;
    double score = o->sp[0]->weight * s;
    if (isnan(score)) score = 0;
    long j;
    for (j = 1; j < o->setnum; j++) {
        double v;
        int rc = zsrc_find(o->sp[j], m, ml, &v);
        if (rc == ST_NOTFOUND) break;
        if (rc != ST_OK) {
            o->rc = rc;
            return 1;
        }
        aggregate(&score, v * o->sp[j]->weight, o->agg);
    }
    if (j < o->setnum) return 0;
    if (o->cardinality_only) {
        o->card++;
        return o->limit && o->card >= (unsigned long long)o->limit;
    }
    zlist_add(&o->acc.l, m, ml, score);
    return 0;
}

static int diff_cb(void *ud, const uint8_t *m, size_t ml, double s) {
    setop *o = ud;
    for (long j = 1; j < o->setnum; j++) {
        double v;
        int rc = zsrc_find(o->sp[j], m, ml, &v);
        if (rc == ST_OK) return 0;
        if (rc != ST_NOTFOUND) {
            o->rc = rc;
            return 1;
        }
    }
    zlist_add(&o->acc.l, m, ml, s);
    return 0;
}

/* Result order: score, then member bytes. */
static int result_cmp(const void *a, const void *b, void *list) {
    const zlist *sort_list = list;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    double sx = sort_list->score[x], sy = sort_list->score[y];
    if (sx < sy) return -1;
    if (sx > sy) return 1;
    return bytes_cmp(sort_list->arena + sort_list->off[x], sort_list->len[x],
                     sort_list->arena + sort_list->off[y], sort_list->len[y]);
}

static void setop_generic(client *c, int dsti, int numkeys_idx, int op, int cardinality_only) {
    long long setnum;
    if (long_or_reply(c, &c->argv[numkeys_idx], &setnum, NULL) != 0) return;
    if (setnum < 1) {
        reply_errorf(c, "at least 1 input key is needed for '%s' command",
                     dsti ? (op == OP_UNION ? "zunionstore" : op == OP_INTER ? "zinterstore"
                                                                             : "zdiffstore")
                          : cardinality_only ? "zintercard"
                          : op == OP_UNION   ? "zunion"
                          : op == OP_INTER   ? "zinter"
                                             : "zdiff");
        return;
    }
    if (setnum > c->argc - (numkeys_idx + 1)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    setop o = {0};
    o.setnum = (long)setnum;
    o.op = op;
    o.agg = AGG_SUM;
    o.cardinality_only = cardinality_only;
    o.src = xmalloc((size_t)setnum * sizeof *o.src);
    o.sp = xmalloc((size_t)setnum * sizeof *o.sp);
    int withscores = 0;
    long i;
    int j;
    for (i = 0, j = numkeys_idx + 1; i < o.setnum; i++, j++) {
        zsrc *s = &o.src[i];
        o.sp[i] = s;
        memset(s, 0, sizeof *s);
        s->type = KS_NONE;
        s->weight = 1.0;
        s->order = (size_t)i;
        ks_meta m;
        int f = lookup_read_or_reply(c, j, KS_NONE, &m);
        if (f < 0) goto out;
        if (f == 1) {
            int type = m.type;
            s->id = m.id;
            s->count = m.count;
            ks_meta_release(&m);
            if (type != KS_ZSET && type != KS_SET) {
                reply_error(c, ERR_WRONGTYPE);
                goto out;
            }
            if (type == KS_SET) {
                int rc = ts_open(&s->set, srv.ks, c->db, K(j));
                if (rc != ST_OK) {
                    reply_store_error(c, rc == ST_NOTFOUND ? ST_CORRUPT : rc);
                    goto out;
                }
            }
            s->type = type;
        }
    }
    while (j < c->argc) {
        int remaining = c->argc - j;
        if (op != OP_DIFF && !cardinality_only && remaining >= setnum + 1 &&
            arg_is(&c->argv[j], "weights")) {
            j++;
            for (i = 0; i < o.setnum; i++, j++) {
                if (arg_double_or_reply(c, &c->argv[j], &o.src[i].weight,
                                        "weight value is not a float") != 0)
                    goto out;
            }
        } else if (op != OP_DIFF && !cardinality_only && remaining >= 2 &&
                   arg_is(&c->argv[j], "aggregate")) {
            j++;
            if (arg_is(&c->argv[j], "sum")) o.agg = AGG_SUM;
            else if (arg_is(&c->argv[j], "min")) o.agg = AGG_MIN;
            else if (arg_is(&c->argv[j], "max")) o.agg = AGG_MAX;
            else {
                reply_error(c, ERR_SYNTAX);
                goto out;
            }
            j++;
        } else if (remaining >= 1 && !dsti && !cardinality_only &&
                   arg_is(&c->argv[j], "withscores")) {
            j++;
            withscores = 1;
        } else if (cardinality_only && remaining >= 2 && arg_is(&c->argv[j], "limit")) {
            j++;
            if (range_long_or_reply(c, &c->argv[j], 0, LONG_MAX, &o.limit,
                                    "LIMIT can't be negative") != 0)
                goto out;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            goto out;
        }
    }
    if (op != OP_DIFF) qsort(o.sp, (size_t)o.setnum, sizeof *o.sp, zsrc_card_cmp);

    int rc = ST_OK;
    if (op == OP_INTER) {
        if (o.sp[0]->count > 0) rc = zsrc_each(o.sp[0], inter_cb, &o);
    } else if (op == OP_UNION) {
        for (o.cur = 0; o.cur < (size_t)o.setnum && rc == ST_OK; o.cur++)
            if (o.sp[o.cur]->count > 0) rc = zsrc_each(o.sp[o.cur], union_cb, &o);
    } else {
        int skip = o.sp[0]->count == 0;
        /* A key given again later removes everything. */
        for (i = 1; i < o.setnum && !skip; i++)
            if (o.sp[i]->type != KS_NONE && o.sp[i]->id == o.sp[0]->id) skip = 1;
        if (!skip) rc = zsrc_each(o.sp[0], diff_cb, &o);
    }
    if (rc == ST_OK) rc = o.rc;
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        goto out;
    }
    if (cardinality_only) {
        reply_int(c, (long long)o.card);
        goto out;
    }

    zlist *l = &o.acc.l;
    size_t *ord = xmalloc(l->n * sizeof *ord);
    size_t maxlen = 0;
    for (size_t k = 0; k < l->n; k++) {
        ord[k] = k;
        if (l->len[k] > maxlen) maxlen = l->len[k];
    }
    qsort_r(ord, l->n, sizeof *ord, result_cmp, l);
    if (dsti) {
        /* The result may be far bigger than the command: make sure the WAL
         * has room for it before writing anything (two entries a member). */
        size_t need = 4096;
        for (size_t k = 0; k < l->n; k++) need += 2 * (l->len[k] + 64);
        if ((rc = store_reserve(srv.st, need)) != ST_OK) {
            free(ord);
            reply_store_error(c, rc);
            goto out;
        }
        /* Redis builds a skiplist and converts it when the result fits a
         * listpack. */
        zdst d;
        int lp = (long long)l->n <= cfg.zset_max_listpack_entries &&
                 (long long)maxlen <= cfg.zset_max_listpack_value;
        zdst_begin(&d, lp ? 0 : TZ_F_SKIPLIST, 0);
        for (size_t k = 0; k < l->n; k++) {
            size_t x = ord[k];
            zdst_add(&d, l->arena + l->off[x], l->len[x], l->score[x]);
        }
        zdst_finish(c, &d, dsti,
                    op == OP_UNION ? "zunionstore" : op == OP_INTER ? "zinterstore" : "zdiffstore");
    } else {
        reply_array_len(c, (long long)(withscores && c->resp == 2 ? l->n * 2 : l->n));
        for (size_t k = 0; k < l->n; k++) {
            size_t x = ord[k];
            reply_pair(c, l->arena + l->off[x], l->len[x], l->score[x], withscores);
        }
    }
    free(ord);
out:
    zacc_free(&o.acc);
    free(o.src);
    free(o.sp);
}

/* ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] */
void zunionstore_command(client *c) {
    setop_generic(c, 1, 2, OP_UNION, 0);
}

/* ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] */
void zinterstore_command(client *c) {
    setop_generic(c, 1, 2, OP_INTER, 0);
}

/* ZDIFFSTORE destination numkeys key [key ...] */
void zdiffstore_command(client *c) {
    setop_generic(c, 1, 2, OP_DIFF, 0);
}

/* ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
void zunion_command(client *c) {
    setop_generic(c, 0, 1, OP_UNION, 0);
}

/* ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
void zinter_command(client *c) {
    setop_generic(c, 0, 1, OP_INTER, 0);
}

/* ZINTERCARD numkeys key [key ...] [LIMIT limit] */
void zintercard_command(client *c) {
    setop_generic(c, 0, 1, OP_INTER, 1);
}

/* ZDIFF numkeys key [key ...] [WITHSCORES] */
void zdiff_command(client *c) {
    setop_generic(c, 0, 1, OP_DIFF, 0);
}

/* ------------------------------------------------------------------ */
/* ZSCAN                                                               */

typedef struct zscan_ctx {
    client *c;
    const char *pat;
    size_t patlen;
    long long n;
    int listpack;
} zscan_ctx;

static int zscan_emit(void *ud, const uint8_t *m, size_t ml, double score) {
    zscan_ctx *x = ud;
    if (x->pat && !glob_match(x->pat, x->patlen, (const char *)m, ml, 0)) return 0;
    char tmp[NUM_DOUBLE_STR_SIZE];
    size_t n;
    /* Redis answers with the score's text as its encoding holds it: a
     * listpack keeps integral scores within +-2^62 as integers. */
    const double lim = (double)(LLONG_MAX / 2);
    if (x->listpack && score >= -lim && score <= lim && score == (double)(long long)score)
        n = num_ll_to_str(tmp, sizeof tmp, (long long)score);
    else
        n = num_double_to_str(tmp, sizeof tmp, score);
    reply_bulk(x->c, m, ml);
    reply_bulk(x->c, tmp, n);
    x->n += 2;
    return 0;
}

/* A cursor as Redis reads it: strtoul over the text up to its first NUL, no
 * leading space, nothing after the digits ("" and "+0" are 0). */
static int parse_scan_cursor(const arg *a, uint64_t *out) {
    char b[64];
    size_t n = a->len;
    const char *nul = memchr(a->p, '\0', n);
    if (nul) n = (size_t)(nul - a->p);
    if (n >= sizeof b) return -1;
    memcpy(b, a->p, n);
    b[n] = '\0';
    if (isspace((unsigned char)b[0])) return -1;
    char *e;
    errno = 0;
    unsigned long v = strtoul(b, &e, 10);
    if (*e || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
void zscan_command(client *c) {
    uint64_t cursor;
    if (parse_scan_cursor(&c->argv[2], &cursor) != 0) {
        reply_error(c, "invalid cursor");
        return;
    }
    zr z;
    int f = zr_lookup(c, 1, &z);
    if (f < 0) return;
    if (f == 0) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    /* Options are parsed after the lookup, as Redis does. */
    const char *pat = NULL;
    size_t patlen = 0;
    long long count = 10;
    for (int j = 3; j < c->argc; j += 2) {
        int more = c->argc - j;
        if (arg_is(&c->argv[j], "count") && more >= 2) {
            if (long_or_reply(c, &c->argv[j + 1], &count, NULL) != 0) return;
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (arg_is(&c->argv[j], "match") && more >= 2) {
            pat = c->argv[j + 1].p;
            patlen = c->argv[j + 1].len;
            if (patlen == 1 && pat[0] == '*') pat = NULL;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    uint8_t pos[SCAN_POS_MAX];
    size_t poslen = 0;
    if (cursor != 0 && scan_cursor_load(cursor, z.id, pos, &poslen) != 0) {
        reply_error(c, "invalid cursor");
        return;
    }
    /* The members are produced before the next cursor is known: build them
     * aside, as SCAN does. */
    zscan_ctx x = {c, pat, patlen, 0, !(z.flags & TZ_F_SKIPLIST)};
    buf saved = c->reply;
    c->reply = (buf){0};
    reply_deferred h = reply_defer_len(c);
    int done = 0;
    if (count > 100000) count = 100000;
    int rc = tz_scan(srv.ks, z.id, pos, &poslen, (long)count, zscan_emit, &x, &done);
    reply_set_deferred_len(c, h, x.n, REPLY_ARRAY);
    buf items = c->reply;
    c->reply = saved;
    if (rc != ST_OK) {
        buf_free(&items);
        reply_store_error(c, rc);
        return;
    }
    uint64_t next = done ? 0 : scan_cursor_save(z.id, pos, poslen);
    char tmp[32];
    size_t n = num_ull_to_str(tmp, sizeof tmp, next);
    reply_array_len(c, 2);
    reply_bulk(c, tmp, n);
    reply_raw(c, items.p, items.len);
    buf_free(&items);
}
