/* lcs.h — longest common subsequence for the LCS command.
 *
 * Leaf module: libc only (malloc). Answers match redis-server 7.0.15: the
 * same subsequence when several exist, the same match ranges in the same
 * order, the same size limit. */
#ifndef LODIS_LCS_H
#define LODIS_LCS_H

#include <stddef.h>
#include <stdint.h>

/* Return codes, with the Redis error each one stands for. */
/* Success. */
#define LCS_OK 0
/* An input is >= UINT32_MAX-1 bytes: "String too long for LCS". */
#define LCS_ETOOLONG (-1)
/* Table above the caller's limit: "Insufficient memory, transient memory for
 * LCS exceeds proto-max-bulk-len". */
#define LCS_ETABLE (-2)
/* malloc failed: "Insufficient memory, failed allocating transient memory
 * for LCS". */
#define LCS_ENOMEM (-3)

/* What lcs_compute should produce besides the length. */
#define LCS_WANT_STR     1 /* the subsequence itself (plain "LCS a b") */
#define LCS_WANT_MATCHES 2 /* the match ranges (IDX) */

/* One run of consecutive matching bytes: a[a_start..a_end] equals
 * b[b_start..b_end], both inclusive; its length is a_end - a_start + 1. */
struct lcs_match {
    uint32_t a_start, a_end;
    uint32_t b_start, b_end;
};

/* Result of lcs_compute. Free with lcs_free. */
struct lcs_result {
    uint32_t len;              /* length of the LCS, always set */
    char *str;                 /* LCS_WANT_STR: len bytes + NUL (malloc); else NULL */
    struct lcs_match *matches; /* LCS_WANT_MATCHES: runs in reply order, i.e. from the end of
                                * the strings towards the start (malloc); else NULL */
    size_t nmatches;
};

/* Compute the LCS of a[0..alen) and b[0..blen) (either may be NULL when its
 * length is 0). max_table_bytes is Redis's proto-max-bulk-len: the request
 * fails with LCS_ETABLE when (alen+1)*(blen+1)*4 exceeds it, whatever the
 * flags, because Redis refuses on that size even for LEN. Runs shorter
 * than minmatchlen are left out of matches (0 keeps all); len is not
 * affected. flags is a mix of LCS_WANT_*; with neither, only len is
 * computed, in O(min(alen, blen)) memory.
 * Returns LCS_OK with *out filled, or a negative LCS_E* code with *out
 * zeroed (no memory to free). Time O(alen * blen). */
int lcs_compute(const void *a,
                size_t alen,
                const void *b,
                size_t blen,
                size_t max_table_bytes,
                int flags,
                size_t minmatchlen,
                struct lcs_result *out);

/* Free what lcs_compute allocated and zero *r. Safe on a zeroed result. */
void lcs_free(struct lcs_result *r);

#endif
