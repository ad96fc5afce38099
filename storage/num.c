/* num.c — number parsing and formatting with Redis 7.0's observable rules.
 *
 * Job: every place where lodis turns client bytes into a number, or a number
 * into reply bytes, goes through here so that acceptance and formatting match
 * redis-server byte for byte (string2ll, string2ull, string2d, string2ld,
 * ll2string, d2string / addReplyDouble, ld2string).
 *
 * Invariants: inputs are (pointer, length) and are never read past length;
 * float parsers copy into a NUL-terminated scratch buffer before calling
 * strtod/strtold, and restore errno afterwards. Formatters never write more
 * than cap bytes and always NUL-terminate when cap > 0.
 *
 * The score64 encoding is an on-disk format: its layout is fixed forever.
 * This file is kept clean under -Wconversion (enforced by the pragma below),
 * because a silent truncation here corrupts data. */
#include "storage/num.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic error "-Wconversion"

_Static_assert(sizeof(double) == 8, "score64 needs 64-bit IEEE-754 doubles");

/* Stack scratch size for num_parse_double; longer inputs use malloc. */
#define PARSE_DOUBLE_STACK 128

/* The C locale's isspace() set, which is what strtod skips. */
static int is_c_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Accumulate decimal digits s[i..len) into *v without exceeding limit.
 * Returns -1 on a non-digit or overflow. */
static int accumulate_digits(
    const char *s, size_t i, size_t len, unsigned long long limit, unsigned long long *v) {
    unsigned long long acc = *v;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned long long d = (unsigned long long)(s[i] - '0');
        if (acc > (limit - d) / 10) return -1;
        acc = acc * 10 + d;
    }
    *v = acc;
    return 0;
}

int num_parse_ll(const char *s, size_t len, long long *out) {
    size_t i = 0;
    int negative = 0;
    unsigned long long v = 0;

    /* 20 bytes hold "-9223372036854775808"; anything longer is invalid. */
    if (len == 0 || len > 20) return -1;
    if (len == 1 && s[0] == '0') {
        if (out) *out = 0;
        return 0;
    }
    if (s[0] == '-') {
        negative = 1;
        i = 1;
        if (len == 1) return -1;
    }
    /* A leading zero is only valid as the whole string "0". */
    if (s[i] < '1' || s[i] > '9') return -1;
    unsigned long long limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    if (accumulate_digits(s, i, len, limit, &v) != 0) return -1;
    if (out) {
        /* -(v-1)-1 reaches LLONG_MIN without overflowing. */
        *out = negative ? -(long long)(v - 1) - 1 : (long long)v;
    }
    return 0;
}

int num_parse_ull(const char *s, size_t len, unsigned long long *out) {
    unsigned long long v = 0;

    if (len == 0 || len > 20) return -1;
    if (len > 1 && (s[0] < '1' || s[0] > '9')) return -1;
    if (accumulate_digits(s, 0, len, ULLONG_MAX, &v) != 0) return -1;
    if (out) *out = v;
    return 0;
}

int num_parse_ull_loose(const char *s, size_t len, unsigned long long *out) {
    long long ll;
    size_t i = 0;
    int negative = 0;
    unsigned long long v = 0;

    /* Redis hands string2ull a C string, so an embedded NUL ends the input. */
    const char *nul = memchr(s, '\0', len);
    if (nul) len = (size_t)(nul - s);

    if (num_parse_ll(s, len, &ll) == 0) {
        if (ll < 0) return -1;
        if (out) *out = (unsigned long long)ll;
        return 0;
    }
    /* strtoull(s, &end, 10) must consume everything and not hit ERANGE. */
    while (i < len && is_c_space(s[i])) i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        negative = s[i] == '-';
        i++;
    }
    if (i == len) return -1; /* no digits: strtoull leaves end at s */
    if (accumulate_digits(s, i, len, ULLONG_MAX, &v) != 0) return -1;
    if (out) *out = negative ? 0 - v : v;
    return 0;
}

