/* wal.h — the write-ahead log: segment files of checksummed record batches.
 * Private to storage/.
 *
 * Layout: <dir>/wal/<gen as 16 hex digits>.wal. A segment holds records of
 * one generation only; a record is
 *   magic u32 | crc32c u32 (of everything after it) | gen u64 | len u32 |
 *   zero u32 | payload[len]
 * and the payload is a sequence of operations
 *   op u8 (1 put, 2 del) | dbi u8 | klen u32 | vlen u32 | key | value.
 * Segments are preallocated by writing zeros, so appends and fdatasync touch
 * no file metadata; replay stops at the first record that is zero, torn, of
 * another generation (a recycled segment) or fails its checksum. */
#ifndef LODIS_WAL_H
#define LODIS_WAL_H

#include <stddef.h>
#include <stdint.h>

#define WAL_OP_PUT 1
#define WAL_OP_DEL 2
#define WAL_HDR 24

typedef struct wal {
    char *dir;        /* <datadir>/wal */
    int fd;           /* current segment, -1 if none */
    uint64_t gen;     /* generation of the current segment */
    uint64_t off;     /* bytes written in the current segment */
    uint64_t alloc;   /* bytes preallocated in the current segment */
    uint64_t segsize; /* preallocation unit */
    int readonly;     /* a reader of another process's log: never unlink */
} wal;

typedef int (*wal_apply_fn)(void *ud, int op, int dbi, const uint8_t *k, size_t klen,
                            const uint8_t *v, size_t vlen);

/* Create <datadir>/wal if needed. */
int wal_init(wal *w, const char *datadir, uint64_t segsize);
void wal_close(wal *w);
/* Replay every segment with gen > after_gen in order. Stops at the first bad
 * record of a segment (torn tail); *max_gen gets the highest generation seen
 * (after_gen if none), *records the records applied. Returns ST_*. */
int wal_replay(wal *w, uint64_t after_gen, wal_apply_fn fn, void *ud, uint64_t *max_gen,
               uint64_t *records, char *err, size_t errlen);
/* Start writing generation `gen` in a new or recycled segment. */
int wal_start_segment(wal *w, uint64_t gen);
/* Make room for `bytes` more in the current segment (preallocating). */
int wal_reserve(wal *w, uint64_t bytes);
/* Append one record with this payload. */
int wal_append(wal *w, const void *payload, size_t len);
/* Delete (or keep one as a spare for recycling) segments with gen <= upto. */
void wal_trim(wal *w, uint64_t upto);
/* Total bytes of live segments. */
uint64_t wal_bytes(wal *w);

/* Encode one operation into dst (capacity checked by caller):
 * size is 10 + klen + vlen. */
size_t wal_encode_op(uint8_t *dst, int op, int dbi, const void *k, size_t klen, const void *v,
                     size_t vlen);

#endif
