/* t_zset_rank.c — the counted rank index of sorted sets: ZRANK, ZRANGE by
 * index, ZREMRANGEBYRANK and ZRANDMEMBER in O(levels * B) cursor steps
 * instead of O(N). Layout and invariants are in t_zset.h; in short:
 *
 *   id · 'c' · level · [score64 · member[:493]] -> count(8 BE) [· member]
 *
 * Level L (1..TZ_RANK_LEVELS) cuts the members, in score-index order, into
 * blocks; a fence marks the first member of a block and holds how many
 * members the block has. The head fence (no score, no member) stands for the
 * block before the first real fence, so every member lies in exactly one
 * block per level: the last fence <= it. Every fence of level L+1 is also a
 * fence of level L (nesting), so a level-(L+1) block is a run of whole
 * level-L blocks. A level-L block splits past 2*B^L members and is merged
 * into its predecessor below B^L/4; a fence whose member is deleted is merged
 * away the same way. Fence keys within a level are distinct: a member longer
 * than the key holds keeps its full bytes in the value, and a split never
 * picks a member whose truncated key equals a neighbour's (then a block may
 * stay above its limit: correct, only slower).
 *
 * Sets without an index (below TZ_RANK_MIN members, or written before the
 * index existed) answer by walking from the nearer end. */
#include "storage/t_zset_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/num.h"
#include "storage/t_zset.h"
#include "storage/t_zset_rankmem.h"

#define FHDR     10                              /* id(8) kind(1) level(1) */
#define FSUF     (KS_SUBKEY_MAX - FHDR - 8)      /* member bytes in a key: 493 */
#define LEVELS   TZ_RANK_LEVELS
#define B        shape_b
#define NO_INDEX 1 /* private: the zset has no index, walk instead */
#define SKEY_HDR 17 /* score-index key: id(8) kind(1) score64(8) member */

/* The shape: constants but for tests, which shrink them to reach every
 * level with a few hundred members. */
static uint64_t shape_b = TZ_RANK_B, shape_min = TZ_RANK_MIN;
static int shape_defer = 1;

void tz_rank_test_defer(int on) {
    shape_defer = on;
}

void tz_rank_test_shape(unsigned b, uint64_t min) {
    shape_b = b ? b : TZ_RANK_B;
    shape_min = min;
}

/* ------------------------------------------------------------------ */
/* order and fence encoding                                             */

