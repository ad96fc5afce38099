/* rdb.h — one key's value in Redis's RDB object format: the codec behind
 * DUMP / RESTORE / MIGRATE and RDB file import / export.
 *
 * Encoding reads a key through the storage API and writes what Redis 7.0
 * writes for the same value: the RDB type byte, then the payload. The form
 * (listpack or not, intset or not) follows the encoding Redis would hold
 * the value in, which lodis records in each collection's header with
 * Redis's own conversion rules.
 *
 * Decoding accepts every object type Redis 2.6 through 7.2 writes. It
 * writes members under a fresh collection id that no key points to yet,
 * validating every byte as it goes; only rdb_obj_publish makes the key
 * visible (one meta record, through the keyspace's write path, so WATCH,
 * notifications and the RAM tier see it). A corrupt payload therefore
 * never leaves a half-written key: the unpublished id goes to the trash.
 *
 * Ownership: an rdb_obj is owned by the caller until published or
 * discarded (exactly one of the two). */
#ifndef LODIS_RDB_H
#define LODIS_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/rdb_io.h"
#include "storage/t_hash.h"
#include "storage/t_list.h"
#include "storage/t_set.h"

/* RDB object types (Redis's rdb.h numbers; on disk: never renumber). */
#define RDB_TYPE_STRING             0
#define RDB_TYPE_LIST               1
#define RDB_TYPE_SET                2
#define RDB_TYPE_ZSET               3
#define RDB_TYPE_HASH               4
#define RDB_TYPE_ZSET_2             5
#define RDB_TYPE_MODULE             6
#define RDB_TYPE_MODULE_2           7
#define RDB_TYPE_HASH_ZIPMAP        9
#define RDB_TYPE_LIST_ZIPLIST       10
#define RDB_TYPE_SET_INTSET         11
#define RDB_TYPE_ZSET_ZIPLIST       12
#define RDB_TYPE_HASH_ZIPLIST       13
#define RDB_TYPE_LIST_QUICKLIST     14
#define RDB_TYPE_STREAM_LISTPACKS   15
#define RDB_TYPE_HASH_LISTPACK      16
#define RDB_TYPE_ZSET_LISTPACK      17
#define RDB_TYPE_LIST_QUICKLIST_2   18
#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define RDB_TYPE_SET_LISTPACK       20 /* Redis 7.2 */
#define RDB_TYPE_STREAM_LISTPACKS_3 21 /* Redis 7.2 */

#define RDB_VERSION     10 /* what we write (Redis 7.0) */
#define RDB_VERSION_MAX 11 /* the newest we read (Redis 7.2) */

/* 1 if t is an object type byte (not an opcode). */
int rdb_is_object_type(int t);

/* Redis's encoding thresholds (the server's configuration). */
typedef struct rdb_limits {
    long long hash_max_listpack_entries, hash_max_listpack_value;
    long long set_max_intset_entries;
    long long zset_max_listpack_entries, zset_max_listpack_value;
    long long list_max_listpack_size;
    long long stream_node_max_bytes, stream_node_max_entries;
    int compress; /* LZF-compress strings longer than 20 bytes (rdbcompression) */
    int rdb_version; /* 10 (Redis 7.0 forms) or 9 (ziplists, streams v1: Redis 5 and 6) */
} rdb_limits;
/* Redis 7.0's defaults. */
void rdb_limits_default(rdb_limits *l);

/* Append the RDB object (type byte + payload) of the value m describes
 * (from ks_lookup) to out. ST_OK, or a storage error / ST_NOMEM. */
int rdb_encode_value(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out);

/* A decoded value, written under a fresh id but not yet visible. */
typedef struct rdb_obj {
    int type; /* KS_* */
    uint64_t id;
    uint8_t *str; /* strings: owned bytes */
    size_t slen;
    th_hash h;
    ts_set s;
    tl_list l;
    uint64_t count;
    uint8_t zflags;
    uint8_t hdr[64]; /* zset / stream header */
    size_t hdrlen;
} rdb_obj;

/* Decode one object of RDB type `type` from r (just after the type byte).
 * Returns ST_OK (o ready to publish or discard), ST_NOTFOUND (a valid but
 * empty value: nothing to publish, nothing left behind), ST_CORRUPT (bad
 * data; *why names the problem), ST_INVALID (a module type: *why says so),
 * or a storage error. On any error nothing remains to clean up. */
int rdb_decode_value(ks *k, int type, rdb_rd *r, const rdb_limits *lim, rdb_obj *o,
                     const char **why);
/* Make o the value of key (which must not exist) with the given expire
 * (unix ms, 0 none). Consumes o. */
int rdb_obj_publish(ks *k, rdb_obj *o, int db, const void *key, size_t klen, int64_t expire);
/* Drop an unpublished object (its members go to the trash). */
void rdb_obj_discard(ks *k, rdb_obj *o);

/* --- DUMP payloads: object · RDB version (2, LE) · CRC-64 (8, LE) -------- */
/* Append the DUMP payload of the value to out. */
int rdb_dump_payload(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out);
/* Check a payload's footer: ST_OK when the version is at most
 * RDB_VERSION_MAX and the checksum matches, else ST_CORRUPT. *body_len gets
 * the length of the object part. */
int rdb_payload_verify(const uint8_t *p, size_t len, size_t *body_len);

#endif
