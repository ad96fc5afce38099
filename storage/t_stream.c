/* t_stream.c — stream storage: ID parsing and formatting, entries, group,
 * consumer and pending-entry records (layout in t_stream.h).
 *
 * An entry is one `sub` entry keyed by its ID in big-endian, so ranges in
 * either direction are cursor walks and a point lookup is one probe. The
 * PEL of a group is kept twice, as Redis does: once by ID for the group
 * (XPENDING, XCLAIM, XAUTOCLAIM, XACK) and once per consumer (XREADGROUP
 * history, XPENDING with a consumer, DELCONSUMER); both go through the WAL
 * like any other write, so they survive restarts exactly.
 *
 * Entry value: for each string, len(4 BE) · bytes. Records use fixed
 * big-endian fields (see the encoders below). */
#include "storage/t_stream.h"

#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/num.h"
#include "storage/t_hash.h"

void strm_hdr_decode(const uint8_t *p, size_t len, strm_hdr *h) {
    memset(h, 0, sizeof *h);
    if (!p || len < STRM_HDR_LEN) return;
    h->last.ms = be64_get(p);
    h->last.seq = be64_get(p + 8);
    h->maxdel.ms = be64_get(p + 16);
    h->maxdel.seq = be64_get(p + 24);
    h->first.ms = be64_get(p + 32);
    h->first.seq = be64_get(p + 40);
    h->added = be64_get(p + 48);
    h->ngroups = be64_get(p + 56);
}

void strm_hdr_encode(const strm_hdr *h, uint8_t *out) {
    be64_put(out, h->last.ms);
    be64_put(out + 8, h->last.seq);
    be64_put(out + 16, h->maxdel.ms);
    be64_put(out + 24, h->maxdel.seq);
    be64_put(out + 32, h->first.ms);
    be64_put(out + 40, h->first.seq);
    be64_put(out + 48, h->added);
    be64_put(out + 56, h->ngroups);
}

int strm_id_cmp(strm_id a, strm_id b) {
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}

size_t strm_id_format(strm_id id, char *buf) {
    size_t n = num_ull_to_str(buf, 21, id.ms);
    buf[n++] = '-';
    n += num_ull_to_str(buf + n, 21, id.seq);
    buf[n] = '\0';
    return n;
}

int strm_id_parse(const void *s, size_t len, strm_id *id, uint64_t missing_seq, int strict,
                int *seq_given) {
    const char *p = s;
    if (len > 127) return -1;
    /* Redis works on a C string: anything after an embedded NUL is ignored. */
    const char *nul = memchr(p, '\0', len);
    if (nul) len = (size_t)(nul - p);
    if (len == 1 && (p[0] == '-' || p[0] == '+')) {
        if (strict) return -1;
        if (seq_given) *seq_given = 1;
        id->ms = id->seq = p[0] == '-' ? 0 : UINT64_MAX;
        return 0;
    }
    if (seq_given) *seq_given = 1;
    const char *dash = memchr(p, '-', len);
    size_t mslen = dash ? (size_t)(dash - p) : len;
    unsigned long long ms, seq;
    if (num_parse_ull_loose(p, mslen, &ms) != 0) return -1;
    if (dash) {
        const char *q = dash + 1;
        size_t ql = len - mslen - 1;
        if (seq_given && ql == 1 && q[0] == '*') {
            seq = 0;
            *seq_given = 0;
        } else if (num_parse_ull_loose(q, ql, &seq) != 0) {
            return -1;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return 0;
}

int strm_id_incr(strm_id *id) {
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) return -1;
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 0;
}

int strm_id_decr(strm_id *id) {
    if (id->seq == 0) {
        if (id->ms == 0) return -1;
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* entries                                                             */

size_t strm_entry_key(uint64_t sid, strm_id eid, uint8_t *out) {
    be64_put(out, sid);
    out[8] = STRM_KIND_ENTRY;
    be64_put(out + 9, eid.ms);
    be64_put(out + 17, eid.seq);
    return 25;
}

int strm_entry_put(store *s, uint64_t sid, strm_id eid, const void *const *p, const size_t *l,
                 size_t n) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += 4 + l[i];
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) return ST_NOMEM;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        be32_put(buf + off, (uint32_t)l[i]);
        if (l[i]) memcpy(buf + off + 4, p[i], l[i]);
        off += 4 + l[i];
    }
    uint8_t key[25];
    int rc = store_put(s, ST_DBI_SUB, key, strm_entry_key(sid, eid, key), buf, total);
    free(buf);
    return rc;
}

