/* test_num.c — num.c against answers recorded from redis-server 7.0.15.
 *
 * Expected values come from running INCRBY (string2ll), XADD ids (string2ull),
 * ZADD + ZSCORE on a skiplist zset (string2d and the RESP2 double format) and
 * INCRBYFLOAT (string2ld and ld2string) on the real server. score64 has golden
 * bytes (it is an on-disk format) and an order check over random doubles. */
#include "storage/num.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define S(lit) lit, sizeof(lit) - 1

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

/* splitmix64: deterministic, so failures reproduce. */
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct ll_case {
    const char *s;
    size_t len;
    int ok;
    long long v;
};

static void test_parse_ll(void **state) {
    (void)state;
    static const struct ll_case cases[] = {
        {S("0"), 1, 0},
        {S("1"), 1, 1},
        {S("-1"), 1, -1},
        {S("9223372036854775807"), 1, LLONG_MAX},
        {S("-9223372036854775808"), 1, LLONG_MIN},
        {S("9223372036854775808"), 0, 0},
        {S("-9223372036854775809"), 0, 0},
        {S("18446744073709551616"), 0, 0},
        {S("99999999999999999999"), 0, 0},
        {S("-0"), 0, 0},
        {S("00"), 0, 0},
        {S("007"), 0, 0},
        {S("+1"), 0, 0},
        {S(" 1"), 0, 0},
        {S("1 "), 0, 0},
        {S("-"), 0, 0},
        {S(""), 0, 0},
        {S("1a"), 0, 0},
        {S("1\0"), 0, 0},
        {S("0x10"), 0, 0},
        {S("1e3"), 0, 0},
        {S("000000000000000000001"), 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long v = 12345;
        int rc = num_parse_ll(cases[i].s, cases[i].len, &v);
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_true(v == cases[i].v);
        } else {
            assert_int_equal(rc, -1);
            assert_true(v == 12345);
        }
    }
    /* out may be NULL, and only len bytes are looked at. */
    assert_int_equal(num_parse_ll("123", 2, NULL), 0);
    long long v;
    assert_int_equal(num_parse_ll("123", 2, &v), 0);
    assert_true(v == 12);
}

static void test_parse_ull(void **state) {
    (void)state;
    unsigned long long v;
    assert_int_equal(num_parse_ull(S("0"), &v), 0);
    assert_true(v == 0);
    assert_int_equal(num_parse_ull(S("18446744073709551615"), &v), 0);
    assert_true(v == ULLONG_MAX);
    assert_int_equal(num_parse_ull(S("18446744073709551616"), &v), -1);
    assert_int_equal(num_parse_ull(S("-1"), &v), -1);
    assert_int_equal(num_parse_ull(S("01"), &v), -1);
    assert_int_equal(num_parse_ull(S("+1"), &v), -1);
    assert_int_equal(num_parse_ull(S(""), &v), -1);
}

static void test_parse_ull_loose(void **state) {
    (void)state;
    unsigned long long v;
    /* Accepted by XADD ids in redis-server (string2ull's strtoull fallback). */
    assert_int_equal(num_parse_ull_loose(S("007"), &v), 0);
    assert_true(v == 7);
    assert_int_equal(num_parse_ull_loose(S("+8"), &v), 0);
    assert_true(v == 8);
    assert_int_equal(num_parse_ull_loose(S(" 9"), &v), 0);
    assert_true(v == 9);
    assert_int_equal(num_parse_ull_loose(S("18446744073709551615"), &v), 0);
    assert_true(v == ULLONG_MAX);
    /* strtoull negates: "-05" wraps, while string2ll's "-5" is refused. */
    assert_int_equal(num_parse_ull_loose(S("-05"), &v), 0);
    assert_true(v == ULLONG_MAX - 4);
    assert_int_equal(num_parse_ull_loose(S("-5"), &v), -1);
    /* An embedded NUL ends the C string Redis looks at. */
    assert_int_equal(num_parse_ull_loose(S("7\0zz"), &v), 0);
    assert_true(v == 7);
    assert_int_equal(num_parse_ull_loose(S("18446744073709551616"), &v), -1);
    assert_int_equal(num_parse_ull_loose(S("0x10"), &v), -1);
    assert_int_equal(num_parse_ull_loose(S("10 "), &v), -1);
    assert_int_equal(num_parse_ull_loose(S(" "), &v), -1);
    assert_int_equal(num_parse_ull_loose(S("-"), &v), -1);
    assert_int_equal(num_parse_ull_loose(S(""), &v), -1);
}

struct dbl_case {
    const char *in;
    size_t len;
    const char *zscore; /* NULL: "ERR value is not a valid float" */
};

