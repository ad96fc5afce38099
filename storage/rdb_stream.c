/* rdb_stream.c — streams in RDB form (STREAM_LISTPACKS, _2 and _3).
 *
 * Redis keeps a stream as a radix tree of listpack nodes keyed by their
 * master entry ID; the RDB holds those nodes as they are, then the
 * stream's metadata, then every consumer group with its pending entries
 * list (PEL) and consumers (each with the IDs of its own pending entries).
 *
 * Node layout (Redis's t_stream.c): master entry = count · deleted ·
 * nfields · field names · 0; then per entry: flags · ms-delta · seq-delta ·
 * [nfields · field · value ...] or, with SAMEFIELDS, just the values ·
 * lp-count (the number of elements of the entry, for backward walks).
 * Deltas are unsigned differences from the master ID stored as int64.
 *
 * Decoding writes entries, groups, consumers and PEL records under the
 * fresh stream id (rdb.c publishes or discards it). A PEL entry is first
 * written without an owner; each consumer's PEL then claims its entries,
 * and a group whose PEL has an entry nobody claimed, or an entry claimed
 * twice or not in the group PEL, is corruption (Redis's deep checks). */
#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/rdb_int.h"
#include "storage/rdb_pack.h"
#include "storage/t_hash.h"
#include "storage/t_stream.h"

#define F_DELETED   1
#define F_SAMEFIELD 2

/* ------------------------------------------------------------------ */
/* encoding                                                            */

typedef struct node {
    lp_writer body;        /* entries after the master entry */
    strm_id master;
    uint64_t count;
    rdb_buf fields;        /* master field names: len(4 BE) · bytes ... */
    uint64_t nfields;
    int open;
} node;

static void node_flush(node *n, const rdb_limits *lim, rdb_buf *nodes, uint64_t *nnodes, int *rc) {
    if (!n->open) return;
    lp_writer w;
    lpw_init(&w);
    lpw_add_int(&w, (int64_t)n->count);
    lpw_add_int(&w, 0);
    lpw_add_int(&w, (int64_t)n->nfields);
    for (size_t off = 0; off < n->fields.len;) {
        uint32_t l = be32_get(n->fields.p + off);
        lpw_add(&w, n->fields.p + off + 4, l);
        off += 4 + l;
    }
    lpw_add_int(&w, 0);
    rdb_put_raw(&w.b, n->body.b.p + 6, n->body.b.len - 6);
    w.count += n->body.count;
    uint8_t key[16];
    be64_put(key, n->master.ms);
    be64_put(key + 8, n->master.seq);
    rdb_put_string(nodes, key, 16, lim->compress);
    int r = lpw_finish(&w);
    if (r) *rc = r;
    else rdb_put_string(nodes, w.b.p, w.b.len, lim->compress);
    lpw_free(&w);
    lpw_free(&n->body);
    rdb_buf_free(&n->fields);
    n->open = 0;
    (*nnodes)++;
}

static int same_fields(const node *n, const uint8_t *v, size_t vl, uint64_t nf) {
    if (nf != n->nfields) return 0;
    size_t off = 0, foff = 0, l;
    const uint8_t *p;
    for (uint64_t i = 0; i < nf; i++) {
        if (strm_fields_next(v, vl, &off, &p, &l) != ST_OK) return 0;
        uint32_t fl = be32_get(n->fields.p + foff);
        if (fl != l || memcmp(n->fields.p + foff + 4, p, l) != 0) return 0;
        foff += 4 + fl;
        if (strm_fields_next(v, vl, &off, &p, &l) != ST_OK) return 0; /* the value */
    }
    return 1;
}

