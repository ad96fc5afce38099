/* bitops.c — bitmap arithmetic for the Redis bit commands, over plain bytes.
 *
 * Job: everything GETBIT … BITFIELD compute once the command is parsed and
 * the value is in memory: population counts, first-bit searches, BITOP
 * combinations, big-endian bit fields and their overflow rules. The answers
 * match redis-server 7.0.15, including its range clamping and the odd
 * corners listed in bitops.h; the command layer only parses arguments.
 *
 * Invariants: nothing is read at or past n (bytes there count as zero),
 * nothing is written outside the range the caller sized; multi-byte words
 * are assembled with memcpy or byte by byte, never through a cast pointer,
 * because LMDB values are only 2-byte aligned. Counting uses the x86 popcnt
 * instruction when the CPU has it (run-time check) and SWAR otherwise. */
#include "storage/bitops.h"

#include <string.h>

/* Portable population count of a 64-bit word (SWAR). */
static unsigned popcount64_swar(uint64_t x) {
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static uint64_t count_swar(const uint8_t *p, size_t n) {
    uint64_t total = 0, w;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, sizeof(w));
        total += popcount64_swar(w);
    }
    for (; i < n; i++) total += popcount64_swar(p[i]);
    return total;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BITOPS_X86 1

__attribute__((target("popcnt"))) static uint64_t count_popcnt(const uint8_t *p, size_t n) {
    uint64_t a = 0, b = 0, w0, w1;
    size_t i = 0;

    /* Two accumulators let consecutive popcnt instructions overlap. */
    for (; i + 16 <= n; i += 16) {
        memcpy(&w0, p + i, sizeof(w0));
        memcpy(&w1, p + i + 8, sizeof(w1));
        a += (uint64_t)__builtin_popcountll(w0);
        b += (uint64_t)__builtin_popcountll(w1);
    }
    for (; i < n; i++) a += (uint64_t)__builtin_popcount(p[i]);
    return a + b;
}
#endif

uint64_t bitops_count(const uint8_t *p, size_t n) {
    if (n == 0) return 0;
#ifdef BITOPS_X86
    if (__builtin_cpu_supports("popcnt")) return count_popcnt(p, n);
#endif
    return count_swar(p, n);
}

/* Resolve a Redis start/end pair (byte or bit units, inclusive, negative
 * from the end) into absolute bit indexes. Returns 0 for an empty range. */
static int resolve_range(
    size_t n, long long start, long long end, int isbit, uint64_t *first, uint64_t *last) {
    long long total = isbit ? (long long)n * 8 : (long long)n;

    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (start > end) return 0;
    if (isbit) {
        *first = (uint64_t)start;
        *last = (uint64_t)end;
    } else {
        *first = (uint64_t)start * 8;
        *last = (uint64_t)end * 8 + 7;
    }
    return 1;
}

/* Mask of the bits of one byte from bit index `from` to `to` (0 = MSB). */
static uint8_t byte_mask(unsigned from, unsigned to) {
    return (uint8_t)((0xffu >> from) & (0xffu << (7 - to)));
}

uint64_t bitops_count_range(const uint8_t *p, size_t n, long long start, long long end, int isbit) {
    uint64_t first, last;

    /* Redis answers 0 here before clamping; clamping alone would count
     * byte (or bit) 0 when both ends fall before the start of the string. */
    if (start < 0 && end < 0 && start > end) return 0;
    if (!resolve_range(n, start, end, isbit, &first, &last)) return 0;

    size_t fbyte = (size_t)(first >> 3), lbyte = (size_t)(last >> 3);
    unsigned fbit = (unsigned)(first & 7), lbit = (unsigned)(last & 7);
    if (fbyte == lbyte) return popcount64_swar(p[fbyte] & byte_mask(fbit, lbit));

    uint8_t edges[2] = {(uint8_t)(p[fbyte] & byte_mask(fbit, 7)),
                        (uint8_t)(p[lbyte] & byte_mask(0, lbit))};
    return bitops_count(edges, 2) + bitops_count(p + fbyte + 1, lbyte - fbyte - 1);
}

