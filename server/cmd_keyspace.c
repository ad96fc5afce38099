/* cmd_keyspace.c — commands on keys regardless of type: DEL, UNLINK,
 * EXISTS, TYPE, RENAME(NX), COPY, MOVE, KEYS, SCAN, RANDOMKEY, TOUCH,
 * OBJECT, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.
 *
 * Deleting, renaming and moving are O(1) whatever the key holds: a
 * collection's members live under its id, so only the meta record moves
 * (storage/keyspace.c). FLUSHDB/FLUSHALL point the database at an empty
 * physical slot and reclaim the old one in the background, so ASYNC and
 * SYNC are both O(1) here. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/keyspace_cmd.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/scan_cursor.h"
#include "server/server.h"
#include "storage/glob.h"
#include "storage/keyspace.h"
#include "storage/num.h"

#define K(i) c->argv[i].p, c->argv[i].len

const char *type_name(int type) {
    return ks_type_name(type);
}

static int type_from_name(const arg *a) {
    static const int types[] = {KS_STRING, KS_LIST, KS_SET, KS_ZSET, KS_HASH, KS_STREAM};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (arg_is(a, type_name(types[i]))) return types[i];
    return -1;
}

/* Each collection family names its encodings (weak: a family that has not
 * landed yet answers "unknown"). */
const char *hash_encoding(const ks_meta *m) __attribute__((weak));
const char *list_encoding(const ks_meta *m) __attribute__((weak));
const char *set_encoding(const ks_meta *m) __attribute__((weak));
const char *zset_encoding(const ks_meta *m) __attribute__((weak));
const char *stream_encoding(const ks_meta *m) __attribute__((weak));

static const char *collection_encoding(const ks_meta *m) {
    const char *(*fn)(const ks_meta *) = NULL;
    switch (m->type) {
    case KS_HASH: fn = hash_encoding; break;
    case KS_LIST: fn = list_encoding; break;
    case KS_SET: fn = set_encoding; break;
    case KS_ZSET: fn = zset_encoding; break;
    case KS_STREAM: fn = stream_encoding; break;
    default: break;
    }
    return fn ? fn(m) : "unknown";
}

const char *object_encoding(const ks_meta *m) {
    if (m->type == KS_STRING) {
        long long v;
        if (!(m->flags & (KS_F_RAW | KS_F_NOINT)) && m->vlen <= 20 &&
            num_parse_ll((const char *)m->val, m->vlen, &v) == 0)
            return "int";
        if (m->vlen <= 44 && !(m->flags & KS_F_RAW)) return "embstr";
        return "raw";
    }
    return collection_encoding(m);
}

static void del_generic(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        int rc = ks_delete(srv.ks, c->db, K(i));
        if (rc < 0) {
            reply_store_error(c, rc);
            return;
        }
        if (rc > 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(i), c->db);
        n += rc;
    }
    reply_int(c, n);
}

/* DEL key [key ...] */
void del_command(client *c) {
    del_generic(c);
}

/* UNLINK key [key ...] — identical to DEL: every delete is O(1) here. */
void unlink_command(client *c) {
    del_generic(c);
}

/* EXISTS key [key ...] */
void exists_command(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        ks_meta m;
        if (ks_lookup_notouch(srv.ks, c->db, K(i), KS_NONE, &m) == ST_OK) {
            n++;
            ks_meta_release(&m);
        }
    }
    reply_int(c, n);
}

/* TOUCH key [key ...] */
void touch_command(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        ks_meta m;
        if (ks_lookup(srv.ks, c->db, K(i), KS_NONE, &m) == ST_OK) {
            n++;
            ks_meta_release(&m);
        }
    }
    reply_int(c, n);
}

/* TYPE key */
void type_command(client *c) {
    ks_meta m;
    int rc = ks_lookup_notouch(srv.ks, c->db, K(1), KS_NONE, &m);
    if (rc == ST_OK) {
        reply_status(c, type_name(m.type));
        ks_meta_release(&m);
    } else {
        reply_status(c, "none");
    }
}