static int encode_entries(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *nodes,
                          uint64_t *nnodes, strm_id *first) {
    strm_iter it;
    strm_id lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX}, eid;
    int rc = strm_iter_open(&it, ks_store(k), m->id, lo, hi, 0);
    if (rc) return rc;
    node n;
    memset(&n, 0, sizeof n);
    size_t maxb = lim->stream_node_max_bytes > 0 ? (size_t)lim->stream_node_max_bytes : (1u << 30);
    const uint8_t *v;
    size_t vl;
    int seen = 0;
    while ((rc = strm_iter_next(&it, &eid, &v, &vl)) == ST_OK) {
        if (!seen) *first = eid;
        seen = 1;
        uint64_t nf = strm_fields_count(v, vl) / 2;
        size_t tot = vl - 8 * nf; /* field and value bytes */
        if (n.open && (lpw_bytes(&n.body) + n.fields.len + tot >= maxb ||
                       (lim->stream_node_max_entries &&
                        (long long)n.count >= lim->stream_node_max_entries)))
            node_flush(&n, lim, nodes, nnodes, &rc);
        if (rc) break;
        if (!n.open) {
            memset(&n, 0, sizeof n);
            n.open = 1;
            n.master = eid;
            lpw_init(&n.body);
            n.nfields = nf;
            size_t off = 0, l;
            const uint8_t *p;
            for (uint64_t i = 0; i < nf; i++) {
                strm_fields_next(v, vl, &off, &p, &l);
                uint8_t lb[4];
                be32_put(lb, (uint32_t)l);
                rdb_put_raw(&n.fields, lb, 4);
                rdb_put_raw(&n.fields, p, l);
                strm_fields_next(v, vl, &off, &p, &l);
            }
        }
        int same = same_fields(&n, v, vl, nf);
        lpw_add_int(&n.body, same ? F_SAMEFIELD : 0);
        lpw_add_int(&n.body, (int64_t)(eid.ms - n.master.ms));
        lpw_add_int(&n.body, (int64_t)(eid.seq - n.master.seq));
        if (!same) lpw_add_int(&n.body, (int64_t)nf);
        size_t off = 0, l;
        const uint8_t *p;
        for (uint64_t i = 0; i < 2 * nf; i++) {
            strm_fields_next(v, vl, &off, &p, &l);
            if (same && i % 2 == 0) continue; /* field names come from the master */
            lpw_add(&n.body, p, l);
        }
        lpw_add_int(&n.body, (int64_t)(same ? nf + 3 : 2 * nf + 4));
        n.count++;
    }
    strm_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc == ST_OK) node_flush(&n, lim, nodes, nnodes, &rc);
    if (n.open) {
        lpw_free(&n.body);
        rdb_buf_free(&n.fields);
    }
    return rc;
}

/* One group as collected before its PEL and consumers are read. */
typedef struct grp {
    uint8_t *name;
    size_t nlen;
    strm_group g;
} grp;

static int collect_groups(ks *k, uint64_t sid, grp **out, size_t *n) {
    cm_kiter ki;
    cm_entry e;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc;
    cm_kiter_open(&ki, k, sid, STRM_KIND_GROUP, NULL, 0);
    while ((rc = cm_kiter_next(&ki, &e)) == ST_OK) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            grp *ng = realloc(*out, cap * sizeof *ng);
            if (!ng) {
                rc = ST_NOMEM;
                break;
            }
            *out = ng;
        }
        grp *g = &(*out)[*n];
        g->name = malloc(e.mlen + 1);
        if (!g->name) {
            rc = ST_NOMEM;
            break;
        }
        memcpy(g->name, e.member, e.mlen);
        g->nlen = e.mlen;
        (*n)++;
        if ((rc = strm_group_decode(e.payload, e.plen, &g->g))) break;
    }
    cm_kiter_close(&ki);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

/* Emit n (the count of items built in tmp) then the items; frees tmp. */
static int put_counted(rdb_buf *out, rdb_buf *tmp, uint64_t n, int rc) {
    if (rc == ST_NOTFOUND) rc = ST_OK;
    rdb_put_len(out, n);
    rdb_put_raw(out, tmp->p, tmp->len);
    if (tmp->oom) rc = ST_NOMEM;
    rdb_buf_free(tmp);
    return rc;
}

