/* t_set.c — set storage logic: members as `sub` entries (layout in
 * t_set.h), membership tests, adds and removals that keep the meta count
 * and header right, random picks.
 *
 * Integer members get their own kind with an 8-byte order-preserving
 * encoding, so their order is numeric (what SMEMBERS of an intset shows in
 * Redis) and two sets agree on an integer's key without parsing: set
 * algebra (SINTER, SDIFF, ...) tests entries of one set against another
 * directly with ts_has_entry. */
#include "storage/t_set.h"

#include <stdlib.h>
#include <string.h>

#include "storage/endian.h"
#include "storage/num.h"

#define SIGN_FLIP 0x8000000000000000ULL

int ts_member_is_int(const void *member, size_t mlen, long long *v) {
    return num_parse_ll(member, mlen, v) == 0;
}

void ts_entry_text(uint8_t kind, const uint8_t *m, size_t mlen, char *buf, const uint8_t **out,
                   size_t *outlen) {
    if (kind == TS_KIND_INT && mlen == 8) {
        long long v = (long long)(be64_get(m) ^ SIGN_FLIP);
        *outlen = num_ll_to_str(buf, TS_INT_TEXT, v);
        *out = (const uint8_t *)buf;
        return;
    }
    *out = m;
    *outlen = mlen;
}

/* The entry form of a member: kind plus the bytes after the kind. */
static void encode_member(const void *member, size_t mlen, uint8_t *kind, uint8_t ibuf[8],
                          const void **m, size_t *ml) {
    long long v;
    if (ts_member_is_int(member, mlen, &v)) {
        be64_put(ibuf, (uint64_t)v ^ SIGN_FLIP);
        *kind = TS_KIND_INT;
        *m = ibuf;
        *ml = 8;
    } else {
        *kind = TS_KIND_MEMBER;
        *m = member;
        *ml = mlen;
    }
}

void ts_hdr_decode(const ks_meta *m, uint8_t *flags, uint64_t *nint, uint64_t *nlong) {
    *flags = 0;
    *nint = 0;
    *nlong = 0;
    if (m->hdrlen >= 1) *flags = m->hdr[0];
    if (m->hdrlen >= TS_HDR_LEN) {
        *nint = be64_get(m->hdr + 1);
        *nlong = be64_get(m->hdr + 9);
    }
}

int ts_open(ts_set *s, ks *k, int db, const void *key, size_t klen) {
    memset(s, 0, sizeof *s);
    s->k = k;
    s->db = db;
    s->key = key;
    s->klen = klen;
    ks_meta m;
    int rc = ks_lookup(k, db, key, klen, KS_SET, &m);
    if (rc) return rc;
    s->exists = 1;
    s->m.type = KS_SET;
    s->m.flags = m.flags;
    s->m.expire = m.expire;
    s->m.id = m.id;
    s->m.count = m.count;
    ts_hdr_decode(&m, &s->flags, &s->nint, &s->nlong);
    ks_meta_release(&m);
    s->count0 = s->m.count;
    s->nint0 = s->nint;
    s->nlong0 = s->nlong;
    s->flags0 = s->flags;
    return ST_OK;
}

void ts_create(ts_set *s) {
    s->exists = 0;
    memset(&s->m, 0, sizeof s->m);
    s->m.type = KS_SET;
    s->m.id = ks_new_id(s->k);
    s->flags = 0;
    s->nint = 0;
    s->nlong = 0;
}

void ts_new(ts_set *s, ks *k, int db, const void *key, size_t klen) {
    memset(s, 0, sizeof *s);
    s->k = k;
    s->db = db;
    s->key = key;
    s->klen = klen;
    ts_create(s);
}

int ts_has_entry(ts_set *s, uint8_t kind, const void *m, size_t mlen) {
    if (!s->m.id || !s->m.count) return 0;
    const uint8_t *p;
    size_t pl;
    int rc = cm_get(s->k, s->m.id, kind, NULL, 0, m, mlen, &p, &pl);
    if (rc == ST_OK) return 1;
    return rc == ST_NOTFOUND ? 0 : rc;
}

int ts_ismember(ts_set *s, const void *member, size_t mlen) {
    uint8_t kind, ibuf[8];
    const void *m;
    size_t ml;
    encode_member(member, mlen, &kind, ibuf, &m, &ml);
    return ts_has_entry(s, kind, m, ml);
}

