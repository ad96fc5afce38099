/* rdb.c — the RDB value codec for strings, lists, sets, sorted sets and
 * hashes (streams are in rdb_stream.c); see rdb.h for the contract.
 *
 * Decoding is one pass: each element is validated and written under the
 * object's fresh id at once, so memory stays bounded by one element even
 * for huge collections. Duplicates (which Redis refuses as corruption) are
 * found by the write itself: the member layer reports whether an entry was
 * new. Any failure hands the id to the trash, and since no meta record
 * points at it, no reader ever sees the partial members. */
#include "storage/rdb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/crc64.h"
#include "storage/num.h"
#include "storage/rdb_int.h"
#include "storage/rdb_pack.h"
#include "storage/t_stream.h"
#include "storage/t_zset.h"

int rdb_is_object_type(int t) {
    return (t >= 0 && t <= 7) || (t >= 9 && t <= 21);
}

void rdb_limits_default(rdb_limits *l) {
    l->hash_max_listpack_entries = 512;
    l->hash_max_listpack_value = 64;
    l->set_max_intset_entries = 512;
    l->zset_max_listpack_entries = 128;
    l->zset_max_listpack_value = 64;
    l->list_max_listpack_size = -2;
    l->stream_node_max_bytes = 4096;
    l->stream_node_max_entries = 100;
    l->compress = 1;
    l->rdb_version = RDB_VERSION;
}

/* The packed form of this version: listpacks (10) or ziplists (9). */
static void pack_init(lp_writer *w, const rdb_limits *lim) {
    if (lim->rdb_version < 10) lpw_init_ziplist(w);
    else lpw_init(w);
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */

static void put_listpack(rdb_buf *out, lp_writer *w, const rdb_limits *lim, int *rc) {
    int r = lpw_finish(w);
    if (r) *rc = r;
    else rdb_put_string(out, w->b.p, w->b.len, lim->compress);
    lpw_free(w);
}

/* Quicklist node limits: a negative fill is a byte size class, a positive
 * one an element count (Redis's list-max-listpack-size). */
static int node_full(const lp_writer *w, size_t next, long long fill) {
    if (w->count == 0) return 0;
    if (fill >= 0) return (long long)w->count >= (fill ? fill : 1);
    static const size_t cls[] = {4096, 8192, 16384, 32768, 65536};
    long long i = -fill - 1;
    size_t max = cls[i > 4 ? 4 : i];
    return lpw_bytes(w) + next + 11 > max;
}

static int encode_list(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    tl_list l;
    memset(&l, 0, sizeof l);
    l.k = k;
    l.m = *m;
    tl_hdr_decode(m, &l.head, &l.tail);
    tl_iter it;
    int rc = tl_iter_open(&l, 0, 0, &it);
    if (rc) return rc;
    /* Nodes are built first to learn their number. */
    rdb_buf nodes = {0};
    uint64_t nnodes = 0;
    lp_writer w;
    int v9 = lim->rdb_version < 10;
    pack_init(&w, lim);
    const uint8_t *v;
    size_t vl;
    uint64_t pos;
    while ((rc = tl_iter_next(&it, &v, &vl, &pos)) == ST_OK) {
        if (node_full(&w, vl, lim->list_max_listpack_size)) {
            if (!v9) rdb_put_len(&nodes, 2); /* QUICKLIST_NODE_CONTAINER_PACKED */
            put_listpack(&nodes, &w, lim, &rc);
            if (rc) break;
            nnodes++;
            pack_init(&w, lim);
        }
        lpw_add(&w, v, vl);
    }
    tl_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc == ST_OK && w.count) {
        if (!v9) rdb_put_len(&nodes, 2);
        put_listpack(&nodes, &w, lim, &rc);
        nnodes++;
    } else {
        lpw_free(&w);
    }
    if (rc == ST_OK && nodes.oom) rc = ST_NOMEM;
    if (rc == ST_OK) {
        rdb_put_byte(out, v9 ? RDB_TYPE_LIST_QUICKLIST : RDB_TYPE_LIST_QUICKLIST_2);
        rdb_put_len(out, nnodes);
        rdb_put_raw(out, nodes.p, nodes.len);
    }
    rdb_buf_free(&nodes);
    return rc;
}

