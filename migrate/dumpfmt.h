/* dumpfmt.h — the lodis dump format: byte layout of the file and of its
 * records, encoded and decoded without I/O (LEAF: libc only).
 *
 * File (all integers little-endian, fixed width, on any architecture):
 *   header  32 bytes: magic "LODISDMP" | version u16 | flags u16 (0) |
 *           header length u32 (32) | created unix ms u64 | reserved u64 (0)
 *   body    one zstd frame (with its content checksum) of the record stream
 *   trailer 32 bytes: magic "LDMPTAIL" | record-stream bytes u64 |
 *           body bytes u64 | crc32c of header+body u32 | crc32c of the
 *           trailer's first 28 bytes u32
 * A reader verifies the trailer and the checksum of the whole file before
 * it trusts a byte of the body, so a truncated or damaged file is refused
 * before anything is written.
 *
 * Record stream: a sequence of records, each a tag byte then fields;
 * str = u32 length · bytes. Never renumber the tags.
 *   'H' begin:    str store-format ("lodis-1") · u64 snapshot unix ms ·
 *                 u64 id_hi (collection ids of the source are below it)
 *   'B' database: u32 logical db number; the keys that follow belong to it
 *   'K' key:      u8 type · u8 flags · i64 expire (absolute unix ms, 0 none) ·
 *                 u64 count · str key · str type header · str body
 *                 (a string's value, uncompressed), then the collection's
 *                 entries (none for a string) and an end-of-entries mark
 *   entry         u8 form: 0 = plain: str subkey (after the 8-byte id) ·
 *                 str value; 1 = long member: u8 kind · str fixed ·
 *                 str member · str payload (re-hashed with the target's
 *                 secret on restore); 2 = end of the key's entries
 *                 (so a 10M-member collection streams without a count)
 *   'F' function library: str name · str code
 *   'E' end:      u64 keys · u64 entries · u64 libraries (counts checked)
 * Keys, entries and headers are in the storage's own vocabulary for the
 * store format named in 'H' (see docs/storage.md); a later store format
 * converts when it restores an older dump. */
#ifndef LODIS_DUMPFMT_H
#define LODIS_DUMPFMT_H

#include <stddef.h>
#include <stdint.h>

#define DF_MAGIC        "LODISDMP"
#define DF_TAIL_MAGIC   "LDMPTAIL"
#define DF_VERSION      1
#define DF_HDR_LEN      32
#define DF_TAIL_LEN     32

#define DF_REC_BEGIN 'H'
#define DF_REC_DB    'B'
#define DF_REC_KEY   'K'
#define DF_REC_FUNC  'F'
#define DF_REC_END   'E'

#define DF_ENT_PLAIN 0
#define DF_ENT_LONG  1
#define DF_ENT_END   2

/* Result codes of the decoders. */
#define DF_OK        0
#define DF_SHORT     (-1) /* need more bytes */
#define DF_BAD       (-2) /* malformed */

static inline void df_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void df_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void df_put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t df_get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t df_get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static inline uint64_t df_get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* A growable output buffer for records. */
typedef struct df_buf {
    uint8_t *p;
    size_t len, cap;
    int oom; /* set once an allocation failed; later appends are dropped */
} df_buf;
void df_buf_free(df_buf *b);
void df_u8(df_buf *b, uint8_t v);
void df_u32(df_buf *b, uint32_t v);
void df_u64(df_buf *b, uint64_t v);
void df_str(df_buf *b, const void *s, size_t n);

/* File header and trailer. */
void df_header_encode(uint8_t out[DF_HDR_LEN], uint64_t created_ms);
/* DF_OK, or DF_BAD (not a dump file / a version this build cannot read:
 * *version tells which). */
int df_header_decode(const uint8_t in[DF_HDR_LEN], uint16_t *version, uint64_t *created_ms);
void df_trailer_encode(uint8_t out[DF_TAIL_LEN], uint64_t raw_bytes, uint64_t body_bytes,
                       uint32_t crc);
int df_trailer_decode(const uint8_t in[DF_TAIL_LEN], uint64_t *raw_bytes, uint64_t *body_bytes,
                      uint32_t *crc);

/* Records. */
typedef struct df_key {
    uint8_t type, flags;
    int64_t expire;
    uint64_t count;
    const uint8_t *key, *hdr, *body;
    size_t klen, hdrlen, bodylen;
} df_key;
typedef struct df_entry {
    uint8_t form, kind;
    const uint8_t *a, *b, *c; /* plain: subkey, value; long: fixed, member, payload */
    size_t alen, blen, clen;
} df_entry;

void df_rec_begin(df_buf *b, const char *store_format, uint64_t snap_ms, uint64_t id_hi);
void df_rec_db(df_buf *b, uint32_t db);
/* The key record; its entries and then df_rec_entries_end follow. */
void df_rec_key(df_buf *b, const df_key *k);
void df_rec_entry(df_buf *b, const df_entry *e);
void df_rec_entries_end(df_buf *b);
void df_rec_func(df_buf *b, const void *name, size_t nlen, const void *code, size_t clen);
void df_rec_end(df_buf *b, uint64_t keys, uint64_t entries, uint64_t libs);

/* Decoding: each decoder reads one item at p[0..n) and sets *used.
 * Pointers in the results point into p. DF_SHORT if n is too small (the
 * caller supplies more bytes and calls again), DF_BAD if malformed. */
typedef struct df_rec {
    uint8_t tag;
    union {
        struct {
            const uint8_t *fmt;
            size_t fmtlen;
            uint64_t snap_ms, id_hi;
        } begin;
        uint32_t db;
        df_key key;
        struct {
            const uint8_t *name, *code;
            size_t nlen, clen;
        } func;
        struct {
            uint64_t keys, entries, libs;
        } end;
    } u;
} df_rec;
int df_dec_rec(const uint8_t *p, size_t n, df_rec *r, size_t *used);
/* An entry, or e->form == DF_ENT_END at the end of a key's entries. */
int df_dec_entry(const uint8_t *p, size_t n, df_entry *e, size_t *used);

#endif
