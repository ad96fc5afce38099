/* objcache.c — bounded CLOCK cache of LMDB point lookups; see objcache.h.
 *
 * Layout: entries are single allocations (header, key, value) chained in a
 * power-of-two bucket array (load factor at most 1, doubled as it fills),
 * and listed in a dense ring that the CLOCK hand walks. Removing an entry
 * moves the ring's last entry into its place, which perturbs the clock order
 * slightly and keeps removal O(1). Entries that leave (drop, eviction, clear)
 * go to a graveyard instead of free(): a caller may still hold the value
 * oc_get() returned until the end of the tick. */
#include "storage/objcache.h"

#include <stdlib.h>
#include <string.h>

#include "storage/hash64.h"

#define ITEM_MAX    (64u << 10) /* larger values are read from LMDB each time */
#define LFU_MAX     7           /* GCLOCK counter ceiling: at most 8 sweeps to leave */
#define MIN_BUCKETS 64

typedef struct oc_entry {
    struct oc_entry *next; /* bucket chain, then the graveyard's list */
    uint64_t h;
    uint32_t klen, vlen;
    uint32_t slot;         /* index in the ring */
    uint8_t dbi;
    uint8_t ref;           /* LRU: referenced bit; LFU: counter */
    uint8_t data[];        /* key bytes, then value bytes */
} oc_entry;

struct objcache {
    uint32_t dbi_mask;
    int lfu;
    oc_entry **bucket;
    size_t nbucket;
    oc_entry **ring;
    size_t n, ringcap, hand;
    oc_entry *grave;
    size_t bytes;       /* entries' cost (tables counted in table_bytes) */
    size_t grave_bytes;
    size_t max;
    uint64_t hits, misses, fills, evictions;
};

/* What an entry costs the heap: its allocation rounded as malloc does,
 * with the allocator's header. */
static size_t cost(size_t klen, size_t vlen) {
    size_t n = sizeof(oc_entry) + klen + vlen + 8;
    return (n + 15) & ~(size_t)15;
}

/* The cache's own structure: bucket array and ring. */
static size_t table_bytes(const objcache *c) {
    return sizeof *c + (c->nbucket + c->ringcap) * sizeof(oc_entry *);
}

static int cached_dbi(const objcache *c, int dbi) {
    return dbi >= 0 && dbi < 32 && (c->dbi_mask & (1u << dbi));
}

objcache *oc_new(uint32_t dbi_mask, size_t max_bytes) {
    objcache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->dbi_mask = dbi_mask;
    c->max = max_bytes;
    c->nbucket = MIN_BUCKETS;
    c->bucket = calloc(c->nbucket, sizeof *c->bucket);
    if (!c->bucket) {
        free(c);
        return NULL;
    }
    return c;
}

static void shrink_tables(objcache *c);

void oc_release(objcache *c) {
    while (c->grave) {
        oc_entry *e = c->grave;
        c->grave = e->next;
        free(e);
    }
    c->grave_bytes = 0;
    shrink_tables(c);
}

void oc_free(objcache *c) {
    if (!c) return;
    oc_clear(c);
    oc_release(c);
    free(c->bucket);
    free(c->ring);
    free(c);
}

static oc_entry **find_link(objcache *c, uint64_t h, int dbi, const void *k, size_t klen) {
    oc_entry **l = &c->bucket[h & (c->nbucket - 1)];
    for (; *l; l = &(*l)->next) {
        oc_entry *e = *l;
        if (e->h == h && e->dbi == dbi && e->klen == klen && memcmp(e->data, k, klen) == 0)
            return l;
    }
    return NULL;
}

/* Unlink *l from its chain and the ring; bury it. */
static void bury(objcache *c, oc_entry **l) {
    oc_entry *e = *l;
    *l = e->next;
    oc_entry *last = c->ring[--c->n];
    c->ring[e->slot] = last;
    last->slot = e->slot;
    if (c->hand >= c->n) c->hand = 0;
    size_t sz = cost(e->klen, e->vlen);
    c->bytes -= sz;
    c->grave_bytes += sz;
    e->next = c->grave;
    c->grave = e;
}

static void bury_entry(objcache *c, oc_entry *e) {
    oc_entry **l = &c->bucket[e->h & (c->nbucket - 1)];
    while (*l != e) l = &(*l)->next;
    bury(c, l);
}

/* CLOCK: advance the hand, clearing (LRU) or decrementing (LFU) references,
 * and evict the first entry found unreferenced, until `need` more bytes fit. */
static void make_room(objcache *c, size_t need) {
    while (c->n && c->bytes + table_bytes(c) + need > c->max) {
        oc_entry *e = c->ring[c->hand];
        if (e->ref) {
            e->ref = c->lfu ? (uint8_t)(e->ref - 1) : 0;
            if (++c->hand >= c->n) c->hand = 0;
            continue;
        }
        bury_entry(c, e);
        c->evictions++;
    }
}

int oc_get(objcache *c, int dbi, const void *k, size_t klen, const uint8_t **v, size_t *vlen) {
    if (!cached_dbi(c, dbi)) return 0;
    if (c->n == 0) {
        c->misses++;
        return 0;
    }
    oc_entry **l = find_link(c, hash64_tagged(dbi, k, klen), dbi, k, klen);
    if (!l) {
        c->misses++;
        return 0;
    }
    oc_entry *e = *l;
    if (c->lfu) {
        if (e->ref < LFU_MAX) e->ref++;
    } else {
        e->ref = 1;
    }
    c->hits++;
    *v = e->data + e->klen;
    *vlen = e->vlen;
    return 1;
}

