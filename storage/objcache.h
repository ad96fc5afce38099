/* objcache.h — the clean half of the RAM tier: a bounded cache of point
 * lookups read from LMDB, (dbi, key) -> a private copy of the value.
 *
 * CAVEATS FIRST
 * - It is only right if every write drops the key it writes: the store
 *   consults it after the memtables and before LMDB, fills it only from
 *   LMDB reads that both memtables missed, and calls oc_drop() from its one
 *   write path. Anything that changes LMDB without store_put/store_del
 *   (reclaiming a flushed database's keys, restoring a snapshot into a live
 *   store) must call oc_clear() before the changed keys can be read again.
 * - Borrowed memory: a value from oc_get() stays valid until oc_release(),
 *   even if the entry is dropped, evicted or cleared meanwhile: those
 *   entries wait in a graveyard that oc_release() frees (the store calls it
 *   at the end of each tick, when no caller holds a value any more).
 * - Not thread-safe: the event loop's thread only.
 *
 * Eviction is CLOCK over all entries (LRU family: one reference bit; LFU
 * family: a small saturating counter the hand decrements, "GCLOCK"), so a
 * hit costs one hash probe and a store, and an entry read once leaves
 * before entries read again (a uniform scan does not flush the hot set). */
#ifndef LODIS_OBJCACHE_H
#define LODIS_OBJCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct objcache objcache;

typedef struct oc_stats {
    uint64_t entries;
    uint64_t bytes;      /* what the entries and tables cost, malloc overhead included */
    uint64_t max_bytes;  /* the current bound */
    uint64_t hits;
    uint64_t misses;     /* oc_get of a cacheable dbi that found nothing */
    uint64_t fills;
    uint64_t evictions;  /* entries pushed out by the bound (not drops) */
    uint64_t grave_bytes; /* dropped or evicted, freed at the next oc_release */
} oc_stats;

/* A cache for the dbis whose bit is set in dbi_mask (1u << dbi), bounded
 * to max_bytes (0: caches nothing). NULL on out of memory. */
objcache *oc_new(uint32_t dbi_mask, size_t max_bytes);
void oc_free(objcache *c);

/* 1 and the cached value in *v, *vlen (borrowed, see above), or 0. Counts a
 * hit or a miss (for a cacheable dbi) and marks the entry referenced. */
int oc_get(objcache *c, int dbi, const void *k, size_t klen, const uint8_t **v, size_t *vlen);
/* Whether (dbi, k) is cached, without counting or touching the entry (the
 * cold-read check asks before the command's own lookup, which counts). */
int oc_contains(objcache *c, int dbi, const void *k, size_t klen);
/* Cache a copy of (k, v), evicting by CLOCK to stay within the bound. Does
 * nothing for a dbi not cached, a value larger than the per-entry limit
 * (1/16 of the bound, at most 64 KiB), or while the graveyard is large
 * (a tick that reads a great deal must not grow it without end). */
void oc_fill(objcache *c, int dbi, const void *k, size_t klen, const void *v, size_t vlen);
/* Forget (dbi, k) if cached. */
void oc_drop(objcache *c, int dbi, const void *k, size_t klen);
/* Forget everything. */
void oc_clear(objcache *c);
/* Change the bound; a lower bound evicts at once. */
void oc_set_max(objcache *c, size_t max_bytes);
size_t oc_max(const objcache *c);
size_t oc_bytes(const objcache *c);
/* Eviction by the LFU family (1) or the LRU family (0). */
void oc_set_lfu(objcache *c, int lfu);
/* Free the graveyard: no value from oc_get may be in use any more. */
void oc_release(objcache *c);
void oc_get_stats(const objcache *c, oc_stats *out);

#endif
