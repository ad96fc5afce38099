/* rdb_io.c — RDB primitives (see rdb_io.h). Multi-byte lengths are big
 * endian, integers inside strings and times little endian, as Redis writes
 * them on every platform. */
#include "storage/rdb_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/lzf.h"
#include "storage/num.h"
#include "storage/store.h"

void rdb_buf_free(rdb_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

uint8_t *rdb_buf_reserve(rdb_buf *b, size_t n) {
    if (b->oom) return NULL;
    if (b->cap - b->len < n) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc - b->len < n) {
            if (nc > SIZE_MAX / 2) {
                b->oom = 1;
                return NULL;
            }
            nc *= 2;
        }
        uint8_t *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return NULL;
        }
        b->p = np;
        b->cap = nc;
    }
    return b->p + b->len;
}

void rdb_put_raw(rdb_buf *b, const void *p, size_t n) {
    uint8_t *d = rdb_buf_reserve(b, n);
    if (!d) return;
    if (n) memcpy(d, p, n);
    b->len += n;
}

void rdb_put_byte(rdb_buf *b, uint8_t v) {
    rdb_put_raw(b, &v, 1);
}

void rdb_put_len(rdb_buf *b, uint64_t len) {
    uint8_t t[9];
    if (len < (1u << 6)) {
        t[0] = (uint8_t)len;
        rdb_put_raw(b, t, 1);
    } else if (len < (1u << 14)) {
        t[0] = (uint8_t)(len >> 8 | RDB_14BITLEN << 6);
        t[1] = (uint8_t)len;
        rdb_put_raw(b, t, 2);
    } else if (len <= UINT32_MAX) {
        t[0] = RDB_32BITLEN;
        num_be32_put(t + 1, (uint32_t)len);
        rdb_put_raw(b, t, 5);
    } else {
        t[0] = RDB_64BITLEN;
        num_be64_put(t + 1, len);
        rdb_put_raw(b, t, 9);
    }
}

static int encode_int(long long v, uint8_t *t) {
    uint64_t u = (uint64_t)v;
    if (v >= -128 && v <= 127) {
        t[0] = RDB_ENCVAL << 6 | RDB_ENC_INT8;
        t[1] = (uint8_t)u;
        return 2;
    }
    if (v >= -32768 && v <= 32767) {
        t[0] = RDB_ENCVAL << 6 | RDB_ENC_INT16;
        t[1] = (uint8_t)u;
        t[2] = (uint8_t)(u >> 8);
        return 3;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        t[0] = RDB_ENCVAL << 6 | RDB_ENC_INT32;
        for (int i = 0; i < 4; i++) t[1 + i] = (uint8_t)(u >> (8 * i));
        return 5;
    }
    return 0;
}

void rdb_put_string(rdb_buf *b, const void *s, size_t len, int compress) {
    long long v;
    uint8_t t[5];
    int n;
    if (len <= 11 && num_parse_ll(s, len, &v) == 0 && (n = encode_int(v, t)) > 0) {
        rdb_put_raw(b, t, (size_t)n);
        return;
    }
    if (compress && len > 20) {
        uint8_t *out = malloc(len - 4);
        size_t cl = out ? lzf_compress(s, len, out, len - 4) : 0;
        if (cl) {
            rdb_put_byte(b, RDB_ENCVAL << 6 | RDB_ENC_LZF);
            rdb_put_len(b, cl);
            rdb_put_len(b, len);
            rdb_put_raw(b, out, cl);
            free(out);
            return;
        }
        free(out);
    }
    rdb_put_len(b, len);
    rdb_put_raw(b, s, len);
}

void rdb_put_u64le(rdb_buf *b, uint64_t v) {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
    rdb_put_raw(b, t, 8);
}

void rdb_put_double(rdb_buf *b, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    rdb_put_u64le(b, u);
}

/* ------------------------------------------------------------------ */

void rdb_rd_init(rdb_rd *r, const void *p, size_t len) {
    r->p = p;
    r->len = len;
    r->pos = 0;
}

size_t rdb_rd_left(const rdb_rd *r) {
    return r->len - r->pos;
}

int rdb_get_raw(rdb_rd *r, size_t n, const uint8_t **p) {
    if (rdb_rd_left(r) < n) return ST_CORRUPT;
    *p = r->p + r->pos;
    r->pos += n;
    return ST_OK;
}

