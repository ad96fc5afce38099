/* test_glob.c — glob_match against answers recorded from redis-server 7.0.15.
 *
 * The case-sensitive table was produced by SET-ting the string as the only
 * key and running KEYS <pattern> (an empty string was checked with
 * PSUBSCRIBE/PUBLISH, since KEYS special-cases a lone "*"). The nocase cases
 * come from COMMAND LIST FILTERBY PATTERN, which matches without case. A
 * random test compares the backtracking with a recursive model on patterns
 * made of '*', '?' and letters. */
#include "storage/glob.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

struct glob_case {
    const char *pat;
    size_t patlen;
    const char *str;
    size_t slen;
    int nocase;
    int match;
};

// clang-format off
static const struct glob_case cases[] = {
    {"*", 1, "hello", 5, 0, 1},
    {"h*o", 3, "hello", 5, 0, 1},
    {"h*o", 3, "helloo", 6, 0, 1},
    {"h*o", 3, "hellox", 6, 0, 0},
    {"h?llo", 5, "hello", 5, 0, 1},
    {"h?llo", 5, "hllo", 4, 0, 0},
    {"h[ae]llo", 8, "hallo", 5, 0, 1},
    {"h[ae]llo", 8, "hillo", 5, 0, 0},
    {"h[^e]llo", 8, "hallo", 5, 0, 1},
    {"h[^e]llo", 8, "hello", 5, 0, 0},
    {"h[a-b]llo", 9, "hbllo", 5, 0, 1},
    {"h[b-a]llo", 9, "hbllo", 5, 0, 1},
    {"h[z-a]llo", 9, "hqllo", 5, 0, 1},
    {"\\*", 2, "*", 1, 0, 1},
    {"\\*", 2, "a", 1, 0, 0},
    {"\\?x", 3, "?x", 2, 0, 1},
    {"a\\", 2, "a\\", 2, 0, 1},
    {"**", 2, "", 0, 0, 0},
    {"", 0, "", 0, 0, 1},
    {"*", 1, "", 0, 0, 0},
    {"?", 1, "", 0, 0, 0},
    {"a", 1, "A", 1, 0, 0},
    {"[", 1, "[", 1, 0, 0},
    {"[", 1, "a", 1, 0, 0},
    {"[^", 2, "x", 1, 0, 1},
    {"[^", 2, "xy", 2, 0, 0},
    {"[abc", 4, "b", 1, 0, 1},
    {"[abc", 4, "d", 1, 0, 0},
    {"x[abc", 5, "xc", 2, 0, 1},
    {"[]", 2, "]", 1, 0, 0},
    {"[]", 2, "a", 1, 0, 0},
    {"[^]", 3, "]", 1, 0, 1},
    {"[^]", 3, "q", 1, 0, 1},
    {"[]a]", 4, "]", 1, 0, 0},
    {"[]a]", 4, "a]", 2, 0, 0},
    {"[a-]", 4, "]", 1, 0, 1},
    {"[a-]", 4, "-", 1, 0, 0},
    {"[a-]", 4, "_", 1, 0, 1},
    {"[\\]]", 4, "]", 1, 0, 1},
    {"[\\]", 3, "]", 1, 0, 1},
    {"[\\]", 3, "\\", 1, 0, 0},
    {"[a\\-z]", 6, "-", 1, 0, 1},
    {"[a\\-z]", 6, "b", 1, 0, 0},
    {"[\\a-z]", 6, "q", 1, 0, 0},
    {"[-a]", 4, "-", 1, 0, 1},
    {"[a-c-e]", 7, "d", 1, 0, 0},
    {"[a-c-e]", 7, "-", 1, 0, 1},
    {"*[\xff" "]", 4, "a\xff" "", 2, 0, 1},
    {"[\x80" "-\xff" "]", 5, "\x90" "", 1, 0, 1},
    {"[a-\xff" "]", 5, "b", 1, 0, 0},
    {"[a-\xff" "]", 5, "\x00" "", 1, 0, 1},
    {"[a-\xff" "]", 5, "\x90" "", 1, 0, 0},
    {"[\x00" "-a]", 5, "\xff" "", 1, 0, 0},
    {"a*b*c", 5, "aXbYc", 5, 0, 1},
    {"a*b*c", 5, "acb", 3, 0, 0},
    {"*a*a*a*a*a*a*a*a*b", 18, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40, 0, 0},
    {"*?*?", 4, "ab", 2, 0, 1},
    {"*?*?", 4, "a", 1, 0, 0},
    {"a*", 2, "a", 1, 0, 1},
    {"a*?", 3, "a", 1, 0, 0},
    {"a\x00" "*", 3, "a\x00" "bc", 4, 0, 1},
    {"a?c", 3, "a\x00" "c", 3, 0, 1},
    {"user:*:name", 11, "user:42:name", 12, 0, 1},
    {"user:*:name", 11, "user:42:age", 11, 0, 0},
    {"[[]", 3, "[", 1, 0, 1},
    {"[*]", 3, "*", 1, 0, 1},
    {"[*]", 3, "x", 1, 0, 0},
    {"[?]", 3, "?", 1, 0, 1},
    {"\\[a]", 4, "[a]", 3, 0, 1},
    {"\\[a]", 4, "a", 1, 0, 0},
    {"h[^a-c]", 7, "hd", 2, 0, 1},
    {"h[^a-c]", 7, "hb", 2, 0, 0},
    {"[^^]", 4, "^", 1, 0, 0},
    {"[^^]", 4, "a", 1, 0, 1},
    /* nocase (COMMAND LIST FILTERBY PATTERN) */
    {"GET", 3, "get", 3, 1, 1},
    {"[F-H]et", 7, "get", 3, 1, 1},
    {"[z-A]ET", 7, "get", 3, 1, 1},
    {"[Z-a]et", 7, "get", 3, 1, 0}, /* ends lowered after the swap: 'z'..'a' */
    {"[\\g]ET", 6, "get", 3, 1, 1},
    {"[\\G]et", 6, "get", 3, 1, 0}, /* escaped class bytes keep their case */
    {"G?T", 3, "get", 3, 1, 1},
    {"*T", 2, "get", 3, 1, 1},
};
// clang-format on

