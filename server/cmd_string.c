/* cmd_string.c — the string family: SET and its variants, GET variants,
 * counters, ranges, APPEND and LCS.
 *
 * A string lives inline in its key's meta record (storage/keyspace.c), so
 * GET is one lookup and SET one put. Values read through ks_lookup are
 * borrowed: every command copies what it needs before writing. Writes keep
 * or reset the TTL exactly as Redis does (INCR, APPEND, SETRANGE keep it;
 * SET, GETSET drop it unless KEEPTTL). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/lcs.h"
#include "storage/num.h"

#define K(i) c->argv[i].p, c->argv[i].len

static int check_len_or_reply(client *c, long long size) {
    if (size > (long long)cfg.proto_max_bulk_len) {
        reply_error(c, ERR_STR_TOO_BIG);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* SET family                                                          */

#define F_NX      (1 << 0)
#define F_XX      (1 << 1)
#define F_EX      (1 << 2)
#define F_PX      (1 << 3)
#define F_KEEPTTL (1 << 4)
#define F_GET     (1 << 5)
#define F_EXAT    (1 << 6)
#define F_PXAT    (1 << 7)
#define F_PERSIST (1 << 8)
#define F_ANY_EXPIRE (F_EX | F_PX | F_EXAT | F_PXAT)

/* Parse SET/GETEX options from argv[from], like Redis: an option may repeat
 * (the last value wins) but may not meet a conflicting one, and only the
 * final expire value is validated, by expire_to_ms_or_reply. */
