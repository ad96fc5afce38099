/* store_int.h — the store's private state, shared by the files of storage/
 * that implement it (store.c, cursor.c). Never included from server/. */
#ifndef LODIS_STORE_INT_H
#define LODIS_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>

#include "storage/memtable.h"
#include "storage/store.h"
#include "storage/wal.h"

#define ST_MAPFULL (-100) /* internal: checkpoint needs a bigger map */
/* The clean cache holds point lookups of keys (meta records, inline
 * strings) and sub (members); expires and info are read by range or
 * rarely, and trash is changed behind the write path by reclamation. */
#define ST_CACHED_DBIS ((1u << ST_DBI_KEYS) | (1u << ST_DBI_SUB))
#define ST_CACHE_DEFAULT (64u << 20) /* until store_cache_set_max */

struct store {
    char *dir;
    int readonly;      /* a store_open_snapshot() view: no writes, no threads */
    int lockfd;
    MDB_env *env;
    MDB_dbi dbi[ST_NDBI];
    MDB_txn *rtxn;     /* the event loop's read snapshot */
    int rtxn_state;    /* 0 none, 1 live, 2 reset (renewable) */
    uint64_t mapsize;

    memtable *active;  /* writes of the current generations */
    memtable *frozen;  /* being (or waiting to be) checkpointed */
    struct objcache *cache; /* clean values read from LMDB (NULL: none) */
    int cache_nofill;       /* store_cache_fill(s, 0): reads do not fill it */

    wal w;
    uint8_t *batch;    /* this tick's WAL payload */
    size_t batch_len, batch_cap;
    int fsync_mode;
    size_t budget;
    size_t max_entries; /* 0: no bound; see store_set_dirty_budget */
    int checkpoint_ms;
    uint64_t space_ms;  /* the shorter of the last two checkpoints (store_cron) */
    int64_t last_freeze_ms;
    int64_t retry_after_ms;
    uint64_t wal_dirty;  /* bytes written since the last fsync */
    int nospace;

    /* checkpoint thread */
    pthread_t ckpt_thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;      /* job posted / stop */
    pthread_cond_t done_cond; /* job finished */
    int stop;
    memtable *job;            /* frozen memtable handed to the thread */
    memtable *garbage;        /* checkpointed memtable the thread frees */
    uint64_t job_gen;
    int job_done;             /* result waiting for store_poll */
    int job_rc;
    uint64_t job_ms;

    /* fsync thread (appendfsync everysec) */
    pthread_t sync_thread;
    pthread_cond_t sync_cond;
    int sync_fd;              /* dup of the WAL fd to fdatasync, -1 idle */

    void (*notify)(void *);
    void *notify_ud;
    void (*log)(void *, int, const char *);
    void *log_ud;

    store_stats st;
    int fault_n, fault_rc;

    /* Background reclamation, run by the checkpoint thread inside its own
     * write transactions (see ks_reclaim_txn in keyspace.c): returns the
     * entries deleted and sets *more when work remains. */
    long (*reclaim)(MDB_txn *txn, const MDB_dbi *dbi, long budget, int *more);
    int reclaim_more;
    uint64_t reclaimed; /* total entries deleted by reclamation */

    struct snapshot *snap; /* SAVE/BGSAVE copies (snapshot.c), NULL until one */
    /* LMDB's used pages, measured once per committed transaction (see
     * store_mem.c): the key is the checkpoint and reclamation counts. */
    unsigned psize; /* LMDB page size */
    void *map_addr; /* LMDB's map of data.mdb, found at map_at_size */
    size_t map_len;
    uint64_t map_at_size;
    uint64_t used_pages, used_at_ckpt, used_at_reclaimed;
    int used_valid;

    /* Cold-read threads (prefetch.c), NULL until started. map_rw is held
     * for reading around each of their transactions and for writing by
     * grow_map: LMDB resizes only while no transaction is live. */
    struct prefetcher *pf;
    pthread_rwlock_t map_rw;
    uint64_t map_gen; /* bumped by each resize, under map_rw (readers renew) */
    /* Given a keys-DBI value a cold read found, the `sub` prefix of what
     * the key holds (its members), or 0 (keyspace.c; any thread). */
    size_t (*pf_expand)(const uint8_t *v, size_t vlen, uint8_t out[8]);
    /* The last checkpoint waited for the disk (its own faults or its warm
     * runs'): warm the next one (checkpoint thread only). */
    int warm_next;
};

extern const char *const store_dbi_names[ST_NDBI];
/* LMDB return code to ST_* code. */
int store_mdb_rc(int rc);
/* Replay callback: apply one WAL operation to s->active. */
int store_replay_apply(void *ud, int op, int dbi, const uint8_t *k, size_t klen,
                       const uint8_t *v, size_t vlen);
/* store_close() of a read-only snapshot (store_ro.c). */
void store_close_readonly(store *s);
/* snapshot.c: is a copy running (the map must not be resized meanwhile)?
 * snapshot_close waits for it and frees its state (store_close). */
int snapshot_running(store *s);
void snapshot_close(store *s);

/* Register the reclamation callback (keyspace.c does at ks_open). */
void store_set_reclaim(store *s, long (*fn)(MDB_txn *, const MDB_dbi *, long, int *));

void store_logf(store *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Make sure the read snapshot is live; returns it or NULL. */
MDB_txn *store_rtxn(store *s);
/* Drop the read snapshot entirely. */
void store_rtxn_drop(store *s);
/* Hand the active memtable to the checkpoint thread if none is in flight
 * and the tick's batch is empty; ST_OK when there was nothing to do. */
int store_freeze(store *s);
/* The newest memtable node of (dbi, k) (a tombstone too), or NULL: the
 * active memtable, then the frozen one. */
static inline mt_node *store_mem_find(store *s, int dbi, const void *k, size_t klen) {
    mt_node *n = mt_find(s->active, dbi, k, klen);
    return n || !s->frozen ? n : mt_find(s->frozen, dbi, k, klen);
}
/* Register pf_expand (keyspace.c does at ks_open). */
void store_set_prefetch_expand(store *s, size_t (*fn)(const uint8_t *, size_t, uint8_t *));
/* Read the leaves a checkpoint of m will write, on the cold-read threads
 * (if running), and wait for them (the checkpoint thread, m linked).
 * Returns how many runs of keys made a thread wait for the disk. */
int store_prefetch_warm(store *s, memtable *m);
/* Stop the cold-read threads and free them (store_close). */
void store_prefetch_close(store *s);

#endif
