/* t_zset_rank.h — the counted rank index of sorted sets (private to
 * storage/t_zset*.c; the public calls are tz_rank, tz_iter_seek_rank and
 * tz_rank_maintain in t_zset.h, where the layout is described).
 *
 * tz_put and tz_del call these after changing the score index, so the index
 * always counts exactly the members the score index holds: insert after the
 * new score entry is written, delete after the old one is gone. */
#ifndef LODIS_T_ZSET_RANK_H
#define LODIS_T_ZSET_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"

/* A member at (enc, m) joined the score index: count it. A no-op for a zset
 * without an index. */
int tzr_insert(ks *k, uint64_t id, const uint8_t enc[8], const uint8_t *m, size_t mlen);
/* A member at (enc, m) left the score index: uncount it. */
int tzr_delete(ks *k, uint64_t id, const uint8_t enc[8], const uint8_t *m, size_t mlen);

/* A hashed (long) member's score entry was written: the zset's RAM copy,
 * if any, must stop assuming it has none. */
void tzr_note_hashed(ks *k, uint64_t id);

/* (score64, member) order, members compared as Redis's sdscmp does: the one
 * order of the score index, shared by the iterator and the index. */
int tzr_entry_cmp(const uint8_t *ea, const uint8_t *ma, size_t la, const uint8_t *eb,
                  const uint8_t *mb, size_t lb);

#endif
