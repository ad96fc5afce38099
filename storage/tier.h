/* tier.h — access tracking for the RAM tier: Redis-style approximated LRU
 * (a clock in seconds) and LFU (logarithmic counter with decay) per key.
 *
 * This is the bookkeeping half of the RAM tier of DESIGN.md: it answers
 * OBJECT IDLETIME / FREQ and will drive what leaves RAM. Keys are identified
 * by a 64-bit keyed hash of their encoded `keys`-DBI key (collisions only
 * blur two keys' statistics). The table is bounded; a key it does not hold
 * is colder than any key it holds, as DESIGN.md wants for keys not in RAM. */
#ifndef LODIS_TIER_H
#define LODIS_TIER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tier tier;

#define TIER_LFU_INIT 5 /* a new key's counter, as Redis's LFU_INIT_VAL */

tier *tier_new(size_t max_entries);
void tier_free(tier *t);
/* Policy knobs (maxmemory-policy family, lfu-log-factor, lfu-decay-time). */
void tier_set_lfu(tier *t, int lfu, int log_factor, int decay_minutes);
/* Record an access (read or write) at now_ms. */
void tier_touch(tier *t, uint64_t h, int64_t now_ms);
/* Set a key's statistics (RESTORE IDLETIME / FREQ): idle_ms >= 0 sets the
 * last access to now - idle_ms; freq >= 0 sets the LFU counter. */
void tier_set_access(tier *t, uint64_t h, int64_t now_ms, int64_t idle_ms, int freq);
/* Forget a key (deleted). */
void tier_forget(tier *t, uint64_t h);
/* Move a key's statistics to another identity (RENAME, MOVE). */
void tier_move(tier *t, uint64_t from, uint64_t to);
/* Idle time in ms (0 if unknown: since_ms says from when a key unknown to
 * the table counts as idle). */
int64_t tier_idle_ms(tier *t, uint64_t h, int64_t now_ms, int64_t since_ms);
/* LFU counter after decay (Redis's LFUDecrAndReturn); unknown keys 0. */
int tier_freq(tier *t, uint64_t h, int64_t now_ms);
size_t tier_entries(tier *t);
/* Bytes the table itself holds (it counts in maxmemory). */
size_t tier_bytes(tier *t);
/* Bound the table to max_entries (at least 1024); a smaller bound rebuilds
 * it at once, keeping the most recently used entries that fit. */
void tier_set_max(tier *t, size_t max_entries);
size_t tier_max(tier *t);
/* Statistics of a key for eviction: 1 with *idle_ms and *freq filled when
 * the table tracks it, 0 when it does not (colder than any tracked key). */
int tier_lookup(tier *t, uint64_t h, int64_t now_ms, int64_t *idle_ms, int *freq);

#endif
