/* t_hash.h — hashes on the `sub` DBI, and the member-entry layer that hashes
 * and sets (t_set.h) share.
 *
 * Member entries ("cm_"): one `sub` entry per member, key id(8) · kind(1) ·
 * member (ks_member_key). A member too long for an LMDB key uses the hashed
 * form (kind | KS_KIND_HASHED) with the full member wrapped in the value;
 * the cm_ functions hide that, callers always see full members.
 *
 * Hash layout: id · 'f' · field -> value; meta header (TH_HDR_LEN bytes)
 * flags(1) · nlong(8 BE): TH_F_HT = Redis would hold the hash as a
 * hashtable (it never converts back); nlong = fields in the hashed form.
 *
 * Lifetimes: values and entries handed out are borrowed from the store
 * (store.h): valid until the next write to that entry, the next step of
 * the iterator that produced them, or the end of the tick. */
#ifndef LODIS_T_HASH_H
#define LODIS_T_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/store.h"

/* ------------------------------------------------------------------ */
/* member entries, shared with t_set.c                                  */

/* One entry as read back. member is the full member (for the hashed form,
 * taken from the value); for a kind with a fixed prefix, member starts at
 * the fixed bytes. key is the raw `sub` key. */
typedef struct cm_entry {
    uint8_t kind; /* without KS_KIND_HASHED */
    int hashed;
    const uint8_t *key;
    size_t klen;
    const uint8_t *member;
    size_t mlen;
    const uint8_t *payload;
    size_t plen;
} cm_entry;

/* Point operations on the entry (kind, fixed, member) of collection id.
 * cm_get: ST_OK with the payload borrowed, or ST_NOTFOUND.
 * cm_put: create or replace; *hashed (may be NULL) says if the long form
 * was used. cm_del: ST_OK if it existed and was deleted, else ST_NOTFOUND. */
int cm_get(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
           const void *member, size_t mlen, const uint8_t **payload, size_t *plen);
int cm_put(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
           const void *member, size_t mlen, const void *payload, size_t plen, int *hashed);
int cm_del(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
           const void *member, size_t mlen, int *hashed);

/* Iterate every entry of a collection in key order, optionally from a raw
 * key (a SCAN resume point). Close before the command returns. */
typedef struct cm_iter {
    store_cursor *cur;
    uint8_t id[8];
    int started;
    int done;
} cm_iter;
int cm_iter_open(cm_iter *it, ks *k, uint64_t id, const uint8_t *from, size_t fromlen);
/* ST_OK with *e filled (borrowed until the next step), ST_NOTFOUND at the
 * end, or another ST_* error. */
int cm_iter_next(cm_iter *it, cm_entry *e);
void cm_iter_close(cm_iter *it);

/* Ordered walk of the entries of one kind whose member starts with pfx
 * (at most 8 bytes): plain keys first, then the hashed long form. */
typedef struct cm_kiter {
    cm_iter it;
    ks *k;
    uint64_t id;
    uint8_t kind;
    uint8_t pfx[8];
    size_t pfxlen;
    int pass;
    int open;
} cm_kiter;
void cm_kiter_open(cm_kiter *ki, ks *k, uint64_t id, uint8_t kind, const uint8_t *pfx,
                   size_t pfxlen);
/* ST_OK with *e (borrowed until the next step), ST_NOTFOUND at the end. */
int cm_kiter_next(cm_kiter *ki, cm_entry *e);
void cm_kiter_close(cm_kiter *ki);

/* A 64-bit pseudo-random number (xoshiro256**, seeded once per process). */
uint64_t cm_rand64(void);
/* A uniform number in [0, n), n > 0. */
uint64_t cm_rand_below(uint64_t n);

/* A random entry among those whose key starts with id · kindbyte
 * (kindbyte includes KS_KIND_HASHED when wanted); n is how many there are.
 * Descends the key space with range seeks, O(key length * log N), and
 * corrects the descent's bias by rejection: close to uniform, though keys in
 * much denser branches than their siblings stay less likely. For exact
 * uniform picks over a small collection, use cm_nth / cm_collect. The entry
 * is copied into *out (cm_owned_free). ST_NOTFOUND if there is none. */
