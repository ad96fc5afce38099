/* t_list.h — lists on the `sub` DBI: one entry per element.
 *
 * Layout (on disk: never renumber):
 *   id · 'l' · index64 (8 BE)  ->  element bytes
 * The element is the value, so elements of any length need no hashed form.
 * Positions start in the middle of the uint64 range (TL_MID) so that both
 * ends can grow by 2^63 pushes.
 *
 * Meta header (TL_HDR_LEN bytes): head(8 BE) · tail(8 BE). head is the index
 * of the first element, tail one past the last. Invariant: the list is dense,
 * count == tail - head, so LINDEX/LSET are one point lookup (O(log N)) by
 * index arithmetic. LINSERT and LREM keep it dense by shifting the shorter
 * side of the change (O(N) moves in the worst case, as Redis's own O(N)).
 *
 * Lifetimes: element pointers handed out (tl_get, tl_iter_next) borrow
 * storage memory until the next write to the list or the end of the tick. */
#ifndef LODIS_T_LIST_H
#define LODIS_T_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"
#include "storage/store.h"

#define TL_KIND    'l'
#define TL_HDR_LEN 16
#define TL_MID     0x8000000000000000ULL
#define TL_HEAD    0
#define TL_TAIL    1
#define TL_KEYLEN  17 /* id(8) · kind(1) · index(8) */

typedef struct tl_list {
    ks *k;
    int db;
    const void *key;
    size_t klen;
    int exists;      /* the key existed at tl_open */
    ks_meta m;       /* type, flags, id, count, expire (hdr unused) */
    uint64_t head, tail;
    int meta_dirty;  /* count or header changed */
    int member_dirty; /* elements changed without a meta change (LSET) */
    uint8_t hdr[TL_HDR_LEN];
} tl_list;

/* Open: ST_OK, ST_NOTFOUND (l usable: tl_create), ST_WRONGTYPE, or error. */
int tl_open(tl_list *l, ks *k, int db, const void *key, size_t klen);
/* Make l a new empty list with a fresh id (nothing written before commit). */
void tl_create(tl_list *l);
/* Prepare l as a new list for key without looking the key up (SORT ...
 * STORE, which replaces whatever the key holds at tl_commit). */
void tl_new(tl_list *l, ks *k, int db, const void *key, size_t klen);
/* Element at logical position idx (0..count-1), borrowed. */
int tl_get(tl_list *l, uint64_t idx, const uint8_t **v, size_t *vlen);
int tl_push(tl_list *l, int where, const void *v, size_t vlen);
/* Remove the element at one end (the caller read it first with tl_get). */
int tl_pop(tl_list *l, int where);
int tl_set(tl_list *l, uint64_t idx, const void *v, size_t vlen);
/* Insert so that the new element ends at logical position pos (0..count). */
int tl_insert(tl_list *l, uint64_t pos, const void *v, size_t vlen);
/* Remove the elements at the given logical positions (ascending, distinct). */
int tl_remove_positions(tl_list *l, const uint64_t *pos, size_t n);
/* Keep only logical positions [start, stop] (start > stop: keep none). */
int tl_trim(tl_list *l, uint64_t start, uint64_t stop, int keep_none);
/* Persist: meta write, delete when empty, or a member-only change report. */
int tl_commit(tl_list *l);

/* Ordered walk from logical position `start`, forward or backward. */
typedef struct tl_iter {
    store_cursor *cur;
    tl_list *l;
    uint64_t pos;  /* logical position of the next element */
    int reverse;
    int started;
} tl_iter;
int tl_iter_open(tl_list *l, uint64_t start, int reverse, tl_iter *it);
/* ST_OK with the element (borrowed until the next write) and its logical
 * position, or ST_NOTFOUND at the end. */
int tl_iter_next(tl_iter *it, const uint8_t **v, size_t *vlen, uint64_t *pos);
void tl_iter_close(tl_iter *it);

/* head and tail from a meta record's type header. */
void tl_hdr_decode(const ks_meta *m, uint64_t *head, uint64_t *tail);

#endif