int tzr_entry_cmp(const uint8_t *ea, const uint8_t *ma, size_t la, const uint8_t *eb,
                  const uint8_t *mb, size_t lb) {
    int c = memcmp(ea, eb, 8);
    if (c) return c;
    size_t n = la < lb ? la : lb;
    c = n ? memcmp(ma, mb, n) : 0;
    if (c) return c;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

static uint64_t pow_b(int l) {
    uint64_t n = 1;
    while (l-- > 0) n *= B;
    return n;
}

static uint64_t lvl_max(int l) {
    return 2 * pow_b(l);
}

static uint64_t lvl_min(int l) {
    return pow_b(l) / 4;
}

/* Fence key of (enc, m) at a level; enc NULL: the head fence. */
static size_t fkey(uint8_t *out, uint64_t id, int level, const uint8_t *enc, const uint8_t *m,
                   size_t ml) {
    be64_put(out, id);
    out[8] = TZ_KIND_RANK;
    out[9] = (uint8_t)level;
    if (!enc) return FHDR;
    memcpy(out + FHDR, enc, 8);
    size_t n = ml < FSUF ? ml : FSUF;
    if (n) memcpy(out + FHDR + 8, m, n);
    return FHDR + 8 + n;
}

/* Same position (key past the level byte)? */
static int same_pos(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    return al == bl && memcmp(a + FHDR, b + FHDR, al - FHDR) == 0;
}

/* A fence read in place from a cursor (borrowed). */
typedef struct fview {
    const uint8_t *k, *v;
    size_t kl, vl;
} fview;

/* The cursor's entry if it is a fence of the level in pre; ST_NOTFOUND if
 * it is anything else. */
static int fview_get(store_cursor *c, const uint8_t pre[FHDR], fview *x) {
    if (store_cursor_get(c, &x->k, &x->kl, &x->v, &x->vl) != ST_OK) return ST_NOTFOUND;
    if (x->kl < FHDR || memcmp(x->k, pre, FHDR) != 0) return ST_NOTFOUND;
    if (x->vl < 8 || (x->kl != FHDR && x->kl < FHDR + 8)) return ST_CORRUPT;
    return ST_OK;
}

static const uint8_t *fv_member(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                                size_t *ml) {
    if (vl > 8) {
        *ml = vl - 8;
        return v + 8;
    }
    *ml = kl - FHDR - 8;
    return k + FHDR + 8;
}

/* Fence position against (enc, m); the head fence is below everything. */
static int fv_cmp(const fview *x, const uint8_t enc[8], const uint8_t *m, size_t ml) {
    if (x->kl == FHDR) return -1;
    size_t fl;
    const uint8_t *fm = fv_member(x->k, x->kl, x->v, x->vl, &fl);
    return tzr_entry_cmp(x->k + FHDR, fm, fl, enc, m, ml);
}

/* A fence copied out of the store. */
typedef struct fence {
    uint8_t key[KS_SUBKEY_MAX];
    size_t kl; /* FHDR: the head fence */
    uint64_t count;
    uint8_t *full; /* whole member when longer than FSUF (malloc'd) */
    size_t fulllen;
} fence;

static void fence_free(fence *f) {
    free(f->full);
    f->full = NULL;
    f->fulllen = 0;
}

static int fence_set(fence *f, const uint8_t *k, size_t kl, const uint8_t *full, size_t fl,
                     uint64_t count) {
    fence_free(f);
    memcpy(f->key, k, kl);
    f->kl = kl;
    f->count = count;
    if (full) {
        if (!(f->full = malloc(fl ? fl : 1))) return ST_NOMEM;
        memcpy(f->full, full, fl);
        f->fulllen = fl;
    }
    return ST_OK;
}

static int fence_from_view(fence *f, const fview *x) {
    return fence_set(f, x->k, x->kl, x->vl > 8 ? x->v + 8 : NULL, x->vl - 8, be64_get(x->v));
}

static const uint8_t *fence_member(const fence *f, size_t *ml) {
    if (f->full) {
        *ml = f->fulllen;
        return f->full;
    }
    *ml = f->kl - FHDR - 8;
    return f->key + FHDR + 8;
}

/* Fence f's position: 0 for the head, else 1 and (enc, m, ml). */
static int fence_pos(const fence *f, const uint8_t **enc, const uint8_t **m, size_t *ml) {
    if (f->kl == FHDR) {
        *enc = *m = NULL;
        *ml = 0;
        return 0;
    }
    *enc = f->key + FHDR;
    *m = fence_member(f, ml);
    return 1;
}

/* Every fence write and delete goes through these two, which tell the
 * zset's RAM copy (t_zset_rankmem.h): it mirrors the store exactly. */
static int fence_write(ks *k, const fence *f) {
    uint8_t small[8];
    int rc;
    if (!f->full) {
        be64_put(small, f->count);
        rc = store_put(ks_store(k), ST_DBI_SUB, f->key, f->kl, small, 8);
    } else {
        uint8_t *v = malloc(8 + f->fulllen);
        if (!v) return ST_NOMEM;
        be64_put(v, f->count);
        memcpy(v + 8, f->full, f->fulllen);
        rc = store_put(ks_store(k), ST_DBI_SUB, f->key, f->kl, v, 8 + f->fulllen);
        free(v);
    }
    const uint8_t *enc, *m;
    size_t ml;
    fence_pos(f, &enc, &m, &ml);
    if (rc == ST_OK) tzm_note_put(k, be64_get(f->key), f->key[9], enc, m, ml, f->count);
    return rc;
}

static int fence_del(ks *k, const fence *f, int level) {
    uint8_t key[KS_SUBKEY_MAX];
    memcpy(key, f->key, f->kl);
    key[9] = (uint8_t)level;
    int rc = store_del(ks_store(k), ST_DBI_SUB, key, f->kl);
    const uint8_t *enc, *m;
    size_t ml;
    fence_pos(f, &enc, &m, &ml);
    if (rc == ST_OK) tzm_note_del(k, be64_get(f->key), level, enc, m, ml);
    return rc;
}

/* Level `level`'s entry i of a RAM copy as a fence. */
static int fence_from_mem(fence *f, uint64_t id, const tzm *t, int level, size_t i) {
    const uint8_t *enc = NULL, *m = NULL;
    size_t ml = 0;
    tzm_pos(t, level, i, &enc, &m, &ml);
    uint8_t key[KS_SUBKEY_MAX];
    size_t kl = fkey(key, id, level, enc, m, ml);
    return fence_set(f, key, kl, ml > FSUF ? m : NULL, ml, tzm_count(t, level, i));
}

/* Index of fence f's position in level `level` of a RAM copy, or -1. */
static long mem_find(const tzm *t, int level, const fence *f) {
    const uint8_t *enc, *m;
    size_t ml;
    fence_pos(f, &enc, &m, &ml);
    return tzm_find(t, level, enc, m, ml);
}

/* Position cursor c exactly on key; ST_NOTFOUND if absent. */
static int seek_exact(store_cursor *c, const uint8_t *key, size_t kl) {
    int rc = store_cursor_seek(c, key, kl);
    if (rc) return rc;
    const uint8_t *ck, *v;
    size_t ckl, vl;
    if (store_cursor_get(c, &ck, &ckl, &v, &vl) != ST_OK) return ST_NOTFOUND;
    return ckl == kl && memcmp(ck, key, kl) == 0 ? ST_OK : ST_NOTFOUND;
}

/* The fence of `level` whose block holds (enc, m): the last fence <= it.
 * ST_NOTFOUND when the level has no fences (no index). */
static int find_block(store_cursor *c, uint64_t id, int level, const uint8_t enc[8],
                      const uint8_t *m, size_t ml, fence *out) {
    uint8_t key[KS_SUBKEY_MAX];
    size_t kl = fkey(key, id, level, enc, m, ml);
    int rc = store_cursor_seek_rev(c, key, kl);
    while (rc == ST_OK) {
        fview x;
        if ((rc = fview_get(c, key, &x))) return rc;
        /* Only a fence with the same truncated key can lie above m. */
        if (fv_cmp(&x, enc, m, ml) <= 0) return fence_from_view(out, &x);
        rc = store_cursor_prev(c);
    }
    return rc;
}

/* Position an ascending iterator on a fence's member (the first member for
 * the head fence). */
static int iter_at_fence(tz_iter *it, const fence *f) {
    if (f->kl == FHDR) return tz_iter_first(it);
    size_t ml;
    const uint8_t *m = fence_member(f, &ml);
    return tz_iter_seek_member(it, num_score64_decode(f->key + FHDR), m, ml, 0);
}

/* A copy of the fences read from the store (not held), or NULL. Levels are
 * read top first, each from its head; it stops early (and is then refused
 * by tzm_install) once it passes the bound. */
static tzm *mem_build(ks *k, uint64_t id) {
    tzm *t = tzm_begin(id);
    if (!t) return NULL;
    store_cursor *c = NULL;
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c);
    for (int l = LEVELS; l >= 1 && rc == ST_OK; l--) {
        uint8_t pre[FHDR];
        fkey(pre, id, l, NULL, NULL, 0);
        if ((rc = seek_exact(c, pre, FHDR))) {
            rc = ST_CORRUPT;
            break;
        }
        for (int first = 1; rc == ST_OK && !tzm_full(t); first = 0) {
            fview x;
            if ((rc = fview_get(c, pre, &x))) break;
            if ((x.kl == FHDR) != first) {
                rc = ST_CORRUPT;
                break;
            }
            size_t ml = 0;
            const uint8_t *m = x.kl == FHDR ? NULL : fv_member(x.k, x.kl, x.v, x.vl, &ml);
            rc = tzm_add(t, l, x.kl == FHDR ? NULL : x.k + FHDR, m, ml, be64_get(x.v));
            if (rc == ST_OK) rc = store_cursor_next(c);
        }
        if (rc == ST_NOTFOUND) rc = ST_OK;
    }
    if (rc == ST_OK && c) { /* any hashed score entry? */
        uint8_t hk[9];
        be64_put(hk, id);
        hk[8] = TZ_KIND_SCORE | KS_KIND_HASHED;
        const uint8_t *ck, *v;
        size_t ckl, vl;
        if (store_cursor_seek(c, hk, 9) == ST_OK &&
            store_cursor_get(c, &ck, &ckl, &v, &vl) == ST_OK && ckl >= 9 && !memcmp(ck, hk, 9))
            tzm_set_hashed(t);
    }
    if (c) store_cursor_close(c);
    if (rc) {
        tzm_free(t);
        return NULL;
    }
    return t;
}

