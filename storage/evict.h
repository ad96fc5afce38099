/* evict.h — maxdisk: how big the dataset is on disk, and deleting keys by
 * maxmemory-policy when it passes the bound.
 *
 * In Redis, maxmemory bounds the dataset because the dataset is in RAM. In
 * lodis the dataset is on disk and RAM is a cache of it, so the two bounds
 * split: maxmemory bounds RAM by giving RAM back (nothing is lost: see
 * server/maxmemory.c), and `maxdisk` bounds the dataset, with Redis's
 * policies and their exact meaning. This module is the second half.
 *
 * Size of the dataset: LMDB's used pages (store_lmdb_used) plus the
 * memtables' bytes, minus what eviction deleted since LMDB was last
 * measured (the deletions reach LMDB's pages only at the next checkpoint).
 * LMDB's file never shrinks, so its size is not used. A freed entry frees
 * its page only when the page empties or merges, so the measure can lag
 * behind deletions; evict_perform() therefore deletes at most the excess
 * (by its estimates) per measurement, never everything at once.
 *
 * Candidates: maxmemory-samples keys per database (random keys, or random
 * keys with a TTL for volatile-*) feed a pool of the 16 best candidates kept
 * across calls, as Redis's evict.c does; the best is deleted through the one
 * write path (ks_evict_key: KS_CH_EVICTED). Keys the RAM tier's access table
 * does not track are colder than any key it does. volatile-ttl takes keys in
 * expires-index order (exact, not sampled). */
#ifndef LODIS_EVICT_H
#define LODIS_EVICT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"

/* maxmemory-policy values (CONFIG's order). */
enum evict_policy {
    EVICT_VOLATILE_LRU = 0,
    EVICT_VOLATILE_LFU = 1,
    EVICT_VOLATILE_RANDOM = 2,
    EVICT_VOLATILE_TTL = 3,
    EVICT_ALLKEYS_LRU = 4,
    EVICT_ALLKEYS_LFU = 5,
    EVICT_ALLKEYS_RANDOM = 6,
    EVICT_NOEVICTION = 7
};

/* evict_perform results, as Redis's EVICT_OK / EVICT_RUNNING / EVICT_FAIL. */
#define EVICT_OK      0 /* under the bound, or made room */
#define EVICT_RUNNING 1 /* over, deleted what the per-call limit allows */
#define EVICT_FAIL    2 /* over and nothing may or can be deleted */

typedef struct evictor evictor;

evictor *evict_new(ks *k);
void evict_free(evictor *e);
/* The dataset's size on disk as described above (bytes). */
uint64_t evict_disk_used(evictor *e);
/* Bring the dataset under maxdisk (0: no bound, EVICT_OK) by policy,
 * deleting at most max_keys keys. *evicted gets the count deleted. */
int evict_perform(evictor *e, uint64_t maxdisk, int policy, int samples, long max_keys,
                  long *evicted);
/* Bytes a key takes on disk: key and meta record, plus for a collection its
 * member entries estimated from `samples` of them (< 0: all), plus LMDB's
 * per-entry overhead. -1 if the key does not exist. Does not touch it. */
int64_t evict_key_bytes(ks *k, int db, const void *key, size_t klen, long samples);

#endif
