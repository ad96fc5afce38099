/* keyspace_cmd.h — helpers of cmd_keyspace.c that other families use:
 * type names, OBJECT ENCODING answers, SCAN argument parsing. */
#ifndef LODIS_KEYSPACE_CMD_H
#define LODIS_KEYSPACE_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "server/client.h"
#include "storage/keyspace.h"

const char *type_name(int type);
/* OBJECT ENCODING's answer for a key (strings here; collections through the
 * weak collection_encoding() a collection family defines). */
const char *object_encoding(const ks_meta *m);
/* "cursor [MATCH p] [COUNT n] [TYPE t]" from argv[i]; pattern NULL = all.
 * Replies and returns -1 on a bad argument. */
/* Per-type OBJECT ENCODING answers, defined by each collection family. */
const char *hash_encoding(const ks_meta *m);
const char *list_encoding(const ks_meta *m);
const char *set_encoding(const ks_meta *m);
const char *zset_encoding(const ks_meta *m);
const char *stream_encoding(const ks_meta *m);
int scan_parse_args(client *c, int i, uint64_t *cursor, const char **pat, size_t *patlen,
                    long long *count, int *type, int allow_type);

#endif