static void rename_generic(client *c, int nx) {
    if (c->argv[1].len == c->argv[2].len && !memcmp(c->argv[1].p, c->argv[2].p, c->argv[1].len)) {
        ks_meta m;
        int rc = ks_lookup(srv.ks, c->db, K(1), KS_NONE, &m);
        if (rc != ST_OK) {
            reply_error(c, ERR_NO_KEY);
            return;
        }
        ks_meta_release(&m);
        if (nx) reply_int(c, 0);
        else reply_ok(c);
        return;
    }
    int rc = ks_rename(srv.ks, c->db, K(1), K(2), nx);
    if (rc == ST_NOTFOUND) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    if (rc < 0) {
        reply_store_error(c, rc);
        return;
    }
    if (rc > 0) {
        notify_keyspace_event(NOTIFY_GENERIC, "rename_from", K(1), c->db);
        notify_keyspace_event(NOTIFY_GENERIC, "rename_to", K(2), c->db);
    }
    if (nx) reply_int(c, rc);
    else reply_ok(c);
}

/* RENAME key newkey */
void rename_command(client *c) {
    rename_generic(c, 0);
}

/* RENAMENX key newkey */
void renamenx_command(client *c) {
    rename_generic(c, 1);
}

/* COPY source destination [DB destination-db] [REPLACE] */
void copy_command(client *c) {
    int dstdb = c->db, replace = 0;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "REPLACE")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "DB") && j + 1 < c->argc) {
            if (arg_db_or_reply(c, &c->argv[++j], &dstdb) != 0) return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (dstdb == c->db && c->argv[1].len == c->argv[2].len &&
        !memcmp(c->argv[1].p, c->argv[2].p, c->argv[1].len)) {
        reply_error(c, "source and destination objects are the same");
        return;
    }
    int rc = ks_copy(srv.ks, c->db, K(1), dstdb, K(2), replace, NULL);
    if (rc > 0) notify_keyspace_event(NOTIFY_GENERIC, "copy_to", K(2), dstdb);
    if (rc < 0) reply_store_error(c, rc);
    else reply_int(c, rc);
}

/* MOVE key db */
void move_command(client *c) {
    int dst;
    if (arg_db_or_reply(c, &c->argv[2], &dst) != 0) return;
    if (dst == c->db) {
        reply_error(c, "source and destination objects are the same");
        return;
    }
    int rc = ks_move(srv.ks, c->db, dst, K(1));
    if (rc > 0) {
        notify_keyspace_event(NOTIFY_GENERIC, "move_from", K(1), c->db);
        notify_keyspace_event(NOTIFY_GENERIC, "move_to", K(1), dst);
    }
    if (rc < 0) reply_store_error(c, rc);
    else reply_int(c, rc);
}

/* ------------------------------------------------------------------ */
/* KEYS, SCAN, RANDOMKEY                                               */

typedef struct scan_ctx {
    client *c;
    const char *pat;
    size_t patlen;
    int type;
    long long n;
    int allmatch;
} scan_ctx;

static int scan_emit(void *ud, const uint8_t *key, size_t klen, const ks_meta *m) {
    scan_ctx *x = ud;
    if (x->type >= 0 && m->type != x->type) return 0;
    if (!x->allmatch && !glob_match(x->pat, x->patlen, (const char *)key, klen, 0)) return 0;
    reply_bulk(x->c, key, klen);
    x->n++;
    return 0;
}

/* KEYS pattern */
void keys_command(client *c) {
    scan_ctx x = {c, c->argv[1].p, c->argv[1].len, -1, 0, 0};
    x.allmatch = c->argv[1].len == 1 && c->argv[1].p[0] == '*';
    reply_deferred h = reply_defer_len(c);
    uint8_t cur[SCAN_POS_MAX];
    size_t curlen = 0;
    int done = 0;
    while (!done) {
        int rc = ks_scan(srv.ks, c->db, cur, &curlen, sizeof cur, 100000, scan_emit, &x, &done);
        if (rc < 0) break;
    }
    reply_set_deferred_len(c, h, x.n, REPLY_ARRAY);
}

/* Parse "cursor [MATCH p] [COUNT n] [TYPE t]" starting at argv[i]. Shared
 * with the collection SCANs (HSCAN, SSCAN, ZSCAN) through keyspace_cmd.h. */
