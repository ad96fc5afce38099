/* siphash.c — SipHash-2-4, 64- and 128-bit outputs.
 *
 * Job: a keyed pseudo-random function over byte strings, following the
 * specification in "SipHash: a fast short-input PRF" (2012): four 64-bit
 * lanes initialised from the key and four constants, two SipRounds per
 * 8-byte message word, a final word carrying the length's low byte, then
 * four SipRounds of finalisation (another four for the second 64 bits of
 * the 128-bit variant, which also tweaks v1 with 0xee and 0xdd).
 *
 * Invariants: input words are read byte by byte as little-endian, so the
 * result is the same on any host and any alignment; nothing is read past
 * len; no state outlives a call. */
#include "storage/siphash.h"

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

static uint64_t load_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void store_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static void sip_round(struct sip_state *s) {
    s->v0 += s->v1;
    s->v1 = ROTL64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = ROTL64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = ROTL64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = ROTL64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = ROTL64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = ROTL64(s->v2, 32);
}

/* Absorb one message word: c = 2 compression rounds. */
static void sip_compress(struct sip_state *s, uint64_t m) {
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

/* d = 4 finalisation rounds, then fold the lanes. */
static uint64_t sip_finish(struct sip_state *s, uint64_t tweak) {
    s->v2 ^= tweak;
    for (int i = 0; i < 4; i++) sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* Initialise and absorb the whole message, including the length word. */
static void
sip_absorb(struct sip_state *s, const uint8_t key[16], const uint8_t *p, size_t len, int wide) {
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    size_t left = len;

    s->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    s->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    s->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    s->v3 = k1 ^ UINT64_C(0x7465646279746573);
    if (wide) s->v1 ^= 0xee;

    for (; left >= 8; left -= 8, p += 8) sip_compress(s, load_le64(p));
    /* Last word: remaining bytes little-endian, length mod 256 on top. */
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < left; i++) last |= (uint64_t)p[i] << (8 * i);
    sip_compress(s, last);
}

uint64_t siphash64(const uint8_t key[16], const void *in, size_t len) {
    struct sip_state s;

    sip_absorb(&s, key, in, len, 0);
    return sip_finish(&s, 0xff);
}

void siphash128(const uint8_t key[16], const void *in, size_t len, uint8_t out[16]) {
    struct sip_state s;

    sip_absorb(&s, key, in, len, 1);
    store_le64(out, sip_finish(&s, 0xee));
    s.v1 ^= 0xdd;
    store_le64(out + 8, sip_finish(&s, 0));
}