void tzr_note_hashed(ks *k, uint64_t id) {
    tzm *t = tzm_peek(k, id);
    if (t && !tzm_is_stub(t)) tzm_set_hashed(t);
}

/* Rank walks read the plain score range alone when the copy knows the
 * zset holds no hashed member. */
static void walk_plain_if_known(tz_iter *it) {
    tzm *t = tzm_peek(it->k, it->id);
    if (t && !tzm_is_stub(t) && !tzm_hashed(t)) it->plain_only = 1;
}

/* The zset's RAM copy of its fences, built from the store on first use;
 * NULL when it has no index (*unindexed set, if given) or no copy can be
 * held (then the store is read). */
static tzm *mem_of_ex(ks *k, uint64_t id, int *unindexed) {
    tzm *t = tzm_peek(k, id);
    if (t) return tzm_is_stub(t) ? NULL : t;
    if (!tz_rank_indexed(k, id)) {
        if (unindexed) *unindexed = 1;
        return NULL;
    }
    return (t = mem_build(k, id)) ? tzm_install(k, t) : NULL;
}

static tzm *mem_of(ks *k, uint64_t id) {
    return mem_of_ex(k, id, NULL);
}

/* ------------------------------------------------------------------ */
/* split and merge                                                      */

/* Deferred splits. A level-1 split reads members in order, and the first
 * ordered read after writes makes this thread put every key written since
 * in order (memtable.h links new keys lazily): with a split every ~B
 * writes, the event loop would order nearly every write of a ZADD stream
 * itself, most of that stream's cost. So with a RAM copy a level-1 block
 * past its limit splits at once only when that ordering is cheap (fewer
 * unordered entries than half a block: no more work than the split's own
 * walk, as right after an ordered read) or when it reached
 * SPLIT_HARD times its limit (then it is cut to size whole); otherwise the
 * copy notes a backlog, and the zset's first index write after the next
 * checkpoint's freeze that finds few unordered entries (settle) splits
 * every such block. Counts stay exact throughout; only a block's length
 * (a rank's walk) waits. */
#define SPLIT_HARD       4
#define SETTLE_UNORDERED 131072

/* Cheap enough to split now? Else note the backlog. */
static int split_now(ks *k, tzm *t) {
    uint64_t gen;
    if (!shape_defer || store_unordered(ks_store(k), ST_DBI_SUB, &gen) <= B / 2) return 1;
    tzm_set_backlog(t, 1);
    return 0;
}

static int split(ks *k, uint64_t id, int level, fence *f, int force);

/* Split every level-1 block from index j of the copy up to the last `tail`
 * entries until each holds at most `limit` members, or has no split point
 * with a key of its own. A split inserts the new fence right after the split one (inside
 * the range); a write can drop the copy (bound, memory), so it is looked up
 * again each time. After the first split's ordered read, the memtable has
 * nothing left to order: the others cost only their walks. */
static int split_range(ks *k, uint64_t id, size_t j, size_t tail, uint64_t limit) {
    int rc = ST_OK;
    tzm *t;
    while (rc == ST_OK && (t = tzm_peek(k, id)) && !tzm_is_stub(t) && j + tail < tzm_len(t, 1)) {
        uint64_t c = tzm_count(t, 1, j);
        if (c <= limit) {
            j++;
            continue;
        }
        fence f = {0};
        if ((rc = fence_from_mem(&f, id, t, 1, j)) == ST_OK) rc = split(k, id, 1, &f, 1);
        fence_free(&f);
        if (rc == ST_OK && (t = tzm_peek(k, id)) && j < tzm_len(t, 1) && tzm_count(t, 1, j) == c)
            j++;
    }
    return rc;
}

/* Split the backlog, once per memtable generation, when the memtables
 * hold at most SETTLE_UNORDERED unordered entries (so the first split
 * neither orders a whole generation on this thread nor waits for the
 * checkpoint thread ordering the frozen memtable). */
static int settle(ks *k, uint64_t id) {
    tzm *t = tzm_peek(k, id);
    if (!t || tzm_is_stub(t) || !tzm_backlog(t)) return ST_OK;
    uint64_t gen;
    uint64_t un = store_unordered(ks_store(k), ST_DBI_SUB, &gen);
    if (gen == tzm_settled_gen(t) || un > SETTLE_UNORDERED) return ST_OK;
    tzm_set_settled_gen(t, gen);
    tzm_set_backlog(t, 0);
    return split_range(k, id, 0, 0, lvl_max(1));
}

/* Split the level-`level` block of fence f (count past its limit) near its
 * middle: the new fence goes on a member (level 1) or on a level-1-lower
 * fence (nesting). Leaves the block whole when no such point has a key of
 * its own. f->count is updated and written. */
