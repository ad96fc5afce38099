/* config.c — the directive table, config file and argument loading, and
 * CONFIG GET / SET / RESETSTAT / REWRITE / HELP.
 *
 * One row per directive: its name (and Redis aliases), its type, where the
 * value lives in `cfg`, its default, bounds, whether CONFIG SET may change it
 * at runtime, and an apply hook run after a successful change. Everything
 * that lists or changes directives reads this one table. */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/cmdtable.h"
#include "server/maxmemory.h"
#include "server/notify.h"
#include "server/prefetch.h"
#include "server/reply.h"
#include "server/resp.h"
#include "server/server.h"
#include "storage/glob.h"
#include "storage/num.h"

config cfg;

enum ctype { C_BOOL, C_INT, C_MEM, C_STR, C_ENUM, C_OBUF, C_SAVE };

typedef struct enum_val {
    const char *name;
    int val;
} enum_val;

static const enum_val loglevel_enum[] = {
    {"debug", 0}, {"verbose", 1}, {"notice", 2}, {"warning", 3}, {"nothing", 4}, {NULL, 0}};
static const enum_val fsync_enum[] = {
    {"no", ST_FSYNC_NO}, {"everysec", ST_FSYNC_EVERYSEC}, {"always", ST_FSYNC_ALWAYS}, {NULL, 0}};
static const enum_val offload_enum[] = {
    {"auto", PREFETCH_AUTO}, {"always", PREFETCH_ALWAYS}, {"never", PREFETCH_NEVER}, {NULL, 0}};
static const enum_val policy_enum[] = {{"volatile-lru", 0},    {"volatile-lfu", 1},
                                       {"volatile-random", 2}, {"volatile-ttl", 3},
                                       {"allkeys-lru", 4},     {"allkeys-lfu", 5},
                                       {"allkeys-random", 6},  {"noeviction", 7},
                                       {NULL, 0}};

#define IMMUTABLE 1
#define HIDDEN    2

typedef struct directive {
    const char *name;
    const char *alias;
    enum ctype type;
    void *ptr;
    const char *def;
    long long min, max;
    int flags;
    const enum_val *enums;
    void (*apply)(void);
} directive;

static void apply_fsync(void) {
    if (srv.st) store_set_fsync(srv.st, cfg.appendfsync);
}
static void apply_memtable(void) {
    maxmemory_apply(); /* the budget is bounded by maxmemory too */
    prefetch_apply();  /* cold-read threads run under maxmemory only */
}
/* Both take effect at once: the interval at the next cron pass, the segment
 * size at the next preallocation (a segment grows by it; new segments start
 * at it). */
static void apply_checkpointing(void) {
    if (!srv.st) return;
    store_set_checkpoint_interval(srv.st, (int)cfg.checkpoint_interval);
    store_set_wal_segment_size(srv.st, (uint64_t)cfg.wal_segment_size);
}
static void apply_tier(void) {
    int lfu = cfg.maxmemory_policy == 1 || cfg.maxmemory_policy == 5;
    if (srv.ks) ks_set_lfu(srv.ks, lfu, (int)cfg.lfu_log_factor, (int)cfg.lfu_decay_time);
    if (srv.st) store_cache_set_lfu(srv.st, lfu);
}
void config_apply_all(void) {
    apply_fsync();
    apply_checkpointing();
    apply_memtable();
    apply_tier();
}
static void apply_hz(void) {
    if (cfg.hz < 1) cfg.hz = 1;
    if (cfg.hz > 500) cfg.hz = 500;
}

