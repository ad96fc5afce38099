/* cmd_memory.c — MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.
 *
 * MEMORY USAGE estimates the bytes a key takes where it lives, on disk: the
 * key and its meta record, plus for a collection its member entries, taken
 * from a sample of SAMPLES entries (default 5, 0 = all) scaled to the whole
 * collection, plus LMDB's per-entry overhead. Like Redis's answer, it is an
 * estimate; it reads at most SAMPLES entries.
 *
 * MEMORY STATS has Redis's fields where lodis has the thing they measure
 * (allocator figures from mallinfo2, client buffers, keys) and lodis.*
 * fields for what Redis has not: the memtable, the RAM tier's table, LMDB's
 * resident map, the dataset on disk. Redis's per-database hashtable
 * overheads do not exist here: db.N gives the key and TTL counts instead.
 * MEMORY DOCTOR gives advice about lodis's real failure modes (no
 * maxmemory, RSS over it, the dataset near maxdisk under noeviction, a
 * working set bigger than the page cache, large client buffers). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "server/args.h"
#include "server/buf.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/maxmemory.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/evict.h"
#include "storage/keyspace.h"

/* MEMORY: only reached with an unknown subcommand. */
void memory_command(client *c) {
    container_unknown_subcommand(c);
}

/* MEMORY USAGE key [SAMPLES count] */
void memory_usage_command(client *c) {
    long long samples = 5;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "SAMPLES") && j + 1 < c->argc) {
            if (arg_ll_or_reply(c, &c->argv[++j], &samples, NULL) != 0) return;
            if (samples < 0) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            if (samples == 0) samples = -1; /* all */
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    int64_t bytes = evict_key_bytes(srv.ks, c->db, c->argv[2].p, c->argv[2].len, samples);
    if (bytes < 0) {
        reply_null(c);
        return;
    }
    reply_int(c, bytes);
}

/* Figures shared by STATS and DOCTOR. */
typedef struct memfig {
    uint64_t used, peak, rss, rss_file, rss_anon, clients, overhead, dataset;
    uint64_t keys, expires, disk_used, disk_file, memtable, tier;
    uint64_t arena_total, arena_free, majflt, lmdb_reads, mt_hits;
    size_t max_client_buf;
} memfig;

static void gather(memfig *f) {
    memset(f, 0, sizeof *f);
    f->used = mem_used();
    f->peak = srv.stat_peak_memory > 0 ? (uint64_t)srv.stat_peak_memory : f->used;
    if (f->peak < f->used) f->peak = f->used;
    mem_rss(&f->rss, &f->rss_file, &f->rss_anon);
    for (client *c = srv.clients; c; c = c->next) {
        if (c->fd < 0) continue;
        size_t b = c->query.cap + c->reply.cap;
        f->clients += b;
        if (b > f->max_client_buf) f->max_client_buf = b;
    }
    f->overhead = mem_overhead();
    if (f->overhead > f->used) f->overhead = f->used;
    f->dataset = f->used - f->overhead;
    for (int db = 0; db < ks_databases(srv.ks); db++) {
        f->keys += ks_dbsize(srv.ks, db);
        f->expires += ks_expires_count(srv.ks, db);
    }
    store_stats st;
    store_get_stats(srv.st, &st);
    f->disk_used = mem_disk_used();
    f->disk_file = st.disk_bytes;
    f->memtable = st.memtable_bytes;
    f->lmdb_reads = st.lmdb_reads;
    f->mt_hits = st.memtable_hits;
    f->tier = ks_tier_bytes(srv.ks);
#if !defined(__SANITIZE_ADDRESS__)
    struct mallinfo2 mi = mallinfo2();
    f->arena_total = (uint64_t)mi.arena + (uint64_t)mi.hblkhd;
    f->arena_free = (uint64_t)mi.fordblks;
#else
    f->arena_total = f->used;
#endif
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) f->majflt = (uint64_t)ru.ru_majflt;
}

static void kv_int(client *c, const char *k, long long v) {
    reply_bulk_cstr(c, k);
    reply_int(c, v);
}

static void kv_double(client *c, const char *k, double v) {
    reply_bulk_cstr(c, k);
    reply_double(c, v);
}

static double ratio(uint64_t a, uint64_t b) {
    return b ? (double)a / (double)b : 0.0;
}

