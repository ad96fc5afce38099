/* test_rdb_codec.c — the pure pieces of the RDB codec: CRC-64/Jones
 * (known vector, chaining, a bitwise model), LZF (round trips over several
 * data shapes, hand-built streams, malformed input refused without
 * overruns), RDB lengths and strings (every length width, integer
 * encodings, LZF strings, truncations), listpacks (every element encoding
 * and size class, header count, damaged back-lengths), ziplists and
 * zipmaps built here byte by byte, and intsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "storage/crc64.h"
#include "storage/lzf.h"
#include "storage/rdb_io.h"
#include "storage/rdb_pack.h"
#include "storage/store.h"
#include "tests/unit/zlbuild.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------------ */

static uint64_t crc64_bitwise(const uint8_t *p, size_t n) {
    uint64_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5ULL & (0 - (crc & 1)));
    }
    return crc;
}

static void test_crc64(void **state) {
    (void)state;
    assert_true(crc64(0, "123456789", 9) == 0xE9C6D914C4B8D9CAULL);
    assert_true(crc64(0, NULL, 0) == 0);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rnd();
    assert_true(crc64(0, buf, sizeof buf) == crc64_bitwise(buf, sizeof buf));
    assert_true(crc64(crc64(0, buf, 333), buf + 333, 667) == crc64(0, buf, sizeof buf));
}

/* ------------------------------------------------------------------ */

static void roundtrip(const uint8_t *in, size_t n) {
    size_t cap = n + n / 32 + 64; /* worst case: one control byte per 32 literals */
    uint8_t *c = malloc(cap), *d = malloc(n + 1);
    size_t cl = lzf_compress(in, n, c, cap);
    assert_true(cl > 0);
    assert_int_equal(lzf_decompress(c, cl, d, n), n);
    assert_memory_equal(d, in, n);
    /* one byte too small an output buffer is refused */
    if (n > 1) assert_int_equal(lzf_decompress(c, cl, d, n - 1), 0);
    free(c);
    free(d);
}

static void test_lzf(void **state) {
    (void)state;
    size_t n = 100000;
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rnd(); /* incompressible */
    roundtrip(b, n);
    memset(b, 'a', n); /* long runs: maximal references */
    roundtrip(b, n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)("abcabd"[i % 6] + (i / 5000)); /* periodic */
    roundtrip(b, n);
    for (size_t len = 1; len < 300; len++) roundtrip(b, len);
    /* compresses well and Redis's "at least 4 bytes saved" contract holds */
    memset(b, 'x', 1000);
    uint8_t out[1000];
    size_t cl = lzf_compress(b, 1000, out, 996);
    assert_true(cl > 0 && cl < 40);
    /* incompressible input does not fit in len - 4 */
    for (size_t i = 0; i < 1000; i++) b[i] = (uint8_t)rnd();
    assert_int_equal(lzf_compress(b, 1000, out, 996), 0);
    free(b);
}

static void test_lzf_malformed(void **state) {
    (void)state;
    uint8_t out[64];
    /* "abc" literal then a reference 3 back of length 4: "abcabca" */
    const uint8_t ok[] = {2, 'a', 'b', 'c', 2 << 5, 2};
    assert_int_equal(lzf_decompress(ok, sizeof ok, out, sizeof out), 7);
    assert_memory_equal(out, "abcabca", 7);
    /* reference before the start of the output */
    const uint8_t back[] = {0, 'a', 1 << 5, 5};
    assert_int_equal(lzf_decompress(back, sizeof back, out, sizeof out), 0);
    /* truncated literal run, truncated reference, truncated long length */
    const uint8_t t1[] = {5, 'a', 'b'};
    assert_int_equal(lzf_decompress(t1, sizeof t1, out, sizeof out), 0);
    const uint8_t t2[] = {0, 'a', 1 << 5};
    assert_int_equal(lzf_decompress(t2, sizeof t2, out, sizeof out), 0);
    const uint8_t t3[] = {0, 'a', 7 << 5, 3};
    assert_int_equal(lzf_decompress(t3, sizeof t3, out, sizeof out), 0);
    /* output overflow */
    assert_int_equal(lzf_decompress(ok, sizeof ok, out, 6), 0);
    /* random garbage never overruns (ASan would tell) */
    for (int i = 0; i < 20000; i++) {
        uint8_t g[32];
        size_t gl = rnd() % sizeof g;
        for (size_t j = 0; j < gl; j++) g[j] = (uint8_t)rnd();
        size_t cap = rnd() % sizeof out;
        assert_true(lzf_decompress(g, gl, out, cap) <= cap);
    }
}