/* Index of the most significant set bit of a non-zero byte (0 = MSB). */
static unsigned first_set_in_byte(uint8_t b) {
    unsigned i = 0;
    while (!(b & 0x80)) {
        b = (uint8_t)(b << 1);
        i++;
    }
    return i;
}

/* First bit equal to `bit` in the absolute bit range [first, last], or -1. */
static long long find_bit(const uint8_t *p, uint64_t first, uint64_t last, int bit) {
    size_t i = (size_t)(first >> 3), lbyte = (size_t)(last >> 3);
    uint8_t flip = bit ? 0x00 : 0xff; /* after XOR we always look for a 1 */
    uint64_t boring = bit ? 0 : UINT64_MAX, w;

    while (i <= lbyte) {
        /* Skip whole words that cannot contain the bit (never the first
         * or last byte, which may be partial). */
        if (i > (size_t)(first >> 3)) {
            while (i + 8 < lbyte) {
                memcpy(&w, p + i, sizeof(w));
                if (w != boring) break;
                i += 8;
            }
        }
        uint8_t b = (uint8_t)(p[i] ^ flip);
        unsigned from = i == (size_t)(first >> 3) ? (unsigned)(first & 7) : 0;
        unsigned to = i == lbyte ? (unsigned)(last & 7) : 7;
        b &= byte_mask(from, to);
        if (b) return (long long)i * 8 + first_set_in_byte(b);
        i++;
    }
    return -1;
}

long long bitops_pos(
    const uint8_t *p, size_t n, int bit, long long start, long long end, int end_given, int isbit) {
    uint64_t first, last;

    if (!end_given) end = -1;
    if (!resolve_range(n, start, end, isbit, &first, &last)) return -1;
    long long pos = find_bit(p, first, last, bit ? 1 : 0);
    if (pos >= 0 || bit || end_given) return pos;
    /* A 0 bit is implied just past the string when the range is open. */
    return (long long)last + 1;
}

int bitops_getbit(const uint8_t *p, size_t n, uint64_t offset) {
    uint64_t byte = offset >> 3;
    if (byte >= n) return 0;
    return (p[byte] >> (7 - (offset & 7))) & 1;
}

int bitops_setbit(uint8_t *p, uint64_t offset, int value) {
    size_t byte = (size_t)(offset >> 3);
    uint8_t mask = (uint8_t)(0x80u >> (offset & 7));
    int old = (p[byte] & mask) != 0;

    if (value)
        p[byte] = (uint8_t)(p[byte] | mask);
    else
        p[byte] = (uint8_t)(p[byte] & ~mask);
    return old;
}

/* Combine byte i of every source; missing bytes are zero. */
static uint8_t
op_byte(int op, const uint8_t *const *srcs, const size_t *lens, size_t nsrc, size_t i) {
    uint8_t acc = i < lens[0] ? srcs[0][i] : 0;

    if (op == BITOPS_NOT) return (uint8_t)~acc;
    for (size_t k = 1; k < nsrc; k++) {
        uint8_t b = i < lens[k] ? srcs[k][i] : 0;
        if (op == BITOPS_AND)
            acc &= b;
        else if (op == BITOPS_OR)
            acc |= b;
        else
            acc ^= b;
    }
    return acc;
}

void bitops_op(int op,
               uint8_t *dst,
               const uint8_t *const *srcs,
               const size_t *lens,
               size_t nsrc,
               size_t dstlen) {
    size_t minlen = dstlen, i = 0;

    if (nsrc == 0 || op < BITOPS_AND || op > BITOPS_NOT) {
        if (dstlen) memset(dst, 0, dstlen);
        return;
    }
    if (op == BITOPS_NOT) nsrc = 1;
    for (size_t k = 0; k < nsrc; k++)
        if (lens[k] < minlen) minlen = lens[k];

    /* Word at a time where every source has data. */
    for (; i + 8 <= minlen; i += 8) {
        uint64_t acc, w;
        memcpy(&acc, srcs[0] + i, sizeof(acc));
        if (op == BITOPS_NOT) acc = ~acc;
        for (size_t k = 1; k < nsrc; k++) {
            memcpy(&w, srcs[k] + i, sizeof(w));
            if (op == BITOPS_AND)
                acc &= w;
            else if (op == BITOPS_OR)
                acc |= w;
            else
                acc ^= w;
        }
        memcpy(dst + i, &acc, sizeof(acc));
    }
    for (; i < dstlen; i++) dst[i] = op_byte(op, srcs, lens, nsrc, i);
}

