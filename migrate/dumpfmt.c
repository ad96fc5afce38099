/* dumpfmt.c — encoders and decoders of the dump format (see dumpfmt.h).
 * Pure: no I/O, no allocation except df_buf's growth; decoders check every
 * length against what is there before reading it. */
#include "migrate/dumpfmt.h"

#include <stdlib.h>
#include <string.h>

void df_buf_free(df_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static uint8_t *grow(df_buf *b, size_t n) {
    if (b->oom) return NULL;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n) nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return NULL;
        }
        b->p = np;
        b->cap = nc;
    }
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

void df_u8(df_buf *b, uint8_t v) {
    uint8_t *p = grow(b, 1);
    if (p) *p = v;
}
void df_u32(df_buf *b, uint32_t v) {
    uint8_t *p = grow(b, 4);
    if (p) df_put_u32(p, v);
}
void df_u64(df_buf *b, uint64_t v) {
    uint8_t *p = grow(b, 8);
    if (p) df_put_u64(p, v);
}
void df_str(df_buf *b, const void *s, size_t n) {
    uint8_t *p = grow(b, 4 + n);
    if (!p) return;
    df_put_u32(p, (uint32_t)n);
    if (n) memcpy(p + 4, s, n);
}

/* uint32 checksum of the trailer's first 28 bytes: a small FNV-1a, so the
 * codec stays a leaf (the body's CRC-32C is computed by the caller). */
static uint32_t fnv32(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

void df_header_encode(uint8_t out[DF_HDR_LEN], uint64_t created_ms) {
    memset(out, 0, DF_HDR_LEN);
    memcpy(out, DF_MAGIC, 8);
    df_put_u16(out + 8, DF_VERSION);
    df_put_u16(out + 10, 0);
    df_put_u32(out + 12, DF_HDR_LEN);
    df_put_u64(out + 16, created_ms);
}

int df_header_decode(const uint8_t in[DF_HDR_LEN], uint16_t *version, uint64_t *created_ms) {
    *version = 0;
    if (memcmp(in, DF_MAGIC, 8) != 0) return DF_BAD;
    *version = df_get_u16(in + 8);
    *created_ms = df_get_u64(in + 16);
    if (*version != DF_VERSION || df_get_u32(in + 12) != DF_HDR_LEN) return DF_BAD;
    return DF_OK;
}

void df_trailer_encode(uint8_t out[DF_TAIL_LEN], uint64_t raw_bytes, uint64_t body_bytes,
                       uint32_t crc) {
    memcpy(out, DF_TAIL_MAGIC, 8);
    df_put_u64(out + 8, raw_bytes);
    df_put_u64(out + 16, body_bytes);
    df_put_u32(out + 24, crc);
    df_put_u32(out + 28, fnv32(out, 28));
}

int df_trailer_decode(const uint8_t in[DF_TAIL_LEN], uint64_t *raw_bytes, uint64_t *body_bytes,
                      uint32_t *crc) {
    if (memcmp(in, DF_TAIL_MAGIC, 8) != 0 || df_get_u32(in + 28) != fnv32(in, 28)) return DF_BAD;
    *raw_bytes = df_get_u64(in + 8);
    *body_bytes = df_get_u64(in + 16);
    *crc = df_get_u32(in + 24);
    return DF_OK;
}

void df_rec_begin(df_buf *b, const char *store_format, uint64_t snap_ms, uint64_t id_hi) {
    df_u8(b, DF_REC_BEGIN);
    df_str(b, store_format, strlen(store_format));
    df_u64(b, snap_ms);
    df_u64(b, id_hi);
}

void df_rec_db(df_buf *b, uint32_t db) {
    df_u8(b, DF_REC_DB);
    df_u32(b, db);
}

void df_rec_key(df_buf *b, const df_key *k) {
    df_u8(b, DF_REC_KEY);
    df_u8(b, k->type);
    df_u8(b, k->flags);
    df_u64(b, (uint64_t)k->expire);
    df_u64(b, k->count);
    df_str(b, k->key, k->klen);
    df_str(b, k->hdr, k->hdrlen);
    df_str(b, k->body, k->bodylen);
}

void df_rec_entries_end(df_buf *b) {
    df_u8(b, DF_ENT_END);
}

void df_rec_entry(df_buf *b, const df_entry *e) {
    df_u8(b, e->form);
    if (e->form == DF_ENT_LONG) {
        df_u8(b, e->kind);
        df_str(b, e->a, e->alen);
        df_str(b, e->b, e->blen);
        df_str(b, e->c, e->clen);
    } else {
        df_str(b, e->a, e->alen);
        df_str(b, e->b, e->blen);
    }
}

void df_rec_func(df_buf *b, const void *name, size_t nlen, const void *code, size_t clen) {
    df_u8(b, DF_REC_FUNC);
    df_str(b, name, nlen);
    df_str(b, code, clen);
}

void df_rec_end(df_buf *b, uint64_t keys, uint64_t entries, uint64_t libs) {
    df_u8(b, DF_REC_END);
    df_u64(b, keys);
    df_u64(b, entries);
    df_u64(b, libs);
}

/* A bounds-checked reader over p[0..n). */
typedef struct rd {
    const uint8_t *p;
    size_t n, off;
} rd;

static int rd_fixed(rd *r, size_t len, const uint8_t **out) {
    if (r->n - r->off < len) return DF_SHORT;
    *out = r->p + r->off;
    r->off += len;
    return DF_OK;
}
static int rd_u8(rd *r, uint8_t *v) {
    const uint8_t *q;
    int rc = rd_fixed(r, 1, &q);
    if (rc == DF_OK) *v = q[0];
    return rc;
}
static int rd_u32(rd *r, uint32_t *v) {
    const uint8_t *q;
    int rc = rd_fixed(r, 4, &q);
    if (rc == DF_OK) *v = df_get_u32(q);
    return rc;
}
static int rd_u64(rd *r, uint64_t *v) {
    const uint8_t *q;
    int rc = rd_fixed(r, 8, &q);
    if (rc == DF_OK) *v = df_get_u64(q);
    return rc;
}
static int rd_str(rd *r, const uint8_t **s, size_t *len) {
    uint32_t n;
    int rc = rd_u32(r, &n);
    if (rc) return rc;
    *len = n;
    return rd_fixed(r, n, s);
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_) return rc_;                                                                       \
    } while (0)

