/* args.h — argument parsing helpers shared by command families, and the
 * one mapping from storage return codes to Redis error replies.
 *
 * "_or_reply" functions have already replied when they fail: the caller
 * just returns. */
#ifndef LODIS_ARGS_H
#define LODIS_ARGS_H

#include <stdint.h>

#include "server/client.h"

/* Exact Redis error texts used by several families. */
#define ERR_WRONGTYPE  "-WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOT_INT    "value is not an integer or out of range"
#define ERR_NOT_FLOAT  "value is not a valid float"
#define ERR_SYNTAX     "syntax error"
#define ERR_OVERFLOW   "increment or decrement would overflow"
#define ERR_DB_RANGE   "DB index is out of range"
#define ERR_NO_KEY     "no such key"
#define ERR_STR_TOO_BIG "string exceeds maximum allowed size (proto-max-bulk-len)"

/* Case-insensitive comparison of an argument with a NUL-terminated word. */
int arg_is(const arg *a, const char *word);
int arg_ll_or_reply(client *c, const arg *a, long long *out, const char *msg);
int arg_double_or_reply(client *c, const arg *a, double *out, const char *msg);
/* A long long within [min, max], else the given message. */
int arg_range_or_reply(client *c, const arg *a, long long min, long long max, long long *out,
                       const char *msg);
/* A C int, with Redis's getIntFromObjectOrReply errors (msg overrides both). */
int arg_int_or_reply(client *c, const arg *a, int *out, const char *msg);
/* A database index valid for SELECT/MOVE/COPY. */
int arg_db_or_reply(client *c, const arg *a, int *db);
/* Look argv[i] up for reading, counting a keyspace hit or miss as Redis's
 * lookupKeyRead does (a key of another type counts as a hit). Returns 1 if
 * found (release m), 0 if missing, -1 after replying an error. */
struct ks_meta;
int lookup_read_or_reply(client *c, int i, int type, struct ks_meta *m);
/* Turn a lookup's storage code into the _or_reply convention, counting a
 * keyspace hit or miss when `read` (as lookupKeyRead does; a key of another
 * type is a hit): 1 found, 0 missing, -1 after replying the error. */
int lookup_rc_or_reply(client *c, int rc, int read);
/* Reply with the error for a storage return code (WRONGTYPE, disk full, ...). */
void reply_store_error(client *c, int rc);

#endif
