/* hll.c — HyperLogLog sketches in Redis's string format (see hll.h).
 *
 * Sparse updates locate the opcode covering the register, replace it by at
 * most three opcodes (zeros before, the new value, zeros or the old value
 * after), then fold neighbouring equal-valued VAL opcodes together in a
 * short window starting at the opcode before the change. That exact recipe
 * matters: it decides the bytes a later GET returns. A sparse sketch that
 * would grow past the configured limit, or needs a value above 32, becomes
 * dense. The estimator is Otmar Ertl's ("New cardinality estimation
 * algorithms for HyperLogLog sketches"), computed in the same order of
 * floating-point operations as Redis so results agree to the unit. */
#include "storage/hll.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLL_Q        (64 - HLL_P)
#define HLL_P_MASK   (HLL_REGISTERS - 1)
#define HLL_REG_MAX  63
#define ZERO_MAX     64
#define XZERO_MAX    16384
#define VAL_MAX_VAL  32
#define VAL_MAX_LEN  4
#define ALPHA_INF    0.721347520444481703680

#define IS_ZERO(p)   ((*(p)&0xc0) == 0)
#define IS_XZERO(p)  ((*(p)&0xc0) == 0x40)
#define ZERO_LEN(p)  ((*(p)&0x3f) + 1)
#define XZERO_LEN(p) ((((*(p)&0x3f) << 8) | (p)[1]) + 1)
#define VAL_VAL(p)   (((*(p) >> 2) & 0x1f) + 1)
#define VAL_LEN(p)   ((*(p)&0x3) + 1)