static int encode_set(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    uint8_t flags;
    uint64_t nint, nlong;
    ts_hdr_decode(m, &flags, &nint, &nlong);
    int intset = !(flags & TS_F_HT) && nint == m->count;
    cm_iter it;
    cm_entry e;
    int rc = cm_iter_open(&it, k, m->id, NULL, 0);
    if (rc) return rc;
    int64_t *ints = NULL;
    size_t n = 0;
    if (intset) {
        ints = malloc(sizeof *ints * (m->count ? m->count : 1));
        if (!ints) {
            cm_iter_close(&it);
            return ST_NOMEM;
        }
    } else {
        rdb_put_byte(out, RDB_TYPE_SET);
        rdb_put_len(out, m->count);
    }
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        char buf[TS_INT_TEXT];
        const uint8_t *t;
        size_t tl;
        ts_entry_text(e.kind, e.member, e.mlen, buf, &t, &tl);
        if (!intset) {
            rdb_put_string(out, t, tl, lim->compress);
            continue;
        }
        long long v;
        if (n == m->count || num_parse_ll((const char *)t, tl, &v)) {
            rc = ST_CORRUPT;
            break;
        }
        ints[n++] = v; /* integer members iterate in numeric order */
    }
    cm_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc == ST_OK && intset) {
        rdb_buf is = {0};
        is_write(&is, ints, n);
        rdb_put_byte(out, RDB_TYPE_SET_INTSET);
        rdb_put_string(out, is.p, is.len, lim->compress);
        if (is.oom) rc = ST_NOMEM;
        rdb_buf_free(&is);
    }
    free(ints);
    return rc;
}

/* A score as a listpack element: integral values as integers, others in
 * d2string's text (what Redis's zzlInsertAt stores). */
static void lp_add_score(lp_writer *w, double d) {
    char buf[NUM_DOUBLE_STR_SIZE];
    if (d == 0 && signbit(d)) {
        lpw_add(w, "-0", 2);
        return;
    }
    if (d > -4e18 && d < 4e18 && d == (double)(long long)d) {
        lpw_add_int(w, (long long)d);
        return;
    }
    size_t n = num_double_to_str(buf, sizeof buf, d);
    lpw_add(w, buf, n);
}

static int encode_zset(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    int listpack = !(tz_hdr_flags(m) & TZ_F_SKIPLIST);
    tz_iter it;
    /* ZSET_2 goes from the greatest to the smallest, as Redis writes it. */
    int rc = tz_iter_open(&it, k, m->id, !listpack);
    if (rc) return rc;
    lp_writer w;
    if (listpack) {
        pack_init(&w, lim);
    } else {
        rdb_put_byte(out, RDB_TYPE_ZSET_2);
        rdb_put_len(out, m->count);
    }
    for (rc = tz_iter_first(&it); rc == ST_OK; rc = tz_iter_next(&it)) {
        size_t ml;
        const uint8_t *mem = tz_iter_member(&it, &ml);
        double sc = tz_iter_score(&it);
        if (listpack) {
            lpw_add(&w, mem, ml);
            lp_add_score(&w, sc);
        } else {
            rdb_put_string(out, mem, ml, lim->compress);
            rdb_put_double(out, sc);
        }
    }
    if (rc == ST_NOTFOUND && it.err) rc = it.err;
    tz_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (listpack) {
        if (rc == ST_OK) {
            rdb_put_byte(out, w.zl ? RDB_TYPE_ZSET_ZIPLIST : RDB_TYPE_ZSET_LISTPACK);
            put_listpack(out, &w, lim, &rc);
        } else {
            lpw_free(&w);
        }
    }
    return rc;
}

static int encode_hash(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    uint8_t flags;
    uint64_t nlong;
    th_hdr_decode(m, &flags, &nlong);
    int listpack = !(flags & TH_F_HT);
    cm_iter it;
    cm_entry e;
    int rc = cm_iter_open(&it, k, m->id, NULL, 0);
    if (rc) return rc;
    lp_writer w;
    if (listpack) {
        pack_init(&w, lim);
    } else {
        rdb_put_byte(out, RDB_TYPE_HASH);
        rdb_put_len(out, m->count);
    }
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        if (e.kind != TH_KIND_FIELD) continue;
        if (listpack) {
            lpw_add(&w, e.member, e.mlen);
            lpw_add(&w, e.payload, e.plen);
        } else {
            rdb_put_string(out, e.member, e.mlen, lim->compress);
            rdb_put_string(out, e.payload, e.plen, lim->compress);
        }
    }
    cm_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (listpack) {
        if (rc == ST_OK) {
            rdb_put_byte(out, w.zl ? RDB_TYPE_HASH_ZIPLIST : RDB_TYPE_HASH_LISTPACK);
            put_listpack(out, &w, lim, &rc);
        } else {
            lpw_free(&w);
        }
    }
    return rc;
}

