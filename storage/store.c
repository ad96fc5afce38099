/* store.c — environment, write-ahead log, memtables and checkpoints.
 *
 * Invariants:
 * - LMDB is written only by the checkpoint thread, in synced transactions
 *   (default LMDB flags: no NOSYNC, no WRITEMAP), each of which also records
 *   in info/"wal_gen" the WAL generation it covers. A crash at any point
 *   leaves LMDB at its last committed checkpoint.
 * - Every write since that checkpoint is in WAL segments with gen greater
 *   than info/"wal_gen", and in the active or frozen memtable.
 * - The frozen memtable is immutable from the moment it is handed to the
 *   thread until store_poll() frees it, after resetting the read snapshot so
 *   that LMDB then shows what the memtable held.
 * - A WAL segment is fdatasync'ed before the next one is started (unless
 *   appendfsync no), so a torn record can only be at the end of the newest. */
#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "storage/endian.h"
#include "storage/objcache.h"
#include "storage/store_int.h"

#define FORMAT_VERSION ST_FORMAT
#define INITIAL_MAP (1ull << 30)
/* Entries reclamation deletes per transaction: bounds the transaction, and
 * so the pages a long reclamation pins at a time. */
#define RECLAIM_BUDGET 200000

const char *const store_dbi_names[ST_NDBI] = {"keys", "sub", "expires", "trash", "info"};

static int64_t now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void store_logf(store *s, int level, const char *fmt, ...) {
    if (!s->log) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->log(s->log_ud, level, msg);
}

const char *store_strerror(int rc) {
    switch (rc) {
    case ST_OK: return "ok";
    case ST_NOTFOUND: return "not found";
    case ST_WRONGTYPE: return "wrong type";
    case ST_NOSPACE: return "no space left on device";
    case ST_CORRUPT: return "data is damaged or of an incompatible format";
    case ST_NOMEM: return "out of memory";
    case ST_IO: return "I/O error";
    case ST_BUSY: return "data directory is in use by another process";
    case ST_TOOBIG: return "value too big";
    case ST_INVALID: return "invalid argument";
    case ST_MAPFULL: return "memory map full";
    default: return "unknown error";
    }
}

int store_mdb_rc(int rc) {
    switch (rc) {
    case 0: return ST_OK;
    case MDB_NOTFOUND: return ST_NOTFOUND;
    case MDB_MAP_FULL: return ST_MAPFULL;
    case ENOSPC: return ST_NOSPACE;
    case ENOMEM: return ST_NOMEM;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return ST_CORRUPT;
    default: return ST_IO;
    }
}

void store_opts_default(store_opts *o) {
    memset(o, 0, sizeof *o);
    o->dir = "./data";
    o->fsync = ST_FSYNC_EVERYSEC;
    o->memtable_budget = 64u << 20;
    o->checkpoint_ms = 1000;
    o->wal_segment_size = 64u << 20;
}

MDB_txn *store_rtxn(store *s) {
    if (s->rtxn_state == 1) return s->rtxn;
    if (s->rtxn_state == 2) {
        if (mdb_txn_renew(s->rtxn) == 0) {
            s->rtxn_state = 1;
            return s->rtxn;
        }
        mdb_txn_abort(s->rtxn);
        s->rtxn = NULL;
        s->rtxn_state = 0;
    }
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn) != 0) {
        s->rtxn = NULL;
        return NULL;
    }
    s->rtxn_state = 1;
    return s->rtxn;
}

void store_end_tick(store *s) {
    /* A read-only snapshot keeps its one transaction: it is the snapshot. */
    if (s->rtxn_state == 1 && !s->readonly) {
        mdb_txn_reset(s->rtxn);
        s->rtxn_state = 2;
    }
    if (s->cache) oc_release(s->cache); /* no value from this tick is held now */
}

/* Drop the read snapshot entirely (before resizing the map). */
void store_rtxn_drop(store *s) {
    if (s->rtxn) mdb_txn_abort(s->rtxn);
    s->rtxn = NULL;
    s->rtxn_state = 0;
}

/* ------------------------------------------------------------------ */
/* checkpoint thread                                                   */