#define LL_MAX 9223372036854775807LL
static directive table[] = {
    /* port and bind: CONFIG SET reopens the listeners (config_set_command). */
    {"port", NULL, C_INT, &cfg.port, "6379", 0, 65535, 0, NULL, NULL},
    {"bind", NULL, C_STR, &cfg.bind, "127.0.0.1", 0, 0, 0, NULL, NULL},
    {"protected-mode", NULL, C_BOOL, &cfg.protected_mode, "yes", 0, 0, 0, NULL, NULL},
    {"tcp-backlog", NULL, C_INT, &cfg.tcp_backlog, "511", 0, LL_MAX, IMMUTABLE, NULL, NULL},
    {"timeout", NULL, C_INT, &cfg.timeout, "0", 0, LL_MAX, 0, NULL, NULL},
    {"tcp-keepalive", NULL, C_INT, &cfg.tcp_keepalive, "300", 0, LL_MAX, 0, NULL, NULL},
    {"maxclients", NULL, C_INT, &cfg.maxclients, "10000", 1, LL_MAX, 0, NULL, NULL},
    {"requirepass", NULL, C_STR, &cfg.requirepass, "", 0, 0, 0, NULL, NULL},
    {"daemonize", NULL, C_BOOL, &cfg.daemonize, "no", 0, 0, IMMUTABLE, NULL, NULL},
    {"pidfile", NULL, C_STR, &cfg.pidfile, "", 0, 0, IMMUTABLE, NULL, NULL},
    {"logfile", NULL, C_STR, &cfg.logfile, "", 0, 0, IMMUTABLE, NULL, NULL},
    {"loglevel", NULL, C_ENUM, &cfg.loglevel, "notice", 0, 0, 0, loglevel_enum, NULL},
    {"databases", NULL, C_INT, &cfg.databases, "16", 1, 64, IMMUTABLE, NULL, NULL},
    {"hz", NULL, C_INT, &cfg.hz, "10", 0, LL_MAX, 0, NULL, apply_hz},
    {"dir", NULL, C_STR, &cfg.dir, "./data", 0, 0, IMMUTABLE, NULL, NULL},
    {"appendfsync", NULL, C_ENUM, &cfg.appendfsync, "everysec", 0, 0, 0, fsync_enum,
     apply_fsync},
    {"appendonly", NULL, C_BOOL, &cfg.appendonly, "yes", 0, 0, 0, NULL, NULL},
    {"save", NULL, C_SAVE, &cfg.save, "3600 1 300 100 60 10000", 0, 0, 0, NULL, NULL},
    {"dbfilename", NULL, C_STR, &cfg.dbfilename, "dump.lmdb", 0, 0, 0, NULL, NULL},
    {"appendfilename", NULL, C_STR, &cfg.appendfilename, "appendonly.aof", 0, 0, IMMUTABLE,
     NULL, NULL},
    {"checkpoint-interval", NULL, C_INT, &cfg.checkpoint_interval, "1000", 10, 3600000, 0,
     NULL, apply_checkpointing},
    {"memtable-size", NULL, C_MEM, &cfg.memtable_size, "64mb", 1 << 20, LL_MAX, 0, NULL,
     apply_memtable},
    {"wal-segment-size", NULL, C_MEM, &cfg.wal_segment_size, "64mb", 1 << 20, LL_MAX, 0, NULL,
     apply_checkpointing},
    {"proto-max-bulk-len", NULL, C_MEM, &cfg.proto_max_bulk_len, "512mb", 1024 * 1024, LL_MAX,
     0, NULL, NULL},
    {"client-query-buffer-limit", NULL, C_MEM, &cfg.client_query_buffer_limit, "1gb",
     1024 * 1024, LL_MAX, 0, NULL, NULL},
    {"client-output-buffer-limit", NULL, C_OBUF, cfg.obuf,
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", 0, 0, 0, NULL,
     NULL},
    {"maxmemory", NULL, C_MEM, &cfg.maxmemory, "0", 0, LL_MAX, 0, NULL, apply_memtable},
    {"tier-read-threads", NULL, C_INT, &cfg.tier_read_threads, "2", 0, 64, 0, NULL,
     prefetch_apply},
    {"tier-cache-share", NULL, C_INT, &cfg.tier_cache_share, "100", 1, 100, 0, NULL,
     apply_memtable},
    {"tier-read-offload", NULL, C_ENUM, &cfg.tier_read_offload, "auto", 0, 0, 0, offload_enum,
     NULL},
    {"maxdisk", NULL, C_MEM, &cfg.maxdisk, "0", 0, LL_MAX, 0, NULL, NULL},
    {"maxmemory-policy", NULL, C_ENUM, &cfg.maxmemory_policy, "noeviction", 0, 0, 0,
     policy_enum, apply_tier},
    {"maxmemory-samples", NULL, C_INT, &cfg.maxmemory_samples, "5", 1, 64, 0, NULL, NULL},
    {"lfu-log-factor", NULL, C_INT, &cfg.lfu_log_factor, "10", 0, LL_MAX, 0, NULL, apply_tier},
    {"lfu-decay-time", NULL, C_INT, &cfg.lfu_decay_time, "1", 0, LL_MAX, 0, NULL, apply_tier},
    {"slowlog-log-slower-than", NULL, C_INT, &cfg.slowlog_log_slower_than, "10000", -1,
     LL_MAX, 0, NULL, NULL},
    {"slowlog-max-len", NULL, C_INT, &cfg.slowlog_max_len, "128", 0, LL_MAX, 0, NULL, NULL},
    {"latency-monitor-threshold", NULL, C_INT, &cfg.latency_monitor_threshold, "0", 0, LL_MAX,
     0, NULL, NULL},
    {"latency-tracking", NULL, C_BOOL, &cfg.latency_tracking, "yes", 0, 0, 0, NULL, NULL},
    {"latency-tracking-info-percentiles", NULL, C_STR, &cfg.latency_tracking_info_percentiles,
     "50 99 99.9", 0, 0, 0, NULL, NULL},
    {"notify-keyspace-events", NULL, C_STR, &cfg.notify_keyspace_events, "", 0, 0, 0, NULL,
     NULL},
    {"hash-max-listpack-entries", "hash-max-ziplist-entries", C_INT,
     &cfg.hash_max_listpack_entries, "512", 0, LL_MAX, 0, NULL, NULL},
    {"hash-max-listpack-value", "hash-max-ziplist-value", C_INT, &cfg.hash_max_listpack_value,
     "64", 0, LL_MAX, 0, NULL, NULL},
    {"list-max-listpack-size", "list-max-ziplist-size", C_INT, &cfg.list_max_listpack_size,
     "-2", -5, LL_MAX, 0, NULL, NULL},
    {"list-compress-depth", NULL, C_INT, &cfg.list_compress_depth, "0", 0, LL_MAX, 0, NULL,
     NULL},
    {"set-max-intset-entries", NULL, C_INT, &cfg.set_max_intset_entries, "512", 0, LL_MAX, 0,
     NULL, NULL},
    {"set-max-listpack-entries", NULL, C_INT, &cfg.set_max_listpack_entries, "128", 0, LL_MAX,
     HIDDEN, NULL, NULL},
    {"set-max-listpack-value", NULL, C_INT, &cfg.set_max_listpack_value, "64", 0, LL_MAX,
     HIDDEN, NULL, NULL},
    {"zset-max-listpack-entries", "zset-max-ziplist-entries", C_INT,
     &cfg.zset_max_listpack_entries, "128", 0, LL_MAX, 0, NULL, NULL},
    {"zset-max-listpack-value", "zset-max-ziplist-value", C_INT, &cfg.zset_max_listpack_value,
     "64", 0, LL_MAX, 0, NULL, NULL},
    {"stream-node-max-bytes", NULL, C_MEM, &cfg.stream_node_max_bytes, "4096", 0, LL_MAX, 0,
     NULL, NULL},
    {"stream-node-max-entries", NULL, C_INT, &cfg.stream_node_max_entries, "100", 0, LL_MAX, 0,
     NULL, NULL},
    {"hll-sparse-max-bytes", NULL, C_MEM, &cfg.hll_sparse_max_bytes, "3000", 0, LL_MAX, 0,
     NULL, NULL},
    {"busy-reply-threshold", "lua-time-limit", C_INT, &cfg.lua_time_limit, "5000", 0, LL_MAX,
     0, NULL, NULL},
    {"tracking-table-max-keys", NULL, C_INT, &cfg.tracking_table_max_keys, "1000000", 0,
     LL_MAX, 0, NULL, NULL},
    {"active-expire-effort", NULL, C_INT, &cfg.active_expire_effort, "1", 1, 10, 0, NULL,
     NULL},
    {"lazyfree-lazy-eviction", NULL, C_BOOL, &cfg.lazyfree_lazy_eviction, "no", 0, 0, 0, NULL,
     NULL},
    {"lazyfree-lazy-expire", NULL, C_BOOL, &cfg.lazyfree_lazy_expire, "no", 0, 0, 0, NULL,
     NULL},
    {"lazyfree-lazy-server-del", NULL, C_BOOL, &cfg.lazyfree_lazy_server_del, "no", 0, 0, 0,
     NULL, NULL},
    {"lazyfree-lazy-user-del", NULL, C_BOOL, &cfg.lazyfree_lazy_user_del, "no", 0, 0, 0, NULL,
     NULL},
    {"lazyfree-lazy-user-flush", NULL, C_BOOL, &cfg.lazyfree_lazy_user_flush, "no", 0, 0, 0,
     NULL, NULL},
    {"io-threads", NULL, C_INT, &cfg.io_threads, "1", 1, 128, IMMUTABLE, NULL, NULL},
    {"activerehashing", NULL, C_BOOL, &cfg.activerehashing, "yes", 0, 0, 0, NULL, NULL},
    {"replica-read-only", "slave-read-only", C_BOOL, &cfg.replica_read_only, "yes", 0, 0, 0,
     NULL, NULL},
    {"min-replicas-to-write", "min-slaves-to-write", C_INT, &cfg.min_replicas_to_write, "0",
     0, LL_MAX, 0, NULL, NULL},
    {"crash-log-enabled", NULL, C_BOOL, &cfg.crash_log_enabled, "yes", 0, 0, 0, NULL, NULL},
    {"unixsocket", NULL, C_STR, &cfg.unixsocket, "", 0, 0, IMMUTABLE, NULL, NULL},
    {"unixsocketperm", NULL, C_STR, &cfg.unixsocketperm, "0", 0, 0, IMMUTABLE, NULL, NULL},
};
#define NDIRECTIVES (sizeof table / sizeof table[0])

