/* evict.c — maxdisk eviction; see evict.h.
 *
 * The pool holds copies of candidate keys with a score (higher = evict
 * first): idle milliseconds for LRU, 255 - counter for LFU, and a bonus that
 * puts every key unknown to the access table above every known one. A
 * candidate is checked again when it is taken (it may be gone, or have been
 * rewritten), like Redis's pool. */
#include "storage/evict.h"

#include <stdlib.h>
#include <string.h>

#define POOL          16
#define ENTRY_OVERHEAD 16 /* LMDB node header and slot, per entry */
#define META_BYTES    28
#define UNTRACKED     (UINT64_C(1) << 62)

typedef struct cand {
    uint64_t score;
    int db;
    uint8_t *key;
    size_t klen;
} cand;

struct evictor {
    ks *k;
    cand pool[POOL]; /* ascending score; pool[n-1] is the best */
    int n;
    /* Estimated bytes evicted and not yet in LMDB's measure, in two buckets
     * by the checkpoint count at which LMDB will show them. */
    uint64_t pending[2];
    uint64_t pending_ckpt[2];
    int next_db;           /* *-random: databases take turns */
};

evictor *evict_new(ks *k) {
    evictor *e = calloc(1, sizeof *e);
    if (e) e->k = k;
    return e;
}

static void pool_clear(evictor *e) {
    for (int i = 0; i < e->n; i++) free(e->pool[i].key);
    e->n = 0;
}

void evict_free(evictor *e) {
    if (!e) return;
    pool_clear(e);
    free(e);
}

int64_t evict_key_bytes(ks *k, int db, const void *key, size_t klen, long samples) {
    ks_meta m;
    if (ks_peek(k, db, key, klen, &m) != ST_OK) return -1;
    int64_t bytes = (int64_t)klen + META_BYTES + (int64_t)m.hdrlen + (int64_t)m.vlen +
                    2 * ENTRY_OVERHEAD;
    if (m.id) {
        uint8_t prefix[8];
        ks_subkey(prefix, m.id, NULL, 0);
        store_cursor *cur;
        int64_t seen = 0, sum = 0;
        if (store_cursor_open(ks_store(k), ST_DBI_SUB, &cur) == ST_OK) {
            int rc = store_cursor_seek(cur, prefix, 8);
            for (; rc == ST_OK && (samples < 0 || seen < samples); rc = store_cursor_next(cur)) {
                const uint8_t *sk, *v;
                size_t skl, vl;
                if (store_cursor_get(cur, &sk, &skl, &v, &vl) != ST_OK || skl < 8 ||
                    memcmp(sk, prefix, 8) != 0)
                    break;
                sum += (int64_t)(skl + vl) + ENTRY_OVERHEAD;
                seen++;
            }
            store_cursor_close(cur);
        }
        /* Some types keep more than one entry per member (a zset's score
         * index); the sample's average covers whatever entries there are. */
        if (seen) bytes += sum * (int64_t)(m.count ? m.count : (uint64_t)seen) / seen;
    }
    ks_meta_release(&m);
    return bytes;
}

uint64_t evict_disk_used(evictor *e) {
    store *s = ks_store(e->k);
    int in_flight = 0;
    uint64_t ckpts = store_checkpoint_count(s, &in_flight);
    uint64_t pending = 0;
    for (int i = 0; i < 2; i++) {
        if (e->pending[i] && ckpts >= e->pending_ckpt[i]) e->pending[i] = 0;
        pending += e->pending[i];
    }
    uint64_t used = store_lmdb_used(s) + store_memtable_bytes(s);
    return used > pending ? used - pending : 0;
}

/* Score of a key under the policy; 0 with *ok = 0 when it is gone or not a
 * candidate (volatile-* and no TTL). */
static uint64_t score_of(evictor *e, int policy, int db, const uint8_t *key, size_t klen,
                         int *ok) {
    int tracked, freq;
    int64_t idle, expire;
    *ok = 0;
    if (ks_key_access(e->k, db, key, klen, &tracked, &idle, &freq, &expire) != ST_OK) return 0;
    int volatile_only = policy <= EVICT_VOLATILE_TTL;
    if (volatile_only && !expire) return 0;
    *ok = 1;
    if (!tracked) return UNTRACKED;
    if (policy == EVICT_ALLKEYS_LFU || policy == EVICT_VOLATILE_LFU)
        return (uint64_t)(255 - freq);
    return (uint64_t)idle;
}

/* Insert into the ascending pool, dropping the worst when full (Redis's
 * evictionPoolPopulate). Takes ownership of key. */
