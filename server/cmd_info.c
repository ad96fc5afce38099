/* cmd_info.c — INFO [section ...]: the server's state and counters as
 * Redis 7.0 prints them ("# Section" then "field:value" lines, CRLF, sections
 * separated by an empty line), plus lodis's own lodis_* fields about the
 * store (memtable, WAL, checkpoints, LMDB file).
 *
 * Every figure is true: a field lodis cannot measure is left out rather than
 * invented (pubsub_channels and the allocator internals of
 * jemalloc are absent; latencystats is not kept). Fields that are constant by
 * design are printed with that constant (loading:0 — the store opens before
 * the server listens; total_forks:0 and the *_cow_* fields — lodis never
 * forks; aof_rewrite*:0 — the WAL is trimmed by checkpoints, never
 * rewritten; role:master — no replication yet).
 *
 * The counters mostly live in `srv` and are owned by the modules that bump
 * them; this file only samples the rates (instantaneous_*), recent client
 * buffer peaks and peak memory, from a cron hook (info_cron). */
#include <ev.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "server/buf.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/latency.h"
#include "server/latency_hist.h"
#include "server/maxmemory.h"
#include "server/reply.h"
#include "server/script_lua.h"
#include "server/server.h"
#include "server/tracking.h"

/* ------------------------------------------------------------------ */
/* sampled state                                                        */

#define INST_SAMPLES   16 /* averaged, like Redis: 16 samples ~100 ms apart */
#define INST_PERIOD_MS 100
#define PEAK_SLOTS     8 /* client buffer peaks: the last 8 seconds */

enum { INST_OPS, INST_NET_IN, INST_NET_OUT, INST_N };

static struct {
    int64_t last_ms;
    uint64_t last_val;
    double samples[INST_SAMPLES];
    int idx;
} inst[INST_N];

static struct {
    size_t in[PEAK_SLOTS], out[PEAK_SLOTS];
    int64_t slot_sec[PEAK_SLOTS];
} peaks;

static uint64_t startup_memory;
static char replid[41];

static void update_peak(uint64_t used) {
    if ((int64_t)used > srv.stat_peak_memory) srv.stat_peak_memory = (int64_t)used;
}

