/* t_zset_rankmem.c — RAM copies of zset rank indexes: per zset id, each
 * level's fences as a sorted array of (position, count), so a rank descent
 * or a write's fence lookups are binary searches in RAM instead of B-tree
 * seeks through the memtables and LMDB (see t_zset_rankmem.h for when a
 * copy exists and why it stays exact).
 *
 * The registry hangs on the keyspace (ks_set_aux): a hash of id -> copy and
 * a recency list for eviction. Sizes: one 16-byte array slot plus one small
 * allocation per fence, about N / 64 level-1 fences for N members (~50
 * bytes each), so a 10M-member zset's copy is a few MB. Arrays are edited
 * in place (a split inserts, a merge removes: memmove of at most the level's
 * length, once per ~B member writes). */
#include "storage/t_zset_rankmem.h"

#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"

#include "storage/t_zset.h"
#include "storage/t_zset_rank.h"

#define LEVELS TZ_RANK_LEVELS

typedef struct tpos {
    uint8_t enc[8];
    uint32_t mlen;
    uint8_t m[];
} tpos;

typedef struct tent {
    uint64_t score; /* score64 as an integer: searches compare it first, in the array */
    tpos *p;        /* NULL: the head */
    uint64_t count;
} tent;

typedef struct tlvl {
    tent *e;
    size_t n, cap;
} tlvl;

struct tzm {
    uint64_t id;
    int stub;   /* too big for the bound: remembered so it is not rebuilt */
    int hashed; /* the zset may hold hashed (long) members */
    int backlog;          /* some level-1 block waits for its split */
    uint64_t settled_gen; /* memtable generation of the last settling */
    tlvl lv[LEVELS + 1];
    size_t bytes;
    struct tzm *hnext;         /* hash chain */
    struct tzm *newer, *older; /* recency list */
};

typedef struct reg {
    tzm **tab;
    size_t cap, n;
    tzm *newest, *oldest;
    size_t bytes;
} reg;

static size_t max_bytes = TZ_RANKMEM_MAX;

void tz_rankmem_set_max(size_t bytes) {
    max_bytes = bytes && bytes < TZ_RANKMEM_MAX ? bytes : TZ_RANKMEM_MAX;
}

/* What one allocation of n bytes costs the heap (glibc: 8 bytes of header,
 * 16-byte granules, 32 at least). */