/* Apply a frozen memtable in one write transaction. The memtable is sorted,
 * so puts go through one cursor per DBI: LMDB's cursor keeps its leaf page
 * and skips the root-to-leaf descent while keys stay within it. */
static int apply_memtable(store *s, memtable *m, uint64_t gen) {
    mt_link(m, -1); /* the new keys of the last generation, sorted here */
    /* Warming costs the readers a lookup per key: only worth it while the
     * leaves are on disk (in RAM the write transaction finds them anyway). */
    struct rusage ru;
    long f0 = getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_majflt : 0;
    int warm_faults = s->warm_next ? store_prefetch_warm(s, m) : 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) return store_mdb_rc(rc);
    for (int d = 0; d < m->nlists && rc == 0; d++) {
        MDB_cursor *cur;
        rc = mdb_cursor_open(txn, s->dbi[d], &cur);
        if (rc) break;
        for (mt_node *n = m->lists[d].head->next[0]; n; n = n->next[0]) {
            MDB_val k = {n->klen, (void *)mt_key(n)};
            if (s->fault_n > 0) {
                s->fault_n--;
                rc = s->fault_rc == ST_NOSPACE ? ENOSPC : MDB_MAP_FULL;
                break;
            }
            if (n->val) {
                MDB_val v = {n->vlen, n->val};
                rc = mdb_cursor_put(cur, &k, &v, 0);
            } else {
                MDB_val v;
                rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
                if (rc == 0) rc = mdb_cursor_del(cur, 0);
                else if (rc == MDB_NOTFOUND) rc = 0;
            }
            if (rc) break;
        }
        mdb_cursor_close(cur);
    }
    if (rc == 0) {
        uint8_t g[8];
        be64_put(g, gen);
        MDB_val k = {7, "wal_gen"}, v = {8, g};
        rc = mdb_put(txn, s->dbi[ST_DBI_INFO], &k, &v, 0);
    }
    long reclaimed = 0;
    int more = 0;
    if (rc == 0 && s->reclaim) {
        /* In a nested transaction: a reclamation error must not cost the
         * checkpoint, only postpone the reclamation. */
        MDB_txn *child;
        if (mdb_txn_begin(s->env, txn, 0, &child) == 0) {
            reclaimed = s->reclaim(child, s->dbi, RECLAIM_BUDGET, &more);
            if (reclaimed < 0 || mdb_txn_commit(child) != 0) {
                if (reclaimed < 0) mdb_txn_abort(child);
                reclaimed = 0;
                more = 0;
            }
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
        return store_mdb_rc(rc);
    }
    long faults = getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_majflt - f0 : 0;
    s->warm_next = faults + warm_faults >= 16;
    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        pthread_mutex_lock(&s->mu);
        s->reclaimed += (uint64_t)reclaimed;
        s->reclaim_more = more;
        pthread_mutex_unlock(&s->mu);
    }
    return store_mdb_rc(rc);
}

/* A transaction that only reclaims (no memtable): the checkpoint thread
 * runs these while the trash has work and no checkpoint is waiting. */
static int reclaim_only(store *s) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) return store_mdb_rc(rc);
    int more = 0;
    long n = s->reclaim(txn, s->dbi, RECLAIM_BUDGET, &more);
    if (n < 0) {
        mdb_txn_abort(txn);
        return store_mdb_rc((int)-n);
    }
    if (n == 0) {
        mdb_txn_abort(txn);
        pthread_mutex_lock(&s->mu);
        s->reclaim_more = 0;
        pthread_mutex_unlock(&s->mu);
        return ST_OK;
    }
    rc = mdb_txn_commit(txn);
    pthread_mutex_lock(&s->mu);
    if (rc == 0) s->reclaimed += (uint64_t)n;
    s->reclaim_more = rc == 0 && more;
    pthread_mutex_unlock(&s->mu);
    return store_mdb_rc(rc);
}

