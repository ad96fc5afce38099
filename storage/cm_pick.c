/* cm_pick.c — random member picks on the ordered key space (cm_pick.h).
 *
 * An ordered store has no O(1) uniform pick without a rank index, so a pick
 * descends the keys of one kind of one collection: where the current
 * branch's first and last keys first differ, it draws a "value" between
 * theirs (byte b is value b + 1; value 0 stands for the branch's prefix
 * when that is a key itself), takes the branch that value leads to (the
 * first one at or after it) and multiplies the probability of the choice
 * into p: the number of values leading to that branch over the number of
 * values. A branch expected to be small is walked and one key of it taken
 * uniformly. The draw is then accepted with probability min(1, 1/(n·p)),
 * which flattens what the descent favours; branches much denser than their
 * siblings stay under-represented.
 *
 * Done with the cursor alone, a level costs a seek, a step back and a seek
 * to the branch's last key, and a big collection's picks all pay for the
 * same upper levels again. So the levels of branches expected to hold at
 * least PICK_NODE_EST keys are remembered: a node keeps the prefix its keys
 * share, the range of values drawn there and the sorted values that lead
 * somewhere (its children), each child either a node again or walked with
 * the cursor. A remembered level costs a binary search in RAM.
 *
 * Deletions never make a node wrong: an emptied child is found empty when
 * the draw reaches it (a miss: the try is drawn again), and the
 * probabilities stay those of the remembered draw. Additions would (a key
 * outside the remembered values could never be drawn), so cm_pick_note_put
 * walks a new key down its collection's nodes and adds the value it takes,
 * or forgets a node whose shared prefix the key does not have. A
 * collection's nodes are also forgotten when it has shrunk to a quarter of
 * its size when they were built, or when most draws miss. Everything here
 * is derived state (keyspace aux slot KS_AUX_PICK): bounded by
 * PICK_MAX_BYTES, dropped at FLUSHDB and with the keyspace. */
#include "storage/cm_pick.h"

#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/t_hash.h"

/* A branch the descent expects to hold at most CM_SCAN_EST keys (n times
 * the probability of reaching it, over the values leading to it) is walked
 * with cursor steps, which cost a small fraction of a seek, instead of being
 * descended further: up to CM_SCAN_CAP keys, one is picked uniformly
 * (reservoir of one) and the branch's exact size enters the probability.
 * That saves the last levels and makes the bottom level exact, so fewer
 * draws are refused. */
#define CM_SCAN_EST 64
#define CM_SCAN_CAP 256
/* Refused draws before the last one is taken. */
#define CM_RAND_TRIES 64

/* Remember a branch expected to hold at least this many keys: building it
 * costs a seek per child, and every later pick through it saves three. */
#define PICK_NODE_EST 256
/* Collections remembered at once (least recently picked goes first). */
#define PICK_ROOTS 8
/* Bound on the malloc'd size of everything remembered; past it, further
 * branches are descended with the cursor. */
#define PICK_MAX_BYTES (8u << 20)

/* Returned by a try that met an emptied branch. */
#define MISS 1

typedef struct pnode {
    struct pnode **sub; /* per child: its node, or NULL (descended with the cursor) */
    uint16_t *val;      /* the children's values, ascending */
    uint16_t nch, cap;
    uint16_t lov, hiv; /* values drawn here: lov..hiv */
    uint16_t p;        /* length of the prefix every key below shares */
    uint8_t pre[];
} pnode;

typedef struct proot {
    uint64_t id;
    uint8_t kind;
    pnode *node;    /* NULL: the slot is free */
    uint64_t n0;    /* the collection's size when the root was built */
    uint64_t used;  /* pcache.clock at the last pick */
    uint64_t draws, misses;
} proot;

typedef struct pcache {
    proot r[PICK_ROOTS];
    uint64_t clock;
    size_t bytes;
    uint64_t nodes, misses;
} pcache;

/* ------------------------------------------------------------------ */
/* cursor helpers                                                      */