static int parse_set_options(client *c, int from, int getex, int *flags, const arg **expire) {
    int f = 0;
    *expire = NULL;
    for (int j = from; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        int has_next = j + 1 < c->argc;
        if (!getex && arg_is(a, "NX") && !(f & F_XX)) f |= F_NX;
        else if (!getex && arg_is(a, "XX") && !(f & F_NX)) f |= F_XX;
        else if (!getex && arg_is(a, "GET")) f |= F_GET;
        else if (!getex && arg_is(a, "KEEPTTL") && !(f & (F_ANY_EXPIRE | F_PERSIST)))
            f |= F_KEEPTTL;
        else if (getex && arg_is(a, "PERSIST") && !(f & F_ANY_EXPIRE)) f |= F_PERSIST;
        else if (arg_is(a, "EX") && !(f & (F_KEEPTTL | F_PERSIST | (F_ANY_EXPIRE & ~F_EX))) &&
                 has_next) {
            f |= F_EX;
            *expire = &c->argv[++j];
        } else if (arg_is(a, "PX") && !(f & (F_KEEPTTL | F_PERSIST | (F_ANY_EXPIRE & ~F_PX))) &&
                   has_next) {
            f |= F_PX;
            *expire = &c->argv[++j];
        } else if (arg_is(a, "EXAT") &&
                   !(f & (F_KEEPTTL | F_PERSIST | (F_ANY_EXPIRE & ~F_EXAT))) && has_next) {
            f |= F_EXAT;
            *expire = &c->argv[++j];
        } else if (arg_is(a, "PXAT") &&
                   !(f & (F_KEEPTTL | F_PERSIST | (F_ANY_EXPIRE & ~F_PXAT))) && has_next) {
            f |= F_PXAT;
            *expire = &c->argv[++j];
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    *flags = f;
    return 0;
}

/* The absolute expire time (unix ms) for the parsed option. */
static int expire_to_ms_or_reply(client *c, int f, const arg *expire, int64_t *when,
                                 const char *cmdname) {
    *when = 0;
    if (!expire) return 0;
    long long v;
    if (arg_ll_or_reply(c, expire, &v, NULL) != 0) return -1;
    if (v <= 0 || ((f & (F_EX | F_EXAT)) && v > LLONG_MAX / 1000)) {
        reply_errorf(c, "invalid expire time in '%s' command", cmdname);
        return -1;
    }
    if (f & (F_EX | F_EXAT)) v *= 1000;
    if (f & (F_EX | F_PX)) {
        int64_t now = ks_now(srv.ks);
        if (v > LLONG_MAX - now) {
            reply_errorf(c, "invalid expire time in '%s' command", cmdname);
            return -1;
        }
        v += now;
    }
    *when = v;
    return 0;
}

/* The shared body of SET, SETNX, SETEX, PSETEX, GETSET. */
static void set_generic(client *c, int flags, int64_t when, const arg *key, const arg *val,
                        int reply_int_result) {
    ks_meta old;
    int found = 0;
    char *oldcopy = NULL;
    size_t oldlen = 0;
    if (flags & (F_NX | F_XX | F_GET | F_KEEPTTL)) {
        int rc = ks_lookup(srv.ks, c->db, key->p, key->len,
                           (flags & F_GET) ? KS_STRING : KS_NONE, &old);
        if (rc == ST_WRONGTYPE) {
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        if (rc != ST_OK && rc != ST_NOTFOUND) {
            reply_store_error(c, rc);
            return;
        }
        found = rc == ST_OK;
        if (found && (flags & F_GET)) {
            oldcopy = malloc(old.vlen ? old.vlen : 1);
            memcpy(oldcopy, old.val, old.vlen);
            oldlen = old.vlen;
        }
        if (found) ks_meta_release(&old);
    }
    if ((flags & F_NX && found) || (flags & F_XX && !found)) {
        if (flags & F_GET) {
            if (found) reply_bulk(c, oldcopy, oldlen);
            else reply_null(c);
        } else if (reply_int_result) {
            reply_int(c, 0);
        } else {
            reply_null(c);
        }
        free(oldcopy);
        return;
    }
    int rc = ks_set_string(srv.ks, c->db, key->p, key->len, val->p, val->len, when,
                           (flags & F_KEEPTTL) != 0, 0);
    if (rc != ST_OK) {
        free(oldcopy);
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STRING, "set", key->p, key->len, c->db);
    if (when) notify_keyspace_event(NOTIFY_GENERIC, "expire", key->p, key->len, c->db);
    if (flags & F_GET) {
        if (found) reply_bulk(c, oldcopy, oldlen);
        else reply_null(c);
    } else if (reply_int_result) {
        reply_int(c, 1);
    } else {
        reply_ok(c);
    }
    free(oldcopy);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL] */
void set_command(client *c) {
    int flags;
    int64_t when;
    const arg *expire;
    if (parse_set_options(c, 3, 0, &flags, &expire) != 0) return;
    if (expire_to_ms_or_reply(c, flags, expire, &when, "set") != 0) return;
    set_generic(c, flags, when, &c->argv[1], &c->argv[2], 0);
}

/* SETNX key value */
void setnx_command(client *c) {
    set_generic(c, F_NX, 0, &c->argv[1], &c->argv[2], 1);
}

static void setex_generic(client *c, int ms, const char *name) {
    long long v;
    if (arg_ll_or_reply(c, &c->argv[2], &v, NULL) != 0) return;
    if (v <= 0 || (!ms && v > LLONG_MAX / 1000)) {
        reply_errorf(c, "invalid expire time in '%s' command", name);
        return;
    }
    if (!ms) v *= 1000;
    int64_t now = ks_now(srv.ks);
    if (v > LLONG_MAX - now) {
        reply_errorf(c, "invalid expire time in '%s' command", name);
        return;
    }
    set_generic(c, 0, now + v, &c->argv[1], &c->argv[3], 0);
}

/* SETEX key seconds value */
void setex_command(client *c) {
    setex_generic(c, 0, "setex");
}

/* PSETEX key milliseconds value */
void psetex_command(client *c) {
    setex_generic(c, 1, "psetex");
}

/* GETSET key value */
void getset_command(client *c) {
    set_generic(c, F_GET, 0, &c->argv[1], &c->argv[2], 0);
}

/* GET key */
void get_command(client *c) {
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    reply_bulk(c, m.val, m.vlen);
    ks_meta_release(&m);
}

/* GETDEL key */
void getdel_command(client *c) {
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    reply_bulk(c, m.val, m.vlen);
    ks_meta_release(&m);
    int rc = ks_delete(srv.ks, c->db, K(1));
    if (rc < 0) server_log(3, "GETDEL: delete failed: %s", store_strerror(rc));
    else notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
}

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ts|PERSIST] */
void getex_command(client *c) {
    int flags;
    int64_t when;
    const arg *expire;
    if (parse_set_options(c, 2, 1, &flags, &expire) != 0) return;
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    /* Redis validates the time only once the key is known to exist. */
    if (expire_to_ms_or_reply(c, flags, expire, &when, "getex") != 0) {
        ks_meta_release(&m);
        return;
    }
    reply_bulk(c, m.val, m.vlen);
    int64_t old_expire = m.expire;
    ks_meta_release(&m);
    int rc = ST_OK;
    const char *event = NULL;
    if (flags & F_ANY_EXPIRE) {
        if (when <= ks_now(srv.ks)) rc = ks_delete(srv.ks, c->db, K(1)), event = "del";
        else rc = ks_set_expire(srv.ks, c->db, K(1), when), event = "expire";
    } else if ((flags & F_PERSIST) && old_expire) {
        rc = ks_set_expire(srv.ks, c->db, K(1), 0);
        event = "persist";
    }
    if (rc >= 0 && event) notify_keyspace_event(NOTIFY_GENERIC, event, K(1), c->db);
    if (rc < 0) server_log(3, "GETEX: %s", store_strerror(rc));
}

/* MGET key [key ...] */
void mget_command(client *c) {
    reply_array_len(c, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        ks_meta m;
        int rc = ks_lookup(srv.ks, c->db, K(i), KS_STRING, &m);
        if (rc == ST_OK) {
            srv.stat_keyspace_hits++;
            reply_bulk(c, m.val, m.vlen);
            ks_meta_release(&m);
        } else {
            if (rc == ST_NOTFOUND) srv.stat_keyspace_misses++;
            reply_null(c);
        }
    }
}

static void mset_generic(client *c, int nx) {
    if ((c->argc % 2) == 0) {
        reply_errorf(c, "wrong number of arguments for '%s' command", nx ? "msetnx" : "mset");
        return;
    }
    if (nx) {
        for (int i = 1; i < c->argc; i += 2) {
            ks_meta m;
            int rc = ks_lookup(srv.ks, c->db, K(i), KS_NONE, &m);
            if (rc == ST_OK) {
                ks_meta_release(&m);
                reply_int(c, 0);
                return;
            }
        }
    }
    for (int i = 1; i < c->argc; i += 2) {
        int rc = ks_set_string(srv.ks, c->db, K(i), K(i + 1), 0, 0, 0);
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            return;
        }
        notify_keyspace_event(NOTIFY_STRING, "set", K(i), c->db);
    }
    if (nx) reply_int(c, 1);
    else reply_ok(c);
}

/* MSET key value [key value ...] */
void mset_command(client *c) {
    mset_generic(c, 0);
}

/* MSETNX key value [key value ...] */
void msetnx_command(client *c) {
    mset_generic(c, 1);
}

/* ------------------------------------------------------------------ */
/* counters                                                            */

static void incr_generic(client *c, long long by) {
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    long long v = 0;
    if (r == 1) {
        int bad = m.vlen > 20 || num_parse_ll((const char *)m.val, m.vlen, &v) != 0;
        ks_meta_release(&m);
        if (bad) {
            reply_error(c, ERR_NOT_INT);
            return;
        }
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    v += by;
    char tmp[32];
    size_t n = num_ll_to_str(tmp, sizeof tmp, v);
    int rc = ks_set_string(srv.ks, c->db, K(1), tmp, n, 0, 1, 0);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STRING, "incrby", K(1), c->db);
    reply_int(c, v);
}

/* INCR key */
void incr_command(client *c) {
    incr_generic(c, 1);
}

/* DECR key */
void decr_command(client *c) {
    incr_generic(c, -1);
}

/* INCRBY key increment */
void incrby_command(client *c) {
    long long by;
    if (arg_ll_or_reply(c, &c->argv[2], &by, NULL) != 0) return;
    incr_generic(c, by);
}

/* DECRBY key decrement */
void decrby_command(client *c) {
    long long by;
    if (arg_ll_or_reply(c, &c->argv[2], &by, NULL) != 0) return;
    if (by == LLONG_MIN) {
        reply_error(c, "decrement would overflow");
        return;
    }
    incr_generic(c, -by);
}

/* INCRBYFLOAT key increment */
void incrbyfloat_command(client *c) {
    /* Redis's order: the key's type, then its value, then the increment. */
    long double by, v = 0;
    ks_meta m;
    int r = ks_lookup(srv.ks, c->db, K(1), KS_STRING, &m);
    if (r != ST_OK && r != ST_NOTFOUND) {
        reply_store_error(c, r);
        return;
    }
    if (r == ST_OK) {
        int bad = num_parse_long_double((const char *)m.val, m.vlen, &v) != 0;
        ks_meta_release(&m);
        if (bad) {
            reply_error(c, ERR_NOT_FLOAT);
            return;
        }
    }
    if (num_parse_long_double(c->argv[2].p, c->argv[2].len, &by) != 0) {
        reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        reply_error(c, "increment would produce NaN or Infinity");
        return;
    }
    char tmp[NUM_LONG_DOUBLE_STR_SIZE];
    size_t n = num_long_double_to_str(tmp, sizeof tmp, v, NUM_LD_HUMAN);
    int rc = ks_set_string(srv.ks, c->db, K(1), tmp, n, 0, 1, KS_F_NOINT);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STRING, "incrbyfloat", K(1), c->db);
    reply_bulk(c, tmp, n);
}

