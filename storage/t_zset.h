/* t_zset.h — sorted sets on the `sub` DBI.
 *
 * Layout (two entries per member, under the collection id):
 *   id · 'm' · member           -> score64(8) [· flags(1)]   member index
 *   id · 's' · score64 · member -> [flags(1)]                score index
 * score64 is num_score64_encode(score): memcmp order is score order, and
 * LMDB's key order then sorts equal scores by member bytes (memcmp), which is
 * exactly Redis's order. flags: TZ_NEGZERO when the score is -0.0 (score64
 * has one form for both zeros; Redis keeps the sign in its skiplist form).
 * A member too long for the key limit uses the hashed form (ks_member_key):
 * kind | KS_KIND_HASHED, and the value is ks_member_value_wrap(member,
 * payload). Hashed score-index entries therefore live in their own range
 * (kind 0xF3), ordered by score, member prefix, then hash; the iterator
 * below merges both ranges back into exact (score, member) order.
 *
 * Meta header (TZ_HDR_LEN bytes): flags(1); TZ_F_SKIPLIST records that
 * Redis would have converted this zset from listpack to skiplist (it never
 * converts back), for OBJECT ENCODING and for the -0.0 rule (a listpack
 * stores -0.0 as the integer 0).
 *
 * Ranks are O(N) in this plain layout: callers walk the score index from the
 * nearer end. Lifetimes: pointers handed out are borrowed (store.h): valid
 * until the iterator moves, the next write to that entry, or the end of the
 * tick. Pure storage: no server headers. */
#ifndef LODIS_T_ZSET_H
#define LODIS_T_ZSET_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/store.h"

/* On disk: never renumber. */
#define TZ_KIND_MEMBER 'm'
#define TZ_KIND_SCORE  's'
#define TZ_NEGZERO     0x01 /* payload flag: the score is -0.0 */
#define TZ_F_SKIPLIST  0x01 /* header flag: Redis would use a skiplist */
#define TZ_HDR_LEN     1

/* Header flags of a zset meta record (0 when the header is missing). */
uint8_t tz_hdr_flags(const ks_meta *m);

/* Score of a member: ST_OK, ST_NOTFOUND or another error. */
int tz_get(ks *k, uint64_t id, const void *m, size_t mlen, double *score);
/* Write a member with its score (both entries). old: the member's current
 * score when it exists (its score-index entry is replaced), NULL for a new
 * member. */
int tz_put(ks *k, uint64_t id, const void *m, size_t mlen, double score, const double *old);
/* Delete a member whose score is known (both entries). */
int tz_del(ks *k, uint64_t id, const void *m, size_t mlen, double score);

/* Ordered iteration over the score index, in one direction. */
typedef struct tz_hent {
    uint8_t enc[8];
    double score;
    uint8_t *m;
    size_t mlen;
} tz_hent;

typedef struct tz_iter {
    ks *k;
    uint64_t id;
    int dir;                 /* +1 ascending, -1 descending */
    store_cursor *pc, *hc;   /* plain and hashed ranges */
    uint8_t ppre[9], hpre[9];
    int pvalid;              /* plain head */
    const uint8_t *penc, *pm;
    size_t pmlen;
    double pscore;
    int hvalid;              /* hc sits on an entry not yet in the group */
    tz_hent *g;              /* hashed entries sharing score and prefix */
    size_t gn, gi, gcap;
    int cur;                 /* 0 plain, 1 hashed, -1 past the end */
    int err;                 /* first storage error seen, or 0 */
} tz_iter;

/* Open (reverse: descending). Not positioned until a seek. */
int tz_iter_open(tz_iter *it, ks *k, uint64_t id, int reverse);
/* Position on the first entry in the iterator's direction. All seeks return
 * ST_OK when positioned, ST_NOTFOUND past the end, or an error. */
int tz_iter_first(tz_iter *it);
/* Ascending: first entry with score >= s (> s if excl). Descending: last
 * entry with score <= s (< s if excl). */
int tz_iter_seek_score(tz_iter *it, double s, int excl);
/* Ascending: first entry >= (s, m) (> if excl); descending: last entry
 * <= (s, m) (< if excl), in (score, member) order. */
int tz_iter_seek_member(tz_iter *it, double s, const void *m, size_t mlen, int excl);
int tz_iter_next(tz_iter *it);
int tz_iter_valid(const tz_iter *it);
const uint8_t *tz_iter_member(const tz_iter *it, size_t *mlen);
double tz_iter_score(const tz_iter *it);
void tz_iter_close(tz_iter *it);

/* ZSCAN: visit up to `count` members in member-index order from the resume
 * position pos/poslen ("" = start; the position is updated, at most
 * TZ_SCAN_POS_MAX bytes). *done is set when the end was reached. The
 * callback's pointers are borrowed for the call. */
#define TZ_SCAN_POS_MAX 512
typedef int (*tz_scan_fn)(void *ud, const uint8_t *m, size_t mlen, double score);
int tz_scan(ks *k, uint64_t id, uint8_t *pos, size_t *poslen, long count, tz_scan_fn fn,
            void *ud, int *done);

#endif
