/* config.h — every directive lodis has, as one declarative table (config.c)
 * feeding the config file parser, command-line --directive value pairs,
 * CONFIG GET / SET / RESETSTAT / REWRITE and conf/lodis.conf's test. */
#ifndef LODIS_CONFIG_H
#define LODIS_CONFIG_H

#include <stddef.h>

typedef struct obuf_limit {
    unsigned long long hard, soft;
    long long soft_seconds;
} obuf_limit;

enum { OBUF_NORMAL = 0, OBUF_REPLICA = 1, OBUF_PUBSUB = 2 };

typedef struct config {
    /* network */
    long long port;
    char *bind;
    int protected_mode;
    long long tcp_backlog;
    long long timeout;
    long long tcp_keepalive;
    long long maxclients;
    char *requirepass;
    /* process */
    int daemonize;
    char *pidfile;
    char *logfile;
    int loglevel;
    long long databases;
    long long hz;
    /* persistence */
    char *dir;
    int appendfsync;      /* enum store_fsync */
    int appendonly;       /* accepted for compatibility: the WAL is always on */
    char *save;
    char *dbfilename;
    char *appendfilename;
    long long checkpoint_interval; /* ms */
    unsigned long long memtable_size;
    unsigned long long wal_segment_size;
    /* limits */
    unsigned long long proto_max_bulk_len;
    unsigned long long client_query_buffer_limit;
    obuf_limit obuf[3];
    /* memory */
    unsigned long long maxmemory;
    long long tier_read_threads; /* cold-read threads under maxmemory (prefetch.c) */
    int tier_read_offload;       /* PREFETCH_AUTO / _ALWAYS / _NEVER */
    long long tier_cache_share;  /* % of maxmemory the clean cache may take at most */
    unsigned long long maxdisk;
    int maxmemory_policy;
    long long maxmemory_samples;
    long long lfu_log_factor;
    long long lfu_decay_time;
    /* observability */
    long long slowlog_log_slower_than;
    long long slowlog_max_len;
    long long latency_monitor_threshold;
    int latency_tracking;                   /* per-command histograms */
    char *latency_tracking_info_percentiles; /* INFO latencystats */
    char *notify_keyspace_events;
    /* encoding knobs: no effect on storage, only on OBJECT ENCODING answers */
    long long hash_max_listpack_entries, hash_max_listpack_value;
    long long list_max_listpack_size, list_compress_depth;
    long long set_max_intset_entries, set_max_listpack_entries, set_max_listpack_value;
    long long zset_max_listpack_entries, zset_max_listpack_value;
    long long stream_node_max_bytes, stream_node_max_entries;
    long long hll_sparse_max_bytes;
    long long lua_time_limit;
    long long tracking_table_max_keys;
    long long active_expire_effort;
    int lazyfree_lazy_eviction, lazyfree_lazy_expire, lazyfree_lazy_server_del;
    int lazyfree_lazy_user_del, lazyfree_lazy_user_flush;
    long long io_threads;
    int activerehashing;
    int replica_read_only;
    long long min_replicas_to_write;
    int crash_log_enabled;
    char *unixsocket;
    char *unixsocketperm; /* octal, as Redis writes it ("700"); 0 keeps the umask's */
} config;

extern config cfg;

/* Set every directive to its default. */
void config_init_defaults(void);
/* Load a config file; on error prints a message naming file, line and
 * directive, and returns -1. */
int config_load_file(const char *path);
/* Apply "--name value ..." arguments (after the file). -1 on error. */
int config_load_args(int argc, char **argv);
/* Set one directive from text (used by the loaders). err gets the reason. */
int config_set_one(const char *name, const char *value, char *err, size_t errlen, int startup);
/* Push every directive with a runtime effect into the store and keyspace
 * (after they are opened). */
void config_apply_all(void);
/* Current value of a directive as text, or NULL if unknown. Caller frees. */
char *config_get_value(const char *name);

/* min-replicas-to-write: lodis has no replicas, so any positive value makes
 * writes fail as they do on a Redis primary without enough good replicas. */
#define ERR_NOREPLICAS "-NOREPLICAS Not enough good replicas to write."
static inline int config_enough_replicas(void) {
    return cfg.min_replicas_to_write <= 0;
}

#endif
