/* cm_pick.h — which key a random member pick lands on (private to the
 * member-entry layer: t_hash.c's cm_random_entry and cm_put).
 *
 * cm_pick_key draws a key among the entries of one kind of one collection
 * (the keys starting with id · kind) by descending the key space with
 * cursor seeks; see cm_pick.c. The upper levels of that descent, which
 * every pick of a big collection goes through again, are remembered per
 * (id, kind) in derived RAM state hung on the keyspace (KS_AUX_PICK), so a
 * pick costs about one seek and a short walk instead of ten seeks.
 *
 * What is remembered stays right under deletions by construction (a
 * remembered branch that has emptied is met as a miss, and the draw is
 * repeated), but not under additions: every new member key must be
 * reported with cm_pick_note_put before the next pick of its collection.
 * cm_put does so; the other writers of member keys (COPY, restores) only
 * ever write under fresh ids, which nothing remembers. */
#ifndef LODIS_CM_PICK_H
#define LODIS_CM_PICK_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/store.h"

/* Draw a key among the n entries (n > 0, the caller's count) whose key
 * starts with pre (id(8) · kind(1)), close to uniformly: each key's chance
 * is 1/n except in branches much denser than their siblings, which stay
 * less likely. c is a cursor on the sub DBI (left anywhere). The key is
 * copied into key (KS_SUBKEY_MAX bytes), *kl its length. ST_NOTFOUND if
 * there is no such key, or another ST_* error. */
int cm_pick_key(ks *k, store_cursor *c, const uint8_t pre[9], uint64_t n, uint8_t *key,
                size_t *kl);

/* The member key key (kl bytes, id · kind · ...) was written: keep what is
 * remembered of its collection's key space able to reach it. Cheap when
 * nothing is remembered of that collection. */
void cm_pick_note_put(ks *k, const uint8_t *key, size_t kl);

/* What is remembered, for INFO-style figures and tests. */
typedef struct cm_pick_stats {
    uint64_t roots;  /* collections (id, kind) with a remembered descent */
    uint64_t nodes;  /* remembered branches */
    uint64_t bytes;  /* their malloc'd size */
    uint64_t misses; /* draws that met an emptied branch, since the start */
} cm_pick_stats;
void cm_pick_get_stats(ks *k, cm_pick_stats *out);

#endif