static directive *find(const char *name) {
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        if (!strcasecmp(table[i].name, name)) return &table[i];
        if (table[i].alias && !strcasecmp(table[i].alias, name)) return &table[i];
    }
    return NULL;
}

/* Redis's memory units: k=1000, kb=1024, m, mb, g, gb. */
static int parse_mem(const char *s, long long *out) {
    size_t n = strlen(s);
    if (n == 0) return -1;
    long long mul = 1;
    size_t digits = n;
    const char *u = s;
    while (*u && (isdigit((unsigned char)*u) || *u == '-')) u++;
    digits = (size_t)(u - s);
    if (!strcasecmp(u, "")) mul = 1;
    else if (!strcasecmp(u, "b")) mul = 1;
    else if (!strcasecmp(u, "k")) mul = 1000;
    else if (!strcasecmp(u, "kb")) mul = 1024;
    else if (!strcasecmp(u, "m")) mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb")) mul = 1024 * 1024;
    else if (!strcasecmp(u, "g")) mul = 1000LL * 1000 * 1000;
    else if (!strcasecmp(u, "gb")) mul = 1024LL * 1024 * 1024;
    else return -1;
    long long v;
    if (num_parse_ll(s, digits, &v) != 0) return -1;
    if (v != 0 && (v > LL_MAX / mul || v < -LL_MAX / mul)) return -1;
    *out = v * mul;
    return 0;
}

