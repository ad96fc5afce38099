/* test_hll.c — HyperLogLog sketches (storage/hll.c).
 *
 * Golden values come from redis-server 7.0.15: the exact bytes of a small
 * sparse sketch (which pins the hash, the register/count split and the
 * sparse opcode sequence) and the counts of a sparse and a dense sketch
 * (which pin the estimator). The rest checks properties: promotion to
 * dense past hll-sparse-max-bytes, dense and sparse agreeing, merges being
 * unions, the cache bit, and corrupt sketches being refused. */
#include "storage/hll.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void add_numbers(hll_buf *b, long from, long to, size_t sparse_max) {
    char s[32];
    for (long i = from; i <= to; i++) {
        int n = snprintf(s, sizeof s, "%ld", i);
        assert_true(hll_add(b, s, (size_t)n, sparse_max) >= 0);
    }
}

static void test_new_sketch(void **state) {
    (void)state;
    hll_buf b;
    assert_int_equal(hll_new(&b), 0);
    static const uint8_t want[] = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff";
    assert_int_equal(b.len, 18);
    assert_memory_equal(b.p, want, 18);
    assert_true(hll_is_valid(b.p, b.len));
    int inv;
    assert_int_equal(hll_count(b.p, b.len, &inv), 0);
    assert_int_equal(inv, 0);
    hll_free(&b);
}

static void test_golden_sparse_bytes(void **state) {
    (void)state;
    hll_buf b;
    assert_int_equal(hll_new(&b), 0);
    const char *els = "abcdefg";
    for (int i = 0; i < 7; i++) assert_int_equal(hll_add(&b, els + i, 1, 3000), 1);
    hll_cache_invalidate(b.p);
    static const uint8_t want[] = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80"
                                  "Fm\x80V\x0c\x80" "D<\x84" "8\x80P\xb1\x84I\x8c\x80"
                                  "Bm\x80" "BZ";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.p, want, b.len);
    /* adding again changes nothing */
    for (int i = 0; i < 7; i++) assert_int_equal(hll_add(&b, els + i, 1, 3000), 0);
    int inv;
    assert_int_equal(hll_count(b.p, b.len, &inv), 7);
    hll_free(&b);
}

static void test_golden_counts_and_promotion(void **state) {
    (void)state;
    hll_buf b;
    int inv;
    assert_int_equal(hll_new(&b), 0);
    add_numbers(&b, 1, 100, 3000);
    assert_int_equal(b.p[4], HLL_SPARSE);
    assert_int_equal(b.len, 287);
    assert_int_equal(hll_count(b.p, b.len, &inv), 100);
    add_numbers(&b, 101, 20000, 3000);
    assert_int_equal(b.p[4], HLL_DENSE);
    assert_int_equal(b.len, HLL_DENSE_SIZE);
    assert_int_equal(hll_count(b.p, b.len, &inv), 19891);
    assert_int_equal(inv, 0);
    hll_free(&b);
}

static void test_sparse_dense_agree(void **state) {
    (void)state;
    hll_buf s, d;
    int inv;
    assert_int_equal(hll_new(&s), 0);
    add_numbers(&s, 1, 500, 1u << 30); /* never promoted */
    assert_int_equal(s.p[4], HLL_SPARSE);
    assert_int_equal(hll_load(&d, s.p, s.len), 0);
    assert_int_equal(hll_to_dense(&d), 0);
    assert_int_equal(hll_count(s.p, s.len, &inv), hll_count(d.p, d.len, &inv));
    uint8_t *m1 = calloc(1, HLL_REGISTERS), *m2 = calloc(1, HLL_REGISTERS);
    assert_int_equal(hll_merge_max(m1, s.p, s.len), 0);
    assert_int_equal(hll_merge_max(m2, d.p, d.len), 0);
    assert_memory_equal(m1, m2, HLL_REGISTERS);
    assert_int_equal(hll_count_raw(m1), hll_count(s.p, s.len, &inv));
    free(m1);
    free(m2);
    hll_free(&s);
    hll_free(&d);
}