int rdb_encode_value(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    size_t start = out->len;
    int rc;
    switch (m->type) {
    case KS_STRING:
        rdb_put_byte(out, RDB_TYPE_STRING);
        rdb_put_string(out, m->val, m->vlen, lim->compress);
        rc = ST_OK;
        break;
    case KS_LIST: rc = encode_list(k, m, lim, out); break;
    case KS_SET: rc = encode_set(k, m, lim, out); break;
    case KS_ZSET: rc = encode_zset(k, m, lim, out); break;
    case KS_HASH: rc = encode_hash(k, m, lim, out); break;
    case KS_STREAM: rc = rdb_stream_encode(k, m, lim, out); break;
    default: rc = ST_CORRUPT;
    }
    if (rc == ST_OK && out->oom) rc = ST_NOMEM;
    if (rc != ST_OK && !out->oom) out->len = start;
    return rc;
}

int rdb_dump_payload(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    size_t start = out->len;
    int rc = rdb_encode_value(k, m, lim, out);
    if (rc) return rc;
    uint8_t ver[2] = {RDB_VERSION & 0xff, RDB_VERSION >> 8};
    rdb_put_raw(out, ver, 2);
    if (out->oom) return ST_NOMEM;
    rdb_put_u64le(out, crc64(0, out->p + start, out->len - start));
    return out->oom ? ST_NOMEM : ST_OK;
}

int rdb_payload_verify(const uint8_t *p, size_t len, size_t *body_len) {
    if (len < 10) return ST_CORRUPT;
    const uint8_t *f = p + len - 10;
    unsigned ver = (unsigned)f[0] | (unsigned)f[1] << 8;
    if (ver > RDB_VERSION_MAX) return ST_CORRUPT;
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--) want = want << 8 | f[2 + i];
    if (crc64(0, p, len - 8) != want) return ST_CORRUPT;
    *body_len = len - 10;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* decoding                                                            */

#define BAD(msg)                                                                                   \
    do {                                                                                           \
        *why = (msg);                                                                              \
        rc = ST_CORRUPT;                                                                           \
        goto out;                                                                                  \
    } while (0)

static void obj_new(ks *k, rdb_obj *o, int type) {
    memset(o, 0, sizeof *o);
    o->type = type;
    switch (type) {
    case KS_HASH:
        o->h.k = k;
        th_create(&o->h);
        o->id = o->h.m.id;
        break;
    case KS_SET:
        ts_new(&o->s, k, 0, NULL, 0);
        o->id = o->s.m.id;
        break;
    case KS_LIST:
        o->l.k = k;
        tl_create(&o->l);
        o->id = o->l.m.id;
        break;
    case KS_ZSET:
    case KS_STREAM: o->id = ks_new_id(k); break;
    default: break;
    }
}

static uint64_t obj_count(const rdb_obj *o) {
    switch (o->type) {
    case KS_HASH: return o->h.m.count;
    case KS_SET: return o->s.m.count;
    case KS_LIST: return o->l.m.count;
    default: return o->count;
    }
}

void rdb_obj_discard(ks *k, rdb_obj *o) {
    if (o->id) ks_drop_id(k, o->id, o->type);
    free(o->str);
    memset(o, 0, sizeof *o);
}

/* Add one hash field; a repeated field is corruption. */
static int hash_add(rdb_obj *o, const void *f, size_t fl, const void *v, size_t vl,
                    const char **why) {
    int created;
    int rc = th_set(&o->h, f, fl, v, vl, &created);
    if (rc) return rc;
    if (!created) {
        *why = "duplicate hash field";
        return ST_CORRUPT;
    }
    return ST_OK;
}

static int set_add(rdb_obj *o, const void *m, size_t ml, const char **why) {
    int added;
    int rc = ts_add(&o->s, m, ml, &added);
    if (rc) return rc;
    if (!added) {
        *why = "duplicate set member";
        return ST_CORRUPT;
    }
    return ST_OK;
}