static void test_recorded_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct glob_case *c = &cases[i];
        int got = glob_match(c->pat, c->patlen, c->str, c->slen, c->nocase);
        if (got != c->match)
            fail_msg("case %zu: pattern \"%.*s\" string \"%.*s\" nocase %d: got %d", i,
                     (int)c->patlen, c->pat, (int)c->slen, c->str, c->nocase, got);
    }
}

/* Pattern "*x*x…*x" (n groups) against n x's, optionally with a trailing
 * '*' group, which does not count towards the limit. */
static int star_chain(size_t n, int trailing) {
    size_t plen = 2 * n + (size_t)trailing;
    char *pat = malloc(plen), *str = malloc(n);
    assert_non_null(pat);
    assert_non_null(str);
    for (size_t i = 0; i < n; i++) {
        pat[2 * i] = '*';
        pat[2 * i + 1] = 'x';
        str[i] = 'x';
    }
    if (trailing) pat[2 * n] = '*';
    int m = glob_match(pat, plen, str, n, 0);
    free(pat);
    free(str);
    return m;
}

static void test_star_nesting_limit(void **state) {
    (void)state;
    /* Recorded: 1000 groups match, 1001 do not (CVE-2024-31228 fix). */
    assert_int_equal(star_chain(999, 0), 1);
    assert_int_equal(star_chain(1000, 0), 1);
    assert_int_equal(star_chain(1001, 0), 0);
    assert_int_equal(star_chain(1000, 1), 1);
    /* "**x" repeated: consecutive stars are one group. */
    char pat[3000], str[1000];
    for (size_t i = 0; i < 1000; i++) {
        pat[3 * i] = '*';
        pat[3 * i + 1] = '*';
        pat[3 * i + 2] = 'x';
        str[i] = 'x';
    }
    assert_int_equal(glob_match(pat, sizeof(pat), str, sizeof(str), 0), 1);
}

static void test_pathological_is_fast(void **state) {
    (void)state;
    /* "a*a*…*b" against 4000 a's is exponential for naive backtracking. */
    enum { N = 4000 };
    static char pat[2 * 300 + 1], str[N];
    for (size_t i = 0; i < 300; i++) {
        pat[2 * i] = 'a';
        pat[2 * i + 1] = '*';
    }
    pat[600] = 'b';
    memset(str, 'a', sizeof(str));
    clock_t t0 = clock();
    assert_int_equal(glob_match(pat, sizeof(pat), str, sizeof(str), 0), 0);
    str[N - 1] = 'b';
    assert_int_equal(glob_match(pat, sizeof(pat), str, sizeof(str), 0), 1);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 2.0);
}

/* Recursive model for '*', '?' and literal bytes only. */
static int model(const char *p, size_t pl, const char *s, size_t sl) {
    if (pl == 0) return sl == 0;
    if (p[0] == '*') {
        for (size_t k = 0; k <= sl; k++)
            if (model(p + 1, pl - 1, s + k, sl - k)) return 1;
        return 0;
    }
    if (sl == 0) return 0;
    if (p[0] != '?' && p[0] != s[0]) return 0;
    return model(p + 1, pl - 1, s + 1, sl - 1);
}

static void test_random_against_model(void **state) {
    (void)state;
    static const char palphabet[] = "ab*?";
    static const char salphabet[] = "ab";
    uint64_t x = 88172645463325252ULL;
    char pat[10], str[10];

    for (int iter = 0; iter < 200000; iter++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t pl = x % 9, sl = (x >> 8) % 9;
        for (size_t i = 0; i < pl; i++) pat[i] = palphabet[(x >> (16 + 2 * i)) & 3];
        for (size_t i = 0; i < sl; i++) str[i] = salphabet[(x >> (40 + i)) & 1];
        /* Redis: an empty string only matches an empty pattern. */
        int want = sl == 0 ? pl == 0 : model(pat, pl, str, sl);
        if (glob_match(pat, pl, str, sl, 0) != want)
            fail_msg("pattern \"%.*s\" string \"%.*s\": want %d", (int)pl, pat, (int)sl, str, want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_cases),
        cmocka_unit_test(test_star_nesting_limit),
        cmocka_unit_test(test_pathological_is_fast),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