static int split(ks *k, uint64_t id, int level, fence *f, int force) {
    uint64_t c = f->count, half = c / 2;
    uint8_t g[KS_SUBKEY_MAX];
    size_t gl = 0;
    store_cursor *cur = NULL;
    tzm *t = mem_of(k, id);
    long fi = t ? mem_find(t, level, f) : -1;
    int rc = ST_OK;
    if (t && fi < 0) return ST_CORRUPT;
    if (level == 1 && !force && t) {
        /* Past the hard limit: cut the whole block into pieces of at most
         * B at once (one ordered read), so a stream of inserts at one end
         * (ascending scores, a bulk load) leaves blocks as an immediate
         * split would (B each) behind it. */
        if (shape_defer && c > SPLIT_HARD * lvl_max(1))
            return split_range(k, id, (size_t)fi, tzm_len(t, 1) - (size_t)fi - 1, B);
        if (!split_now(k, t)) return ST_OK;
    }
    /* The next fence of this level bounds the block. */
    if (t) {
        if ((size_t)fi + 1 < tzm_len(t, level)) {
            const uint8_t *enc = NULL, *m = NULL;
            size_t ml = 0;
            tzm_pos(t, level, (size_t)fi + 1, &enc, &m, &ml);
            gl = fkey(g, id, level, enc, m, ml);
        }
    } else {
        if ((rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &cur))) return rc;
        if ((rc = seek_exact(cur, f->key, f->kl)) == ST_OK &&
            (rc = store_cursor_next(cur)) == ST_OK) {
            fview x;
            if (fview_get(cur, f->key, &x) == ST_OK) {
                memcpy(g, x.k, x.kl);
                gl = x.kl;
            }
        }
        if (rc == ST_NOTFOUND) rc = ST_OK;
    }
    fence nf = {0};
    int found = 0;
    uint64_t before = 0; /* members of f's block before the new fence */
    if (rc == ST_OK && level == 1) {
        tz_iter it;
        if ((rc = tz_iter_open(&it, k, id, 0))) goto out;
        walk_plain_if_known(&it);
        rc = iter_at_fence(&it, f);
        for (uint64_t i = 0; rc == ST_OK && i < half; i++) rc = tz_iter_next(&it);
        for (before = half; rc == ST_OK && before < c; before++) {
            uint8_t enc[8], key[KS_SUBKEY_MAX];
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            num_score64_encode(tz_iter_score(&it), enc);
            size_t kl = fkey(key, id, 1, enc, m, ml);
            if (gl && same_pos(key, kl, g, gl)) break;
            if (f->kl == FHDR || !same_pos(key, kl, f->key, f->kl)) {
                rc = fence_set(&nf, key, kl, ml > FSUF ? m : NULL, ml, c - before);
                found = rc == ST_OK;
                break;
            }
            rc = tz_iter_next(&it);
        }
        tz_iter_close(&it);
        if (rc == ST_NOTFOUND) rc = ST_OK;
    } else if (rc == ST_OK && t) {
        /* The lower level's fences of this block, from the RAM copy. */
        long j = mem_find(t, level - 1, f);
        size_t n = tzm_len(t, level - 1);
        if (j < 0) {
            rc = ST_CORRUPT;
            goto out;
        }
        for (size_t i = (size_t)j; i < n; i++) {
            uint8_t key[KS_SUBKEY_MAX];
            const uint8_t *enc = NULL, *m = NULL;
            size_t ml = 0;
            tzm_pos(t, level - 1, i, &enc, &m, &ml);
            size_t kl = fkey(key, id, level, enc, m, ml);
            if (i > (size_t)j) {
                if (gl && same_pos(key, kl, g, gl)) break;
                if (before >= half) {
                    rc = fence_set(&nf, key, kl, ml > FSUF ? m : NULL, ml, c - before);
                    found = rc == ST_OK;
                    break;
                }
            }
            before += tzm_count(t, level - 1, i);
        }
    } else if (rc == ST_OK) {
        /* Walk the lower level's fences of this block. */
        uint8_t lk[KS_SUBKEY_MAX];
        memcpy(lk, f->key, f->kl);
        lk[9] = (uint8_t)(level - 1);
        rc = seek_exact(cur, lk, f->kl);
        int first = 1;
        while (rc == ST_OK) {
            fview x;
            if ((rc = fview_get(cur, lk, &x))) break;
            if (!first) {
                if (gl && same_pos(x.k, x.kl, g, gl)) break;
                if (before >= half) {
                    if ((rc = fence_from_view(&nf, &x)) == ST_OK) {
                        nf.key[9] = (uint8_t)level;
                        nf.count = c - before;
                        found = 1;
                    }
                    break;
                }
            }
            first = 0;
            before += be64_get(x.v);
            rc = store_cursor_next(cur);
        }
        if (rc == ST_NOTFOUND) rc = ST_OK;
    }
    if (rc == ST_OK && found && before > 0 && before < c) {
        f->count = before;
        if ((rc = fence_write(k, f)) == ST_OK) rc = fence_write(k, &nf);
    }
out:
    if (cur) store_cursor_close(cur);
    fence_free(&nf);
    return rc;
}

/* Remove fence f's position from `level` and every level above that has it,
 * giving each removed block's members to the block before it; then split
 * the grown blocks that passed their limit, lowest level first. */
static int unfence(ks *k, uint64_t id, int level, const fence *f) {
    fence prev[LEVELS + 1];
    memset(prev, 0, sizeof prev);
    int top = level - 1, rc = ST_OK;
    tzm *t = mem_of(k, id);
    if (t) {
        for (int l = level; l <= LEVELS && rc == ST_OK; l++) {
            long i = mem_find(t, l, f);
            if (i < 0) break;
            if (i == 0) {
                rc = ST_CORRUPT; /* the head is never unfenced */
                break;
            }
            if ((rc = fence_from_mem(&prev[l], id, t, l, (size_t)i - 1))) break;
            prev[l].count += tzm_count(t, l, (size_t)i);
            top = l;
        }
    } else {
        store_cursor *cur;
        if ((rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &cur))) return rc;
        uint8_t key[KS_SUBKEY_MAX];
        memcpy(key, f->key, f->kl);
        for (int l = level; l <= LEVELS && rc == ST_OK; l++) {
            key[9] = (uint8_t)l;
            if ((rc = seek_exact(cur, key, f->kl))) break;
            fview x, p;
            if ((rc = fview_get(cur, key, &x))) break;
            uint64_t cnt = be64_get(x.v);
            if ((rc = store_cursor_prev(cur)) || (rc = fview_get(cur, key, &p))) {
                rc = ST_CORRUPT; /* the head fence is always there */
                break;
            }
            if ((rc = fence_from_view(&prev[l], &p))) break;
            prev[l].count += cnt;
            top = l;
        }
        store_cursor_close(cur);
        if (rc == ST_NOTFOUND) rc = ST_OK;
    }
    for (int l = level; l <= top && rc == ST_OK; l++)
        if ((rc = fence_del(k, f, l)) == ST_OK) rc = fence_write(k, &prev[l]);
    for (int l = level; l <= top && rc == ST_OK; l++)
        if (prev[l].count > lvl_max(l)) rc = split(k, id, l, &prev[l], 0);
    for (int l = 0; l <= LEVELS; l++) fence_free(&prev[l]);
    return rc;
}

/* The fences of every level holding (enc, m), each count moved by delta
 * and written. NO_INDEX when the zset has none. */