uint64_t bitops_get_unsigned(const uint8_t *p, size_t n, uint64_t offset, int bits) {
    uint8_t win[9] = {0};
    uint64_t byte = offset >> 3;
    unsigned shift = (unsigned)(offset & 7);
    uint64_t v = 0;

    /* Copy the (at most 9) bytes the field can touch; past n stays zero. */
    for (unsigned i = 0; i < 9 && byte < n && i < n - byte; i++) win[i] = p[byte + i];
    for (unsigned i = 0; i < 8; i++) v = (v << 8) | win[i];
    if (shift) v = (v << shift) | (uint64_t)(win[8] >> (8 - shift));
    return v >> (64 - bits);
}

/* Two's-complement reinterpretation without implementation-defined casts. */
static int64_t u64_to_i64(uint64_t u) {
    if (u >> 63) return -(int64_t)(~u) - 1;
    return (int64_t)u;
}

int64_t bitops_get_signed(const uint8_t *p, size_t n, uint64_t offset, int bits) {
    uint64_t u = bitops_get_unsigned(p, n, offset, bits);

    if (bits < 64 && (u >> (bits - 1)) & 1) u |= UINT64_MAX << bits;
    return u64_to_i64(u);
}

void bitops_set(uint8_t *p, uint64_t offset, int bits, uint64_t value) {
    for (int i = 0; i < bits; i++) {
        int b = (int)((value >> (bits - 1 - i)) & 1);
        (void)bitops_setbit(p, offset + (uint64_t)i, b);
    }
}

int bitops_incr_unsigned(uint64_t value, int64_t incr, int bits, int owtype, uint64_t *out) {
    uint64_t max = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    /* |incr| as unsigned, valid for INT64_MIN too. */
    uint64_t mag = incr < 0 ? 0 - (uint64_t)incr : (uint64_t)incr;
    int over = 0;

    if (value > max || (incr > 0 && mag > max - value))
        over = 1;
    else if (incr < 0 && mag > value)
        over = -1;

    if (!over) {
        *out = incr < 0 ? value - mag : value + mag;
    } else if (owtype == BITOPS_WRAP) {
        *out = (value + (uint64_t)incr) & max;
    } else if (owtype == BITOPS_SAT) {
        *out = over > 0 ? max : 0;
    }
    return over;
}

int bitops_incr_signed(int64_t value, int64_t incr, int bits, int owtype, int64_t *out) {
    int64_t max = bits >= 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int over = 0;

    /* Redis quirk: it computes max - value in 64 bits, which wraps for
     * values this far below the range, and then reports overflow upwards.
     * Seen with SET: OVERFLOW SAT SET i8 0 -9223372036854775808 stores 127. */
    int wrapped_up =
        bits < 64 && value < max - INT64_MAX && incr > u64_to_i64((uint64_t)max - (uint64_t)value);

    /* max - incr and min - incr cannot overflow for the signs tested. */
    if (value > max || (incr > 0 && value > max - incr) || wrapped_up)
        over = 1;
    else if (value < min || (incr < 0 && value < min - incr))
        over = -1;

    if (!over) {
        *out = value + incr;
    } else if (owtype == BITOPS_WRAP) {
        uint64_t sum = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t high = UINT64_MAX << bits;
            sum = ((sum >> (bits - 1)) & 1) ? sum | high : sum & ~high;
        }
        *out = u64_to_i64(sum);
    } else if (owtype == BITOPS_SAT) {
        *out = over > 0 ? max : min;
    }
    return over;
}
