/* maxmemory.c — keeping the process's RAM under maxmemory, and the dataset
 * on disk under maxdisk.
 *
 * RAM. What lodis holds is malloc'd memory (memtables, the store's clean
 * cache, client buffers, the RAM tier's access table, scripts) plus LMDB's
 * map, whose resident pages are clean pages of the data file. used_memory
 * is the allocator's figure (mallinfo2: in-use arena bytes plus mmap'd
 * chunks), which leaves the map out, as the kernel can drop those pages at
 * any time; used_memory_rss is what the process really has resident, map
 * included.
 *
 * The clean cache (values read from LMDB, storage/objcache.h) takes what
 * the rest leaves, up to tier-cache-share percent of maxmemory (all of it
 * by default): its bound is maxmemory less a sixteenth of headroom less
 * everything else malloc holds (at its recent peak, so the cache does not
 * grow into room a memtable will take again before the next checkpoint).
 * It is the first thing to shrink when the heap grows (docs/storage.md
 * says why the share is not half any more). If the heap is over
 * maxmemory all the same, the cron gives RAM back, never data: it forces a
 * checkpoint (the memtable drains into LMDB), lowers the access table's
 * bound and returns free heap to the kernel (malloc_trim). Without
 * maxmemory there is no cache (see cache_bound).
 *
 * LMDB's mapped pages may add up to MAP_SLACK to the resident set; past
 * that they are unmapped (madvise(MADV_DONTNEED)) and later reads fault
 * them back in from the page cache or the disk. Unmapping costs every later
 * read of those pages a fault, and the hot values are in the cache anyway.
 *
 * maxmemory also bounds the parts that would otherwise grow with the load:
 * the memtable budget (a sixteenth of it: active plus frozen memtables may
 * reach four budgets before backpressure), the entries per checkpoint (a
 * sixteenth of it in LMDB pages, twice that with backpressure, once the
 * dataset outgrows a quarter of maxmemory; LMDB keeps the largest
 * transaction's dirty pages malloc'd for reuse) and the access
 * table (a sixteenth).
 *
 * Disk. maxdisk bounds the dataset; storage/evict.c measures it and deletes
 * keys by maxmemory-policy. Here: call it before each command (as Redis
 * calls performEvictions) and refuse denyoom commands with Redis's OOM error
 * when the dataset stays over the bound. */
#include "server/maxmemory.h"

#include <fcntl.h>
#include <malloc.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server/cmdtable.h"
#include "server/config.h"
#include "server/hooks.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/evict.h"
#include "storage/t_zset.h"

#if defined(__SANITIZE_ADDRESS__)
/* libasan's allocator statistics (sanitizer/allocator_interface.h, which
 * not every compiler installation ships). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define TIER_ENTRY_BYTES 16
#define TIER_DEFAULT_MAX (1u << 20)
#define EVICT_MAX_KEYS   64 /* per command: bounds the latency eviction adds */
#define MAP_SLACK        (32ull << 20) /* resident map pages allowed over maxmemory */

/* The transactions family's (weak: the core does not depend on it). */
uint64_t multi_queued_flags(client *c) __attribute__((weak));

static evictor *ev;
static mem_stats stats;
static uint64_t startup_used;

#if !defined(__SANITIZE_ADDRESS__)
/* The heap parts that move fastest, which lodis counts itself. */
static uint64_t known_parts(void) {
    if (!srv.st) return 0;
    store_cache_stats cs;
    store_cache_get_stats(srv.st, &cs);
    return store_memtable_bytes(srv.st) + cs.bytes;
}
#endif

/* mallinfo2 walks every free chunk of the heap: on a heap that a cache of
 * small values and freed memtables left fragmented it took ~40 ms, and the
 * two crons calling it ten times a second took 45% of the event loop under
 * SET -P 16 (maxmemory 4gb, 200k cached values). So it runs at most once
 * per 100 times its own last duration (1% of a core; at least every 2 s),
 * and in between the answer is its last one moved by what the memtables
 * and the clean cache (the parts that move fastest, counted by lodis) have
 * gained or lost since. */
uint64_t mem_used(void) {
#if defined(__SANITIZE_ADDRESS__)
    return (uint64_t)__sanitizer_get_current_allocated_bytes();
#else
    static uint64_t last, last_known;
    static int64_t last_us, cost_us;
    int64_t now = ustime();
    int64_t every = cost_us * 100 > 2000000 ? 2000000 : cost_us * 100;
    uint64_t known = known_parts();
    if (last_us && now - last_us < every) {
        int64_t v = (int64_t)last + (int64_t)known - (int64_t)last_known;
        return v > 0 ? (uint64_t)v : 0;
    }
    struct mallinfo2 mi = mallinfo2();
    last = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
    last_known = known;
    cost_us = ustime() - now;
    last_us = now;
    return last;
#endif
}