void store_set_reclaim(store *s, long (*fn)(MDB_txn *, const MDB_dbi *, long, int *)) {
    s->reclaim = fn;
    pthread_mutex_lock(&s->mu);
    s->reclaim_more = 1; /* look once at open: a crash may have left work */
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void *ckpt_main(void *arg) {
    store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && !s->job && !s->garbage && !(s->reclaim_more && s->reclaim))
            pthread_cond_wait(&s->cond, &s->mu);
        if (s->garbage) {
            /* Freeing a memtable is a free() per node and value: hundreds
             * of thousands of them, which the event loop must not pay. */
            memtable *g = s->garbage;
            s->garbage = NULL;
            pthread_mutex_unlock(&s->mu);
            mt_free(g);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (!s->job && s->stop) break;
        if (!s->job) {
            /* Reclamation between checkpoints, off the event loop. */
            pthread_mutex_unlock(&s->mu);
            int rc = reclaim_only(s);
            if (rc != ST_OK) {
                store_logf(s, 3, "background reclamation paused: %s", store_strerror(rc));
                pthread_mutex_lock(&s->mu);
                s->reclaim_more = 0; /* retried after the next checkpoint */
                continue;
            }
            /* Leave the disk to others between batches. */
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        memtable *m = s->job;
        uint64_t gen = s->job_gen;
        pthread_mutex_unlock(&s->mu);
        int64_t t0 = now_ms();
        int rc = apply_memtable(s, m, gen);
        int64_t t1 = now_ms();
        pthread_mutex_lock(&s->mu);
        s->job = NULL;
        s->job_done = 1;
        s->job_rc = rc;
        s->job_ms = (uint64_t)(t1 - t0);
        pthread_cond_broadcast(&s->done_cond);
        if (s->notify) s->notify(s->notify_ud);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *sync_main(void *arg) {
    store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->sync_fd < 0) pthread_cond_wait(&s->sync_cond, &s->mu);
        if (s->sync_fd < 0) break;
        int fd = s->sync_fd;
        pthread_mutex_unlock(&s->mu);
        fdatasync(fd);
        close(fd);
        pthread_mutex_lock(&s->mu);
        s->sync_fd = -1;
        s->st.fsyncs++;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Hand the active memtable to the checkpoint thread. Only between ticks'
 * batches (batch empty) and only when no checkpoint is in flight. */
int store_freeze(store *s) {
    /* Not in the middle of a tick: its batch must land in this generation. */
    if (s->frozen || s->active->entries == 0 || s->batch_len) return ST_OK;
    if (s->fsync_mode != ST_FSYNC_NO) fdatasync(s->w.fd);
    uint64_t gen = s->w.gen;
    int rc = wal_start_segment(&s->w, gen + 1);
    if (rc != ST_OK) {
        s->nospace = rc == ST_NOSPACE;
        store_logf(s, 3, "cannot start WAL segment %llu: %s", (unsigned long long)gen + 1,
                   store_strerror(rc));
        return rc;
    }
    memtable *fresh = mt_new(ST_NDBI);
    if (!fresh) return ST_NOMEM;
    s->frozen = s->active;
    s->frozen->gen = gen;
    s->active = fresh;
    s->last_freeze_ms = now_ms();
    pthread_mutex_lock(&s->mu);
    s->job = s->frozen;
    s->job_gen = gen;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return ST_OK;
}

static int grow_map(store *s) {
    /* A BGSAVE copy holds a read transaction: resizing now is forbidden.
     * The checkpoint is retried later (like a full disk) instead. */
    if (snapshot_running(s)) return ST_BUSY;
    store_rtxn_drop(s);
    uint64_t n = s->mapsize * 2;
    pthread_rwlock_wrlock(&s->map_rw); /* no cold-read transaction live */
    int rc = mdb_env_set_mapsize(s->env, n);
    s->map_gen++;
    pthread_rwlock_unlock(&s->map_rw);
    if (rc) {
        store_logf(s, 3, "cannot grow the LMDB map to %llu bytes: %s", (unsigned long long)n,
                   mdb_strerror(rc));
        return store_mdb_rc(rc);
    }
    s->mapsize = n;
    store_logf(s, 1, "LMDB map grown to %llu MiB", (unsigned long long)(n >> 20));
    return ST_OK;
}

void store_poll(store *s) {
    pthread_mutex_lock(&s->mu);
    if (!s->job_done) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->job_done = 0;
    int rc = s->job_rc;
    uint64_t ms = s->job_ms;
    pthread_mutex_unlock(&s->mu);
    s->space_ms = ms < s->st.checkpoint_last_ms ? ms : s->st.checkpoint_last_ms;
    s->st.checkpoint_last_ms = ms;
    if (rc == ST_OK) {
        /* LMDB now holds the frozen memtable: take a fresh snapshot first,
         * then forget the memtable. */
        store_rtxn_drop(s);
        uint64_t gen = s->frozen->gen;
        store_logf(s, 1, "checkpoint of %llu entries (%llu KiB) took %llu ms",
                   (unsigned long long)s->frozen->entries,
                   (unsigned long long)(s->frozen->bytes >> 10), (unsigned long long)ms);
        pthread_mutex_lock(&s->mu);
        memtable *g = s->garbage ? s->frozen : NULL;
        if (!g) {
            s->garbage = s->frozen;
            pthread_cond_signal(&s->cond);
        }
        pthread_mutex_unlock(&s->mu);
        mt_free(g); /* only if the thread has not freed the last one yet */
        s->frozen = NULL;
        wal_trim(&s->w, gen);
        s->st.checkpoints++;
        s->st.checkpoint_last_ok = 1;
        s->st.checkpoint_last_time = now_ms();
        if (s->nospace) {
            s->nospace = 0;
            store_logf(s, 2, "checkpoint succeeded again: writes accepted");
        }
        return;
    }
    s->st.checkpoint_last_ok = 0;
    if (rc == ST_MAPFULL && grow_map(s) == ST_OK) {
        pthread_mutex_lock(&s->mu);
        s->job = s->frozen;
        s->job_gen = s->frozen->gen;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    /* Disk full or I/O error: keep the frozen memtable (its WAL is intact),
     * refuse writes until a retry succeeds. */
    s->nospace = 1;
    s->retry_after_ms = now_ms() + 1000;
    store_logf(s, 3, "checkpoint failed: %s; writes refused until it succeeds",
               store_strerror(rc));
}

/* Has the active memtable passed `mult` times its budget, in bytes or in
 * entries (each entry may dirty an LMDB page in the checkpoint, and LMDB
 * keeps the largest transaction's dirty pages malloc'd for reuse)? */
static int over_budget(store *s, size_t mult) {
    return s->active->bytes >= mult * s->budget ||
           (s->max_entries && s->active->entries >= mult * s->max_entries);
}

static void resubmit_if_due(store *s, int64_t now) {
    if (!s->frozen || s->retry_after_ms == 0 || now < s->retry_after_ms) return;
    pthread_mutex_lock(&s->mu);
    int busy = s->job != NULL || s->job_done;
    if (!busy) {
        s->job = s->frozen;
        s->job_gen = s->frozen->gen;
        s->retry_after_ms = 0;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Block until the in-flight checkpoint finishes, then finish it. */
static void wait_checkpoint(store *s) {
    pthread_mutex_lock(&s->mu);
    while (s->job) pthread_cond_wait(&s->done_cond, &s->mu);
    pthread_mutex_unlock(&s->mu);
    store_poll(s);
}

void store_cron(store *s, int64_t now) {
    if (s->readonly) return;
    store_poll(s);
    resubmit_if_due(s, now);
    /* A checkpoint rewrites every LMDB page it touches, so under heavy
     * random writes small frequent checkpoints rewrite the same pages again
     * and again. Space them at least four times their own duration apart:
     * at low write rates that is the configured interval, at high rates the
     * memtable budget decides and each page is rewritten once per many
     * updates. The duration is the shorter of the last two: a checkpoint
     * that one stall stretched (the disk, the VM, a SIGSTOP of the process)
     * must not hold the next ones off for four times the stall, while
     * everything deleted since piles up as tombstones that range reads
     * step over. */
    int64_t interval = s->checkpoint_ms;
    if ((int64_t)s->space_ms * 4 > interval) interval = (int64_t)s->space_ms * 4;
    if (!s->frozen && s->active->entries &&
        (now - s->last_freeze_ms >= interval || over_budget(s, 1)))
        store_freeze(s);
    if (s->fsync_mode == ST_FSYNC_EVERYSEC && s->wal_dirty) {
        pthread_mutex_lock(&s->mu);
        if (s->sync_fd < 0 && s->w.fd >= 0) {
            s->sync_fd = dup(s->w.fd);
            s->wal_dirty = 0;
            pthread_cond_signal(&s->sync_cond);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

int store_checkpoint_sync(store *s) {
    if (s->readonly) return ST_OK;
    int rc = store_commit(s);
    if (rc != ST_OK) return rc;
    for (int round = 0; round < 16; round++) {
        if (s->frozen) {
            if (s->retry_after_ms) {
                /* An earlier attempt failed: try again now. */
                s->retry_after_ms = 1;
                resubmit_if_due(s, INT64_MAX);
            }
            wait_checkpoint(s);
            if (s->frozen && s->retry_after_ms) return s->nospace ? ST_NOSPACE : ST_IO;
            continue; /* done, or resubmitted after growing the map */
        }
        if (s->active->entries == 0) return ST_OK;
        rc = store_freeze(s);
        if (rc != ST_OK) return rc;
    }
    return s->frozen ? ST_IO : ST_OK;
}

/* ------------------------------------------------------------------ */
/* point operations                                                    */

int store_get(store *s, int dbi, const void *k, size_t klen, const uint8_t **v, size_t *vlen) {
    mt_node *n = store_mem_find(s, dbi, k, klen);
    if (n) {
        s->st.memtable_hits++;
        if (!n->val) return ST_NOTFOUND;
        *v = n->val;
        *vlen = n->vlen;
        return ST_OK;
    }
    /* No memtable holds the key, so LMDB's value is the latest: the clean
     * cache may answer, and learns what LMDB says (objcache.h). */
    if (s->cache && oc_get(s->cache, dbi, k, klen, v, vlen)) return ST_OK;
    s->st.lmdb_reads++;
    MDB_txn *t = store_rtxn(s);
    if (!t) return ST_IO;
    MDB_val mk = {klen, (void *)k}, mv;
    int rc = mdb_get(t, s->dbi[dbi], &mk, &mv);
    if (rc) return store_mdb_rc(rc);
    if (s->cache && !s->cache_nofill) oc_fill(s->cache, dbi, k, klen, mv.mv_data, mv.mv_size);
    *v = mv.mv_data;
    *vlen = mv.mv_size;
    return ST_OK;
}

static int batch_op(store *s, int op, int dbi, const void *k, size_t klen, const void *v,
                    size_t vlen) {
    size_t need = 10 + klen + vlen;
    if (s->batch_len + need > s->batch_cap) {
        size_t nc = s->batch_cap ? s->batch_cap : 65536;
        while (nc < s->batch_len + need) nc *= 2;
        uint8_t *nb = realloc(s->batch, nc);
        if (!nb) return ST_NOMEM;
        s->batch = nb;
        s->batch_cap = nc;
    }
    s->batch_len += wal_encode_op(s->batch + s->batch_len, op, dbi, k, klen, v, vlen);
    return ST_OK;
}

int store_put(store *s, int dbi, const void *k, size_t klen, const void *v, size_t vlen) {
    if (s->readonly) return ST_INVALID;
    if (klen == 0 || klen > 511) return ST_INVALID;
    if (vlen > UINT32_MAX - 64) return ST_TOOBIG;
    int rc = batch_op(s, WAL_OP_PUT, dbi, k, klen, v, vlen);
    if (rc) return rc;
    if (mt_put(s->active, dbi, k, klen, v, vlen, 0) != 0) return ST_NOMEM;
    if (s->cache) oc_drop(s->cache, dbi, k, klen);
    return ST_OK;
}

int store_del(store *s, int dbi, const void *k, size_t klen) {
    if (s->readonly) return ST_INVALID;
    if (klen == 0 || klen > 511) return ST_INVALID;
    int rc = batch_op(s, WAL_OP_DEL, dbi, k, klen, NULL, 0);
    if (rc) return rc;
    if (mt_put(s->active, dbi, k, klen, NULL, 0, 1) != 0) return ST_NOMEM;
    if (s->cache) oc_drop(s->cache, dbi, k, klen);
    return ST_OK;
}

int store_reserve(store *s, size_t bytes) {
    if (s->nospace) {
        /* Retry the allocation: space may have been freed. */
        if (wal_reserve(&s->w, s->batch_len + bytes + 4096) != ST_OK || s->frozen)
            return ST_NOSPACE;
        s->nospace = 0;
    }
    int rc = wal_reserve(&s->w, s->batch_len + bytes + WAL_HDR + 1024);
    if (rc == ST_NOSPACE) s->nospace = 1;
    return rc;
}

int store_commit(store *s) {
    if (s->batch_len == 0) return ST_OK;
    int rc = wal_append(&s->w, s->batch, s->batch_len);
    s->batch_len = 0;
    if (s->batch_cap > (4u << 20)) {
        free(s->batch);
        s->batch = NULL;
        s->batch_cap = 0;
    }
    if (rc != ST_OK) {
        /* The memtable already holds the changes; they are not durable.
         * Refuse further writes until the disk has room again. */
        s->nospace = 1;
        store_logf(s, 3, "WAL append failed: %s", store_strerror(rc));
        return rc;
    }
    if (s->fsync_mode == ST_FSYNC_ALWAYS) {
        if (fdatasync(s->w.fd) != 0) {
            store_logf(s, 3, "WAL fdatasync failed: %s", strerror(errno));
            return ST_IO;
        }
        s->st.fsyncs++;
    } else {
        s->wal_dirty = 1;
    }
    /* Backpressure: the active memtable outgrew its budget while the last
     * checkpoint is still running; wait for it rather than grow. */
    if (over_budget(s, 1)) {
        if (s->frozen && over_budget(s, 2) && s->retry_after_ms == 0) wait_checkpoint(s);
        if (!s->frozen) store_freeze(s);
    }
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* open / close                                                        */

int store_replay_apply(void *ud, int op, int dbi, const uint8_t *k, size_t klen,
                       const uint8_t *v, size_t vlen) {
    store *s = ud;
    if (klen == 0 || klen > 511) return ST_CORRUPT;
    if (mt_put(s->active, dbi, k, klen, v, vlen, op == WAL_OP_DEL) != 0) return ST_NOMEM;
    return ST_OK;
}

static int mkdir_p(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int init_info(store *s, char *err, size_t errlen) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        snprintf(err, errlen, "cannot begin LMDB transaction: %s", mdb_strerror(rc));
        return store_mdb_rc(rc);
    }
    for (int i = 0; i < ST_NDBI; i++) {
        rc = mdb_dbi_open(txn, store_dbi_names[i], MDB_CREATE, &s->dbi[i]);
        if (rc) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "cannot open LMDB database '%s': %s", store_dbi_names[i],
                     mdb_strerror(rc));
            return store_mdb_rc(rc);
        }
    }
    MDB_val k = {6, "format"}, v;
    rc = mdb_get(txn, s->dbi[ST_DBI_INFO], &k, &v);
    if (rc == MDB_NOTFOUND) {
        /* A new store, unless the keys database already has data. */
        MDB_stat st;
        mdb_stat(txn, s->dbi[ST_DBI_KEYS], &st);
        if (st.ms_entries) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "data directory %s has keys but no format record: not a lodis "
                                  "store or damaged; move it away or restore a backup", s->dir);
            return ST_CORRUPT;
        }
        v.mv_size = strlen(FORMAT_VERSION);
        v.mv_data = FORMAT_VERSION;
        rc = mdb_put(txn, s->dbi[ST_DBI_INFO], &k, &v, 0);
        uint8_t secret[16];
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd < 0 || read(fd, secret, sizeof secret) != (ssize_t)sizeof secret) {
            for (size_t i = 0; i < sizeof secret; i++) secret[i] = (uint8_t)(rand() ^ (int)i);
        }
        if (fd >= 0) close(fd);
        MDB_val sk = {6, "secret"}, sv = {16, secret};
        if (!rc) rc = mdb_put(txn, s->dbi[ST_DBI_INFO], &sk, &sv, 0);
    } else if (rc == 0) {
        if (v.mv_size != strlen(FORMAT_VERSION) || memcmp(v.mv_data, FORMAT_VERSION, v.mv_size)) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "data directory %s has format '%.*s', this lodis reads '%s': "
                                  "use a matching lodis-server or migrate with lodis-migrate",
                     s->dir, (int)(v.mv_size > 32 ? 32 : v.mv_size), (char *)v.mv_data,
                     FORMAT_VERSION);
            return ST_CORRUPT;
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "cannot initialise store: %s", mdb_strerror(rc));
        return store_mdb_rc(rc);
    }
    rc = mdb_txn_commit(txn);
    if (rc) {
        snprintf(err, errlen, "cannot commit store header: %s", mdb_strerror(rc));
        return store_mdb_rc(rc);
    }
    return ST_OK;
}

static uint64_t read_wal_gen(store *s) {
    const uint8_t *v;
    size_t vl;
    MDB_txn *t = store_rtxn(s);
    uint64_t g = 0;
    MDB_val k = {7, "wal_gen"}, mv;
    if (t && mdb_get(t, s->dbi[ST_DBI_INFO], &k, &mv) == 0 && mv.mv_size == 8) {
        v = mv.mv_data;
        vl = mv.mv_size;
        (void)vl;
        g = be64_get(v);
    }
    store_rtxn_drop(s);
    return g;
}

store *store_open(const store_opts *o, int *rcp, char *err, size_t errlen) {
    store *s = calloc(1, sizeof *s);
    int rc = ST_NOMEM;
    if (!s) goto fail;
    s->dir = strdup(o->dir);
    s->lockfd = -1;
    s->sync_fd = -1;
    s->fsync_mode = o->fsync;
    s->budget = o->memtable_budget ? o->memtable_budget : (64u << 20);
    s->checkpoint_ms = o->checkpoint_ms > 0 ? o->checkpoint_ms : 1000;
    s->notify = o->notify;
    s->notify_ud = o->notify_ud;
    s->log = o->log;
    s->log_ud = o->log_ud;
    s->w.fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->done_cond, NULL);
    pthread_cond_init(&s->sync_cond, NULL);
    pthread_rwlockattr_t rwa;
    pthread_rwlockattr_init(&rwa);
    pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->map_rw, &rwa);
    pthread_rwlockattr_destroy(&rwa);
    if (mkdir_p(s->dir) != 0) {
        snprintf(err, errlen, "cannot create data directory %s: %s", s->dir, strerror(errno));
        rc = ST_IO;
        goto fail;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", s->dir);
    s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "data directory %s is in use by another lodis process (%s); stop "
                              "it or choose another 'dir'", s->dir, strerror(errno));
        rc = ST_BUSY;
        goto fail;
    }
    rc = mdb_env_create(&s->env);
    if (rc) {
        snprintf(err, errlen, "mdb_env_create: %s", mdb_strerror(rc));
        rc = ST_NOMEM;
        goto fail;
    }
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    struct stat stt;
    uint64_t fsize = stat(path, &stt) == 0 ? (uint64_t)stt.st_size : 0;
    s->mapsize = INITIAL_MAP;
    while (s->mapsize < fsize * 2) s->mapsize *= 2;
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_mapsize(s->env, s->mapsize);
    mdb_env_set_maxreaders(s->env, 126);
    rc = mdb_env_open(s->env, s->dir, MDB_NOTLS | MDB_NORDAHEAD, 0644);
    if (rc) {
        snprintf(err, errlen, "cannot open LMDB environment in %s: %s", s->dir, mdb_strerror(rc));
        rc = store_mdb_rc(rc);
        if (rc == ST_IO && (fsize > 0)) rc = ST_CORRUPT;
        goto fail;
    }
    rc = init_info(s, err, errlen);
    if (rc) goto fail;
    MDB_stat est;
    s->psize = mdb_env_stat(s->env, &est) == 0 ? est.ms_psize : 4096;
    rc = ST_NOMEM;
    s->active = mt_new(ST_NDBI);
    if (!s->active) goto fail;
    s->cache = oc_new(ST_CACHED_DBIS, ST_CACHE_DEFAULT);
    if (!s->cache) goto fail;
    rc = wal_init(&s->w, s->dir, o->wal_segment_size ? o->wal_segment_size : (64u << 20));
    if (rc) {
        snprintf(err, errlen, "cannot create WAL directory in %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    uint64_t ckgen = read_wal_gen(s), maxgen = 0, records = 0;
    rc = wal_replay(&s->w, ckgen, store_replay_apply, s, &maxgen, &records, err, errlen);
    if (rc) goto fail;
    s->st.replayed_records = records;
    rc = wal_start_segment(&s->w, maxgen + 1);
    if (rc) {
        snprintf(err, errlen, "cannot start WAL segment in %s/wal: %s", s->dir,
                 store_strerror(rc));
        goto fail;
    }
    s->last_freeze_ms = now_ms();
    if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) != 0 ||
        pthread_create(&s->sync_thread, NULL, sync_main, s) != 0) {
        snprintf(err, errlen, "cannot start storage threads");
        rc = ST_NOMEM;
        goto fail_nothreads;
    }
    if (records) store_logf(s, 2, "replayed %llu WAL records", (unsigned long long)records);
    *rcp = ST_OK;
    return s;