/* ------------------------------------------------------------------ */
/* ranges, APPEND, STRLEN                                              */

/* APPEND key value */
void append_command(client *c) {
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    size_t oldlen = r ? m.vlen : 0;
    if (check_len_or_reply(c, (long long)(oldlen + c->argv[2].len)) != 0) {
        if (r) ks_meta_release(&m);
        return;
    }
    size_t n = oldlen + c->argv[2].len;
    char *nv = malloc(n ? n : 1);
    if (r) memcpy(nv, m.val, oldlen);
    memcpy(nv + oldlen, c->argv[2].p, c->argv[2].len);
    if (r) ks_meta_release(&m);
    int rc = ks_set_string(srv.ks, c->db, K(1), nv, n, 0, 1, r ? KS_F_RAW : 0);
    free(nv);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STRING, "append", K(1), c->db);
    reply_int(c, (long long)n);
}

/* STRLEN key */
void strlen_command(client *c) {
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    reply_int(c, r ? (long long)m.vlen : 0);
    if (r) ks_meta_release(&m);
}

/* GETRANGE key start end */
void getrange_command(client *c) {
    long long start, end;
    if (arg_ll_or_reply(c, &c->argv[2], &start, NULL) != 0 ||
        arg_ll_or_reply(c, &c->argv[3], &end, NULL) != 0)
        return;
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    if (r == 0) {
        reply_bulk(c, "", 0);
        return;
    }
    long long len = (long long)m.vlen;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        ks_meta_release(&m);
        return;
    }
    if (start < 0) start = len + start;
    if (end < 0) end = len + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len == 0) reply_bulk(c, "", 0);
    else reply_bulk(c, m.val + start, (size_t)(end - start + 1));
    ks_meta_release(&m);
}

