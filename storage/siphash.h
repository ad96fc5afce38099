/* siphash.h — SipHash-2-4 keyed hash (Aumasson and Bernstein, 2012).
 *
 * Leaf module: libc only, no state. Use it where an attacker controls the
 * input and we need hashes they cannot predict (long-key digests, hash
 * tables, sampling), with a key drawn from a random source at startup. */
#ifndef LODIS_SIPHASH_H
#define LODIS_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 with a 64-bit result. key is 16 bytes (k0 and k1, each
 * little-endian); in may be NULL when len is 0. The value equals the spec's
 * output bytes read as a little-endian integer, so for key 00..0f and input
 * 00..0e it is 0xa129ca6149be45e5. */
uint64_t siphash64(const uint8_t key[16], const void *in, size_t len);

/* SipHash-2-4 with the 128-bit output variant. Writes 16 bytes to out in
 * the reference implementation's byte order (two little-endian halves), so
 * results compare directly with the published test vectors. */
void siphash128(const uint8_t key[16], const void *in, size_t len, uint8_t out[16]);

#endif