int strm_entry_get(store *s, uint64_t sid, strm_id eid, const uint8_t **v, size_t *vlen) {
    uint8_t key[25];
    return store_get(s, ST_DBI_SUB, key, strm_entry_key(sid, eid, key), v, vlen);
}

int strm_entry_del(store *s, uint64_t sid, strm_id eid) {
    uint8_t key[25];
    size_t kl = strm_entry_key(sid, eid, key);
    const uint8_t *v;
    size_t vl;
    int rc = store_get(s, ST_DBI_SUB, key, kl, &v, &vl);
    if (rc) return rc;
    return store_del(s, ST_DBI_SUB, key, kl);
}

int strm_fields_next(const uint8_t *v, size_t vlen, size_t *off, const uint8_t **p, size_t *l) {
    if (*off >= vlen) return ST_NOTFOUND;
    if (vlen - *off < 4) return ST_CORRUPT;
    uint32_t n = be32_get(v + *off);
    if (vlen - *off - 4 < n) return ST_CORRUPT;
    *p = v + *off + 4;
    *l = n;
    *off += 4 + (size_t)n;
    return ST_OK;
}

size_t strm_fields_count(const uint8_t *v, size_t vlen) {
    size_t off = 0, n = 0, l;
    const uint8_t *p;
    while (strm_fields_next(v, vlen, &off, &p, &l) == ST_OK) n++;
    return n;
}

int strm_iter_open(strm_iter *it, store *s, uint64_t sid, strm_id start, strm_id end, int rev) {
    memset(it, 0, sizeof *it);
    be64_put(it->prefix, sid);
    it->prefix[8] = STRM_KIND_ENTRY;
    it->start = start;
    it->end = end;
    it->rev = rev;
    if (strm_id_cmp(start, end) > 0) {
        it->done = 1;
        return ST_OK;
    }
    int rc = store_cursor_open(s, ST_DBI_SUB, &it->cur);
    if (rc) return rc;
    uint8_t key[25];
    strm_entry_key(sid, rev ? end : start, key);
    rc = rev ? store_cursor_seek_rev(it->cur, key, 25) : store_cursor_seek(it->cur, key, 25);
    if (rc == ST_NOTFOUND) it->done = 1;
    else if (rc) {
        store_cursor_close(it->cur);
        it->cur = NULL;
        return rc;
    }
    return ST_OK;
}

int strm_iter_next(strm_iter *it, strm_id *eid, const uint8_t **v, size_t *vlen) {
    if (it->done || !it->cur) return ST_NOTFOUND;
    int rc;
    if (it->started) {
        rc = it->rev ? store_cursor_prev(it->cur) : store_cursor_next(it->cur);
        if (rc) {
            it->done = 1;
            return rc == ST_NOTFOUND ? ST_NOTFOUND : rc;
        }
    }
    it->started = 1;
    const uint8_t *k;
    size_t kl;
    rc = store_cursor_get(it->cur, &k, &kl, v, vlen);
    if (rc || kl != 25 || memcmp(k, it->prefix, 9) != 0) {
        it->done = 1;
        return rc && rc != ST_NOTFOUND ? rc : ST_NOTFOUND;
    }
    eid->ms = be64_get(k + 9);
    eid->seq = be64_get(k + 17);
    if (it->rev ? strm_id_cmp(*eid, it->start) < 0 : strm_id_cmp(*eid, it->end) > 0) {
        it->done = 1;
        return ST_NOTFOUND;
    }
    return ST_OK;
}