/* SUBSTR key start end */
void substr_command(client *c) {
    getrange_command(c);
}

/* SETRANGE key offset value */
void setrange_command(client *c) {
    long long off;
    if (arg_ll_or_reply(c, &c->argv[2], &off, NULL) != 0) return;
    if (off < 0) {
        reply_error(c, "offset is out of range");
        return;
    }
    ks_meta m;
    int r = lookup_read_or_reply(c, 1, KS_STRING, &m);
    if (r < 0) return;
    size_t vlen = c->argv[3].len;
    size_t oldlen = r ? m.vlen : 0;
    if (vlen == 0) {
        reply_int(c, (long long)oldlen);
        if (r) ks_meta_release(&m);
        return;
    }
    if (off > (long long)cfg.proto_max_bulk_len - (long long)vlen) {
        reply_error(c, ERR_STR_TOO_BIG);
        if (r) ks_meta_release(&m);
        return;
    }
    if (check_len_or_reply(c, off + (long long)vlen) != 0) {
        if (r) ks_meta_release(&m);
        return;
    }
    size_t n = (size_t)off + vlen > oldlen ? (size_t)off + vlen : oldlen;
    char *nv = calloc(1, n);
    if (!nv) {
        if (r) ks_meta_release(&m);
        reply_store_error(c, ST_NOMEM);
        return;
    }
    if (r) memcpy(nv, m.val, oldlen);
    memcpy(nv + off, c->argv[3].p, vlen);
    if (r) ks_meta_release(&m);
    int rc = ks_set_string(srv.ks, c->db, K(1), nv, n, 0, 1, KS_F_RAW);
    free(nv);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STRING, "setrange", K(1), c->db);
    reply_int(c, (long long)n);
}