static int encode_pel(ks *k, const uint8_t *prefix, size_t plen, int nacks, rdb_buf *out) {
    strm_scan sc;
    const uint8_t *key, *v;
    size_t kl, vl;
    rdb_buf tmp = {0};
    uint64_t n = 0;
    int rc = strm_scan_open(&sc, ks_store(k), prefix, plen, NULL, 0);
    if (rc) return rc;
    while ((rc = strm_scan_next(&sc, &key, &kl, &v, &vl)) == ST_OK) {
        if (kl < 16) continue;
        rdb_put_raw(&tmp, key + kl - 16, 16); /* the ID, big endian as Redis keeps it */
        if (nacks) {
            strm_pel pe;
            strm_pel_decode(v, vl, &pe);
            rdb_put_u64le(&tmp, (uint64_t)pe.delivery);
            rdb_put_len(&tmp, pe.count);
        }
        n++;
    }
    strm_scan_close(&sc);
    return put_counted(out, &tmp, n, rc);
}

static int encode_consumers(ks *k, uint64_t sid, uint64_t gid, const rdb_limits *lim,
                            rdb_buf *out) {
    uint8_t gpfx[8];
    be64_put(gpfx, gid);
    cm_kiter ki;
    cm_entry e;
    rdb_buf tmp = {0};
    uint64_t n = 0;
    int rc;
    cm_kiter_open(&ki, k, sid, STRM_KIND_CONSUMER, gpfx, 8);
    while ((rc = cm_kiter_next(&ki, &e)) == ST_OK) {
        strm_consumer c;
        if ((rc = strm_consumer_decode(e.payload, e.plen, &c))) break;
        rdb_put_string(&tmp, e.member + 8, e.mlen - 8, lim->compress);
        rdb_put_u64le(&tmp, (uint64_t)c.seen);
        uint8_t pfx[25];
        be64_put(pfx, sid);
        pfx[8] = STRM_KIND_CPEL;
        be64_put(pfx + 9, gid);
        be64_put(pfx + 17, c.cid);
        if ((rc = encode_pel(k, pfx, sizeof pfx, 0, &tmp))) break;
        n++;
    }
    cm_kiter_close(&ki);
    return put_counted(out, &tmp, n, rc);
}

int rdb_stream_encode(ks *k, const ks_meta *m, const rdb_limits *lim, rdb_buf *out) {
    strm_hdr h;
    strm_hdr_decode(m->hdr, m->hdrlen, &h);
    rdb_buf nodes = {0};
    uint64_t nnodes = 0;
    strm_id first = {0, 0};
    grp *gs = NULL;
    size_t ng = 0;
    int rc = encode_entries(k, m, lim, &nodes, &nnodes, &first);
    if (rc == ST_OK) rc = collect_groups(k, m->id, &gs, &ng);
    if (rc == ST_OK) {
        int v2 = lim->rdb_version >= 10; /* version 9: Redis 5/6 streams */
        rdb_put_byte(out, v2 ? RDB_TYPE_STREAM_LISTPACKS_2 : RDB_TYPE_STREAM_LISTPACKS);
        rdb_put_len(out, nnodes);
        rdb_put_raw(out, nodes.p, nodes.len);
        rdb_put_len(out, m->count);
        rdb_put_len(out, h.last.ms);
        rdb_put_len(out, h.last.seq);
        if (v2) {
            rdb_put_len(out, first.ms);
            rdb_put_len(out, first.seq);
            rdb_put_len(out, h.maxdel.ms);
            rdb_put_len(out, h.maxdel.seq);
            rdb_put_len(out, h.added);
        }
        rdb_put_len(out, ng);
        for (size_t i = 0; i < ng && rc == ST_OK; i++) {
            rdb_put_string(out, gs[i].name, gs[i].nlen, lim->compress);
            rdb_put_len(out, gs[i].g.last.ms);
            rdb_put_len(out, gs[i].g.last.seq);
            if (v2) rdb_put_len(out, (uint64_t)gs[i].g.entries_read);
            uint8_t pfx[17];
            be64_put(pfx, m->id);
            pfx[8] = STRM_KIND_PEL;
            be64_put(pfx + 9, gs[i].g.gid);
            rc = encode_pel(k, pfx, sizeof pfx, 1, out);
            if (rc == ST_OK) rc = encode_consumers(k, m->id, gs[i].g.gid, lim, out);
        }
    }
    if (nodes.oom) rc = ST_NOMEM;
    rdb_buf_free(&nodes);
    for (size_t i = 0; i < ng; i++) free(gs[i].name);
    free(gs);
    return rc;
}

