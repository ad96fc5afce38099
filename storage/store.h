/* store.h — lodis storage engine: the public API.
 *
 * CAVEATS FIRST
 * - Single writer thread of control: every function here except those marked
 *   "any thread" must be called from the thread that opened the store (the
 *   server's event loop). A background checkpoint thread, owned by the store,
 *   is LMDB's only writer.
 * - Borrowed memory: values returned by store_get() and store_cursor_get()
 *   point into the memtable or into LMDB's map. They stay valid until the
 *   next store_put()/store_del() on the same key, store_end_tick() or
 *   store_poll(), whichever comes first. Copy what must live longer.
 * - Writes are durable only after store_commit() returned ST_OK (with
 *   appendfsync always; once a second with everysec). Callers reply to
 *   clients after store_commit().
 *
 * MODEL (see docs/storage.md and ../shared/DESIGN.md)
 * Five logical databases (ST_DBI_*) of sorted byte keys. A write goes to the
 * write-ahead log batch of the current tick and to the active memtable, an
 * ordered in-RAM map. Reads see active memtable over frozen memtable over
 * LMDB, through point lookups and merged cursors. store_cron() freezes the
 * active memtable every checkpoint interval (or when it exceeds its budget)
 * and hands it to the checkpoint thread, which applies it to LMDB in one
 * synced transaction together with the WAL generation it covers; then the
 * frozen memtable and the older WAL segments are dropped. LMDB is never
 * written unsynced. Recovery = open LMDB, replay WAL generations after the
 * recorded one.
 *
 * Return codes: ST_OK (0) or a negative ST_* code; store_strerror() names it.
 */
#ifndef LODIS_STORE_H
#define LODIS_STORE_H

#include <stddef.h>
#include <stdint.h>

/* The on-disk format this build reads and writes (info/format). */
#define ST_FORMAT "lodis-1"

/* Return codes. Never renumber: tests print them. */
#define ST_OK         0
#define ST_NOTFOUND   (-1)
#define ST_WRONGTYPE  (-2)
#define ST_NOSPACE    (-3) /* disk full: writes refused, reads keep working */
#define ST_CORRUPT    (-4) /* damaged or incompatible data directory */
#define ST_NOMEM      (-5)
#define ST_IO         (-6) /* other I/O error; errno-style detail in the log */
#define ST_BUSY       (-7) /* data directory locked by another process */
#define ST_TOOBIG     (-8)
#define ST_INVALID    (-9)

/* Named databases (DBIs). Never renumber: the WAL records these numbers. */
enum store_dbi {
    ST_DBI_KEYS = 0,    /* pdb(1)·ukey -> meta record */
    ST_DBI_SUB = 1,     /* id(8 BE)·subkey -> per-type payload */
    ST_DBI_EXPIRES = 2, /* when_ms(8 BE)·keys-key -> "" */
    ST_DBI_TRASH = 3,   /* id(8 BE) -> type(1) */
    ST_DBI_INFO = 4,    /* name -> value */
    ST_NDBI = 5
};

/* appendfsync */
enum store_fsync { ST_FSYNC_NO = 0, ST_FSYNC_EVERYSEC = 1, ST_FSYNC_ALWAYS = 2 };

typedef struct store store;
typedef struct store_cursor store_cursor;

typedef struct store_opts {
    const char *dir;            /* data directory; created if missing */
    int fsync;                  /* enum store_fsync */
    size_t memtable_budget;     /* bytes; freeze + checkpoint when exceeded */
    int checkpoint_ms;          /* checkpoint interval */
    uint64_t wal_segment_size;  /* bytes preallocated per WAL segment */
    /* Called from the checkpoint thread ("any thread") when store_poll()
     * has work: the server turns it into an ev_async_send. */
    void (*notify)(void *ud);
    void *notify_ud;
    /* Log sink: level 0 debug, 1 verbose, 2 notice, 3 warning. */
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;
} store_opts;

/* Default options: fsync everysec, 64 MiB memtable, 1 s checkpoints. */
void store_opts_default(store_opts *o);

/* Open (creating if needed) the store in o->dir and replay its WAL.
 * On failure returns NULL code in *rc and a message for the user in err. */
store *store_open(const store_opts *o, int *rc, char *err, size_t errlen);

