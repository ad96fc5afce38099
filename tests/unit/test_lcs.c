/* test_lcs.c — lcs.c against answers recorded from redis-server 7.0.15.
 *
 * Each case was run as SET a …; SET b …; LCS a b; LCS a b IDX WITHMATCHLEN
 * MINMATCHLEN n on the real server. The limit test mirrors CONFIG SET
 * proto-max-bulk-len 1048576, where 511-byte strings pass and 512 fail.
 * A random test checks the length against a plain DP and that the ranges
 * describe the returned subsequence. */
#include "storage/lcs.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct lcs_case {
    const char *a;
    size_t alen;
    const char *b;
    size_t blen;
    size_t minmatchlen;
    const char *lcs;
    size_t nmatches;
    struct lcs_match matches[8];
};

#define S(lit) lit, sizeof(lit) - 1

// clang-format off
static const struct lcs_case cases[] = {
    {S("ohmytext"), S("mynewtext"), 0, "mytext", 2, {{4, 7, 5, 8}, {2, 3, 0, 1}}},
    {S("ohmytext"), S("mynewtext"), 4, "mytext", 1, {{4, 7, 5, 8}}},
    {S("abcabcab"),
     S("bacbacba"),
     0,
     "bacab",
     5,
     {{7, 7, 6, 6}, {6, 6, 4, 4}, {5, 5, 2, 2}, {3, 3, 1, 1}, {1, 1, 0, 0}}},
    {S("aaaa"), S("aa"), 0, "aa", 1, {{2, 3, 0, 1}}},
    {S(""), S("abc"), 0, "", 0, {{0, 0, 0, 0}}},
    {S("abc"), S("xyz"), 0, "", 0, {{0, 0, 0, 0}}},
    {S("ACCGGTCGAGTGCGCGGAAGCCGGCCGAA"),
     S("GTCGTTCGGAATGCCGTTGCTCTGTAAA"),
     0,
     "GTCGTCGGAAGCCGGCCGAA",
     8,
     {{27, 28, 26, 27},
      {26, 26, 23, 23},
      {25, 25, 21, 21},
      {23, 24, 18, 19},
      {19, 22, 12, 15},
      {14, 18, 6, 10},
      {9, 10, 3, 4},
      {4, 6, 0, 2}}},
    {S("ACCGGTCGAGTGCGCGGAAGCCGGCCGAA"),
     S("GTCGTTCGGAATGCCGTTGCTCTGTAAA"),
     2,
     "GTCGTCGGAAGCCGGCCGAA",
     6,
     {{27, 28, 26, 27},
      {23, 24, 18, 19},
      {19, 22, 12, 15},
      {14, 18, 6, 10},
      {9, 10, 3, 4},
      {4, 6, 0, 2}}},
    {S("rebirth"), S("birthday"), 0, "birth", 1, {{2, 6, 0, 4}}},
    {S("ab\0cd"), S("b\0c"), 0, "b\0c", 1, {{1, 3, 0, 2}}},
};
// clang-format on

#define NO_LIMIT ((size_t)1 << 40)

static void test_recorded(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct lcs_case *c = &cases[i];
        struct lcs_result r;
        size_t want_len = 0;
        for (size_t k = 0; k < c->nmatches; k++)
            want_len += c->matches[k].a_end - c->matches[k].a_start + 1;

        assert_int_equal(lcs_compute(c->a, c->alen, c->b, c->blen, NO_LIMIT,
                                     LCS_WANT_STR | LCS_WANT_MATCHES, c->minmatchlen, &r),
                         LCS_OK);
        size_t lcslen = r.len;
        assert_non_null(r.str);
        assert_memory_equal(r.str, c->lcs, lcslen);
        assert_int_equal(r.str[lcslen], '\0');
        assert_int_equal(r.nmatches, c->nmatches);
        for (size_t k = 0; k < c->nmatches; k++) {
            assert_int_equal(r.matches[k].a_start, c->matches[k].a_start);
            assert_int_equal(r.matches[k].a_end, c->matches[k].a_end);
            assert_int_equal(r.matches[k].b_start, c->matches[k].b_start);
            assert_int_equal(r.matches[k].b_end, c->matches[k].b_end);
        }
        if (c->minmatchlen == 0) assert_int_equal(want_len, lcslen);
        lcs_free(&r);
        assert_null(r.str);

        /* LEN alone and IDX alone agree with the full answer. */
        assert_int_equal(lcs_compute(c->a, c->alen, c->b, c->blen, NO_LIMIT, 0, 0, &r), LCS_OK);
        assert_int_equal(r.len, lcslen);
        assert_null(r.str);
        assert_null(r.matches);
        lcs_free(&r);
        assert_int_equal(lcs_compute(c->a, c->alen, c->b, c->blen, NO_LIMIT, LCS_WANT_MATCHES,
                                     c->minmatchlen, &r),
                         LCS_OK);
        assert_null(r.str);
        assert_int_equal(r.nmatches, c->nmatches);
        lcs_free(&r);
    }
}