/* ------------------------------------------------------------------ */
/* decoding                                                            */

#define BAD(msg)                                                                                   \
    do {                                                                                           \
        *why = (msg);                                                                              \
        rc = ST_CORRUPT;                                                                           \
        goto out;                                                                                  \
    } while (0)

static int lp_int(lp_reader *r, int64_t *v) {
    pk_val x;
    if (lp_next(r, &x) || !x.is_int) return ST_CORRUPT;
    *v = x.v;
    return ST_OK;
}

/* The elements of one entry, as text, gathered for strm_entry_put. */
typedef struct vals {
    pk_val *v;
    const void **p;
    size_t *l;
    size_t n, cap;
} vals;

static int vals_push(vals *a, const pk_val *x) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        pk_val *nv = realloc(a->v, nc * sizeof *nv);
        if (!nv) return ST_NOMEM;
        a->v = nv;
        const void **np = realloc(a->p, nc * sizeof *np);
        if (!np) return ST_NOMEM;
        a->p = np;
        size_t *nl = realloc(a->l, nc * sizeof *nl);
        if (!nl) return ST_NOMEM;
        a->l = nl;
        a->cap = nc;
    }
    a->v[a->n++] = *x;
    return ST_OK;
}

static void vals_free(vals *a) {
    free(a->v);
    free(a->p);
    free(a->l);
}

/* Point p/l at the text of each value (after the array stopped moving). */
static void vals_texts(vals *a, size_t from) {
    for (size_t i = from; i < a->n; i++) {
        const uint8_t *t;
        pk_val_text(&a->v[i], &t, &a->l[i]);
        a->p[i] = t;
    }
}

static int decode_node(ks *k, rdb_obj *o, const uint8_t *lp, size_t size, strm_id master,
                       strm_id *prev, int *have_prev, const char **why) {
    lp_reader r;
    vals mf = {0}, ev = {0};
    int64_t count, deleted, nf, zero;
    int rc = ST_OK;
    pk_val x;
    if (lp_open(&r, lp, size) || lp_int(&r, &count) || lp_int(&r, &deleted) ||
        lp_int(&r, &nf) || count < 0 || deleted < 0 || nf < 0 || count + deleted == 0)
        BAD("stream listpack integrity");
    for (int64_t i = 0; i < nf; i++) {
        if (lp_next(&r, &x)) BAD("stream listpack integrity");
        if ((rc = vals_push(&mf, &x))) goto out;
    }
    if (lp_int(&r, &zero) || zero != 0) BAD("stream listpack integrity");
    for (int64_t e = 0; e < count + deleted; e++) {
        int64_t flags, dms, dseq, n = nf, lpc;
        if (lp_int(&r, &flags) || lp_int(&r, &dms) || lp_int(&r, &dseq))
            BAD("stream listpack integrity");
        ev.n = 0;
        if (flags & F_SAMEFIELD) {
            for (int64_t i = 0; i < nf; i++) {
                if ((rc = vals_push(&ev, &mf.v[i]))) goto out;
                if (lp_next(&r, &x)) BAD("stream listpack integrity");
                if ((rc = vals_push(&ev, &x))) goto out;
            }
        } else {
            if (lp_int(&r, &n) || n < 0) BAD("stream listpack integrity");
            for (int64_t i = 0; i < 2 * n; i++) {
                if (lp_next(&r, &x)) BAD("stream listpack integrity");
                if ((rc = vals_push(&ev, &x))) goto out;
            }
        }
        if (lp_int(&r, &lpc) || lpc != ((flags & F_SAMEFIELD) ? n + 3 : 2 * n + 4))
            BAD("stream listpack integrity");
        if (flags & F_DELETED) continue;
        strm_id id = {master.ms + (uint64_t)dms, master.seq + (uint64_t)dseq};
        if (*have_prev && strm_id_cmp(id, *prev) <= 0) BAD("stream IDs out of order");
        *prev = id;
        *have_prev = 1;
        vals_texts(&ev, 0);
        if ((rc = strm_entry_put(ks_store(k), o->id, id, ev.p, ev.l, ev.n))) goto out;
        o->count++;
    }
    if (lp_next(&r, &x) != ST_NOTFOUND) BAD("stream listpack integrity");
out:
    vals_free(&mf);
    vals_free(&ev);
    return rc;
}