static int zset_add(ks *k, rdb_obj *o, const void *m, size_t ml, double score, const char **why) {
    double old;
    if (isnan(score)) {
        *why = "zset score is NaN";
        return ST_CORRUPT;
    }
    int rc = tz_get(k, o->id, m, ml, &old);
    if (rc == ST_OK) {
        *why = "duplicate zset member";
        return ST_CORRUPT;
    }
    if (rc != ST_NOTFOUND) return rc;
    if ((rc = tz_put(k, o->id, m, ml, score, NULL))) return rc;
    o->count++;
    return ST_OK;
}

/* A listpack or ziplist score element. */
static int pk_score(pk_val *v, double *d) {
    if (v->is_int) {
        *d = (double)v->v;
        return ST_OK;
    }
    char buf[128];
    if (v->slen == 0 || v->slen >= sizeof buf) return ST_CORRUPT;
    memcpy(buf, v->s, v->slen);
    buf[v->slen] = '\0';
    char *end;
    *d = strtod(buf, &end);
    return (end == buf + v->slen && !isnan(*d)) ? ST_OK : ST_CORRUPT;
}

/* Walk the pairs of a ziplist (zl) or listpack (!zl) into a hash or zset. */
static int load_pairs(ks *k, rdb_obj *o, const uint8_t *p, size_t n, int zl, const char **why) {
    lp_reader lr;
    zl_reader zr;
    int rc = zl ? zl_open(&zr, p, n) : lp_open(&lr, p, n);
    if (rc) {
        *why = zl ? "ziplist integrity" : "listpack integrity";
        return ST_CORRUPT;
    }
    for (;;) {
        pk_val a, b;
        rc = zl ? zl_next(&zr, &a) : lp_next(&lr, &a);
        if (rc == ST_NOTFOUND) return ST_OK;
        if (rc == ST_OK) rc = zl ? zl_next(&zr, &b) : lp_next(&lr, &b);
        if (rc) {
            *why = zl ? "ziplist integrity" : "listpack integrity";
            return ST_CORRUPT;
        }
        const uint8_t *at;
        size_t al;
        pk_val_text(&a, &at, &al);
        if (o->type == KS_HASH) {
            const uint8_t *bt;
            size_t bl;
            pk_val_text(&b, &bt, &bl);
            rc = hash_add(o, at, al, bt, bl, why);
        } else {
            double d;
            if (pk_score(&b, &d)) {
                *why = "bad zset score";
                return ST_CORRUPT;
            }
            rc = zset_add(k, o, at, al, d, why);
        }
        if (rc) return rc;
    }
}

/* Elements of a ziplist or listpack appended to a list. */
static int load_list_pack(rdb_obj *o, const uint8_t *p, size_t n, int zl, const char **why) {
    lp_reader lr;
    zl_reader zr;
    int rc = zl ? zl_open(&zr, p, n) : lp_open(&lr, p, n);
    while (rc == ST_OK) {
        pk_val v;
        rc = zl ? zl_next(&zr, &v) : lp_next(&lr, &v);
        if (rc == ST_NOTFOUND) return ST_OK;
        if (rc) break;
        const uint8_t *t;
        size_t tl;
        pk_val_text(&v, &t, &tl);
        if ((rc = tl_push(&o->l, TL_TAIL, t, tl))) return rc;
    }
    *why = zl ? "ziplist integrity" : "listpack integrity";
    return ST_CORRUPT;
}

static void hash_judge(rdb_obj *o, const rdb_limits *lim, size_t maxlen, int check_len) {
    if ((long long)o->h.m.count > lim->hash_max_listpack_entries ||
        (check_len && (long long)maxlen > lim->hash_max_listpack_value))
        o->h.flags |= TH_F_HT;
}

static void set_judge(rdb_obj *o, const rdb_limits *lim) {
    long long max = lim->set_max_intset_entries;
    if (max > (1LL << 30)) max = 1LL << 30;
    if (o->s.nint != o->s.m.count || (long long)o->s.m.count > max) o->s.flags |= TS_F_HT;
}