static size_t heap_cost(size_t n) {
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static size_t pos_cost(const tpos *p) {
    return p ? heap_cost(sizeof *p + p->mlen) : 0;
}

void tzm_free(tzm *t) {
    if (!t) return;
    for (int l = 1; l <= LEVELS; l++) {
        for (size_t i = 0; i < t->lv[l].n; i++) free(t->lv[l].e[i].p);
        free(t->lv[l].e);
    }
    free(t);
}

/* ------------------------------------------------------------------ */
/* the registry                                                         */

static size_t slot(const reg *r, uint64_t id) {
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (r->cap - 1);
}

static void reg_free(void *p) {
    reg *r = p;
    for (size_t i = 0; i < r->cap; i++) {
        tzm *t = r->tab[i];
        while (t) {
            tzm *nx = t->hnext;
            tzm_free(t);
            t = nx;
        }
    }
    free(r->tab);
    free(r);
}

static reg *reg_of(ks *k, int create) {
    reg *r = ks_aux(k);
    if (r || !create) return r;
    if (!(r = calloc(1, sizeof *r))) return NULL;
    r->cap = 64;
    if (!(r->tab = calloc(r->cap, sizeof *r->tab))) {
        free(r);
        return NULL;
    }
    ks_set_aux(k, r, reg_free);
    return r;
}

static void lru_unlink(reg *r, tzm *t) {
    if (t->newer) t->newer->older = t->older;
    else r->newest = t->older;
    if (t->older) t->older->newer = t->newer;
    else r->oldest = t->newer;
    t->newer = t->older = NULL;
}

static void lru_front(reg *r, tzm *t) {
    t->older = r->newest;
    t->newer = NULL;
    if (r->newest) r->newest->newer = t;
    r->newest = t;
    if (!r->oldest) r->oldest = t;
}

static tzm **find_slot(reg *r, uint64_t id) {
    tzm **pp = &r->tab[slot(r, id)];
    while (*pp && (*pp)->id != id) pp = &(*pp)->hnext;
    return pp;
}

static void unhold(reg *r, tzm *t) {
    tzm **pp = find_slot(r, t->id);
    if (*pp == t) *pp = t->hnext;
    lru_unlink(r, t);
    r->n--;
    r->bytes -= t->bytes;
    tzm_free(t);
}

tzm *tzm_peek(ks *k, uint64_t id) {
    reg *r = reg_of(k, 0);
    if (!r) return NULL;
    tzm *t = *find_slot(r, id);
    if (t && r->newest != t) {
        lru_unlink(r, t);
        lru_front(r, t);
    }
    return t;
}

void tzm_drop(ks *k, uint64_t id) {
    reg *r = reg_of(k, 0);
    tzm *t = r ? *find_slot(r, id) : NULL;
    if (t) unhold(r, t);
}

static void grow_tab(reg *r) {
    size_t nc = r->cap * 2;
    tzm **nt = calloc(nc, sizeof *nt);
    if (!nt) return; /* longer chains, still correct */
    tzm **old = r->tab;
    size_t oc = r->cap;
    r->tab = nt;
    r->cap = nc;
    for (size_t i = 0; i < oc; i++) {
        tzm *t = old[i];
        while (t) {
            tzm *nx = t->hnext;
            size_t s = slot(r, t->id);
            t->hnext = nt[s];
            nt[s] = t;
            t = nx;
        }
    }
    free(old);
}

/* Evict the least recently used copies until `need` more bytes fit. */
static void make_room(reg *r, size_t need, const tzm *keep) {
    while (r->bytes + need > max_bytes && r->oldest && r->oldest != keep) unhold(r, r->oldest);
}

/* ------------------------------------------------------------------ */
/* building                                                             */

tzm *tzm_begin(uint64_t id) {
    tzm *t = calloc(1, sizeof *t);
    if (t) {
        t->id = id;
        t->bytes = heap_cost(sizeof *t);
    }
    return t;
}

static tpos *pos_new(const uint8_t *enc, const uint8_t *m, size_t ml) {
    if (!enc) return NULL;
    tpos *p = malloc(sizeof *p + (ml ? ml : 1));
    if (!p) return NULL;
    memcpy(p->enc, enc, 8);
    p->mlen = (uint32_t)ml;
    if (ml) memcpy(p->m, m, ml);
    return p;
}

static int reserve(tzm *t, tlvl *v, size_t n) {
    if (n <= v->cap) return ST_OK;
    size_t nc = v->cap ? v->cap * 2 : 8;
    while (nc < n) nc *= 2;
    tent *ne = realloc(v->e, nc * sizeof *ne);
    if (!ne) return ST_NOMEM;
    t->bytes += heap_cost(nc * sizeof *ne) - (v->cap ? heap_cost(v->cap * sizeof *ne) : 0);
    v->e = ne;
    v->cap = nc;
    return ST_OK;
}

/* Insert (p, count) at index i of level l (p owned by the copy). */
static int insert_at(tzm *t, int l, size_t i, tpos *p, uint64_t count) {
    tlvl *v = &t->lv[l];
    if (reserve(t, v, v->n + 1)) return ST_NOMEM;
    memmove(v->e + i + 1, v->e + i, (v->n - i) * sizeof *v->e);
    v->e[i].score = p ? be64_get(p->enc) : 0;
    v->e[i].p = p;
    v->e[i].count = count;
    v->n++;
    t->bytes += pos_cost(p);
    return ST_OK;
}

int tzm_add(tzm *t, int level, const uint8_t *enc, const uint8_t *m, size_t ml, uint64_t count) {
    tpos *p = pos_new(enc, m, ml);
    if (enc && !p) return ST_NOMEM;
    int rc = insert_at(t, level, t->lv[level].n, p, count);
    if (rc) free(p);
    return rc;
}

int tzm_full(const tzm *t) {
    return t->bytes > max_bytes;
}

int tzm_is_stub(const tzm *t) {
    return t->stub;
}

tzm *tzm_install(ks *k, tzm *t) {
    reg *r = reg_of(k, 1);
    if (!r) {
        tzm_free(t);
        return NULL;
    }
    tzm_drop(k, t->id);
    tzm *ret = t;
    if (t->bytes > max_bytes || t->stub) {
        /* Keep only the id, so the next access reads the store instead of
         * trying again. */
        uint64_t id = t->id;
        tzm_free(t);
        if (!(t = tzm_begin(id))) return NULL;
        t->stub = 1;
        ret = NULL;
    }
    make_room(r, t->bytes, NULL);
    if (r->n + 1 > r->cap) grow_tab(r);
    tzm **pp = &r->tab[slot(r, t->id)];
    t->hnext = *pp;
    *pp = t;
    lru_front(r, t);
    r->n++;
    r->bytes += t->bytes;
    return ret;
}

void tzm_refuse(ks *k, uint64_t id) {
    tzm *t = tzm_begin(id);
    if (!t) {
        tzm_drop(k, id);
        return;
    }
    t->stub = 1;
    tzm_install(k, t);
}

size_t tz_rankmem_bytes(ks *k) {
    reg *r = reg_of(k, 0);
    return r ? r->bytes : 0;
}

/* ------------------------------------------------------------------ */
/* reading                                                              */

size_t tzm_len(const tzm *t, int level) {
    return t->lv[level].n;
}

uint64_t tzm_count(const tzm *t, int level, size_t i) {
    return t->lv[level].e[i].count;
}

int tzm_pos(const tzm *t, int level, size_t i, const uint8_t **enc, const uint8_t **m,
            size_t *ml) {
    const tpos *p = t->lv[level].e[i].p;
    if (!p) return 0;
    *enc = p->enc;
    *m = p->m;
    *ml = p->mlen;
    return 1;
}

/* Entry i against (enc, m), whose score64 as an integer is s; the head is
 * below everything. The member is read only on equal scores. */
static int ent_cmp(const tlvl *v, size_t i, uint64_t s, const uint8_t *enc, const uint8_t *m,
                   size_t ml) {
    const tent *e = &v->e[i];
    if (!e->p) return enc ? -1 : 0;
    if (!enc) return 1;
    if (e->score != s) return e->score < s ? -1 : 1;
    size_t n = e->p->mlen < ml ? e->p->mlen : ml;
    int c = n ? memcmp(e->p->m, m, n) : 0;
    if (c) return c;
    return e->p->mlen < ml ? -1 : e->p->mlen > ml;
}

size_t tzm_block(const tzm *t, int level, const uint8_t enc[8], const uint8_t *m, size_t ml) {
    const tlvl *v = &t->lv[level];
    uint64_t s = be64_get(enc);
    /* Entry 0 (the head) is <= everything: find the first entry > target. */
    size_t lo = 1, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ent_cmp(v, mid, s, enc, m, ml) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

/* Same position (the head is only itself)? */
static int same_pos(const tent *a, const tent *b) {
    if (!a->p || !b->p) return a->p == b->p;
    return a->score == b->score && a->p->mlen == b->p->mlen &&
           memcmp(a->p->m, b->p->m, a->p->mlen) == 0;
}

int tzm_locate(const tzm *t, uint64_t count, const uint8_t enc[8], const uint8_t *m, size_t ml,
               size_t *at, uint64_t *acc) {
    const tlvl *v = &t->lv[LEVELS];
    size_t i = tzm_block(t, LEVELS, enc, m, ml);
    uint64_t total = 0, a = 0;
    for (size_t j = 0; j < v->n; j++) {
        if (j == i) a = total;
        total += v->e[j].count;
    }
    if (total != count) return ST_CORRUPT;
    const tent *up = &v->e[i];
    for (int l = LEVELS - 1; l >= 1; l--) {
        v = &t->lv[l];
        i = tzm_block(t, l, enc, m, ml);
        /* The blocks before i inside the block above: back to its fence. */
        for (size_t j = i; !same_pos(&v->e[j], up);) {
            if (j == 0) return ST_CORRUPT;
            a += v->e[--j].count;
        }
        up = &v->e[i];
    }
    *at = i;
    *acc = a;
    return ST_OK;
}

long tzm_find(const tzm *t, int level, const uint8_t *enc, const uint8_t *m, size_t ml) {
    if (t->lv[level].n == 0) return -1;
    if (!enc) return 0;
    size_t i = tzm_block(t, level, enc, m, ml);
    return ent_cmp(&t->lv[level], i, be64_get(enc), enc, m, ml) == 0 ? (long)i : -1;
}

/* ------------------------------------------------------------------ */
/* mirroring the store                                                  */

void tzm_note_put(ks *k, uint64_t id, int level, const uint8_t *enc, const uint8_t *m, size_t ml,
                  uint64_t count) {
    tzm *t = tzm_peek(k, id);
    if (!t || t->stub) return;
    tlvl *v = &t->lv[level];
    if (!enc) {
        if (v->n) {
            v->e[0].count = count;
            return;
        }
        /* A copy is built only from a whole index: a missing head means
         * it cannot follow. */
        tzm_drop(k, id);
        return;
    }
    size_t i = v->n ? tzm_block(t, level, enc, m, ml) : 0;
    if (v->n && ent_cmp(v, i, be64_get(enc), enc, m, ml) == 0) {
        v->e[i].count = count;
        return;
    }
    reg *r = reg_of(k, 0);
    size_t before = t->bytes;
    tpos *p = pos_new(enc, m, ml);
    if (!p || !v->n || insert_at(t, level, i + 1, p, count)) {
        free(p);
        tzm_drop(k, id);
        return;
    }
    r->bytes += t->bytes - before;
    if (r->bytes > max_bytes) {
        make_room(r, 0, t);
        if (r->bytes > max_bytes) tzm_drop(k, id);
    }
}

void tzm_note_del(ks *k, uint64_t id, int level, const uint8_t *enc, const uint8_t *m,
                  size_t ml) {
    tzm *t = tzm_peek(k, id);
    if (!t || t->stub) return;
    long i = enc ? tzm_find(t, level, enc, m, ml) : -1;
    if (i <= 0) {
        tzm_drop(k, id); /* the head, or a fence it never had */
        return;
    }
    tlvl *v = &t->lv[level];
    reg *r = reg_of(k, 0);
    size_t c = pos_cost(v->e[i].p);
    free(v->e[i].p);
    memmove(v->e + i, v->e + i + 1, (v->n - (size_t)i - 1) * sizeof *v->e);
    v->n--;
    t->bytes -= c;
    r->bytes -= c;
}

void tzm_set_backlog(tzm *t, int on) {
    t->backlog = on;
}

int tzm_backlog(const tzm *t) {
    return t->backlog;
}

uint64_t tzm_settled_gen(const tzm *t) {
    return t->settled_gen;
}

void tzm_set_settled_gen(tzm *t, uint64_t gen) {
    t->settled_gen = gen;
}

void tzm_set_hashed(tzm *t) {
    t->hashed = 1;
}

int tzm_hashed(const tzm *t) {
    return t->hashed;
}

int tzm_same(const tzm *a, const tzm *b) {
    if (a->hashed < b->hashed) return 0; /* a copy may only err towards "maybe" */
    for (int l = 1; l <= LEVELS; l++) {
        const tlvl *x = &a->lv[l], *y = &b->lv[l];
        if (x->n != y->n) return 0;
        for (size_t i = 0; i < x->n; i++) {
            const tpos *p = x->e[i].p, *q = y->e[i].p;
            if (x->e[i].count != y->e[i].count || !p != !q) return 0;
            if (p && (p->mlen != q->mlen || memcmp(p->enc, q->enc, 8) ||
                      memcmp(p->m, q->m, p->mlen)))
                return 0;
        }
    }
    return 1;
}
