/* memtable.h — ordered in-RAM map of byte keys to values or tombstones.
 * Private to storage/. One memtable holds the writes of one WAL generation
 * range for all DBIs (a skiplist per DBI).
 *
 * Nodes are never freed before the whole memtable is: overwriting a key
 * replaces its value in place and a delete turns the node into a tombstone,
 * so iterators stay valid while the memtable is written. */
#ifndef LODIS_MEMTABLE_H
#define LODIS_MEMTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MT_MAXLEVEL 24

typedef struct mt_node {
    uint8_t *val;  /* NULL for a tombstone */
    uint32_t vlen;
    uint32_t klen;
    uint8_t level;
    struct mt_node *next[]; /* level pointers, then klen key bytes */
} mt_node;

typedef struct mt_list {
    mt_node *head;
    uint64_t count;
} mt_list;

typedef struct memtable {
    mt_list lists[8];
    int nlists;
    /* Hash index over all nodes of all lists, for point lookups and
     * overwrites without a skiplist search: open addressing, linear probing,
     * never shrinks (nodes are never removed before the memtable is freed). */
    mt_node **hidx;
    uint8_t *hlist; /* list of each slot's node */
    size_t hcap, hcount;
    uint64_t bytes;   /* approximate heap bytes held */
    uint64_t entries;
    uint64_t gen;     /* highest WAL generation whose writes it holds */
    uint32_t rnd;
} memtable;

static inline const uint8_t *mt_key(const mt_node *n) {
    return (const uint8_t *)&n->next[n->level];
}

memtable *mt_new(int nlists);
void mt_free(memtable *m);
/* Insert or overwrite; v NULL = tombstone. Returns 0, or -1 on OOM. */
int mt_put(memtable *m, int list, const void *k, size_t klen, const void *v, size_t vlen,
           int tomb);
/* Exact lookup: the node (maybe a tombstone) or NULL. */
mt_node *mt_find(const memtable *m, int list, const void *k, size_t klen);
/* First node with key >= k (k NULL: first). */
mt_node *mt_seek_ge(const memtable *m, int list, const void *k, size_t klen);
/* Last node with key < k (k NULL: last node); strict=0 means <= k. */
mt_node *mt_seek_lt(const memtable *m, int list, const void *k, size_t klen, int strict);

/* LMDB's default order: memcmp over the common length, then shorter first. */
static inline int mt_cmp(const void *a, size_t alen, const void *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? __builtin_memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

#endif