/* Open dir read-only at one consistent point in time ("any process": a
 * running lodis-server may hold the directory): LMDB at its last checkpoint
 * (one read transaction, held until store_close) plus the WAL after that
 * checkpoint up to its last whole record, replayed into a private memtable.
 * Nothing in dir is written. Reads (store_get, cursors) work as usual;
 * store_put/store_del return ST_INVALID; store_end_tick keeps the snapshot.
 * The held transaction pins the pages it sees: while it lives, the server's
 * data.mdb grows by the pages its checkpoints rewrite. Errors: ST_NOTFOUND
 * (no data.mdb), ST_CORRUPT (not a lodis-1 directory), ST_BUSY (the server
 * checkpointed during every attempt), ST_IO, ST_NOMEM; err says which and
 * what to do. See docs/storage.md, "Read-only snapshots". */
store *store_open_snapshot(const char *dir, int *rc, char *err, size_t errlen);

/* Checkpoint everything, stop the threads, close. Safe with NULL. */
void store_close(store *s);

const char *store_strerror(int rc);

/* --- point operations on the merged view ------------------------------- */
int store_get(store *s, int dbi, const void *k, size_t klen, const uint8_t **v, size_t *vlen);
int store_put(store *s, int dbi, const void *k, size_t klen, const void *v, size_t vlen);
int store_del(store *s, int dbi, const void *k, size_t klen);

/* --- cursors over the merged view --------------------------------------
 * A cursor sees the merged view as it is at each step: entries written
 * during iteration may or may not be seen, deleted ones are skipped. */
int store_cursor_open(store *s, int dbi, store_cursor **out);
/* Position at the first key >= k (k NULL: the first key). */
int store_cursor_seek(store_cursor *c, const void *k, size_t klen);
/* Position at the last key <= k (k NULL: the last key). */
int store_cursor_seek_rev(store_cursor *c, const void *k, size_t klen);
int store_cursor_next(store_cursor *c);
int store_cursor_prev(store_cursor *c);
/* Current entry, or ST_NOTFOUND when the cursor is past either end. */
int store_cursor_get(store_cursor *c, const uint8_t **k, size_t *klen, const uint8_t **v,
                     size_t *vlen);
void store_cursor_close(store_cursor *c);
/* How many keys k with lo <= k < hi the merged view holds (what a cursor
 * would visit), counted stepping up from lo (from_hi 0) or down from hi
 * (from_hi 1): O(answer) steps, so callers pick the nearer end. Counting
 * stops past max: *n is then max + 1. *far (if not NULL) tells whether the
 * bound the walk ends at is itself a key of the view (hi stepping up, lo
 * stepping down), which the walk sees anyway; meaningful when *n <= max,
 * and 0 for an empty range (lo >= hi: *n = 0). When neither
 * memtable holds a key or tombstone in [lo, hi], LMDB is read alone and
 * its keys are compared in place (no merge, no copies). ST_OK or an
 * error. */
int store_count_range(store *s, int dbi, const void *lo, size_t lolen, const void *hi,
                      size_t hilen, int from_hi, uint64_t max, uint64_t *n, int *far);

/* The first key >= k (rev: the last key <= k) of LMDB alone, below the
 * memtables (k NULL: the first or last key): for sampling, where walking
 * the merged view would step over every tombstone of recent deletions. The
 * entry may be deleted or changed in a memtable: check it with store_get.
 * Borrowed memory, as store_get's. */
int store_base_seek(store *s, int dbi, const void *k, size_t klen, int rev, const uint8_t **ok,
                    size_t *oklen);
/* The first live (not deleted) key >= k of the active memtable alone,
 * stepping over at most 64 tombstones: the memtable's side of sampling. */
int store_memtable_seek(store *s, int dbi, const void *k, size_t klen, const uint8_t **ok,
                        size_t *oklen);

/* --- ticks and durability ----------------------------------------------- */
/* Make sure `bytes` more bytes of writes in this tick fit in the WAL's
 * preallocated space; ST_NOSPACE if the disk is full (the caller refuses the
 * write before doing it, so nothing is half-applied). */
int store_reserve(store *s, size_t bytes);
/* Append this tick's writes to the WAL as one checksummed record and, with
 * appendfsync always, fdatasync it. Call before replies leave. */
