/* lzf.c — LZF compression and decompression (format in lzf.h).
 *
 * The compressor is a plain greedy matcher: a hash of the next three bytes
 * indexes the last position they were seen at; a match within the 8 KiB
 * window is extended up to 264 bytes. Its output is valid LZF for any
 * decoder (Redis's included), though not byte-identical to liblzf's. */
#include "storage/lzf.h"

#include <stdint.h>
#include <string.h>

#define HBITS    14
#define MAX_OFF  8192
#define MAX_REF  264 /* 7 + 255 + 2 */
#define MAX_LIT  32

static unsigned hash3(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - HBITS);
}

size_t lzf_compress(const void *in, size_t inlen, void *out, size_t cap) {
    const uint8_t *ip = in;
    uint8_t *op = out;
    size_t i = 0, o = 0, litpos = 0, lit = 0;
    uint32_t htab[1u << HBITS]; /* position + 1 of the last occurrence; 0 = none */
    memset(htab, 0, sizeof htab);
    if (inlen == 0) return 0;
    while (i < inlen) {
        size_t len = 0, off = 0;
        if (i + 2 < inlen) {
            unsigned h = hash3(ip + i);
            size_t ref = htab[h];
            htab[h] = (uint32_t)(i + 1);
            if (ref && i - (ref - 1) - 1 < MAX_OFF && memcmp(ip + ref - 1, ip + i, 3) == 0) {
                ref--;
                off = i - ref - 1;
                size_t max = inlen - i < MAX_REF ? inlen - i : MAX_REF;
                len = 3;
                while (len < max && ip[ref + len] == ip[i + len]) len++;
            }
        }
        if (len) {
            if (lit) op[litpos] = (uint8_t)(lit - 1);
            lit = 0;
            size_t l = len - 2;
            if (o + 3 > cap) return 0;
            if (l < 7) {
                op[o++] = (uint8_t)(l << 5 | off >> 8);
            } else {
                op[o++] = (uint8_t)(7 << 5 | off >> 8);
                op[o++] = (uint8_t)(l - 7);
            }
            op[o++] = (uint8_t)(off & 0xff);
            /* Index the positions the match covered (bounded work). */
            for (size_t j = i + 1; j < i + len && j + 2 < inlen; j++)
                htab[hash3(ip + j)] = (uint32_t)(j + 1);
            i += len;
            continue;
        }
        if (lit == 0) {
            if (o >= cap) return 0;
            litpos = o++;
        }
        if (o >= cap) return 0;
        op[o++] = ip[i++];
        if (++lit == MAX_LIT) {
            op[litpos] = MAX_LIT - 1;
            lit = 0;
        }
    }
    if (lit) op[litpos] = (uint8_t)(lit - 1);
    return o;
}

size_t lzf_decompress(const void *in, size_t inlen, void *out, size_t cap) {
    const uint8_t *ip = in, *end = ip + inlen;
    uint8_t *op = out;
    size_t o = 0;
    while (ip < end) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) {
            size_t n = ctrl + 1;
            if ((size_t)(end - ip) < n || cap - o < n) return 0;
            memcpy(op + o, ip, n);
            ip += n;
            o += n;
            continue;
        }
        size_t len = ctrl >> 5;
        size_t back = (size_t)(ctrl & 0x1f) << 8;
        if (ip >= end) return 0;
        if (len == 7) {
            len += *ip++;
            if (ip >= end) return 0;
        }
        back += *ip++;
        len += 2;
        if (back + 1 > o || cap - o < len) return 0;
        const uint8_t *ref = op + o - back - 1;
        for (size_t j = 0; j < len; j++) op[o + j] = ref[j]; /* may overlap */
        o += len;
    }
    return o;
}