int rdb_decode_value(ks *k, int type, rdb_rd *r, const rdb_limits *lim, rdb_obj *o,
                     const char **why) {
    int rc = ST_OK;
    uint64_t n;
    rdb_str s = {0}, s2 = {0};
    *why = "bad data";
    memset(o, 0, sizeof *o);
    switch (type) {
    case RDB_TYPE_STRING:
        if ((rc = rdb_get_string(r, &s))) BAD("bad string");
        o->type = KS_STRING;
        o->str = malloc(s.len ? s.len : 1);
        if (!o->str) {
            rc = ST_NOMEM;
            goto out;
        }
        memcpy(o->str, s.p, s.len);
        o->slen = s.len;
        break;
    case RDB_TYPE_LIST:
        obj_new(k, o, KS_LIST);
        if (rdb_get_len(r, &n, NULL)) BAD("bad length");
        for (uint64_t i = 0; i < n; i++) {
            if ((rc = rdb_get_string(r, &s))) BAD("bad list element");
            rc = tl_push(&o->l, TL_TAIL, s.p, s.len);
            rdb_str_free(&s);
            if (rc) goto out;
        }
        break;
    case RDB_TYPE_SET: {
        obj_new(k, o, KS_SET);
        if (rdb_get_len(r, &n, NULL)) BAD("bad length");
        for (uint64_t i = 0; i < n; i++) {
            if ((rc = rdb_get_string(r, &s))) BAD("bad set member");
            rc = set_add(o, s.p, s.len, why);
            rdb_str_free(&s);
            if (rc) goto out;
        }
        set_judge(o, lim);
        break;
    }
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2: {
        obj_new(k, o, KS_ZSET);
        size_t maxlen = 0;
        if (rdb_get_len(r, &n, NULL)) BAD("bad length");
        for (uint64_t i = 0; i < n; i++) {
            double d;
            if ((rc = rdb_get_string(r, &s))) BAD("bad zset member");
            rc = type == RDB_TYPE_ZSET_2 ? rdb_get_double(r, &d) : rdb_get_double_text(r, &d);
            if (rc) BAD("bad zset score");
            if (s.len > maxlen) maxlen = s.len;
            rc = zset_add(k, o, s.p, s.len, d, why);
            rdb_str_free(&s);
            if (rc) goto out;
        }
        if ((long long)o->count > lim->zset_max_listpack_entries ||
            (long long)maxlen > lim->zset_max_listpack_value)
            o->zflags |= TZ_F_SKIPLIST;
        break;
    }
    case RDB_TYPE_HASH: {
        obj_new(k, o, KS_HASH);
        size_t maxlen = 0;
        if (rdb_get_len(r, &n, NULL)) BAD("bad length");
        for (uint64_t i = 0; i < n; i++) {
            if (rdb_get_string(r, &s) || rdb_get_string(r, &s2)) BAD("bad hash field");
            if (s.len > maxlen) maxlen = s.len;
            if (s2.len > maxlen) maxlen = s2.len;
            rc = hash_add(o, s.p, s.len, s2.p, s2.len, why);
            rdb_str_free(&s);
            rdb_str_free(&s2);
            if (rc) goto out;
        }
        hash_judge(o, lim, maxlen, 1);
        break;
    }
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        obj_new(k, o, KS_LIST);
        if (rdb_get_len(r, &n, NULL)) BAD("bad length");
        for (uint64_t i = 0; i < n; i++) {
            uint64_t container = 2;
            if (type == RDB_TYPE_LIST_QUICKLIST_2 &&
                (rdb_get_len(r, &container, NULL) || (container != 1 && container != 2)))
                BAD("quicklist integrity");
            if (rdb_get_string(r, &s) || s.len == 0) BAD("quicklist node");
            if (container == 1) rc = tl_push(&o->l, TL_TAIL, s.p, s.len); /* plain node */
            else rc = load_list_pack(o, s.p, s.len, type == RDB_TYPE_LIST_QUICKLIST, why);
            rdb_str_free(&s);
            if (rc) goto out;
        }
        break;
    case RDB_TYPE_HASH_ZIPMAP: {
        obj_new(k, o, KS_HASH);
        zm_reader zr;
        size_t maxlen = 0;
        if (rdb_get_string(r, &s) || zm_open(&zr, s.p, s.len)) BAD("zipmap integrity");
        for (;;) {
            const uint8_t *f, *v;
            size_t fl, vl;
            rc = zm_next(&zr, &f, &fl, &v, &vl);
            if (rc == ST_NOTFOUND) break;
            if (rc) BAD("zipmap integrity");
            if (fl > maxlen) maxlen = fl;
            if (vl > maxlen) maxlen = vl;
            if ((rc = hash_add(o, f, fl, v, vl, why))) goto out;
        }
        rc = ST_OK;
        hash_judge(o, lim, maxlen, 1);
        break;
    }
    case RDB_TYPE_LIST_ZIPLIST:
        obj_new(k, o, KS_LIST);
        if (rdb_get_string(r, &s)) BAD("bad ziplist");
        if ((rc = load_list_pack(o, s.p, s.len, 1, why))) goto out;
        break;
    case RDB_TYPE_SET_INTSET: {
        obj_new(k, o, KS_SET);
        uint32_t cnt;
        if (rdb_get_string(r, &s) || is_validate(s.p, s.len, &cnt)) BAD("intset integrity");
        for (uint32_t i = 0; i < cnt; i++) {
            char buf[NUM_LL_STR_SIZE];
            size_t bl = num_ll_to_str(buf, sizeof buf, is_get(s.p, i));
            if ((rc = set_add(o, buf, bl, why))) goto out;
        }
        set_judge(o, lim);
        break;
    }
    case RDB_TYPE_SET_LISTPACK: {
        obj_new(k, o, KS_SET);
        lp_reader lr;
        if (rdb_get_string(r, &s) || lp_open(&lr, s.p, s.len)) BAD("listpack integrity");
        for (;;) {
            pk_val v;
            const uint8_t *t;
            size_t tl;
            rc = lp_next(&lr, &v);
            if (rc == ST_NOTFOUND) break;
            if (rc) BAD("listpack integrity");
            pk_val_text(&v, &t, &tl);
            if ((rc = set_add(o, t, tl, why))) goto out;
        }
        rc = ST_OK;
        set_judge(o, lim);
        break;
    }
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        obj_new(k, o, KS_ZSET);
        if (rdb_get_string(r, &s)) BAD("bad listpack");
        if ((rc = load_pairs(k, o, s.p, s.len, type == RDB_TYPE_ZSET_ZIPLIST, why))) goto out;
        if ((long long)o->count > lim->zset_max_listpack_entries) o->zflags |= TZ_F_SKIPLIST;
        break;
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
        obj_new(k, o, KS_HASH);
        if (rdb_get_string(r, &s)) BAD("bad listpack");
        if ((rc = load_pairs(k, o, s.p, s.len, type == RDB_TYPE_HASH_ZIPLIST, why))) goto out;
        hash_judge(o, lim, 0, 0);
        break;
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3:
        obj_new(k, o, KS_STREAM);
        if ((rc = rdb_stream_decode(k, type, r, o, why))) goto out;
        break;
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2:
        *why = "module data types are not supported";
        rc = ST_INVALID;
        goto out;
    default: BAD("unknown RDB object type");
    }
    /* Streams may be empty (all entries deleted, groups kept); other
     * collections may not. */
    if (o->type != KS_STRING && o->type != KS_STREAM && obj_count(o) == 0) rc = ST_NOTFOUND;
out:
    rdb_str_free(&s);
    rdb_str_free(&s2);
    if (rc != ST_OK) rdb_obj_discard(k, o);
    return rc;
}