void mem_rss(uint64_t *total, uint64_t *file, uint64_t *anon) {
    *total = *file = *anon = 0;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char b[128];
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return;
    b[n] = '\0';
    unsigned long long size = 0, resident = 0, shared = 0;
    if (sscanf(b, "%llu %llu %llu", &size, &resident, &shared) != 3) return;
    uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
    *total = resident * pg;
    *file = shared * pg; /* statm's "shared": file-backed resident pages */
    *anon = *total > *file ? *total - *file : 0;
}

uint64_t mem_overhead(void) {
    uint64_t t = startup_used;
    for (client *c = srv.clients; c; c = c->next)
        if (c->fd >= 0) t += c->query.cap + c->reply.cap + sizeof *c;
    t += ks_tier_bytes(srv.ks);
    return t;
}

uint64_t mem_startup(void) {
    return startup_used;
}

uint64_t mem_disk_used(void) {
    return ev ? evict_disk_used(ev) : 0;
}

const mem_stats *mem_get_stats(void) {
    return &stats;
}

void mem_purge(void) {
    malloc_trim(0);
    stats.trims++;
}

/* Bound the store's clean cache by what maxmemory leaves it (see the top of
 * this file), given `used` = mem_used(). `reset` forgets the recent peak
 * (maxmemory changed). Returns the bytes the cache gave back. */
static uint64_t cache_bound(int reset, uint64_t used) {
    static uint64_t other_peak;
    if (!cfg.maxmemory) {
        /* Nothing then bounds the page cache's share of RAM, and warm LMDB
         * pages answer a point read as fast as the cache (GET -P 16 over 1M
         * warm keys: 510k/s without it, 493k/s with it, the fills only
         * cost): the cache earns its copies only under a memory bound. */
        store_cache_set_max(srv.st, 0);
        return 0;
    }
    store_cache_stats cs;
    store_cache_get_stats(srv.st, &cs);
    uint64_t other = used > cs.bytes ? used - cs.bytes : 0;
    /* The peak decays by 1/64 of maxmemory per call (10 Hz: about 6 s). */
    uint64_t decay = cfg.maxmemory / 64;
    if (reset || other >= other_peak) other_peak = other;
    else other_peak = other_peak - other > decay ? other_peak - decay : other;
    uint64_t room = cfg.maxmemory - cfg.maxmemory / 16;
    uint64_t max = room > other_peak ? room - other_peak : 0;
    uint64_t share = cfg.maxmemory / 100 * (uint64_t)cfg.tier_cache_share;
    if (max > share) max = share;
    store_cache_set_max(srv.st, (size_t)max);
    store_cache_stats after;
    store_cache_get_stats(srv.st, &after);
    return cs.bytes > after.bytes ? cs.bytes - after.bytes : 0;
}

/* The checkpoint's dirty pages: LMDB copies each page a checkpoint touches
 * into malloc'd memory and keeps the largest transaction's copies for
 * reuse, so under maxmemory the entries per checkpoint are bounded (a
 * sixteenth of it in pages, each entry counted as a page of its own). But a
 * transaction cannot dirty more pages than the file holds (plus what the
 * memtable's bytes add): while the whole dataset fits in a quarter of
 * maxmemory the bound only splits checkpoints, and each split rewrites the
 * same pages again (SET -P 16 over 630k keys, maxmemory 4gb: 35 checkpoints
 * instead of 15, 1.5 µs more CPU per SET). Checked by the cron; the
 * dataset's size changes once per checkpoint. */
static void dirty_bound(void) {
    static size_t last = (size_t)-1;
    size_t b = 0;
    if (cfg.maxmemory && store_lmdb_used(srv.st) > cfg.maxmemory / 4)
        b = (size_t)(cfg.maxmemory / 16);
    if (b != last) store_set_dirty_budget(srv.st, b);
    last = b;
}

void maxmemory_apply(void) {
    if (!srv.st || !srv.ks) return;
    size_t budget = (size_t)cfg.memtable_size;
    size_t tier_max = TIER_DEFAULT_MAX;
    if (cfg.maxmemory) {
        if (budget > cfg.maxmemory / 16) budget = (size_t)(cfg.maxmemory / 16);
        if (budget < (1u << 20)) budget = 1u << 20;
        size_t t = (size_t)(cfg.maxmemory / 16 / TIER_ENTRY_BYTES);
        if (t < tier_max) tier_max = t;
    }
    /* The zset rank indexes' RAM copies: a sixteenth too (64 MiB at most). */
    tz_rankmem_set_max(cfg.maxmemory ? (size_t)(cfg.maxmemory / 16) + 1 : 0);
    store_set_memtable_budget(srv.st, budget);
    dirty_bound();
    ks_tier_set_max(srv.ks, tier_max);
    cache_bound(1, mem_used());
}

