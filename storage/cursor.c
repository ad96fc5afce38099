/* cursor.c — ordered iteration over the merged view (active memtable over
 * frozen memtable over LMDB), in both directions.
 *
 * Each source keeps its own position; the merged position is the smallest
 * (forward) or largest (backward) key among them, the newest layer winning
 * ties. Tombstones hide the key in older layers and are skipped. The merged
 * key is copied, so the cursor survives writes to the memtable (nodes are
 * never freed before the memtable is) but not the end of the tick. Each
 * memtable source keeps a finger (memtable.h), so seeks near the previous
 * one cost O(log distance) rather than a search from the head. */
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

enum { SRC_ACTIVE, SRC_FROZEN, SRC_LMDB, NSRC };

typedef struct src {
    int valid;
    const uint8_t *k, *v;
    size_t klen, vlen;
    int tomb;
    mt_node *node;
    mt_finger fing; /* memtable sources: where the last search went */
} src;

struct store_cursor {
    store *s;
    int dbi;
    MDB_cursor *mc;
    src src[NSRC];
    int dir;   /* +1 forward, -1 backward */
    int valid;
    int win;   /* source of the current entry */
    uint8_t *cur;
    size_t curlen, curcap;
};

static void set_node(src *x, mt_node *n) {
    x->node = n;
    x->valid = n != NULL;
    if (n) {
        x->k = mt_key(n);
        x->klen = n->klen;
        x->v = n->val;
        x->vlen = n->vlen;
        x->tomb = n->val == NULL;
    }
}

static void set_mdb(src *x, int rc, MDB_val *k, MDB_val *v) {
    x->valid = rc == 0;
    x->tomb = 0;
    if (rc == 0) {
        x->k = k->mv_data;
        x->klen = k->mv_size;
        x->v = v->mv_data;
        x->vlen = v->mv_size;
    }
}

static memtable *layer(store_cursor *c, int i) {
    return i == SRC_ACTIVE ? c->s->active : c->s->frozen;
}

/* Position source i at first key >= k (strict: > k). */
static void src_seek_ge(store_cursor *c, int i, const void *k, size_t klen, int strict) {
    src *x = &c->src[i];
    if (i == SRC_LMDB) {
        if (!c->mc) {
            x->valid = 0;
            return;
        }
        MDB_val mk = {klen, (void *)k}, mv;
        int rc = k ? mdb_cursor_get(c->mc, &mk, &mv, MDB_SET_RANGE)
                   : mdb_cursor_get(c->mc, &mk, &mv, MDB_FIRST);
        if (rc == 0 && strict && k && mt_cmp(mk.mv_data, mk.mv_size, k, klen) == 0)
            rc = mdb_cursor_get(c->mc, &mk, &mv, MDB_NEXT);
        set_mdb(x, rc, &mk, &mv);
        return;
    }
    memtable *m = layer(c, i);
    if (!m) {
        x->valid = 0;
        return;
    }
    mt_node *n = k ? mt_seek_ge_f(m, c->dbi, k, klen, &x->fing) : mt_seek_ge(m, c->dbi, NULL, 0);
    if (n && strict && k && mt_cmp(mt_key(n), n->klen, k, klen) == 0) n = n->next[0];
    set_node(x, n);
}

/* Position source i at last key <= k (strict: < k). */
static void src_seek_le(store_cursor *c, int i, const void *k, size_t klen, int strict) {
    src *x = &c->src[i];
    if (i == SRC_LMDB) {
        if (!c->mc) {
            x->valid = 0;
            return;
        }
        MDB_val mk, mv;
        int rc;
        if (!k) {
            rc = mdb_cursor_get(c->mc, &mk, &mv, MDB_LAST);
        } else {
            mk.mv_size = klen;
            mk.mv_data = (void *)k;
            rc = mdb_cursor_get(c->mc, &mk, &mv, MDB_SET_RANGE);
            if (rc == MDB_NOTFOUND) {
                rc = mdb_cursor_get(c->mc, &mk, &mv, MDB_LAST);
            } else if (rc == 0) {
                int cmp = mt_cmp(mk.mv_data, mk.mv_size, k, klen);
                if (cmp > 0 || (cmp == 0 && strict))
                    rc = mdb_cursor_get(c->mc, &mk, &mv, MDB_PREV);
            }
        }
        set_mdb(x, rc, &mk, &mv);
        return;
    }
    memtable *m = layer(c, i);
    if (!m) {
        x->valid = 0;
        return;
    }
    set_node(x, k ? mt_seek_lt_f(m, c->dbi, k, klen, strict, &x->fing)
                  : mt_seek_lt(m, c->dbi, NULL, 0, strict));
}