static void test_limits(void **state) {
    (void)state;
    static char x[513], y[513];
    struct lcs_result r;
    memset(x, 'a', sizeof(x));
    memset(y, 'a', sizeof(y));

    /* (511+1)*(511+1)*4 == 1048576 is allowed; one more row is not, for LEN too. */
    assert_int_equal(lcs_compute(x, 511, y, 511, 1048576, LCS_WANT_STR, 0, &r), LCS_OK);
    assert_int_equal(r.len, 511);
    lcs_free(&r);
    assert_int_equal(lcs_compute(x, 512, y, 511, 1048576, LCS_WANT_STR, 0, &r), LCS_ETABLE);
    assert_null(r.str);
    assert_int_equal(lcs_compute(x, 511, y, 512, 1048576, 0, 0, &r), LCS_ETABLE);
    assert_int_equal(lcs_compute(x, 512, y, 512, 0, 0, 0, &r), LCS_ETABLE);
    /* Huge lengths are refused before any byte is read. */
    assert_int_equal(lcs_compute(x, (size_t)UINT32_MAX - 1, y, 1, NO_LIMIT, 0, 0, &r),
                     LCS_ETOOLONG);
    assert_int_equal(lcs_compute(x, 1, y, (size_t)UINT32_MAX, NO_LIMIT, 0, 0, &r), LCS_ETOOLONG);
    /* Huge but legal lengths whose table size overflows 64 bits are refused. */
    assert_int_equal(
        lcs_compute(x, (size_t)UINT32_MAX - 2, y, (size_t)UINT32_MAX - 2, SIZE_MAX, 0, 0, &r),
        LCS_ETABLE);
}

static uint64_t rng_state = 0xfeedfacecafebeefULL;

static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void test_random_consistency(void **state) {
    (void)state;
    char a[40], b[40];
    for (int iter = 0; iter < 3000; iter++) {
        size_t alen = rng_next() % 40, blen = rng_next() % 40;
        int sigma = 2 + (int)(rng_next() % 4);
        for (size_t i = 0; i < alen; i++) a[i] = (char)('a' + (int)(rng_next() % (uint64_t)sigma));
        for (size_t i = 0; i < blen; i++) b[i] = (char)('a' + (int)(rng_next() % (uint64_t)sigma));

        /* Plain DP for the length. */
        uint32_t t[41][41];
        for (size_t i = 0; i <= alen; i++)
            for (size_t j = 0; j <= blen; j++) {
                if (i == 0 || j == 0)
                    t[i][j] = 0;
                else if (a[i - 1] == b[j - 1])
                    t[i][j] = t[i - 1][j - 1] + 1;
                else
                    t[i][j] = t[i - 1][j] > t[i][j - 1] ? t[i - 1][j] : t[i][j - 1];
            }

        struct lcs_result r;
        assert_int_equal(
            lcs_compute(a, alen, b, blen, NO_LIMIT, LCS_WANT_STR | LCS_WANT_MATCHES, 0, &r),
            LCS_OK);
        assert_int_equal(r.len, t[alen][blen]);
        /* Ranges run backwards, are disjoint and spell the LCS. */
        size_t pos = r.len, prev_a = alen, prev_b = blen;
        for (size_t k = 0; k < r.nmatches; k++) {
            const struct lcs_match *m = &r.matches[k];
            size_t mlen = m->a_end - m->a_start + 1;
            assert_int_equal(m->b_end - m->b_start + 1, mlen);
            assert_true(m->a_end < prev_a && m->b_end < prev_b);
            assert_memory_equal(a + m->a_start, b + m->b_start, mlen);
            assert_true(pos >= mlen);
            pos -= mlen;
            assert_memory_equal(r.str + pos, a + m->a_start, mlen);
            prev_a = m->a_start;
            prev_b = m->b_start;
        }
        assert_int_equal(pos, 0);
        lcs_free(&r);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_random_consistency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
