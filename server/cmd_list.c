/* cmd_list.c — the list family: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP,
 * LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH,
 * LMPOP, the blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (through
 * server/blocking.c), and OBJECT ENCODING for lists.
 *
 * Storage is storage/t_list.c: one `sub` entry per element at dense
 * positions, so pushes, pops, LINDEX and LSET are O(log N) point operations;
 * LRANGE is a seek plus a walk; LINSERT, LREM and LPOS are O(N) scans (as in
 * Redis) and LINSERT/LREM then shift the shorter side of the change.
 *
 * Argument checks come in Redis's order (some commands parse numbers before
 * the key lookup, others after) because the error a client sees depends on
 * it. Blocking commands behave as their non-blocking forms inside
 * MULTI/EXEC and scripts (block_allowed()). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "server/args.h"
#include "server/blocking.h"
#include "server/cmdtable.h"
#include "server/keyspace_cmd.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/keyspace.h"
#include "storage/t_list.h"

#define K(i) c->argv[i].p, c->argv[i].len

const char *list_encoding(const ks_meta *m) {
    (void)m;
    return "quicklist"; /* Redis 7.0 keeps every list in a quicklist */
}

/* 1 found, 0 missing, -1 after replying an error. read: count keyspace
 * hits and misses as Redis's lookupKeyRead does. */
static int open_or_reply(client *c, int i, tl_list *l, int read) {
    return lookup_rc_or_reply(c, tl_open(l, srv.ks, c->db, K(i)), read);
}

static int commit_or_reply(client *c, tl_list *l) {
    int rc = tl_commit(l);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return -1;
    }
    return 0;
}

