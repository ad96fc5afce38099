/* memtable.c — skiplists and the hash index of the memtable; see memtable.h.
 *
 * A skiplist rather than a tree: ordered iteration in both directions (prev is
 * a fresh O(log n) search), lock-free reads are never needed because only the
 * event loop reads the active memtable, and the frozen one is immutable while
 * the checkpoint thread reads it. */
#include "storage/memtable.h"

#include "storage/hash64.h"

#include <stdlib.h>
#include <string.h>

struct mt_chunk {
    mt_chunk *next;
    size_t used, cap;
    uint8_t data[];
};

/* Under ASan every allocation gets a chunk of its own, so the sanitizer
 * still sees each node's and value's bounds. */
#if defined(__SANITIZE_ADDRESS__)
#define CHUNK_BYTES 0
#else
#define CHUNK_BYTES MT_ARENA_CHUNK
#endif

/* n bytes, 8-aligned, from the arena. A request larger than a quarter of a
 * chunk gets a chunk of its own, linked behind the current one so the
 * current one's free tail stays in use. */
static void *arena_alloc(memtable *m, size_t n) {
    n = (n + 7) & ~(size_t)7;
    mt_chunk *c = m->chunks;
    if (c && c->cap - c->used >= n) {
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    size_t cap = n > CHUNK_BYTES / 4 ? n : CHUNK_BYTES;
    mt_chunk *nc = malloc(sizeof *nc + cap);
    if (!nc) return NULL;
    nc->cap = cap;
    nc->used = n;
    if (c && cap != CHUNK_BYTES) {
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        m->chunks = nc;
    }
    m->bytes += sizeof *nc + cap + 16; /* with malloc's header */
    return nc->data;
}

/* Room for a value: the arena's, or malloc's for a large one. */
static uint8_t *value_alloc(memtable *m, size_t vlen, uint8_t *heap) {
    *heap = vlen > MT_ARENA_VALUE_MAX;
    if (!*heap) return arena_alloc(m, vlen ? vlen : 1);
    uint8_t *p = malloc(vlen);
    if (p) m->bytes += vlen + 16;
    return p;
}

static void value_release(memtable *m, mt_node *n) {
    if (!n->vheap || !n->val) return;
    free(n->val);
    m->bytes -= n->vlen + 16;
}

/* A node from m's arena; m NULL: a list head, malloc'd so that an empty
 * memtable holds no arena chunk (and counts no bytes). */
static mt_node *node_new(memtable *m, int level, const void *k, size_t klen) {
    size_t sz = sizeof(mt_node) + (size_t)level * sizeof(mt_node *) + klen;
    mt_node *n = m ? arena_alloc(m, sz) : malloc(sz);
    if (!n) return NULL;
    n->val = NULL;
    n->vlen = 0;
    n->vheap = 0;
    n->klen = (uint32_t)klen;
    n->level = (uint8_t)level;
    for (int i = 0; i < level; i++) n->next[i] = NULL;
    if (klen) memcpy((uint8_t *)&n->next[level], k, klen);
    return n;
}

static inline uint64_t hkey(int list, const void *k, size_t n) {
    return hash64_tagged(list, k, n);
}

static int hidx_insert(memtable *m, int list, mt_node *node, uint64_t h);

/* The tag keeps 24 bits of the hash beside the list, so a probe rarely has
 * to touch a node (a cache miss) that is not the one it looks for. */
static inline uint32_t htag_of(int list, uint64_t h) {
    return ((uint32_t)(h >> 32) & ~0xffu) | (uint32_t)list;
}

static int hidx_grow(memtable *m) {
    size_t ncap = m->hcap ? m->hcap * 2 : 4096;
    struct mt_slot *old = m->hidx;
    size_t ocap = m->hcap;
    m->hidx = calloc(ncap, sizeof *m->hidx);
    if (!m->hidx) {
        m->hidx = old;
        return -1;
    }
    m->bytes += (ncap - ocap) * sizeof *m->hidx;
    m->hcap = ncap;
    m->hcount = 0;
    for (size_t i = 0; i < ocap; i++) {
        mt_node *n = old[i].node;
        if (!n) continue;
        int list = (int)(old[i].tag & 0xff);
        hidx_insert(m, list, n, hkey(list, mt_key(n), n->klen));
    }
    free(old);
    return 0;
}

static int hidx_insert(memtable *m, int list, mt_node *node, uint64_t h) {
    if ((m->hcount + 1) * 2 > m->hcap && hidx_grow(m) != 0) return -1;
    size_t mask = m->hcap - 1;
    size_t i = h & mask;
    while (m->hidx[i].node) i = (i + 1) & mask;
    m->hidx[i].node = node;
    m->hidx[i].tag = htag_of(list, h);
    m->hcount++;
    return 0;
}

static mt_node *find_h(const memtable *m, int list, const void *k, size_t klen, uint64_t h) {
    if (!m->hcap) return NULL;
    size_t mask = m->hcap - 1;
    uint32_t tag = htag_of(list, h);
    for (size_t i = h & mask; m->hidx[i].node; i = (i + 1) & mask) {
        if (m->hidx[i].tag != tag) continue;
        mt_node *n = m->hidx[i].node;
        if (n->klen == klen && memcmp(mt_key(n), k, klen) == 0) return n;
    }
    return NULL;
}

mt_node *mt_find(const memtable *m, int list, const void *k, size_t klen) {
    return find_h(m, list, k, klen, hkey(list, k, klen));
}

memtable *mt_new(int nlists) {
    memtable *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->nlists = nlists;
    m->rnd = 0x9e3779b9u;
    pthread_mutex_init(&m->link_mu, NULL);
    for (int i = 0; i < nlists; i++) {
        m->lists[i].top = 1;
        m->lists[i].head = node_new(NULL, MT_MAXLEVEL, NULL, 0);
        if (!m->lists[i].head) {
            mt_free(m);
            return NULL;
        }
    }
    return m;
}

void mt_free(memtable *m) {
    if (!m) return;
    free(m->hidx);
    for (int i = 0; i < m->nlists; i++) {
        mt_list *l = &m->lists[i];
        for (uint32_t j = 0; j < l->npend; j++) value_release(m, l->pend[j]);
        free(l->pend);
        if (!l->head) continue;
        for (mt_node *n = l->head->next[0]; n; n = n->next[0]) value_release(m, n);
        free(l->head);
    }
    while (m->chunks) {
        mt_chunk *c = m->chunks;
        m->chunks = c->next;
        free(c);
    }
    pthread_mutex_destroy(&m->link_mu);
    free(m);
}

static int random_level(memtable *m) {
    int lvl = 1;
    for (;;) {
        m->rnd ^= m->rnd << 13;
        m->rnd ^= m->rnd >> 17;
        m->rnd ^= m->rnd << 5;
        if ((m->rnd & 3) != 0 || lvl >= MT_MAXLEVEL) break;
        lvl++;
    }
    return lvl;
}

/* n's value becomes v (or a tombstone). The old value's arena bytes stay
 * where they are (see memtable.h); a malloc'd one is freed. */
static int set_value(memtable *m, mt_node *n, const void *v, size_t vlen, int tomb) {
    uint8_t *nv = NULL, heap = 0;
    if (!tomb) {
        nv = value_alloc(m, vlen, &heap);
        if (!nv) return -1;
        if (vlen) memcpy(nv, v, vlen);
    }
    value_release(m, n);
    n->val = nv;
    n->vheap = heap;
    n->vlen = tomb ? 0 : (uint32_t)vlen;
    return 0;
}

int mt_put(memtable *m, int list, const void *k, size_t klen, const void *v, size_t vlen,
           int tomb) {
    mt_list *l = &m->lists[list];
    uint64_t h = hkey(list, k, klen);
    mt_node *hit = find_h(m, list, k, klen, h);
    if (hit) return set_value(m, hit, v, vlen, tomb);
    if (l->npend == l->pendcap) {
        uint32_t nc = l->pendcap ? l->pendcap * 2 : 64;
        mt_node **np = realloc(l->pend, (size_t)nc * sizeof *np);
        if (!np) return -1;
        m->bytes += (size_t)(nc - l->pendcap) * sizeof *np;
        l->pend = np;
        l->pendcap = nc;
    }
    if ((m->hcount + 1) * 2 > m->hcap && hidx_grow(m) != 0) return -1;
    int lvl = random_level(m);
    mt_node *n = node_new(m, lvl, k, klen);
    if (!n || set_value(m, n, v, vlen, tomb) != 0) return -1;
    hidx_insert(m, list, n, h); /* cannot fail: grown above */
    l->pend[l->npend] = n;
    /* Only the event loop writes a memtable and it is the active one, which
     * no other thread reads; the release pairs with mt_link's acquire for
     * the reader that checks a frozen list without the lock. */
    __atomic_store_n(&l->npend, l->npend + 1, __ATOMIC_RELEASE);
    l->count++;
    m->entries++;
    return 0;
}

static int cmp_nodes(const void *a, const void *b) {
    const mt_node *x = *(mt_node *const *)a, *y = *(mt_node *const *)b;
    return mt_cmp(mt_key(x), x->klen, mt_key(y), y->klen);
}

static inline int before(const mt_node *x, const mt_node *n) {
    return mt_cmp(mt_key(x), x->klen, mt_key(n), n->klen) < 0;
}

/* Link sorted pending nodes in one ascending pass. update[i] is the last
 * level-i node at or before the previous insertion; a new key only moves
 * the levels whose successor of update[i] is still below it (those levels
 * form a prefix 0..h-1, since a higher level's successor is never nearer),
 * so an insertion costs O(log distance from the previous one) instead of
 * a search from the head. */
static void link_sorted(mt_list *l, mt_node **v, uint32_t n) {
    mt_node *update[MT_MAXLEVEL];
    for (int i = 0; i < MT_MAXLEVEL; i++) update[i] = l->head;
    for (uint32_t j = 0; j < n; j++) {
        mt_node *nd = v[j];
        if (nd->level > l->top) l->top = nd->level;
        int h = 0;
        while (h < l->top && update[h]->next[h] && before(update[h]->next[h], nd)) h++;
        mt_node *x = NULL;
        for (int i = h - 1; i >= 0; i--) {
            if (!x) x = update[i];
            while (x->next[i] && before(x->next[i], nd)) x = x->next[i];
            update[i] = x;
        }
        for (int i = 0; i < nd->level; i++) {
            nd->next[i] = update[i]->next[i];
            update[i]->next[i] = nd;
            update[i] = nd;
        }
    }
}

static void link_list(mt_list *l) {
    uint32_t n = l->npend;
    if (!n) return;
    if (n > 1) qsort(l->pend, n, sizeof *l->pend, cmp_nodes);
    link_sorted(l, l->pend, n);
    __atomic_store_n(&l->npend, 0, __ATOMIC_RELEASE);
}

static inline void link_if_pending(memtable *m, int list) {
    mt_list *l = &m->lists[list];
    if (__atomic_load_n(&l->npend, __ATOMIC_ACQUIRE) == 0) return;
    pthread_mutex_lock(&m->link_mu);
    link_list(l);
    pthread_mutex_unlock(&m->link_mu);
}

void mt_link(memtable *m, int list) {
    if (list >= 0) {
        link_if_pending(m, list);
        return;
    }
    for (int i = 0; i < m->nlists; i++) link_if_pending(m, i);
}

mt_node *mt_next(memtable *m, int list, const mt_node *n) {
    link_if_pending(m, list);
    return n->next[0];
}

/* n's key sorts before the search key: < k, or <= k with incl. */
static inline int below(const mt_node *n, const void *k, size_t klen, int incl) {
    int c = mt_cmp(mt_key(n), n->klen, k, klen);
    return incl ? c <= 0 : c < 0;
}

/* The last node below k (the head if none). With a usable finger the search
 * starts at its lowest level whose node is still below k, climbs while that
 * level's successor is below k too (those levels need walking; the ones
 * above are already right, a higher level's successor being never nearer),
 * and walks down from there; otherwise it starts at the head. Either way
 * every start is below k, so the result is exact; f gets this search. */
static mt_node *last_below(memtable *m, int list, const void *k, size_t klen, int incl,
                           mt_finger *f) {
    mt_list *l = &m->lists[list];
    mt_node *x = l->head;
    int lvl = l->top - 1;
    if (f && f->m == m && f->list == list && f->entries == m->entries) {
        int j = 0;
        while (j < l->top && f->node[j] != l->head && !below(f->node[j], k, klen, incl)) j++;
        if (j < l->top) {
            int h = j;
            while (h < l->top && f->node[h]->next[h] && below(f->node[h]->next[h], k, klen, incl))
                h++;
            x = f->node[h > j ? h - 1 : j];
            lvl = h > j ? h - 1 : j - 1;
        }
    } else if (f) {
        f->m = m;
        f->list = list;
        f->entries = m->entries;
        for (int i = lvl + 1; i < MT_MAXLEVEL; i++) f->node[i] = l->head;
    }
    for (int i = lvl; i >= 0; i--) {
        while (x->next[i] && below(x->next[i], k, klen, incl)) x = x->next[i];
        if (f) f->node[i] = x;
    }
    return x;
}

mt_node *mt_seek_ge(memtable *m, int list, const void *k, size_t klen) {
    link_if_pending(m, list);
    if (!k) return m->lists[list].head->next[0];
    return last_below(m, list, k, klen, 0, NULL)->next[0];
}

mt_node *mt_seek_ge_f(memtable *m, int list, const void *k, size_t klen, mt_finger *f) {
    link_if_pending(m, list);
    return last_below(m, list, k, klen, 0, f)->next[0];
}

mt_node *mt_seek_lt_f(memtable *m, int list, const void *k, size_t klen, int strict,
                      mt_finger *f) {
    link_if_pending(m, list);
    mt_node *x = last_below(m, list, k, klen, !strict, f);
    return x == m->lists[list].head ? NULL : x;
}

mt_node *mt_seek_lt(memtable *m, int list, const void *k, size_t klen, int strict) {
    link_if_pending(m, list);
    mt_node *head = m->lists[list].head;
    if (k) {
        mt_node *x = last_below(m, list, k, klen, !strict, NULL);
        return x == head ? NULL : x;
    }
    mt_node *x = head;
    for (int i = m->lists[list].top - 1; i >= 0; i--)
        while (x->next[i]) x = x->next[i];
    return x == head ? NULL : x;
}
