/* bitops.h — pure operations on byte buffers for the Redis bitmap commands
 * (GETBIT, SETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO).
 *
 * Leaf module: libc only, no allocation. Bit numbering is Redis's: bit 0 is
 * the most significant bit of byte 0. Buffers are (pointer, length); bytes
 * past the length read as zero everywhere, as Redis treats missing data.
 * p may be NULL when n is 0. */
#ifndef LODIS_BITOPS_H
#define LODIS_BITOPS_H

#include <stddef.h>
#include <stdint.h>

/* BITOP operations. */
#define BITOPS_AND 0
#define BITOPS_OR  1
#define BITOPS_XOR 2
#define BITOPS_NOT 3

/* BITFIELD OVERFLOW behaviours. */
#define BITOPS_WRAP 0
#define BITOPS_SAT  1
#define BITOPS_FAIL 2

/* Number of set bits in p[0..n). */
uint64_t bitops_count(const uint8_t *p, size_t n);

/* BITCOUNT key start end [BYTE|BIT] after argument parsing: start and end
 * are byte indexes (isbit == 0) or bit indexes (isbit != 0), inclusive,
 * negative values count from the end. Out-of-range values are clamped as
 * Redis does; an empty range gives 0. For plain "BITCOUNT key" pass
 * start 0, end -1. */
uint64_t bitops_count_range(const uint8_t *p, size_t n, long long start, long long end, int isbit);

/* BITPOS key bit [start [end [BYTE|BIT]]] on an existing string value p[0..n)
 * (the caller answers a missing key itself: bit ? -1 : 0). Pass start 0 when
 * no start was given, and end_given 0 when no end was given (end is then
 * ignored). Returns the absolute bit position of the first bit equal to
 * `bit` (0 or 1) inside the range, else -1, except that when looking for a 0
 * with no explicit end, an all-ones range answers the first bit after the
 * string (n * 8), as if the string were padded with zeros. An empty range,
 * including an empty string, gives -1. */
long long bitops_pos(
    const uint8_t *p, size_t n, int bit, long long start, long long end, int end_given, int isbit);

/* GETBIT: the bit at offset, 0 past the end. */
int bitops_getbit(const uint8_t *p, size_t n, uint64_t offset);

/* SETBIT on a buffer that already holds offset/8 + 1 bytes. Returns the old
 * bit. value is 0 or non-zero. */
int bitops_setbit(uint8_t *p, uint64_t offset, int value);

/* BITOP: dst[i] for i < dstlen is op applied to srcs[k][i] over all k, a
 * source shorter than i+1 contributing a zero byte (missing keys are sources
 * of length 0). Redis uses dstlen = the longest source. BITOPS_NOT uses
 * srcs[0] only. dst may be the same pointer as one of the sources; other
 * overlaps are not allowed. Unknown op: dst is zero-filled. */
void bitops_op(int op,
               uint8_t *dst,
               const uint8_t *const *srcs,
               const size_t *lens,
               size_t nsrc,
               size_t dstlen);

/* BITFIELD GET u<bits>: bits (1..64) bits at bit offset, most significant
 * first; bits past n read as zero. */
uint64_t bitops_get_unsigned(const uint8_t *p, size_t n, uint64_t offset, int bits);

/* BITFIELD GET i<bits>: as bitops_get_unsigned, sign-extended from bit
 * `bits` (1..64). */
int64_t bitops_get_signed(const uint8_t *p, size_t n, uint64_t offset, int bits);

/* BITFIELD SET: store the low `bits` (1..64) bits of value at bit offset.
 * The buffer must already hold (offset + bits + 7) / 8 bytes. */
void bitops_set(uint8_t *p, uint64_t offset, int bits, uint64_t value);

/* Overflow handling for an unsigned field of `bits` bits (1..64; Redis
 * allows up to 63): the result of value + incr. For INCRBY pass the current
 * field value; for SET pass the new value (an out-of-range value such as a
 * negative number cast to uint64_t overflows) with incr 0.
 * Returns 0 when the result fits (*out = result), 1 on overflow above the
 * maximum or when value itself exceeds it, -1 on underflow below 0. On
 * overflow *out is: BITOPS_WRAP the low `bits` bits of value + incr;
 * BITOPS_SAT the maximum (1) or 0 (-1); BITOPS_FAIL not written (the
 * command replies nil and leaves the field alone). */
int bitops_incr_unsigned(uint64_t value, int64_t incr, int bits, int owtype, uint64_t *out);

/* The signed counterpart for a field of `bits` bits (1..64): range
 * [-2^(bits-1), 2^(bits-1)-1]. Returns 0, 1 (above the range) or -1
 * (below); WRAP keeps the low `bits` bits sign-extended, SAT clamps, FAIL
 * leaves *out alone. */
int bitops_incr_signed(int64_t value, int64_t incr, int bits, int owtype, int64_t *out);

#endif