static int get_id(rdb_rd *r, strm_id *id) {
    return rdb_get_len(r, &id->ms, NULL) || rdb_get_len(r, &id->seq, NULL) ? ST_CORRUPT : ST_OK;
}

static int raw_id(rdb_rd *r, strm_id *id) {
    const uint8_t *p;
    if (rdb_get_raw(r, 16, &p)) return ST_CORRUPT;
    id->ms = be64_get(p);
    id->seq = be64_get(p + 8);
    return ST_OK;
}

/* Redis's estimate of a group's entries-read for streams saved before 7.0. */
static int64_t estimate_read(const strm_hdr *h, uint64_t len, strm_id last) {
    if (!h->added) return 0;
    int cl = strm_id_cmp(last, h->last);
    if (cl == 0) return (int64_t)h->added;
    if (cl > 0) return -1;
    /* Exact only when nothing was deleted at or after the first entry. */
    strm_id zero = {0, 0};
    if (strm_id_cmp(h->maxdel, zero) != 0 && strm_id_cmp(h->maxdel, h->first) >= 0) return -1;
    int cf = strm_id_cmp(last, h->first);
    if (cf < 0) return (int64_t)(h->added - len);
    if (cf == 0) return (int64_t)(h->added - len + 1);
    return -1;
}

static int decode_group(ks *k, int type, rdb_rd *r, rdb_obj *o, const strm_hdr *h,
                        const char **why) {
    rdb_str name = {0}, cname = {0};
    int rc = ST_OK;
    strm_group g;
    memset(&g, 0, sizeof g);
    const uint8_t *pv;
    size_t pl;
    uint64_t npel, ncons, claimed = 0;
    if (rdb_get_string(r, &name) || get_id(r, &g.last)) BAD("stream group");
    if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
        uint64_t er;
        if (rdb_get_len(r, &er, NULL)) BAD("stream group");
        g.entries_read = (int64_t)er;
    } else {
        g.entries_read = estimate_read(h, o->count, g.last);
    }
    rc = cm_get(k, o->id, STRM_KIND_GROUP, NULL, 0, name.p, name.len, &pv, &pl);
    if (rc == ST_OK) BAD("duplicate stream group");
    if (rc != ST_NOTFOUND) goto out;
    g.gid = ks_new_id(k);
    if (rdb_get_len(r, &npel, NULL)) BAD("stream PEL");
    for (uint64_t i = 0; i < npel; i++) {
        strm_id id;
        uint64_t dt, dc;
        strm_pel pe;
        if (raw_id(r, &id) || rdb_get_u64le(r, &dt) || rdb_get_len(r, &dc, NULL))
            BAD("stream PEL");
        rc = strm_pel_get(ks_store(k), o->id, g.gid, id, &pe);
        if (rc == ST_OK) BAD("duplicate stream PEL entry");
        if (rc != ST_NOTFOUND) goto out;
        strm_pel np = {(int64_t)dt, dc, 0, NULL, 0};
        if ((rc = strm_pel_put(ks_store(k), o->id, g.gid, id, &np))) goto out;
    }
    g.pel_count = npel;
    if (rdb_get_len(r, &ncons, NULL)) BAD("stream consumers");
    for (uint64_t c = 0; c < ncons; c++) {
        uint64_t seen, active, n;
        if (rdb_get_string(r, &cname) || rdb_get_u64le(r, &seen)) BAD("stream consumer");
        if (type >= RDB_TYPE_STREAM_LISTPACKS_3 && rdb_get_u64le(r, &active))
            BAD("stream consumer");
        size_t ml = 8 + cname.len;
        uint8_t *mem = malloc(ml);
        if (!mem) {
            rc = ST_NOMEM;
            goto out;
        }
        be64_put(mem, g.gid);
        memcpy(mem + 8, cname.p, cname.len);
        rc = cm_get(k, o->id, STRM_KIND_CONSUMER, NULL, 0, mem, ml, &pv, &pl);
        free(mem);
        if (rc == ST_OK) BAD("duplicate stream consumer");
        if (rc != ST_NOTFOUND) goto out;
        strm_consumer cr = {ks_new_id(k), (int64_t)seen, 0};
        if (rdb_get_len(r, &n, NULL)) BAD("stream consumer PEL");
        for (uint64_t i = 0; i < n; i++) {
            strm_id id;
            strm_pel pe;
            if (raw_id(r, &id)) BAD("stream consumer PEL");
            rc = strm_pel_get(ks_store(k), o->id, g.gid, id, &pe);
            if (rc == ST_NOTFOUND) BAD("consumer PEL entry not in the group PEL");
            if (rc) goto out;
            if (pe.cid != 0) BAD("stream PEL entry owned twice");
            strm_pel np = {pe.delivery, pe.count, cr.cid, cname.p, cname.len};
            if ((rc = strm_pel_put(ks_store(k), o->id, g.gid, id, &np)) ||
                (rc = strm_cpel_put(ks_store(k), o->id, g.gid, cr.cid, id)))
                goto out;
            cr.pel_count++;
            claimed++;
        }
        if ((rc = strm_consumer_put(k, o->id, g.gid, cname.p, cname.len, &cr))) goto out;
        g.ncons++;
        rdb_str_free(&cname);
    }
    if (claimed != npel) BAD("stream PEL entry without consumer");
    rc = strm_group_put(k, o->id, name.p, name.len, &g);