static int parse_bool(const char *s) {
    if (!strcasecmp(s, "yes")) return 1;
    if (!strcasecmp(s, "no")) return 0;
    return -1;
}

static int obuf_class(const char *s) {
    if (!strcasecmp(s, "normal")) return OBUF_NORMAL;
    if (!strcasecmp(s, "replica") || !strcasecmp(s, "slave")) return OBUF_REPLICA;
    if (!strcasecmp(s, "pubsub")) return OBUF_PUBSUB;
    return -1;
}

static int set_obuf(const char *value, char *err, size_t errlen) {
    char *copy = strdup(value), *save = NULL;
    char *tok[64];
    int n = 0;
    for (char *t = strtok_r(copy, " \t", &save); t && n < 64; t = strtok_r(NULL, " \t", &save))
        tok[n++] = t;
    obuf_limit tmp[3];
    memcpy(tmp, cfg.obuf, sizeof tmp);
    int ok = n > 0 && n % 4 == 0;
    for (int i = 0; ok && i < n; i += 4) {
        int cl = obuf_class(tok[i]);
        long long h, s, secs;
        if (cl < 0 || parse_mem(tok[i + 1], &h) || parse_mem(tok[i + 2], &s) ||
            num_parse_ll(tok[i + 3], strlen(tok[i + 3]), &secs) || h < 0 || s < 0 ||
            secs < 0) {
            ok = 0;
            break;
        }
        tmp[cl].hard = (unsigned long long)h;
        tmp[cl].soft = (unsigned long long)s;
        tmp[cl].soft_seconds = secs;
    }
    free(copy);
    if (!ok) {
        snprintf(err, errlen, "Invalid arguments");
        return -1;
    }
    memcpy(cfg.obuf, tmp, sizeof tmp);
    return 0;
}

