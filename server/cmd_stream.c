/* cmd_stream.c — the stream family: XADD, XLEN, XRANGE, XREVRANGE, XDEL,
 * XTRIM, XREAD, XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER,
 * DELCONSUMER, HELP), XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
 * XINFO (STREAM, GROUPS, CONSUMERS, HELP), XSETID, and OBJECT ENCODING's
 * answer for streams.
 *
 * Storage is storage/t_stream.c: one `sub` entry per stream entry, group,
 * consumer and pending entry, so every point operation is O(log N) and a
 * range is a cursor walk. The stream header (last ID, entries added, max
 * deleted ID, first ID, group count) lives in the meta record, the length
 * in its count. IDs, counters, lag and entries-read follow Redis 7.0's
 * rules exactly.
 *
 * BLOCK goes through server/blocking.c; a blocked reader is served by
 * xread_serve() with Redis's rules for blocked readers. Approximate trimming (`~`) trims exactly, capped
 * by LIMIT: Redis removes whole listpack nodes only, a layout lodis does
 * not have; both are allowed by the documented contract ("at least N"). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/args.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/keyspace_cmd.h"
#include "server/notify.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/endian.h"
#include "storage/keyspace.h"
#include "storage/num.h"
#include "storage/t_hash.h"
#include "storage/t_stream.h"

#define K(i) c->argv[i].p, c->argv[i].len

#define ARGP(i) c->argv[i].p, c->argv[i].len

static const strm_id ID_MIN = {0, 0};
static const strm_id ID_MAX = {UINT64_MAX, UINT64_MAX};

const char *stream_encoding(const ks_meta *m) {
    (void)m;
    return "stream";
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* An open stream for one command. */
typedef struct xs {
    int db;
    const void *key;
    size_t klen;
    uint64_t id;
    uint64_t count;
    int64_t expire;
    strm_hdr h;
} xs;

static int id_zero(strm_id a) {
    return a.ms == 0 && a.seq == 0;
}

/* Look the stream at argv[i] up. read: count keyspace hits and misses.
 * Returns 1 found, 0 missing, -1 after replying (WRONGTYPE, storage). */
static int xs_open(client *c, int i, xs *s, int read) {
    ks_meta m;
    memset(s, 0, sizeof *s);
    s->db = c->db;
    s->key = c->argv[i].p;
    s->klen = c->argv[i].len;
    int r;
    if (read) {
        r = lookup_read_or_reply(c, i, KS_STREAM, &m);
        if (r <= 0) return r;
    } else {
        int rc = ks_lookup(srv.ks, c->db, ARGP(i), KS_STREAM, &m);
        if (rc == ST_NOTFOUND) return 0;
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            return -1;
        }
    }
    s->id = m.id;
    s->count = m.count;
    s->expire = m.expire;
    strm_hdr_decode(m.hdr, m.hdrlen, &s->h);
    ks_meta_release(&m);
    return 1;
}

/* A new empty stream (written by xs_save). */
static void xs_create(client *c, int i, xs *s) {
    memset(s, 0, sizeof *s);
    s->db = c->db;
    s->key = c->argv[i].p;
    s->klen = c->argv[i].len;
    s->id = ks_new_id(srv.ks);
}

static int xs_save(xs *s) {
    uint8_t hdr[STRM_HDR_LEN];
    strm_hdr_encode(&s->h, hdr);
    ks_meta m;
    memset(&m, 0, sizeof m);
    m.type = KS_STREAM;
    m.id = s->id;
    m.count = s->count;
    m.expire = s->expire;
    m.hdr = hdr;
    m.hdrlen = STRM_HDR_LEN;
    return ks_write_meta(srv.ks, s->db, s->key, s->klen, &m);
}

static void xs_touch(xs *s) {
    ks_notify_write(srv.ks, s->db, s->key, s->klen);
}

static void reply_id(client *c, strm_id id) {
    char idbuf[48];
    size_t n = strm_id_format(id, idbuf);
    reply_bulk(c, idbuf, n);
}

static void reply_entry(client *c, strm_id id, const uint8_t *v, size_t vl) {
    reply_array_len(c, 2);
    reply_id(c, id);
    reply_array_len(c, (long long)strm_fields_count(v, vl));
    size_t off = 0, l;
    const uint8_t *p;
    while (strm_fields_next(v, vl, &off, &p, &l) == ST_OK) reply_bulk(c, p, l);
}

#define ERR_BAD_ID "Invalid stream ID specified as stream command argument"

/* Redis's streamParseIDOrReply (strict = 0) / streamParseStrictIDOrReply. */
static int id_or_reply(client *c, int i, strm_id *id, uint64_t missing_seq, int strict,
                       int *seq_given) {
    if (strm_id_parse(ARGP(i), id, missing_seq, strict, seq_given) == 0) return 0;
    if (c) reply_error(c, ERR_BAD_ID);
    return -1;
}

/* An interval bound: "(" makes it exclusive (and the rest strict). */
static int interval_or_reply(client *c, int i, strm_id *id, int *excl, uint64_t missing_seq) {
    const char *p = c->argv[i].p;
    size_t len = c->argv[i].len;
    *excl = len > 1 && p[0] == '(';
    int rc = *excl ? strm_id_parse(p + 1, len - 1, id, missing_seq, 1, NULL)
                   : strm_id_parse(p, len, id, missing_seq, 0, NULL);
    if (rc == 0) return 0;
    reply_error(c, ERR_BAD_ID);
    return -1;
}

