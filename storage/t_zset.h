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
 * Rank index (t_zset_rank.c), for O(log N) ranks on disk: counted fences
 * over the score index, in TZ_RANK_LEVELS levels,
 *   id · 'c' · level(1) · score64 · member[:493]  -> count(8 BE) [· member]
 *   id · 'c' · level(1)                           -> count(8 BE)  (head)
 * A fence marks the first member of a block of consecutive members (in
 * score-index order, the iterator's exact order, hashed members included)
 * and counts the block's members; the head fence counts those before the
 * level's first fence. Level L+1's fences are a subset of level L's, so a
 * rank descends: sum the counts of the top level's blocks before the target,
 * then of the lower level's blocks inside the chosen block, and so on, then
 * walk at most one level-1 block of members. Level-L blocks hold at most
 * 2*B^L members (then split) and at least B^L/4 (else merged into the block
 * before); with B = TZ_RANK_B = 64 and 3 levels a lookup reads a few
 * hundred entries at 10M members. A member longer than 493 bytes keeps its
 * full bytes after the count, and compares by them. Zsets below TZ_RANK_MIN
 * members have no fences: writers call tz_rank_maintain after adding
 * members, which builds the index in one pass when the set reaches it;
 * from then on tz_put/tz_del keep it exact (it is dropped with the id).
 * Unindexed zsets (small, or written before the index existed) rank by
 * walking from the nearer end. Indexed zsets in use keep a RAM copy of
 * their fences (t_zset_rankmem.h), which rank lookups and index updates
 * read instead of the store. COPY copies the fences with the members:
 * they hold nothing tied to the id. See docs/storage.md for the rules.
 *
 * Lifetimes: pointers handed out are borrowed (store.h): valid until the
 * iterator moves, the next write to that entry, or the end of the tick.
 * Pure storage: no server headers. */
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
#define TZ_KIND_RANK   'c' /* rank-index fences (t_zset_rank.c) */

/* Rank index shape (not on disk as numbers: an index built with other
 * values stays correct, only its block sizes differ). */
#define TZ_RANK_LEVELS 3
#define TZ_RANK_B      64
#define TZ_RANK_MIN    256 /* members at which a zset gets its index */

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
    uint8_t pflag;           /* its flag byte (the score is decoded on demand) */
    int hvalid;              /* hc sits on an entry not yet in the group */
    tz_hent *g;              /* hashed entries sharing score and prefix */
    size_t gn, gi, gcap;
    int cur;                 /* 0 plain, 1 hashed, -1 past the end */
    int err;                 /* first storage error seen, or 0 */
    int plain_only;          /* set by the rank code when the zset holds no
                              * hashed member: seeks skip the hashed range */
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
/* The current entry's score64 (8 bytes, borrowed like the member): what
 * order comparisons need, without decoding the score. */
const uint8_t *tz_iter_enc(const tz_iter *it);
void tz_iter_close(tz_iter *it);

/* Ascending rank (0-based) of member m, whose current score is `score`,
 * in a zset of `count` members (its meta count). ST_NOTFOUND if m is not
 * there with that score. */
int tz_rank(ks *k, uint64_t id, uint64_t count, const void *m, size_t mlen, double score,
            uint64_t *rank);
/* Position an open iterator on the entry of rank r counted in its own
 * direction (0 = its first entry), in a zset of `count` members.
 * ST_NOTFOUND when r >= count. */
int tz_iter_seek_rank(tz_iter *it, uint64_t count, uint64_t r);
/* Build the rank index of a zset that now has `count` members if it has
 * none and count >= TZ_RANK_MIN. Every writer that adds members calls it
 * before its tick ends (cheap: one point read when there is nothing to do). */
int tz_rank_maintain(ks *k, uint64_t id, uint64_t count);
/* Does the zset have a rank index? (1 yes, 0 no or on error) */
int tz_rank_indexed(ks *k, uint64_t id);
/* Check the rank index against the score index (every count, every fence
 * on a member, nesting) for a zset of `count` members: ST_OK (also when
 * there is no index) or ST_CORRUPT. O(N): for tests and debugging. */
int tz_rank_check(ks *k, uint64_t id, uint64_t count);
/* Test-only: block size b (0: the default) and the size at which
 * tz_rank_maintain builds an index. Any shape gives correct answers. */
void tz_rank_test_shape(unsigned b, uint64_t min);
/* Test-only: whether level-1 splits may wait for a cheap moment (on by
 * default; see t_zset_rank.c). Off, blocks keep their size limits at once. */
void tz_rank_test_defer(int on);
/* The bound of the rank indexes' RAM copies in bytes (0, or anything
 * above it: the default, TZ_RANKMEM_MAX in t_zset_rankmem.h; the server
 * lowers it under maxmemory), and the bytes they hold. A lower bound
 * applies as copies are next held or written. */
void tz_rankmem_set_max(size_t bytes);
size_t tz_rankmem_bytes(ks *k);

/* ZSCAN: visit up to `count` members in member-index order from the resume
 * position pos/poslen ("" = start; the position is updated, at most
 * TZ_SCAN_POS_MAX bytes). *done is set when the end was reached. The
 * callback's pointers are borrowed for the call. */
#define TZ_SCAN_POS_MAX 512
typedef int (*tz_scan_fn)(void *ud, const uint8_t *m, size_t mlen, double score);
int tz_scan(ks *k, uint64_t id, uint8_t *pos, size_t *poslen, long count, tz_scan_fn fn,
            void *ud, int *done);

#endif