void strm_iter_close(strm_iter *it) {
    if (it->cur) store_cursor_close(it->cur);
    it->cur = NULL;
}

/* ------------------------------------------------------------------ */
/* records                                                             */

void strm_group_encode(const strm_group *g, uint8_t *out) {
    be64_put(out, g->gid);
    be64_put(out + 8, g->last.ms);
    be64_put(out + 16, g->last.seq);
    be64_put(out + 24, (uint64_t)g->entries_read);
    be64_put(out + 32, g->pel_count);
    be64_put(out + 40, g->ncons);
}

int strm_group_decode(const uint8_t *p, size_t len, strm_group *g) {
    if (len < STRM_GROUP_LEN) return ST_CORRUPT;
    g->gid = be64_get(p);
    g->last.ms = be64_get(p + 8);
    g->last.seq = be64_get(p + 16);
    g->entries_read = (int64_t)be64_get(p + 24);
    g->pel_count = be64_get(p + 32);
    g->ncons = be64_get(p + 40);
    return ST_OK;
}

void strm_consumer_encode(const strm_consumer *c, uint8_t *out) {
    be64_put(out, c->cid);
    be64_put(out + 8, (uint64_t)c->seen);
    be64_put(out + 16, c->pel_count);
}

int strm_consumer_decode(const uint8_t *p, size_t len, strm_consumer *c) {
    if (len < STRM_CONS_LEN) return ST_CORRUPT;
    c->cid = be64_get(p);
    c->seen = (int64_t)be64_get(p + 8);
    c->pel_count = be64_get(p + 16);
    return ST_OK;
}

int strm_group_put(ks *k, uint64_t sid, const void *name, size_t nlen, const strm_group *g) {
    uint8_t rec[STRM_GROUP_LEN];
    strm_group_encode(g, rec);
    return cm_put(k, sid, STRM_KIND_GROUP, NULL, 0, name, nlen, rec, STRM_GROUP_LEN, NULL);
}

int strm_consumer_put(ks *k, uint64_t sid, uint64_t gid, const void *name, size_t nlen,
                      const strm_consumer *c) {
    uint8_t *m = malloc(8 + nlen + 1), rec[STRM_CONS_LEN];
    if (!m) return ST_NOMEM;
    be64_put(m, gid);
    if (nlen) memcpy(m + 8, name, nlen);
    strm_consumer_encode(c, rec);
    int rc = cm_put(k, sid, STRM_KIND_CONSUMER, NULL, 0, m, 8 + nlen, rec, STRM_CONS_LEN, NULL);
    free(m);
    return rc;
}

size_t strm_pel_key(uint64_t sid, uint64_t gid, strm_id eid, uint8_t *out) {
    be64_put(out, sid);
    out[8] = STRM_KIND_PEL;
    be64_put(out + 9, gid);
    be64_put(out + 17, eid.ms);
    be64_put(out + 25, eid.seq);
    return 33;
}

size_t strm_cpel_key(uint64_t sid, uint64_t gid, uint64_t cid, strm_id eid, uint8_t *out) {
    be64_put(out, sid);
    out[8] = STRM_KIND_CPEL;
    be64_put(out + 9, gid);
    be64_put(out + 17, cid);
    be64_put(out + 25, eid.ms);
    be64_put(out + 33, eid.seq);
    return 41;
}

void strm_pel_decode(const uint8_t *v, size_t vl, strm_pel *pe) {
    memset(pe, 0, sizeof *pe);
    if (vl < STRM_PEL_LEN) return;
    pe->delivery = (int64_t)be64_get(v);
    pe->count = be64_get(v + 8);
    pe->cid = be64_get(v + 16);
    pe->name = v + STRM_PEL_LEN;
    pe->nlen = vl - STRM_PEL_LEN;
}