int ts_add_entry(ts_set *s, uint8_t kind, const void *m, size_t mlen, int *added) {
    *added = 0;
    if (s->m.count > 0) {
        int r = ts_has_entry(s, kind, m, mlen);
        if (r < 0) return r;
        if (r) return ST_OK;
    }
    int hashed;
    int rc = cm_put(s->k, s->m.id, kind, NULL, 0, m, mlen, "", 0, &hashed);
    if (rc) return rc;
    *added = 1;
    s->dirty = 1;
    s->m.count++;
    if (kind == TS_KIND_INT) s->nint++;
    if (hashed) s->nlong++;
    return ST_OK;
}

int ts_add(ts_set *s, const void *member, size_t mlen, int *added) {
    uint8_t kind, ibuf[8];
    const void *m;
    size_t ml;
    encode_member(member, mlen, &kind, ibuf, &m, &ml);
    return ts_add_entry(s, kind, m, ml, added);
}

int ts_rem_entry(ts_set *s, uint8_t kind, const void *m, size_t mlen, int *removed) {
    *removed = 0;
    if (!s->m.id || !s->m.count) return ST_OK;
    int hashed;
    int rc = cm_del(s->k, s->m.id, kind, NULL, 0, m, mlen, &hashed);
    if (rc == ST_NOTFOUND) return ST_OK;
    if (rc) return rc;
    *removed = 1;
    s->dirty = 1;
    s->m.count--;
    if (kind == TS_KIND_INT && s->nint) s->nint--;
    if (hashed && s->nlong) s->nlong--;
    return ST_OK;
}

int ts_rem(ts_set *s, const void *member, size_t mlen, int *removed) {
    uint8_t kind, ibuf[8];
    const void *m;
    size_t ml;
    encode_member(member, mlen, &kind, ibuf, &m, &ml);
    return ts_rem_entry(s, kind, m, ml, removed);
}

int ts_commit(ts_set *s) {
    if (!s->m.id) return ST_OK;
    int rc = ST_OK;
    if (s->m.count == 0) {
        if (s->exists) {
            rc = ks_delete(s->k, s->db, s->key, s->klen);
            if (rc > 0) rc = ST_OK;
            s->exists = 0;
        }
    } else if (!s->exists || s->m.count != s->count0 || s->flags != s->flags0 ||
               s->nint != s->nint0 || s->nlong != s->nlong0) {
        s->hdr[0] = s->flags;
        be64_put(s->hdr + 1, s->nint);
        be64_put(s->hdr + 9, s->nlong);
        s->m.hdr = s->hdr;
        s->m.hdrlen = TS_HDR_LEN;
        s->m.val = NULL;
        s->m.vlen = 0;
        s->m.owned = NULL;
        rc = ks_write_meta(s->k, s->db, s->key, s->klen, &s->m);
        if (rc == ST_OK) {
            s->exists = 1;
            s->count0 = s->m.count;
            s->nint0 = s->nint;
            s->nlong0 = s->nlong;
            s->flags0 = s->flags;
        }
    } else if (s->dirty) {
        ks_notify_write(s->k, s->db, s->key, s->klen);
    }
    s->dirty = 0;
    return rc;
}

int ts_random(ts_set *s, cm_owned *out) {
    if (!s->m.id || !s->m.count) return ST_NOTFOUND;
    /* Three kinds: integers, plain members, hashed long members. */
    uint64_t n = s->m.count;
    uint64_t nint = s->nint <= n ? s->nint : n;
    uint64_t nlong = s->nlong <= n - nint ? s->nlong : n - nint;
    uint64_t nplain = n - nint - nlong;
    uint8_t kinds[3] = {TS_KIND_INT, TS_KIND_MEMBER, TS_KIND_MEMBER | KS_KIND_HASHED};
    uint64_t counts[3] = {nint, nplain, nlong};
    uint64_t r = cm_rand_below(n);
    int first = r < nint ? 0 : r < nint + nplain ? 1 : 2;
    for (int t = 0; t < 3; t++) {
        int i = (first + t) % 3;
        if (t > 0 && counts[i] == 0) continue;
        int rc = cm_random_entry(s->k, s->m.id, kinds[i], counts[i] ? counts[i] : 1, out);
        if (rc != ST_NOTFOUND) return rc;
    }
    return ST_NOTFOUND;
}