/* ------------------------------------------------------------------ */

static void test_lengths_and_strings(void **state) {
    (void)state;
    rdb_buf b = {0};
    const uint64_t lens[] = {0, 63, 64, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                             UINT64_MAX};
    for (size_t i = 0; i < 8; i++) rdb_put_len(&b, lens[i]);
    assert_int_equal(b.len, 1 + 1 + 2 + 2 + 5 + 5 + 9 + 9);
    const char *strs[] = {"0", "-1", "127", "-128", "128", "32767", "-32768", "32768",
                          "2147483647", "-2147483648", "2147483648", "007", "-0", "+1", "",
                          "hello", "1 "};
    const int intenc[] = {2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0};
    size_t nstr = sizeof strs / sizeof *strs;
    for (size_t i = 0; i < nstr; i++) {
        size_t before = b.len;
        rdb_put_string(&b, strs[i], strlen(strs[i]), 1);
        if (intenc[i]) assert_int_equal(b.len - before, intenc[i]);
        else assert_int_equal(b.len - before, 1 + strlen(strs[i]));
    }
    char big[5000];
    memset(big, 'z', sizeof big);
    size_t before = b.len;
    rdb_put_string(&b, big, sizeof big, 1);
    assert_true(b.len - before < 100); /* LZF */
    rdb_put_string(&b, big, sizeof big, 0);
    rdb_put_double(&b, -2.5);
    rdb_put_u64le(&b, 0x0102030405060708ULL);
    assert_false(b.oom);

    rdb_rd r;
    rdb_rd_init(&r, b.p, b.len);
    for (size_t i = 0; i < 8; i++) {
        uint64_t v;
        assert_int_equal(rdb_get_len(&r, &v, NULL), ST_OK);
        assert_true(v == lens[i]);
    }
    for (size_t i = 0; i < nstr; i++) {
        rdb_str s;
        assert_int_equal(rdb_get_string(&r, &s), ST_OK);
        assert_int_equal(s.len, strlen(strs[i]));
        assert_memory_equal(s.p, strs[i], s.len);
        rdb_str_free(&s);
    }
    for (int k = 0; k < 2; k++) {
        rdb_str s;
        assert_int_equal(rdb_get_string(&r, &s), ST_OK);
        assert_int_equal(s.len, sizeof big);
        assert_memory_equal(s.p, big, sizeof big);
        rdb_str_free(&s);
    }
    double d;
    uint64_t u;
    assert_int_equal(rdb_get_double(&r, &d), ST_OK);
    assert_true(d == -2.5);
    assert_int_equal(rdb_get_u64le(&r, &u), ST_OK);
    assert_true(u == 0x0102030405060708ULL);
    assert_int_equal(rdb_rd_left(&r), 0);
    uint8_t x;
    assert_int_equal(rdb_get_byte(&r, &x), ST_CORRUPT);

    /* every truncation of the whole buffer fails cleanly somewhere */
    for (size_t cut = 0; cut < b.len; cut += 7) {
        rdb_rd t;
        rdb_rd_init(&t, b.p, cut);
        int rc = ST_OK;
        for (size_t i = 0; i < 8 && rc == ST_OK; i++) {
            uint64_t v;
            rc = rdb_get_len(&t, &v, NULL);
        }
        for (size_t i = 0; i < nstr + 2 && rc == ST_OK; i++) {
            rdb_str s;
            rc = rdb_get_string(&t, &s);
            if (rc == ST_OK) rdb_str_free(&s);
        }
        if (rc == ST_OK) rc = rdb_get_double(&t, &d);
        if (rc == ST_OK) rc = rdb_get_u64le(&t, &u);
        assert_int_equal(rc, ST_CORRUPT);
    }
    rdb_buf_free(&b);

    /* an LZF string claiming an absurd length is refused before allocating */
    const uint8_t bomb[] = {0xC3, 0x02, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 'a'};
    rdb_rd_init(&r, bomb, sizeof bomb);
    rdb_str s;
    assert_int_equal(rdb_get_string(&r, &s), ST_CORRUPT);
    /* an unknown special encoding */
    const uint8_t enc9[] = {0xC9};
    rdb_rd_init(&r, enc9, 1);
    assert_int_equal(rdb_get_string(&r, &s), ST_CORRUPT);
    /* a text double (ZSET type 3) */
    const uint8_t td[] = {3, '1', '.', '5', 254, 255, 253};
    rdb_rd_init(&r, td, sizeof td);
    assert_int_equal(rdb_get_double_text(&r, &d), ST_OK);
    assert_true(d == 1.5);
    assert_int_equal(rdb_get_double_text(&r, &d), ST_OK);
    assert_true(d > 1e308);
    assert_int_equal(rdb_get_double_text(&r, &d), ST_OK);
    assert_true(d < -1e308);
    assert_int_equal(rdb_get_double_text(&r, &d), ST_OK);
    assert_true(d != d);
}