fail_nothreads:
fail:
    if (s) {
        if (s->active) mt_free(s->active);
        oc_free(s->cache);
        wal_close(&s->w);
        if (s->env) mdb_env_close(s->env);
        if (s->lockfd >= 0) close(s->lockfd);
        free(s->dir);
        free(s);
    }
    *rcp = rc;
    return NULL;
}

void store_close(store *s) {
    if (!s) return;
    if (s->readonly) {
        store_close_readonly(s);
        return;
    }
    snapshot_close(s);
    int rc = store_checkpoint_sync(s);
    if (rc != ST_OK)
        store_logf(s, 3, "final checkpoint failed (%s): the WAL keeps the data",
                   store_strerror(rc));
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_cond_broadcast(&s->sync_cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->ckpt_thread, NULL);
    pthread_join(s->sync_thread, NULL);
    store_prefetch_close(s); /* after the checkpoint thread: it may use them */
    if (s->w.fd >= 0 && s->fsync_mode != ST_FSYNC_NO) fdatasync(s->w.fd);
    store_rtxn_drop(s);
    if (s->frozen) mt_free(s->frozen);
    mt_free(s->garbage);
    mt_free(s->active);
    oc_free(s->cache);
    wal_close(&s->w);
    mdb_env_close(s->env);
    close(s->lockfd);
    free(s->batch);
    free(s->dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->done_cond);
    pthread_cond_destroy(&s->sync_cond);
    pthread_rwlock_destroy(&s->map_rw);
    free(s);
}

