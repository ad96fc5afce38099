/* rdb_pack.c — listpack, ziplist, intset and zipmap (layouts in
 * rdb_pack.h and in the comments below). All multi-byte integers inside
 * these structures are little endian, except the ziplist's 14- and 32-bit
 * string lengths, which are big endian. */
#include "storage/rdb_pack.h"

#include <stdlib.h>
#include <string.h>

#include "storage/num.h"
#include "storage/store.h"

static uint64_t le_get(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void le_put(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Sign-extend the low `bits` bits of u. */
static int64_t sext(uint64_t u, int bits) {
    uint64_t m = 1ULL << (bits - 1);
    u &= (bits == 64) ? ~0ULL : (1ULL << bits) - 1;
    return (int64_t)((u ^ m) - m);
}

void pk_val_text(pk_val *v, const uint8_t **p, size_t *len) {
    if (v->is_int) {
        *len = num_ll_to_str(v->ibuf, sizeof v->ibuf, v->v);
        *p = (const uint8_t *)v->ibuf;
    } else {
        *p = v->s;
        *len = v->slen;
    }
}

/* ------------------------------------------------------------------ */
/* listpack: total_bytes(4) · count(2) · entries · 0xFF; an entry is
 * encoding+data followed by its own length in 1..5 "backlen" bytes.     */

#define LP_HDR 6
#define LP_EOF 0xFF

static size_t backlen_size(uint64_t l) {
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

int lp_open(lp_reader *r, const uint8_t *lp, size_t size) {
    memset(r, 0, sizeof *r);
    if (size < LP_HDR + 1 || le_get(lp, 4) != size || lp[size - 1] != LP_EOF) return ST_CORRUPT;
    r->lp = lp;
    r->size = size;
    r->pos = LP_HDR;
    r->hdr_count = (uint32_t)le_get(lp + 4, 2);
    return ST_OK;
}

int lp_next(lp_reader *r, pk_val *v) {
    const uint8_t *lp = r->lp;
    size_t end = r->size - 1; /* the terminator */
    if (r->pos >= end) {
        if (r->pos != end) return ST_CORRUPT;
        if (r->hdr_count != 65535 && r->hdr_count != r->seen) return ST_CORRUPT;
        return ST_NOTFOUND;
    }
    const uint8_t *p = lp + r->pos;
    size_t avail = end - r->pos, hdr, dlen = 0;
    uint8_t b = p[0];
    memset(v, 0, sizeof *v);
    if ((b & 0x80) == 0) {
        hdr = 1;
        v->is_int = 1;
        v->v = b & 0x7f;
    } else if ((b & 0xC0) == 0x80) {
        hdr = 1;
        dlen = b & 0x3f;
    } else if ((b & 0xE0) == 0xC0) {
        hdr = 2;
        if (avail < 2) return ST_CORRUPT;
        v->is_int = 1;
        v->v = sext((uint64_t)(b & 0x1f) << 8 | p[1], 13);
    } else if ((b & 0xF0) == 0xE0) {
        hdr = 2;
        if (avail < 2) return ST_CORRUPT;
        dlen = (size_t)(b & 0x0f) << 8 | p[1];
    } else if (b == 0xF0) {
        hdr = 5;
        if (avail < 5) return ST_CORRUPT;
        dlen = (size_t)le_get(p + 1, 4);
    } else if (b >= 0xF1 && b <= 0xF4) {
        static const int nb[] = {2, 3, 4, 8};
        int n = nb[b - 0xF1];
        hdr = 1 + (size_t)n;
        if (avail < hdr) return ST_CORRUPT;
        v->is_int = 1;
        v->v = sext(le_get(p + 1, n), 8 * n);
    } else {
        return ST_CORRUPT; /* 0xF5..0xFE, or a premature terminator */
    }
    if (dlen > avail || hdr > avail - dlen) return ST_CORRUPT;
    uint64_t l = hdr + dlen;
    size_t bl = backlen_size(l);
    if (bl > avail - l) return ST_CORRUPT;
    /* The backlen, read backwards from its last byte, must give l. */
    const uint8_t *q = p + l + bl - 1;
    uint64_t got = 0;
    for (size_t i = 0; i < bl; i++, q--) {
        got |= (uint64_t)(q[0] & 127) << (7 * i);
        if (((q[0] & 128) == 0) != (i == bl - 1)) return ST_CORRUPT;
    }
    if (got != l) return ST_CORRUPT;
    if (!v->is_int) {
        v->s = p + hdr;
        v->slen = dlen;
    }
    r->pos += l + bl;
    r->seen++;
    return ST_OK;
}

int lp_validate(const uint8_t *lp, size_t size, uint64_t *count) {
    lp_reader r;
    pk_val v;
    int rc = lp_open(&r, lp, size);
    if (rc) return rc;
    while ((rc = lp_next(&r, &v)) == ST_OK) {}
    if (rc != ST_NOTFOUND) return rc;
    if (count) *count = r.seen;
    return ST_OK;
}

void lpw_init(lp_writer *w) {
    memset(w, 0, sizeof *w);
    uint8_t hdr[LP_HDR] = {0};
    rdb_put_raw(&w->b, hdr, LP_HDR);
}

void lpw_init_ziplist(lp_writer *w) {
    memset(w, 0, sizeof *w);
    w->zl = 1;
    uint8_t hdr[10] = {0};
    rdb_put_raw(&w->b, hdr, 10);
    w->last = 10;
}

/* A ziplist entry: prevlen · encoding (enc, el bytes) · data. */
static void zlw_entry(lp_writer *w, const uint8_t *enc, size_t el, const void *d, size_t dl) {
    uint8_t pl[5];
    size_t pn = 1;
    if (w->prev < 254) {
        pl[0] = (uint8_t)w->prev;
    } else {
        pl[0] = 254;
        le_put(pl + 1, w->prev, 4);
        pn = 5;
    }
    w->last = w->b.len;
    rdb_put_raw(&w->b, pl, pn);
    rdb_put_raw(&w->b, enc, el);
    rdb_put_raw(&w->b, d, dl);
    w->prev = pn + el + dl;
    w->count++;
}

static void zlw_int(lp_writer *w, int64_t v) {
    uint8_t e[9];
    uint64_t u = (uint64_t)v;
    int n;
    if (v >= 0 && v <= 12) {
        e[0] = (uint8_t)(0xF1 + v);
        n = 0;
    } else if (v >= INT8_MIN && v <= INT8_MAX) {
        e[0] = 0xFE;
        n = 1;
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        e[0] = 0xC0;
        n = 2;
    } else if (v >= -8388608 && v <= 8388607) {
        e[0] = 0xF0;
        n = 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        e[0] = 0xD0;
        n = 4;
    } else {
        e[0] = 0xE0;
        n = 8;
    }
    le_put(e + 1, u, n);
    zlw_entry(w, e, 1, e + 1, (size_t)n);
}

static void zlw_str(lp_writer *w, const void *s, size_t len) {
    uint8_t e[5];
    size_t el;
    if (len <= 63) {
        e[0] = (uint8_t)len;
        el = 1;
    } else if (len <= 16383) {
        e[0] = (uint8_t)(0x40 | len >> 8);
        e[1] = (uint8_t)len;
        el = 2;
    } else {
        e[0] = 0x80;
        num_be32_put(e + 1, (uint32_t)len);
        el = 5;
    }
    zlw_entry(w, e, el, s, len);
}

static void lpw_backlen(lp_writer *w, uint64_t l) {
    uint8_t t[5];
    size_t n = backlen_size(l);
    for (size_t i = 0; i < n; i++) {
        size_t shift = 7 * (n - 1 - i);
        t[i] = (uint8_t)((l >> shift) & 127);
        if (i > 0) t[i] |= 128;
    }
    rdb_put_raw(&w->b, t, n);
    w->count++;
}

void lpw_add_int(lp_writer *w, int64_t v) {
    if (w->zl) {
        zlw_int(w, v);
        return;
    }
    uint8_t t[9];
    size_t n;
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 127) {
        t[0] = (uint8_t)v;
        n = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t e = u & 0x1fff;
        t[0] = (uint8_t)(0xC0 | e >> 8);
        t[1] = (uint8_t)e;
        n = 2;
    } else if (v >= -32768 && v <= 32767) {
        t[0] = 0xF1;
        le_put(t + 1, u, 2);
        n = 3;
    } else if (v >= -8388608 && v <= 8388607) {
        t[0] = 0xF2;
        le_put(t + 1, u, 3);
        n = 4;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        t[0] = 0xF3;
        le_put(t + 1, u, 4);
        n = 5;
    } else {
        t[0] = 0xF4;
        le_put(t + 1, u, 8);
        n = 9;
    }
    rdb_put_raw(&w->b, t, n);
    lpw_backlen(w, n);
}

void lpw_add(lp_writer *w, const void *s, size_t len) {
    long long v;
    if (len > 0 && len < 21 && num_parse_ll(s, len, &v) == 0) {
        lpw_add_int(w, v);
        return;
    }
    if (w->zl) {
        zlw_str(w, s, len);
        return;
    }
    uint8_t t[5];
    size_t n;
    if (len < 64) {
        t[0] = (uint8_t)(0x80 | len);
        n = 1;
    } else if (len < 4096) {
        t[0] = (uint8_t)(0xE0 | len >> 8);
        t[1] = (uint8_t)len;
        n = 2;
    } else {
        t[0] = 0xF0;
        le_put(t + 1, len, 4);
        n = 5;
    }
    rdb_put_raw(&w->b, t, n);
    rdb_put_raw(&w->b, s, len);
    lpw_backlen(w, n + len);
}

size_t lpw_bytes(const lp_writer *w) {
    return w->b.len + 1;
}

int lpw_finish(lp_writer *w) {
    rdb_put_byte(&w->b, LP_EOF);
    if (w->b.oom) return ST_NOMEM;
    if (w->b.len > UINT32_MAX) return ST_TOOBIG;
    if (w->zl) {
        le_put(w->b.p, w->b.len, 4);
        le_put(w->b.p + 4, w->last, 4);
        le_put(w->b.p + 8, w->count < 65535 ? w->count : 65535, 2);
        return ST_OK;
    }
    le_put(w->b.p, w->b.len, 4);
    le_put(w->b.p + 4, w->count < 65535 ? w->count : 65535, 2);
    return ST_OK;
}

void lpw_free(lp_writer *w) {
    rdb_buf_free(&w->b);
}

/* ------------------------------------------------------------------ */
/* ziplist: zlbytes(4) · zltail(4) · zllen(2) · entries · 0xFF; an entry
 * is prevlen (1 byte, or 0xFE + 4) · encoding · data.                   */

#define ZL_HDR 10
#define ZL_END 0xFF

int zl_open(zl_reader *r, const uint8_t *zl, size_t size) {
    memset(r, 0, sizeof *r);
    if (size < ZL_HDR + 1 || le_get(zl, 4) != size || zl[size - 1] != ZL_END) return ST_CORRUPT;
    r->zl = zl;
    r->size = size;
    r->pos = ZL_HDR;
    r->lastpos = ZL_HDR;
    r->hdr_count = (uint32_t)le_get(zl + 8, 2);
    if (le_get(zl + 4, 4) > size - 1) return ST_CORRUPT;
    return ST_OK;
}

int zl_next(zl_reader *r, pk_val *v) {
    const uint8_t *zl = r->zl;
    size_t end = r->size - 1;
    if (r->pos >= end) {
        if (r->pos != end) return ST_CORRUPT;
        if (r->hdr_count != 65535 && r->hdr_count != r->seen) return ST_CORRUPT;
        if (le_get(zl + 4, 4) != r->lastpos) return ST_CORRUPT; /* zltail */
        return ST_NOTFOUND;
    }
    const uint8_t *p = zl + r->pos;
    size_t avail = end - r->pos, pl, hdr, dlen = 0;
    uint64_t prev;
    memset(v, 0, sizeof *v);
    if (p[0] < 254) {
        pl = 1;
        prev = p[0];
    } else if (p[0] == 254) {
        pl = 5;
        if (avail < 5) return ST_CORRUPT;
        prev = le_get(p + 1, 4);
    } else {
        return ST_CORRUPT;
    }
    if (prev != r->prevsize) return ST_CORRUPT;
    if (avail < pl + 1) return ST_CORRUPT;
    const uint8_t *e = p + pl;
    uint8_t b = e[0];
    size_t left = avail - pl;
    switch (b >> 6) {
    case 0:
        hdr = 1;
        dlen = b & 0x3f;
        break;
    case 1:
        hdr = 2;
        if (left < 2) return ST_CORRUPT;
        dlen = (size_t)(b & 0x3f) << 8 | e[1];
        break;
    case 2:
        if (b != 0x80 || left < 5) return ST_CORRUPT;
        hdr = 5;
        dlen = num_be32_get(e + 1);
        break;
    default: {
        int n;
        v->is_int = 1;
        if (b == 0xC0) n = 2;
        else if (b == 0xD0) n = 4;
        else if (b == 0xE0) n = 8;
        else if (b == 0xF0) n = 3;
        else if (b == 0xFE) n = 1;
        else if (b >= 0xF1 && b <= 0xFD) n = 0;
        else return ST_CORRUPT;
        hdr = 1 + (size_t)n;
        if (left < hdr) return ST_CORRUPT;
        v->v = n ? sext(le_get(e + 1, n), 8 * n) : (int64_t)(b & 0x0f) - 1;
        break;
    }
    }
    if (dlen > left || hdr > left - dlen) return ST_CORRUPT;
    if (!v->is_int) {
        v->s = e + hdr;
        v->slen = dlen;
    }
    r->lastpos = r->pos;
    r->prevsize = pl + hdr + dlen;
    r->pos += r->prevsize;
    r->seen++;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* intset: encoding(4) · length(4) · values, ascending, little endian.   */

int is_validate(const uint8_t *is, size_t size, uint32_t *count) {
    if (size < 8) return ST_CORRUPT;
    uint32_t enc = (uint32_t)le_get(is, 4), n = (uint32_t)le_get(is + 4, 4);
    if (enc != 2 && enc != 4 && enc != 8) return ST_CORRUPT;
    if ((uint64_t)n * enc + 8 != size) return ST_CORRUPT;
    for (uint32_t i = 1; i < n; i++)
        if (is_get(is, i - 1) >= is_get(is, i)) return ST_CORRUPT;
    *count = n;
    return ST_OK;
}

int64_t is_get(const uint8_t *is, uint32_t i) {
    int enc = (int)le_get(is, 4);
    return sext(le_get(is + 8 + (size_t)i * (size_t)enc, enc), 8 * enc);
}

void is_write(rdb_buf *b, const int64_t *v, size_t n) {
    int enc = 2;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX) enc = 8;
        else if ((v[i] < INT16_MIN || v[i] > INT16_MAX) && enc < 4) enc = 4;
    }
    uint8_t *d = rdb_buf_reserve(b, 8 + n * (size_t)enc);
    if (!d) return;
    le_put(d, (uint64_t)enc, 4);
    le_put(d + 4, n, 4);
    for (size_t i = 0; i < n; i++) le_put(d + 8 + i * (size_t)enc, (uint64_t)v[i], enc);
    b->len += 8 + n * (size_t)enc;
}

/* ------------------------------------------------------------------ */
/* zipmap: zmlen(1) · (len field · len free(1) value pad)* · 0xFF, where a
 * len is one byte below 254 or 254 followed by 4 bytes.                 */

int zm_open(zm_reader *r, const uint8_t *zm, size_t size) {
    if (size < 2 || zm[size - 1] != 0xFF) return ST_CORRUPT;
    r->zm = zm;
    r->size = size;
    r->pos = 1;
    return ST_OK;
}

static int zm_len(zm_reader *r, size_t *len) {
    if (r->pos >= r->size) return ST_CORRUPT;
    uint8_t b = r->zm[r->pos];
    if (b == 0xFF) return ST_NOTFOUND;
    if (b < 254) {
        *len = b;
        r->pos += 1;
        return ST_OK;
    }
    if (r->size - r->pos < 5) return ST_CORRUPT;
    *len = (size_t)le_get(r->zm + r->pos + 1, 4);
    r->pos += 5;
    return ST_OK;
}

int zm_next(zm_reader *r, const uint8_t **f, size_t *flen, const uint8_t **v, size_t *vlen) {
    int rc = zm_len(r, flen);
    if (rc == ST_NOTFOUND) return r->pos == r->size - 1 ? ST_NOTFOUND : ST_CORRUPT;
    if (rc) return rc;
    if (*flen > r->size - r->pos) return ST_CORRUPT;
    *f = r->zm + r->pos;
    r->pos += *flen;
    if ((rc = zm_len(r, vlen))) return ST_CORRUPT;
    if (r->pos >= r->size) return ST_CORRUPT;
    size_t fr = r->zm[r->pos++];
    if (*vlen > r->size - r->pos || fr > r->size - r->pos - *vlen) return ST_CORRUPT;
    *v = r->zm + r->pos;
    r->pos += *vlen + fr;
    return ST_OK;
}