static void src_step(store_cursor *c, int i) {
    src *x = &c->src[i];
    if (!x->valid) return;
    if (i == SRC_LMDB) {
        MDB_val mk, mv;
        int rc = mdb_cursor_get(c->mc, &mk, &mv, c->dir > 0 ? MDB_NEXT : MDB_PREV);
        set_mdb(x, rc, &mk, &mv);
        return;
    }
    if (c->dir > 0) set_node(x, mt_next(layer(c, i), c->dbi, x->node));
    else set_node(x, mt_seek_lt_f(layer(c, i), c->dbi, x->k, x->klen, 1, &x->fing));
}

/* Pick the merged entry; skip tombstones. */
static int resolve(store_cursor *c) {
    for (;;) {
        int best = -1;
        for (int i = 0; i < NSRC; i++) {
            src *x = &c->src[i];
            if (!x->valid) continue;
            if (best < 0) {
                best = i;
                continue;
            }
            int cmp = mt_cmp(x->k, x->klen, c->src[best].k, c->src[best].klen);
            if (cmp * c->dir < 0) best = i; /* ties: keep the newer layer */
        }
        if (best < 0) {
            c->valid = 0;
            return ST_NOTFOUND;
        }
        src *b = &c->src[best];
        if (b->tomb) {
            /* Hidden key: advance every source sitting on it. */
            uint8_t stackk[512];
            size_t kl = b->klen;
            memcpy(stackk, b->k, kl);
            for (int i = 0; i < NSRC; i++)
                if (c->src[i].valid && mt_cmp(c->src[i].k, c->src[i].klen, stackk, kl) == 0)
                    src_step(c, i);
            continue;
        }
        c->win = best;
        if (b->klen > c->curcap) {
            uint8_t *nc = realloc(c->cur, b->klen);
            if (!nc) return ST_NOMEM;
            c->cur = nc;
            c->curcap = b->klen;
        }
        memcpy(c->cur, b->k, b->klen);
        c->curlen = b->klen;
        c->valid = 1;
        return ST_OK;
    }
}

int store_cursor_open(store *s, int dbi, store_cursor **out) {
    store_cursor *c = calloc(1, sizeof *c);
    if (!c) return ST_NOMEM;
    c->s = s;
    c->dbi = dbi;
    c->dir = 1;
    MDB_txn *t = store_rtxn(s);
    if (!t || mdb_cursor_open(t, s->dbi[dbi], &c->mc) != 0) {
        free(c);
        return ST_IO;
    }
    *out = c;
    return ST_OK;
}

int store_cursor_seek(store_cursor *c, const void *k, size_t klen) {
    c->dir = 1;
    for (int i = 0; i < NSRC; i++) src_seek_ge(c, i, k, klen, 0);
    return resolve(c);
}

int store_cursor_seek_rev(store_cursor *c, const void *k, size_t klen) {
    c->dir = -1;
    for (int i = 0; i < NSRC; i++) src_seek_le(c, i, k, klen, 0);
    return resolve(c);
}

/* Turn LMDB's source around at the merged key. Moving one way, it sits on
 * its nearest key at or beyond cur on that side (or has run off the end),
 * so its nearest key strictly on the other side is one step back: a step
 * instead of a search from the root. Anything else gets the search. */
static void turn_mdb(store_cursor *c, int dir) {
    src *x = &c->src[SRC_LMDB];
    int cmp = x->valid ? mt_cmp(x->k, x->klen, c->cur, c->curlen) : 0;
    if (!x->valid || cmp * dir > 0) {
        if (dir > 0) src_seek_ge(c, SRC_LMDB, c->cur, c->curlen, 1);
        else src_seek_le(c, SRC_LMDB, c->cur, c->curlen, 1);
        return;
    }
    MDB_val mk, mv;
    int rc;
    do rc = mdb_cursor_get(c->mc, &mk, &mv, dir > 0 ? MDB_NEXT : MDB_PREV);
    while (rc == 0 && mt_cmp(mk.mv_data, mk.mv_size, c->cur, c->curlen) * dir <= 0);
    set_mdb(x, rc, &mk, &mv);
}

static int step(store_cursor *c, int dir) {
    if (!c->valid) return ST_NOTFOUND;
    if (c->dir != dir) {
        c->dir = dir;
        for (int i = 0; i < NSRC; i++) {
            if (i == SRC_LMDB) turn_mdb(c, dir);
            else if (dir > 0) src_seek_ge(c, i, c->cur, c->curlen, 1);
            else src_seek_le(c, i, c->cur, c->curlen, 1);
        }
        return resolve(c);
    }
    for (int i = 0; i < NSRC; i++)
        if (c->src[i].valid && mt_cmp(c->src[i].k, c->src[i].klen, c->cur, c->curlen) == 0)
            src_step(c, i);
    return resolve(c);
}

int store_cursor_next(store_cursor *c) {
    return step(c, 1);
}

int store_cursor_prev(store_cursor *c) {
    return step(c, -1);
}