/* ------------------------------------------------------------------ */
/* misc                                                                */

void store_set_fsync(store *s, int mode) {
    s->fsync_mode = mode;
}

void store_set_checkpoint_interval(store *s, int ms) {
    if (ms > 0) s->checkpoint_ms = ms;
}

void store_set_wal_segment_size(store *s, uint64_t bytes) {
    if (bytes >= (1u << 20)) s->w.segsize = bytes;
}

void store_set_memtable_budget(store *s, size_t bytes) {
    s->budget = bytes ? bytes : (64u << 20);
}

void store_set_dirty_budget(store *s, size_t bytes) {
    s->max_entries = bytes ? bytes / (s->psize ? s->psize : 4096) : 0;
    if (bytes && s->max_entries < 256) s->max_entries = 256;
}

size_t store_memtable_budget(store *s) {
    return s->budget;
}

void store_get_stats(store *s, store_stats *out) {
    *out = s->st;
    out->memtable_bytes = s->active->bytes + (s->frozen ? s->frozen->bytes : 0);
    out->memtable_entries = s->active->entries + (s->frozen ? s->frozen->entries : 0);
    out->wal_gen = s->w.gen;
    out->wal_bytes = wal_bytes(&s->w);
    out->checkpoint_in_progress = s->frozen != NULL;
    out->map_size = s->mapsize;
    out->nospace = s->nospace;
    pthread_mutex_lock(&s->mu);
    out->reclaimed = s->reclaimed;
    out->reclaim_pending = s->reclaim_more;
    pthread_mutex_unlock(&s->mu);
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    out->disk_bytes = stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

uint64_t store_reclaimed(store *s, int *pending) {
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->reclaimed;
    *pending = s->reclaim_more;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const char *store_dir(store *s) {
    return s->dir;
}

void store_inject_fault(store *s, int n, int rc) {
    s->fault_n = n;
    s->fault_rc = rc;
}
