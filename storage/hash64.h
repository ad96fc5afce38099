/* hash64.h — a fast non-cryptographic 64-bit hash of a byte key with a
 * small tag (the dbi or list it belongs to), for in-RAM hash tables of
 * storage/. Keys are not chosen by an attacker in a way that matters: a
 * skewed table only lengthens probes. LEAF: libc only. */
#ifndef LODIS_HASH64_H
#define LODIS_HASH64_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash64_tagged(int tag, const void *k, size_t n) {
    const uint8_t *p = k;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)tag << 56) ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

#endif