/* ------------------------------------------------------------------ */

static void test_listpack(void **state) {
    (void)state;
    const int64_t ints[] = {0, 127, 128, -1, 4095, -4096, 4096, 32767, -32768, 32768,
                            8388607, -8388608, 8388608, INT32_MAX, INT32_MIN, INT64_MAX,
                            INT64_MIN};
    const size_t slens[] = {0, 1, 63, 64, 4095, 4096, 70000};
    lp_writer w;
    lpw_init(&w);
    char *s = malloc(70000);
    memset(s, 's', 70000);
    for (size_t i = 0; i < 17; i++) lpw_add_int(&w, ints[i]);
    for (size_t i = 0; i < 7; i++) lpw_add(&w, s, slens[i]);
    lpw_add(&w, "-12", 3); /* canonical integer text: stored as an integer */
    lpw_add(&w, "012", 3); /* not canonical: stays a string */
    assert_int_equal(lpw_finish(&w), ST_OK);
    uint64_t count;
    assert_int_equal(lp_validate(w.b.p, w.b.len, &count), ST_OK);
    assert_int_equal(count, 26);

    lp_reader r;
    pk_val v;
    assert_int_equal(lp_open(&r, w.b.p, w.b.len), ST_OK);
    for (size_t i = 0; i < 17; i++) {
        assert_int_equal(lp_next(&r, &v), ST_OK);
        assert_true(v.is_int);
        assert_true(v.v == ints[i]);
    }
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(lp_next(&r, &v), ST_OK);
        assert_false(v.is_int);
        assert_int_equal(v.slen, slens[i]);
    }
    assert_int_equal(lp_next(&r, &v), ST_OK);
    assert_true(v.is_int && v.v == -12);
    assert_int_equal(lp_next(&r, &v), ST_OK);
    assert_true(!v.is_int && v.slen == 3);
    const uint8_t *t;
    size_t tl;
    pk_val_text(&v, &t, &tl);
    assert_memory_equal(t, "012", 3);
    assert_int_equal(lp_next(&r, &v), ST_NOTFOUND);

    /* damage: every single-byte change and every truncation is either
     * refused or still walks within bounds (ASan checks the latter) */
    uint8_t *c = malloc(w.b.len);
    for (size_t i = 0; i < 400 && i < w.b.len; i++) {
        memcpy(c, w.b.p, w.b.len);
        c[i] ^= 0x41;
        (void)lp_validate(c, w.b.len, &count);
        (void)lp_validate(w.b.p, i, &count);
    }
    /* wrong header count, wrong total, missing terminator, bad backlen */
    memcpy(c, w.b.p, w.b.len);
    c[4] ^= 1;
    assert_int_equal(lp_validate(c, w.b.len, &count), ST_CORRUPT);
    memcpy(c, w.b.p, w.b.len);
    assert_int_equal(lp_validate(c, w.b.len - 1, &count), ST_CORRUPT);
    c[w.b.len - 1] = 0;
    assert_int_equal(lp_validate(c, w.b.len, &count), ST_CORRUPT);
    memcpy(c, w.b.p, w.b.len);
    c[7] ^= 1; /* backlen of the first element (0: one byte, then backlen 1) */
    assert_int_equal(lp_validate(c, w.b.len, &count), ST_CORRUPT);
    free(c);
    lpw_free(&w);
    free(s);

    /* more than 65535 elements: the header says "unknown" */
    lpw_init(&w);
    for (int i = 0; i < 70000; i++) lpw_add_int(&w, i & 127);
    assert_int_equal(lpw_finish(&w), ST_OK);
    assert_int_equal(w.b.p[4], 0xff);
    assert_int_equal(w.b.p[5], 0xff);
    assert_int_equal(lp_validate(w.b.p, w.b.len, &count), ST_OK);
    assert_int_equal(count, 70000);
    lpw_free(&w);
}