typedef struct cm_owned {
    uint8_t kind;
    uint8_t *key;
    size_t klen;
    uint8_t *member; /* points into buf */
    size_t mlen;
    uint8_t *payload; /* points into buf */
    size_t plen;
    uint8_t *buf;
} cm_owned;
int cm_random_entry(ks *k, uint64_t id, uint8_t kindbyte, uint64_t n, cm_owned *out);
/* The entry at position n (0-based, key order) copied into *out: O(n). */
int cm_nth(ks *k, uint64_t id, uint64_t n, cm_owned *out);
void cm_owned_free(cm_owned *o);

/* Every entry of a collection copied into memory, in key order. */
typedef struct cm_item {
    uint8_t kind;
    size_t moff, mlen, poff, plen; /* offsets into cm_list.buf */
} cm_item;
typedef struct cm_list {
    cm_item *items;
    size_t n, cap;
    uint8_t *buf;
    size_t len, bufcap;
} cm_list;
int cm_collect(ks *k, uint64_t id, cm_list *out);
/* count draws with replacement, exactly uniform over the first `size`
 * entries of a collection (its member count), in random order: one ordered
 * walk over sorted random positions, O(size + count log count), memory
 * O(count). Entries the walk cannot reach (size larger than the real
 * count) are simply left out. */
int cm_sample_replace(ks *k, uint64_t id, uint64_t size, uint64_t count, cm_list *out);
/* Append one item (used by cm_collect; also handy for callers). */
int cm_list_add(cm_list *l, uint8_t kind, const void *m, size_t mlen, const void *p, size_t plen);
void cm_list_free(cm_list *l);

/* ------------------------------------------------------------------ */
/* hashes                                                               */

/* On disk: never renumber. */
#define TH_KIND_FIELD 'f'
#define TH_F_HT       0x01 /* Redis would hold this hash as a hashtable */
#define TH_HDR_LEN    9

/* An open hash for one command. Fill with th_open; a missing key can be
 * created with th_create; write members; th_commit persists meta changes
 * (or deletes the key when it became empty) and reports the write. */
typedef struct th_hash {
    ks *k;
    int db;
    const void *key;
    size_t klen;
    int exists;       /* the key existed at th_open */
    ks_meta m;        /* type, id, count, expire (hdr points into hdr[]) */
    uint8_t flags;    /* TH_F_* */
    uint64_t nlong;   /* fields in the hashed long form */
    int dirty;        /* members changed */
    uint64_t count0, nlong0;
    uint8_t flags0;
    uint8_t hdr[TH_HDR_LEN];
} th_hash;

/* ST_OK (exists), ST_NOTFOUND (h still usable: th_create), ST_WRONGTYPE or
 * another error. An expired key is deleted and reported as ST_NOTFOUND. */
int th_open(th_hash *h, ks *k, int db, const void *key, size_t klen);
/* Give a missing hash a fresh id (nothing is written until th_commit). */
void th_create(th_hash *h);
int th_get(th_hash *h, const void *f, size_t flen, const uint8_t **v, size_t *vlen);
/* Set a field; *created (may be NULL) tells if it was new. */
int th_set(th_hash *h, const void *f, size_t flen, const void *v, size_t vlen, int *created);
/* Delete a field; *deleted tells if it existed. */
int th_del(th_hash *h, const void *f, size_t flen, int *deleted);
/* Persist: write the meta if count or header changed (a new hash is
 * created here), delete the key if it has no field left, else report a
 * member-only write. No-op when nothing changed. */
int th_commit(th_hash *h);
/* A random field: uniform between the plain and hashed kinds by count,
 * then cm_random_entry. */
int th_random(th_hash *h, cm_owned *out);

/* Decode a hash meta header (tolerates a short or empty one). */
void th_hdr_decode(const ks_meta *m, uint8_t *flags, uint64_t *nlong);

#endif
