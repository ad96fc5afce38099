/* lcs.c — longest common subsequence with Redis's tie-breaking and ranges.
 *
 * Job: the dynamic-programming core of the LCS command. T[i][j] is the LCS
 * length of the first i bytes of a and the first j bytes of b. Walking back
 * from (alen, blen): equal bytes are taken (extending the current run of
 * matches); otherwise we step towards the larger neighbour, preferring to
 * drop a byte of b on ties. That choice fixes which subsequence is returned
 * and the runs reported by IDX, which come out from the end of the strings
 * to the start; both must stay as they are to match redis-server.
 *
 * Invariants: the full table is (alen+1)*(blen+1) uint32_t and is only built
 * when the caller wants the string or the ranges; the size limit is checked
 * before any allocation and without overflow; on error nothing is leaked
 * and *out is zeroed. */
#include "storage/lcs.h"

#include <stdlib.h>
#include <string.h>

/* LCS length only, two rows over the shorter string. */
static int
lcs_length_only(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint32_t *len) {
    if (blen > alen) {
        const uint8_t *t = a;
        a = b;
        b = t;
        size_t tl = alen;
        alen = blen;
        blen = tl;
    }
    uint32_t *prev = calloc(blen + 1, sizeof(uint32_t));
    uint32_t *cur = calloc(blen + 1, sizeof(uint32_t));
    if (prev == NULL || cur == NULL) {
        free(prev);
        free(cur);
        return LCS_ENOMEM;
    }
    for (size_t i = 1; i <= alen; i++) {
        for (size_t j = 1; j <= blen; j++) {
            if (a[i - 1] == b[j - 1])
                cur[j] = prev[j - 1] + 1;
            else
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        uint32_t *t = prev;
        prev = cur;
        cur = t;
    }
    *len = prev[blen];
    free(prev);
    free(cur);
    return LCS_OK;
}

/* Append a finished run if it is long enough. */
static void emit_run(struct lcs_result *r, const struct lcs_match *run, size_t minmatchlen) {
    size_t runlen = (size_t)(run->a_end - run->a_start) + 1;
    if (r->matches && runlen >= minmatchlen) r->matches[r->nmatches++] = *run;
}

int lcs_compute(const void *av,
                size_t alen,
                const void *bv,
                size_t blen,
                size_t max_table_bytes,
                int flags,
                size_t minmatchlen,
                struct lcs_result *out) {
    const uint8_t *a = av, *b = bv;
    struct lcs_result r = {0};
    uint32_t *t = NULL;
    int rc = LCS_ENOMEM;

    memset(out, 0, sizeof(*out));
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) return LCS_ETOOLONG;
    /* (alen+1)*(blen+1)*4 > max_table_bytes, evaluated without overflow. */
    size_t cols = blen + 1, rows = alen + 1;
    if (rows > max_table_bytes / sizeof(uint32_t) / cols) return LCS_ETABLE;

    if (!(flags & (LCS_WANT_STR | LCS_WANT_MATCHES)))
        return lcs_length_only(a, alen, b, blen, &out->len);

    t = malloc(rows * cols * sizeof(uint32_t));
    if (t == NULL) return LCS_ENOMEM;
#define T(i, j) t[(size_t)(i)*cols + (size_t)(j)]
    for (size_t j = 0; j < cols; j++) T(0, j) = 0;
    for (size_t i = 1; i < rows; i++) {
        T(i, 0) = 0;
        for (size_t j = 1; j < cols; j++) {
            if (a[i - 1] == b[j - 1])
                T(i, j) = T(i - 1, j - 1) + 1;
            else
                T(i, j) = T(i - 1, j) > T(i, j - 1) ? T(i - 1, j) : T(i, j - 1);
        }
    }
    r.len = T(alen, blen);

    /* Both outputs come from the same walk; keep only what was asked. */
    r.str = malloc((size_t)r.len + 1);
    if (r.str == NULL) goto out;
    r.str[r.len] = '\0';
    if (flags & LCS_WANT_MATCHES) {
        r.matches = malloc(((size_t)r.len + 1) * sizeof(*r.matches));
        if (r.matches == NULL) goto out;
    }

    size_t i = alen, j = blen;
    uint32_t k = r.len;
    int run_open = 0;
    struct lcs_match run = {0, 0, 0, 0};
    while (i > 0 && j > 0) {
        if (a[i - 1] == b[j - 1]) {
            r.str[--k] = (char)a[i - 1];
            if (!run_open) {
                run.a_end = (uint32_t)(i - 1);
                run.b_end = (uint32_t)(j - 1);
                run_open = 1;
            }
            run.a_start = (uint32_t)(i - 1);
            run.b_start = (uint32_t)(j - 1);
            i--;
            j--;
            /* The walk ends here, so the run ends too. */
            if (i == 0 || j == 0) emit_run(&r, &run, minmatchlen);
        } else {
            if (run_open) {
                emit_run(&r, &run, minmatchlen);
                run_open = 0;
            }
            if (T(i - 1, j) > T(i, j - 1))
                i--;
            else
                j--;
        }
    }
#undef T
    if (!(flags & LCS_WANT_STR)) {
        free(r.str);
        r.str = NULL;
    }
    *out = r;
    rc = LCS_OK;
out:
    free(t);
    if (rc != LCS_OK) lcs_free(&r);
    return rc;
}

void lcs_free(struct lcs_result *r) {
    free(r->str);
    free(r->matches);
    memset(r, 0, sizeof(*r));
}
