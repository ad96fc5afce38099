/* endian.h — big-endian integer loads and stores for on-disk encodings.
 * Byte-wise through memcpy: LMDB data is only 2-byte aligned, and
 * big-endian keys sort numerically under memcmp. Leaf header, libc only. */
#ifndef LODIS_ENDIAN_H
#define LODIS_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline void be64_put(uint8_t *p, uint64_t v) {
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}
static inline uint64_t be64_get(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}
static inline void be32_put(uint8_t *p, uint32_t v) {
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}
static inline uint32_t be32_get(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

#endif