static void test_merge_is_union(void **state) {
    (void)state;
    hll_buf a, b, u;
    int inv;
    assert_int_equal(hll_new(&a), 0);
    assert_int_equal(hll_new(&b), 0);
    assert_int_equal(hll_new(&u), 0);
    add_numbers(&a, 1, 3000, 3000);
    add_numbers(&b, 2001, 6000, 3000);
    add_numbers(&u, 1, 6000, 3000);
    uint8_t *m = calloc(1, HLL_REGISTERS);
    assert_int_equal(hll_merge_max(m, a.p, a.len), 0);
    assert_int_equal(hll_merge_max(m, b.p, b.len), 0);
    assert_int_equal(hll_count_raw(m), hll_count(u.p, u.len, &inv));
    free(m);
    hll_free(&a);
    hll_free(&b);
    hll_free(&u);
}

static void test_cache(void **state) {
    (void)state;
    hll_buf b;
    uint64_t card;
    assert_int_equal(hll_new(&b), 0);
    assert_int_equal(hll_cache_get(b.p, &card), 1);
    hll_cache_set(b.p, 0x0102030405060708ULL);
    assert_int_equal(b.p[8], 0x08);
    assert_int_equal(b.p[15], 0x01);
    assert_int_equal(hll_cache_get(b.p, &card), 1);
    assert_true(card == 0x0102030405060708ULL);
    hll_cache_invalidate(b.p);
    assert_int_equal(hll_cache_get(b.p, &card), 0);
    hll_free(&b);
}

static void test_corrupt(void **state) {
    (void)state;
    uint8_t v[32] = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\0";
    int inv;
    assert_false(hll_is_valid(v, 15));
    v[4] = 2;
    assert_false(hll_is_valid(v, 18));
    v[4] = HLL_DENSE;
    assert_false(hll_is_valid(v, 18));
    v[4] = HLL_SPARSE;
    /* 16383 zeros only: one register short */
    v[16] = 0x7f;
    v[17] = 0xfe;
    assert_true(hll_is_valid(v, 18));
    hll_count(v, 18, &inv);
    assert_int_equal(inv, 1);
    uint8_t *m = calloc(1, HLL_REGISTERS);
    assert_int_equal(hll_merge_max(m, v, 18), -1);
    /* a value past the last register */
    v[17] = 0xff;
    v[18] = 0x80;
    assert_int_equal(hll_merge_max(m, v, 19), -1);
    hll_buf b;
    assert_int_equal(hll_load(&b, v, 19), 0);
    assert_int_equal(hll_to_dense(&b), -1);
    hll_free(&b);
    /* a register the stream does not reach */
    assert_int_equal(hll_load(&b, v, 17), 0);
    b.p[16] = 0x00; /* one zero: registers 1.. are missing */
    assert_int_equal(hll_set(&b, 100, 3, 3000), -1);
    hll_free(&b);
    free(m);
}

static void test_murmur(void **state) {
    (void)state;
    /* the tail and block paths must agree with a byte-wise definition:
     * same input split differently never matters, different inputs differ */
    uint64_t h1 = hll_murmur64a("abcdefgh", 8, 0xadc83b19ULL);
    uint64_t h2 = hll_murmur64a("abcdefghi", 9, 0xadc83b19ULL);
    assert_true(h1 != h2);
    assert_true(hll_murmur64a("", 0, 0xadc83b19ULL) == hll_murmur64a("", 0, 0xadc83b19ULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_sketch),
        cmocka_unit_test(test_golden_sparse_bytes),
        cmocka_unit_test(test_golden_counts_and_promotion),
        cmocka_unit_test(test_sparse_dense_agree),
        cmocka_unit_test(test_merge_is_union),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_murmur),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