int df_dec_rec(const uint8_t *p, size_t n, df_rec *out, size_t *used) {
    rd r = {p, n, 0};
    memset(out, 0, sizeof *out);
    TRY(rd_u8(&r, &out->tag));
    switch (out->tag) {
    case DF_REC_BEGIN:
        TRY(rd_str(&r, &out->u.begin.fmt, &out->u.begin.fmtlen));
        TRY(rd_u64(&r, &out->u.begin.snap_ms));
        TRY(rd_u64(&r, &out->u.begin.id_hi));
        break;
    case DF_REC_DB: TRY(rd_u32(&r, &out->u.db)); break;
    case DF_REC_KEY: {
        df_key *k = &out->u.key;
        uint64_t e;
        TRY(rd_u8(&r, &k->type));
        TRY(rd_u8(&r, &k->flags));
        TRY(rd_u64(&r, &e));
        k->expire = (int64_t)e;
        TRY(rd_u64(&r, &k->count));
        TRY(rd_str(&r, &k->key, &k->klen));
        TRY(rd_str(&r, &k->hdr, &k->hdrlen));
        TRY(rd_str(&r, &k->body, &k->bodylen));
        if (k->expire < 0 || k->hdrlen > 0xffff) return DF_BAD;
        break;
    }
    case DF_REC_FUNC:
        TRY(rd_str(&r, &out->u.func.name, &out->u.func.nlen));
        TRY(rd_str(&r, &out->u.func.code, &out->u.func.clen));
        break;
    case DF_REC_END:
        TRY(rd_u64(&r, &out->u.end.keys));
        TRY(rd_u64(&r, &out->u.end.entries));
        TRY(rd_u64(&r, &out->u.end.libs));
        break;
    default: return DF_BAD;
    }
    *used = r.off;
    return DF_OK;
}

int df_dec_entry(const uint8_t *p, size_t n, df_entry *e, size_t *used) {
    rd r = {p, n, 0};
    memset(e, 0, sizeof *e);
    TRY(rd_u8(&r, &e->form));
    if (e->form == DF_ENT_LONG) {
        TRY(rd_u8(&r, &e->kind));
        TRY(rd_str(&r, &e->a, &e->alen));
        TRY(rd_str(&r, &e->b, &e->blen));
        TRY(rd_str(&r, &e->c, &e->clen));
    } else if (e->form == DF_ENT_PLAIN) {
        TRY(rd_str(&r, &e->a, &e->alen));
        TRY(rd_str(&r, &e->b, &e->blen));
        /* A subkey is kind·fixed·member and fits an LMDB key with its id. */
        if (e->alen == 0 || e->alen > 511 - 8) return DF_BAD;
    } else if (e->form != DF_ENT_END) {
        return DF_BAD;
    }
    *used = r.off;
    return DF_OK;
}