int scan_parse_args(client *c, int i, uint64_t *cursor, const char **pat, size_t *patlen,
                    long long *count, int *type, int allow_type) {
    /* Redis parses cursors with strtoul: "" is 0, a sign is accepted, a
     * leading space or trailing garbage is not. */
    char tmp[32];
    const arg *a = &c->argv[i];
    if (a->len >= sizeof tmp || (a->len && isspace((unsigned char)a->p[0]))) {
        reply_error(c, "invalid cursor");
        return -1;
    }
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = '\0';
    char *end;
    errno = 0;
    unsigned long long cur = strtoull(tmp, &end, 10);
    if (*end != '\0' || errno == ERANGE || memchr(a->p, '\0', a->len)) {
        reply_error(c, "invalid cursor");
        return -1;
    }
    *cursor = cur;
    *pat = NULL;
    *patlen = 0;
    *count = 10;
    *type = -1;
    for (int j = i + 1; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(&c->argv[j], "COUNT") && more >= 1) {
            if (arg_ll_or_reply(c, &c->argv[++j], count, NULL) != 0) return -1;
            if (*count < 1) {
                reply_error(c, ERR_SYNTAX);
                return -1;
            }
        } else if (arg_is(&c->argv[j], "MATCH") && more >= 1) {
            j++;
            *pat = c->argv[j].p;
            *patlen = c->argv[j].len;
            if (*patlen == 1 && (*pat)[0] == '*') *pat = NULL;
        } else if (allow_type && arg_is(&c->argv[j], "TYPE") && more >= 1) {
            j++;
            *type = type_from_name(&c->argv[j]);
            if (*type < 0) *type = 1000; /* unknown type: matches nothing, like Redis */
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
void scan_command(client *c) {
    uint64_t cursor;
    const char *pat;
    size_t patlen;
    long long count;
    int type;
    if (scan_parse_args(c, 1, &cursor, &pat, &patlen, &count, &type, 1) != 0) return;
    uint8_t pos[SCAN_POS_MAX];
    size_t poslen = 0;
    uint64_t owner = (uint64_t)c->db;
    if (cursor != 0 && scan_cursor_load(cursor, owner, pos, &poslen) != 0) {
        reply_error(c, "invalid cursor");
        return;
    }
    /* The keys are produced before the cursor is known: build them aside. */
    scan_ctx x = {c, pat, patlen, type, 0, pat == NULL};
    buf saved = c->reply;
    c->reply = (buf){0};
    reply_deferred h = reply_defer_len(c);
    int done = 0;
    if (count > 1000000) count = 1000000;
    int rc = ks_scan(srv.ks, c->db, pos, &poslen, sizeof pos, (long)count, scan_emit, &x, &done);
    reply_set_deferred_len(c, h, x.n, REPLY_ARRAY);
    buf keys = c->reply;
    c->reply = saved;
    if (rc < 0) {
        buf_free(&keys);
        reply_store_error(c, rc);
        return;
    }
    uint64_t next = done ? 0 : scan_cursor_save(owner, pos, poslen);
    char tmp[32];
    size_t n = num_ull_to_str(tmp, sizeof tmp, next);
    reply_array_len(c, 2);
    reply_bulk(c, tmp, n);
    reply_raw(c, keys.p, keys.len);
    buf_free(&keys);
}

/* RANDOMKEY */
void randomkey_command(client *c) {
    uint8_t *k;
    size_t kl;
    if (ks_random_key(srv.ks, c->db, &k, &kl) != ST_OK) {
        reply_null(c);
        return;
    }
    reply_bulk(c, k, kl);
    free(k);
}

/* ------------------------------------------------------------------ */
/* OBJECT                                                              */

static int object_lookup(client *c, ks_meta *m) {
    int rc = ks_lookup(srv.ks, c->db, K(2), KS_NONE, m);
    if (rc == ST_OK) return 0;
    reply_null(c);
    return -1;
}

/* OBJECT ENCODING key */
void object_encoding_command(client *c) {
    ks_meta m;
    if (object_lookup(c, &m) != 0) return;
    reply_bulk_cstr(c, object_encoding(&m));
    ks_meta_release(&m);
}

/* OBJECT REFCOUNT key: shared small integers report INT_MAX as in Redis. */
void object_refcount_command(client *c) {
    ks_meta m;
    if (object_lookup(c, &m) != 0) return;
    long long v;
    int shared = m.type == KS_STRING && !(m.flags & KS_F_RAW) && m.vlen <= 20 &&
                 num_parse_ll((const char *)m.val, m.vlen, &v) == 0 && v >= 0 && v < 10000;
    reply_int(c, shared ? INT_MAX : 1);
    ks_meta_release(&m);
}

void object_help_command(client *c) {
    static const char *help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL};
    reply_help(c, "OBJECT", help);
}

/* ------------------------------------------------------------------ */
/* databases                                                           */

/* DBSIZE */
void dbsize_command(client *c) {
    reply_int(c, (long long)ks_dbsize(srv.ks, c->db));
}

static int flush_flags_or_reply(client *c) {
    if (c->argc > 2 || (c->argc == 2 && !arg_is(&c->argv[1], "ASYNC") &&
                        !arg_is(&c->argv[1], "SYNC"))) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* Fallback when no free physical slot exists: delete key by key. */
static int flush_by_keys(int db) {
    uint8_t cur[SCAN_POS_MAX];
    for (;;) {
        size_t curlen = 0;
        uint8_t *k;
        size_t kl;
        (void)cur;
        (void)curlen;
        if (ks_random_key(srv.ks, db, &k, &kl) != ST_OK) break;
        int rc = ks_delete(srv.ks, db, k, kl);
        free(k);
        if (rc < 0) return rc;
    }
    return ST_OK;
}

static int flush_db(int db) {
    int rc = ks_flushdb(srv.ks, db);
    if (rc == ST_NOSPACE) rc = flush_by_keys(db);
    return rc;
}

/* FLUSHDB [ASYNC|SYNC] */
void flushdb_command(client *c) {
    if (flush_flags_or_reply(c) != 0) return;
    int rc = flush_db(c->db);
    if (rc < 0) reply_store_error(c, rc);
    else reply_ok(c);
}

/* FLUSHALL [ASYNC|SYNC] */
void flushall_command(client *c) {
    if (flush_flags_or_reply(c) != 0) return;
    for (int db = 0; db < cfg.databases; db++) {
        int rc = flush_db(db);
        if (rc < 0) {
            reply_store_error(c, rc);
            return;
        }
    }
    reply_ok(c);
}

/* SWAPDB index1 index2 */
void swapdb_command(client *c) {
    int a, b;
    if (arg_int_or_reply(c, &c->argv[1], &a, "invalid first DB index") != 0 ||
        arg_int_or_reply(c, &c->argv[2], &b, "invalid second DB index") != 0)
        return;
    if (a < 0 || a >= cfg.databases || b < 0 || b >= cfg.databases) {
        reply_error(c, ERR_DB_RANGE);
        return;
    }
    int rc = ks_swapdb(srv.ks, a, b);
    if (rc < 0) reply_store_error(c, rc);
    else reply_ok(c);
}

/* OBJECT: only reached with an unknown subcommand. */
void object_command(client *c) {
    container_unknown_subcommand(c);
}

static int policy_is_lfu(void) {
    return cfg.maxmemory_policy == 1 || cfg.maxmemory_policy == 5; /* volatile-lfu, allkeys-lfu */
}

/* OBJECT IDLETIME key: seconds since the last access (not under LFU). */
void object_idletime_command(client *c) {
    int64_t idle;
    if (ks_object_idle(srv.ks, c->db, K(2), &idle) != ST_OK) {
        reply_null(c);
        return;
    }
    if (policy_is_lfu()) {
        reply_error(c, "An LFU maxmemory policy is selected, idle time not tracked. Please note "
                       "that when switching between policies at runtime LRU and LFU data will "
                       "take some time to adjust.");
        return;
    }
    reply_int(c, idle / 1000);
}

/* OBJECT FREQ key: the logarithmic access counter (LFU policies only). */
void object_freq_command(client *c) {
    int freq;
    if (ks_object_freq(srv.ks, c->db, K(2), &freq) != ST_OK) {
        reply_null(c);
        return;
    }
    if (!policy_is_lfu()) {
        reply_error(c, "An LFU maxmemory policy is not selected, access frequency not tracked. "
                       "Please note that when switching between policies at runtime LRU and LFU "
                       "data will take some time to adjust.");
        return;
    }
    reply_int(c, freq);
}