/* The last key having prefix p (plen bytes) into out; ST_NOTFOUND if none. */
static int last_with_prefix(store_cursor *c, const uint8_t *p, size_t plen, uint8_t *out,
                            size_t *outlen) {
    uint8_t up[KS_SUBKEY_MAX];
    size_t ul = plen;
    memcpy(up, p, plen);
    while (ul > 0 && up[ul - 1] == 0xff) ul--;
    int rc;
    if (ul == 0) {
        rc = store_cursor_seek_rev(c, NULL, 0);
    } else {
        up[ul - 1]++;
        rc = store_cursor_seek_rev(c, up, ul);
    }
    if (rc) return rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    if ((rc = store_cursor_get(c, &k, &kl, &v, &vl))) return rc;
    if (ul > 0 && kl == ul && memcmp(k, up, ul) == 0) {
        /* seek_rev lands on a key equal to the bound: step before it */
        if ((rc = store_cursor_prev(c))) return rc;
        if ((rc = store_cursor_get(c, &k, &kl, &v, &vl))) return rc;
    }
    if (kl < plen || memcmp(k, p, plen) != 0) return ST_NOTFOUND;
    memcpy(out, k, kl);
    *outlen = kl;
    return ST_OK;
}

/* The first key at or after k (kl bytes), if it starts with the first plen
 * bytes of k: ST_OK with *ok / *okl borrowed from the cursor, ST_NOTFOUND
 * if there is none, or another ST_* error. */
static int first_from(store_cursor *c, const uint8_t *k, size_t kl, size_t plen,
                      const uint8_t **ok, size_t *okl) {
    const uint8_t *v;
    size_t vl;
    int rc = store_cursor_seek(c, k, kl);
    if (rc == ST_OK) rc = store_cursor_get(c, ok, okl, &v, &vl);
    if (rc) return rc;
    if (*okl < plen || *okl > KS_SUBKEY_MAX || memcmp(*ok, k, plen) != 0) return ST_NOTFOUND;
    return ST_OK;
}

/* Walk the branch of keys starting with pre (plen bytes) from the cursor's
 * current entry, its first: 1 with *m its size and pick one of its keys
 * chosen uniformly, or 0 (*m untouched) when it has more than CM_SCAN_CAP
 * entries. */
static int scan_branch(store_cursor *c, const uint8_t *pre, size_t plen, uint8_t *pick,
                       size_t *pickl, unsigned *m) {
    const uint8_t *kk, *v;
    size_t kl, vl;
    unsigned i = 0;
    while (store_cursor_get(c, &kk, &kl, &v, &vl) == ST_OK && kl >= plen &&
           memcmp(kk, pre, plen) == 0 && kl <= KS_SUBKEY_MAX) {
        if (++i > CM_SCAN_CAP) return 0;
        if (cm_rand_below(i) == 0) {
            memcpy(pick, kk, kl);
            *pickl = kl;
        }
        if (store_cursor_next(c) != ST_OK) break;
    }
    *m = i;
    return i > 0;
}

/* ------------------------------------------------------------------ */
/* the descent with the cursor                                         */

/* One descent from the branch [lo0, hi0] (its first and last keys), with
 * *prob the probability of having reached it. Where lo and hi first differ,
 * draw a value between theirs, seek to prefix·byte, and narrow the range to
 * the branch found there (its first and last keys), or walk that branch
 * when it is small (scan_branch). Each round lengthens the shared prefix,
 * so the walk ends within the key length; a round is a seek, a step back
 * (which branch came before) and a seek to the branch's last key or a walk.
 * *prob is multiplied by the exact probability of each choice: per round,
 * the number of drawable values that lead to the branch over the number of
 * values, times 1/size for a walked branch. The key reached goes to lo. */