static int adjust(ks *k, uint64_t id, const uint8_t enc[8], const uint8_t *m, size_t ml,
                  int delta, fence *f) {
    int unindexed = 0, rc = ST_OK, l;
    tzm *t = mem_of_ex(k, id, &unindexed);
    if (unindexed) return NO_INDEX;
    if (t) {
        for (l = 1; l <= LEVELS && rc == ST_OK; l++)
            rc = fence_from_mem(&f[l], id, t, l, tzm_block(t, l, enc, m, ml));
    } else {
        store_cursor *c;
        if ((rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c))) return rc;
        for (l = 1; l <= LEVELS && rc == ST_OK; l++) rc = find_block(c, id, l, enc, m, ml, &f[l]);
        store_cursor_close(c);
        if (rc == ST_NOTFOUND) return l == 2 ? NO_INDEX : ST_CORRUPT;
    }
    if (rc) return rc;
    for (l = 1; l <= LEVELS && rc == ST_OK; l++) {
        if (delta < 0 && f[l].count == 0) return ST_CORRUPT;
        f[l].count += (uint64_t)(int64_t)delta;
        rc = fence_write(k, &f[l]);
    }
    return rc;
}

int tzr_insert(ks *k, uint64_t id, const uint8_t enc[8], const uint8_t *m, size_t mlen) {
    fence f[LEVELS + 1];
    memset(f, 0, sizeof f);
    int rc = adjust(k, id, enc, m, mlen, 1, f);
    for (int l = 1; l <= LEVELS && rc == ST_OK; l++)
        if (f[l].count > lvl_max(l)) rc = split(k, id, l, &f[l], 0);
    for (int l = 0; l <= LEVELS; l++) fence_free(&f[l]);
    if (rc == ST_OK) rc = settle(k, id);
    if (rc == NO_INDEX) return ST_OK;
    if (rc) tzm_drop(k, id); /* the store may hold half of it: never trust the copy */
    return rc;
}

int tzr_delete(ks *k, uint64_t id, const uint8_t enc[8], const uint8_t *m, size_t mlen) {
    fence f[LEVELS + 1];
    memset(f, 0, sizeof f);
    int rc = adjust(k, id, enc, m, mlen, -1, f);
    if (rc == ST_OK) {
        size_t fl;
        const uint8_t *fm = fence_member(&f[1], &fl);
        if (f[1].kl != FHDR && tzr_entry_cmp(f[1].key + FHDR, fm, fl, enc, m, mlen) == 0) {
            /* The member was a block's first: its fences go. */
            rc = unfence(k, id, 1, &f[1]);
        } else {
            for (int l = 1; l <= LEVELS; l++)
                if (f[l].kl != FHDR && f[l].count < lvl_min(l)) {
                    rc = unfence(k, id, l, &f[l]);
                    break;
                }
        }
    }
    for (int l = 0; l <= LEVELS; l++) fence_free(&f[l]);
    if (rc == ST_OK) rc = settle(k, id);
    if (rc == NO_INDEX) return ST_OK;
    if (rc) tzm_drop(k, id);
    return rc;
}

/* ------------------------------------------------------------------ */
/* building                                                             */

int tz_rank_indexed(ks *k, uint64_t id) {
    uint8_t key[FHDR];
    const uint8_t *v;
    size_t vl;
    size_t kl = fkey(key, id, 1, NULL, NULL, 0);
    return store_get(ks_store(k), ST_DBI_SUB, key, kl, &v, &vl) == ST_OK;
}

