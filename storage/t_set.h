/* t_set.h — sets on the `sub` DBI: one entry per member, value "".
 *
 * Layout (on disk: never renumber):
 *   id · 'i' · int64 order-preserving (8)  a canonical integer member
 *                                           (string2ll rules, as an intset)
 *   id · 'm' · member                       any other member (hashed long
 *                                           form 'm' | KS_KIND_HASHED)
 * A set iterates integers first, in numeric order (as Redis replies for an
 * intset), then other members in byte order.
 *
 * Meta header (TS_HDR_LEN bytes): flags(1) · nint(8 BE) · nlong(8 BE):
 * TS_F_HT = Redis would hold it as a hashtable (the server applies Redis's
 * rules), nint = integer members (nint == count: all integers), nlong =
 * members in the hashed form; both also weight random picks between kinds.
 * Lifetimes as in t_hash.h. */
#ifndef LODIS_T_SET_H
#define LODIS_T_SET_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/store.h"
#include "storage/t_hash.h"

#define TS_KIND_INT    'i'
#define TS_KIND_MEMBER 'm'
#define TS_F_HT        0x01
#define TS_HDR_LEN     17
/* Longest text of an integer member ("-9223372036854775808") plus NUL. */
#define TS_INT_TEXT    21

typedef struct ts_set {
    ks *k;
    int db;
    const void *key;
    size_t klen;
    int exists;     /* the key existed at ts_open (or was written since) */
    ks_meta m;      /* type, id, count, expire */
    uint8_t flags;  /* TS_F_* */
    uint64_t nint;  /* integer members */
    uint64_t nlong; /* members in the hashed long form */
    int dirty;
    uint64_t count0, nint0, nlong0;
    uint8_t flags0;
    uint8_t hdr[TS_HDR_LEN];
} ts_set;

/* Open: ST_OK, ST_NOTFOUND (s usable: ts_create), ST_WRONGTYPE, or error. */
int ts_open(ts_set *s, ks *k, int db, const void *key, size_t klen);
/* A new empty set with a fresh id for key (nothing written before
 * ts_commit). */
void ts_create(ts_set *s);
/* Prepare s as a new set for key without looking the key up (STORE
 * commands, which replace the key). */
void ts_new(ts_set *s, ks *k, int db, const void *key, size_t klen);
/* 1 if member is in the set, 0 if not, or a negative ST_* code. */
int ts_ismember(ts_set *s, const void *member, size_t mlen);
/* The same for an entry read from another set (cm_entry / cm_owned kinds):
 * no re-encoding of integers. */
int ts_has_entry(ts_set *s, uint8_t kind, const void *m, size_t mlen);
int ts_add(ts_set *s, const void *member, size_t mlen, int *added);
int ts_add_entry(ts_set *s, uint8_t kind, const void *m, size_t mlen, int *added);
int ts_rem(ts_set *s, const void *member, size_t mlen, int *removed);
int ts_rem_entry(ts_set *s, uint8_t kind, const void *m, size_t mlen, int *removed);
/* Persist as th_commit does (meta write, delete when empty, or a
 * member-only write report). */
int ts_commit(ts_set *s);
/* A random member (see cm_random_entry: close to uniform). */
int ts_random(ts_set *s, cm_owned *out);

/* 1 if member is an integer member (canonical int64 text), with *v set. */
int ts_member_is_int(const void *member, size_t mlen, long long *v);
/* The member text of an entry: integers are formatted into buf
 * (TS_INT_TEXT bytes); other members are returned as they are. */
void ts_entry_text(uint8_t kind, const uint8_t *m, size_t mlen, char *buf, const uint8_t **out,
                   size_t *outlen);

void ts_hdr_decode(const ks_meta *m, uint8_t *flags, uint64_t *nint, uint64_t *nlong);

#endif