static void test_parse_and_format_double(void **state) {
    (void)state;
    /* ZADD z <in> m; ZSCORE z m on a skiplist-encoded zset. */
    static const struct dbl_case cases[] = {
        {S("1.5"), "1.5"},
        {S("0.1"), "0.10000000000000001"},
        {S("1e17"), "1e+17"},
        {S("123456789012345678"), "1.2345678901234568e+17"},
        {S("-0"), "-0"},
        {S("3.0"), "3"},
        {S("1e-5"), "1.0000000000000001e-05"},
        {S("4503599627370496"), "4503599627370496"},
        {S("-4503599627370496"), "-4503599627370496"},
        {S("9007199254740993"), "9007199254740992"},
        {S("1e16"), "10000000000000000"},
        {S("99999999999999999"), "1e+17"},
        {S("inf"), "inf"},
        {S("+inf"), "inf"},
        {S("-inf"), "-inf"},
        {S("infinity"), "inf"},
        {S("-Infinity"), "-inf"},
        {S("0x10"), "16"},
        {S("4.9e-324"), "4.9406564584124654e-324"},
        {S("0x1p-1074"), "4.9406564584124654e-324"},
        {S("-1e-320"), "-9.9998886718268301e-321"},
        {S("+1"), "1"},
        {S(".5"), "0.5"},
        {S("5."), "5"},
        {S("-.5e-3"), "-0.00050000000000000001"},
        {S("1.7976931348623157e308"), "1.7976931348623157e+308"},
        {S("2.2250738585072014e-308"), "2.2250738585072014e-308"},
        {S(" 1"), NULL},
        {S("1 "), NULL},
        {S("nan"), NULL},
        {S("-nan"), NULL},
        {S("1e400"), NULL},
        {S("1e-400"), NULL},
        {S(""), NULL},
        {S("1e"), NULL},
        {S("1_0"), NULL},
        {S("1\0"), NULL},
        {S("\t1"), NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double d = 42.0;
        char buf[NUM_DOUBLE_STR_SIZE];
        int rc = num_parse_double(cases[i].in, cases[i].len, &d);
        if (cases[i].zscore == NULL) {
            assert_int_equal(rc, -1);
            assert_true(d == 42.0);
            continue;
        }
        assert_int_equal(rc, 0);
        size_t n = num_double_to_str(buf, sizeof(buf), d);
        assert_int_equal(n, strlen(cases[i].zscore));
        assert_string_equal(buf, cases[i].zscore);
    }
}

static void test_parse_double_long_input(void **state) {
    (void)state;
    /* Longer than the stack scratch buffer: the heap path must agree. */
    char s[600];
    double d;
    memset(s, '0', sizeof(s));
    s[0] = '1';
    s[1] = '.';
    s[sizeof(s) - 1] = '5';
    assert_int_equal(num_parse_double(s, sizeof(s), &d), 0);
    assert_true(d == 1.0);
    s[sizeof(s) - 1] = 'x';
    assert_int_equal(num_parse_double(s, sizeof(s), &d), -1);
}

static void test_double_to_str_edges(void **state) {
    (void)state;
    char buf[NUM_DOUBLE_STR_SIZE];
    assert_int_equal(num_double_to_str(buf, sizeof(buf), NAN), 3);
    assert_string_equal(buf, "nan");
    assert_int_equal(num_double_to_str(buf, sizeof(buf), 0.0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(num_double_to_str(buf, sizeof(buf), -DBL_MAX), 24);
    assert_string_equal(buf, "-1.7976931348623157e+308");
    assert_int_equal(num_double_to_str(buf, sizeof(buf), -DBL_MIN), 24);
    assert_string_equal(buf, "-2.2250738585072014e-308");
    /* Too small: 0 and an empty string. */
    assert_int_equal(num_double_to_str(buf, 3, 1.5), 0);
    assert_string_equal(buf, "");
    assert_int_equal(num_double_to_str(buf, 4, 1.5), 3);
    assert_int_equal(num_double_to_str(buf, 4, -INFINITY), 0);
    assert_int_equal(num_double_to_str(buf, 5, -INFINITY), 4);
    assert_int_equal(num_double_to_str(buf, 0, 1.5), 0);
    /* Every finite double survives a format/parse round trip. */
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = rng_next();
        double d, back;
        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d)) continue;
        size_t n = num_double_to_str(buf, sizeof(buf), d);
        assert_true(n > 0 && n < sizeof(buf));
        assert_int_equal(num_parse_double(buf, n, &back), 0);
        assert_memory_equal(&back, &d, sizeof(d));
    }
}