out:
    rdb_str_free(&name);
    rdb_str_free(&cname);
    return rc;
}

int rdb_stream_decode(ks *k, int type, rdb_rd *r, rdb_obj *o, const char **why) {
    uint64_t nlp, length, ngroups;
    rdb_str key = {0}, lp = {0};
    strm_hdr h;
    memset(&h, 0, sizeof h);
    strm_id prev = {0, 0}, first = {0, 0};
    int have_prev = 0, rc = ST_OK;
    if (rdb_get_len(r, &nlp, NULL)) BAD("stream");
    for (uint64_t i = 0; i < nlp; i++) {
        if (rdb_get_string(r, &key) || key.len != 16) BAD("stream node key");
        strm_id master = {be64_get(key.p), be64_get(key.p + 8)};
        if (rdb_get_string(r, &lp)) BAD("stream node");
        if ((rc = decode_node(k, o, lp.p, lp.len, master, &prev, &have_prev, why))) goto out;
        rdb_str_free(&key);
        rdb_str_free(&lp);
    }
    if (rdb_get_len(r, &length, NULL) || get_id(r, &h.last)) BAD("stream metadata");
    if (length != o->count) BAD("stream length does not match its entries");
    if (have_prev && strm_id_cmp(prev, h.last) > 0) BAD("stream last ID below an entry");
    if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
        if (get_id(r, &h.first) || get_id(r, &h.maxdel) || rdb_get_len(r, &h.added, NULL))
            BAD("stream metadata");
    } else {
        h.added = length;
    }
    /* The first ID is recomputed from the entries: it is derived data. */
    if (o->count) {
        strm_iter it;
        strm_id lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
        const uint8_t *v;
        size_t vl;
        if ((rc = strm_iter_open(&it, ks_store(k), o->id, lo, hi, 0))) goto out;
        rc = strm_iter_next(&it, &first, &v, &vl);
        strm_iter_close(&it);
        if (rc) goto out;
        h.first = first;
    }
    if (rdb_get_len(r, &ngroups, NULL)) BAD("stream groups");
    for (uint64_t i = 0; i < ngroups; i++)
        if ((rc = decode_group(k, type, r, o, &h, why))) goto out;
    h.ngroups = ngroups;
    strm_hdr_encode(&h, o->hdr);
    o->hdrlen = STRM_HDR_LEN;
out:
    rdb_str_free(&key);
    rdb_str_free(&lp);
    return rc;
}