int oc_contains(objcache *c, int dbi, const void *k, size_t klen) {
    if (!cached_dbi(c, dbi) || c->n == 0) return 0;
    return find_link(c, hash64_tagged(dbi, k, klen), dbi, k, klen) != NULL;
}

/* Rebuild the chains in a table of nb buckets, from the ring (O(n), not
 * O(buckets)). */
static void resize_buckets(objcache *c, size_t nb) {
    oc_entry **b = calloc(nb, sizeof *b);
    if (!b) return; /* longer chains (or a larger table), still correct */
    for (size_t i = 0; i < c->n; i++) {
        oc_entry *e = c->ring[i];
        size_t j = e->h & (nb - 1);
        e->next = b[j];
        b[j] = e;
    }
    free(c->bucket);
    c->bucket = b;
    c->nbucket = nb;
}

/* Writes drop entries and never fill: after a read-heavy phase the table
 * can be sized for ten times the entries left, and every write's probe
 * (store_get's lookup of the value it replaces, then the drop) misses the
 * CPU cache on a bucket array of megabytes. So it shrinks when a quarter
 * of its buckets would do (and the ring with it); called between ticks. */
static void shrink_tables(objcache *c) {
    if (c->nbucket > MIN_BUCKETS && c->n * 8 < c->nbucket) {
        size_t nb = MIN_BUCKETS;
        while (nb < c->n * 2) nb *= 2;
        resize_buckets(c, nb);
    }
    if (c->ringcap > 64 && c->n * 8 < c->ringcap) {
        size_t nc = 64;
        while (nc < c->n * 2) nc *= 2;
        oc_entry **r = realloc(c->ring, nc * sizeof *r);
        if (r) {
            c->ring = r;
            c->ringcap = nc;
        }
    }
}

void oc_fill(objcache *c, int dbi, const void *k, size_t klen, const void *v, size_t vlen) {
    if (!cached_dbi(c, dbi)) return;
    size_t item_max = c->max / 16 < ITEM_MAX ? c->max / 16 : ITEM_MAX;
    if (klen + vlen > item_max || klen > UINT32_MAX || vlen > UINT32_MAX) return;
    if (c->grave_bytes > c->max / 8) return;
    uint64_t h = hash64_tagged(dbi, k, klen);
    oc_entry **l = find_link(c, h, dbi, k, klen);
    if (l) bury(c, l);
    size_t sz = cost(klen, vlen);
    make_room(c, sz);
    if (c->bytes + table_bytes(c) + sz > c->max) return;
    if (c->n == c->ringcap) {
        size_t nc = c->ringcap ? c->ringcap * 2 : 64;
        oc_entry **r = realloc(c->ring, nc * sizeof *r);
        if (!r) return;
        c->ring = r;
        c->ringcap = nc;
    }
    oc_entry *e = malloc(sizeof *e + klen + vlen);
    if (!e) return;
    e->h = h;
    e->klen = (uint32_t)klen;
    e->vlen = (uint32_t)vlen;
    e->dbi = (uint8_t)dbi;
    e->ref = 0; /* must be read again to outlive the hand's next pass */
    memcpy(e->data, k, klen);
    if (vlen) memcpy(e->data + klen, v, vlen);
    e->slot = (uint32_t)c->n;
    c->ring[c->n++] = e;
    oc_entry **b = &c->bucket[h & (c->nbucket - 1)];
    e->next = *b;
    *b = e;
    c->bytes += sz;
    c->fills++;
    if (c->n > c->nbucket) resize_buckets(c, c->nbucket * 2);
}

void oc_drop(objcache *c, int dbi, const void *k, size_t klen) {
    if (c->n == 0 || !cached_dbi(c, dbi)) return;
    oc_entry **l = find_link(c, hash64_tagged(dbi, k, klen), dbi, k, klen);
    if (l) bury(c, l);
}

void oc_clear(objcache *c) {
    for (size_t i = 0; i < c->n; i++) {
        oc_entry *e = c->ring[i];
        e->next = c->grave;
        c->grave = e;
        c->grave_bytes += cost(e->klen, e->vlen);
    }
    c->n = 0;
    c->hand = 0;
    c->bytes = 0;
    memset(c->bucket, 0, c->nbucket * sizeof *c->bucket);
    /* Give the tables back too: the cache refills at its own pace. */
    oc_entry **b = calloc(MIN_BUCKETS, sizeof *b);
    if (b) {
        free(c->bucket);
        c->bucket = b;
        c->nbucket = MIN_BUCKETS;
    }
    free(c->ring);
    c->ring = NULL;
    c->ringcap = 0;
}

void oc_set_max(objcache *c, size_t max_bytes) {
    c->max = max_bytes;
    make_room(c, 0);
}

size_t oc_max(const objcache *c) {
    return c->max;
}

size_t oc_bytes(const objcache *c) {
    return c->bytes + table_bytes(c);
}

void oc_set_lfu(objcache *c, int lfu) {
    c->lfu = lfu != 0;
}

void oc_get_stats(const objcache *c, oc_stats *out) {
    out->entries = c->n;
    out->bytes = oc_bytes(c);
    out->max_bytes = c->max;
    out->hits = c->hits;
    out->misses = c->misses;
    out->fills = c->fills;
    out->evictions = c->evictions;
    out->grave_bytes = c->grave_bytes;
}