/* MEMORY STATS */
void memory_stats_command(client *c) {
    memfig f;
    gather(&f);
    int ndb = 0;
    for (int db = 0; db < ks_databases(srv.ks); db++)
        if (ks_dbsize(srv.ks, db)) ndb++;
    reply_map_len(c, 34 + ndb);
    kv_int(c, "peak.allocated", (long long)f.peak);
    kv_int(c, "total.allocated", (long long)f.used);
    kv_int(c, "startup.allocated", (long long)mem_startup());
    kv_int(c, "replication.backlog", 0);
    kv_int(c, "clients.slaves", 0);
    kv_int(c, "clients.normal", (long long)f.clients);
    kv_int(c, "cluster.links", 0);
    kv_int(c, "aof.buffer", 0);
    kv_int(c, "lua.caches", 0);
    kv_int(c, "functions.caches", 0);
    for (int db = 0; db < ks_databases(srv.ks); db++) {
        if (!ks_dbsize(srv.ks, db)) continue;
        char name[16];
        snprintf(name, sizeof name, "db.%d", db);
        reply_bulk_cstr(c, name);
        reply_map_len(c, 2);
        kv_int(c, "keys.count", (long long)ks_dbsize(srv.ks, db));
        kv_int(c, "expires.count", (long long)ks_expires_count(srv.ks, db));
    }
    kv_int(c, "overhead.total", (long long)f.overhead);
    kv_int(c, "keys.count", (long long)f.keys);
    kv_int(c, "keys.bytes-per-key", f.keys ? (long long)(f.dataset / f.keys) : 0);
    kv_int(c, "dataset.bytes", (long long)f.dataset);
    kv_double(c, "dataset.percentage", f.used ? 100.0 * ratio(f.dataset, f.used) : 0.0);
    kv_double(c, "peak.percentage", 100.0 * ratio(f.used, f.peak));
    kv_int(c, "allocator.allocated", (long long)f.used);
    kv_int(c, "allocator.active", (long long)f.arena_total);
    kv_int(c, "allocator.resident", (long long)f.rss_anon);
    kv_double(c, "allocator-fragmentation.ratio", ratio(f.arena_total, f.used));
    kv_int(c, "allocator-fragmentation.bytes", (long long)f.arena_total - (long long)f.used);
    kv_double(c, "allocator-rss.ratio", ratio(f.rss_anon, f.arena_total));
    kv_int(c, "allocator-rss.bytes", (long long)f.rss_anon - (long long)f.arena_total);
    kv_double(c, "rss-overhead.ratio", ratio(f.rss, f.rss_anon));
    kv_int(c, "rss-overhead.bytes", (long long)f.rss - (long long)f.rss_anon);
    kv_double(c, "fragmentation", ratio(f.rss, f.used));
    kv_int(c, "fragmentation.bytes", (long long)f.rss - (long long)f.used);
    kv_int(c, "lodis.rss.lmdb-map", (long long)f.rss_file);
    kv_int(c, "lodis.memtable.bytes", (long long)f.memtable);
    kv_int(c, "lodis.tier.bytes", (long long)f.tier);
    kv_int(c, "lodis.disk.used", (long long)f.disk_used);
    kv_int(c, "lodis.disk.file", (long long)f.disk_file);
    kv_int(c, "lodis.disk.bytes-per-key", f.keys ? (long long)(f.disk_used / f.keys) : 0);
    kv_int(c, "lodis.maxdisk", (long long)cfg.maxdisk);
}

static const char *hum(char *out, size_t cap, uint64_t n) {
    if (n >= (1ull << 30)) snprintf(out, cap, "%.2f GB", (double)n / (1ull << 30));
    else if (n >= (1ull << 20)) snprintf(out, cap, "%.2f MB", (double)n / (1ull << 20));
    else snprintf(out, cap, "%.2f KB", (double)n / 1024.0);
    return out;
}