static int set_value(directive *d, const char *value, char *err, size_t errlen) {
    long long v;
    switch (d->type) {
    case C_BOOL: {
        int b = parse_bool(value);
        if (b < 0) {
            snprintf(err, errlen, "argument must be 'yes' or 'no'");
            return -1;
        }
        *(int *)d->ptr = b;
        return 0;
    }
    case C_INT:
        if (num_parse_ll(value, strlen(value), &v) != 0) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return -1;
        }
        goto range;
    case C_MEM:
        if (parse_mem(value, &v) != 0 || v < 0) {
            snprintf(err, errlen, "argument must be a memory value");
            return -1;
        }
    range:
        if (v < d->min || v > d->max) {
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", d->min,
                     d->max);
            return -1;
        }
        if (d->type == C_MEM) *(unsigned long long *)d->ptr = (unsigned long long)v;
        else *(long long *)d->ptr = v;
        return 0;
    case C_ENUM:
        for (const enum_val *e = d->enums; e->name; e++) {
            if (!strcasecmp(e->name, value)) {
                *(int *)d->ptr = e->val;
                return 0;
            }
        }
        {
            size_t o = (size_t)snprintf(err, errlen, "argument(s) must be one of the following: ");
            for (const enum_val *e = d->enums; e->name && o < errlen; e++)
                o += (size_t)snprintf(err + o, errlen - o, "%s%s", e->name,
                                      e[1].name ? ", " : "");
        }
        return -1;
    case C_STR:
        if (d->ptr == &cfg.notify_keyspace_events) return notify_config_set(value, err, errlen);
        /* fall through */
    case C_SAVE: {
        char **p = d->ptr;
        free(*p);
        *p = strdup(value);
        return 0;
    }
    case C_OBUF: return set_obuf(value, err, errlen);
    }
    return -1;
}