int rdb_get_byte(rdb_rd *r, uint8_t *v) {
    const uint8_t *p;
    if (rdb_get_raw(r, 1, &p)) return ST_CORRUPT;
    *v = *p;
    return ST_OK;
}

int rdb_get_len(rdb_rd *r, uint64_t *len, int *enc) {
    uint8_t b0;
    const uint8_t *p;
    if (enc) *enc = 0;
    if (rdb_get_byte(r, &b0)) return ST_CORRUPT;
    switch (b0 >> 6) {
    case RDB_ENCVAL:
        if (!enc) return ST_CORRUPT;
        *enc = 1;
        *len = b0 & 0x3f;
        return ST_OK;
    case RDB_6BITLEN: *len = b0 & 0x3f; return ST_OK;
    case RDB_14BITLEN:
        if (rdb_get_raw(r, 1, &p)) return ST_CORRUPT;
        *len = (uint64_t)(b0 & 0x3f) << 8 | p[0];
        return ST_OK;
    default:
        if (b0 == RDB_32BITLEN) {
            if (rdb_get_raw(r, 4, &p)) return ST_CORRUPT;
            *len = num_be32_get(p);
            return ST_OK;
        }
        if (b0 == RDB_64BITLEN) {
            if (rdb_get_raw(r, 8, &p)) return ST_CORRUPT;
            *len = num_be64_get(p);
            return ST_OK;
        }
        return ST_CORRUPT;
    }
}

int rdb_get_u64le(rdb_rd *r, uint64_t *v) {
    const uint8_t *p;
    if (rdb_get_raw(r, 8, &p)) return ST_CORRUPT;
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
    *v = u;
    return ST_OK;
}

int rdb_get_double(rdb_rd *r, double *d) {
    uint64_t u;
    if (rdb_get_u64le(r, &u)) return ST_CORRUPT;
    memcpy(d, &u, 8);
    return ST_OK;
}

int rdb_get_double_text(rdb_rd *r, double *d) {
    uint8_t n;
    const uint8_t *p;
    if (rdb_get_byte(r, &n)) return ST_CORRUPT;
    switch (n) {
    case 255: *d = -INFINITY; return ST_OK;
    case 254: *d = INFINITY; return ST_OK;
    case 253: *d = NAN; return ST_OK;
    default: break;
    }
    if (rdb_get_raw(r, n, &p)) return ST_CORRUPT;
    char buf[256];
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    *d = strtod(buf, &end);
    return end == buf ? ST_CORRUPT : ST_OK;
}

void rdb_str_free(rdb_str *s) {
    free(s->owned);
    s->owned = NULL;
}

int rdb_get_string(rdb_rd *r, rdb_str *s) {
    uint64_t len;
    int enc;
    const uint8_t *p;
    s->owned = NULL;
    if (rdb_get_len(r, &len, &enc)) return ST_CORRUPT;
    if (!enc) {
        if (rdb_get_raw(r, len, &p)) return ST_CORRUPT;
        s->p = p;
        s->len = len;
        return ST_OK;
    }
    if (len <= RDB_ENC_INT32) {
        size_t n = len == RDB_ENC_INT8 ? 1 : len == RDB_ENC_INT16 ? 2 : 4;
        if (rdb_get_raw(r, n, &p)) return ST_CORRUPT;
        uint32_t u = 0;
        for (size_t i = n; i-- > 0;) u = u << 8 | p[i];
        long long v = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : (int32_t)u;
        s->len = num_ll_to_str(s->ibuf, sizeof s->ibuf, v);
        s->p = (const uint8_t *)s->ibuf;
        return ST_OK;
    }
    if (len != RDB_ENC_LZF) return ST_CORRUPT;
    uint64_t clen, ulen;
    if (rdb_get_len(r, &clen, NULL) || rdb_get_len(r, &ulen, NULL)) return ST_CORRUPT;
    /* LZF expands at most 88x (3 input bytes -> 264 output bytes): a bigger
     * claim is corruption, and refusing it bounds the allocation. */
    if (ulen == 0 || ulen > RDB_MAX_STRING || clen > rdb_rd_left(r) || ulen > clen * 88)
        return ST_CORRUPT;
    if (rdb_get_raw(r, clen, &p)) return ST_CORRUPT;
    s->owned = malloc(ulen);
    if (!s->owned) return ST_NOMEM;
    if (lzf_decompress(p, clen, s->owned, ulen) != ulen) {
        rdb_str_free(s);
        return ST_CORRUPT;
    }
    s->p = s->owned;
    s->len = ulen;
    return ST_OK;
}