static void test_ll_to_str(void **state) {
    (void)state;
    char buf[NUM_LL_STR_SIZE];
    assert_int_equal(num_ll_to_str(buf, sizeof(buf), 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(num_ll_to_str(buf, sizeof(buf), -1), 2);
    assert_string_equal(buf, "-1");
    assert_int_equal(num_ll_to_str(buf, sizeof(buf), LLONG_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(num_ll_to_str(buf, sizeof(buf), LLONG_MAX), 19);
    assert_string_equal(buf, "9223372036854775807");
    assert_int_equal(num_ull_to_str(buf, sizeof(buf), ULLONG_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");
    /* Exact fit and one byte short. */
    assert_int_equal(num_ll_to_str(buf, 4, -123), 0);
    assert_string_equal(buf, "");
    assert_int_equal(num_ll_to_str(buf, 5, -123), 4);
    assert_string_equal(buf, "-123");
    assert_int_equal(num_ll_to_str(buf, 1, -1), 0);
    assert_int_equal(num_ll_to_str(buf, 0, 7), 0);
    /* Round trip through the parser, including the extremes. */
    for (int i = 0; i < 20000; i++) {
        long long v = (long long)(rng_next() >> (1 + rng_next() % 63));
        long long back;
        if (i & 1) v = -v;
        if (i == 0) v = LLONG_MIN;
        size_t n = num_ll_to_str(buf, sizeof(buf), v);
        assert_int_equal(num_parse_ll(buf, n, &back), 0);
        assert_true(back == v);
    }
}

struct ld_case {
    const char *stored, *incr, *reply; /* SET k stored; INCRBYFLOAT k incr */
};

static void test_long_double(void **state) {
    (void)state;
    static const struct ld_case cases[] = {
        {"0", "0.1", "0.1"},
        {"0", "1e17", "100000000000000000"},
        {"0", "-1e17", "-100000000000000000"},
        {"0", "1.5", "1.5"},
        {"0", "5e-18", "0"},
        {"0", "3", "3"},
        {"0", "-0", "0"},
        {"0", "0x10", "16"},
        {"0", "3.0000000000000000001", "3"},
        {"0", "1.23456789012345678901234", "1.23456789012345679"},
        {"10.5", "-0.5", "10"},
        {"-0.0000000000000000001", "0", "0"},
        {"1e-20", "0", "0"},
        {"123", "1e-17", "123.00000000000000001"},
    };
    char buf[NUM_LONG_DOUBLE_STR_SIZE];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long double a, b;
        assert_int_equal(num_parse_long_double(cases[i].stored, strlen(cases[i].stored), &a), 0);
        assert_int_equal(num_parse_long_double(cases[i].incr, strlen(cases[i].incr), &b), 0);
        size_t n = num_long_double_to_str(buf, sizeof(buf), a + b, NUM_LD_HUMAN);
        assert_int_equal(n, strlen(cases[i].reply));
        assert_string_equal(buf, cases[i].reply);
    }
    /* INCRBYFLOAT k 1e300 on "0": all 301 integer digits, no fraction. */
    long double big;
    assert_int_equal(num_parse_long_double(S("1e300"), &big), 0);
    assert_int_equal(num_long_double_to_str(buf, sizeof(buf), big, NUM_LD_HUMAN), 301);
    assert_string_equal(buf, "1000000000000000000008997324079559193870523944273290747938260082"
                             "3212656465961809357558491520837504971903503725086142748359035925"
                             "5618467298391309626052074864628732713564184365329408425510760601"
                             "6789726652932370030551382947620994540294772781889620606179267611"
                             "627097410650567187386105690089424915104006144");

    /* Rejected by INCRBYFLOAT with "value is not a valid float". */
    static const char *bad[] = {" 1", "1 ", "1e5000", "1e-5000", "nan", "", "abc", "1.5x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(num_parse_long_double(bad[i], strlen(bad[i]), &big), -1);
    /* Accepted (INCRBYFLOAT then refuses the infinite result itself). */
    assert_int_equal(num_parse_long_double(S("inf"), &big), 0);
    assert_true(isinf(big) && big > 0);
    /* Length limit: "1.000…" of 5119 bytes is fine, 5120 bytes are not. */
    static char lng[NUM_LONG_DOUBLE_STR_SIZE + 1];
    memset(lng, '0', sizeof(lng));
    lng[0] = '1';
    lng[1] = '.';
    assert_int_equal(num_parse_long_double(lng, NUM_LONG_DOUBLE_STR_SIZE - 1, &big), 0);
    assert_true(big == 1.0L);
    assert_int_equal(num_parse_long_double(lng, NUM_LONG_DOUBLE_STR_SIZE, &big), -1);

    /* Other modes and infinities. */
    assert_int_equal(num_long_double_to_str(buf, sizeof(buf), -INFINITY, NUM_LD_HUMAN), 4);
    assert_string_equal(buf, "-inf");
    assert_int_equal(num_long_double_to_str(buf, sizeof(buf), 0.1L, NUM_LD_AUTO), 3);
    assert_string_equal(buf, "0.1");
    assert_int_equal(num_long_double_to_str(buf, sizeof(buf), 1e20L, NUM_LD_AUTO), 5);
    assert_string_equal(buf, "1e+20");
    assert_true(num_long_double_to_str(buf, sizeof(buf), 1.0L, NUM_LD_HEX) > 0);
    assert_int_equal(num_parse_long_double(buf, strlen(buf), &big), 0);
    assert_true(big == 1.0L);
    assert_int_equal(num_long_double_to_str(buf, sizeof(buf), 1.0L, 99), 0);
    /* Room is needed for the unstripped "12.50000000000000000" (20 bytes). */
    assert_int_equal(num_long_double_to_str(buf, 20, 12.5L, NUM_LD_HUMAN), 0);
    assert_string_equal(buf, "");
    assert_int_equal(num_long_double_to_str(buf, 21, 12.5L, NUM_LD_HUMAN), 4);
    assert_string_equal(buf, "12.5");
}

static void test_big_endian(void **state) {
    (void)state;
    uint8_t b[9] = {0};
    num_be64_put(b + 1, 0x0102030405060708ULL); /* deliberately misaligned */
    static const uint8_t want64[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(b + 1, want64, 8);
    assert_true(num_be64_get(b + 1) == 0x0102030405060708ULL);
    num_be32_put(b + 1, 0xdeadbeefU);
    static const uint8_t want32[4] = {0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(b + 1, want32, 4);
    assert_true(num_be32_get(b + 1) == 0xdeadbeefU);
    num_be64_put(b, UINT64_MAX);
    assert_true(num_be64_get(b) == UINT64_MAX);
}

struct score_golden {
    double d;
    uint8_t bytes[8];
};

static void test_score64_golden(void **state) {
    (void)state;
    static const struct score_golden g[] = {
        {0.0, {0x80, 0, 0, 0, 0, 0, 0, 0}},
        {-0.0, {0x80, 0, 0, 0, 0, 0, 0, 0}},
        {1.0, {0xbf, 0xf0, 0, 0, 0, 0, 0, 0}},
        {-1.0, {0x40, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {1.5, {0xbf, 0xf8, 0, 0, 0, 0, 0, 0}},
        {-2.5, {0x3f, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {INFINITY, {0xff, 0xf0, 0, 0, 0, 0, 0, 0}},
        {-INFINITY, {0x00, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {DBL_MAX, {0xff, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {-DBL_MAX, {0x00, 0x10, 0, 0, 0, 0, 0, 0}},
        {4.9406564584124654e-324, {0x80, 0, 0, 0, 0, 0, 0, 0x01}},
        {-4.9406564584124654e-324, {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}},
    };
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        uint8_t out[8];
        num_score64_encode(g[i].d, out);
        assert_memory_equal(out, g[i].bytes, 8);
        double back = num_score64_decode(out);
        assert_true(back == g[i].d);
        assert_false(signbit(back) && back == 0.0); /* -0.0 comes back as +0.0 */
    }
}

/* A random non-NaN double, biased towards interesting neighbourhoods. */
static double random_double(void) {
    static const double specials[] = {0.0,     -0.0,     1.0,     -1.0,     INFINITY, -INFINITY,
                                      DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN, 1e-310,   -1e-310};
    uint64_t r = rng_next();
    double d;
    switch (r % 4) {
    case 0: return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))];
    case 1: return (double)(int64_t)(rng_next() % 2001) - 1000.0; /* many equal values */
    default:
        do {
            uint64_t bits = rng_next();
            memcpy(&d, &bits, sizeof(d));
        } while (isnan(d));
        return d;
    }
}

static int sign_of(int v) {
    return (v > 0) - (v < 0);
}

static void test_score64_order(void **state) {
    (void)state;
    for (int i = 0; i < 200000; i++) {
        double a = random_double(), b = random_double();
        uint8_t ea[8], eb[8];
        num_score64_encode(a, ea);
        num_score64_encode(b, eb);
        int want = (a > b) - (a < b);
        assert_int_equal(sign_of(memcmp(ea, eb, 8)), want);
        double back = num_score64_decode(ea);
        assert_true(back == a);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ll),
        cmocka_unit_test(test_parse_ull),
        cmocka_unit_test(test_parse_ull_loose),
        cmocka_unit_test(test_parse_and_format_double),
        cmocka_unit_test(test_parse_double_long_input),
        cmocka_unit_test(test_double_to_str_edges),
        cmocka_unit_test(test_ll_to_str),
        cmocka_unit_test(test_long_double),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_score64_golden),
        cmocka_unit_test(test_score64_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