int strm_pel_get(store *s, uint64_t sid, uint64_t gid, strm_id eid, strm_pel *pe) {
    uint8_t key[33];
    const uint8_t *v;
    size_t vl;
    int rc = store_get(s, ST_DBI_SUB, key, strm_pel_key(sid, gid, eid, key), &v, &vl);
    if (rc) return rc;
    strm_pel_decode(v, vl, pe);
    return ST_OK;
}

int strm_pel_put(store *s, uint64_t sid, uint64_t gid, strm_id eid, const strm_pel *pe) {
    uint8_t key[33];
    uint8_t *buf = malloc(STRM_PEL_LEN + pe->nlen + 1);
    if (!buf) return ST_NOMEM;
    be64_put(buf, (uint64_t)pe->delivery);
    be64_put(buf + 8, pe->count);
    be64_put(buf + 16, pe->cid);
    if (pe->nlen) memcpy(buf + STRM_PEL_LEN, pe->name, pe->nlen);
    int rc = store_put(s, ST_DBI_SUB, key, strm_pel_key(sid, gid, eid, key), buf,
                       STRM_PEL_LEN + pe->nlen);
    free(buf);
    return rc;
}

int strm_pel_del(store *s, uint64_t sid, uint64_t gid, strm_id eid) {
    uint8_t key[33];
    return store_del(s, ST_DBI_SUB, key, strm_pel_key(sid, gid, eid, key));
}

int strm_cpel_put(store *s, uint64_t sid, uint64_t gid, uint64_t cid, strm_id eid) {
    uint8_t key[41];
    return store_put(s, ST_DBI_SUB, key, strm_cpel_key(sid, gid, cid, eid, key), "", 0);
}

int strm_cpel_del(store *s, uint64_t sid, uint64_t gid, uint64_t cid, strm_id eid) {
    uint8_t key[41];
    return store_del(s, ST_DBI_SUB, key, strm_cpel_key(sid, gid, cid, eid, key));
}

int strm_scan_open(strm_scan *sc, store *s, const uint8_t *prefix, size_t plen, const uint8_t *from,
                 size_t fromlen) {
    memset(sc, 0, sizeof *sc);
    if (plen > sizeof sc->prefix) return ST_INVALID;
    memcpy(sc->prefix, prefix, plen);
    sc->plen = plen;
    int rc = store_cursor_open(s, ST_DBI_SUB, &sc->cur);
    if (rc) return rc;
    rc = from ? store_cursor_seek(sc->cur, from, fromlen) : store_cursor_seek(sc->cur, prefix, plen);
    if (rc == ST_NOTFOUND) sc->done = 1;
    else if (rc) {
        store_cursor_close(sc->cur);
        sc->cur = NULL;
        return rc;
    }
    return ST_OK;
}

int strm_scan_next(strm_scan *sc, const uint8_t **k, size_t *kl, const uint8_t **v, size_t *vl) {
    if (sc->done || !sc->cur) return ST_NOTFOUND;
    int rc;
    if (sc->started) {
        rc = store_cursor_next(sc->cur);
        if (rc) {
            sc->done = 1;
            return rc == ST_NOTFOUND ? ST_NOTFOUND : rc;
        }
    }
    sc->started = 1;
    rc = store_cursor_get(sc->cur, k, kl, v, vl);
    if (rc || *kl < sc->plen || memcmp(*k, sc->prefix, sc->plen) != 0) {
        sc->done = 1;
        return rc && rc != ST_NOTFOUND ? rc : ST_NOTFOUND;
    }
    return ST_OK;
}

void strm_scan_close(strm_scan *sc) {
    if (sc->cur) store_cursor_close(sc->cur);
    sc->cur = NULL;
}

strm_id strm_key_tail_id(const uint8_t *k, size_t kl) {
    strm_id id = {0, 0};
    if (kl >= 16) {
        id.ms = be64_get(k + kl - 16);
        id.seq = be64_get(k + kl - 8);
    }
    return id;
}
