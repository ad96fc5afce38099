/* maxmemory.h — what the process holds in RAM, keeping it under maxmemory,
 * and the maxdisk check before commands (server/maxmemory.c). */
#ifndef LODIS_MAXMEMORY_H
#define LODIS_MAXMEMORY_H

#include <stdint.h>

#include "server/client.h"

struct command;

/* Bytes malloc has handed out and not got back (Redis's used_memory). */
uint64_t mem_used(void);
/* Resident set: total, file-backed (LMDB's map: clean pages the kernel or
 * madvise may drop) and anonymous (heap, stacks), from /proc/self/statm. */
void mem_rss(uint64_t *total, uint64_t *file, uint64_t *anon);
/* Bytes held by bookkeeping rather than data: client buffers, the RAM
 * tier's access table, startup memory (INFO's used_memory_overhead). */
uint64_t mem_overhead(void);
/* mem_used() when the server had just started. */
uint64_t mem_startup(void);
/* Dataset size on disk as maxdisk sees it (storage/evict.h). */
uint64_t mem_disk_used(void);

/* Counters for INFO and MEMORY STATS. */
typedef struct mem_stats {
    uint64_t pressure_checkpoints; /* checkpoints forced by maxmemory */
    uint64_t map_releases;         /* madvise(DONTNEED) of LMDB's map */
    uint64_t tier_shrinks;         /* access-table bounds lowered */
    uint64_t trims;                /* malloc_trim calls */
} mem_stats;
const mem_stats *mem_get_stats(void);

/* Push maxmemory into the store and the tier (memtable budget, table
 * size): CONFIG SET maxmemory / memtable-size and startup. */
void maxmemory_apply(void);
/* Before a command: with maxdisk set, evict by policy as needed; if the
 * dataset is still over the bound and the command may grow it (denyoom),
 * reply Redis's OOM error and return 1. */
int maxdisk_check_or_reply(client *c, const struct command *cmd, uint64_t flags);
/* Scripts: is the dataset over maxdisk with nothing left to evict? Set
 * before a script runs, as Redis's pre-command OOM state. */
int maxdisk_oom(void);
/* Give back what malloc holds free (MEMORY PURGE). */
void mem_purge(void);

#endif