static void random_hex40(char out[41]) {
    unsigned char b[20];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, b, sizeof b) : -1;
    if (fd >= 0) close(fd);
    if (got != (ssize_t)sizeof b) {
        uint64_t x = (uint64_t)ustime() ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < sizeof b; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    for (size_t i = 0; i < sizeof b; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void info_init(void) {
    startup_memory = mem_used();
    update_peak(startup_memory);
    if (!replid[0]) random_hex40(replid);
}

const char *info_replid(void) {
    if (!replid[0]) random_hex40(replid);
    return replid;
}

void info_new_replid(void) {
    random_hex40(replid);
}

static void inst_track(int m, uint64_t cur, int64_t now) {
    if (inst[m].last_ms == 0) {
        inst[m].last_ms = now;
        inst[m].last_val = cur;
        return;
    }
    int64_t dt = now - inst[m].last_ms;
    if (dt < INST_PERIOD_MS - 10) return; /* cron jitter: ~100 ms is enough */
    uint64_t dv = cur >= inst[m].last_val ? cur - inst[m].last_val : 0; /* RESETSTAT */
    inst[m].samples[inst[m].idx] = (double)dv * 1000.0 / (double)dt;
    inst[m].idx = (inst[m].idx + 1) % INST_SAMPLES;
    inst[m].last_ms = now;
    inst[m].last_val = cur;
}

static double inst_get(int m) {
    double sum = 0;
    for (int i = 0; i < INST_SAMPLES; i++) sum += inst[m].samples[i];
    return sum / INST_SAMPLES;
}

/* Current largest client buffers (allocated bytes), and the sum of all of
 * them (mem_clients_normal). */
static void client_buffers(size_t *max_in, size_t *max_out, uint64_t *total) {
    size_t mi = 0, mo = 0;
    uint64_t t = 0;
    for (client *c = srv.clients; c; c = c->next) {
        if (c->fd < 0) continue;
        if (c->query.cap > mi) mi = c->query.cap;
        if (c->reply.cap > mo) mo = c->reply.cap;
        t += c->query.cap + c->reply.cap;
    }
    *max_in = mi;
    *max_out = mo;
    if (total) *total = t;
}

void info_cron(void) {
    int64_t now = mstime();
    inst_track(INST_OPS, srv.stat_numcommands, now);
    inst_track(INST_NET_IN, srv.stat_net_input_bytes, now);
    inst_track(INST_NET_OUT, srv.stat_net_output_bytes, now);
    size_t mi, mo;
    client_buffers(&mi, &mo, NULL);
    int64_t sec = now / 1000;
    int slot = (int)(sec % PEAK_SLOTS);
    if (peaks.slot_sec[slot] != sec) {
        peaks.slot_sec[slot] = sec;
        peaks.in[slot] = peaks.out[slot] = 0;
    }
    if (mi > peaks.in[slot]) peaks.in[slot] = mi;
    if (mo > peaks.out[slot]) peaks.out[slot] = mo;
    update_peak(mem_used());
}

/* ------------------------------------------------------------------ */
/* formatting helpers                                                   */

/* Redis's "human" byte counts: 943.26K, 6.71M, 0B. */
static const char *human(char *out, size_t cap, uint64_t n) {
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(out, cap, "%lluB", (unsigned long long)n);
        return out;
    }
    double d = (double)n / 1024.0;
    int u = 0;
    while (d >= 1024.0 && u < 4) {
        d /= 1024.0;
        u++;
    }
    snprintf(out, cap, "%.2f%c", d, units[u]);
    return out;
}

static const char *backend_name(void) {
    switch (ev_backend(srv.loop)) {
    case EVBACKEND_EPOLL: return "epoll";
    case EVBACKEND_POLL: return "poll";
    case EVBACKEND_SELECT: return "select";
    case EVBACKEND_KQUEUE: return "kqueue";
    case EVBACKEND_LINUXAIO: return "linuxaio";
    case EVBACKEND_IOURING: return "io_uring";
    default: return "unknown";
    }
}

/* A stable build id: a hash of the version and the compile time. */
static unsigned long long build_id(void) {
    const char *s = LODIS_OWN_VERSION " " __DATE__ " " __TIME__;
    unsigned long long h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* ------------------------------------------------------------------ */
/* sections                                                             */

static void sec_server(buf *o) {
    struct utsname u;
    if (uname(&u) != 0) memset(&u, 0, sizeof u);
    int64_t now_us = ustime();
    int64_t up = (now_us / 1000 - srv.start_ms) / 1000;
#ifdef __GNUC__
    int gv[3] = {__GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__};
#else
    int gv[3] = {0, 0, 0};
#endif
    buf_printf(o,
               "# Server\r\n"
               "redis_version:%s\r\n"
               "redis_git_sha1:00000000\r\n"
               "redis_git_dirty:0\r\n"
               "redis_build_id:%016llx\r\n"
               "redis_mode:standalone\r\n"
               "lodis_version:%s\r\n"
               "os:%s %s %s\r\n"
               "arch_bits:%d\r\n"
               "monotonic_clock:POSIX clock_gettime\r\n"
               "multiplexing_api:%s\r\n"
               "gcc_version:%d.%d.%d\r\n"
               "process_id:%d\r\n"
               "process_supervised:no\r\n"
               "run_id:%s\r\n"
               "tcp_port:%lld\r\n"
               "server_time_usec:%lld\r\n"
               "uptime_in_seconds:%lld\r\n"
               "uptime_in_days:%lld\r\n"
               "hz:%lld\r\n"
               "configured_hz:%lld\r\n"
               "lru_clock:%lld\r\n"
               "executable:%s\r\n"
               "config_file:%s\r\n"
               "io_threads_active:0\r\n",
               LODIS_VERSION, build_id(), LODIS_OWN_VERSION, u.sysname, u.release, u.machine,
               (int)(sizeof(long) * 8), backend_name(), gv[0], gv[1], gv[2], (int)getpid(),
               srv.run_id, cfg.port, (long long)now_us, (long long)up, (long long)(up / 86400),
               cfg.hz, cfg.hz, (long long)((now_us / 1000000) & ((1 << 24) - 1)),
               srv.executable ? srv.executable : "", srv.configfile ? srv.configfile : "");
}

static void sec_clients(buf *o) {
    long long connected = 0, blocked = 0;
    for (client *c = srv.clients; c; c = c->next) {
        if (c->fd < 0 || (c->flags & CLIENT_CLOSED)) continue;
        connected++;
        if (c->flags & CLIENT_BLOCKED) blocked++;
    }
    size_t mi, mo;
    client_buffers(&mi, &mo, NULL);
    int64_t sec = mstime() / 1000;
    for (int i = 0; i < PEAK_SLOTS; i++) {
        if (sec - peaks.slot_sec[i] >= PEAK_SLOTS) continue;
        if (peaks.in[i] > mi) mi = peaks.in[i];
        if (peaks.out[i] > mo) mo = peaks.out[i];
    }
    buf_printf(o,
               "# Clients\r\n"
               "connected_clients:%lld\r\n"
               "cluster_connections:0\r\n"
               "maxclients:%lld\r\n"
               "client_recent_max_input_buffer:%zu\r\n"
               "client_recent_max_output_buffer:%zu\r\n"
               "blocked_clients:%lld\r\n"
               "tracking_clients:%lld\r\n",
               connected, cfg.maxclients, mi, mo, blocked, tracking_clients());
}

static void sec_memory(buf *o) {
    uint64_t used = mem_used(), rss, rss_file, rss_anon;
    mem_rss(&rss, &rss_file, &rss_anon);
    update_peak(used);
    uint64_t peak = (uint64_t)srv.stat_peak_memory;
    uint64_t sysmem = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    size_t mi, mo;
    uint64_t clients_mem;
    client_buffers(&mi, &mo, &clients_mem);
    store_stats st;
    store_get_stats(srv.st, &st);
    store_cache_stats cs;
    store_cache_get_stats(srv.st, &cs);
    uint64_t overhead = mem_overhead();
    if (overhead > used) overhead = used;
    uint64_t dataset = used - overhead;
    uint64_t net = used > startup_memory ? used - startup_memory : 0;
    uint64_t disk_used = mem_disk_used();
    const mem_stats *ms = mem_get_stats();
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    getrusage(RUSAGE_SELF, &ru);
    char *policy = config_get_value("maxmemory-policy");
    char h[10][32];
    script_mem sm;
    script_lua_mem(&sm);
    function_mem(&sm);
    long long vm_total = sm.vm_eval + sm.vm_functions;
    long long scripts_total = sm.scripts_eval + sm.functions_bytes;
    buf_printf(o,
               "# Memory\r\n"
               "used_memory:%llu\r\n"
               "used_memory_human:%s\r\n"
               "used_memory_rss:%llu\r\n"
               "used_memory_rss_human:%s\r\n"
               "used_memory_peak:%llu\r\n"
               "used_memory_peak_human:%s\r\n"
               "used_memory_peak_perc:%.2f%%\r\n"
               "used_memory_overhead:%llu\r\n"
               "used_memory_startup:%llu\r\n"
               "used_memory_dataset:%llu\r\n"
               "used_memory_dataset_perc:%.2f%%\r\n"
               "total_system_memory:%llu\r\n"
               "total_system_memory_human:%s\r\n",
               (unsigned long long)used, human(h[0], 32, used), (unsigned long long)rss,
               human(h[1], 32, rss), (unsigned long long)peak, human(h[2], 32, peak),
               peak ? (double)used * 100.0 / (double)peak : 0.0, (unsigned long long)overhead,
               (unsigned long long)startup_memory, (unsigned long long)dataset,
               net ? (double)dataset * 100.0 / (double)net : 0.0, (unsigned long long)sysmem,
               human(h[3], 32, sysmem));
    /* Scripting; used_memory_lua is Redis's older name of used_memory_vm_eval. */
    buf_printf(o,
               "used_memory_lua:%lld\r\n"
               "used_memory_vm_eval:%lld\r\n"
               "used_memory_lua_human:%s\r\n"
               "used_memory_scripts_eval:%lld\r\n"
               "number_of_cached_scripts:%lld\r\n"
               "number_of_functions:%lld\r\n"
               "number_of_libraries:%lld\r\n"
               "used_memory_vm_functions:%lld\r\n"
               "used_memory_vm_total:%lld\r\n"
               "used_memory_vm_total_human:%s\r\n"
               "used_memory_functions:%lld\r\n"
               "used_memory_scripts:%lld\r\n"
               "used_memory_scripts_human:%s\r\n",
               sm.vm_eval, sm.vm_eval, human(h[0], 32, (uint64_t)sm.vm_eval), sm.scripts_eval,
               sm.cached_scripts, sm.nfunctions, sm.nlibraries, sm.vm_functions, vm_total,
               human(h[1], 32, (uint64_t)vm_total), sm.functions_bytes, scripts_total,
               human(h[2], 32, (uint64_t)scripts_total));
    buf_printf(o,
               "maxmemory:%llu\r\n"
               "maxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\n"
               "mem_fragmentation_ratio:%.2f\r\n"
               "mem_fragmentation_bytes:%lld\r\n"
               "mem_not_counted_for_evict:0\r\n"
               "mem_clients_slaves:0\r\n"
               "mem_clients_normal:%llu\r\n"
               "mem_replication_backlog:0\r\n"
               "mem_allocator:libc\r\n"
               "active_defrag_running:0\r\n"
               "lazyfree_pending_objects:%d\r\n"
               "lazyfreed_objects:0\r\n"
               "lodis_rss_anon:%llu\r\n"
               "lodis_rss_file:%llu\r\n"
               "lodis_memtable_bytes:%llu\r\n"
               "lodis_memtable_bytes_human:%s\r\n"
               "lodis_memtable_entries:%llu\r\n"
               "lodis_memtable_budget:%llu\r\n"
               "lodis_tier_entries:%llu\r\n"
               "lodis_tier_bytes:%llu\r\n"
               "lodis_tier_memtable_hits:%llu\r\n"
               "lodis_tier_lmdb_reads:%llu\r\n"
               "lodis_tier_cache_entries:%llu\r\n"
               "lodis_tier_cache_bytes:%llu\r\n"
               "lodis_tier_cache_max:%llu\r\n"
               "lodis_tier_cache_hits:%llu\r\n"
               "lodis_tier_cache_misses:%llu\r\n"
               "lodis_tier_cache_evictions:%llu\r\n"
               "lodis_major_faults:%llu\r\n"
               "lodis_minor_faults:%llu\r\n"
               "lodis_pressure_checkpoints:%llu\r\n"
               "lodis_map_releases:%llu\r\n"
               "lodis_disk_used:%llu\r\n"
               "lodis_disk_used_human:%s\r\n"
               "lodis_disk_bytes:%llu\r\n"
               "lodis_disk_bytes_human:%s\r\n"
               "lodis_wal_bytes:%llu\r\n"
               "lodis_map_size:%llu\r\n"
               "lodis_maxdisk:%llu\r\n"
               "lodis_maxdisk_human:%s\r\n",
               cfg.maxmemory, human(h[4], 32, cfg.maxmemory),
               policy ? policy : "", used ? (double)rss / (double)used : 0.0,
               (long long)rss - (long long)used, (unsigned long long)clients_mem,
               srv.reclaim_pending ? 1 : 0, (unsigned long long)rss_anon,
               (unsigned long long)rss_file, (unsigned long long)st.memtable_bytes,
               human(h[5], 32, st.memtable_bytes), (unsigned long long)st.memtable_entries,
               (unsigned long long)store_memtable_budget(srv.st),
               (unsigned long long)ks_tier_entries(srv.ks),
               (unsigned long long)ks_tier_bytes(srv.ks), (unsigned long long)st.memtable_hits,
               (unsigned long long)st.lmdb_reads, (unsigned long long)cs.entries,
               (unsigned long long)cs.bytes, (unsigned long long)cs.max_bytes,
               (unsigned long long)cs.hits, (unsigned long long)cs.misses,
               (unsigned long long)cs.evictions, (unsigned long long)ru.ru_majflt,
               (unsigned long long)ru.ru_minflt, (unsigned long long)ms->pressure_checkpoints,
               (unsigned long long)ms->map_releases, (unsigned long long)disk_used,
               human(h[6], 32, disk_used), (unsigned long long)st.disk_bytes,
               human(h[7], 32, st.disk_bytes), (unsigned long long)st.wal_bytes,
               (unsigned long long)st.map_size, cfg.maxdisk, human(h[8], 32, cfg.maxdisk));
    /* Cold reads (prefetch.c): commands parked for the reader threads (one
     * job each), and how many of those jobs waited for the disk. */
    store_prefetch_stats ps;
    store_prefetch_get_stats(srv.st, &ps);
    buf_printf(o,
               "lodis_tier_read_threads:%llu\r\n"
               "lodis_tier_cold_commands:%llu\r\n"
               "lodis_tier_cold_reads_disk:%llu\r\n"
               "lodis_tier_checkpoint_warm_runs:%llu\r\n",
               (unsigned long long)ps.threads, (unsigned long long)ps.jobs,
               (unsigned long long)ps.jobs_faulted, (unsigned long long)ps.warm_runs);
    free(policy);
}

static void sec_persistence(buf *o) {
    store_stats st;
    store_get_stats(srv.st, &st);
    int snap_rc;
    int64_t snap_ms;
    int snap_running = store_snapshot_state(srv.st, &snap_rc, &snap_ms);
    buf_printf(o,
               "# Persistence\r\n"
               "loading:0\r\n"
               "async_loading:0\r\n"
               "current_cow_peak:0\r\n"
               "current_cow_size:0\r\n"
               "current_cow_size_age:0\r\n"
               "current_fork_perc:0.00\r\n"
               "current_save_keys_processed:0\r\n"
               "current_save_keys_total:0\r\n"
               "rdb_changes_since_last_save:%llu\r\n"
               "rdb_bgsave_in_progress:%d\r\n"
               "rdb_last_save_time:%lld\r\n"
               "rdb_last_bgsave_status:%s\r\n"
               "rdb_last_bgsave_time_sec:%lld\r\n"
               "rdb_current_bgsave_time_sec:%lld\r\n"
               "rdb_saves:%llu\r\n"
               "rdb_last_cow_size:0\r\n"
               "aof_enabled:1\r\n"
               "aof_rewrite_in_progress:0\r\n"
               "aof_rewrite_scheduled:0\r\n"
               "aof_last_rewrite_time_sec:-1\r\n"
               "aof_current_rewrite_time_sec:-1\r\n"
               "aof_last_bgrewrite_status:ok\r\n"
               "aof_rewrites:0\r\n"
               "aof_rewrites_consecutive_failures:0\r\n"
               "aof_last_write_status:%s\r\n"
               "aof_last_cow_size:0\r\n"
               "module_fork_in_progress:0\r\n"
               "module_fork_last_cow_size:0\r\n"
               "aof_current_size:%llu\r\n"
               "lodis_checkpoints:%llu\r\n"
               "lodis_checkpoint_in_progress:%d\r\n"
               "lodis_last_checkpoint_ms:%llu\r\n"
               "lodis_last_checkpoint_time:%lld\r\n"
               "lodis_wal_gen:%llu\r\n"
               "lodis_wal_fsyncs:%llu\r\n"
               "lodis_load_ms:%lld\r\n"
               "lodis_replayed_records:%llu\r\n",
               (unsigned long long)srv.dirty, snap_running, (long long)srv.lastsave,
               (st.checkpoints == 0 || st.checkpoint_last_ok) && snap_rc == ST_OK ? "ok" : "err",
               snap_ms >= 0 ? (long long)(snap_ms / 1000)
                            : st.checkpoints ? (long long)(st.checkpoint_last_ms / 1000) : -1LL,
               snap_running && srv.bgsave_started_ms
                   ? (long long)((mstime() - srv.bgsave_started_ms) / 1000) : -1LL,
               (unsigned long long)st.checkpoints, st.nospace ? "err" : "ok",
               (unsigned long long)st.wal_bytes, (unsigned long long)st.checkpoints,
               st.checkpoint_in_progress ? 1 : 0, (unsigned long long)st.checkpoint_last_ms,
               (long long)(st.checkpoint_last_time / 1000), (unsigned long long)st.wal_gen,
               (unsigned long long)st.fsyncs, (long long)srv.loading_ms,
               (unsigned long long)st.replayed_records);
}

static void sec_stats(buf *o) {
    buf_printf(
        o,
        "# Stats\r\n"
        "total_connections_received:%llu\r\n"
        "total_commands_processed:%llu\r\n"
        "instantaneous_ops_per_sec:%lld\r\n"
        "total_net_input_bytes:%llu\r\n"
        "total_net_output_bytes:%llu\r\n"
        "total_net_repl_input_bytes:0\r\n"
        "total_net_repl_output_bytes:0\r\n"
        "instantaneous_input_kbps:%.2f\r\n"
        "instantaneous_output_kbps:%.2f\r\n"
        "instantaneous_input_repl_kbps:0.00\r\n"
        "instantaneous_output_repl_kbps:0.00\r\n"
        "rejected_connections:%llu\r\n"
        "sync_full:0\r\n"
        "sync_partial_ok:0\r\n"
        "sync_partial_err:0\r\n"
        "expired_keys:%llu\r\n"
        "expired_stale_perc:0.00\r\n"
        "evicted_keys:%llu\r\n"
        "evicted_clients:0\r\n"
        "keyspace_hits:%llu\r\n"
        "keyspace_misses:%llu\r\n"
        "latest_fork_usec:0\r\n"
        "total_forks:0\r\n"
        "migrate_cached_sockets:0\r\n" /* MIGRATE keeps no connection cache */
        "tracking_total_keys:%llu\r\n"
        "tracking_total_items:%llu\r\n"
        "tracking_total_prefixes:%llu\r\n"
        "unexpected_error_replies:%llu\r\n"
        "total_error_replies:%llu\r\n"
        "dump_payload_sanitizations:0\r\n"
        "total_reads_processed:%llu\r\n"
        "total_writes_processed:%llu\r\n"
        "io_threaded_reads_processed:0\r\n"
        "io_threaded_writes_processed:0\r\n"
        "lodis_reclaimed_entries:%llu\r\n"
        "lodis_reclaim_pending:%d\r\n",
        (unsigned long long)srv.stat_numconnections, (unsigned long long)srv.stat_numcommands,
        (long long)(inst_get(INST_OPS) + 0.5), (unsigned long long)srv.stat_net_input_bytes,
        (unsigned long long)srv.stat_net_output_bytes, inst_get(INST_NET_IN) / 1024.0,
        inst_get(INST_NET_OUT) / 1024.0, (unsigned long long)srv.stat_rejected_conn,
        (unsigned long long)srv.stat_expiredkeys, (unsigned long long)srv.stat_evictedkeys,
        (unsigned long long)srv.stat_keyspace_hits, (unsigned long long)srv.stat_keyspace_misses,
        tracking_total_keys(), tracking_total_items(), tracking_total_prefixes(),
        (unsigned long long)srv.stat_unexpected_error_replies,
        (unsigned long long)srv.stat_total_error_replies, (unsigned long long)srv.stat_io_reads,
        (unsigned long long)srv.stat_io_writes, (unsigned long long)srv.stat_reclaimed,
        srv.reclaim_pending ? 1 : 0);
}

static void sec_replication(buf *o) {
    buf_printf(o,
               "# Replication\r\n"
               "role:master\r\n"
               "connected_slaves:0\r\n"
               "master_failover_state:no-failover\r\n"
               "master_replid:%s\r\n"
               "master_replid2:0000000000000000000000000000000000000000\r\n"
               "master_repl_offset:0\r\n"
               "second_repl_offset:-1\r\n"
               "repl_backlog_active:0\r\n"
               "repl_backlog_size:1048576\r\n"
               "repl_backlog_first_byte_offset:0\r\n"
               "repl_backlog_histlen:0\r\n",
               info_replid());
}

static void tv_fmt(char *out, size_t cap, const struct timeval *tv) {
    snprintf(out, cap, "%ld.%06ld", (long)tv->tv_sec, (long)tv->tv_usec);
}

static void sec_cpu(buf *o) {
    struct rusage self, children, thread;
    memset(&self, 0, sizeof self);
    memset(&children, 0, sizeof children);
    memset(&thread, 0, sizeof thread);
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    getrusage(RUSAGE_THREAD, &thread); /* INFO runs on the main thread */
    char a[32], b[32], cc[32], d[32], e[32], f[32];
    tv_fmt(a, sizeof a, &self.ru_stime);
    tv_fmt(b, sizeof b, &self.ru_utime);
    tv_fmt(cc, sizeof cc, &children.ru_stime);
    tv_fmt(d, sizeof d, &children.ru_utime);
    tv_fmt(e, sizeof e, &thread.ru_stime);
    tv_fmt(f, sizeof f, &thread.ru_utime);
    buf_printf(o,
               "# CPU\r\n"
               "used_cpu_sys:%s\r\n"
               "used_cpu_user:%s\r\n"
               "used_cpu_sys_children:%s\r\n"
               "used_cpu_user_children:%s\r\n"
               "used_cpu_sys_main_thread:%s\r\n"
               "used_cpu_user_main_thread:%s\r\n",
               a, b, cc, d, e, f);
}

static void sec_modules(buf *o) {
    buf_append_cstr(o, "# Modules\r\n");
}

static void sec_commandstats(buf *o) {
    buf_append_cstr(o, "# Commandstats\r\n");
    size_t it = 0;
    const struct command *cmd;
    while ((cmd = cmd_all_next(&it)) != NULL) {
        const struct cmd_stats *s = cmd_stats(cmd);
        if (!s->calls && !s->rejected_calls && !s->failed_calls) continue;
        buf_printf(o,
                   "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
                   "failed_calls=%llu\r\n",
                   cmd->fullname, (unsigned long long)s->calls, (unsigned long long)s->usec,
                   s->calls ? (double)s->usec / (double)s->calls : 0.0,
                   (unsigned long long)s->rejected_calls, (unsigned long long)s->failed_calls);
    }
}

typedef struct errrow {
    const char *code;
    uint64_t count;
} errrow;

static int errrow_cmp(const void *a, const void *b) {
    return strcmp(((const errrow *)a)->code, ((const errrow *)b)->code);
}

static void sec_errorstats(buf *o) {
    buf_append_cstr(o, "# Errorstats\r\n");
    size_t n = 0, cap = 0;
    errrow *rows = NULL;
    void *it = NULL;
    const char *code;
    uint64_t count;
    while (server_errorstat_next(&it, &code, &count)) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            errrow *nr = realloc(rows, nc * sizeof *nr);
            if (!nr) break;
            rows = nr;
            cap = nc;
        }
        rows[n].code = code;
        rows[n].count = count;
        n++;
    }
    /* Redis keeps them in a radix tree: byte order of the code. */
    if (n > 1) qsort(rows, n, sizeof *rows, errrow_cmp);
    for (size_t i = 0; i < n; i++)
        buf_printf(o, "errorstat_%s:count=%llu\r\n", rows[i].code,
                   (unsigned long long)rows[i].count);
    free(rows);
}

