/* memtable.c — skiplists for the memtable; see memtable.h.
 *
 * A skiplist rather than a tree: ordered iteration in both directions (prev is
 * a fresh O(log n) search), lock-free reads are never needed because only the
 * event loop reads the active memtable, and the frozen one is immutable while
 * the checkpoint thread reads it. */
#include "storage/memtable.h"

#include <stdlib.h>
#include <string.h>

#define NODE_OVERHEAD 48

static mt_node *node_new(int level, const void *k, size_t klen) {
    mt_node *n = malloc(sizeof(mt_node) + (size_t)level * sizeof(mt_node *) + klen);
    if (!n) return NULL;
    n->val = NULL;
    n->vlen = 0;
    n->klen = (uint32_t)klen;
    n->level = (uint8_t)level;
    for (int i = 0; i < level; i++) n->next[i] = NULL;
    if (klen) memcpy((uint8_t *)&n->next[level], k, klen);
    return n;
}

/* A fast non-cryptographic hash for the index (keys are not attacker
 * chosen in a way that matters: a skewed table only slows lookups). */
static uint64_t hkey(int list, const void *k, size_t n) {
    const uint8_t *p = k;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)list << 56) ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

static int hidx_insert(memtable *m, int list, mt_node *node);

static int hidx_grow(memtable *m) {
    size_t ncap = m->hcap ? m->hcap * 2 : 4096;
    mt_node **old = m->hidx;
    uint8_t *oldl = m->hlist;
    size_t ocap = m->hcap;
    m->hidx = calloc(ncap, sizeof *m->hidx);
    m->hlist = malloc(ncap);
    if (!m->hidx || !m->hlist) {
        free(m->hidx);
        free(m->hlist);
        m->hidx = old;
        m->hlist = oldl;
        return -1;
    }
    m->hcap = ncap;
    m->hcount = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i]) hidx_insert(m, oldl[i], old[i]);
    free(old);
    free(oldl);
    return 0;
}

static int hidx_insert(memtable *m, int list, mt_node *node) {
    if ((m->hcount + 1) * 2 > m->hcap && hidx_grow(m) != 0) return -1;
    size_t mask = m->hcap - 1;
    size_t i = hkey(list, mt_key(node), node->klen) & mask;
    while (m->hidx[i]) i = (i + 1) & mask;
    m->hidx[i] = node;
    m->hlist[i] = (uint8_t)list;
    m->hcount++;
    return 0;
}

mt_node *mt_find(const memtable *m, int list, const void *k, size_t klen) {
    if (!m->hcap) return NULL;
    size_t mask = m->hcap - 1;
    for (size_t i = hkey(list, k, klen) & mask; m->hidx[i]; i = (i + 1) & mask) {
        mt_node *n = m->hidx[i];
        if (m->hlist[i] == list && n->klen == klen && memcmp(mt_key(n), k, klen) == 0) return n;
    }
    return NULL;
}

memtable *mt_new(int nlists) {
    memtable *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->nlists = nlists;
    m->rnd = 0x9e3779b9u;
    for (int i = 0; i < nlists; i++) {
        m->lists[i].head = node_new(MT_MAXLEVEL, NULL, 0);
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
    free(m->hlist);
    for (int i = 0; i < m->nlists; i++) {
        mt_node *n = m->lists[i].head;
        while (n) {
            mt_node *nx = n->next[0];
            free(n->val);
            free(n);
            n = nx;
        }
    }
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

static void set_value(memtable *m, mt_node *n, uint8_t *nv, size_t vlen, int tomb) {
    m->bytes -= n->vlen;
    free(n->val);
    n->val = nv;
    n->vlen = tomb ? 0 : (uint32_t)vlen;
    m->bytes += n->vlen;
}

int mt_put(memtable *m, int list, const void *k, size_t klen, const void *v, size_t vlen,
           int tomb) {
    mt_list *l = &m->lists[list];
    mt_node *hit = mt_find(m, list, k, klen);
    if (hit) {
        uint8_t *hv = NULL;
        if (!tomb) {
            hv = malloc(vlen ? vlen : 1);
            if (!hv) return -1;
            if (vlen) memcpy(hv, v, vlen);
        }
        set_value(m, hit, hv, vlen, tomb);
        return 0;
    }
    mt_node *update[MT_MAXLEVEL];
    mt_node *x = l->head;
    for (int i = MT_MAXLEVEL - 1; i >= 0; i--) {
        while (x->next[i] && mt_cmp(mt_key(x->next[i]), x->next[i]->klen, k, klen) < 0)
            x = x->next[i];
        update[i] = x;
    }
    mt_node *n = x->next[0];
    uint8_t *nv = NULL;
    if (!tomb) {
        nv = malloc(vlen ? vlen : 1);
        if (!nv) return -1;
        if (vlen) memcpy(nv, v, vlen);
    }
    if (n && mt_cmp(mt_key(n), n->klen, k, klen) == 0) {
        set_value(m, n, nv, vlen, tomb);
        return 0;
    }
    int lvl = random_level(m);
    n = node_new(lvl, k, klen);
    if (!n) {
        free(nv);
        return -1;
    }
    n->val = nv;
    n->vlen = tomb ? 0 : (uint32_t)vlen;
    if (hidx_insert(m, list, n) != 0) {
        free(n->val);
        free(n);
        return -1;
    }
    for (int i = 0; i < lvl; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
    }
    l->count++;
    m->entries++;
    m->bytes += NODE_OVERHEAD + 2 * sizeof(void *) + klen + n->vlen + (size_t)lvl * sizeof(void *);
    return 0;
}

mt_node *mt_seek_ge(const memtable *m, int list, const void *k, size_t klen) {
    mt_node *x = m->lists[list].head;
    if (!k) return x->next[0];
    for (int i = MT_MAXLEVEL - 1; i >= 0; i--) {
        while (x->next[i] && mt_cmp(mt_key(x->next[i]), x->next[i]->klen, k, klen) < 0)
            x = x->next[i];
    }
    return x->next[0];
}


mt_node *mt_seek_lt(const memtable *m, int list, const void *k, size_t klen, int strict) {
    mt_node *head = m->lists[list].head;
    mt_node *x = head;
    for (int i = MT_MAXLEVEL - 1; i >= 0; i--) {
        for (;;) {
            mt_node *nx = x->next[i];
            if (!nx) break;
            if (k) {
                int c = mt_cmp(mt_key(nx), nx->klen, k, klen);
                if (strict ? c >= 0 : c > 0) break;
            }
            x = nx;
        }
    }
    return x == head ? NULL : x;
}
