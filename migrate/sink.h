/* sink.h — where lodis-migrate copy writes: a running lodis (lodis://host:
 * port: pipelined RESTORE ... REPLACE ABSTTL over one connection) or a data
 * directory (DATADIR: DUMP payloads decoded by storage/'s RDB codec and
 * written through the keyspace's write path, the same path restore and
 * import-rdb use).
 *
 * sink_restore queues; sink_sync returns once everything queued is applied
 * (replies read; for a directory, committed to the store's log);
 * sink_durable then makes it survive a crash of the machine (a directory's
 * store checkpoints, synced), which is when a resume point may be saved.
 * Errors: -1 with sink_err() saying what. */
#ifndef LODIS_SINK_H
#define LODIS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "migrate/rconn.h"

typedef struct sink sink;

/* to: "lodis://[user:pass@]host:port" or a directory path. NULL on error
 * (message in err). A directory must be missing, empty, or a lodis store no
 * server is using. */
sink *sink_open(const char *to, char *err, size_t errlen);
/* 1 if the sink is a data directory. */
int sink_is_dir(const sink *k);
/* Queue key = payload (a DUMP payload) in db with absolute expire (unix ms, 0
 * none); an existing key is replaced. */
int sink_restore(sink *k, int db, const void *key, size_t klen, const void *payload, size_t plen,
                 int64_t expire_ms);
/* A function library (its code, as FUNCTION LOAD takes it). */
int sink_function(sink *k, const char *name, const char *code, size_t clen);
/* Apply what was queued. */
int sink_sync(sink *k);
/* Make what was applied durable (a running lodis: as durable as its
 * appendfsync makes it; nothing to do here). */
int sink_durable(sink *k);
/* Errors the target reported for single keys (bad payload etc.): counted,
 * the first few printed, not fatal. */
uint64_t sink_key_errors(const sink *k);
const char *sink_err(const sink *k);
void sink_close(sink *k);

#endif