static char *get_value(const directive *d) {
    char tmp[512];
    switch (d->type) {
    case C_BOOL: return strdup(*(int *)d->ptr ? "yes" : "no");
    case C_INT: snprintf(tmp, sizeof tmp, "%lld", *(long long *)d->ptr); return strdup(tmp);
    case C_MEM:
        snprintf(tmp, sizeof tmp, "%llu", *(unsigned long long *)d->ptr);
        return strdup(tmp);
    case C_ENUM:
        for (const enum_val *e = d->enums; e->name; e++)
            if (e->val == *(int *)d->ptr) return strdup(e->name);
        return strdup("");
    case C_STR:
    case C_SAVE: {
        char *const *p = d->ptr;
        return strdup(*p ? *p : "");
    }
    case C_OBUF: {
        const obuf_limit *o = d->ptr;
        snprintf(tmp, sizeof tmp, "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld",
                 o[0].hard, o[0].soft, o[0].soft_seconds, o[1].hard, o[1].soft,
                 o[1].soft_seconds, o[2].hard, o[2].soft, o[2].soft_seconds);
        return strdup(tmp);
    }
    }
    return strdup("");
}

void config_init_defaults(void) {
    char err[256];
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        if (set_value(&table[i], table[i].def, err, sizeof err) != 0) {
            fprintf(stderr, "lodis: bad default for %s: %s\n", table[i].name, err);
            exit(1);
        }
    }
}

int config_set_one(const char *name, const char *value, char *err, size_t errlen, int startup) {
    directive *d = find(name);
    if (!d) {
        snprintf(err, errlen, "Bad directive or wrong number of arguments");
        return -1;
    }
    if (!startup && (d->flags & IMMUTABLE)) {
        snprintf(err, errlen, "can't set immutable config");
        return -1;
    }
    if (set_value(d, value, err, errlen) != 0) return -1;
    if (d->apply) d->apply();
    return 0;
}

char *config_get_value(const char *name) {
    directive *d = find(name);
    return d ? get_value(d) : NULL;
}

/* Split a config line into words (quotes as in redis.conf). */
static int split_line(char *line, char **words, int max) {
    resp_arg *argv = NULL;
    int cap = 0;
    int n = resp_split_inline(line, strlen(line), &argv, &cap);
    if (n < 0) {
        free(argv);
        return -1;
    }
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        words[i] = line + argv[i].off;
        words[i][argv[i].len] = '\0';
    }
    free(argv);
    return n;
}

static int apply_words(char **w, int n, const char *where, int lineno) {
    char err[256];
    char joined[4096];
    if (n < 2) {
        fprintf(stderr, "lodis: %s:%d: '%s' needs a value\n", where, lineno, w[0]);
        return -1;
    }
    /* Multi-word values (save, client-output-buffer-limit) are joined. */
    size_t o = 0;
    joined[0] = '\0';
    for (int i = 1; i < n && o < sizeof joined; i++)
        o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s", i > 1 ? " " : "", w[i]);
    directive *d = find(w[0]);
    if (d && d->type == C_OBUF && cfg.obuf[0].hard == 0 && 0) return 0;
    if (d && d->type == C_SAVE && n >= 2) {
        /* "save 900 1" lines accumulate; "save ''" clears */
        if (config_set_one(w[0], joined, err, sizeof err, 1) == 0) return 0;
    } else if (d && d->type == C_OBUF) {
        if (set_obuf(joined, err, sizeof err) == 0) return 0;
    } else if (config_set_one(w[0], joined, err, sizeof err, 1) == 0) {
        return 0;
    }
    fprintf(stderr,
            "\n*** FATAL CONFIG FILE ERROR ***\n%s:%d: '%s %s': %s\n"
            "Fix or remove the directive; `lodis-server --help` and conf/lodis.conf list them.\n",
            where, lineno, w[0], joined, d ? err : "Bad directive or wrong number of arguments");
    return -1;
}