int tz_rank_maintain(ks *k, uint64_t id, uint64_t count) {
    if (count < shape_min || tz_rank_indexed(k, id)) return ST_OK;
    uint8_t key[KS_SUBKEY_MAX];
    size_t kl;
    int rc;
    /* The build writes about count/B fences in this tick. On a full disk
     * leave the zset unindexed (ranks walk; a later write retries) rather
     * than fail a command whose members are already written. */
    if (store_reserve(ks_store(k), (size_t)(count / B + LEVELS) * 128) != ST_OK) return ST_OK;
    tzm_drop(k, id); /* none can be held without an index; built on first use */
    /* One pass in order: a level-1 fence every B members, and a level-L
     * fence on the level-1 fence that closes B^L members of level L. */
    fence open[LEVELS + 1];
    uint64_t n[LEVELS + 1];
    memset(open, 0, sizeof open);
    for (int l = 1; l <= LEVELS; l++) {
        open[l].kl = fkey(open[l].key, id, l, NULL, NULL, 0);
        n[l] = 0;
    }
    tz_iter it;
    if ((rc = tz_iter_open(&it, k, id, 0))) return rc;
    for (rc = tz_iter_first(&it); rc == ST_OK; rc = tz_iter_next(&it)) {
        if (n[1] >= B) {
            int h = 1;
            while (h < LEVELS && n[h + 1] >= pow_b(h + 1)) h++;
            uint8_t enc[8];
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            num_score64_encode(tz_iter_score(&it), enc);
            kl = fkey(key, id, 1, enc, m, ml);
            if (open[1].kl != FHDR && same_pos(key, kl, open[1].key, open[1].kl)) h = 0;
            for (int l = 1; l <= h && rc == ST_OK; l++) {
                open[l].count = n[l];
                if ((rc = fence_write(k, &open[l]))) break;
                key[9] = (uint8_t)l;
                rc = fence_set(&open[l], key, kl, ml > FSUF ? m : NULL, ml, 0);
                n[l] = 0;
            }
            if (rc) break;
        }
        for (int l = 1; l <= LEVELS; l++) n[l]++;
    }
    tz_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    for (int l = 1; l <= LEVELS; l++) {
        open[l].count = n[l];
        if (rc == ST_OK) rc = fence_write(k, &open[l]);
        fence_free(&open[l]);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* lookups                                                              */

/* Descend from the top level's head to the level-1 fence whose block holds
 * the target, adding the members of the blocks passed. The target is a
 * position (enc, m) when by_rank is 0, else the ascending rank r. *acc: the
 * rank of the fence's first member. NO_INDEX when there is no index. */
static int descend_store(ks *k, uint64_t id, const uint8_t *enc, const uint8_t *m, size_t ml,
                         int by_rank, uint64_t r, fence *out, uint64_t *acc) {
    store_cursor *c;
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c);
    if (rc) return rc;
    out->kl = fkey(out->key, id, LEVELS, NULL, NULL, 0);
    out->count = 0;
    *acc = 0;
    if ((rc = seek_exact(c, out->key, out->kl)) == ST_NOTFOUND) {
        store_cursor_close(c);
        return NO_INDEX;
    }
    for (int l = LEVELS; l >= 1 && rc == ST_OK; l--) {
        out->key[9] = (uint8_t)l;
        /* The top level's head fence is where the existence check left the
         * cursor; every lower level starts at the fence found above it. */
        if (l < LEVELS && (rc = seek_exact(c, out->key, out->kl))) {
            rc = rc == ST_NOTFOUND ? ST_CORRUPT : rc;
            break;
        }
        for (;;) {
            fview x, y;
            if ((rc = fview_get(c, out->key, &x))) break;
            uint64_t cx = be64_get(x.v);
            if (by_rank && *acc + cx > r) break;
            rc = store_cursor_next(c);
            if (rc && rc != ST_NOTFOUND) break;
            if (rc == ST_NOTFOUND || fview_get(c, out->key, &y) != ST_OK) {
                /* The level's last fence: by rank, the counts fell short. */
                rc = by_rank ? ST_CORRUPT : ST_OK;
                break;
            }
            if (!by_rank && fv_cmp(&y, enc, m, ml) > 0) break;
            *acc += cx;
            if ((rc = fence_from_view(out, &y))) break;
        }
    }
    store_cursor_close(c);
    return rc;
}

/* descend_store on a RAM copy: the same walk over sorted arrays (by
 * position, tzm_locate's binary searches). The top level's counts must add
 * up to `count`, the zset's size: else ST_CORRUPT, and the caller replaces
 * the copy by a stub and reads the store (until the stub is evicted, so a
 * persistent disagreement does not rebuild the copy on every access). */
static int descend_mem(const tzm *t, uint64_t count, const uint8_t *enc, const uint8_t *m,
                       size_t ml, int by_rank, uint64_t r, size_t *out, uint64_t *acc) {
    if (!by_rank) return tzm_locate(t, count, enc, m, ml, out, acc);
    uint64_t total = 0;
    for (size_t i = 0; i < tzm_len(t, LEVELS); i++) total += tzm_count(t, LEVELS, i);
    if (total != count) return ST_CORRUPT;
    size_t lo = 0, at = 0;
    *acc = 0;
    for (int l = LEVELS; l >= 1; l--) {
        size_t n = tzm_len(t, l);
        if (l < LEVELS) {
            const uint8_t *pe = NULL, *pm = NULL;
            size_t pl = 0;
            tzm_pos(t, l + 1, at, &pe, &pm, &pl);
            long j = tzm_find(t, l, pe, pm, pl);
            if (j < 0) return ST_CORRUPT;
            lo = (size_t)j;
        }
        at = lo;
        while (*acc + tzm_count(t, l, at) <= r) {
            *acc += tzm_count(t, l, at);
            if (++at >= n) return ST_CORRUPT;
        }
    }
    *out = at;
    return ST_OK;
}

/* The level-1 fence whose block holds the target (see descend_store), from
 * the RAM copy when one can be held. */
static int descend(ks *k, uint64_t id, uint64_t count, const uint8_t *enc, const uint8_t *m,
                   size_t ml, int by_rank, uint64_t r, fence *out, uint64_t *acc) {
    tzm *t = mem_of(k, id);
    if (t) {
        size_t at;
        int rc = descend_mem(t, count, enc, m, ml, by_rank, r, &at, acc);
        if (rc == ST_OK) return fence_from_mem(out, id, t, 1, at);
        if (rc != ST_CORRUPT) return rc;
        tzm_refuse(k, id);
    }
    return descend_store(k, id, enc, m, ml, by_rank, r, out, acc);
}

/* Walk from the first (reverse: last) entry; r counted in the direction. */
static int walk_to(tz_iter *it, uint64_t r) {
    int rc = tz_iter_first(it);
    while (rc == ST_OK && r--) rc = tz_iter_next(it);
    return rc;
}

/* Copy of the entry an iterator is on. */
static int iter_copy(const tz_iter *it, uint8_t **m, size_t *ml, double *s) {
    const uint8_t *p = tz_iter_member(it, ml);
    if (!(*m = malloc(*ml ? *ml : 1))) return ST_NOMEM;
    memcpy(*m, p, *ml);
    *s = tz_iter_score(it);
    return ST_OK;
}

/* Unindexed: from the nearer end; from the far end the entry is found
 * walking the other way, then sought by (score, member). */
static int walk_seek_rank(tz_iter *it, uint64_t count, uint64_t r) {
    if (r <= count / 2) return walk_to(it, r);
    tz_iter o;
    int rc = tz_iter_open(&o, it->k, it->id, it->dir > 0);
    if (rc) return rc;
    uint8_t *m = NULL;
    size_t ml;
    double s;
    if ((rc = walk_to(&o, count - 1 - r)) == ST_OK) rc = iter_copy(&o, &m, &ml, &s);
    tz_iter_close(&o);
    if (rc == ST_OK) rc = tz_iter_seek_member(it, s, m, ml, 0);
    free(m);
    return rc;
}

/* Indexed: position an ascending iterator at ascending rank r. */
/* Position an ascending iterator on the member `back` entries before the
 * end of the level-1 block of fence index i of the copy, walking backwards
 * from the block's last member (one seek more than a forward walk). */
static int seek_from_block_end(tz_iter *it, const tzm *t, size_t i, uint64_t back) {
    tz_iter rv;
    int rc = tz_iter_open(&rv, it->k, it->id, 1);
    if (rc) return rc;
    walk_plain_if_known(&rv);
    const uint8_t *ne = NULL, *nm = NULL;
    size_t nml = 0;
    if (i + 1 < tzm_len(t, 1) && tzm_pos(t, 1, i + 1, &ne, &nm, &nml))
        rc = tz_iter_seek_member(&rv, num_score64_decode(ne), nm, nml, 1);
    else
        rc = tz_iter_first(&rv);
    while (rc == ST_OK && back--) rc = tz_iter_next(&rv);
    uint8_t *m = NULL;
    size_t ml;
    double sc;
    if (rc == ST_OK) rc = iter_copy(&rv, &m, &ml, &sc);
    tz_iter_close(&rv);
    if (rc == ST_OK) {
        walk_plain_if_known(it);
        rc = tz_iter_seek_member(it, sc, m, ml, 0);
    }
    free(m);
    return rc;
}

/* Steps a seek is worth in a walk: about 8 at B = 64 (a merged seek costs
 * a few cursor steps); scaled with B so the small test shapes take both
 * ways. */
#define SEEK_STEPS (B / 8)

/* Indexed: position an ascending iterator at ascending rank r, walking
 * from whichever end of the level-1 block is nearer when the RAM copy
 * knows where the block ends. */
static int seek_asc(tz_iter *it, uint64_t count, uint64_t r) {
    fence f = {0};
    uint64_t acc;
    int rc = descend(it->k, it->id, count, NULL, NULL, 0, 1, r, &f, &acc);
    if (rc == ST_OK) {
        uint64_t off = r - acc, back = f.count - 1 - off;
        tzm *t = tzm_peek(it->k, it->id);
        long i = t && !tzm_is_stub(t) && off < f.count ? mem_find(t, 1, &f) : -1;
        if (i >= 0 && back + SEEK_STEPS < off) {
            rc = seek_from_block_end(it, t, (size_t)i, back);
        } else {
            walk_plain_if_known(it);
            rc = iter_at_fence(it, &f);
            for (uint64_t j = acc; rc == ST_OK && j < r; j++) rc = tz_iter_next(it);
        }
    }
    fence_free(&f);
    return rc;
}

int tz_iter_seek_rank(tz_iter *it, uint64_t count, uint64_t r) {
    if (r >= count) return ST_NOTFOUND;
    if (it->dir > 0) {
        int rc = seek_asc(it, count, r);
        return rc == NO_INDEX ? walk_seek_rank(it, count, r) : rc;
    }
    tz_iter a;
    int rc = tz_iter_open(&a, it->k, it->id, 0);
    if (rc) return rc;
    uint8_t *m = NULL;
    size_t ml;
    double s;
    if ((rc = seek_asc(&a, count, count - 1 - r)) == ST_OK) rc = iter_copy(&a, &m, &ml, &s);
    tz_iter_close(&a);
    if (rc == NO_INDEX) return walk_seek_rank(it, count, r);
    walk_plain_if_known(it);
    if (rc == ST_OK) rc = tz_iter_seek_member(it, s, m, ml, 0);
    free(m);
    return rc;
}

/* Unindexed: walk from both ends at once, O(min(rank, N - rank)). */
static int walk_rank(ks *k, uint64_t id, uint64_t count, const uint8_t enc[8], const void *m,
                     size_t ml, uint64_t *rank) {
    tz_iter it[2];
    int rc = tz_iter_open(&it[0], k, id, 0);
    if (rc) return rc;
    if ((rc = tz_iter_open(&it[1], k, id, 1))) {
        tz_iter_close(&it[0]);
        return rc;
    }
    int r[2] = {tz_iter_first(&it[0]), tz_iter_first(&it[1])};
    uint64_t n[2] = {0, 0};
    rc = ST_NOTFOUND;
    while ((r[0] == ST_OK || r[1] == ST_OK) && rc == ST_NOTFOUND && n[0] + n[1] <= count) {
        for (int d = 0; d < 2 && rc == ST_NOTFOUND; d++) {
            if (r[d] != ST_OK) continue;
            size_t l;
            const uint8_t *p = tz_iter_member(&it[d], &l);
            uint8_t e[8];
            num_score64_encode(tz_iter_score(&it[d]), e);
            if (tzr_entry_cmp(e, p, l, enc, m, ml) == 0) {
                *rank = d ? count - 1 - n[1] : n[0];
                rc = ST_OK;
                break;
            }
            n[d]++;
            r[d] = tz_iter_next(&it[d]);
        }
    }
    if (rc == ST_NOTFOUND && it[0].err) rc = it[0].err;
    if (rc == ST_NOTFOUND && it[1].err) rc = it[1].err;
    tz_iter_close(&it[0]);
    tz_iter_close(&it[1]);
    return rc;
}

/* Score-index key of a plain member's position (enc NULL: where the plain
 * range starts). */
static size_t skey(uint8_t *out, uint64_t id, const uint8_t *enc, const uint8_t *m, size_t ml) {
    be64_put(out, id);
    out[8] = TZ_KIND_SCORE;
    if (!enc) return 9;
    memcpy(out + 9, enc, 8);
    if (ml) memcpy(out + SKEY_HDR, m, ml);
    return SKEY_HDR + ml;
}

/* Whether (enc) lies nearer the end of a block from (fe) to (ne) than its
 * start, judged by score (a guess: it only picks the walk's direction).
 * Without both ends' scores, or with equal ones: no. */
static int nearer_end(const uint8_t *fe, const uint8_t *ne, const uint8_t enc[8]) {
    if (!fe || !ne) return 0;
    double a = num_score64_decode(fe), b = num_score64_decode(ne), x = num_score64_decode(enc);
    if (!(b > a) || !isfinite(b - a)) return 0;
    return (x - a) / (b - a) > 0.5;
}

/* tz_rank on a zset whose RAM copy knows it has no hashed member (an
 * unindexed zset walks at once, walk_rank): the
 * copy gives the level-1 block, and the members of the block before the
 * target are counted in the plain score range (store_count_range: LMDB
 * read in place when no memtable holds a write there), from whichever end
 * of the block the scores suggest is nearer. NO_INDEX when this path does
 * not apply or the count disagrees with the copy (the iterator decides). */
static int rank_mem(ks *k, uint64_t id, uint64_t count, const uint8_t enc[8], const uint8_t *m,
                    size_t ml, uint64_t *rank) {
    int unindexed = 0;
    tzm *t = mem_of_ex(k, id, &unindexed);
    if (unindexed) return walk_rank(k, id, count, enc, m, ml, rank);
    size_t at;
    uint64_t acc, n;
    if (!t || tzm_hashed(t) || SKEY_HDR + ml > KS_SUBKEY_MAX ||
        descend_mem(t, count, enc, m, ml, 0, 0, &at, &acc) != ST_OK)
        return NO_INDEX;
    uint64_t bc = tzm_count(t, 1, at);
    const uint8_t *fe = NULL, *fm = NULL, *ne = NULL, *nm = NULL;
    size_t fml = 0, nml = 0;
    tzm_pos(t, 1, at, &fe, &fm, &fml);
    if (at + 1 < tzm_len(t, 1)) tzm_pos(t, 1, at + 1, &ne, &nm, &nml);
    if (SKEY_HDR + fml > KS_SUBKEY_MAX || SKEY_HDR + nml > KS_SUBKEY_MAX) return NO_INDEX;
    uint8_t lo[KS_SUBKEY_MAX], hi[KS_SUBKEY_MAX], tk[KS_SUBKEY_MAX];
    size_t lol = skey(lo, id, fe, fm, fml), tkl = skey(tk, id, enc, m, ml), hil;
    if (ne) {
        hil = skey(hi, id, ne, nm, nml);
    } else { /* the last block ends with the plain range */
        hil = skey(hi, id, NULL, NULL, 0);
        hi[8]++;
    }
    if (tkl == lol && memcmp(tk, lo, lol) == 0) { /* the fence's own member */
        *rank = acc;
        return ST_OK;
    }
    int from_hi = nearer_end(fe, ne, enc), here, rc;
    if (from_hi) {
        rc = store_count_range(ks_store(k), ST_DBI_SUB, tk, tkl, hi, hil, 1, bc, &n, &here);
        if (rc == ST_OK && n > bc) return NO_INDEX;
        if (rc == ST_OK) *rank = acc + bc - n;
    } else {
        rc = store_count_range(ks_store(k), ST_DBI_SUB, lo, lol, tk, tkl, 0, bc, &n, &here);
        if (rc == ST_OK && n >= bc) return NO_INDEX;
        if (rc == ST_OK) *rank = acc + n;
    }
    return rc == ST_OK && !here ? ST_NOTFOUND : rc;
}

int tz_rank(ks *k, uint64_t id, uint64_t count, const void *m, size_t mlen, double score,
            uint64_t *rank) {
    uint8_t enc[8];
    num_score64_encode(score, enc);
    int rc = rank_mem(k, id, count, enc, m, mlen, rank);
    if (rc != NO_INDEX) return rc;
    fence f = {0};
    uint64_t acc;
    rc = descend(k, id, count, enc, m, mlen, 0, 0, &f, &acc);
    if (rc == NO_INDEX) return walk_rank(k, id, count, enc, m, mlen, rank);
    tz_iter it;
    if (rc == ST_OK && (rc = tz_iter_open(&it, k, id, 0)) == ST_OK) {
        walk_plain_if_known(&it);
        for (rc = iter_at_fence(&it, &f); rc == ST_OK; rc = tz_iter_next(&it), acc++) {
            size_t l;
            const uint8_t *p = tz_iter_member(&it, &l);
            int c = tzr_entry_cmp(tz_iter_enc(&it), p, l, enc, m, mlen);
            if (c > 0) {
                rc = ST_NOTFOUND;
                break;
            }
            if (c == 0) {
                *rank = acc;
                break;
            }
        }
        tz_iter_close(&it);
    }
    fence_free(&f);
    return rc;
}

/* ------------------------------------------------------------------ */
/* checking                                                             */

int tz_rank_check(ks *k, uint64_t id, uint64_t count) {
    tzm *held = tzm_peek(k, id);
    if (!tz_rank_indexed(k, id)) return held && !tzm_is_stub(held) ? ST_CORRUPT : ST_OK;
    if (held && !tzm_is_stub(held)) { /* the RAM copy must equal the store's fences */
        tzm *fresh = mem_build(k, id);
        int same = fresh && tzm_same(held, fresh);
        tzm_free(fresh);
        if (!same) return ST_CORRUPT;
    }
    store_cursor *c[LEVELS + 1] = {0};
    fview cur[LEVELS + 1], nxt[LEVELS + 1];
    int has_next[LEVELS + 1];
    uint64_t seen[LEVELS + 1], total = 0;
    uint8_t pre[LEVELS + 1][FHDR];
    int rc = ST_OK;
    for (int l = 1; l <= LEVELS && rc == ST_OK; l++) {
        fkey(pre[l], id, l, NULL, NULL, 0);
        if ((rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c[l]))) break;
        if ((rc = seek_exact(c[l], pre[l], FHDR)) || (rc = fview_get(c[l], pre[l], &cur[l]))) {
            rc = ST_CORRUPT;
            break;
        }
        rc = store_cursor_next(c[l]);
        has_next[l] = rc == ST_OK && fview_get(c[l], pre[l], &nxt[l]) == ST_OK;
        rc = rc == ST_NOTFOUND ? ST_OK : rc;
        seen[l] = 0;
    }
    tz_iter it;
    if (rc == ST_OK && (rc = tz_iter_open(&it, k, id, 0)) == ST_OK) {
        for (rc = tz_iter_first(&it); rc == ST_OK; rc = tz_iter_next(&it), total++) {
            uint8_t enc[8];
            size_t ml;
            const uint8_t *m = tz_iter_member(&it, &ml);
            num_score64_encode(tz_iter_score(&it), enc);
            int below_fenced = 1; /* nesting: fenced at every level below */
            for (int l = 1; l <= LEVELS && rc == ST_OK; l++) {
                int c0 = has_next[l] ? fv_cmp(&nxt[l], enc, m, ml) : 1;
                if (c0 < 0) rc = ST_CORRUPT; /* a fence on no member */
                else if (c0 == 0) {
                    if (!below_fenced || be64_get(cur[l].v) != seen[l]) rc = ST_CORRUPT;
                    cur[l] = nxt[l];
                    seen[l] = 0;
                    int n = store_cursor_next(c[l]);
                    has_next[l] = n == ST_OK && fview_get(c[l], pre[l], &nxt[l]) == ST_OK;
                } else {
                    below_fenced = 0;
                }
                seen[l]++;
            }
        }
        tz_iter_close(&it);
        if (rc == ST_NOTFOUND) rc = ST_OK;
        for (int l = 1; l <= LEVELS && rc == ST_OK; l++)
            if (has_next[l] || be64_get(cur[l].v) != seen[l]) rc = ST_CORRUPT;
        if (rc == ST_OK && total != count) rc = ST_CORRUPT;
    }
    for (int l = 1; l <= LEVELS; l++)
        if (c[l]) store_cursor_close(c[l]);
    return rc;
}