static void test_ziplist(void **state) {
    (void)state;
    zlb z;
    zl_init(&z);
    zl_entry(&z, (const uint8_t[]){0x03}, 1, "abc", 3);
    zl_entry(&z, (const uint8_t[]){0xF1}, 1, "", 0);                /* 0 */
    zl_entry(&z, (const uint8_t[]){0xFD}, 1, "", 0);                /* 12 */
    zl_entry(&z, (const uint8_t[]){0xFE}, 1, "\x9c", 1);            /* -100 */
    zl_entry(&z, (const uint8_t[]){0xC0}, 1, "\x2c\x01", 2);        /* 300 */
    zl_entry(&z, (const uint8_t[]){0xF0}, 1, "\x60\x79\xfe", 3);    /* -100000 */
    zl_entry(&z, (const uint8_t[]){0xD0}, 1, "\x00\x00\x00\x80", 4); /* INT32_MIN */
    zl_entry(&z, (const uint8_t[]){0xE0}, 1, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8);
    static char big[300];
    memset(big, 'q', sizeof big);
    zl_entry(&z, (const uint8_t[]){0x41, 0x2c}, 2, big, 300); /* 14-bit length */
    zl_entry(&z, (const uint8_t[]){0x01}, 1, "z", 1);         /* prevlen takes 5 bytes */
    size_t n = zl_finish(&z);
    const int64_t want[] = {0, 12, -100, 300, -100000, INT32_MIN, INT64_MAX};
    zl_reader r;
    pk_val v;
    assert_int_equal(zl_open(&r, z.b, n), ST_OK);
    assert_int_equal(zl_next(&r, &v), ST_OK);
    assert_true(!v.is_int && v.slen == 3 && !memcmp(v.s, "abc", 3));
    for (int i = 0; i < 7; i++) {
        assert_int_equal(zl_next(&r, &v), ST_OK);
        assert_true(v.is_int);
        assert_true(v.v == want[i]);
    }
    assert_int_equal(zl_next(&r, &v), ST_OK);
    assert_int_equal(v.slen, 300);
    assert_int_equal(zl_next(&r, &v), ST_OK);
    assert_int_equal(zl_next(&r, &v), ST_NOTFOUND);

    /* a wrong prevlen, a wrong tail offset, a wrong count */
    uint8_t c[4096];
    memcpy(c, z.b, n);
    c[10 + 5] ^= 1; /* the second entry's prevlen */
    assert_int_equal(zl_open(&r, c, n), ST_OK);
    int rc;
    while ((rc = zl_next(&r, &v)) == ST_OK) {}
    assert_int_equal(rc, ST_CORRUPT);
    memcpy(c, z.b, n);
    c[4] ^= 1;
    rc = zl_open(&r, c, n);
    while (rc == ST_OK) rc = zl_next(&r, &v);
    assert_int_equal(rc, ST_CORRUPT);
    memcpy(c, z.b, n);
    c[8] ^= 1;
    rc = zl_open(&r, c, n);
    while (rc == ST_OK) rc = zl_next(&r, &v);
    assert_int_equal(rc, ST_CORRUPT);
    for (size_t i = 0; i < n; i++) { /* bounds under any damage */
        memcpy(c, z.b, n);
        c[i] = (uint8_t)rnd();
        rc = zl_open(&r, c, n);
        while (rc == ST_OK) rc = zl_next(&r, &v);
        rc = zl_open(&r, z.b, i);
        while (rc == ST_OK) rc = zl_next(&r, &v);
    }
}

