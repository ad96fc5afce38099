/* rdb_pack.h — readers for the packed encodings found inside RDB strings
 * (listpack, ziplist, intset, zipmap) and writers for the two Redis 7.0
 * still writes (listpack, intset).
 *
 * Every reader validates as it goes: header sizes against the buffer,
 * each entry's bounds, back-lengths / previous-lengths against the entry
 * they describe, the terminator, and the element count in the header. A
 * reader never touches memory outside [p, p+size) and never loops on any
 * input. Return codes: ST_OK, ST_NOTFOUND (end reached cleanly),
 * ST_CORRUPT. Pure: no storage. */
#ifndef LODIS_RDB_PACK_H
#define LODIS_RDB_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "storage/rdb_io.h"

/* One element as read: a string (s, slen; s borrowed from the buffer) or an
 * integer (is_int, v). pk_val_text gives the string form of either. */
typedef struct pk_val {
    const uint8_t *s;
    size_t slen;
    int64_t v;
    int is_int;
    char ibuf[24];
} pk_val;
/* Point (*p, *len) at the element's bytes (integers formatted in v->ibuf). */
void pk_val_text(pk_val *v, const uint8_t **p, size_t *len);

/* --- listpack ---------------------------------------------------------- */
typedef struct lp_reader {
    const uint8_t *lp;
    size_t size, pos;
    uint32_t hdr_count; /* 65535: unknown */
    uint64_t seen;
} lp_reader;
/* Check the header (total bytes == size, terminator in place). */
int lp_open(lp_reader *r, const uint8_t *lp, size_t size);
/* The next element, or ST_NOTFOUND at the terminator (where the element
 * count is checked against the header). */
int lp_next(lp_reader *r, pk_val *v);
/* Count the elements, validating all of them. */
int lp_validate(const uint8_t *lp, size_t size, uint64_t *count);

/* A listpack being built. Elements that are canonical integers are stored
 * as integers, as Redis's lpAppend does. */
typedef struct lp_writer {
    rdb_buf b;
    uint64_t count;
    int zl;            /* building a ziplist instead (RDB version 9) */
    size_t prev, last; /* ziplist: previous entry's size, last entry's offset */
} lp_writer;
void lpw_init(lp_writer *w);
/* The same writer producing a ziplist (what Redis 2.6 to 6.2 load), with
 * zipTryEncoding's integer forms. */
void lpw_init_ziplist(lp_writer *w);
void lpw_add(lp_writer *w, const void *s, size_t len);
void lpw_add_int(lp_writer *w, int64_t v);
/* Bytes the listpack has now, terminator included. */
size_t lpw_bytes(const lp_writer *w);
/* Finish (terminator, header). Returns ST_OK with w->b.p/len the listpack,
 * or ST_TOOBIG (over 4 GiB) / ST_NOMEM. */
int lpw_finish(lp_writer *w);
void lpw_free(lp_writer *w);

/* --- ziplist (Redis 2.6 to 6.2 lists, hashes, zsets) --------------------- */
typedef struct zl_reader {
    const uint8_t *zl;
    size_t size, pos, prevsize, lastpos;
    uint32_t hdr_count;
    uint64_t seen;
} zl_reader;
int zl_open(zl_reader *r, const uint8_t *zl, size_t size);
int zl_next(zl_reader *r, pk_val *v);

/* --- intset ------------------------------------------------------------- */
/* Validate: encoding 2, 4 or 8, size matches, values strictly ascending. */
int is_validate(const uint8_t *is, size_t size, uint32_t *count);
int64_t is_get(const uint8_t *is, uint32_t i);
/* Build an intset of n ascending distinct values into b. */
void is_write(rdb_buf *b, const int64_t *v, size_t n);

/* --- zipmap (Redis 2.4 and earlier hashes, still loadable) -------------- */
typedef struct zm_reader {
    const uint8_t *zm;
    size_t size, pos;
} zm_reader;
int zm_open(zm_reader *r, const uint8_t *zm, size_t size);
/* The next field and value (borrowed), ST_NOTFOUND at the end marker. */
int zm_next(zm_reader *r, const uint8_t **f, size_t *flen, const uint8_t **v, size_t *vlen);

#endif