static void maxmemory_cron(void) {
    if (!cfg.maxmemory) return;
    dirty_bound();
    /* The cache gives way first (mallinfo2 walks the heap's free lists:
     * once per call is enough). */
    uint64_t used = mem_used();
    uint64_t freed = cache_bound(0, used);
    used = used > freed ? used - freed : 0;
    if (used > cfg.maxmemory) {
        /* Drain the memtable into LMDB; free heap back to the kernel. */
        store_stats st;
        store_get_stats(srv.st, &st);
        if (st.memtable_bytes && !st.checkpoint_in_progress) {
            store_request_checkpoint(srv.st);
            stats.pressure_checkpoints++;
        }
        size_t tb = ks_tier_bytes(srv.ks);
        if (tb > cfg.maxmemory / 32 && tb > 64 * 1024) {
            ks_tier_set_max(srv.ks, tb / TIER_ENTRY_BYTES / 4);
            stats.tier_shrinks++;
        }
        mem_purge();
    }
    uint64_t rss, file, anon;
    mem_rss(&rss, &file, &anon);
    /* Heap freed by checkpoints stays resident until trimmed. Only when a
     * good part of it is free: with the clean cache filling the heap up to
     * its bound, anon is over maxmemory by the allocator's overhead alone,
     * and trimming then only hands pages back that malloc faults in again. */
    static int64_t last_trim;
    uint64_t slack = cfg.maxmemory / 8 > (8u << 20) ? cfg.maxmemory / 8 : (8u << 20);
    if (anon > cfg.maxmemory && anon > used + slack && used <= cfg.maxmemory &&
        mstime() - last_trim >= 1000) {
        last_trim = mstime();
        mem_purge();
    }
    /* Unmapping costs every later read of those pages a minor fault: only
     * past MAP_SLACK over maxmemory, at most once a second unless 1.5 times
     * that (a read's fault maps up to 16 pages: RSS can climb fast). */
    static int64_t last_release;
    int64_t now = mstime();
    if (rss > cfg.maxmemory + MAP_SLACK && file > 0 &&
        (now - last_release >= 1000 || rss > cfg.maxmemory + MAP_SLACK * 3 / 2)) {
        last_release = now;
        if (store_release_map(srv.st) == ST_OK) stats.map_releases++;
        else server_log(3, "madvise of LMDB's map failed: %s", strerror(errno));
    }
}

static void key_change(int db, const uint8_t *key, size_t klen, int kind) {
    (void)db;
    (void)key;
    (void)klen;
    if (kind == KS_CH_EVICTED) srv.stat_evictedkeys++;
}

void memory_family_init(void);
void memory_family_shutdown(void);

void memory_family_init(void) {
    startup_used = mem_used();
    ev = evict_new(srv.ks);
    maxmemory_apply();
    hooks_on_cron(maxmemory_cron);
    hooks_on_key_change(key_change);
}

void memory_family_shutdown(void) {
    evict_free(ev);
    ev = NULL;
}

static int evict_now(void) {
    long n;
    return evict_perform(ev, cfg.maxdisk, cfg.maxmemory_policy, (int)cfg.maxmemory_samples,
                         EVICT_MAX_KEYS, &n);
}

int maxdisk_oom(void) {
    return cfg.maxdisk && ev && evict_now() == EVICT_FAIL;
}

int maxdisk_check_or_reply(client *c, const struct command *cmd, uint64_t flags) {
    if (!cfg.maxdisk || !ev) return 0;
    int r = evict_now();
    if (r != EVICT_FAIL) return 0;
    int denyoom = (flags & CMD_DENYOOM) != 0;
    /* EXEC is refused when a queued command would be (Redis 7). */
    if (cmd->id == CMDID_exec && (c->flags & CLIENT_MULTI) && multi_queued_flags &&
        (multi_queued_flags(c) & CMD_DENYOOM))
        denyoom = 1;
    /* Queueing in MULTI may take any amount of memory: Redis refuses every
     * command but EXEC, DISCARD, QUIT and RESET then. */
    if ((c->flags & CLIENT_MULTI) && cmd->id != CMDID_exec && cmd->id != CMDID_discard &&
        cmd->id != CMDID_quit && cmd->id != CMDID_reset)
        denyoom = 1;
    if (!denyoom) return 0;
    reply_error(c, "-OOM command not allowed when used memory > 'maxmemory'.");
    return 1;
}