int store_commit(store *s);
/* End of tick: release the read snapshot (LMDB read transaction). */
void store_end_tick(store *s);
/* Finish work reported by the checkpoint thread (drop the frozen memtable,
 * trim the WAL). Call when notify fired; cheap otherwise. */
void store_poll(store *s);
/* Periodic duty (call every ~100 ms): start checkpoints, everysec fsync. */
void store_cron(store *s, int64_t now_ms);
/* Force a checkpoint and wait for it (SAVE, SHUTDOWN). */
int store_checkpoint_sync(store *s);
/* SAVE / BGSAVE (snapshot.c): after a checkpoint, copy the LMDB
 * environment compacted into the directory `path` (a complete data
 * directory; replaced atomically, never left half-written), so the copy
 * holds every write acknowledged so far. store_snapshot copies now and
 * returns when done; store_snapshot_start copies on a thread of its own
 * (ST_BUSY if one is running). store_snapshot_state: 1 while a copy runs,
 * else 0 with *last_rc the last copy's result and *last_ms its duration
 * (-1 when none finished). */
int store_snapshot(store *s, const char *path);
int store_snapshot_start(store *s, const char *path);
int store_snapshot_state(store *s, int *last_rc, int64_t *last_ms);
/* Change the checkpoint interval (ms) and the WAL's preallocation unit at
 * runtime (CONFIG SET checkpoint-interval / wal-segment-size). */
void store_set_checkpoint_interval(store *s, int ms);
void store_set_wal_segment_size(store *s, uint64_t bytes);
/* Change appendfsync at runtime. */
void store_set_fsync(store *s, int mode);
void store_set_memtable_budget(store *s, size_t bytes);
size_t store_memtable_budget(store *s);
/* Bound the LMDB pages one checkpoint may dirty (0: no bound), by
 * checkpointing the memtable once it holds bytes/page-size entries. LMDB
 * keeps the dirty pages of its largest write transaction malloc'd for
 * reuse (its me_dpages list) until the environment closes, so under
 * maxmemory this bounds that cache too. */
void store_set_dirty_budget(store *s, size_t bytes);

/* --- statistics ----------------------------------------------------------- */
typedef struct store_stats {
    uint64_t memtable_bytes;     /* active + frozen */
    uint64_t memtable_entries;
    uint64_t wal_bytes;          /* bytes in live WAL segments */
    uint64_t wal_gen;
    uint64_t checkpoints;
    uint64_t checkpoint_last_ms; /* duration of the last checkpoint */
    int64_t checkpoint_last_time; /* unix ms of last successful checkpoint */
    int checkpoint_in_progress;
    int checkpoint_last_ok;
    uint64_t disk_bytes;         /* size of data.mdb */
    uint64_t map_size;
    uint64_t replayed_records;   /* at open */
    uint64_t fsyncs;
    int nospace;
    uint64_t reclaimed;          /* entries deleted by background reclamation */
    int reclaim_pending;
    uint64_t memtable_hits;      /* point reads answered by a memtable */
    uint64_t lmdb_reads;         /* point reads that went to LMDB's map */
} store_stats;
void store_get_stats(store *s, store_stats *out);
/* Entries deleted so far by background reclamation; *pending if it has
 * work left (cheap: no I/O, unlike store_get_stats). */
uint64_t store_reclaimed(store *s, int *pending);
const char *store_dir(store *s);

/* --- memory and disk bounds (store_mem.c) ---------------------------------
 * What the store holds in RAM is its memtables (malloc'd, counted in
 * store_stats.memtable_bytes) and LMDB's map: file-backed pages the kernel
 * may drop at any time, resident only as far as reads touched them. */

/* Bytes of data LMDB's file really holds: its used pages (branch, leaf and
 * overflow pages of every database, plus the free-list's own pages) times
 * the page size. The file itself never shrinks (freed pages are reused), so
 * its size says nothing about the dataset; this does. Measured again only
 * after a transaction committed, so it is cheap to call per command. */
uint64_t store_lmdb_used(store *s);
/* Start a checkpoint now, if none is in flight and the memtable holds
 * anything (maxmemory pressure). Does not wait. */
