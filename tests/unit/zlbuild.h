/* zlbuild.h — a ziplist built byte by byte from the format's definition
 * (Redis 2.6 to 6.2 wrote lists, hashes and zsets this way), for tests of
 * the RDB readers. Include after <string.h> and <stdint.h>. */
#ifndef LODIS_TEST_ZLBUILD_H
#define LODIS_TEST_ZLBUILD_H

typedef struct zlb {
    uint8_t b[4096];
    size_t len, prev, last;
    unsigned n;
} zlb;

static inline void zl_init(zlb *z) {
    memset(z, 0, sizeof *z);
    z->len = 10;
    z->last = 10;
}

static inline void zl_entry(zlb *z, const uint8_t *enc, size_t el, const void *data, size_t dl) {
    size_t start = z->len;
    if (z->prev < 254) {
        z->b[z->len++] = (uint8_t)z->prev;
    } else {
        z->b[z->len++] = 254;
        memcpy(z->b + z->len, &(uint32_t){(uint32_t)z->prev}, 4);
        z->len += 4;
    }
    memcpy(z->b + z->len, enc, el);
    z->len += el;
    memcpy(z->b + z->len, data, dl);
    z->len += dl;
    z->prev = z->len - start;
    z->last = start;
    z->n++;
}

static inline size_t zl_finish(zlb *z) {
    z->b[z->len++] = 0xff;
    uint32_t bytes = (uint32_t)z->len, tail = (uint32_t)z->last;
    uint16_t n = (uint16_t)z->n;
    memcpy(z->b, &bytes, 4);
    memcpy(z->b + 4, &tail, 4);
    memcpy(z->b + 8, &n, 2);
    return z->len;
}

/* A string entry with the shortest length encoding. */
static inline void zl_str(zlb *z, const char *s) {
    size_t n = strlen(s);
    if (n < 64) {
        uint8_t e = (uint8_t)n;
        zl_entry(z, &e, 1, s, n);
    } else {
        uint8_t e[2] = {(uint8_t)(0x40 | n >> 8), (uint8_t)n};
        zl_entry(z, e, 2, s, n);
    }
}

#endif
