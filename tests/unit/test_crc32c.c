/* test_crc32c.c — CRC-32C against published vectors and a bitwise model.
 *
 * Vectors: the common check value for "123456789" and the four 32-byte
 * patterns of RFC 3720 (iSCSI) appendix B.4. The slicing-by-8 tables are
 * checked indirectly by comparing with a one-bit-at-a-time implementation
 * written here from the polynomial, over random data, lengths and
 * alignments; the SSE4.2 path (when present) must agree byte for byte. */
#include "storage/crc32c.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Reference model: reflected polynomial 0x82F63B78, one bit per step. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len) {
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void test_known_vectors(void **state) {
    (void)state;
    uint8_t buf[32];

    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, NULL, 0), 0);
    assert_int_equal(crc32c(0x12345678u, NULL, 0), 0x12345678u);

    memset(buf, 0, sizeof(buf));
    assert_int_equal(crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
    assert_int_equal(crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
    assert_int_equal(crc32c(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(crc32c_sw(0, buf, 32), 0x113FDB5Cu);
}

static void test_chaining(void **state) {
    (void)state;
    static const char msg[] = "The quick brown fox jumps over the lazy dog, twice over.";
    size_t n = sizeof(msg) - 1;
    uint32_t whole = crc32c(0, msg, n);

    assert_int_equal(whole, crc32c_bitwise(0, (const uint8_t *)msg, n));
    for (size_t cut = 0; cut <= n; cut++) {
        assert_int_equal(crc32c(crc32c(0, msg, cut), msg + cut, n - cut), whole);
        assert_int_equal(crc32c_sw(crc32c_sw(0, msg, cut), msg + cut, n - cut), whole);
    }
}

static void test_random_against_model(void **state) {
    (void)state;
    enum { MAX = 4096 };
    uint8_t *buf = malloc(MAX + 16);
    assert_non_null(buf);
    for (size_t i = 0; i < MAX + 16; i++) buf[i] = (uint8_t)rng_next();

    for (int iter = 0; iter < 3000; iter++) {
        size_t off = rng_next() % 16;
        size_t len = rng_next() % (iter < 2000 ? 64 : MAX);
        uint32_t seed = (iter & 1) ? (uint32_t)rng_next() : 0;
        uint32_t want = crc32c_bitwise(seed, buf + off, len);
        assert_int_equal(crc32c_sw(seed, buf + off, len), want);
        assert_int_equal(crc32c(seed, buf + off, len), want);
    }
    free(buf);
}

static void test_detects_changes(void **state) {
    (void)state;
    uint8_t buf[256];
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (uint8_t)(i * 7);
    uint32_t base = crc32c(0, buf, sizeof(buf));
    /* Every single-bit flip must change the CRC. */
    for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(crc32c(0, buf, sizeof(buf)), base);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(crc32c(0, buf, sizeof(buf)), base);
    /* Reported for the log; both answers are valid. */
    print_message("crc32c: hardware path %s\n", crc32c_hw_available() ? "on" : "off");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_detects_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