int config_load_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "lodis: cannot open config file '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == '\0') continue;
        char *w[64];
        int n = split_line(p, w, 64);
        if (n < 0) {
            fprintf(stderr, "lodis: %s:%d: unbalanced quotes\n", path, lineno);
            rc = -1;
            break;
        }
        if (n == 0) continue;
        if (!strcasecmp(w[0], "include")) {
            if (n < 2 || config_load_file(w[1]) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        if (apply_words(w, n, path, lineno) != 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_load_args(int argc, char **argv) {
    int i = 0;
    while (i < argc) {
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "lodis: unexpected argument '%s': options are --directive value\n",
                    argv[i]);
            return -1;
        }
        char *w[64];
        int n = 0;
        w[n++] = argv[i] + 2;
        i++;
        while (i < argc && strncmp(argv[i], "--", 2) != 0 && n < 64) w[n++] = argv[i++];
        if (n == 1) w[n++] = ""; /* "--save" alone, like "--save ''" */
        if (apply_words(w, n, "command line", 0) != 0) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* CONFIG command                                                      */

/* CONFIG GET parameter [parameter ...] */
void config_get_command(client *c) {
    /* one reply pair per matching directive, each directive once */
    /* Each name (a directive's own and its alias count separately, as in
     * Redis) is listed once however many patterns match it. */
    char seen[NDIRECTIVES][2];
    memset(seen, 0, sizeof seen);
    reply_deferred h = reply_defer_len(c);
    long long n = 0;
    for (int a = 2; a < c->argc; a++) {
        const char *pat = c->argv[a].p;
        size_t plen = c->argv[a].len;
        for (size_t i = 0; i < NDIRECTIVES; i++) {
            const directive *d = &table[i];
            const char *names[2] = {d->name, d->alias};
            for (int k = 0; k < 2; k++) {
                if (!names[k] || seen[i][k]) continue;
                if (!glob_match(pat, plen, names[k], strlen(names[k]), 1)) continue;
                seen[i][k] = 1;
                char *v = get_value(d);
                reply_bulk_cstr(c, names[k]);
                reply_bulk_cstr(c, v);
                free(v);
                n++;
            }
        }
    }
    reply_set_deferred_len(c, h, n, REPLY_MAP);
}

/* After CONFIG SET changed port or bind: close the listeners and open the
 * new ones, as Redis does. If that fails, every value of the command goes
 * back, the old listeners are reopened and err says why (-1). */
static int relisten_or_rollback(directive **ds, char **old, int npairs, char *err, size_t errlen) {
    const directive *changed = NULL;
    for (int i = 0; i < npairs && !changed; i++) {
        if (strcmp(ds[i]->name, "port") && strcmp(ds[i]->name, "bind")) continue;
        char *now = get_value(ds[i]);
        if (strcmp(now, old[i])) changed = ds[i];
        free(now);
    }
    if (!changed) return 0;
    server_close_listeners();
    if (server_listen() == 0) return 0;
    server_close_listeners();
    char why[256];
    for (int j = 0; j < npairs; j++) set_value(ds[j], old[j], why, sizeof why);
    if (server_listen() != 0) server_log(3, "CONFIG SET: could not listen again on the old address");
    snprintf(err, errlen, "CONFIG SET failed (possibly related to argument '%s') - %s",
             changed->name,
             strcmp(changed->name, "port") ? "Failed to bind to specified addresses."
                                           : "Unable to listen on this port. Check server logs.");
    return -1;
}

/* CONFIG SET parameter value [parameter value ...] — all or nothing. */
void config_set_command(client *c) {
    if (c->argc < 4 || (c->argc - 2) % 2) {
        reply_error(c, "wrong number of arguments for 'config|set' command");
        return;
    }
    int npairs = (c->argc - 2) / 2;
    directive **ds = calloc((size_t)npairs, sizeof *ds);
    char **old = calloc((size_t)npairs, sizeof *old);
    char err[512];
    int failed = -1;
    for (int i = 0; i < npairs; i++) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)c->argv[2 + 2 * i].len, c->argv[2 + 2 * i].p);
        ds[i] = find(name);
        if (!ds[i] || (ds[i]->flags & IMMUTABLE)) {
            snprintf(err, sizeof err, "Unknown option or number of arguments for CONFIG SET - '%s'",
                     name);
            if (ds[i]) snprintf(err, sizeof err, "CONFIG SET failed (possibly related to argument '%s') - can't set immutable config", name);
            failed = i;
            goto out;
        }
        for (int j = 0; j < i; j++) {
            if (ds[j] == ds[i]) {
                snprintf(err, sizeof err,
                         "CONFIG SET failed (possibly related to argument '%s') - duplicate "
                         "parameter", name);
                failed = i;
                goto out;
            }
        }
    }
    for (int i = 0; i < npairs; i++) old[i] = get_value(ds[i]);
    for (int i = 0; i < npairs; i++) {
        char val[8192];
        snprintf(val, sizeof val, "%.*s", (int)c->argv[3 + 2 * i].len, c->argv[3 + 2 * i].p);
        char why[256];
        if (set_value(ds[i], val, why, sizeof why) != 0) {
            snprintf(err, sizeof err,
                     "CONFIG SET failed (possibly related to argument '%s') - %s", ds[i]->name,
                     why);
            for (int j = 0; j < i; j++) set_value(ds[j], old[j], why, sizeof why);
            failed = i;
            goto out;
        }
    }
    if (relisten_or_rollback(ds, old, npairs, err, sizeof err) != 0) {
        failed = 0;
        goto out;
    }
    for (int i = 0; i < npairs; i++)
        if (ds[i]->apply) ds[i]->apply();
out:
    if (failed >= 0) reply_error(c, err);
    else reply_ok(c);
    for (int i = 0; i < npairs; i++) free(old[i]);
    free(old);
    free(ds);
}