static int descend(store_cursor *c, const uint8_t *lo0, size_t lol0, const uint8_t *hi0,
                   size_t hil0, uint64_t n, uint8_t *lo, size_t *lolp, double *prob) {
    uint8_t hi[KS_SUBKEY_MAX];
    size_t lol = lol0, hil = hil0;
    const uint8_t *kk, *v;
    size_t kl, vl;
    int rc;
    memcpy(lo, lo0, lol0);
    memcpy(hi, hi0, hil0);
    while (!(lol == hil && memcmp(lo, hi, lol) == 0)) {
        size_t p = 0, m = lol < hil ? lol : hil;
        while (p < m && lo[p] == hi[p]) p++;
        if (p >= hil) break; /* cannot happen for lo < hi; stay safe */
        /* values: 0 = lo itself (when lo is a proper prefix), b+1 = byte b */
        unsigned lov = p == lol ? 0 : lo[p] + 1u;
        unsigned hiv = hi[p] + 1u;
        if (hiv < lov) break;
        unsigned span = hiv - lov + 1;
        unsigned r = lov + (unsigned)cm_rand_below(span);
        if (r == 0) {
            *prob /= span; /* the shorter key itself */
            break;
        }
        uint8_t probe[KS_SUBKEY_MAX];
        memcpy(probe, hi, p);
        probe[p] = (uint8_t)(r - 1);
        if ((rc = store_cursor_seek(c, probe, p + 1))) return rc;
        if ((rc = store_cursor_get(c, &kk, &kl, &v, &vl))) return rc;
        if (kl <= p || kl > KS_SUBKEY_MAX || memcmp(kk, probe, p) != 0) break;
        unsigned bv = kk[p] + 1u;
        memcpy(lo, kk, kl);
        lol = kl;
        /* The values leading here run from just after the previous branch
         * (the key before this one, if still in range) to this one. */
        unsigned from = lov;
        int before = store_cursor_prev(c) == ST_OK;
        if (before && store_cursor_get(c, &kk, &kl, &v, &vl) == ST_OK && kl >= p &&
            memcmp(kk, lo, p) == 0)
            from = (kl == p ? 0 : kk[p] + 1u) + 1;
        unsigned gap = bv >= from ? bv - from + 1 : 1;
        *prob *= (double)gap / span;
        /* A small branch is walked from its first key (one step back); the
         * estimate of its size takes the branches of this byte as even. */
        unsigned size = 0;
        if ((double)n * *prob <= (double)CM_SCAN_EST * gap) {
            rc = before ? store_cursor_next(c) : store_cursor_seek(c, lo, lol);
            if (rc == ST_OK) scan_branch(c, lo, p + 1, hi, &hil, &size);
        }
        if (size) {
            *prob /= size;
            memcpy(lo, hi, hil); /* scan_branch left its pick in hi */
            lol = hil;
            break;
        }
        if ((rc = last_with_prefix(c, lo, p + 1, hi, &hil))) return rc;
    }
    *lolp = lol;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* remembered levels                                                   */

static size_t node_size(size_t p, size_t cap) {
    return sizeof(pnode) + p + cap * (sizeof(pnode *) + sizeof(uint16_t));
}

static void node_free(pcache *pc, pnode *x) {
    if (!x) return;
    for (unsigned i = 0; i < x->nch; i++) node_free(pc, x->sub[i]);
    pc->bytes -= node_size(x->p, x->cap);
    pc->nodes--;
    free(x->sub);
    free(x->val);
    free(x);
}

/* Make room for one more child at index i (the ones from i move up). */
static int node_insert(pcache *pc, pnode *x, unsigned i, unsigned v) {
    if (x->nch == x->cap) {
        unsigned nc = x->cap * 2;
        pnode **ns = realloc(x->sub, nc * sizeof *ns);
        if (!ns) return ST_NOMEM;
        x->sub = ns;
        uint16_t *nv = realloc(x->val, nc * sizeof *nv);
        if (!nv) return ST_NOMEM;
        x->val = nv;
        pc->bytes += node_size(x->p, nc) - node_size(x->p, x->cap);
        x->cap = (uint16_t)nc;
    }
    memmove(x->sub + i + 1, x->sub + i, (x->nch - i) * sizeof *x->sub);
    memmove(x->val + i + 1, x->val + i, (x->nch - i) * sizeof *x->val);
    x->sub[i] = NULL;
    x->val[i] = (uint16_t)v;
    x->nch++;
    return ST_OK;
}

/* The first child whose value is >= v (nch if none). */
static unsigned child_at(const pnode *x, unsigned v) {
    unsigned a = 0, b = x->nch;
    while (a < b) {
        unsigned mid = (a + b) / 2;
        if (x->val[mid] < v) a = mid + 1;
        else b = mid;
    }
    return a;
}

/* A node for the branch whose first and last keys are lo < hi: its shared
 * prefix, the values drawn there, and its children, found by one seek each.
 * *out is NULL (and ST_OK) when the bound leaves no room. */
static int node_build(pcache *pc, store_cursor *c, const uint8_t *lo, size_t lol,
                      const uint8_t *hi, size_t hil, pnode **out) {
    *out = NULL;
    size_t p = 0, m = lol < hil ? lol : hil;
    while (p < m && lo[p] == hi[p]) p++;
    if (p >= hil || pc->bytes + node_size(p, 16) > PICK_MAX_BYTES) return ST_OK;
    pnode *x = calloc(1, sizeof *x + p);
    if (!x) return ST_NOMEM;
    x->sub = calloc(16, sizeof *x->sub);
    x->val = calloc(16, sizeof *x->val);
    if (!x->sub || !x->val) {
        free(x->sub);
        free(x->val);
        free(x);
        return ST_NOMEM;
    }
    x->cap = 16;
    x->p = (uint16_t)p;
    memcpy(x->pre, hi, p);
    x->lov = (uint16_t)(p == lol ? 0 : lo[p] + 1u);
    x->hiv = (uint16_t)(hi[p] + 1u);
    pc->bytes += node_size(p, x->cap);
    pc->nodes++;
    int rc = node_insert(pc, x, 0, x->lov);
    /* The child after value v starts at the first key >= prefix · byte v
     * (prefix · 0 after the prefix itself, v = 0). */
    uint8_t probe[KS_SUBKEY_MAX];
    memcpy(probe, hi, p);
    for (unsigned v = x->lov; rc == ST_OK && v < 256;) {
        probe[p] = (uint8_t)v;
        const uint8_t *kk;
        size_t kl;
        rc = first_from(c, probe, p + 1, p, &kk, &kl);
        if (rc == ST_NOTFOUND || (rc == ST_OK && kl == p)) {
            rc = ST_OK;
            break;
        }
        if (rc) break;
        v = kk[p] + 1u;
        if (v > x->hiv) break; /* past hi: cannot happen, hi is the last */
        rc = node_insert(pc, x, x->nch, v);
    }
    if (rc) {
        node_free(pc, x);
        return rc;
    }
    *out = x;
    return ST_OK;
}

static void root_drop(pcache *pc, proot *r) {
    node_free(pc, r->node);
    memset(r, 0, sizeof *r);
}

static void pcache_free(void *p) {
    pcache *pc = p;
    for (int i = 0; i < PICK_ROOTS; i++) root_drop(pc, &pc->r[i]);
    free(pc);
}

static proot *root_find(pcache *pc, uint64_t id, uint8_t kind) {
    if (!pc) return NULL;
    for (int i = 0; i < PICK_ROOTS; i++)
        if (pc->r[i].node && pc->r[i].id == id && pc->r[i].kind == kind) return &pc->r[i];
    return NULL;
}

/* A slot for a new root: a free one, else the least recently picked. */
static proot *root_slot(pcache *pc) {
    proot *best = &pc->r[0];
    for (int i = 0; i < PICK_ROOTS; i++) {
        if (!pc->r[i].node) return &pc->r[i];
        if (pc->r[i].used < best->used) best = &pc->r[i];
    }
    root_drop(pc, best);
    return best;
}

/* One try through the remembered levels from r: ST_OK with the key and
 * *prob its probability, MISS if the draw met an emptied branch, or an
 * ST_* error. Below the remembered levels the branch reached is walked, or
 * remembered (when big enough), or descended with the cursor. */
static int try_cached(pcache *pc, proot *r, store_cursor *c, uint64_t n, double *prob,
                      uint8_t *key, size_t *kl) {
    pnode *x = r->node;
    uint8_t cp[KS_SUBKEY_MAX], hi[KS_SUBKEY_MAX];
    const uint8_t *kk;
    size_t kkl, hil;
    int rc;
    *prob = 1.0;
    for (;;) {
        unsigned span = x->hiv - x->lov + 1u;
        unsigned v = x->lov + (unsigned)cm_rand_below(span);
        unsigned i = child_at(x, v);
        if (i == x->nch) return MISS;
        unsigned from = i ? x->val[i - 1] + 1u : x->lov;
        unsigned gap = x->val[i] - from + 1u;
        *prob *= (double)gap / span;
        memcpy(cp, x->pre, x->p);
        if (x->val[i] == 0) {
            /* the prefix itself, if it is still a key */
            rc = first_from(c, cp, x->p, x->p, &kk, &kkl);
            if (rc == ST_NOTFOUND || (rc == ST_OK && kkl != x->p)) return MISS;
            if (rc) return rc;
            memcpy(key, cp, x->p);
            *kl = x->p;
            return ST_OK;
        }
        cp[x->p] = (uint8_t)(x->val[i] - 1u);
        size_t cpl = x->p + 1u;
        if (x->sub[i]) {
            x = x->sub[i];
            continue;
        }
        rc = first_from(c, cp, cpl, cpl, &kk, &kkl);
        if (rc == ST_NOTFOUND) return MISS;
        if (rc) return rc;
        memcpy(key, kk, kkl);
        *kl = kkl;
        double est = (double)n * *prob / gap;
        unsigned size = 0;
        if (est <= CM_SCAN_EST && scan_branch(c, cp, cpl, hi, &hil, &size)) {
            *prob /= size;
            memcpy(key, hi, hil);
            *kl = hil;
            return ST_OK;
        }
        if ((rc = last_with_prefix(c, cp, cpl, hi, &hil))) return rc == ST_NOTFOUND ? MISS : rc;
        if (*kl == hil && memcmp(key, hi, hil) == 0) return ST_OK; /* a single key */
        if (est >= PICK_NODE_EST) {
            pnode *nx;
            if ((rc = node_build(pc, c, key, *kl, hi, hil, &nx))) return rc;
            if (nx) {
                x->sub[i] = nx;
                x = nx;
                continue;
            }
        }
        uint8_t lo[KS_SUBKEY_MAX];
        memcpy(lo, key, *kl);
        return descend(c, lo, *kl, hi, hil, n, key, kl, prob);
    }
}

/* The draw's acceptance: min(1, 1/(n * p)). */
static int accept(uint64_t n, double p) {
    if (n <= 1 || p * (double)n <= 1.0) return 1;
    return (double)(cm_rand64() >> 11) * 0x1.0p-53 * p * (double)n < 1.0;
}

int cm_pick_key(ks *k, store_cursor *c, const uint8_t pre[9], uint64_t n, uint8_t *key,
                size_t *kl) {
    pcache *pc = ks_aux_slot(k, KS_AUX_PICK);
    uint64_t id = be64_get(pre);
    proot *r = root_find(pc, id, pre[8]);
    if (r && n < r->n0 / 4) {
        root_drop(pc, r); /* mostly emptied since: learn it again */
        r = NULL;
    }
    int rc;
    uint8_t lo0[KS_SUBKEY_MAX], hi0[KS_SUBKEY_MAX];
    size_t lol0, hil0;
    const uint8_t *kk;
    size_t kkl;
    if (!r) {
        /* The kind's first and last keys. */
        if ((rc = first_from(c, pre, 9, 9, &kk, &kkl))) return rc;
        memcpy(lo0, kk, kkl);
        lol0 = kkl;
        if ((rc = last_with_prefix(c, pre, 9, hi0, &hil0))) return rc;
        if (lol0 == hil0 && memcmp(lo0, hi0, lol0) == 0) {
            memcpy(key, lo0, lol0);
            *kl = lol0;
            return ST_OK;
        }
        if (n >= PICK_NODE_EST) {
            if (!pc) {
                if (!(pc = calloc(1, sizeof *pc))) return ST_NOMEM;
                ks_set_aux_slot(k, KS_AUX_PICK, pc, pcache_free);
            }
            pnode *x;
            if ((rc = node_build(pc, c, lo0, lol0, hi0, hil0, &x))) return rc;
            if (x) {
                r = root_slot(pc);
                r->id = id;
                r->kind = pre[8];
                r->node = x;
                r->n0 = n;
            }
        }
    }
    double p;
    int have = 0;
    if (r) {
        r->used = ++pc->clock;
        for (int t = 0; t < CM_RAND_TRIES; t++) {
            r->draws++;
            rc = try_cached(pc, r, c, n, &p, key, kl);
            if (rc == MISS) {
                r->misses++;
                pc->misses++;
                continue;
            }
            if (rc) return rc;
            have = 1;
            if (accept(n, p)) break;
        }
        /* Mostly misses: what is remembered is stale; learn it again. */
        if (r->draws >= 256 && r->misses * 2 > r->draws) root_drop(pc, r);
        if (have) return ST_OK;
        /* Every try missed: descend with the cursor below. */
        if ((rc = first_from(c, pre, 9, 9, &kk, &kkl))) return rc;
        memcpy(lo0, kk, kkl);
        lol0 = kkl;
        if ((rc = last_with_prefix(c, pre, 9, hi0, &hil0))) return rc;
    }
    for (int t = 0; t < CM_RAND_TRIES; t++) {
        p = 1.0;
        if ((rc = descend(c, lo0, lol0, hi0, hil0, n, key, kl, &p))) return rc;
        if (accept(n, p)) break;
    }
    return ST_OK;
}

void cm_pick_note_put(ks *k, const uint8_t *key, size_t kl) {
    pcache *pc = ks_aux_slot(k, KS_AUX_PICK);
    if (!pc || kl < 9) return;
    proot *r = root_find(pc, be64_get(key), key[8]);
    if (!r) return;
    pnode **at = &r->node;
    for (;;) {
        pnode *x = *at;
        if (kl < x->p || memcmp(key, x->pre, x->p) != 0) {
            /* The key leaves the prefix this level was built on. */
            if (at == &r->node) root_drop(pc, r);
            else {
                node_free(pc, x);
                *at = NULL;
            }
            return;
        }
        unsigned v = kl == x->p ? 0 : key[x->p] + 1u;
        unsigned i = child_at(x, v);
        if (i < x->nch && x->val[i] == v) {
            if (!x->sub[i]) return; /* descended with the cursor: it will be seen */
            at = &x->sub[i];
            continue;
        }
        if (node_insert(pc, x, i, v) != ST_OK) {
            root_drop(pc, r); /* out of memory: forget rather than miss the key */
            return;
        }
        if (v < x->lov) x->lov = (uint16_t)v;
        if (v > x->hiv) x->hiv = (uint16_t)v;
        return;
    }
}

void cm_pick_get_stats(ks *k, cm_pick_stats *out) {
    memset(out, 0, sizeof *out);
    pcache *pc = ks_aux_slot(k, KS_AUX_PICK);
    if (!pc) return;
    for (int i = 0; i < PICK_ROOTS; i++) out->roots += pc->r[i].node != NULL;
    out->nodes = pc->nodes;
    out->bytes = pc->bytes;
    out->misses = pc->misses;
}
