/* t_zset_rankmem.h — RAM copies of zset rank indexes (private to
 * storage/t_zset_rank.c, which is their only user).
 *
 * A copy mirrors the fences of one zset id exactly: per level, the sorted
 * positions (score64, full member; the head first) with their counts. The
 * rank code reads fences from the copy instead of seeking the store, and
 * reports every fence it writes or deletes (tzm_note_put / tzm_note_del),
 * so a copy stays equal to the store's fences as long as every fence change
 * goes through t_zset_rank.c (it does: fences are written nowhere else, and
 * ids are never reused, so copies of dead ids are merely unused).
 *
 * Copies are derived state: never persisted, built from the store on first
 * use (O(fences) = O(N / B)), dropped on any error, on FLUSHDB/FLUSHALL and
 * with the keyspace (ks_set_aux), and evicted least recently used first
 * when their total passes a bound (TZ_RANKMEM_MAX bytes of malloc'd memory,
 * which counts in used_memory like the rest of the heap). A zset whose copy
 * alone would pass the bound gets none: its ranks read the store. */
#ifndef LODIS_T_ZSET_RANKMEM_H
#define LODIS_T_ZSET_RANKMEM_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"

#define TZ_RANKMEM_MAX (64u << 20)

typedef struct tzm tzm;

/* id's copy if one is held (marked as used), else NULL. */
tzm *tzm_peek(ks *k, uint64_t id);
/* Forget id's copy (after an error, or before rebuilding its fences). */
void tzm_drop(ks *k, uint64_t id);

/* Building: a new empty copy, not yet held; tzm_add appends the fences of
 * each level in order (the head first); tzm_full says when it has passed
 * the bound alone (stop reading); tzm_install holds it and returns it, or
 * frees it and returns NULL (out of memory, or past the bound: then a stub
 * is held for the id, so later accesses read the store without trying
 * again until it is evicted). */
tzm *tzm_begin(uint64_t id);
int tzm_add(tzm *t, int level, const uint8_t *enc, const uint8_t *m, size_t ml, uint64_t count);
int tzm_full(const tzm *t);
tzm *tzm_install(ks *k, tzm *t);
void tzm_free(tzm *t);
/* A stub stands for "no copy: read the store". */
int tzm_is_stub(const tzm *t);
/* Replace id's copy by a stub (a copy that disagreed with the zset's
 * size: rather than rebuild it on every access, read the store). */
void tzm_refuse(ks *k, uint64_t id);

/* Mirror of the store: level's fence at (enc, m) (enc NULL: the head) now
 * counts `count`, inserted if new; or it is gone. No-ops without a copy; a
 * copy that cannot follow (out of memory, a fence it does not know) is
 * dropped. */
void tzm_note_put(ks *k, uint64_t id, int level, const uint8_t *enc, const uint8_t *m, size_t ml,
                  uint64_t count);
void tzm_note_del(ks *k, uint64_t id, int level, const uint8_t *enc, const uint8_t *m, size_t ml);

/* Reading. Entry 0 of every level is the head. */
size_t tzm_len(const tzm *t, int level);
uint64_t tzm_count(const tzm *t, int level, size_t i);
/* Entry i's position: 0 for the head, else 1 and (enc, m, ml). */
int tzm_pos(const tzm *t, int level, size_t i, const uint8_t **enc, const uint8_t **m, size_t *ml);
/* The last entry <= (enc, m): the block holding that position. */
size_t tzm_block(const tzm *t, int level, const uint8_t enc[8], const uint8_t *m, size_t ml);
/* The level-1 block holding (enc, m) (its index in *at) and the rank of
 * the block's first member (*acc), in a zset of `count` members: per
 * level a binary search, then the counts of the blocks before it inside
 * the block above, summed walking back to that block's fence (a block
 * spans about B fences of the level below). ST_CORRUPT when the top
 * level's counts do not add up to count or the levels do not nest. */
int tzm_locate(const tzm *t, uint64_t count, const uint8_t enc[8], const uint8_t *m, size_t ml,
               size_t *at, uint64_t *acc);
/* The entry exactly at (enc, m) (enc NULL: the head, 0), or -1. */
long tzm_find(const tzm *t, int level, const uint8_t *enc, const uint8_t *m, size_t ml);
/* Whether the zset may hold hashed (long) members: set when the copy is
 * built and when tz_put writes one (tzr_note_hashed), never cleared. When
 * it is not set, rank walks read only the plain score range. */
void tzm_set_hashed(tzm *t);
int tzm_hashed(const tzm *t);

/* Deferred level-1 splits (t_zset_rank.c): whether some block of the copy
 * waits for one, and the memtable generation of the last settling. */
void tzm_set_backlog(tzm *t, int on);
int tzm_backlog(const tzm *t);
uint64_t tzm_settled_gen(const tzm *t);
void tzm_set_settled_gen(tzm *t, uint64_t gen);

/* Same fences and counts (tz_rank_check's comparison of a held copy with
 * one freshly read from the store)? */
int tzm_same(const tzm *a, const tzm *b);

#endif