/* MEMORY DOCTOR */
void memory_doctor_command(client *c) {
    memfig f;
    gather(&f);
    buf o = {0};
    char a[32], b[32], d[32], e[32], g[32];
    int issues = 0;
    buf_printf(&o, "lodis memory doctor: %s malloc'd, %s resident (%s of it LMDB's map), "
                   "dataset %s on disk.\n\n",
               hum(a, sizeof a, f.used), hum(b, sizeof b, f.rss), hum(d, sizeof d, f.rss_file),
               hum(e, sizeof e, f.disk_used));
    if (!cfg.maxmemory) {
        issues++;
        buf_printf(&o, " * maxmemory is not set. lodis keeps no data only in RAM, so a bound "
                       "never loses anything: set maxmemory to what this machine can spare and "
                       "lodis keeps its heap, memtable and mapped pages under it.\n\n");
    } else if (f.rss > cfg.maxmemory + cfg.maxmemory / 4) {
        issues++;
        buf_printf(&o, " * Resident memory (%s) is above maxmemory (%s) by more than a quarter. "
                       "LMDB's mapped pages are dropped once a second; what remains is heap: "
                       "memtable %s, client buffers %s, access table %s. Lower memtable-size or "
                       "client-output-buffer-limit, or raise maxmemory.\n\n",
                   hum(a, sizeof a, f.rss), hum(b, sizeof b, cfg.maxmemory),
                   hum(d, sizeof d, f.memtable), hum(e, sizeof e, f.clients),
                   hum(g, sizeof g, f.tier));
    }
    if (cfg.maxdisk && f.disk_used * 10 >= cfg.maxdisk * 9) {
        issues++;
        buf_printf(&o, " * The dataset (%s) is at %.0f%% of maxdisk (%s). %s\n\n",
                   hum(a, sizeof a, f.disk_used), 100.0 * ratio(f.disk_used, cfg.maxdisk),
                   hum(b, sizeof b, cfg.maxdisk),
                   cfg.maxmemory_policy == 7
                       ? "With maxmemory-policy noeviction, writes that grow it get OOM errors: "
                         "delete keys, raise maxdisk, or choose an eviction policy."
                       : "Keys are being evicted by maxmemory-policy to stay under it.");
    }
    if (f.lmdb_reads > 100000 && f.majflt * 20 > f.lmdb_reads) {
        issues++;
        buf_printf(&o, " * %llu of %llu reads from LMDB had to wait for the disk (major page "
                       "faults): the working set is larger than the page cache. More RAM for "
                       "the page cache, or a faster disk, helps; maxmemory does not.\n\n",
                   (unsigned long long)f.majflt, (unsigned long long)f.lmdb_reads);
    }
    if (f.max_client_buf > 32u << 20) {
        issues++;
        buf_printf(&o, " * A client holds %s of buffers: a slow reader of big replies, or a "
                       "huge pipeline. client-output-buffer-limit bounds it.\n\n",
                   hum(a, sizeof a, f.max_client_buf));
    }
    if (f.disk_file > (64u << 20) && f.disk_file > 2 * f.disk_used) {
        issues++;
        buf_printf(&o, " * data.mdb is %s, of which %s are in use: LMDB reuses freed pages but "
                       "never shrinks its file. SAVE/BGSAVE write a compacted copy.\n\n",
                   hum(a, sizeof a, f.disk_file), hum(b, sizeof b, f.disk_used));
    }
    if (f.peak > (64u << 20) && f.peak > 2 * f.used) {
        issues++;
        buf_printf(&o, " * Peak memory (%s) was more than twice today's (%s): a burst of "
                       "writes or of client buffers. MEMORY PURGE gives free heap back.\n\n",
                   hum(a, sizeof a, f.peak), hum(b, sizeof b, f.used));
    }
    if (!issues)
        buf_printf(&o, "No memory problem found: RAM is within its bounds and the dataset "
                       "within maxdisk.\n");
    reply_verbatim(c, o.p, o.len, "txt");
    buf_free(&o);
}

/* MEMORY MALLOC-STATS: glibc's malloc_info() report (XML). */
void memory_malloc_stats_command(client *c) {
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    if (!f) {
        reply_verbatim(c, "Stats not supported for the current allocator", 45, "txt");
        return;
    }
    malloc_info(0, f);
    fclose(f);
    reply_verbatim(c, p ? p : "", p ? n : 0, "txt");
    free(p);
}

/* MEMORY PURGE */
void memory_purge_command(client *c) {
    mem_purge();
    reply_ok(c);
}

void memory_help_command(client *c) {
    static const char *help[] = {
        "DOCTOR",
        "    Advice about memory and disk use.",
        "MALLOC-STATS",
        "    The allocator's own statistics (glibc malloc_info).",
        "PURGE",
        "    Give memory the allocator holds free back to the system.",
        "STATS",
        "    Memory and disk use in detail.",
        "USAGE <key> [SAMPLES <count>]",
        "    Estimate the bytes <key> and its value take on disk, sampling <count>",
        "    members of a collection (default 5, 0 for all).",
        "HELP",
        "    Print this help.",
        NULL};
    reply_help(c, "MEMORY", help);
}
