/* t_stream.h — streams on the `sub` DBI: entry IDs, entries, consumer
 * group records, pending entries lists (PEL).
 *
 * Layout under the stream's collection id (kinds are on-disk constants:
 * never renumber):
 *   'e' · ms(8 BE) · seq(8 BE)               -> field/value list (TS fields)
 *   'g' · group name                         -> group record (STRM_GROUP_LEN)
 *   'c' · gid(8) · consumer name             -> consumer record (STRM_CONS_LEN)
 *   'p' · gid(8) · ms · seq                  -> PEL record: delivery(8) ·
 *                                               count(8) · cid(8) · consumer name
 *   'q' · gid(8) · cid(8) · ms · seq         -> "" (per-consumer PEL)
 * Group and consumer names go through the member-entry layer (t_hash.h):
 * names too long for an LMDB key take the hashed form. gid and cid are
 * fresh ks_new_id() numbers, so a group's entries are found without its
 * name and a renamed/copied stream keeps them.
 * Meta header (STRM_HDR_LEN): last id, max deleted id, first id (16 each),
 * entries added (8), number of groups (8); the meta count is the length.
 *
 * Lifetimes: pointers handed out are borrowed from the store (store.h). */
#ifndef LODIS_T_STREAM_H
#define LODIS_T_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/store.h"

#define STRM_KIND_ENTRY    'e'
#define STRM_KIND_GROUP    'g'
#define STRM_KIND_CONSUMER 'c'
#define STRM_KIND_PEL      'p'
#define STRM_KIND_CPEL     'q'

typedef struct strm_id {
    uint64_t ms, seq;
} strm_id;

#define STRM_HDR_LEN 64
typedef struct strm_hdr {
    strm_id last, maxdel, first;
    uint64_t added;
    uint64_t ngroups;
} strm_hdr;

/* Decode a header (zeros when short or missing) / encode into out. */
void strm_hdr_decode(const uint8_t *p, size_t len, strm_hdr *h);
void strm_hdr_encode(const strm_hdr *h, uint8_t *out);

int strm_id_cmp(strm_id a, strm_id b);
/* "ms-seq" into buf (at least 42 bytes); returns the length. */
size_t strm_id_format(strm_id id, char *buf);
/* Parse an ID the way Redis 7 does: "-" and "+" (unless strict), "ms",
 * "ms-seq", and with seq_given non-NULL also "ms-*" (*seq_given = 0).
 * A missing seq becomes missing_seq. Numbers follow string2ull (strict
 * decimal, else strtoull's looser form). Returns 0 or -1 (invalid). */
int strm_id_parse(const void *s, size_t len, strm_id *id, uint64_t missing_seq, int strict,
                int *seq_given);
/* The ID after / before id; -1 when there is none. */
int strm_id_incr(strm_id *id);
int strm_id_decr(strm_id *id);

/* --- entries ---------------------------------------------------------- */
/* Key of an entry: 25 bytes. */
size_t strm_entry_key(uint64_t sid, strm_id eid, uint8_t *out);
/* Store an entry of n strings (field, value, field, value, ...). */
int strm_entry_put(store *s, uint64_t sid, strm_id eid, const void *const *p, const size_t *l,
                 size_t n);
int strm_entry_get(store *s, uint64_t sid, strm_id eid, const uint8_t **v, size_t *vlen);
/* ST_OK if it existed, ST_NOTFOUND if not. */
int strm_entry_del(store *s, uint64_t sid, strm_id eid);
/* Walk the strings of an entry value: ST_OK with the string in p and l, ST_NOTFOUND at the
 * end, ST_CORRUPT on a bad encoding. *off starts at 0. */
int strm_fields_next(const uint8_t *v, size_t vlen, size_t *off, const uint8_t **p, size_t *l);
size_t strm_fields_count(const uint8_t *v, size_t vlen);