static void test_zipmap(void **state) {
    (void)state;
    /* {"foo": "bar", "": "x"} with one byte of padding after "bar" */
    const uint8_t zm[] = {2, 3, 'f', 'o', 'o', 3, 1, 'b', 'a', 'r', 0, 0, 1, 0, 'x', 0xff};
    zm_reader r;
    const uint8_t *f, *v;
    size_t fl, vl;
    assert_int_equal(zm_open(&r, zm, sizeof zm), ST_OK);
    assert_int_equal(zm_next(&r, &f, &fl, &v, &vl), ST_OK);
    assert_true(fl == 3 && !memcmp(f, "foo", 3) && vl == 3 && !memcmp(v, "bar", 3));
    assert_int_equal(zm_next(&r, &f, &fl, &v, &vl), ST_OK);
    assert_true(fl == 0 && vl == 1 && v[0] == 'x');
    assert_int_equal(zm_next(&r, &f, &fl, &v, &vl), ST_NOTFOUND);
    for (size_t cut = 0; cut < sizeof zm - 1; cut++) {
        int rc = zm_open(&r, zm, cut);
        while (rc == ST_OK) rc = zm_next(&r, &f, &fl, &v, &vl);
        assert_int_equal(rc, ST_CORRUPT);
    }
    /* a big length pointing past the end */
    const uint8_t bad[] = {1, 254, 0xff, 0xff, 0, 0, 'a', 0xff};
    assert_int_equal(zm_open(&r, bad, sizeof bad), ST_OK);
    assert_int_equal(zm_next(&r, &f, &fl, &v, &vl), ST_CORRUPT);
}

static void test_intset(void **state) {
    (void)state;
    const int64_t a[] = {-5, 1, 300};
    const int64_t b[] = {-70000, 5, 70000};
    const int64_t c[] = {INT64_MIN, 0, INT64_MAX};
    const int64_t *sets[] = {a, b, c};
    const size_t sizes[] = {8 + 6, 8 + 12, 8 + 24};
    for (int s = 0; s < 3; s++) {
        rdb_buf buf = {0};
        is_write(&buf, sets[s], 3);
        assert_int_equal(buf.len, sizes[s]);
        uint32_t n;
        assert_int_equal(is_validate(buf.p, buf.len, &n), ST_OK);
        assert_int_equal(n, 3);
        for (uint32_t i = 0; i < 3; i++) assert_true(is_get(buf.p, i) == sets[s][i]);
        assert_int_equal(is_validate(buf.p, buf.len - 1, &n), ST_CORRUPT);
        uint8_t *d = malloc(buf.len);
        memcpy(d, buf.p, buf.len);
        d[0] = 3; /* encoding */
        assert_int_equal(is_validate(d, buf.len, &n), ST_CORRUPT);
        memcpy(d, buf.p, buf.len);
        d[4] = 4; /* length */
        assert_int_equal(is_validate(d, buf.len, &n), ST_CORRUPT);
        free(d);
        rdb_buf_free(&buf);
    }
    const int64_t unsorted[] = {3, 1};
    const int64_t dup[] = {1, 1};
    rdb_buf buf = {0};
    uint32_t n;
    is_write(&buf, unsorted, 2);
    assert_int_equal(is_validate(buf.p, buf.len, &n), ST_CORRUPT);
    buf.len = 0;
    is_write(&buf, dup, 2);
    assert_int_equal(is_validate(buf.p, buf.len, &n), ST_CORRUPT);
    rdb_buf_free(&buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc64),
        cmocka_unit_test(test_lzf),
        cmocka_unit_test(test_lzf_malformed),
        cmocka_unit_test(test_lengths_and_strings),
        cmocka_unit_test(test_listpack),
        cmocka_unit_test(test_ziplist),
        cmocka_unit_test(test_zipmap),
        cmocka_unit_test(test_intset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
