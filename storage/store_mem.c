/* store_mem.c — what the store holds in RAM and on disk, and how to give
 * RAM back: the maxmemory and maxdisk side of the store (see store.h).
 *
 * LMDB's map is opened read-only (no MDB_WRITEMAP), so every resident page
 * of it is a clean page of the file: madvise(MADV_DONTNEED) drops it from
 * this process without losing anything, and the next read faults it back
 * from the page cache (or the disk). The checkpoint thread writes with
 * pwrite, never through the map, so dropping pages races with nothing.
 *
 * Used pages are counted from mdb_stat() of each database in the event
 * loop's read snapshot, and cached until the checkpoint thread commits
 * again (a checkpoint or a reclamation transaction). */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "storage/objcache.h"
#include "storage/store.h"
#include "storage/store_int.h"

#define FREE_DBI 0 /* LMDB's own: the free-page list */
#define MAIN_DBI 1 /* LMDB's own: the named databases' records */

static uint64_t pages_of(MDB_txn *t, MDB_dbi d) {
    MDB_stat st;
    if (mdb_stat(t, d, &st) != 0) return 0;
    return (uint64_t)st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

uint64_t store_lmdb_used(store *s) {
    pthread_mutex_lock(&s->mu);
    uint64_t reclaimed = s->reclaimed;
    pthread_mutex_unlock(&s->mu);
    if (s->used_valid && s->used_at_ckpt == s->st.checkpoints &&
        s->used_at_reclaimed == reclaimed)
        return s->used_pages * (uint64_t)s->psize;
    /* A reclamation commit does not reset the snapshot: take a fresh one
     * so the count is the committed state. */
    if (s->used_at_reclaimed != reclaimed) store_rtxn_drop(s);
    MDB_txn *t = store_rtxn(s);
    if (!t) return s->used_pages * (uint64_t)s->psize;
    uint64_t n = pages_of(t, FREE_DBI) + pages_of(t, MAIN_DBI);
    for (int i = 0; i < ST_NDBI; i++) n += pages_of(t, s->dbi[i]);
    s->used_pages = n + 2; /* the two meta pages */
    s->used_at_ckpt = s->st.checkpoints;
    s->used_at_reclaimed = reclaimed;
    s->used_valid = 1;
    return s->used_pages * (uint64_t)s->psize;
}

int store_request_checkpoint(store *s) {
    if (s->frozen || s->active->entries == 0) return ST_OK;
    return store_freeze(s);
}

/* Where LMDB mapped data.mdb: LMDB does not say (MDB_envinfo's me_mapaddr
 * is only the MDB_FIXEDMAP address), so read /proc/self/maps. The map moves
 * when it grows; look again when the map size changed. */
static int find_map(store *s, void **addr, size_t *len) {
    char want[4200], line[4400];
    snprintf(want, sizeof want, "%s/data.mdb", s->dir);
    char *real = realpath(want, NULL);
    FILE *f = fopen("/proc/self/maps", "re");
    int rc = ST_NOTFOUND;
    if (!f) {
        free(real);
        return ST_IO;
    }
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int off = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off) continue;
        char *path = line + off;
        path[strcspn(path, "\n")] = '\0';
        if (strcmp(path, real ? real : want) != 0) continue;
        *addr = (void *)lo;
        *len = (size_t)(hi - lo);
        rc = ST_OK;
        break;
    }
    fclose(f);
    free(real);
    return rc;
}

int store_release_map(store *s) {
    if (!s->map_addr || s->map_at_size != s->mapsize) {
        if (find_map(s, &s->map_addr, &s->map_len) != ST_OK) return ST_IO;
        s->map_at_size = s->mapsize;
    }
    /* Only the part of the map the file covers can be resident. */
    MDB_envinfo ei;
    size_t len = s->map_len;
    if (mdb_env_info(s->env, &ei) == 0) {
        size_t used = ((size_t)ei.me_last_pgno + 1) * (size_t)s->psize;
        if (used < len) len = (used + 4095) & ~(size_t)4095;
    }
    return madvise(s->map_addr, len, MADV_DONTNEED) == 0 ? ST_OK : ST_IO;
}

uint64_t store_memtable_bytes(store *s) {
    return s->active->bytes + (s->frozen ? s->frozen->bytes : 0);
}

uint64_t store_unordered(store *s, int dbi, uint64_t *gen) {
    *gen = s->w.gen;
    uint64_t n = __atomic_load_n(&s->active->lists[dbi].npend, __ATOMIC_ACQUIRE);
    if (s->frozen) n += __atomic_load_n(&s->frozen->lists[dbi].npend, __ATOMIC_ACQUIRE);
    return n;
}

uint64_t store_checkpoint_count(store *s, int *in_flight) {
    *in_flight = s->frozen != NULL;
    return s->st.checkpoints;
}

int store_base_seek(store *s, int dbi, const void *k, size_t klen, int rev, const uint8_t **ok,
                    size_t *oklen) {
    MDB_txn *t = store_rtxn(s);
    if (!t) return ST_IO;
    MDB_cursor *c;
    if (mdb_cursor_open(t, s->dbi[dbi], &c) != 0) return ST_IO;
    MDB_val mk = {klen, (void *)k}, mv;
    int rc;
    if (!k) {
        rc = mdb_cursor_get(c, &mk, &mv, rev ? MDB_LAST : MDB_FIRST);
    } else {
        rc = mdb_cursor_get(c, &mk, &mv, MDB_SET_RANGE);
        if (rev) {
            if (rc == MDB_NOTFOUND) {
                rc = mdb_cursor_get(c, &mk, &mv, MDB_LAST);
            } else if (rc == 0) {
                size_t n = mk.mv_size < klen ? mk.mv_size : klen;
                int cmp = memcmp(mk.mv_data, k, n);
                if (cmp > 0 || (cmp == 0 && mk.mv_size > klen))
                    rc = mdb_cursor_get(c, &mk, &mv, MDB_PREV);
            }
        }
    }
    mdb_cursor_close(c);
    if (rc) return rc == MDB_NOTFOUND ? ST_NOTFOUND : ST_IO;
    *ok = mk.mv_data;
    *oklen = mk.mv_size;
    return ST_OK;
}

int store_memtable_seek(store *s, int dbi, const void *k, size_t klen, const uint8_t **ok,
                        size_t *oklen) {
    mt_node *n = mt_seek_ge(s->active, dbi, k, klen);
    for (int i = 0; n && i < 64; i++, n = mt_next(s->active, dbi, n)) {
        if (!n->val) continue;
        *ok = mt_key(n);
        *oklen = n->klen;
        return ST_OK;
    }
    return ST_NOTFOUND;
}

void store_cache_set_max(store *s, size_t bytes) {
    if (!s->cache) return;
    oc_set_max(s->cache, bytes);
    oc_release(s->cache); /* between commands: give the memory back now */
}

void store_cache_fill(store *s, int on) {
    s->cache_nofill = !on;
}

void store_cache_set_lfu(store *s, int lfu) {
    if (s->cache) oc_set_lfu(s->cache, lfu);
}

void store_cache_clear(store *s) {
    if (s->cache) oc_clear(s->cache);
}

void store_cache_get_stats(store *s, store_cache_stats *out) {
    memset(out, 0, sizeof *out);
    if (!s->cache) return;
    oc_stats st;
    oc_get_stats(s->cache, &st);
    out->entries = st.entries;
    out->bytes = st.bytes + st.grave_bytes;
    out->max_bytes = st.max_bytes;
    out->hits = st.hits;
    out->misses = st.misses;
    out->fills = st.fills;
    out->evictions = st.evictions;
}