static void pool_insert(evictor *e, uint64_t score, int db, uint8_t *key, size_t klen) {
    for (int i = 0; i < e->n; i++) {
        if (e->pool[i].db == db && e->pool[i].klen == klen &&
            memcmp(e->pool[i].key, key, klen) == 0) {
            free(key); /* already a candidate */
            return;
        }
    }
    int pos = 0;
    while (pos < e->n && e->pool[pos].score < score) pos++;
    if (e->n == POOL) {
        if (pos == 0) { /* worse than everything in a full pool */
            free(key);
            return;
        }
        free(e->pool[0].key);
        memmove(&e->pool[0], &e->pool[1], sizeof(cand) * (size_t)(pos - 1));
        pos--;
    } else {
        memmove(&e->pool[pos + 1], &e->pool[pos], sizeof(cand) * (size_t)(e->n - pos));
        e->n++;
    }
    e->pool[pos] = (cand){score, db, key, klen};
}

static void populate(evictor *e, int policy, int samples) {
    int ndb = ks_databases(e->k);
    for (int db = 0; db < ndb; db++) {
        if (ks_dbsize(e->k, db) == 0) continue;
        if (policy <= EVICT_VOLATILE_TTL && ks_expires_count(e->k, db) == 0) continue;
        for (int i = 0; i < samples; i++) {
            uint8_t *key;
            size_t klen;
            int rc = policy <= EVICT_VOLATILE_TTL ? ks_random_volatile(e->k, db, &key, &klen)
                                                  : ks_sample_key(e->k, db, &key, &klen);
            if (rc != ST_OK) break;
            int ok;
            uint64_t sc = score_of(e, policy, db, key, klen, &ok);
            if (ok) pool_insert(e, sc, db, key, klen);
            else free(key);
        }
    }
}

/* Pick one key to evict: *key malloc'd. 0 found, -1 none. */
static int pick(evictor *e, int policy, int samples, int *db, uint8_t **key, size_t *klen) {
    if (policy == EVICT_VOLATILE_TTL) return ks_first_volatile(e->k, db, key, klen) ? -1 : 0;
    if (policy == EVICT_ALLKEYS_RANDOM || policy == EVICT_VOLATILE_RANDOM) {
        /* Redis: the next database in turn that has candidates. */
        int ndb = ks_databases(e->k);
        for (int i = 0; i < ndb; i++) {
            int d = (e->next_db + i) % ndb;
            int rc = policy == EVICT_ALLKEYS_RANDOM ? ks_sample_key(e->k, d, key, klen)
                                                    : ks_random_volatile(e->k, d, key, klen);
            if (rc == ST_OK) {
                e->next_db = d + 1;
                *db = d;
                return 0;
            }
        }
        return -1;
    }
    for (int tries = 0; tries < 4; tries++) {
        populate(e, policy, samples);
        while (e->n > 0) {
            cand c = e->pool[--e->n];
            int ok;
            score_of(e, policy, c.db, c.key, c.klen, &ok);
            if (!ok) { /* gone, or lost its TTL */
                free(c.key);
                continue;
            }
            *db = c.db;
            *key = c.key;
            *klen = c.klen;
            return 0;
        }
    }
    return -1;
}

int evict_perform(evictor *e, uint64_t maxdisk, int policy, int samples, long max_keys,
                  long *evicted) {
    *evicted = 0;
    if (!maxdisk) return EVICT_OK;
    uint64_t used = evict_disk_used(e);
    if (used <= maxdisk) return EVICT_OK;
    if (policy == EVICT_NOEVICTION) return EVICT_FAIL;
    store *s = ks_store(e->k);
    uint64_t need = used - maxdisk, freed = 0;
    for (long tries = 0; freed < need && tries < max_keys; tries++) {
        int db;
        uint8_t *key;
        size_t klen;
        if (pick(e, policy, samples, &db, &key, &klen) != 0) break;
        int64_t bytes = evict_key_bytes(e->k, db, key, klen, 5);
        int rc = ks_evict_key(e->k, db, key, klen);
        free(key);
        if (rc < 0) break;
        if (bytes > 0) freed += (uint64_t)bytes; /* expired keys free space too */
        if (rc == 1) (*evicted)++;
    }
    if (freed) {
        /* The deletions are in the active memtable: LMDB's pages show them
         * after the checkpoint that applies it, which may be the second
         * from now if one is already running. (Forcing a checkpoint here
         * would rotate the WAL and sync LMDB once per command.) */
        int in_flight = 0;
        uint64_t target = store_checkpoint_count(s, &in_flight) + 1 + (in_flight ? 1 : 0);
        int b = e->pending[0] && e->pending_ckpt[0] != target ? 1 : 0;
        if (e->pending[b] && e->pending_ckpt[b] != target) b = 0; /* cannot happen: merge */
        e->pending[b] += freed;
        e->pending_ckpt[b] = target;
    }
    if (freed >= need) return EVICT_OK;
    return *evicted ? EVICT_RUNNING : EVICT_FAIL;
}