static void put_zero(uint8_t *p, int len) { p[0] = (uint8_t)(len - 1); }
static void put_xzero(uint8_t *p, int len) {
    p[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
    p[1] = (uint8_t)((len - 1) & 0xff);
}
static void put_val(uint8_t *p, int val, int len) {
    p[0] = (uint8_t)(0x80 | ((val - 1) << 2) | (len - 1));
}

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const uint8_t *d = key;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t nblk = len / 8;

    for (size_t i = 0; i < nblk; i++, d += 8) {
        uint64_t k = 0;
        for (int j = 7; j >= 0; j--) k = (k << 8) | d[j];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t rest = len & 7;
    if (rest) {
        for (size_t j = rest; j > 0; j--) h ^= (uint64_t)d[j - 1] << (8 * (j - 1));
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_is_valid(const uint8_t *p, size_t len) {
    if (len < HLL_HDR_SIZE) return 0;
    if (memcmp(p, "HYLL", 4) != 0) return 0;
    if (p[4] > HLL_SPARSE) return 0;
    if (p[4] == HLL_DENSE && len != HLL_DENSE_SIZE) return 0;
    return 1;
}

static int reserve(hll_buf *b, size_t need) {
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    uint8_t *n = realloc(b->p, cap);
    if (!n) return -1;
    b->p = n;
    b->cap = cap;
    return 0;
}

int hll_new(hll_buf *b) {
    memset(b, 0, sizeof *b);
    if (reserve(b, HLL_HDR_SIZE + 2)) return -1;
    memset(b->p, 0, HLL_HDR_SIZE);
    memcpy(b->p, "HYLL", 4);
    b->p[4] = HLL_SPARSE;
    put_xzero(b->p + HLL_HDR_SIZE, HLL_REGISTERS);
    b->len = HLL_HDR_SIZE + 2;
    return 0;
}

int hll_load(hll_buf *b, const uint8_t *p, size_t len) {
    memset(b, 0, sizeof *b);
    if (reserve(b, len + 1)) return -1;
    memcpy(b->p, p, len);
    b->len = len;
    return 0;
}

void hll_free(hll_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

int hll_cache_get(const uint8_t *p, uint64_t *card) {
    if (p[15] & 0x80) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[8 + i];
    *card = v;
    return 1;
}

void hll_cache_set(uint8_t *p, uint64_t card) {
    for (int i = 0; i < 8; i++) p[8 + i] = (uint8_t)(card >> (8 * i));
}

void hll_cache_invalidate(uint8_t *p) { p[15] |= 0x80; }

/* Dense registers: regs points at HLL_DENSE_SIZE - HLL_HDR_SIZE bytes. */
static uint8_t dense_get(const uint8_t *regs, uint32_t i) {
    uint32_t bit = i * HLL_BITS, byte = bit / 8, fb = bit & 7;
    unsigned v = regs[byte] >> fb;
    if (fb > 8 - HLL_BITS) v |= (unsigned)regs[byte + 1] << (8 - fb);
    return (uint8_t)(v & HLL_REG_MAX);
}

static void dense_put(uint8_t *regs, uint32_t i, uint8_t val) {
    uint32_t bit = i * HLL_BITS, byte = bit / 8, fb = bit & 7;
    regs[byte] = (uint8_t)((regs[byte] & ~(HLL_REG_MAX << fb)) | (val << fb));
    if (fb > 8 - HLL_BITS) {
        unsigned fb8 = 8 - fb;
        regs[byte + 1] =
            (uint8_t)((regs[byte + 1] & ~(HLL_REG_MAX >> fb8)) | (val >> fb8));
    }
}

static int dense_set(uint8_t *regs, uint32_t i, uint8_t val) {
    if (val > dense_get(regs, i)) {
        dense_put(regs, i, val);
        return 1;
    }
    return 0;
}

int hll_to_dense(hll_buf *b) {
    if (b->p[4] == HLL_DENSE) return 0;
    uint8_t *d = calloc(1, HLL_DENSE_SIZE + 1);
    if (!d) return -1;
    memcpy(d, b->p, HLL_HDR_SIZE);
    d[4] = HLL_DENSE;
    uint8_t *regs = d + HLL_HDR_SIZE;
    const uint8_t *p = b->p + HLL_HDR_SIZE, *end = b->p + b->len;
    uint32_t idx = 0;
    while (p < end) {
        if (IS_ZERO(p)) {
            idx += ZERO_LEN(p);
            p++;
        } else if (IS_XZERO(p)) {
            if (p + 1 >= end) break;
            idx += XZERO_LEN(p);
            p += 2;
        } else {
            uint32_t run = VAL_LEN(p);
            uint8_t v = VAL_VAL(p);
            if (idx + run > HLL_REGISTERS) {
                free(d);
                return -1;
            }
            while (run--) dense_put(regs, idx++, v);
            p++;
        }
    }
    if (idx != HLL_REGISTERS) {
        free(d);
        return -1;
    }
    free(b->p);
    b->p = d;
    b->len = HLL_DENSE_SIZE;
    b->cap = HLL_DENSE_SIZE + 1;
    return 0;
}

static int promote_and_set(hll_buf *b, uint32_t idx, uint8_t val) {
    if (hll_to_dense(b)) return -1;
    return dense_set(b->p + HLL_HDR_SIZE, idx, val);
}

static int sparse_set(hll_buf *b, uint32_t idx, uint8_t val, size_t sparse_max) {
    if (val > VAL_MAX_VAL) return promote_and_set(b, idx, val);
    if (reserve(b, b->len + 4)) return -1;

    uint8_t *sparse = b->p + HLL_HDR_SIZE, *p = sparse, *end = b->p + b->len;
    uint8_t *prev = NULL, *next;
    uint32_t first = 0, span = 0;

    /* Find the opcode covering idx. */
    while (p < end) {
        size_t oplen = 1;
        if (IS_ZERO(p)) {
            span = ZERO_LEN(p);
        } else if (IS_XZERO(p)) {
            if (p + 1 >= end) return -1;
            span = XZERO_LEN(p);
            oplen = 2;
        } else {
            span = VAL_LEN(p);
        }
        if (idx <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;

    int is_xzero = IS_XZERO(p), is_zero = IS_ZERO(p), is_val = !is_xzero && !is_zero;
    next = is_xzero ? p + 2 : p + 1;
    if (next >= end) next = NULL;

    if (is_val) {
        if (VAL_VAL(p) >= val) return 0;
        if (span == 1) {
            put_val(p, val, 1);
            goto updated;
        }
    }
    if (is_zero && span == 1) {
        put_val(p, val, 1);
        goto updated;
    }

    {
        uint8_t seq[5], *n = seq;
        uint32_t last = first + span - 1;
        if (!is_val) {
            if (idx != first) {
                int len = (int)(idx - first);
                if (len > ZERO_MAX) {
                    put_xzero(n, len);
                    n += 2;
                } else {
                    put_zero(n++, len);
                }
            }
            put_val(n++, val, 1);
            if (idx != last) {
                int len = (int)(last - idx);
                if (len > ZERO_MAX) {
                    put_xzero(n, len);
                    n += 2;
                } else {
                    put_zero(n++, len);
                }
            }
        } else {
            int cur = VAL_VAL(p);
            if (idx != first) put_val(n++, cur, (int)(idx - first));
            put_val(n++, val, 1);
            if (idx != last) put_val(n++, cur, (int)(last - idx));
        }
        size_t seqlen = (size_t)(n - seq), oldlen = is_xzero ? 2 : 1;
        long delta = (long)seqlen - (long)oldlen;
        if (delta > 0 && b->len + (size_t)delta > sparse_max) return promote_and_set(b, idx, val);
        if (delta && next) memmove(next + delta, next, (size_t)(end - next));
        b->len = (size_t)((long)b->len + delta);
        memcpy(p, seq, seqlen);
        end += delta;
    }

updated:
    /* Fold equal neighbouring VAL opcodes in a window of 5 opcodes. */
    p = prev ? prev : sparse;
    int scan = 5;
    while (p < end && scan--) {
        if (IS_XZERO(p)) {
            p += 2;
            continue;
        }
        if (IS_ZERO(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && !IS_ZERO(p + 1) && !IS_XZERO(p + 1)) {
            int v1 = VAL_VAL(p), v2 = VAL_VAL(p + 1);
            if (v1 == v2) {
                int len = VAL_LEN(p) + VAL_LEN(p + 1);
                if (len <= VAL_MAX_LEN) {
                    put_val(p + 1, v1, len);
                    memmove(p, p + 1, (size_t)(end - p - 1));
                    b->len--;
                    end--;
                    continue;
                }
            }
        }
        p++;
    }
    return 1;
}

int hll_set(hll_buf *b, uint32_t idx, uint8_t val, size_t sparse_max) {
    if (b->p[4] == HLL_DENSE) return dense_set(b->p + HLL_HDR_SIZE, idx, val);
    if (b->p[4] == HLL_SPARSE) return sparse_set(b, idx, val, sparse_max);
    return -1;
}

int hll_add(hll_buf *b, const void *ele, size_t len, size_t sparse_max) {
    uint64_t h = hll_murmur64a(ele, len, 0xadc83b19ULL);
    uint32_t idx = (uint32_t)(h & HLL_P_MASK);
    h >>= HLL_P;
    h |= (uint64_t)1 << HLL_Q;
    uint8_t count = 1;
    uint64_t bit = 1;
    while ((h & bit) == 0) {
        count++;
        bit <<= 1;
    }
    return hll_set(b, idx, count, sparse_max);
}

int hll_merge_max(uint8_t *max, const uint8_t *p, size_t len) {
    if (p[4] == HLL_DENSE) {
        const uint8_t *regs = p + HLL_HDR_SIZE;
        for (uint32_t i = 0; i < HLL_REGISTERS; i++) {
            uint8_t v = dense_get(regs, i);
            if (v > max[i]) max[i] = v;
        }
        return 0;
    }
    const uint8_t *q = p + HLL_HDR_SIZE, *end = p + len;
    uint32_t i = 0;
    while (q < end) {
        if (IS_ZERO(q)) {
            i += ZERO_LEN(q);
            q++;
        } else if (IS_XZERO(q)) {
            if (q + 1 >= end) return -1;
            i += XZERO_LEN(q);
            q += 2;
        } else {
            uint32_t run = VAL_LEN(q);
            uint8_t v = VAL_VAL(q);
            if (run + i > HLL_REGISTERS) return -1;
            while (run--) {
                if (v > max[i]) max[i] = v;
                i++;
            }
            q++;
        }
    }
    return i == HLL_REGISTERS ? 0 : -1;
}

static double hll_sigma(double x) {
    if (x == 1.) return INFINITY;
    double zp, y = 1, z = x;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double hll_tau(double x) {
    if (x == 0. || x == 1.) return 0.;
    double zp, y = 1.0, z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

static uint64_t estimate(const int *histo) {
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * hll_sigma(histo[0] / m);
    return (uint64_t)llroundl(ALPHA_INF * m * m / z);
}

uint64_t hll_count_raw(const uint8_t *regs) {
    int histo[64] = {0};
    for (uint32_t i = 0; i < HLL_REGISTERS; i++) histo[regs[i] & 63]++;
    return estimate(histo);
}

uint64_t hll_count(const uint8_t *p, size_t len, int *invalid) {
    int histo[64] = {0};
    *invalid = 0;
    if (p[4] == HLL_DENSE) {
        for (uint32_t i = 0; i < HLL_REGISTERS; i++) histo[dense_get(p + HLL_HDR_SIZE, i)]++;
        return estimate(histo);
    }
    const uint8_t *q = p + HLL_HDR_SIZE, *end = p + len;
    uint64_t idx = 0;
    while (q < end) {
        if (IS_ZERO(q)) {
            idx += ZERO_LEN(q);
            histo[0] += ZERO_LEN(q);
            q++;
        } else if (IS_XZERO(q)) {
            if (q + 1 >= end) {
                *invalid = 1;
                return 0;
            }
            idx += XZERO_LEN(q);
            histo[0] += XZERO_LEN(q);
            q += 2;
        } else {
            idx += VAL_LEN(q);
            histo[VAL_VAL(q)] += VAL_LEN(q);
            q++;
        }
    }
    if (idx != HLL_REGISTERS) {
        *invalid = 1;
        return 0;
    }
    return estimate(histo);
}
