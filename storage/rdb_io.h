/* rdb_io.h — the primitives of Redis's RDB format: a growing output
 * buffer, a bounds-checked reader over bytes in memory, and the RDB
 * encodings of lengths, strings (plain, integer, LZF), doubles and times.
 *
 * Pure: no storage, no I/O. Every reader function checks bounds and
 * returns ST_OK, ST_CORRUPT (malformed or truncated input) or ST_NOMEM; it
 * never reads past the end whatever the input. Writers never fail: an
 * allocation failure sets buf->oom and later writes are dropped, so callers
 * check once at the end. */
#ifndef LODIS_RDB_IO_H
#define LODIS_RDB_IO_H

#include <stddef.h>
#include <stdint.h>

/* RDB length encodings (first two bits of the first byte). */
#define RDB_6BITLEN  0
#define RDB_14BITLEN 1
#define RDB_32BITLEN 0x80
#define RDB_64BITLEN 0x81
#define RDB_ENCVAL   3
#define RDB_ENC_INT8  0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF   3

/* The longest string a reader will materialise (Redis's proto-max-bulk-len
 * ceiling): a claimed length above it is corruption, not an allocation. */
#define RDB_MAX_STRING (512ULL * 1024 * 1024)

typedef struct rdb_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} rdb_buf;

void rdb_buf_free(rdb_buf *b);
/* Make room for n more bytes; returns a pointer to them or NULL (oom). */
uint8_t *rdb_buf_reserve(rdb_buf *b, size_t n);
void rdb_put_raw(rdb_buf *b, const void *p, size_t n);
void rdb_put_byte(rdb_buf *b, uint8_t v);
void rdb_put_len(rdb_buf *b, uint64_t len);
/* A string: integer-encoded when Redis would (a canonical integer of at
 * most 11 bytes in the int32 range), LZF-compressed when compress is set,
 * the string is longer than 20 bytes and compression saves at least 4
 * bytes, else length + bytes. */
void rdb_put_string(rdb_buf *b, const void *s, size_t len, int compress);
void rdb_put_u64le(rdb_buf *b, uint64_t v);  /* millisecond times */
void rdb_put_double(rdb_buf *b, double d);   /* binary, little endian */

typedef struct rdb_rd {
    const uint8_t *p;
    size_t len, pos;
} rdb_rd;

void rdb_rd_init(rdb_rd *r, const void *p, size_t len);
size_t rdb_rd_left(const rdb_rd *r);
int rdb_get_byte(rdb_rd *r, uint8_t *v);
/* n raw bytes, borrowed from the input. */
int rdb_get_raw(rdb_rd *r, size_t n, const uint8_t **p);
/* A length; *enc (may be NULL) is set when the byte announces a special
 * string encoding, whose number is then returned in *len. A special
 * encoding where none is allowed (enc NULL) is ST_CORRUPT. */
int rdb_get_len(rdb_rd *r, uint64_t *len, int *enc);
int rdb_get_u64le(rdb_rd *r, uint64_t *v);
int rdb_get_double(rdb_rd *r, double *d);       /* binary (ZSET_2) */
int rdb_get_double_text(rdb_rd *r, double *d);  /* length-prefixed text (ZSET) */

/* A string as read: p/len point into the input, into ibuf (integers) or
 * into owned (LZF). Free with rdb_str_free. */
typedef struct rdb_str {
    const uint8_t *p;
    size_t len;
    uint8_t *owned;
    char ibuf[24];
} rdb_str;
int rdb_get_string(rdb_rd *r, rdb_str *s);
void rdb_str_free(rdb_str *s);

#endif