/* Entries between start and end inclusive, ascending or descending. */
typedef struct strm_iter {
    store_cursor *cur;
    uint8_t prefix[9];
    strm_id start, end;
    int rev, started, done;
} strm_iter;
int strm_iter_open(strm_iter *it, store *s, uint64_t sid, strm_id start, strm_id end, int rev);
/* ST_OK with the entry (borrowed until the next step), ST_NOTFOUND at the end. */
int strm_iter_next(strm_iter *it, strm_id *eid, const uint8_t **v, size_t *vlen);
void strm_iter_close(strm_iter *it);

/* --- groups, consumers, PEL ---------------------------------------------- */
#define STRM_GROUP_LEN 48
typedef struct strm_group {
    uint64_t gid;
    strm_id last;
    int64_t entries_read; /* -1: unknown */
    uint64_t pel_count;
    uint64_t ncons;
} strm_group;
void strm_group_encode(const strm_group *g, uint8_t *out);
int strm_group_decode(const uint8_t *p, size_t len, strm_group *g);

#define STRM_CONS_LEN 24
typedef struct strm_consumer {
    uint64_t cid;
    int64_t seen;
    uint64_t pel_count;
} strm_consumer;
void strm_consumer_encode(const strm_consumer *c, uint8_t *out);
int strm_consumer_decode(const uint8_t *p, size_t len, strm_consumer *c);

/* Group and consumer records through the member-entry layer (t_hash.h):
 * a group under its name, a consumer under gid(8) · name. */
int strm_group_put(ks *k, uint64_t sid, const void *name, size_t nlen, const strm_group *g);
int strm_consumer_put(ks *k, uint64_t sid, uint64_t gid, const void *name, size_t nlen,
                      const strm_consumer *c);

#define STRM_PEL_LEN 24 /* followed by the consumer name */
typedef struct strm_pel {
    int64_t delivery;
    uint64_t count;
    uint64_t cid;
    const uint8_t *name; /* borrowed */
    size_t nlen;
} strm_pel;
/* Keys: PEL 33 bytes, per-consumer PEL 41 bytes. */
size_t strm_pel_key(uint64_t sid, uint64_t gid, strm_id eid, uint8_t *out);
size_t strm_cpel_key(uint64_t sid, uint64_t gid, uint64_t cid, strm_id eid, uint8_t *out);
int strm_pel_get(store *s, uint64_t sid, uint64_t gid, strm_id eid, strm_pel *pe);
int strm_pel_put(store *s, uint64_t sid, uint64_t gid, strm_id eid, const strm_pel *pe);
int strm_pel_del(store *s, uint64_t sid, uint64_t gid, strm_id eid);
int strm_cpel_put(store *s, uint64_t sid, uint64_t gid, uint64_t cid, strm_id eid);
int strm_cpel_del(store *s, uint64_t sid, uint64_t gid, uint64_t cid, strm_id eid);

/* Ordered walk of the keys starting with prefix (plen bytes) from `from`
 * (NULL: the prefix itself); ST_OK with the raw key/value, ST_NOTFOUND at
 * the end of the prefix. Used for the PEL (prefix id·'p'·gid) and the
 * per-consumer PEL (id·'q'·gid·cid). */
typedef struct strm_scan {
    store_cursor *cur;
    uint8_t prefix[48];
    size_t plen;
    int started, done;
} strm_scan;
int strm_scan_open(strm_scan *sc, store *s, const uint8_t *prefix, size_t plen, const uint8_t *from,
                 size_t fromlen);
int strm_scan_next(strm_scan *sc, const uint8_t **k, size_t *kl, const uint8_t **v, size_t *vl);
void strm_scan_close(strm_scan *sc);
/* The entry ID at the end of a PEL or per-consumer PEL key. */
strm_id strm_key_tail_id(const uint8_t *k, size_t kl);
void strm_pel_decode(const uint8_t *v, size_t vl, strm_pel *pe);

#endif
