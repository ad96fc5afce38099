/* hll.h — HyperLogLog sketches in Redis's string format.
 *
 * A sketch is a string: a 16-byte header ("HYLL", encoding byte 0 = dense
 * or 1 = sparse, 3 zero bytes, 8-byte little-endian cached cardinality whose
 * top bit marks the cache stale) followed by 16384 six-bit registers. Dense:
 * registers packed LSB-first in 12288 bytes. Sparse: a run-length stream of
 * ZERO (00LLLLLL, 1..64 zeros), XZERO (01LLLLLL LLLLLLLL, 1..16384 zeros)
 * and VAL (1VVVVVLL, value 1..32 repeated 1..4 times) opcodes, promoted to
 * dense past a size limit or when a register needs more than 32.
 *
 * The byte sequences produced by updates follow the same split-and-merge
 * rules as Redis, so GET of a sketch is byte-identical, and the estimator is
 * Ertl's improved one, so counts are identical too. Elements are hashed with
 * MurmurHash64A (seed 0xadc83b19). Pure code: no storage or server state. */
#ifndef LODIS_HLL_H
#define LODIS_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_HDR_SIZE   16
#define HLL_P          14
#define HLL_REGISTERS  16384
#define HLL_BITS       6
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_DENSE      0
#define HLL_SPARSE     1

/* A sketch being changed: malloc'd bytes, len used, cap allocated. */
typedef struct hll_buf {
    uint8_t *p;
    size_t len, cap;
} hll_buf;

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);

/* Whether a string has a sketch's shape (magic, known encoding, exact dense
 * length): the test behind Redis's "not a valid HyperLogLog" error. */
int hll_is_valid(const uint8_t *p, size_t len);

/* A new empty sparse sketch (0 or -1 on allocation failure). */
int hll_new(hll_buf *b);
/* A private copy of an existing sketch. */
int hll_load(hll_buf *b, const uint8_t *p, size_t len);
void hll_free(hll_buf *b);

/* Add an element: 1 when a register changed, 0 when not, -1 when the
 * sketch is corrupt. sparse_max: hll-sparse-max-bytes. */
int hll_add(hll_buf *b, const void *ele, size_t len, size_t sparse_max);
/* Raise register idx to at least val (same results as hll_add). */
int hll_set(hll_buf *b, uint32_t idx, uint8_t val, size_t sparse_max);
/* Convert to dense (no-op when dense): 0, or -1 when corrupt. */
int hll_to_dense(hll_buf *b);

/* Cached cardinality: 1 and *card when valid, 0 when stale. */
int hll_cache_get(const uint8_t *p, uint64_t *card);
void hll_cache_set(uint8_t *p, uint64_t card);
void hll_cache_invalidate(uint8_t *p);

/* Fold a sketch into max[HLL_REGISTERS] (max of each register): 0, or -1
 * when corrupt. */
int hll_merge_max(uint8_t *max, const uint8_t *p, size_t len);
/* Cardinality estimate of a sketch (*invalid set when corrupt) or of a raw
 * register array. */
uint64_t hll_count(const uint8_t *p, size_t len, int *invalid);
uint64_t hll_count_raw(const uint8_t *regs);

#endif