int num_parse_double(const char *s, size_t len, double *out) {
    char stackbuf[PARSE_DOUBLE_STACK];
    char *buf = stackbuf;
    char *end;
    int rc = -1;
    int saved_errno = errno;

    if (len == 0 || is_c_space(s[0])) return -1;
    if (len >= sizeof(stackbuf)) {
        buf = malloc(len + 1);
        if (buf == NULL) return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    double v = strtod(buf, &end);
    if ((size_t)(end - buf) != len) goto out; /* trailing bytes or embedded NUL */
    if (errno == ERANGE && (isinf(v) || v == 0.0)) goto out;
    if (isnan(v)) goto out;
    if (out) *out = v;
    rc = 0;
out:
    if (buf != stackbuf) free(buf);
    errno = saved_errno;
    return rc;
}

int num_parse_long_double(const char *s, size_t len, long double *out) {
    char buf[NUM_LONG_DOUBLE_STR_SIZE];
    char *end;
    int rc = -1;
    int saved_errno = errno;

    if (len == 0 || len >= sizeof(buf) || is_c_space(s[0])) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    long double v = strtold(buf, &end);
    if ((size_t)(end - buf) != len) goto out;
    if (errno == ERANGE && (isinf(v) || v == 0.0L)) goto out;
    if (errno == EINVAL || isnan(v)) goto out;
    if (out) *out = v;
    rc = 0;
out:
    errno = saved_errno;
    return rc;
}

/* Copy a literal into dst if it fits; the formatter contract otherwise. */
static size_t put_literal(char *dst, size_t cap, const char *lit) {
    size_t n = strlen(lit);
    if (n + 1 > cap) {
        if (cap > 0) dst[0] = '\0';
        return 0;
    }
    memcpy(dst, lit, n + 1);
    return n;
}

/* Check an snprintf result against cap and apply the formatter contract. */
static size_t snprintf_result(char *dst, size_t cap, int n) {
    if (n < 0 || (size_t)n + 1 > cap) {
        if (cap > 0) dst[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

size_t num_ull_to_str(char *dst, size_t cap, unsigned long long v) {
    char tmp[NUM_LL_STR_SIZE];
    size_t n = 0;

    /* Emit digits backwards, then copy them out in order. */
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    if (n + 1 > cap) {
        if (cap > 0) dst[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
    dst[n] = '\0';
    return n;
}

size_t num_ll_to_str(char *dst, size_t cap, long long v) {
    if (v >= 0) return num_ull_to_str(dst, cap, (unsigned long long)v);
    /* Magnitude computed in unsigned arithmetic so LLONG_MIN works. */
    unsigned long long mag = 0ULL - (unsigned long long)v;
    if (cap < 2) {
        if (cap > 0) dst[0] = '\0';
        return 0;
    }
    size_t n = num_ull_to_str(dst + 1, cap - 1, mag);
    if (n == 0) {
        dst[0] = '\0';
        return 0;
    }
    dst[0] = '-';
    return n + 1;
}

size_t num_double_to_str(char *dst, size_t cap, double v) {
    /* 2^52: below it every integral double converts to long long exactly. */
    const double exact_int_limit = 4503599627370496.0;

    if (isnan(v)) return put_literal(dst, cap, "nan");
    if (isinf(v)) return put_literal(dst, cap, v > 0 ? "inf" : "-inf");
    if (v == 0.0) return put_literal(dst, cap, signbit(v) ? "-0" : "0");
    if (v > -exact_int_limit && v < exact_int_limit && v == (double)(long long)v)
        return num_ll_to_str(dst, cap, (long long)v);
    return snprintf_result(dst, cap, snprintf(dst, cap, "%.17g", v));
}

size_t num_long_double_to_str(char *dst, size_t cap, long double v, int mode) {
    size_t n;

    if (isinf(v)) return put_literal(dst, cap, v > 0 ? "inf" : "-inf");
    switch (mode) {
    case NUM_LD_AUTO: return snprintf_result(dst, cap, snprintf(dst, cap, "%.17Lg", v));
    case NUM_LD_HEX: return snprintf_result(dst, cap, snprintf(dst, cap, "%La", v));
    case NUM_LD_HUMAN: break;
    default:
        if (cap > 0) dst[0] = '\0';
        return 0;
    }
    /* 17 fractional digits, then drop the zeros a human would not type. */
    n = snprintf_result(dst, cap, snprintf(dst, cap, "%.17Lf", v));
    if (n == 0) return 0;
    if (memchr(dst, '.', n) != NULL) {
        while (dst[n - 1] == '0') n--;
        if (dst[n - 1] == '.') n--;
    }
    if (n == 2 && dst[0] == '-' && dst[1] == '0') {
        dst[0] = '0';
        n = 1;
    }
    dst[n] = '\0';
    return n;
}

void num_be64_put(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t num_be64_get(const uint8_t in[8]) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | in[i];
    return v;
}

void num_be32_put(uint8_t out[4], uint32_t v) {
    for (int i = 3; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint32_t num_be32_get(const uint8_t in[4]) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | in[i];
    return v;
}

#define SIGN_BIT (UINT64_C(1) << 63)

void num_score64_encode(double d, uint8_t out[8]) {
    uint64_t bits;

    if (d == 0.0) d = 0.0; /* -0.0 compares equal to +0.0: store one form */
    memcpy(&bits, &d, sizeof(bits));
    /* Positive doubles order like their bits once the sign bit is set;
     * negative ones order reversed, so invert all their bits. */
    bits = (bits & SIGN_BIT) ? ~bits : bits | SIGN_BIT;
    num_be64_put(out, bits);
}

double num_score64_decode(const uint8_t in[8]) {
    uint64_t bits = num_be64_get(in);
    double d;

    bits = (bits & SIGN_BIT) ? bits & ~SIGN_BIT : ~bits;
    memcpy(&d, &bits, sizeof(d));
    return d;
}