int store_request_checkpoint(store *s);
/* Bytes in the memtables (active + frozen), without store_get_stats' I/O. */
uint64_t store_memtable_bytes(store *s);
/* Entries of dbi that the memtables hold but have not yet put in key
 * order (memtable.h orders new keys lazily): the work that the next step
 * of a merged cursor over dbi does first, on this thread. *gen: the WAL
 * generation of the active memtable, which changes at every checkpoint's
 * freeze. Cheap (no I/O, no lock). For work that may wait for a cheaper
 * moment (t_zset_rank.c defers block splits). */
uint64_t store_unordered(store *s, int dbi, uint64_t *gen);
/* Checkpoints completed so far; *in_flight when one is running. */
uint64_t store_checkpoint_count(store *s, int *in_flight);
/* Unmap every resident page of LMDB's map from this process
 * (madvise(MADV_DONTNEED)): RSS falls, nothing is lost, pages come back from
 * the page cache or the disk on the next read. ST_OK or ST_IO. */
int store_release_map(store *s);

/* The clean cache (objcache.h): values of the keys and sub databases read
 * from LMDB, consulted after the memtables and before LMDB, dropped by
 * every store_put/store_del of their key. It is malloc'd and so counts in
 * the allocator's figures; 64 MiB until set. store_cache_set_max lowers or
 * raises its bound; a lower one evicts and frees at once, so call it
 * between commands, never while a value from store_get is in use (0 caches
 * nothing). */
void store_cache_set_max(store *s, size_t bytes);
/* Whether LMDB reads fill the cache (on by default). A write command reads
 * the old value of what it is about to overwrite; caching that copy would
 * only be dropped again by its own store_put, a malloc and a hash insert
 * per write for nothing (SET -P 16 paid ~20% CPU), so the server turns
 * filling off while write commands run. */
void store_cache_fill(store *s, int on);
/* Evict by the LFU family (1) or the LRU family (0) of maxmemory-policy. */
void store_cache_set_lfu(store *s, int lfu);
/* Forget every cached value. Whoever changes LMDB without store_put or
 * store_del (reclaiming a flushed database whose slot is then reused,
 * restoring a snapshot under a live store) must call it first. */
void store_cache_clear(store *s);
typedef struct store_cache_stats {
    uint64_t entries, bytes, max_bytes;
    uint64_t hits, misses, fills, evictions;
} store_cache_stats;
void store_cache_get_stats(store *s, store_cache_stats *out);

/* Cold reads (prefetch.c). Under maxmemory a point read that both
 * memtables and the clean cache miss may wait for the disk; the server can
 * hand such keys to reader threads, which look them up in their own read
 * transactions (faulting B-tree and value pages in) while the event loop
 * serves others, and run the command once they are done. The threads only
 * warm pages: what the command then reads is whatever is current.
 *
 * store_resident: whether a memtable or the clean cache holds (dbi, k), so
 * a read of it will not touch LMDB (counts nothing).
 * store_prefetch_start: run `threads` reader threads (0 stops them, after
 * they ran every queued job); wake(ud) is called from a reader thread each
 * time a job is done. store_prefetch_submit queues one job: keys packed as
 * (length 16-bit big-endian, bytes)... of dbi, and an opaque tag that
 * store_prefetch_done hands back (up to max tags per call) once the keys
 * have been read. */
int store_resident(store *s, int dbi, const void *k, size_t klen);
int store_prefetch_start(store *s, int threads, void (*wake)(void *), void *ud);
int store_prefetch_threads(store *s);
int store_prefetch_submit(store *s, int dbi, const uint8_t *keys, size_t len, void *tag);
size_t store_prefetch_done(store *s, void **tags, size_t max);
typedef struct store_prefetch_stats {
    uint64_t threads;
    uint64_t jobs;         /* submitted */
    uint64_t jobs_done;
    uint64_t jobs_faulted; /* done jobs whose thread waited for the disk */
    uint64_t warm_runs;    /* runs of checkpointed keys looked up ahead */
} store_prefetch_stats;
void store_prefetch_get_stats(store *s, store_prefetch_stats *out);

/* Test-only fault injection: the next `n` LMDB puts in checkpoints fail with
 * `rc` (ST_NOSPACE for a full disk). */
void store_inject_fault(store *s, int n, int rc);

#endif