/* ------------------------------------------------------------------ */
/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]          */

static char *copy_string_for_lcs(client *c, int i, size_t *len, int *err) {
    ks_meta m;
    int rc = ks_lookup(srv.ks, c->db, K(i), KS_NONE, &m);
    *len = 0;
    *err = 0;
    if (rc == ST_NOTFOUND) return calloc(1, 1);
    if (rc != ST_OK) {
        *err = 1;
        reply_store_error(c, rc);
        return NULL;
    }
    if (m.type != KS_STRING) {
        *err = 1;
        ks_meta_release(&m);
        reply_error(c, "The specified keys must contain string values");
        return NULL;
    }
    char *p = malloc(m.vlen ? m.vlen : 1);
    memcpy(p, m.val, m.vlen);
    *len = m.vlen;
    ks_meta_release(&m);
    return p;
}

void lcs_command(client *c) {
    /* Redis checks both keys' types before it reads the options. */
    for (int i = 1; i <= 2; i++) {
        ks_meta m;
        int rc = ks_lookup(srv.ks, c->db, K(i), KS_NONE, &m);
        if (rc == ST_OK) {
            int wrong = m.type != KS_STRING;
            ks_meta_release(&m);
            if (wrong) {
                reply_error(c, "The specified keys must contain string values");
                return;
            }
        }
    }
    int getlen = 0, getidx = 0, withlen = 0;
    long long minlen = 0;
    for (int j = 3; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        if (arg_is(a, "IDX")) getidx = 1;
        else if (arg_is(a, "LEN")) getlen = 1;
        else if (arg_is(a, "WITHMATCHLEN")) withlen = 1;
        else if (arg_is(a, "MINMATCHLEN") && j + 1 < c->argc) {
            if (arg_ll_or_reply(c, &c->argv[++j], &minlen, NULL) != 0) return;
            if (minlen < 0) minlen = 0;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (getidx && getlen) {
        reply_error(c, "If you want both the length and indexes, please just use IDX.");
        return;
    }
    size_t alen, blen;
    int err;
    char *a = copy_string_for_lcs(c, 1, &alen, &err);
    if (err) return;
    char *b = copy_string_for_lcs(c, 2, &blen, &err);
    if (err) {
        free(a);
        return;
    }
    struct lcs_result res;
    int flags = getidx ? LCS_WANT_MATCHES : (getlen ? 0 : LCS_WANT_STR);
    int rc = lcs_compute(a, alen, b, blen, (size_t)cfg.proto_max_bulk_len, flags,
                         (size_t)minlen, &res);
    free(a);
    free(b);
    if (rc == LCS_ETOOLONG) {
        reply_error(c, "String too long for LCS");
        return;
    }
    if (rc == LCS_ETABLE) {
        reply_error(c, "Insufficient memory, transient memory for LCS exceeds "
                       "proto-max-bulk-len");
        return;
    }
    if (rc != LCS_OK) {
        reply_error(c, "Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    if (getidx) {
        reply_map_len(c, 2);
        reply_bulk(c, "matches", 7);
        reply_array_len(c, (long long)res.nmatches);
        for (size_t i = 0; i < res.nmatches; i++) {
            const struct lcs_match *mt = &res.matches[i];
            reply_array_len(c, withlen ? 3 : 2);
            reply_array_len(c, 2);
            reply_int(c, mt->a_start);
            reply_int(c, mt->a_end);
            reply_array_len(c, 2);
            reply_int(c, mt->b_start);
            reply_int(c, mt->b_end);
            if (withlen) reply_int(c, (long long)mt->a_end - mt->a_start + 1);
        }
        reply_bulk(c, "len", 3);
        reply_int(c, res.len);
    } else if (getlen) {
        reply_int(c, res.len);
    } else {
        reply_bulk(c, res.str, res.len);
    }
    lcs_free(&res);
}