/* LEFT / RIGHT */
static int where_or_reply(client *c, const arg *a, int *where) {
    if (arg_is(a, "left")) *where = TL_HEAD;
    else if (arg_is(a, "right")) *where = TL_TAIL;
    else {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* The events of a pop from key: lpop/rpop, then del when it emptied it. */
static void notify_pop(client *c, const void *key, size_t klen, int where, const tl_list *l) {
    notify_keyspace_event(NOTIFY_LIST, where == TL_HEAD ? "lpop" : "rpop", key, klen, c->db);
    if (l->m.count == 0) notify_keyspace_event(NOTIFY_GENERIC, "del", key, klen, c->db);
}

/* Reply the element at one end and pop it. */
static int reply_pop(client *c, tl_list *l, int where) {
    const uint8_t *v;
    size_t vlen;
    int rc = tl_get(l, where == TL_HEAD ? 0 : l->m.count - 1, &v, &vlen);
    if (rc == ST_NOTFOUND) rc = ST_CORRUPT;
    if (rc) return rc;
    reply_bulk(c, v, vlen);
    return tl_pop(l, where);
}

/* Pop up to count elements as an array (pop order). */
static int reply_pop_range(client *c, tl_list *l, int where, long long count) {
    long long n = count > (long long)l->m.count ? (long long)l->m.count : count;
    reply_array_len(c, n);
    for (long long i = 0; i < n; i++) {
        int rc = reply_pop(c, l, where);
        if (rc) return rc;
    }
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* pushes                                                              */

static void push_generic(client *c, int where, int xx) {
    tl_list l;
    int r = open_or_reply(c, 1, &l, 0);
    if (r < 0) return;
    if (r == 0) {
        if (xx) {
            reply_int(c, 0);
            return;
        }
        tl_create(&l);
    }
    for (int i = 2; i < c->argc; i++) {
        int rc = tl_push(&l, where, K(i));
        if (rc) {
            tl_commit(&l);
            reply_store_error(c, rc);
            return;
        }
    }
    if (commit_or_reply(c, &l) != 0) return;
    notify_keyspace_event(NOTIFY_LIST, where == TL_HEAD ? "lpush" : "rpush", K(1), c->db);
    reply_int(c, (long long)l.m.count);
}

/* LPUSH key element [element ...] */
void lpush_command(client *c) {
    push_generic(c, TL_HEAD, 0);
}
/* RPUSH key element [element ...] */
void rpush_command(client *c) {
    push_generic(c, TL_TAIL, 0);
}
/* LPUSHX key element [element ...] */
void lpushx_command(client *c) {
    push_generic(c, TL_HEAD, 1);
}
/* RPUSHX key element [element ...] */
void rpushx_command(client *c) {
    push_generic(c, TL_TAIL, 1);
}

/* ------------------------------------------------------------------ */
/* pops                                                                */

static void pop_generic(client *c, int where) {
    long long count = 0;
    int hascount = c->argc == 3;
    if (c->argc > 3) {
        reply_errorf(c, "wrong number of arguments for '%s' command",
                     where == TL_HEAD ? "lpop" : "rpop");
        return;
    }
    if (hascount &&
        arg_range_or_reply(c, &c->argv[2], 0, LLONG_MAX, &count,
                           "value is out of range, must be positive") != 0)
        return;
    tl_list l;
    int r = open_or_reply(c, 1, &l, 0);
    if (r < 0) return;
    if (r == 0) {
        if (hascount) reply_null_array(c);
        else reply_null(c);
        return;
    }
    if (hascount && count == 0) {
        reply_empty_array(c);
        return;
    }
    int rc = hascount ? reply_pop_range(c, &l, where, count) : reply_pop(c, &l, where);
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) reply_store_error(c, rc);
    else notify_pop(c, K(1), where, &l);
}

/* LPOP key [count] */
void lpop_command(client *c) {
    pop_generic(c, TL_HEAD);
}
/* RPOP key [count] */
void rpop_command(client *c) {
    pop_generic(c, TL_TAIL);
}

/* "numkeys key... LEFT|RIGHT [COUNT count]" from argv[idx]. */
static int mpop_args_or_reply(client *c, int idx, long long *numkeys, int *where,
                              long long *count) {
    if (arg_range_or_reply(c, &c->argv[idx], 1, LONG_MAX, numkeys,
                           "numkeys should be greater than 0") != 0)
        return -1;
    long long widx = idx + *numkeys + 1;
    if (widx >= c->argc) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    if (where_or_reply(c, &c->argv[widx], where) != 0) return -1;
    *count = -1;
    for (long long j = widx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - (int)j;
        if (*count == -1 && arg_is(&c->argv[j], "count") && more) {
            j++;
            if (arg_range_or_reply(c, &c->argv[j], 1, LONG_MAX, count,
                                   "count should be greater than 0") != 0)
                return -1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (*count == -1) *count = 1;
    return 0;
}

/* Pop from the first non-empty list among argv[first..first+n-1]:
 * 1 served (replied), 0 none found, -1 replied an error. */
static int mpop_try(client *c, int first, long long n, int where, long long count) {
    for (long long j = 0; j < n; j++) {
        tl_list l;
        int r = open_or_reply(c, first + (int)j, &l, 0);
        if (r < 0) return -1;
        if (r == 0) continue;
        reply_array_len(c, 2);
        reply_bulk(c, K(first + (int)j));
        int rc = reply_pop_range(c, &l, where, count);
        if (rc == ST_OK) rc = tl_commit(&l);
        if (rc) reply_store_error(c, rc);
        else notify_pop(c, K(first + (int)j), where, &l);
        return 1;
    }
    return 0;
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
void lmpop_command(client *c) {
    long long numkeys, count;
    int where;
    if (mpop_args_or_reply(c, 1, &numkeys, &where, &count) != 0) return;
    if (mpop_try(c, 2, numkeys, where, count) == 0) reply_null_array(c);
}

/* LLEN key */
void llen_command(client *c) {
    tl_list l;
    int r = open_or_reply(c, 1, &l, 1);
    if (r < 0) return;
    reply_int(c, r ? (long long)l.m.count : 0);
}

/* ------------------------------------------------------------------ */
/* reads by index                                                      */

/* LRANGE key start stop */
void lrange_command(client *c) {
    long long start, end;
    if (arg_ll_or_reply(c, &c->argv[2], &start, NULL) != 0 ||
        arg_ll_or_reply(c, &c->argv[3], &end, NULL) != 0)
        return;
    tl_list l;
    int r = open_or_reply(c, 1, &l, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_empty_array(c);
        return;
    }
    long long llen = (long long)l.m.count;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        reply_empty_array(c);
        return;
    }
    if (end >= llen) end = llen - 1;
    tl_iter it;
    int rc = tl_iter_open(&l, (uint64_t)start, 0, &it);
    if (rc) {
        reply_store_error(c, rc);
        return;
    }
    reply_array_len(c, end - start + 1);
    for (long long i = start; i <= end; i++) {
        const uint8_t *v;
        size_t vlen;
        uint64_t pos;
        rc = tl_iter_next(&it, &v, &vlen, &pos);
        if (rc) {
            /* Cannot happen on a consistent store; keep the reply well formed. */
            reply_null(c);
            continue;
        }
        reply_bulk(c, v, vlen);
    }
    tl_iter_close(&it);
}

/* LINDEX key index */
void lindex_command(client *c) {
    tl_list l;
    int r = open_or_reply(c, 1, &l, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    long long idx;
    if (arg_ll_or_reply(c, &c->argv[2], &idx, NULL) != 0) return;
    if (idx < 0) idx += (long long)l.m.count;
    const uint8_t *v;
    size_t vlen;
    int rc = idx < 0 ? ST_NOTFOUND : tl_get(&l, (uint64_t)idx, &v, &vlen);
    if (rc == ST_NOTFOUND) reply_null(c);
    else if (rc) reply_store_error(c, rc);
    else reply_bulk(c, v, vlen);
}

/* LSET key index element */
void lset_command(client *c) {
    tl_list l;
    int r = open_or_reply(c, 1, &l, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    long long idx;
    if (arg_ll_or_reply(c, &c->argv[2], &idx, NULL) != 0) return;
    if (idx < 0) idx += (long long)l.m.count;
    if (idx < 0 || idx >= (long long)l.m.count) {
        reply_error(c, "index out of range");
        return;
    }
    int rc = tl_set(&l, (uint64_t)idx, K(3));
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_LIST, "lset", K(1), c->db);
    reply_ok(c);
}

/* ------------------------------------------------------------------ */
/* middle operations (O(N) scans)                                      */

/* LINSERT key BEFORE|AFTER pivot element */
void linsert_command(client *c) {
    int after;
    if (arg_is(&c->argv[2], "after")) after = 1;
    else if (arg_is(&c->argv[2], "before")) after = 0;
    else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    tl_list l;
    int r = open_or_reply(c, 1, &l, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_int(c, 0);
        return;
    }
    tl_iter it;
    int rc = tl_iter_open(&l, 0, 0, &it);
    long long found = -1;
    while (rc == ST_OK) {
        const uint8_t *v;
        size_t vlen;
        uint64_t pos;
        rc = tl_iter_next(&it, &v, &vlen, &pos);
        if (rc) break;
        if (vlen == c->argv[3].len && memcmp(v, c->argv[3].p, vlen) == 0) {
            found = (long long)pos;
            break;
        }
    }
    tl_iter_close(&it);
    if (rc != ST_OK && rc != ST_NOTFOUND) {
        reply_store_error(c, rc);
        return;
    }
    if (found < 0) {
        reply_int(c, -1);
        return;
    }
    rc = tl_insert(&l, (uint64_t)found + (uint64_t)after, K(4));
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_LIST, "linsert", K(1), c->db);
    reply_int(c, (long long)l.m.count);
}

/* LREM key count element */
void lrem_command(client *c) {
    long long count;
    if (arg_ll_or_reply(c, &c->argv[2], &count, NULL) != 0) return;
    tl_list l;
    int r = open_or_reply(c, 1, &l, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_int(c, 0);
        return;
    }
    int reverse = count < 0;
    unsigned long long limit = count == 0 ? ULLONG_MAX
                               : count < 0 ? (unsigned long long)(-(count + 1)) + 1
                                           : (unsigned long long)count;
    uint64_t *pos = NULL;
    size_t n = 0, cap = 0;
    tl_iter it;
    int rc = tl_iter_open(&l, reverse ? l.m.count - 1 : 0, reverse, &it);
    while (rc == ST_OK && n < limit) {
        const uint8_t *v;
        size_t vlen;
        uint64_t p;
        rc = tl_iter_next(&it, &v, &vlen, &p);
        if (rc) break;
        if (vlen == c->argv[3].len && memcmp(v, c->argv[3].p, vlen) == 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                uint64_t *np = realloc(pos, cap * sizeof *np);
                if (!np) abort();
                pos = np;
            }
            pos[n++] = p;
        }
    }
    tl_iter_close(&it);
    if (rc != ST_OK && rc != ST_NOTFOUND) {
        free(pos);
        reply_store_error(c, rc);
        return;
    }
    if (reverse) /* collected from the tail: make them ascending */
        for (size_t i = 0; i < n / 2; i++) {
            uint64_t t = pos[i];
            pos[i] = pos[n - 1 - i];
            pos[n - 1 - i] = t;
        }
    rc = tl_remove_positions(&l, pos, n);
    free(pos);
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) {
        reply_store_error(c, rc);
        return;
    }
    if (n) {
        notify_keyspace_event(NOTIFY_LIST, "lrem", K(1), c->db);
        if (l.m.count == 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
    }
    reply_int(c, (long long)n);
}

/* LTRIM key start stop */
void ltrim_command(client *c) {
    long long start, end;
    if (arg_ll_or_reply(c, &c->argv[2], &start, NULL) != 0 ||
        arg_ll_or_reply(c, &c->argv[3], &end, NULL) != 0)
        return;
    tl_list l;
    int r = open_or_reply(c, 1, &l, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_ok(c);
        return;
    }
    long long llen = (long long)l.m.count;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    int none = start > end || start >= llen;
    if (!none && end >= llen) end = llen - 1;
    int rc = tl_trim(&l, none ? 0 : (uint64_t)start, none ? 0 : (uint64_t)end, none);
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_LIST, "ltrim", K(1), c->db);
    if (l.m.count == 0) notify_keyspace_event(NOTIFY_GENERIC, "del", K(1), c->db);
    reply_ok(c);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
void lpos_command(client *c) {
    long long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "rank") && more) {
            j++;
            if (arg_ll_or_reply(c, &c->argv[j], &rank, NULL) != 0) return;
            if (rank == 0) {
                reply_error(c, "RANK can't be zero: use 1 to start from the first match, 2 from "
                               "the second ... or use negative to start from the end of the list");
                return;
            }
        } else if (arg_is(&c->argv[j], "count") && more) {
            j++;
            if (arg_range_or_reply(c, &c->argv[j], 0, LLONG_MAX, &count,
                                   "COUNT can't be negative") != 0)
                return;
        } else if (arg_is(&c->argv[j], "maxlen") && more) {
            j++;
            if (arg_range_or_reply(c, &c->argv[j], 0, LLONG_MAX, &maxlen,
                                   "MAXLEN can't be negative") != 0)
                return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    int reverse = rank < 0;
    /* Redis 7.0 negates LONG_MIN with a wrap: the rank stays LONG_MIN, every
     * match qualifies and a COUNT limit is never reached. */
    int rank_min = rank == LLONG_MIN;
    if (rank < 0 && !rank_min) rank = -rank;
    tl_list l;
    int r = open_or_reply(c, 1, &l, 1);
    if (r < 0) return;
    if (r == 0) {
        if (count != -1) reply_empty_array(c);
        else reply_null(c);
        return;
    }
    reply_deferred h = 0;
    if (count != -1) h = reply_defer_len(c);
    tl_iter it;
    int rc = tl_iter_open(&l, reverse ? l.m.count - 1 : 0, reverse, &it);
    long long index = 0, matches = 0, arraylen = 0, found = -1;
    const arg *ele = &c->argv[2];
    while (rc == ST_OK && (maxlen == 0 || index < maxlen)) {
        const uint8_t *v;
        size_t vlen;
        uint64_t p;
        rc = tl_iter_next(&it, &v, &vlen, &p);
        if (rc) break;
        if (vlen == ele->len && memcmp(v, ele->p, vlen) == 0) {
            matches++;
            if (matches >= rank) {
                if (count != -1) {
                    reply_int(c, (long long)p);
                    arraylen++;
                    if (count && !rank_min && matches - rank + 1 >= count) break;
                } else {
                    found = (long long)p;
                    break;
                }
            }
        }
        index++;
    }
    tl_iter_close(&it);
    if (count != -1) reply_set_deferred_len(c, h, arraylen, REPLY_ARRAY);
    else if (found >= 0) reply_int(c, found);
    else reply_null(c);
}

/* ------------------------------------------------------------------ */
/* moves                                                               */

/* Move one element from the open, non-empty list s (argv[si]) to argv[di]
 * and reply it. Replies WRONGTYPE (changing nothing) if the destination is
 * not a list. */
static void lmove_do(client *c, tl_list *s, int si, int di, int wherefrom, int whereto) {
    int rc;
    if (c->argv[si].len == c->argv[di].len &&
        memcmp(c->argv[si].p, c->argv[di].p, c->argv[si].len) == 0) {
        /* Same list: the element is rewritten in place of itself, so copy it. */
        const uint8_t *v;
        size_t vlen;
        rc = tl_get(s, wherefrom == TL_HEAD ? 0 : s->m.count - 1, &v, &vlen);
        if (rc == ST_OK) {
            uint8_t *copy = malloc(vlen ? vlen : 1);
            if (!copy) abort();
            memcpy(copy, v, vlen);
            rc = tl_pop(s, wherefrom);
            if (rc == ST_OK) rc = tl_push(s, whereto, copy, vlen);
            if (rc == ST_OK) rc = tl_commit(s);
            if (rc == ST_OK) {
                notify_keyspace_event(NOTIFY_LIST, whereto == TL_HEAD ? "lpush" : "rpush", K(di),
                                      c->db);
                notify_pop(c, K(si), wherefrom, s);
                reply_bulk(c, copy, vlen);
            }
            free(copy);
        }
        if (rc) reply_store_error(c, rc == ST_NOTFOUND ? ST_CORRUPT : rc);
        return;
    }
    tl_list d;
    int r = open_or_reply(c, di, &d, 0);
    if (r < 0) return;
    if (r == 0) tl_create(&d);
    const uint8_t *v;
    size_t vlen;
    rc = tl_get(s, wherefrom == TL_HEAD ? 0 : s->m.count - 1, &v, &vlen);
    if (rc == ST_OK) rc = tl_push(&d, whereto, v, vlen);
    if (rc == ST_OK) rc = tl_commit(&d);
    if (rc == ST_OK) reply_bulk(c, v, vlen); /* v is under another key: still valid */
    if (rc == ST_OK)
        notify_keyspace_event(NOTIFY_LIST, whereto == TL_HEAD ? "lpush" : "rpush", K(di), c->db);
    if (rc == ST_OK) rc = tl_pop(s, wherefrom);
    if (rc == ST_OK) rc = tl_commit(s);
    if (rc) reply_store_error(c, rc == ST_NOTFOUND ? ST_CORRUPT : rc);
    else notify_pop(c, K(si), wherefrom, s);
}

static void lmove_generic(client *c, int wherefrom, int whereto) {
    tl_list s;
    int r = open_or_reply(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_null(c);
        return;
    }
    lmove_do(c, &s, 1, 2, wherefrom, whereto);
}

/* LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
void lmove_command(client *c) {
    int from, to;
    if (where_or_reply(c, &c->argv[3], &from) != 0 || where_or_reply(c, &c->argv[4], &to) != 0)
        return;
    lmove_generic(c, from, to);
}

/* RPOPLPUSH source destination */
void rpoplpush_command(client *c) {
    lmove_generic(c, TL_TAIL, TL_HEAD);
}

/* ------------------------------------------------------------------ */
/* blocking forms                                                      */

/* Redis replies a null array to every timed-out list block, BLMOVE's too
 * (whose non-blocking form replies a null bulk). */
static void timeout_null_array(client *c) {
    reply_null_array(c);
}

/* Serve one element of key to a blocked BLPOP/BRPOP. */
static int serve_pop(client *c, const uint8_t *key, size_t klen, int where) {
    tl_list l;
    if (tl_open(&l, srv.ks, c->db, key, klen) != ST_OK) return 0;
    reply_array_len(c, 2);
    reply_bulk(c, key, klen);
    int rc = reply_pop(c, &l, where);
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) reply_store_error(c, rc);
    else notify_pop(c, key, klen, where, &l);
    return 1;
}
static int serve_blpop(client *c, const uint8_t *key, size_t klen) {
    return serve_pop(c, key, klen, TL_HEAD);
}
static int serve_brpop(client *c, const uint8_t *key, size_t klen) {
    return serve_pop(c, key, klen, TL_TAIL);
}
static const block_ops blpop_ops = {serve_blpop, timeout_null_array};
static const block_ops brpop_ops = {serve_brpop, timeout_null_array};

static void bpop_generic(client *c, int where) {
    int64_t deadline;
    if (block_parse_timeout_or_reply(c, &c->argv[c->argc - 1], &deadline) != 0) return;
    int nkeys = c->argc - 2;
    for (int j = 1; j <= nkeys; j++) {
        tl_list l;
        int r = open_or_reply(c, j, &l, 0);
        if (r < 0) return;
        if (r == 0) continue;
        reply_array_len(c, 2);
        reply_bulk(c, K(j));
        int rc = reply_pop(c, &l, where);
        if (rc == ST_OK) rc = tl_commit(&l);
        if (rc) reply_store_error(c, rc);
        else notify_pop(c, K(j), where, &l);
        return;
    }
    if (!block_allowed(c)) {
        reply_null_array(c);
        return;
    }
    int *idx = malloc(sizeof(int) * (size_t)nkeys);
    if (!idx) abort();
    for (int j = 0; j < nkeys; j++) idx[j] = j + 1;
    block_on_keys(c, idx, nkeys, deadline, where == TL_HEAD ? &blpop_ops : &brpop_ops);
    free(idx);
}

/* BLPOP key [key ...] timeout */
void blpop_command(client *c) {
    bpop_generic(c, TL_HEAD);
}
/* BRPOP key [key ...] timeout */
void brpop_command(client *c) {
    bpop_generic(c, TL_TAIL);
}

static int serve_blmpop(client *c, const uint8_t *key, size_t klen) {
    long long numkeys, count;
    int where;
    if (mpop_args_or_reply(c, 2, &numkeys, &where, &count) != 0) return 1;
    tl_list l;
    if (tl_open(&l, srv.ks, c->db, key, klen) != ST_OK) return 0;
    reply_array_len(c, 2);
    reply_bulk(c, key, klen);
    int rc = reply_pop_range(c, &l, where, count);
    if (rc == ST_OK) rc = tl_commit(&l);
    if (rc) reply_store_error(c, rc);
    else notify_pop(c, key, klen, where, &l);
    return 1;
}
static const block_ops blmpop_ops = {serve_blmpop, timeout_null_array};

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
void blmpop_command(client *c) {
    long long numkeys, count;
    int where;
    if (mpop_args_or_reply(c, 2, &numkeys, &where, &count) != 0) return;
    int64_t deadline;
    if (block_parse_timeout_or_reply(c, &c->argv[1], &deadline) != 0) return;
    int r = mpop_try(c, 3, numkeys, where, count);
    if (r != 0) return;
    if (!block_allowed(c)) {
        reply_null_array(c);
        return;
    }
    int *idx = malloc(sizeof(int) * (size_t)numkeys);
    if (!idx) abort();
    for (long long j = 0; j < numkeys; j++) idx[j] = 3 + (int)j;
    block_on_keys(c, idx, (int)numkeys, deadline, &blmpop_ops);
    free(idx);
}

/* BLMOVE and BRPOPLPUSH: argv[0] tells which. */
static void bmove_dirs(client *c, int *from, int *to) {
    if (c->argc == 6) {
        where_or_reply(c, &c->argv[3], from);
        where_or_reply(c, &c->argv[4], to);
    } else {
        *from = TL_TAIL;
        *to = TL_HEAD;
    }
}

static int serve_bmove(client *c, const uint8_t *key, size_t klen) {
    (void)key;
    (void)klen;
    tl_list s;
    if (tl_open(&s, srv.ks, c->db, K(1)) != ST_OK) return 0;
    int from = TL_TAIL, to = TL_HEAD;
    bmove_dirs(c, &from, &to);
    lmove_do(c, &s, 1, 2, from, to);
    return 1;
}
static const block_ops bmove_ops = {serve_bmove, timeout_null_array};

static void bmove_generic(client *c, int from, int to, int64_t deadline) {
    tl_list s;
    int r = open_or_reply(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 1) {
        lmove_do(c, &s, 1, 2, from, to);
        return;
    }
    if (!block_allowed(c)) {
        reply_null(c);
        return;
    }
    int idx = 1;
    block_on_keys(c, &idx, 1, deadline, &bmove_ops);
}

/* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
void blmove_command(client *c) {
    int from, to;
    if (where_or_reply(c, &c->argv[3], &from) != 0 || where_or_reply(c, &c->argv[4], &to) != 0)
        return;
    int64_t deadline;
    if (block_parse_timeout_or_reply(c, &c->argv[5], &deadline) != 0) return;
    bmove_generic(c, from, to, deadline);
}

/* BRPOPLPUSH source destination timeout */
void brpoplpush_command(client *c) {
    int64_t deadline;
    if (block_parse_timeout_or_reply(c, &c->argv[3], &deadline) != 0) return;
    bmove_generic(c, TL_TAIL, TL_HEAD, deadline);
}