/* CONFIG RESETSTAT */
void config_resetstat_command(client *c) {
    srv.stat_numcommands = srv.stat_numconnections = srv.stat_rejected_conn = 0;
    srv.stat_expiredkeys = srv.stat_keyspace_hits = srv.stat_keyspace_misses = 0;
    srv.stat_net_input_bytes = srv.stat_net_output_bytes = 0;
    srv.stat_total_error_replies = srv.stat_evictedkeys = 0;
    srv.stat_unexpected_error_replies = 0;
    cmd_stats_reset();
    server_reset_errorstats();
    reply_ok(c);
}

/* CONFIG REWRITE: keep the file's comments and order, replace directives
 * with their current values, append the ones that differ from defaults. */
void config_rewrite_command(client *c) {
    if (!srv.configfile) {
        reply_error(c, "The server is running without a config file");
        return;
    }
    FILE *f = fopen(srv.configfile, "r");
    buf out = {0};
    char done[NDIRECTIVES];
    memset(done, 0, sizeof done);
    char line[8192];
    while (f && fgets(line, sizeof line, f)) {
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", line);
        char *p = copy;
        while (isspace((unsigned char)*p)) p++;
        char *w[64];
        int n = (*p && *p != '#') ? split_line(p, w, 64) : 0;
        directive *d = n > 0 ? find(w[0]) : NULL;
        if (!d) {
            buf_append_cstr(&out, line);
            continue;
        }
        size_t idx = (size_t)(d - table);
        if (done[idx]) continue;
        done[idx] = 1;
        char *v = get_value(d);
        buf_printf(&out, "%s \"%s\"\n", d->name, v);
        free(v);
    }
    if (f) fclose(f);
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        if (done[i]) continue;
        char *v = get_value(&table[i]);
        if (strcmp(v, table[i].def) != 0) buf_printf(&out, "%s \"%s\"\n", table[i].name, v);
        free(v);
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", srv.configfile);
    FILE *o = fopen(tmp, "w");
    int ok = o && fwrite(out.p ? out.p : "", 1, out.len, o) == out.len;
    if (o && fclose(o) != 0) ok = 0;
    if (ok && rename(tmp, srv.configfile) != 0) ok = 0;
    buf_free(&out);
    if (!ok) {
        reply_errorf(c, "Rewriting config file: %s", strerror(errno));
        return;
    }
    reply_ok(c);
}

void config_help_command(client *c) {
    static const char *help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
        NULL};
    reply_help(c, "CONFIG", help);
}

/* CONFIG: only reached with an unknown subcommand. */
void config_command(client *c) {
    container_unknown_subcommand(c);
}