int rdb_obj_publish(ks *k, rdb_obj *o, int db, const void *key, size_t klen, int64_t expire) {
    int rc;
    ks_meta m;
    memset(&m, 0, sizeof m);
    switch (o->type) {
    case KS_STRING:
        rc = ks_set_string(k, db, key, klen, o->str, o->slen, expire, 0, 0);
        break;
    case KS_HASH:
        o->h.db = db;
        o->h.key = key;
        o->h.klen = klen;
        o->h.m.expire = expire;
        rc = th_commit(&o->h);
        break;
    case KS_SET:
        o->s.db = db;
        o->s.key = key;
        o->s.klen = klen;
        o->s.m.expire = expire;
        rc = ts_commit(&o->s);
        break;
    case KS_LIST:
        o->l.db = db;
        o->l.key = key;
        o->l.klen = klen;
        o->l.m.expire = expire;
        rc = tl_commit(&o->l);
        break;
    case KS_ZSET:
        o->hdr[0] = o->zflags;
        o->hdrlen = TZ_HDR_LEN;
        /* fall through */
    case KS_STREAM:
        m.type = (uint8_t)o->type;
        m.id = o->id;
        m.count = o->count;
        m.expire = expire;
        m.hdr = o->hdr;
        m.hdrlen = o->hdrlen;
        rc = ks_write_meta(k, db, key, klen, &m);
        break;
    default: rc = ST_CORRUPT;
    }
    if (rc) {
        rdb_obj_discard(k, o);
        return rc;
    }
    free(o->str);
    memset(o, 0, sizeof *o);
    return ST_OK;
}
