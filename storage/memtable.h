/* memtable.h — ordered in-RAM map of byte keys to values or tombstones.
 * Private to storage/. One memtable holds the writes of one WAL generation
 * range for all DBIs (a skiplist per DBI, and one hash index over all).
 *
 * Nodes are never freed before the whole memtable is: overwriting a key
 * replaces its value in place and a delete turns the node into a tombstone,
 * so iterators stay valid while the memtable is written.
 *
 * Nodes, keys and values up to MT_ARENA_VALUE_MAX bytes are carved from the
 * memtable's own arena (chunks of MT_ARENA_CHUNK bytes, freed all at once
 * with it) rather than malloc'd one by one: the event loop then pays no
 * malloc per new key, and the checkpoint thread that frees a checkpointed
 * memtable frees a few hundred chunks instead of two allocations per
 * entry, all of them from the main arena under its lock (measured: those
 * frees were a fifth of the checkpoint thread's CPU under SET -P 16). An
 * overwritten value's old bytes stay in the arena until the memtable is
 * freed, and count in its bytes, so a burst of overwrites brings the next
 * checkpoint forward instead of growing the heap. Larger values are
 * malloc'd and freed when overwritten, as before.
 *
 * New keys are linked into their skiplist lazily. A put only hashes the node
 * and appends it to its list's pending array; the first ordered access to
 * that list (seek, step, checkpoint) sorts the pending nodes and links them
 * in one ascending pass. A write-only stream of new keys (SET, HSET of fresh
 * keys) thus never pays the skiplist's cache misses on the event loop, and a
 * frozen memtable is linked by the checkpoint thread. Linking takes the
 * memtable's mutex, so the event loop may seek a frozen memtable while the
 * checkpoint thread links it. */
#ifndef LODIS_MEMTABLE_H
#define LODIS_MEMTABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MT_MAXLEVEL 24

#define MT_ARENA_CHUNK     (64u << 10)
#define MT_ARENA_VALUE_MAX 4096

typedef struct mt_node {
    uint8_t *val;  /* NULL for a tombstone */
    uint32_t vlen;
    uint32_t klen;
    uint8_t level;
    uint8_t vheap; /* val is malloc'd (larger than MT_ARENA_VALUE_MAX) */
    struct mt_node *next[]; /* level pointers, then klen key bytes */
} mt_node;

typedef struct mt_chunk mt_chunk;

typedef struct mt_list {
    mt_node *head;
    uint64_t count;
    mt_node **pend;          /* new nodes not yet linked, in put order */
    uint32_t npend, pendcap; /* npend is read without the lock: see mt_link */
    int top;                 /* highest level in use */
} mt_list;

typedef struct memtable {
    mt_list lists[8];
    int nlists;
    /* Hash index over all nodes of all lists, for point lookups and
     * overwrites without a skiplist search: open addressing, linear probing,
     * never shrinks (nodes are never removed before the memtable is freed). */
    struct mt_slot {
        mt_node *node;
        uint32_t tag; /* hash bits (high 24) and list (low 8) */
    } *hidx;          /* slot and tag together: one cache line per probe */
    size_t hcap, hcount;
    mt_chunk *chunks; /* the arena: nodes, keys, small values */
    uint64_t bytes;   /* heap bytes held: arena, large values, tables */
    uint64_t entries;
    uint64_t gen;     /* highest WAL generation whose writes it holds */
    uint32_t rnd;
    pthread_mutex_t link_mu; /* serialises linking (see the header comment) */
} memtable;

static inline const uint8_t *mt_key(const mt_node *n) {
    return (const uint8_t *)&n->next[n->level];
}

memtable *mt_new(int nlists);
void mt_free(memtable *m);
/* Insert or overwrite; v NULL = tombstone. Returns 0, or -1 on OOM. */
int mt_put(memtable *m, int list, const void *k, size_t klen, const void *v, size_t vlen,
           int tomb);
/* Exact lookup: the node (maybe a tombstone) or NULL. Never links. */
mt_node *mt_find(const memtable *m, int list, const void *k, size_t klen);
/* Link the pending nodes of one list (all lists: list < 0) into order
 * (sorts in place: allocates nothing, cannot fail). Safe to call from the
 * checkpoint thread on a frozen memtable while the event loop reads it. */
void mt_link(memtable *m, int list);
/* First node with key >= k (k NULL: first). */
mt_node *mt_seek_ge(memtable *m, int list, const void *k, size_t klen);
/* Last node with key < k (k NULL: last node); strict=0 means <= k. */
mt_node *mt_seek_lt(memtable *m, int list, const void *k, size_t klen, int strict);

/* A finger: the nodes a search passed at each level, kept by its caller (a
 * cursor) so that the next search of the same list starts from the nearest
 * of them still before its key instead of from the head: O(log distance)
 * for seeks that stay close, as a random descent's do. It is only trusted
 * for the same memtable and list with no key added since (entries), so a
 * zeroed finger and a stale one both mean a search from the head. */
typedef struct mt_finger {
    const memtable *m;
    int list;
    uint64_t entries;
    mt_node *node[MT_MAXLEVEL];
} mt_finger;
/* mt_seek_ge / mt_seek_lt (k not NULL) through finger f, which is updated. */
mt_node *mt_seek_ge_f(memtable *m, int list, const void *k, size_t klen, mt_finger *f);
mt_node *mt_seek_lt_f(memtable *m, int list, const void *k, size_t klen, int strict,
                      mt_finger *f);
/* The node after n in key order (links pending nodes first, so a cursor sees
 * keys put since it was positioned, as it would in an eagerly linked list). */
mt_node *mt_next(memtable *m, int list, const mt_node *n);

/* LMDB's default order: memcmp over the common length, then shorter first. */
static inline int mt_cmp(const void *a, size_t alen, const void *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? __builtin_memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

#endif