/* Redis prints names in errors with %s: stop at a NUL byte. */
static int cstr_len(const arg *a) {
    const char *z = memchr(a->p, '\0', a->len);
    size_t n = z ? (size_t)(z - (const char *)a->p) : a->len;
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* The last entry actually present (Redis's streamLastValidID). */
static int last_valid_id(xs *s, strm_id *out) {
    strm_iter it;
    const uint8_t *v;
    size_t vl;
    if (strm_iter_open(&it, srv.st, s->id, ID_MIN, ID_MAX, 1) != ST_OK) return -1;
    int rc = strm_iter_next(&it, out, &v, &vl);
    strm_iter_close(&it);
    return rc == ST_OK ? 0 : -1;
}

/* The first entry at or after from. Callers pass the header's first ID (or
 * a later point they know nothing lives before): entries deleted before it
 * may still be tombstones in the memtable, and a walk from 0-0 would step
 * over every one of them (a capped stream trimmed on each XADD would pay
 * for all its trims since the last checkpoint, each time). */
static int first_valid_id(xs *s, strm_id from, strm_id *out) {
    strm_iter it;
    const uint8_t *v;
    size_t vl;
    if (strm_iter_open(&it, srv.st, s->id, from, ID_MAX, 0) != ST_OK) return -1;
    int rc = strm_iter_next(&it, out, &v, &vl);
    strm_iter_close(&it);
    return rc == ST_OK ? 0 : -1;
}

/* Recompute the header's first ID; no entry lives before from. */
static void refresh_first(xs *s, strm_id from) {
    if (s->count == 0 || first_valid_id(s, from, &s->h.first) != 0) s->h.first = ID_MIN;
}

/* Reply with up to count (0 = all) entries in [start, end]; returns how
 * many were sent. */
static long long reply_range(client *c, xs *s, strm_id start, strm_id end, long long count, int rev) {
    strm_iter it;
    strm_id id;
    const uint8_t *v;
    size_t vl;
    reply_deferred d = reply_defer_len(c);
    long long n = 0;
    /* Nothing lives below the first entry: do not walk over the tombstones
     * of trimmed entries (see first_valid_id). */
    if (s->count && strm_id_cmp(start, s->h.first) < 0) start = s->h.first;
    if (strm_iter_open(&it, srv.st, s->id, start, end, rev) == ST_OK) {
        while ((!count || n < count) && strm_iter_next(&it, &id, &v, &vl) == ST_OK) {
            reply_entry(c, id, v, vl);
            n++;
        }
        strm_iter_close(&it);
    }
    reply_set_deferred_len(c, d, n, REPLY_ARRAY);
    return n;
}

/* ------------------------------------------------------------------ */
/* trimming                                                            */

enum { TRIM_NONE = 0, TRIM_MAXLEN, TRIM_MINID };

typedef struct trim_args {
    int strategy;
    int approx;
    long long maxlen;
    strm_id minid;
    long long limit;
    /* XADD only */
    int nomkstream;
    int id_given, seq_given;
    strm_id id;
} trim_args;

/* Redis's streamParseAddOrTrimArgsOrReply: returns the index of the ID
 * (XADD) or argc, or -1 after replying. */
static int parse_add_trim(client *c, trim_args *a, int xadd) {
    memset(a, 0, sizeof *a);
    int i = 2, limit_given = 0;
    for (; i < c->argc; i++) {
        int more = c->argc - 1 - i;
        const arg *o = &c->argv[i];
        if (xadd && o->len == 1 && ((const char *)o->p)[0] == '*') {
            break;
        } else if ((arg_is(o, "maxlen") || arg_is(o, "minid")) && more) {
            int minid = arg_is(o, "minid");
            if (a->strategy != TRIM_NONE) {
                reply_error(c, "syntax error, MAXLEN and MINID options at the same time are not "
                               "compatible");
                return -1;
            }
            a->approx = 0;
            const arg *nx = &c->argv[i + 1];
            if (more >= 2 && nx->len == 1 && ((const char *)nx->p)[0] == '~') {
                a->approx = 1;
                i++;
            } else if (more >= 2 && nx->len == 1 && ((const char *)nx->p)[0] == '=') {
                i++;
            }
            if (minid) {
                if (id_or_reply(c, i + 1, &a->minid, 0, 1, NULL) != 0) return -1;
            } else {
                if (arg_ll_or_reply(c, &c->argv[i + 1], &a->maxlen, NULL) != 0) return -1;
                if (a->maxlen < 0) {
                    reply_error(c, "The MAXLEN argument must be >= 0.");
                    return -1;
                }
            }
            i++;
            a->strategy = minid ? TRIM_MINID : TRIM_MAXLEN;
        } else if (arg_is(o, "limit") && more) {
            if (arg_ll_or_reply(c, &c->argv[i + 1], &a->limit, NULL) != 0) return -1;
            if (a->limit < 0) {
                reply_error(c, "The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && arg_is(o, "nomkstream")) {
            a->nomkstream = 1;
        } else if (xadd) {
            if (id_or_reply(c, i, &a->id, 0, 1, &a->seq_given) != 0) return -1;
            a->id_given = 1;
            break;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (a->limit && a->strategy == TRIM_NONE) {
        reply_error(c, "syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && a->strategy == TRIM_NONE) {
        reply_error(c, "syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (limit_given) {
        if (!a->approx) {
            reply_error(c, "syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (a->approx) {
        a->limit = 100 * cfg.stream_node_max_entries;
        if (a->limit <= 0 || a->limit > 10000) a->limit = 10000;
    } else {
        a->limit = 0;
    }
    return i;
}

/* Delete the oldest entries as the trim arguments say. Returns how many. */
static long long stream_trim(xs *s, const trim_args *a) {
    if (a->strategy == TRIM_NONE || s->count == 0) return 0;
    long long want;
    if (a->strategy == TRIM_MAXLEN) {
        if ((long long)s->count <= a->maxlen) return 0;
        want = (long long)s->count - a->maxlen;
    } else {
        want = (long long)s->count;
    }
    if (a->approx && a->limit && want > a->limit) want = a->limit;
    strm_id *ids = malloc(sizeof(strm_id) * (size_t)(want > 1024 ? 1024 : want));
    if (!ids) return 0;
    long long deleted = 0;
    strm_id from = s->h.first; /* nothing lives before it (see first_valid_id) */
    while (deleted < want) {
        long long batch = want - deleted > 1024 ? 1024 : want - deleted, n = 0;
        strm_iter it;
        strm_id id;
        const uint8_t *v;
        size_t vl;
        if (strm_iter_open(&it, srv.st, s->id, from, ID_MAX, 0) != ST_OK) break;
        while (n < batch && strm_iter_next(&it, &id, &v, &vl) == ST_OK) {
            if (a->strategy == TRIM_MINID && strm_id_cmp(id, a->minid) >= 0) break;
            ids[n++] = id;
        }
        strm_iter_close(&it);
        for (long long j = 0; j < n; j++)
            if (strm_entry_del(srv.st, s->id, ids[j]) == ST_OK) {
                s->count--;
                deleted++;
            }
        if (n > 0) {
            from = ids[n - 1];
            if (strm_id_incr(&from) != 0) break;
        }
        if (n < batch) break;
    }
    if (deleted) refresh_first(s, from);
    free(ids);
    return deleted;
}

/* ------------------------------------------------------------------ */
/* basic commands                                                      */

/* XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [...] */
void xadd_command(client *c) {
    trim_args a;
    int idpos = parse_add_trim(c, &a, 1);
    if (idpos < 0) return;
    int fpos = idpos + 1;
    if (c->argc - fpos < 2 || (c->argc - fpos) % 2 == 1) {
        reply_errorf(c, "wrong number of arguments for '%s' command", c->cmd->fullname);
        return;
    }
    if (a.id_given && a.seq_given && id_zero(a.id)) {
        reply_error(c, "The ID specified in XADD must be greater than 0-0");
        return;
    }
    xs s;
    int r = xs_open(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) {
        if (a.nomkstream) {
            reply_null(c);
            return;
        }
        xs_create(c, 1, &s);
    }
    if (s.h.last.ms == UINT64_MAX && s.h.last.seq == UINT64_MAX) {
        if (r == 0) xs_save(&s);
        reply_error(c, "The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    strm_id id;
    int bad = 0;
    if (a.id_given) {
        if (a.seq_given) {
            id = a.id;
        } else if (s.h.last.ms == a.id.ms) {
            if (s.h.last.seq == UINT64_MAX) bad = 1;
            id = s.h.last;
            id.seq++;
        } else {
            id = a.id;
        }
    } else {
        uint64_t ms = (uint64_t)mstime();
        if (ms > s.h.last.ms) {
            id.ms = ms;
            id.seq = 0;
        } else {
            id = s.h.last;
            strm_id_incr(&id);
        }
    }
    if (bad || strm_id_cmp(id, s.h.last) <= 0) {
        /* Redis creates the key before this check: an empty stream remains. */
        if (r == 0) xs_save(&s);
        reply_error(c, "The ID specified in XADD is equal or smaller than the target stream top "
                       "item");
        return;
    }
    size_t n = (size_t)(c->argc - fpos);
    const void **p = malloc(sizeof(void *) * n);
    size_t *l = malloc(sizeof(size_t) * n);
    if (!p || !l) {
        free(p);
        free(l);
        reply_store_error(c, ST_NOMEM);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        p[j] = c->argv[fpos + (int)j].p;
        l[j] = c->argv[fpos + (int)j].len;
    }
    int rc = strm_entry_put(srv.st, s.id, id, (const void *const *)p, l, n);
    free(p);
    free(l);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    s.count++;
    s.h.added++;
    s.h.last = id;
    if (s.count == 1) s.h.first = id;
    long long trimmed = stream_trim(&s, &a);
    if ((rc = xs_save(&s)) != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    reply_id(c, id);
    notify_keyspace_event(NOTIFY_STREAM, "xadd", K(1), c->db);
    if (trimmed) notify_keyspace_event(NOTIFY_STREAM, "xtrim", K(1), c->db);
}

/* XLEN key */
void xlen_command(client *c) {
    xs s;
    int r = xs_open(c, 1, &s, 1);
    if (r < 0) return;
    reply_int(c, r ? (long long)s.count : 0);
}

static void xrange_generic(client *c, int rev) {
    int starti = rev ? 3 : 2, endi = rev ? 2 : 3;
    strm_id start, end;
    int sx, ex;
    long long count = -1;
    if (interval_or_reply(c, starti, &start, &sx, 0) != 0) return;
    if (sx && strm_id_incr(&start) != 0) {
        reply_error(c, "invalid start ID for the interval");
        return;
    }
    if (interval_or_reply(c, endi, &end, &ex, UINT64_MAX) != 0) return;
    if (ex && strm_id_decr(&end) != 0) {
        reply_error(c, "invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "COUNT") && c->argc - j - 1 >= 1) {
            if (arg_ll_or_reply(c, &c->argv[j + 1], &count, NULL) != 0) return;
            if (count < 0) count = 0;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    xs s;
    int r = xs_open(c, 1, &s, 1);
    if (r < 0) return;
    if (r == 0) {
        reply_empty_array(c);
        return;
    }
    if (count == 0) {
        reply_null_array(c);
        return;
    }
    reply_range(c, &s, start, end, count == -1 ? 0 : count, rev);
}

/* XRANGE key start end [COUNT count] */
void xrange_command(client *c) {
    xrange_generic(c, 0);
}

/* XREVRANGE key end start [COUNT count] */
void xrevrange_command(client *c) {
    xrange_generic(c, 1);
}

/* XDEL key id [id ...] */
void xdel_command(client *c) {
    int n = c->argc - 2;
    strm_id *ids = malloc(sizeof(strm_id) * (size_t)n);
    if (!ids) {
        reply_store_error(c, ST_NOMEM);
        return;
    }
    xs s;
    int r = xs_open(c, 1, &s, 0);
    if (r < 0) goto out;
    if (r == 0) {
        reply_int(c, 0);
        goto out;
    }
    /* All IDs are checked before any is deleted. */
    for (int j = 0; j < n; j++)
        if (id_or_reply(c, j + 2, &ids[j], 0, 1, NULL) != 0) goto out;
    long long deleted = 0;
    int first = 0;
    for (int j = 0; j < n; j++) {
        if (strm_entry_del(srv.st, s.id, ids[j]) != ST_OK) continue;
        s.count--;
        deleted++;
        if (strm_id_cmp(ids[j], s.h.first) == 0) first = 1;
        if (strm_id_cmp(ids[j], s.h.maxdel) > 0) s.h.maxdel = ids[j];
    }
    if (deleted) {
        if (s.count == 0) s.h.first = ID_MIN;
        else if (first) refresh_first(&s, s.h.first);
        int rc = xs_save(&s);
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            goto out;
        }
        notify_keyspace_event(NOTIFY_STREAM, "xdel", K(1), c->db);
    }
    reply_int(c, deleted);
out:
    free(ids);
}

/* XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
void xtrim_command(client *c) {
    trim_args a;
    if (parse_add_trim(c, &a, 0) < 0) return;
    xs s;
    int r = xs_open(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_int(c, 0);
        return;
    }
    long long n = stream_trim(&s, &a);
    if (n) {
        int rc = xs_save(&s);
        if (rc != ST_OK) {
            reply_store_error(c, rc);
            return;
        }
        notify_keyspace_event(NOTIFY_STREAM, "xtrim", K(1), c->db);
    }
    reply_int(c, n);
}

/* ------------------------------------------------------------------ */
/* groups, consumers, pending entries                                  */

typedef struct xg {
    const void *name;
    size_t nlen;
    strm_group g;
} xg;

/* A consumer held in memory during a command (name borrowed from argv). */
typedef struct xc {
    const void *name;
    size_t nlen;
    strm_consumer r;
} xc;

static int group_get(xs *s, const void *name, size_t nlen, xg *out) {
    const uint8_t *v;
    size_t vl;
    int rc = cm_get(srv.ks, s->id, STRM_KIND_GROUP, NULL, 0, name, nlen, &v, &vl);
    if (rc) return rc;
    out->name = name;
    out->nlen = nlen;
    return strm_group_decode(v, vl, &out->g);
}

static int group_put(xs *s, const xg *g) {
    return strm_group_put(srv.ks, s->id, g->name, g->nlen, &g->g);
}

/* Consumer entries are keyed by gid(8) · name. */
static uint8_t *cons_member(uint64_t gid, const void *name, size_t nlen, size_t *ml) {
    uint8_t *m = malloc(8 + nlen + 1);
    if (!m) return NULL;
    be64_put(m, gid);
    if (nlen) memcpy(m + 8, name, nlen);
    *ml = 8 + nlen;
    return m;
}

static int cons_get(xs *s, uint64_t gid, const void *name, size_t nlen, strm_consumer *out) {
    size_t ml;
    uint8_t *m = cons_member(gid, name, nlen, &ml);
    if (!m) return ST_NOMEM;
    const uint8_t *v;
    size_t vl;
    int rc = cm_get(srv.ks, s->id, STRM_KIND_CONSUMER, NULL, 0, m, ml, &v, &vl);
    free(m);
    if (rc) return rc;
    return strm_consumer_decode(v, vl, out);
}

static int cons_put(xs *s, uint64_t gid, const void *name, size_t nlen, const strm_consumer *r) {
    return strm_consumer_put(srv.ks, s->id, gid, name, nlen, r);
}

static int cons_del(xs *s, uint64_t gid, const void *name, size_t nlen) {
    size_t ml;
    uint8_t *m = cons_member(gid, name, nlen, &ml);
    if (!m) return ST_NOMEM;
    int rc = cm_del(srv.ks, s->id, STRM_KIND_CONSUMER, NULL, 0, m, ml, NULL);
    free(m);
    return rc;
}

/* Find consumer `name` of g; with create, make it (seen = now) when
 * missing. refresh: set its seen time to now. Returns 1 found, 2 created,
 * 0 missing. The record is written back here when created or refreshed. */
static int cons_lookup(xs *s, xg *g, const void *name, size_t nlen, xc *out, int create,
                       int refresh) {
    out->name = name;
    out->nlen = nlen;
    int rc = cons_get(s, g->g.gid, name, nlen, &out->r);
    if (rc == ST_OK) {
        if (refresh) {
            out->r.seen = ks_now(srv.ks);
            cons_put(s, g->g.gid, name, nlen, &out->r);
        }
        return 1;
    }
    if (!create) return 0;
    out->r.cid = ks_new_id(srv.ks);
    out->r.seen = ks_now(srv.ks);
    out->r.pel_count = 0;
    cons_put(s, g->g.gid, name, nlen, &out->r);
    g->g.ncons++;
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-createconsumer", s->key, s->klen, s->db);
    return 2;
}

/* Adjust the PEL count of the consumer named in a PEL record, unless it is
 * the one held in memory (held may be NULL). */
static void cons_adjust(xs *s, xg *g, uint64_t cid, const uint8_t *name, size_t nlen, xc *held,
                        int delta) {
    if (held && held->r.cid == cid) {
        held->r.pel_count += (uint64_t)(int64_t)delta;
        return;
    }
    strm_consumer r;
    if (cons_get(s, g->g.gid, name, nlen, &r) != ST_OK) return;
    r.pel_count += (uint64_t)(int64_t)delta;
    cons_put(s, g->g.gid, name, nlen, &r);
}

/* Give entry eid of g's PEL to consumer cn with the given delivery time
 * and count, creating the PEL entry if needed. The caller saves cn and g. */
static void pel_assign(xs *s, xg *g, strm_id eid, xc *cn, int64_t delivery, uint64_t count) {
    strm_pel pe;
    if (strm_pel_get(srv.st, s->id, g->g.gid, eid, &pe) == ST_OK) {
        if (pe.cid != cn->r.cid) {
            uint64_t oldcid = pe.cid;
            uint8_t *oldname = malloc(pe.nlen + 1);
            size_t oldlen = pe.nlen;
            if (oldname) {
                memcpy(oldname, pe.name, pe.nlen);
                strm_cpel_del(srv.st, s->id, g->g.gid, oldcid, eid);
                cons_adjust(s, g, oldcid, oldname, oldlen, cn, -1);
                free(oldname);
            }
            cn->r.pel_count++;
            strm_cpel_put(srv.st, s->id, g->g.gid, cn->r.cid, eid);
        }
    } else {
        g->g.pel_count++;
        cn->r.pel_count++;
        strm_cpel_put(srv.st, s->id, g->g.gid, cn->r.cid, eid);
    }
    strm_pel np = {delivery, count, cn->r.cid, cn->name, cn->nlen};
    strm_pel_put(srv.st, s->id, g->g.gid, eid, &np);
}

/* Drop eid from g's PEL (and its owner's). Returns 1 if it was there. */
static int pel_remove(xs *s, xg *g, strm_id eid, xc *held) {
    strm_pel pe;
    if (strm_pel_get(srv.st, s->id, g->g.gid, eid, &pe) != ST_OK) return 0;
    uint64_t cid = pe.cid;
    uint8_t *name = malloc(pe.nlen + 1);
    size_t nlen = pe.nlen;
    if (!name) return 0;
    memcpy(name, pe.name, pe.nlen);
    strm_pel_del(srv.st, s->id, g->g.gid, eid);
    strm_cpel_del(srv.st, s->id, g->g.gid, cid, eid);
    cons_adjust(s, g, cid, name, nlen, held, -1);
    free(name);
    g->g.pel_count--;
    return 1;
}

/* Delete every `sub` key that starts with prefix. */
static void delete_prefix(const uint8_t *prefix, size_t plen) {
    enum { BATCH = 512 };
    uint8_t(*keys)[64] = malloc(sizeof(*keys) * BATCH);
    size_t *lens = malloc(sizeof(size_t) * BATCH);
    if (!keys || !lens) goto out;
    for (;;) {
        strm_scan sc;
        const uint8_t *k, *v;
        size_t kl, vl, n = 0;
        if (strm_scan_open(&sc, srv.st, prefix, plen, NULL, 0) != ST_OK) break;
        while (n < BATCH && strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
            if (kl > 64) continue;
            memcpy(keys[n], k, kl);
            lens[n++] = kl;
        }
        strm_scan_close(&sc);
        for (size_t i = 0; i < n; i++) store_del(srv.st, ST_DBI_SUB, keys[i], lens[i]);
        if (n < BATCH) break;
    }
out:
    free(keys);
    free(lens);
}


/* ---- Redis 7.0's lag and entries-read rules ---- */

static int range_has_tombstones(xs *s, strm_id start, strm_id end) {
    if (!s->count || id_zero(s->h.maxdel)) return 0;
    if (strm_id_cmp(s->h.first, s->h.maxdel) > 0) return 0;
    return strm_id_cmp(start, s->h.maxdel) <= 0 && strm_id_cmp(s->h.maxdel, end) <= 0;
}

static long long estimate_distance(xs *s, strm_id id) {
    if (!s->h.added) return 0;
    if (!s->count && strm_id_cmp(id, s->h.last) < 1) return (long long)s->h.added;
    int cmp_last = strm_id_cmp(id, s->h.last);
    if (cmp_last == 0) return (long long)s->h.added;
    if (cmp_last > 0) return -1;
    int cmp_first = strm_id_cmp(id, s->h.first);
    int cmp_xdel_first = strm_id_cmp(s->h.maxdel, s->h.first);
    if (id_zero(s->h.maxdel) || cmp_xdel_first < 0) {
        if (cmp_first < 0) return (long long)(s->h.added - s->count);
        if (cmp_first == 0) return (long long)(s->h.added - s->count + 1);
    }
    return -1;
}

static void reply_lag(client *c, xs *s, const strm_group *g) {
    if (!s->h.added) {
        reply_int(c, 0);
    } else if (g->entries_read != -1 && !range_has_tombstones(s, g->last, ID_MAX)) {
        reply_int(c, (long long)s->h.added - g->entries_read);
    } else {
        long long er = estimate_distance(s, g->last);
        if (er != -1) reply_int(c, (long long)s->h.added - er);
        else reply_null(c);
    }
}

/* reply_errorf without its 1 KiB limit: errors quoting user names must
 * carry them whole, as Redis's do. */
__attribute__((format(printf, 2, 3))) static void reply_error_long(client *c, const char *fmt,
                                                                   ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!msg) {
        reply_error(c, "out of memory");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    reply_error(c, msg);
    free(msg);
}

static void reply_nogroup_key(client *c, int keyi, int groupi, const char *tail) {
    reply_error_long(c, "-NOGROUP No such key '%.*s' or consumer group '%.*s'%s",
                 cstr_len(&c->argv[keyi]), (const char *)c->argv[keyi].p,
                 cstr_len(&c->argv[groupi]), (const char *)c->argv[groupi].p, tail);
}

static void reply_nogroup_for_key(client *c, int groupi, int keyi) {
    reply_error_long(c, "-NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                 cstr_len(&c->argv[groupi]), (const char *)c->argv[groupi].p,
                 cstr_len(&c->argv[keyi]), (const char *)c->argv[keyi].p);
}

static void reply_subcmd_syntax(client *c, const char *cmd) {
    reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                 c->argv[1].len > 128 ? 128 : cstr_len(&c->argv[1]), (const char *)c->argv[1].p,
                 cmd);
}

/* ------------------------------------------------------------------ */
/* XGROUP                                                              */

void xgroup_command(client *c) {
    container_unknown_subcommand(c);
}

/* XGROUP HELP */
void xgroup_help_command(client *c) {
    static const char *help[] = {
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c, "XGROUP", help);
}

#define ERR_XGROUP_NOKEY                                                                          \
    "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "  \
    "the MKSTREAM option to create an empty stream automatically."

/* The common head of XGROUP subcommands: open the stream (argv[2]) and,
 * when need_group, group argv[3]. Returns 1 ok, 0 replied. */
static int xgroup_head(client *c, xs *s, xg *g, int *has_group, int need_group, int mkstream,
                       int *exists) {
    int r = xs_open(c, 2, s, 0);
    if (r < 0) return 0;
    *exists = r;
    *has_group = 0;
    if (r == 1) *has_group = group_get(s, ARGP(3), g) == ST_OK;
    if (!mkstream) {
        if (r == 0) {
            reply_error(c, ERR_XGROUP_NOKEY);
            return 0;
        }
        if (need_group && !*has_group) {
            reply_nogroup_for_key(c, 3, 2);
            return 0;
        }
    }
    return 1;
}

static int entries_read_opt(client *c, int i, long long *er) {
    if (arg_ll_or_reply(c, &c->argv[i], er, NULL) != 0) return -1;
    if (*er < 0 && *er != -1) {
        reply_error(c, "value for ENTRIESREAD must be positive or -1");
        return -1;
    }
    return 0;
}

/* XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n] */
void xgroup_create_command(client *c) {
    int mkstream = 0;
    long long er = -1;
    for (int i = 5; i < c->argc;) {
        if (arg_is(&c->argv[i], "MKSTREAM")) {
            mkstream = 1;
            i++;
        } else if (arg_is(&c->argv[i], "ENTRIESREAD") && i + 1 < c->argc) {
            if (entries_read_opt(c, i + 1, &er) != 0) return;
            i += 2;
        } else {
            reply_subcmd_syntax(c, "XGROUP");
            return;
        }
    }
    xs s;
    xg g;
    int has_group, exists;
    if (!xgroup_head(c, &s, &g, &has_group, 0, mkstream, &exists)) return;
    if (c->argc > 8) {
        reply_subcmd_syntax(c, "XGROUP");
        return;
    }
    strm_id id;
    if (c->argv[4].len == 1 && ((const char *)c->argv[4].p)[0] == '$') {
        id = exists ? s.h.last : ID_MIN;
    } else if (id_or_reply(c, 4, &id, 0, 1, NULL) != 0) {
        return;
    }
    if (!exists) xs_create(c, 2, &s);
    if (has_group) {
        if (!exists) xs_save(&s);
        reply_error(c, "-BUSYGROUP Consumer Group name already exists");
        return;
    }
    g.name = c->argv[3].p;
    g.nlen = c->argv[3].len;
    g.g.gid = ks_new_id(srv.ks);
    g.g.last = id;
    g.g.entries_read = er;
    g.g.pel_count = 0;
    g.g.ncons = 0;
    int rc = group_put(&s, &g);
    s.h.ngroups++;
    if (rc == ST_OK) rc = xs_save(&s);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-create", K(2), c->db);
    reply_ok(c);
}

/* XGROUP SETID key group id|$ [ENTRIESREAD n] */
void xgroup_setid_command(client *c) {
    long long er = -1;
    for (int i = 5; i < c->argc;) {
        if (arg_is(&c->argv[i], "ENTRIESREAD") && i + 1 < c->argc) {
            if (entries_read_opt(c, i + 1, &er) != 0) return;
            i += 2;
        } else {
            reply_subcmd_syntax(c, "XGROUP");
            return;
        }
    }
    xs s;
    xg g;
    int has_group, exists;
    if (!xgroup_head(c, &s, &g, &has_group, 1, 0, &exists)) return;
    if (c->argc != 5 && c->argc != 7) {
        reply_subcmd_syntax(c, "XGROUP");
        return;
    }
    strm_id id;
    if (c->argv[4].len == 1 && ((const char *)c->argv[4].p)[0] == '$') {
        id = s.h.last;
    } else if (id_or_reply(c, 4, &id, 0, 0, NULL) != 0) {
        return;
    }
    g.g.last = id;
    g.g.entries_read = er;
    int rc = group_put(&s, &g);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    xs_touch(&s);
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-setid", K(2), c->db);
    reply_ok(c);
}

/* XGROUP DESTROY key group */
void xgroup_destroy_command(client *c) {
    xs s;
    xg g;
    int has_group, exists;
    if (!xgroup_head(c, &s, &g, &has_group, 0, 0, &exists)) return;
    if (!has_group) {
        reply_int(c, 0);
        return;
    }
    /* O(P + C): the group's PEL, per-consumer PELs and consumers go too. */
    uint8_t pfx[17];
    be64_put(pfx, s.id);
    be64_put(pfx + 9, g.g.gid);
    pfx[8] = STRM_KIND_PEL;
    delete_prefix(pfx, 17);
    pfx[8] = STRM_KIND_CPEL;
    delete_prefix(pfx, 17);
    pfx[8] = STRM_KIND_CONSUMER;
    delete_prefix(pfx, 17);
    pfx[8] = STRM_KIND_CONSUMER | KS_KIND_HASHED;
    delete_prefix(pfx, 17);
    cm_del(srv.ks, s.id, STRM_KIND_GROUP, NULL, 0, ARGP(3), NULL);
    s.h.ngroups--;
    int rc = xs_save(&s);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-destroy", K(2), c->db);
    reply_int(c, 1);
}

/* XGROUP CREATECONSUMER key group consumer */
void xgroup_createconsumer_command(client *c) {
    xs s;
    xg g;
    int has_group, exists;
    if (!xgroup_head(c, &s, &g, &has_group, 1, 0, &exists)) return;
    xc cn;
    int r = cons_lookup(&s, &g, ARGP(4), &cn, 1, 0);
    if (r == 2) {
        group_put(&s, &g);
        xs_touch(&s);
    }
    reply_int(c, r == 2);
}

/* XGROUP DELCONSUMER key group consumer */
void xgroup_delconsumer_command(client *c) {
    xs s;
    xg g;
    int has_group, exists;
    if (!xgroup_head(c, &s, &g, &has_group, 1, 0, &exists)) return;
    xc cn;
    if (!cons_lookup(&s, &g, ARGP(4), &cn, 0, 0)) {
        reply_int(c, 0);
        return;
    }
    long long pending = (long long)cn.r.pel_count;
    /* O(P) in the consumer's pending entries. */
    uint8_t pfx[25];
    be64_put(pfx, s.id);
    pfx[8] = STRM_KIND_CPEL;
    be64_put(pfx + 9, g.g.gid);
    be64_put(pfx + 17, cn.r.cid);
    for (;;) {
        strm_scan sc;
        const uint8_t *k, *v;
        size_t kl, vl;
        strm_id ids[256];
        int n = 0;
        if (strm_scan_open(&sc, srv.st, pfx, 25, NULL, 0) != ST_OK) break;
        while (n < 256 && strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK)
            ids[n++] = strm_key_tail_id(k, kl);
        strm_scan_close(&sc);
        for (int i = 0; i < n; i++) {
            strm_pel_del(srv.st, s.id, g.g.gid, ids[i]);
            strm_cpel_del(srv.st, s.id, g.g.gid, cn.r.cid, ids[i]);
            g.g.pel_count--;
        }
        if (n < 256) break;
    }
    cons_del(&s, g.g.gid, ARGP(4));
    g.g.ncons--;
    group_put(&s, &g);
    xs_touch(&s);
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-delconsumer", K(2), c->db);
    reply_int(c, pending);
}

/* ------------------------------------------------------------------ */
/* XREAD, XREADGROUP                                                   */

typedef struct xr_args {
    long long count;
    int64_t timeout; /* -1: no BLOCK; 0: forever; else absolute ms */
    int noack;
    int group_i; /* argv index of the group name, 0 for XREAD */
    int streams_arg, nstreams;
} xr_args;

/* Redis's option loop of xreadCommand. Returns 0, or -1 after replying. */
static int xr_parse(client *c, int group_mode, xr_args *a) {
    memset(a, 0, sizeof *a);
    a->timeout = -1;
    for (int i = 1; i < c->argc; i++) {
        int more = c->argc - i - 1;
        const arg *o = &c->argv[i];
        if (arg_is(o, "BLOCK") && more) {
            if (c->flags & CLIENT_SCRIPT) {
                /* A script cannot wait: Redis refuses the option itself. */
                reply_errorf(c, "%.*s command is not allowed with BLOCK option from scripts",
                             (int)c->argv[0].len, c->argv[0].p);
                return -1;
            }
            i++;
            long long t;
            if (arg_ll_or_reply(c, &c->argv[i], &t, "timeout is not an integer or out of range") !=
                0)
                return -1;
            if (t < 0) {
                reply_error(c, "timeout is negative");
                return -1;
            }
            if (t > 0) {
                if (t > LLONG_MAX - ks_now(srv.ks)) {
                    reply_error(c, "timeout is out of range");
                    return -1;
                }
                t += ks_now(srv.ks);
            }
            a->timeout = t;
        } else if (arg_is(o, "COUNT") && more) {
            i++;
            if (arg_ll_or_reply(c, &c->argv[i], &a->count, NULL) != 0) return -1;
            if (a->count < 0) a->count = 0;
        } else if (arg_is(o, "STREAMS") && more) {
            a->streams_arg = i + 1;
            int n = c->argc - a->streams_arg;
            if (n % 2 != 0) {
                /* Redis 7.0 prints this text for XREADGROUP too. */
                reply_error(c, "Unbalanced XREAD list of streams: for each stream key an ID or '$' "
                               "must be specified.");
                return -1;
            }
            a->nstreams = n / 2;
            break;
        } else if (arg_is(o, "GROUP") && more >= 2) {
            if (!group_mode) {
                reply_error(c, "The GROUP option is only supported by XREADGROUP. You called XREAD "
                               "instead.");
                return -1;
            }
            a->group_i = i + 1;
            i += 2;
        } else if (arg_is(o, "NOACK")) {
            if (!group_mode) {
                reply_error(c, "The NOACK option is only supported by XREADGROUP. You called XREAD "
                               "instead.");
                return -1;
            }
            a->noack = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (a->streams_arg == 0) {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    if (group_mode && !a->group_i) {
        reply_error(c, "Missing GROUP option for XREADGROUP");
        return -1;
    }
    return 0;
}

/* The history of consumer cn from start: its pending entries, each
 * re-delivered (delivery time now, count + 1); deleted entries come back as
 * [id, nil]. */
static void reply_consumer_history(client *c, xs *s, xg *g, xc *cn, strm_id start,
                                   long long count) {
    uint8_t pfx[25], from[41];
    be64_put(pfx, s->id);
    pfx[8] = STRM_KIND_CPEL;
    be64_put(pfx + 9, g->g.gid);
    be64_put(pfx + 17, cn->r.cid);
    strm_cpel_key(s->id, g->g.gid, cn->r.cid, start, from);
    /* Collect first: replying re-writes PEL records. */
    size_t n = 0, cap = 16;
    strm_id *ids = malloc(sizeof(strm_id) * cap);
    strm_scan sc;
    const uint8_t *k, *v;
    size_t kl, vl;
    if (ids && strm_scan_open(&sc, srv.st, pfx, 25, from, 41) == ST_OK) {
        while ((!count || (long long)n < count) && strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
            if (n == cap) {
                strm_id *t = realloc(ids, sizeof(strm_id) * cap * 2);
                if (!t) break;
                ids = t;
                cap *= 2;
            }
            ids[n++] = strm_key_tail_id(k, kl);
        }
        strm_scan_close(&sc);
    }
    reply_array_len(c, (long long)n);
    int64_t now = ks_now(srv.ks);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *ev;
        size_t evl;
        if (strm_entry_get(srv.st, s->id, ids[i], &ev, &evl) != ST_OK) {
            reply_array_len(c, 2);
            reply_id(c, ids[i]);
            reply_null_array(c);
            continue;
        }
        reply_entry(c, ids[i], ev, evl);
        strm_pel pe;
        if (strm_pel_get(srv.st, s->id, g->g.gid, ids[i], &pe) == ST_OK) {
            uint8_t *nm = malloc(pe.nlen + 1);
            if (!nm) continue;
            memcpy(nm, pe.name, pe.nlen);
            pe.name = nm;
            pe.delivery = now;
            pe.count++;
            strm_pel_put(srv.st, s->id, g->g.gid, ids[i], &pe);
            free(nm);
        }
    }
    free(ids);
}

/* New entries after start for a group (`>`): advance the group's last ID
 * and entries-read as Redis does, and add them to the PEL unless noack. */
static void reply_group_new(client *c, xs *s, xg *g, xc *cn, strm_id start, long long count,
                            int noack) {
    strm_iter it;
    strm_id id;
    const uint8_t *v;
    size_t vl;
    /* Collect first: PEL writes must not disturb the cursor. */
    size_t n = 0, cap = 16;
    strm_id *ids = malloc(sizeof(strm_id) * cap);
    if (ids && strm_iter_open(&it, srv.st, s->id, start, ID_MAX, 0) == ST_OK) {
        while ((!count || (long long)n < count) && strm_iter_next(&it, &id, &v, &vl) == ST_OK) {
            if (n == cap) {
                strm_id *t = realloc(ids, sizeof(strm_id) * cap * 2);
                if (!t) break;
                ids = t;
                cap *= 2;
            }
            ids[n++] = id;
        }
        strm_iter_close(&it);
    }
    reply_array_len(c, (long long)n);
    int64_t now = ks_now(srv.ks);
    for (size_t i = 0; i < n; i++) {
        id = ids[i];
        if (strm_id_cmp(id, g->g.last) > 0) {
            if (g->g.entries_read != -1 && !range_has_tombstones(s, id, ID_MAX))
                g->g.entries_read++;
            else if (s->h.added)
                g->g.entries_read = estimate_distance(s, id);
            g->g.last = id;
        }
        if (strm_entry_get(srv.st, s->id, id, &v, &vl) == ST_OK) reply_entry(c, id, v, vl);
        else reply_null_array(c);
        if (!noack) pel_assign(s, g, id, cn, now, 1);
    }
    free(ids);
}

/* Serve what can be served now. Returns 1 after replying (data or error);
 * 0 when nothing is available: then, with final, a null reply was sent,
 * else nothing was. */
static int xr_run(client *c, int group_mode, const xr_args *a, int final, strm_id *resolved) {
    int ns = a->nstreams;
    strm_id *ids = malloc(sizeof(strm_id) * (size_t)ns);
    xs *ss = malloc(sizeof(xs) * (size_t)ns);
    int *exists = calloc((size_t)ns, sizeof(int));
    xg *groups = group_mode ? malloc(sizeof(xg) * (size_t)ns) : NULL;
    int ret = 1;
    if (!ids || !ss || !exists || (group_mode && !groups)) {
        reply_store_error(c, ST_NOMEM);
        goto out;
    }
    for (int i = 0; i < ns; i++) {
        int ki = a->streams_arg + i, ii = a->streams_arg + ns + i;
        int r = xs_open(c, ki, &ss[i], 1);
        if (r < 0) goto out;
        exists[i] = r;
        if (group_mode) {
            if (!r || group_get(&ss[i], ARGP(a->group_i), &groups[i]) != ST_OK) {
                reply_nogroup_key(c, ki, a->group_i, " in XREADGROUP with GROUP option");
                goto out;
            }
        }
        const arg *ia = &c->argv[ii];
        const char *ip = ia->p;
        if (ia->len == 1 && ip[0] == '$') {
            if (group_mode) {
                reply_error(c, "The $ ID is meaningless in the context of XREADGROUP: you want to "
                               "read the history of this consumer by specifying a proper ID, or "
                               "use the > ID to get new messages. The $ ID would just return an "
                               "empty result set.");
                goto out;
            }
            ids[i] = r ? ss[i].h.last : ID_MIN;
        } else if (ia->len == 1 && ip[0] == '>') {
            if (!group_mode) {
                reply_error(c, "The > ID can be specified only when calling XREADGROUP using the "
                               "GROUP <group> <consumer> option.");
                goto out;
            }
            ids[i] = ID_MAX;
        } else if (id_or_reply(c, ii, &ids[i], 0, 1, NULL) != 0) {
            goto out;
        }
        if (resolved) resolved[i] = ids[i];
    }
    long long served = 0;
    reply_deferred d = 0;
    for (int i = 0; i < ns; i++) {
        if (!exists[i]) continue;
        xs *s = &ss[i];
        strm_id gt = ids[i];
        int sync = 0, history = 0;
        xc cn;
        if (group_mode) {
            /* The same key may be named twice: read the group afresh. */
            if (group_get(s, ARGP(a->group_i), &groups[i]) != ST_OK) continue;
            if (gt.ms != UINT64_MAX || gt.seq != UINT64_MAX) {
                sync = history = 1;
            } else if (s->count) {
                strm_id maxid;
                if (last_valid_id(s, &maxid) == 0 && strm_id_cmp(maxid, groups[i].g.last) > 0) {
                    sync = 1;
                    gt = groups[i].g.last;
                }
            }
        } else if (s->count) {
            strm_id maxid;
            if (last_valid_id(s, &maxid) == 0 && strm_id_cmp(maxid, gt) > 0) sync = 1;
        }
        if (!sync) continue;
        /* As in Redis, the consumer is created only when it is served. */
        if (group_mode && cons_lookup(s, &groups[i], ARGP(a->group_i + 1), &cn, 1, 1) == 2)
            group_put(s, &groups[i]);
        if (++served == 1) d = reply_defer_len(c);
        strm_id start = gt;
        if (strm_id_incr(&start) != 0) start = ID_MIN;
        if (c->resp == 2) reply_array_len(c, 2);
        reply_bulk(c, ARGP(a->streams_arg + i));
        if (!group_mode) {
            reply_range(c, s, start, ID_MAX, a->count, 0);
            continue;
        }
        if (history) {
            reply_consumer_history(c, s, &groups[i], &cn, start, a->count);
        } else {
            reply_group_new(c, s, &groups[i], &cn, start, a->count, a->noack);
            group_put(s, &groups[i]);
        }
        cons_put(s, groups[i].g.gid, cn.name, cn.nlen, &cn.r);
        xs_touch(s);
    }
    if (served) {
        reply_set_deferred_len(c, d, served, c->resp == 2 ? REPLY_ARRAY : REPLY_MAP);
    } else if (final) {
        reply_null_array(c);
    } else {
        ret = 0;
    }
out:
    free(ids);
    free(ss);
    free(exists);
    free(groups);
    return ret;
}

/* Serve a client blocked in XREAD / XREADGROUP from the key that became
 * ready, as Redis's serveClientsBlockedOnStreamKey does (which differs from
 * the synchronous path on purpose):
 * - only the ready key is served, with COUNT or at most 1000 entries;
 * - the test is the stream's last generated ID (not its last entry) against
 *   the ID the client waits after, or for a group the group's last ID read
 *   now: a write that moved the last ID but left nothing new (XADD then
 *   XTRIM in one MULTI) still serves an empty list;
 * - XREADGROUP fails with -UNBLOCKED when the key is gone or is no longer
 *   a stream, with -NOGROUP when the group was destroyed; XREAD keeps
 *   waiting then.
 * One known difference: lodis offers the key after any write or deletion,
 * Redis only after XADD, key creation or deletion and XGROUP DESTROY. The
 * rules above make that invisible except for XSETID (moves the last ID
 * without an entry) and XGROUP SETID backwards while readers wait: Redis
 * serves those readers at the next XADD, lodis at once. */
#define XREAD_BLOCKED_DEFAULT_COUNT 1000

static int xread_serve(client *c, const uint8_t *key, size_t klen) {
    xr_args a;
    int group_mode = c->cmd && strcmp(c->cmd->name, "xreadgroup") == 0;
    if (xr_parse(c, group_mode, &a) != 0) return 1;
    int i = 0;
    while (i < a.nstreams && !(c->argv[a.streams_arg + i].len == klen &&
                               memcmp(c->argv[a.streams_arg + i].p, key, klen) == 0))
        i++;
    if (i == a.nstreams) return 0;
    int ki = a.streams_arg + i, ii = a.streams_arg + a.nstreams + i;
    xs s;
    memset(&s, 0, sizeof s);
    ks_meta m;
    int rc = ks_lookup(srv.ks, c->db, key, klen, KS_STREAM, &m);
    if (rc != ST_OK) {
        if (!group_mode) return 0;
        if (rc == ST_NOTFOUND || rc == ST_WRONGTYPE)
            reply_error(c, "-UNBLOCKED the stream key no longer exists");
        else reply_store_error(c, rc);
        return 1;
    }
    s.db = c->db;
    s.key = c->argv[ki].p;
    s.klen = c->argv[ki].len;
    s.id = m.id;
    s.count = m.count;
    s.expire = m.expire;
    strm_hdr_decode(m.hdr, m.hdrlen, &s.h);
    ks_meta_release(&m);
    strm_id gt;
    xg g;
    if (group_mode) {
        if (group_get(&s, ARGP(a.group_i), &g) != ST_OK) {
            reply_error(c, "-NOGROUP the consumer group this client was blocked on no longer exists");
            return 1;
        }
        gt = g.g.last;
    } else if (strm_id_parse(ARGP(ii), &gt, 0, 1, NULL) != 0) {
        return 0; /* cannot happen: checked when it blocked */
    }
    if (strm_id_cmp(s.h.last, gt) <= 0) return 0;
    long long count = a.count ? a.count : XREAD_BLOCKED_DEFAULT_COUNT;
    xc cn;
    if (group_mode && cons_lookup(&s, &g, ARGP(a.group_i + 1), &cn, 1, 1) == 2) group_put(&s, &g);
    if (c->resp == 2) {
        reply_array_len(c, 1);
        reply_array_len(c, 2);
    } else {
        reply_map_len(c, 1);
    }
    reply_bulk(c, key, klen);
    strm_id start = gt;
    if (strm_id_incr(&start) != 0) start = ID_MIN;
    if (!group_mode) {
        reply_range(c, &s, start, ID_MAX, count, 0);
        return 1;
    }
    reply_group_new(c, &s, &g, &cn, start, count, a.noack);
    group_put(&s, &g);
    cons_put(&s, g.g.gid, cn.name, cn.nlen, &cn.r);
    xs_touch(&s);
    return 1;
}

static void xread_timeout(client *c) {
    reply_null_array(c);
}

static const block_ops xread_block_ops = {xread_serve, xread_timeout};

static void xread_generic(client *c, int group_mode) {
    xr_args a;
    if (xr_parse(c, group_mode, &a) != 0) return;
    int may_block = a.timeout != -1 && block_allowed(c);
    strm_id *resolved = may_block ? malloc(sizeof(strm_id) * (size_t)a.nstreams) : NULL;
    if (may_block && !resolved) may_block = 0;
    if (xr_run(c, group_mode, &a, !may_block, resolved)) {
        free(resolved);
        return;
    }
    /* Block: `$` becomes the ID it stands for now, so that entries added
     * while blocked are served. The module copies argv at once. */
    int ns = a.nstreams;
    int *keyidx = malloc(sizeof(int) * (size_t)ns);
    char(*idtext)[48] = malloc(sizeof(*idtext) * (size_t)ns);
    arg *saved = malloc(sizeof(arg) * (size_t)ns);
    if (!keyidx || !idtext || !saved) {
        free(keyidx);
        free(idtext);
        free(saved);
        free(resolved);
        reply_null_array(c);
        return;
    }
    for (int i = 0; i < ns; i++) {
        int ii = a.streams_arg + ns + i;
        keyidx[i] = a.streams_arg + i;
        saved[i] = c->argv[ii];
        if (c->argv[ii].len == 1 && c->argv[ii].p[0] == '$') {
            c->argv[ii].len = strm_id_format(resolved[i], idtext[i]);
            c->argv[ii].p = idtext[i];
        }
    }
    block_on_keys(c, keyidx, ns, a.timeout, &xread_block_ops);
    for (int i = 0; i < ns; i++) c->argv[a.streams_arg + ns + i] = saved[i];
    free(keyidx);
    free(idtext);
    free(saved);
    free(resolved);
}

/* XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...] */
void xread_command(client *c) {
    xread_generic(c, 0);
}

/* XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
 *   STREAMS key [key ...] id [id ...] */
void xreadgroup_command(client *c) {
    xread_generic(c, 1);
}

/* ------------------------------------------------------------------ */
/* XACK, XPENDING, XCLAIM, XAUTOCLAIM                                  */

/* Open stream argv[1] and group argv[2] for reading. Returns 1 when both
 * exist, 0 when either is missing, -1 after replying (WRONGTYPE). */
static int open_group(client *c, xs *s, xg *g) {
    int r = xs_open(c, 1, s, 1);
    if (r <= 0) return r;
    return group_get(s, ARGP(2), g) == ST_OK;
}

/* XACK key group id [id ...] */
void xack_command(client *c) {
    xs s;
    xg g;
    int r = open_group(c, &s, &g);
    if (r < 0) return;
    if (r == 0) {
        reply_int(c, 0);
        return;
    }
    int n = c->argc - 3;
    strm_id *ids = malloc(sizeof(strm_id) * (size_t)n);
    if (!ids) {
        reply_store_error(c, ST_NOMEM);
        return;
    }
    for (int j = 0; j < n; j++)
        if (id_or_reply(c, j + 3, &ids[j], 0, 1, NULL) != 0) {
            free(ids);
            return;
        }
    long long acked = 0;
    for (int j = 0; j < n; j++) acked += pel_remove(&s, &g, ids[j], NULL);
    free(ids);
    if (acked) {
        group_put(&s, &g);
        xs_touch(&s);
    }
    reply_int(c, acked);
}

/* XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
void xpending_command(client *c) {
    int justinfo = c->argc == 3;
    strm_id start = ID_MIN, end = ID_MAX;
    long long count = 0, minidle = 0;
    int consumer_i = 0;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc >= 6) {
        int si = 3, sx, ex;
        if (arg_is(&c->argv[3], "IDLE")) {
            if (arg_ll_or_reply(c, &c->argv[4], &minidle, NULL) != 0) return;
            if (c->argc < 8) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            si += 2;
        }
        if (arg_ll_or_reply(c, &c->argv[si + 2], &count, NULL) != 0) return;
        if (count < 0) count = 0;
        if (interval_or_reply(c, si, &start, &sx, 0) != 0) return;
        if (sx && strm_id_incr(&start) != 0) {
            reply_error(c, "invalid start ID for the interval");
            return;
        }
        if (interval_or_reply(c, si + 1, &end, &ex, UINT64_MAX) != 0) return;
        if (ex && strm_id_decr(&end) != 0) {
            reply_error(c, "invalid end ID for the interval");
            return;
        }
        if (si + 3 < c->argc) consumer_i = si + 3;
    }
    xs s;
    xg g;
    int r = open_group(c, &s, &g);
    if (r < 0) return;
    if (r == 0) {
        reply_nogroup_key(c, 1, 2, "");
        return;
    }
    uint8_t pfx[25];
    be64_put(pfx, s.id);
    pfx[8] = STRM_KIND_PEL;
    be64_put(pfx + 9, g.g.gid);
    strm_scan sc;
    const uint8_t *k, *v;
    size_t kl, vl;
    if (justinfo) {
        reply_array_len(c, 4);
        reply_int(c, (long long)g.g.pel_count);
        if (g.g.pel_count == 0) {
            reply_null(c);
            reply_null(c);
            reply_null_array(c);
            return;
        }
        strm_id first = ID_MIN, last = ID_MIN;
        store_cursor *cur;
        if (store_cursor_open(srv.st, ST_DBI_SUB, &cur) == ST_OK) {
            if (store_cursor_seek(cur, pfx, 17) == ST_OK &&
                store_cursor_get(cur, &k, &kl, &v, &vl) == ST_OK && kl == 33)
                first = strm_key_tail_id(k, kl);
            uint8_t endk[33];
            strm_pel_key(s.id, g.g.gid, ID_MAX, endk);
            if (store_cursor_seek_rev(cur, endk, 33) == ST_OK &&
                store_cursor_get(cur, &k, &kl, &v, &vl) == ST_OK && kl == 33)
                last = strm_key_tail_id(k, kl);
            store_cursor_close(cur);
        }
        reply_id(c, first);
        reply_id(c, last);
        be64_put(pfx + 1, 0); /* unused */
        uint8_t gpfx[8];
        be64_put(gpfx, g.g.gid);
        cm_kiter ki;
        cm_entry e;
        reply_deferred d = reply_defer_len(c);
        long long n = 0;
        cm_kiter_open(&ki, srv.ks, s.id, STRM_KIND_CONSUMER, gpfx, 8);
        while (cm_kiter_next(&ki, &e) == ST_OK) {
            strm_consumer cr;
            if (strm_consumer_decode(e.payload, e.plen, &cr) != ST_OK || cr.pel_count == 0)
                continue;
            reply_array_len(c, 2);
            reply_bulk(c, e.member + 8, e.mlen - 8);
            reply_bulk_ll(c, (long long)cr.pel_count);
            n++;
        }
        cm_kiter_close(&ki);
        reply_set_deferred_len(c, d, n, REPLY_ARRAY);
        return;
    }
    size_t plen = 17;
    uint8_t from[41];
    size_t fromlen;
    if (consumer_i) {
        xc cn;
        if (!cons_lookup(&s, &g, ARGP(consumer_i), &cn, 0, 0)) {
            reply_array_len(c, 0);
            return;
        }
        pfx[8] = STRM_KIND_CPEL;
        be64_put(pfx + 17, cn.r.cid);
        plen = 25;
        fromlen = strm_cpel_key(s.id, g.g.gid, cn.r.cid, start, from);
    } else {
        fromlen = strm_pel_key(s.id, g.g.gid, start, from);
    }
    int64_t now = ks_now(srv.ks);
    reply_deferred d = reply_defer_len(c);
    long long n = 0;
    if (count && strm_scan_open(&sc, srv.st, pfx, plen, from, fromlen) == ST_OK) {
        while (count && strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
            strm_id id = strm_key_tail_id(k, kl);
            if (strm_id_cmp(id, end) > 0) break;
            strm_pel pe;
            if (consumer_i) {
                if (strm_pel_get(srv.st, s.id, g.g.gid, id, &pe) != ST_OK) continue;
            } else {
                strm_pel_decode(v, vl, &pe);
            }
            if (minidle && now - pe.delivery < minidle) continue;
            n++;
            count--;
            reply_array_len(c, 4);
            reply_id(c, id);
            reply_bulk(c, pe.name, pe.nlen);
            int64_t el = now - pe.delivery;
            reply_int(c, el < 0 ? 0 : el);
            reply_int(c, (long long)pe.count);
        }
        strm_scan_close(&sc);
    }
    reply_set_deferred_len(c, d, n, REPLY_ARRAY);
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
 *   [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID]
 *   [LASTID lastid] */
void xclaim_command(client *c) {
    xs s;
    xg g;
    int r = open_group(c, &s, &g);
    if (r < 0) return;
    if (r == 0) {
        reply_nogroup_key(c, 1, 2, "");
        return;
    }
    long long minidle, retrycount = -1, deliverytime = -1;
    int force = 0, justid = 0;
    if (arg_ll_or_reply(c, &c->argv[4], &minidle, "Invalid min-idle-time argument for XCLAIM") !=
        0)
        return;
    if (minidle < 0) minidle = 0;
    int j;
    strm_id tmp;
    for (j = 5; j < c->argc; j++)
        if (strm_id_parse(ARGP(j), &tmp, 0, 1, NULL) != 0) break;
    int last_id_arg = j - 1;
    int64_t now = ks_now(srv.ks);
    strm_id lastid = ID_MIN;
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const arg *o = &c->argv[j];
        if (arg_is(o, "FORCE")) {
            force = 1;
        } else if (arg_is(o, "JUSTID")) {
            justid = 1;
        } else if (arg_is(o, "IDLE") && more) {
            j++;
            if (arg_ll_or_reply(c, &c->argv[j], &deliverytime,
                                "Invalid IDLE option argument for XCLAIM") != 0)
                return;
            deliverytime = now - deliverytime;
        } else if (arg_is(o, "TIME") && more) {
            j++;
            if (arg_ll_or_reply(c, &c->argv[j], &deliverytime,
                                "Invalid TIME option argument for XCLAIM") != 0)
                return;
        } else if (arg_is(o, "RETRYCOUNT") && more) {
            j++;
            if (arg_ll_or_reply(c, &c->argv[j], &retrycount,
                                "Invalid RETRYCOUNT option argument for XCLAIM") != 0)
                return;
        } else if (arg_is(o, "LASTID") && more) {
            j++;
            if (id_or_reply(c, j, &lastid, 0, 1, NULL) != 0) return;
        } else {
            reply_error_long(c, "Unrecognized XCLAIM option '%.*s'", cstr_len(o), o->p);
            return;
        }
    }
    int gdirty = 0;
    if (strm_id_cmp(lastid, g.g.last) > 0) {
        g.g.last = lastid;
        gdirty = 1;
    }
    if (deliverytime != -1) {
        if (deliverytime < 0 || deliverytime > now) deliverytime = now;
    } else {
        deliverytime = now;
    }
    xc cn;
    int have_cn = 0;
    reply_deferred d = reply_defer_len(c);
    long long n = 0;
    for (j = 5; j <= last_id_arg; j++) {
        strm_id id;
        strm_id_parse(ARGP(j), &id, 0, 1, NULL);
        strm_pel pe;
        int has_nack = strm_pel_get(srv.st, s.id, g.g.gid, id, &pe) == ST_OK;
        const uint8_t *ev;
        size_t evl;
        if (strm_entry_get(srv.st, s.id, id, &ev, &evl) != ST_OK) {
            if (has_nack) {
                pel_remove(&s, &g, id, have_cn ? &cn : NULL);
                gdirty = 1;
            }
            continue;
        }
        uint64_t dcount;
        if (!has_nack) {
            if (!force) continue;
            dcount = 1;
        } else {
            if (minidle && now - pe.delivery < minidle) continue;
            dcount = pe.count;
        }
        if (!have_cn) {
            if (cons_lookup(&s, &g, ARGP(3), &cn, 1, 1) == 2) gdirty = 1;
            have_cn = 1;
        }
        if (retrycount >= 0) dcount = (uint64_t)retrycount;
        else if (!justid) dcount++;
        pel_assign(&s, &g, id, &cn, deliverytime, dcount);
        gdirty = 1;
        if (justid) {
            reply_id(c, id);
        } else if (strm_entry_get(srv.st, s.id, id, &ev, &evl) == ST_OK) {
            reply_entry(c, id, ev, evl);
        } else {
            reply_null(c);
        }
        n++;
        cn.r.seen = now;
    }
    if (have_cn) cons_put(&s, g.g.gid, cn.name, cn.nlen, &cn.r);
    if (gdirty) {
        group_put(&s, &g);
        xs_touch(&s);
    }
    reply_set_deferred_len(c, d, n, REPLY_ARRAY);
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
void xautoclaim_command(client *c) {
    long long minidle, count = 100;
    int justid = 0, sx;
    strm_id start;
    if (arg_ll_or_reply(c, &c->argv[4], &minidle,
                        "Invalid min-idle-time argument for XAUTOCLAIM") != 0)
        return;
    if (minidle < 0) minidle = 0;
    if (interval_or_reply(c, 5, &start, &sx, 0) != 0) return;
    if (sx && strm_id_incr(&start) != 0) {
        reply_error(c, "invalid start ID for the interval");
        return;
    }
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "COUNT") && more) {
            if (arg_range_or_reply(c, &c->argv[j + 1], 1, LONG_MAX / 16, &count,
                                   "COUNT must be > 0") != 0)
                return;
            j++;
        } else if (arg_is(&c->argv[j], "JUSTID")) {
            justid = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    xs s;
    xg g;
    int r = open_group(c, &s, &g);
    if (r < 0) return;
    if (r == 0) {
        reply_nogroup_key(c, 1, 2, "");
        return;
    }
    long long attempts = count * 10;
    int64_t now = ks_now(srv.ks);
    uint8_t pfx[17], from[33];
    be64_put(pfx, s.id);
    pfx[8] = STRM_KIND_PEL;
    be64_put(pfx + 9, g.g.gid);
    strm_pel_key(s.id, g.g.gid, start, from);
    /* Walk the PEL from start; each step re-seeks after the last key seen,
     * so the writes below never disturb a live cursor. */
    strm_id *deleted = NULL;
    size_t ndel = 0, delcap = 0;
    xc cn;
    int have_cn = 0, gdirty = 0, eof = 0;
    strm_id *claimed = NULL;
    size_t n = 0, clcap = 0;
    strm_id cursor = start, next = ID_MIN;
    int first = 1;
    while (attempts-- && count) {
        strm_scan sc;
        const uint8_t *k, *v;
        size_t kl, vl;
        int found = 0;
        strm_id id = ID_MIN;
        strm_pel pe;
        if (!first && strm_id_incr(&cursor) != 0) {
            eof = 1;
            break;
        }
        first = 0;
        strm_pel_key(s.id, g.g.gid, cursor, from);
        if (strm_scan_open(&sc, srv.st, pfx, 17, from, 33) == ST_OK) {
            if (strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
                found = 1;
                id = strm_key_tail_id(k, kl);
                strm_pel_decode(v, vl, &pe);
            }
            strm_scan_close(&sc);
        }
        if (!found) {
            eof = 1;
            break;
        }
        cursor = id;
        const uint8_t *ev;
        size_t evl;
        if (strm_entry_get(srv.st, s.id, id, &ev, &evl) != ST_OK) {
            pel_remove(&s, &g, id, have_cn ? &cn : NULL);
            gdirty = 1;
            if (ndel == delcap) {
                delcap = delcap ? delcap * 2 : 8;
                strm_id *t = realloc(deleted, sizeof(strm_id) * delcap);
                if (!t) break;
                deleted = t;
            }
            deleted[ndel++] = id;
            count--;
            continue;
        }
        if (minidle && now - pe.delivery < minidle) continue;
        uint64_t dcount = pe.count + (justid ? 0 : 1);
        if (!have_cn) {
            if (cons_lookup(&s, &g, ARGP(3), &cn, 1, 1) == 2) gdirty = 1;
            have_cn = 1;
        }
        pel_assign(&s, &g, id, &cn, now, dcount);
        gdirty = 1;
        if (n == clcap) {
            clcap = clcap ? clcap * 2 : 16;
            strm_id *t = realloc(claimed, sizeof(strm_id) * clcap);
            if (!t) break;
            claimed = t;
        }
        claimed[n++] = id;
        count--;
    }
    /* The cursor for the next call: the PEL entry after the last examined. */
    if (!eof) {
        strm_scan sc;
        const uint8_t *k, *v;
        size_t kl, vl;
        strm_id after = cursor;
        int ok = first ? 1 : strm_id_incr(&after) == 0;
        if (ok) {
            strm_pel_key(s.id, g.g.gid, after, from);
            if (strm_scan_open(&sc, srv.st, pfx, 17, from, 33) == ST_OK) {
                if (strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) next = strm_key_tail_id(k, kl);
                strm_scan_close(&sc);
            }
        }
    }
    if (have_cn) cons_put(&s, g.g.gid, cn.name, cn.nlen, &cn.r);
    if (gdirty) {
        group_put(&s, &g);
        xs_touch(&s);
    }
    /* Claimed entries still exist: reply once the cursor is known. */
    reply_array_len(c, 3);
    reply_id(c, next);
    reply_array_len(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *ev;
        size_t evl;
        if (justid) reply_id(c, claimed[i]);
        else if (strm_entry_get(srv.st, s.id, claimed[i], &ev, &evl) == ST_OK)
            reply_entry(c, claimed[i], ev, evl);
        else reply_null(c);
    }
    reply_array_len(c, (long long)ndel);
    for (size_t i = 0; i < ndel; i++) reply_id(c, deleted[i]);
    free(deleted);
    free(claimed);
}

/* ------------------------------------------------------------------ */
/* XINFO, XSETID                                                       */

void xinfo_command(client *c) {
    container_unknown_subcommand(c);
}

/* XINFO HELP */
void xinfo_help_command(client *c) {
    static const char *help[] = {
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c, "XINFO", help);
}

static int xinfo_open(client *c, xs *s) {
    int r = xs_open(c, 2, s, 1);
    if (r < 0) return 0;
    if (r == 0) {
        reply_error(c, ERR_NO_KEY);
        return 0;
    }
    return 1;
}

/* The radix tree figures describe Redis's in-memory layout (listpack
 * nodes of up to stream-node-max-entries entries); lodis has none, so it
 * reports what that layout would roughly need. */
static void reply_tree_figures(client *c, xs *s) {
    long long per = cfg.stream_node_max_entries > 0 ? cfg.stream_node_max_entries : 100;
    long long keys = ((long long)s->count + per - 1) / per;
    reply_bulk_cstr(c, "radix-tree-keys");
    reply_int(c, keys);
    reply_bulk_cstr(c, "radix-tree-nodes");
    reply_int(c, keys ? keys + 1 : 1);
}

static void reply_edge_entry(client *c, xs *s, int rev) {
    strm_iter it;
    strm_id id;
    const uint8_t *v;
    size_t vl;
    if (strm_iter_open(&it, srv.st, s->id, ID_MIN, ID_MAX, rev) == ST_OK &&
        strm_iter_next(&it, &id, &v, &vl) == ST_OK) {
        reply_entry(c, id, v, vl);
    } else {
        reply_null(c);
    }
    strm_iter_close(&it);
}

static void reply_group_full(client *c, xs *s, cm_entry *ge, const strm_group *g,
                             long long count) {
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "name");
    reply_bulk(c, ge->member, ge->mlen);
    reply_bulk_cstr(c, "last-delivered-id");
    reply_id(c, g->last);
    reply_bulk_cstr(c, "entries-read");
    if (g->entries_read != -1) reply_int(c, g->entries_read);
    else reply_null(c);
    reply_bulk_cstr(c, "lag");
    reply_lag(c, s, g);
    reply_bulk_cstr(c, "pel-count");
    reply_int(c, (long long)g->pel_count);
    reply_bulk_cstr(c, "pending");
    uint8_t pfx[25];
    be64_put(pfx, s->id);
    pfx[8] = STRM_KIND_PEL;
    be64_put(pfx + 9, g->gid);
    strm_scan sc;
    const uint8_t *k, *v;
    size_t kl, vl;
    long long n = 0;
    reply_deferred d = reply_defer_len(c);
    if (strm_scan_open(&sc, srv.st, pfx, 17, NULL, 0) == ST_OK) {
        while ((!count || n < count) && strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
            strm_pel pe;
            strm_pel_decode(v, vl, &pe);
            reply_array_len(c, 4);
            reply_id(c, strm_key_tail_id(k, kl));
            reply_bulk(c, pe.name, pe.nlen);
            reply_int(c, pe.delivery);
            reply_int(c, (long long)pe.count);
            n++;
        }
        strm_scan_close(&sc);
    }
    reply_set_deferred_len(c, d, n, REPLY_ARRAY);
    reply_bulk_cstr(c, "consumers");
    reply_array_len(c, (long long)g->ncons);
    uint8_t gpfx[8];
    be64_put(gpfx, g->gid);
    cm_kiter ki;
    cm_entry e;
    long long nc = 0;
    cm_kiter_open(&ki, srv.ks, s->id, STRM_KIND_CONSUMER, gpfx, 8);
    while (nc < (long long)g->ncons && cm_kiter_next(&ki, &e) == ST_OK) {
        strm_consumer cr;
        if (strm_consumer_decode(e.payload, e.plen, &cr) != ST_OK) continue;
        nc++;
        reply_map_len(c, 4);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, e.member + 8, e.mlen - 8);
        reply_bulk_cstr(c, "seen-time");
        reply_int(c, cr.seen);
        reply_bulk_cstr(c, "pel-count");
        reply_int(c, (long long)cr.pel_count);
        reply_bulk_cstr(c, "pending");
        pfx[8] = STRM_KIND_CPEL;
        be64_put(pfx + 17, cr.cid);
        long long m = 0;
        reply_deferred dc = reply_defer_len(c);
        if (strm_scan_open(&sc, srv.st, pfx, 25, NULL, 0) == ST_OK) {
            while ((!count || m < count) && strm_scan_next(&sc, &k, &kl, &v, &vl) == ST_OK) {
                strm_id id = strm_key_tail_id(k, kl);
                strm_pel pe;
                if (strm_pel_get(srv.st, s->id, g->gid, id, &pe) != ST_OK) continue;
                reply_array_len(c, 3);
                reply_id(c, id);
                reply_int(c, pe.delivery);
                reply_int(c, (long long)pe.count);
                m++;
            }
            strm_scan_close(&sc);
        }
        reply_set_deferred_len(c, dc, m, REPLY_ARRAY);
    }
    cm_kiter_close(&ki);
    /* Keep the declared length whatever the walk found. */
    for (; nc < (long long)g->ncons; nc++) reply_null(c);
}

/* XINFO STREAM key [FULL [COUNT count]] */
void xinfo_stream_command(client *c) {
    xs s;
    if (!xinfo_open(c, &s)) return;
    int full = 0;
    long long count = 10;
    int optc = c->argc - 3;
    if (optc) {
        if ((optc != 1 && optc != 3) || !arg_is(&c->argv[3], "full")) {
            reply_subcmd_syntax(c, "XINFO");
            return;
        }
        if (optc == 3) {
            if (!arg_is(&c->argv[4], "count")) {
                reply_subcmd_syntax(c, "XINFO");
                return;
            }
            if (arg_ll_or_reply(c, &c->argv[5], &count, NULL) != 0) return;
            if (count < 0) count = 10;
        }
        full = 1;
    }
    reply_map_len(c, full ? 9 : 10);
    reply_bulk_cstr(c, "length");
    reply_int(c, (long long)s.count);
    reply_tree_figures(c, &s);
    reply_bulk_cstr(c, "last-generated-id");
    reply_id(c, s.h.last);
    reply_bulk_cstr(c, "max-deleted-entry-id");
    reply_id(c, s.h.maxdel);
    reply_bulk_cstr(c, "entries-added");
    reply_int(c, (long long)s.h.added);
    reply_bulk_cstr(c, "recorded-first-entry-id");
    reply_id(c, s.h.first);
    if (!full) {
        reply_bulk_cstr(c, "groups");
        reply_int(c, (long long)s.h.ngroups);
        reply_bulk_cstr(c, "first-entry");
        reply_edge_entry(c, &s, 0);
        reply_bulk_cstr(c, "last-entry");
        reply_edge_entry(c, &s, 1);
        return;
    }
    reply_bulk_cstr(c, "entries");
    reply_range(c, &s, ID_MIN, ID_MAX, count, 0);
    reply_bulk_cstr(c, "groups");
    reply_array_len(c, (long long)s.h.ngroups);
    cm_kiter ki;
    cm_entry e;
    long long ng = 0;
    cm_kiter_open(&ki, srv.ks, s.id, STRM_KIND_GROUP, NULL, 0);
    while (ng < (long long)s.h.ngroups && cm_kiter_next(&ki, &e) == ST_OK) {
        strm_group g;
        if (strm_group_decode(e.payload, e.plen, &g) != ST_OK) continue;
        /* The walk's entry is borrowed: copy the name before more reads. */
        uint8_t *name = malloc(e.mlen + 1);
        if (!name) break;
        memcpy(name, e.member, e.mlen);
        cm_entry ge = e;
        ge.member = name;
        reply_group_full(c, &s, &ge, &g, count);
        free(name);
        ng++;
    }
    cm_kiter_close(&ki);
    for (; ng < (long long)s.h.ngroups; ng++) reply_null(c);
}

/* XINFO GROUPS key */
void xinfo_groups_command(client *c) {
    xs s;
    if (!xinfo_open(c, &s)) return;
    cm_kiter ki;
    cm_entry e;
    long long n = 0;
    reply_deferred d = reply_defer_len(c);
    cm_kiter_open(&ki, srv.ks, s.id, STRM_KIND_GROUP, NULL, 0);
    while (cm_kiter_next(&ki, &e) == ST_OK) {
        strm_group g;
        if (strm_group_decode(e.payload, e.plen, &g) != ST_OK) continue;
        reply_map_len(c, 6);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, e.member, e.mlen);
        reply_bulk_cstr(c, "consumers");
        reply_int(c, (long long)g.ncons);
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)g.pel_count);
        reply_bulk_cstr(c, "last-delivered-id");
        reply_id(c, g.last);
        reply_bulk_cstr(c, "entries-read");
        if (g.entries_read != -1) reply_int(c, g.entries_read);
        else reply_null(c);
        reply_bulk_cstr(c, "lag");
        reply_lag(c, &s, &g);
        n++;
    }
    cm_kiter_close(&ki);
    reply_set_deferred_len(c, d, n, REPLY_ARRAY);
}

/* XINFO CONSUMERS key group */
void xinfo_consumers_command(client *c) {
    xs s;
    if (!xinfo_open(c, &s)) return;
    xg g;
    if (group_get(&s, ARGP(3), &g) != ST_OK) {
        reply_nogroup_for_key(c, 3, 2);
        return;
    }
    uint8_t gpfx[8];
    be64_put(gpfx, g.g.gid);
    cm_kiter ki;
    cm_entry e;
    long long n = 0;
    int64_t now = ks_now(srv.ks);
    reply_deferred d = reply_defer_len(c);
    cm_kiter_open(&ki, srv.ks, s.id, STRM_KIND_CONSUMER, gpfx, 8);
    while (cm_kiter_next(&ki, &e) == ST_OK) {
        strm_consumer cr;
        if (strm_consumer_decode(e.payload, e.plen, &cr) != ST_OK) continue;
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, e.member + 8, e.mlen - 8);
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)cr.pel_count);
        reply_bulk_cstr(c, "idle");
        int64_t idle = now - cr.seen;
        reply_int(c, idle < 0 ? 0 : idle);
        n++;
    }
    cm_kiter_close(&ki);
    reply_set_deferred_len(c, d, n, REPLY_ARRAY);
}

/* XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
void xsetid_command(client *c) {
    strm_id id, maxdel = ID_MIN;
    long long added = -1;
    if (id_or_reply(c, 2, &id, 0, 1, NULL) != 0) return;
    for (int i = 3; i < c->argc;) {
        int more = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "ENTRIESADDED") && more) {
            if (arg_ll_or_reply(c, &c->argv[i + 1], &added, NULL) != 0) return;
            if (added < 0) {
                reply_error(c, "entries_added must be positive");
                return;
            }
            i += 2;
        } else if (arg_is(&c->argv[i], "MAXDELETEDID") && more) {
            if (id_or_reply(c, i + 1, &maxdel, 0, 1, NULL) != 0) return;
            if (strm_id_cmp(id, maxdel) < 0) {
                reply_error(c, "The ID specified in XSETID is smaller than the provided "
                               "max_deleted_entry_id");
                return;
            }
            i += 2;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    xs s;
    int r = xs_open(c, 1, &s, 0);
    if (r < 0) return;
    if (r == 0) {
        reply_error(c, ERR_NO_KEY);
        return;
    }
    if (s.count > 0) {
        strm_id maxid;
        if (last_valid_id(&s, &maxid) == 0 && strm_id_cmp(id, maxid) < 0) {
            reply_error(c, "The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (added != -1 && s.count > (uint64_t)added) {
            reply_error(c, "The entries_added specified in XSETID is smaller than the target "
                           "stream length");
            return;
        }
    }
    s.h.last = id;
    if (added != -1) s.h.added = (uint64_t)added;
    if (!id_zero(maxdel)) s.h.maxdel = maxdel;
    int rc = xs_save(&s);
    if (rc != ST_OK) {
        reply_store_error(c, rc);
        return;
    }
    notify_keyspace_event(NOTIFY_STREAM, "xsetid", K(1), c->db);
    reply_ok(c);
}