static void sec_cluster(buf *o) {
    buf_append_cstr(o, "# Cluster\r\ncluster_enabled:0\r\n");
}

static void sec_keyspace(buf *o) {
    buf_append_cstr(o, "# Keyspace\r\n");
    int n = ks_databases(srv.ks);
    for (int db = 0; db < n; db++) {
        uint64_t keys = ks_dbsize(srv.ks, db);
        if (!keys) continue;
        /* avg_ttl: Redis estimates it from its expiry sampling; lodis's
         * expiry is an exact index walk with no running estimate, so 0
         * ("unknown"), which Redis also prints when nothing was sampled. */
        buf_printf(o, "db%d:keys=%llu,expires=%llu,avg_ttl=0\r\n", db, (unsigned long long)keys,
                   (unsigned long long)ks_expires_count(srv.ks, db));
    }
}

/* ------------------------------------------------------------------ */
/* INFO                                                                 */

typedef struct section {
    const char *name;
    void (*fn)(buf *o);
    int in_default;
} section;

/* Output order is this order, whatever order the arguments come in. */
static const section sections[] = {
    {"server", sec_server, 1},
    {"clients", sec_clients, 1},
    {"memory", sec_memory, 1},
    {"persistence", sec_persistence, 1},
    {"stats", sec_stats, 1},
    {"replication", sec_replication, 1},
    {"cpu", sec_cpu, 1},
    {"modules", sec_modules, 1},
    {"commandstats", sec_commandstats, 0},
    {"latencystats", latency_hist_info, 0},
    {"errorstats", sec_errorstats, 1},
    {"cluster", sec_cluster, 1},
    {"keyspace", sec_keyspace, 1},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

/* INFO [section [section ...]] */
void info_command(client *c) {
    int want[NSECTIONS] = {0};
    if (c->argc == 1) {
        for (size_t i = 0; i < NSECTIONS; i++) want[i] = sections[i].in_default;
    }
    for (int a = 1; a < c->argc; a++) {
        const arg *x = &c->argv[a];
        if (x->len == 7 && !strncasecmp(x->p, "default", 7)) {
            for (size_t i = 0; i < NSECTIONS; i++) want[i] |= sections[i].in_default;
        } else if ((x->len == 3 && !strncasecmp(x->p, "all", 3)) ||
                   (x->len == 10 && !strncasecmp(x->p, "everything", 10))) {
            for (size_t i = 0; i < NSECTIONS; i++) want[i] = 1;
        } else {
            for (size_t i = 0; i < NSECTIONS; i++)
                if (strlen(sections[i].name) == x->len &&
                    !strncasecmp(sections[i].name, x->p, x->len))
                    want[i] = 1;
        }
    }
    buf o = {0};
    int first = 1;
    for (size_t i = 0; i < NSECTIONS; i++) {
        if (!want[i]) continue;
        if (!first) buf_append(&o, "\r\n", 2);
        first = 0;
        sections[i].fn(&o);
    }
    reply_verbatim(c, o.p ? o.p : "", o.len, "txt");
    buf_free(&o);
}
