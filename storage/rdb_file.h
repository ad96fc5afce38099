/* rdb_file.h — whole Redis RDB files: load one into a keyspace, write a
 * keyspace out as one. Built on the value codec (rdb.h).
 *
 * Load reads the file from memory (the path variant maps it), checks the
 * trailing CRC-64 over the whole file before writing anything (when the
 * file has one), then walks it: header "REDIS" + 4-digit version (1..11),
 * AUX fields, SELECTDB, RESIZEDB, EXPIRETIME_MS / EXPIRETIME, IDLE / FREQ,
 * FUNCTION2 libraries, MODULE_AUX (skipped), key/value pairs, EOF. Keys go
 * through the keyspace's write path one by one; the caller's progress
 * callback runs every few thousand keys and is where it commits its
 * ticks (store_commit etc.) -- this module never does.
 *
 * Save writes version 10 (what Redis 7.0 writes and loads): AUX fields,
 * FUNCTION2 for each library, then per non-empty database SELECTDB,
 * RESIZEDB and every key with its expire, EOF and the CRC-64. With
 * lim->rdb_version 9 it writes what Redis 5 and 6 load: ziplists instead
 * of listpacks, quicklist v1, streams v1, and no function libraries (they
 * are counted in st->functions but not written). */
#ifndef LODIS_RDB_FILE_H
#define LODIS_RDB_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "storage/keyspace.h"
#include "storage/rdb.h"

typedef struct rdb_file_stats {
    int version;
    uint64_t keys;            /* loaded / written */
    uint64_t expired;         /* skipped on load: already expired */
    uint64_t skipped_modules; /* skipped on load: module values */
    uint64_t functions;       /* function libraries */
    uint64_t bytes;           /* input consumed / output written */
} rdb_file_stats;

/* Called every `every` keys and at the end: return non-zero to stop
 * (ST_INVALID is then returned, "interrupted"). */
typedef int (*rdb_progress_fn)(void *ud, const rdb_file_stats *st, uint64_t total_bytes);

/* Function libraries live outside the keyspace: load hands each library's
 * code to this callback (NULL: stored in the `info` DBI as the server keeps
 * them, "fn:" + name -> code); save enumerates them the same way. */
typedef struct rdb_load_opts {
    const rdb_limits *lim;
    int replace;        /* an existing key is replaced (else: error) */
    int skip_modules;   /* module values are skipped (else: error naming the key) */
    int keep_expired;   /* load keys whose TTL has passed (default: skip, as Redis) */
    uint64_t dbmask;    /* databases to load (bit n = db n); 0 = all */
    rdb_progress_fn progress;
    void *ud;
    uint64_t every;     /* keys between progress calls (0: 1000) */
} rdb_load_opts;

/* Load p[0..len) into k. ST_OK, or ST_CORRUPT / ST_INVALID / a storage
 * error with a message for the user in err. */
int rdb_file_load(ks *k, const uint8_t *p, size_t len, const rdb_load_opts *o, rdb_file_stats *st,
                  char *err, size_t errlen);
int rdb_file_load_path(ks *k, const char *path, const rdb_load_opts *o, rdb_file_stats *st,
                       char *err, size_t errlen);

typedef struct rdb_save_opts {
    const rdb_limits *lim;
    rdb_progress_fn progress;
    void *ud;
    uint64_t every;
} rdb_save_opts;

/* Write every database of k to f (version 10, or 9: see above). ST_OK, or ST_IO / a
 * storage error with a message in err. The caller owns f (and should write
 * to a temporary name and rename it, so no partial file is left). */
int rdb_file_save(ks *k, FILE *f, const rdb_save_opts *o, rdb_file_stats *st, char *err,
                  size_t errlen);

#endif
