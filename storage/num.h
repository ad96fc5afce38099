/* num.h — number parsing and formatting with Redis 7.0 rules, plus the
 * order-preserving score encoding and big-endian integer helpers.
 *
 * Leaf module: libc only. Every function is pure (no global state besides
 * errno, which the parsers save and restore). Inputs are (pointer, length)
 * pairs and need not be NUL-terminated. Formatting functions write a
 * NUL-terminated string into a caller buffer and return its length without
 * the NUL, or 0 when the buffer is too small (then dst[0] is '\0' if cap > 0).
 *
 * Locale: the float parsers and formatters use strtod/snprintf, which follow
 * LC_NUMERIC. Redis never changes LC_NUMERIC and neither may lodis. */
#ifndef LODIS_NUM_H
#define LODIS_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Buffer sizes (including the NUL) that always suffice for each formatter. */
#define NUM_LL_STR_SIZE          21   /* "-9223372036854775808" */
#define NUM_DOUBLE_STR_SIZE      32   /* "-2.2250738585072014e-308" is 24 */
#define NUM_LONG_DOUBLE_STR_SIZE 5120 /* Redis's MAX_LONG_DOUBLE_CHARS */

/* Longest input num_parse_long_double accepts is NUM_LONG_DOUBLE_STR_SIZE-1. */

/* Modes for num_long_double_to_str. */
#define NUM_LD_AUTO  0 /* "%.17Lg" (Redis LD_STR_AUTO) */
#define NUM_LD_HUMAN 1 /* "%.17Lf", trailing zeros and '.' dropped, "-0" -> "0" */
#define NUM_LD_HEX   2 /* "%La", exact, used when an exact value must be logged */

/* Parse a signed 64-bit decimal integer exactly as Redis's string2ll: an
 * optional '-', then "0" alone or a digit 1-9 followed by digits; no spaces,
 * no '+', no leading zeros, no "-0", no overflow, at most 20 bytes.
 * Returns 0 and stores *out (if out is not NULL) on success, -1 otherwise. */
int num_parse_ll(const char *s, size_t len, long long *out);

/* Parse an unsigned 64-bit decimal integer with num_parse_ll's strict rules
 * and no sign at all ("0" or [1-9][0-9]*, up to 18446744073709551615).
 * Returns 0 on success, -1 otherwise. */
int num_parse_ull(const char *s, size_t len, unsigned long long *out);

/* Parse an unsigned integer exactly as Redis's string2ull (used for stream
 * IDs): first the num_parse_ll rules (negative values rejected), and if those
 * fail, strtoull(…, 10) semantics: leading white space, an optional '+' or
 * '-', then decimal digits to the end; '-' negates modulo 2^64 (so "-05" is
 * 18446744073709551611 while "-5" is rejected); overflow is rejected. Bytes
 * after an embedded NUL make the input invalid. Returns 0 or -1. */
int num_parse_ull_loose(const char *s, size_t len, unsigned long long *out);

/* Parse a double as Redis's string2d / getDoubleFromObject: strtod over the
 * whole input, which must be non-empty, must not start with white space and
 * must be consumed entirely. Accepts what strtod accepts ("1e3", ".5", "+1",
 * "0x10", "inf", "-Infinity"). Rejects NaN, overflow to ±inf ("1e400") and
 * underflow to zero ("1e-400"); subnormal results are kept.
 * Returns 0 on success, -1 otherwise (-1 also if a long input cannot be
 * copied because malloc failed). */
int num_parse_double(const char *s, size_t len, double *out);

/* Parse a long double as Redis's string2ld (INCRBYFLOAT, HINCRBYFLOAT):
 * the num_parse_double rules with strtold, and the input must be shorter than
 * NUM_LONG_DOUBLE_STR_SIZE bytes. Returns 0 on success, -1 otherwise. */
int num_parse_long_double(const char *s, size_t len, long double *out);

/* Format v in decimal. Returns the length (at most 20), 0 if cap is too
 * small; NUM_LL_STR_SIZE always suffices. */
size_t num_ll_to_str(char *dst, size_t cap, long long v);

/* Format an unsigned value in decimal. Same contract as num_ll_to_str. */
size_t num_ull_to_str(char *dst, size_t cap, unsigned long long v);

/* Format a double the way Redis 7.0 replies with one in RESP2 (ZSCORE,
 * ZINCRBY, WITHSCORES) and stores it (d2string): "inf" / "-inf", "nan" for
 * any NaN, otherwise printf "%.17g" ("1.5", "0.10000000000000001", "3",
 * "-0", "1e+17"). Integral values below 2^52 in magnitude print as plain
 * integers, which "%.17g" also does. Returns the length, or 0 if cap is too
 * small; NUM_DOUBLE_STR_SIZE always suffices. */
size_t num_double_to_str(char *dst, size_t cap, double v);

/* Format a long double as Redis's ld2string. mode is NUM_LD_AUTO,
 * NUM_LD_HUMAN (the INCRBYFLOAT reply and stored value: "%.17Lf" with
 * trailing zeros and a trailing '.' removed, and "-0" turned into "0") or
 * NUM_LD_HEX. Infinities print as "inf" / "-inf" in every mode. Returns the
 * length, or 0 if cap is too small or mode is unknown. In human mode cap must
 * hold the text before trailing zeros are dropped (as in Redis);
 * NUM_LONG_DOUBLE_STR_SIZE always suffices for finite x86 long doubles. */
size_t num_long_double_to_str(char *dst, size_t cap, long double v, int mode);

/* Order-preserving encoding of a double into 8 bytes: for non-NaN a and b,
 * memcmp(enc(a), enc(b), 8) has the sign of a - b. -0.0 is encoded exactly
 * as +0.0, so it decodes as +0.0. NaN must not be stored (Redis rejects NaN
 * scores); its encoding sorts beyond the infinity of the same sign.
 * Layout: IEEE-754 bits, big-endian; sign bit flipped for values >= +0.0,
 * all bits inverted for negative values. Never change: this is on disk. */
void num_score64_encode(double d, uint8_t out[8]);

/* Inverse of num_score64_encode. Every 8-byte input decodes to some double. */
double num_score64_decode(const uint8_t in[8]);

/* Big-endian stores and loads, byte-wise (no alignment needed). */
void num_be64_put(uint8_t out[8], uint64_t v);
uint64_t num_be64_get(const uint8_t in[8]);
void num_be32_put(uint8_t out[4], uint32_t v);
uint32_t num_be32_get(const uint8_t in[4]);

#endif