int store_cursor_get(store_cursor *c, const uint8_t **k, size_t *klen, const uint8_t **v,
                     size_t *vlen) {
    if (!c->valid) return ST_NOTFOUND;
    src *b = &c->src[c->win];
    /* The winning source may have moved if the memtable changed under it;
     * re-read the value through the point path to stay correct. */
    if (c->win != SRC_LMDB && b->node && b->node->val) {
        *v = b->node->val;
        *vlen = b->node->vlen;
    } else if (c->win != SRC_LMDB) {
        return store_get(c->s, c->dbi, c->cur, c->curlen, v, vlen) == ST_OK ? (*k = c->cur,
               *klen = c->curlen, ST_OK) : ST_NOTFOUND;
    } else {
        *v = b->v;
        *vlen = b->vlen;
    }
    *k = c->cur;
    *klen = c->curlen;
    return ST_OK;
}

void store_cursor_close(store_cursor *c) {
    if (!c) return;
    if (c->mc) mdb_cursor_close(c->mc);
    free(c->cur);
    free(c);
}

/* Does memtable m hold a key (or tombstone) of dbi in [lo, hi]? (hi too:
 * whether hi is a key of the view is part of the answer.) */
static int mem_touches(memtable *m, int dbi, const void *lo, size_t lolen, const void *hi,
                       size_t hilen) {
    if (!m) return 0;
    mt_node *n = mt_seek_ge(m, dbi, lo, lolen);
    return n && mt_cmp(mt_key(n), n->klen, hi, hilen) <= 0;
}

/* Where a count_range walk stands against its bounds: 1 when key k is past
 * the far bound (the walk stops), and *far set when k is that bound. */
static int past_far(const uint8_t *k, size_t kl, const void *lo, size_t lolen, const void *hi,
                    size_t hilen, int from_hi, int *far) {
    int c = from_hi ? mt_cmp(k, kl, lo, lolen) : mt_cmp(k, kl, hi, hilen);
    if (from_hi ? c > 0 : c < 0) return 0;
    if (from_hi && c == 0) { /* lo itself is counted, and is the far bound */
        *far = 1;
        return 0;
    }
    if (!from_hi && c == 0) *far = 1;
    return 1;
}

/* store_count_range on LMDB alone: position once, then step comparing
 * each key with the far bound in place. */
static int count_mdb(store *s, int dbi, const void *lo, size_t lolen, const void *hi,
                     size_t hilen, int from_hi, uint64_t max, uint64_t *n, int *far) {
    MDB_txn *t = store_rtxn(s);
    MDB_cursor *mc;
    if (!t || mdb_cursor_open(t, s->dbi[dbi], &mc) != 0) return ST_IO;
    MDB_val mk = {from_hi ? hilen : lolen, (void *)(from_hi ? hi : lo)}, mv;
    int rc = mdb_cursor_get(mc, &mk, &mv, MDB_SET_RANGE);
    if (from_hi) /* the last key < hi */
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(mc, &mk, &mv, MDB_LAST)
             : rc == 0          ? mdb_cursor_get(mc, &mk, &mv, MDB_PREV)
                                : rc;
    uint64_t c = 0;
    while (rc == 0 && c <= max &&
           !past_far(mk.mv_data, mk.mv_size, lo, lolen, hi, hilen, from_hi, far)) {
        c++;
        rc = mdb_cursor_get(mc, &mk, &mv, from_hi ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(mc);
    if (rc && rc != MDB_NOTFOUND) return store_mdb_rc(rc);
    *n = c;
    return ST_OK;
}

int store_count_range(store *s, int dbi, const void *lo, size_t lolen, const void *hi,
                      size_t hilen, int from_hi, uint64_t max, uint64_t *n, int *far) {
    int dummy;
    if (!far) far = &dummy;
    *far = 0;
    *n = 0;
    if (mt_cmp(lo, lolen, hi, hilen) >= 0) return ST_OK;
    if (!mem_touches(s->active, dbi, lo, lolen, hi, hilen) &&
        !mem_touches(s->frozen, dbi, lo, lolen, hi, hilen))
        return count_mdb(s, dbi, lo, lolen, hi, hilen, from_hi, max, n, far);
    store_cursor *c;
    int rc = store_cursor_open(s, dbi, &c);
    if (rc) return rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    if (from_hi) {
        rc = store_cursor_seek_rev(c, hi, hilen);
        if (rc == ST_OK && store_cursor_get(c, &k, &kl, &v, &vl) == ST_OK &&
            mt_cmp(k, kl, hi, hilen) == 0)
            rc = store_cursor_prev(c);
    } else {
        rc = store_cursor_seek(c, lo, lolen);
    }
    uint64_t cnt = 0;
    while (rc == ST_OK && cnt <= max) {
        if ((rc = store_cursor_get(c, &k, &kl, &v, &vl)) != ST_OK) break;
        if (past_far(k, kl, lo, lolen, hi, hilen, from_hi, far)) break;
        cnt++;
        rc = from_hi ? store_cursor_prev(c) : store_cursor_next(c);
    }
    store_cursor_close(c);
    if (rc && rc != ST_NOTFOUND) return rc;
    *n = cnt;
    return ST_OK;
}
