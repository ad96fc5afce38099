/* t_hash.c — hash storage logic and the member-entry layer shared with sets.
 *
 * Every member is its own `sub` entry under the collection id (see
 * t_hash.h for the layout), so a point lookup is one O(log N) LMDB/memtable
 * probe and deleting the whole collection is the keyspace's O(1) trash.
 * The hashed long form of ks_member_key is handled here once: writers wrap
 * the value with the full member, readers unwrap and compare it, so a
 * 128-bit hash collision would read as "absent" rather than as another
 * member's data.
 *
 * Random picks (HRANDFIELD, SRANDMEMBER, SPOP) on an ordered store have no
 * O(1) uniform answer without a rank index; cm_random_entry descends the key
 * space with seeks instead (cm_pick.c, which remembers the upper levels of
 * big collections), and callers use exact uniform picks over cm_collect for
 * small collections. */
#include "storage/t_hash.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/cm_pick.h"
#include "storage/endian.h"

/* ------------------------------------------------------------------ */
/* member entries                                                      */

int cm_get(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
           const void *member, size_t mlen, const uint8_t **payload, size_t *plen) {
    uint8_t key[KS_SUBKEY_MAX];
    int hashed;
    size_t kl = ks_member_key(k, id, kind, fixed, fixedlen, member, mlen, key, &hashed);
    const uint8_t *v;
    size_t vl;
    int rc = store_get(ks_store(k), ST_DBI_SUB, key, kl, &v, &vl);
    if (rc) return rc;
    if (!hashed) {
        *payload = v;
        *plen = vl;
        return ST_OK;
    }
    const uint8_t *full;
    size_t fl;
    if ((rc = ks_member_value_unwrap(v, vl, &full, &fl, payload, plen))) return rc;
    if (fl != mlen || memcmp(full, member, mlen) != 0) return ST_NOTFOUND;
    return ST_OK;
}

int cm_put(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
           const void *member, size_t mlen, const void *payload, size_t plen, int *hashed) {
    uint8_t key[KS_SUBKEY_MAX];
    int h;
    size_t kl = ks_member_key(k, id, kind, fixed, fixedlen, member, mlen, key, &h);
    if (hashed) *hashed = h;
    int rc;
    if (!h) {
        rc = store_put(ks_store(k), ST_DBI_SUB, key, kl, payload, plen);
    } else {
        size_t wl;
        uint8_t *w = ks_member_value_wrap(member, mlen, payload, plen, &wl);
        if (!w) return ST_NOMEM;
        rc = store_put(ks_store(k), ST_DBI_SUB, key, kl, w, wl);
        free(w);
    }
    if (rc == ST_OK) cm_pick_note_put(k, key, kl);
    return rc;
}

int cm_del(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
           const void *member, size_t mlen, int *hashed) {
    uint8_t key[KS_SUBKEY_MAX];
    int h;
    size_t kl = ks_member_key(k, id, kind, fixed, fixedlen, member, mlen, key, &h);
    if (hashed) *hashed = h;
    const uint8_t *v;
    size_t vl;
    int rc = store_get(ks_store(k), ST_DBI_SUB, key, kl, &v, &vl);
    if (rc) return rc;
    if (h) {
        const uint8_t *full, *p;
        size_t fl, pl;
        if ((rc = ks_member_value_unwrap(v, vl, &full, &fl, &p, &pl))) return rc;
        if (fl != mlen || memcmp(full, member, mlen) != 0) return ST_NOTFOUND;
    }
    return store_del(ks_store(k), ST_DBI_SUB, key, kl);
}

int cm_iter_open(cm_iter *it, ks *k, uint64_t id, const uint8_t *from, size_t fromlen) {
    memset(it, 0, sizeof *it);
    be64_put(it->id, id);
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &it->cur);
    if (rc) return rc;
    if (from && fromlen >= 8 && memcmp(from, it->id, 8) == 0)
        rc = store_cursor_seek(it->cur, from, fromlen);
    else
        rc = store_cursor_seek(it->cur, it->id, 8);
    if (rc == ST_NOTFOUND) it->done = 1;
    else if (rc) {
        store_cursor_close(it->cur);
        it->cur = NULL;
        return rc;
    }
    return ST_OK;
}

/* Fill e from a raw entry; the value is unwrapped for the hashed form. */
static int cm_decode(const uint8_t *key, size_t kl, const uint8_t *v, size_t vl, cm_entry *e) {
    const uint8_t *fixed;
    int rc = ks_member_split(key, kl, 0, &e->kind, &fixed, &e->member, &e->mlen, &e->hashed);
    if (rc) return rc;
    e->key = key;
    e->klen = kl;
    if (!e->hashed) {
        e->payload = v;
        e->plen = vl;
        return ST_OK;
    }
    /* The key holds kind · [fixed] · prefix · hash; the member proper is in
     * the value. Callers of kinds with a fixed part never use the long form
     * with it (set integers are fixed-only), so the value is the member. */
    return ks_member_value_unwrap(v, vl, &e->member, &e->mlen, &e->payload, &e->plen);
}

int cm_iter_next(cm_iter *it, cm_entry *e) {
    if (!it->cur || it->done) return ST_NOTFOUND;
    int rc;
    if (it->started) {
        rc = store_cursor_next(it->cur);
        if (rc) {
            it->done = 1;
            return rc == ST_NOTFOUND ? ST_NOTFOUND : rc;
        }
    }
    it->started = 1;
    const uint8_t *key, *v;
    size_t kl, vl;
    rc = store_cursor_get(it->cur, &key, &kl, &v, &vl);
    if (rc || kl < 9 || memcmp(key, it->id, 8) != 0) {
        it->done = 1;
        return rc && rc != ST_NOTFOUND ? rc : ST_NOTFOUND;
    }
    return cm_decode(key, kl, v, vl, e);
}

void cm_iter_close(cm_iter *it) {
    if (it->cur) store_cursor_close(it->cur);
    it->cur = NULL;
}

static void kiter_seek(cm_kiter *ki) {
    uint8_t from[18];
    be64_put(from, ki->id);
    from[8] = (uint8_t)(ki->kind | (ki->pass ? KS_KIND_HASHED : 0));
    memcpy(from + 9, ki->pfx, ki->pfxlen);
    ki->open = cm_iter_open(&ki->it, ki->k, ki->id, from, 9 + ki->pfxlen) == ST_OK;
}

void cm_kiter_open(cm_kiter *ki, ks *k, uint64_t id, uint8_t kind, const uint8_t *pfx,
                   size_t pfxlen) {
    memset(ki, 0, sizeof *ki);
    ki->k = k;
    ki->id = id;
    ki->kind = kind;
    if (pfxlen) memcpy(ki->pfx, pfx, pfxlen);
    ki->pfxlen = pfxlen;
    kiter_seek(ki);
}

int cm_kiter_next(cm_kiter *ki, cm_entry *e) {
    for (;;) {
        if (ki->open) {
            int rc = cm_iter_next(&ki->it, e);
            if (rc == ST_OK && e->kind == ki->kind && e->hashed == ki->pass &&
                e->mlen >= ki->pfxlen && memcmp(e->member, ki->pfx, ki->pfxlen) == 0)
                return ST_OK;
            cm_iter_close(&ki->it);
            ki->open = 0;
        }
        if (ki->pass) return ST_NOTFOUND;
        ki->pass = 1;
        kiter_seek(ki);
    }
}

void cm_kiter_close(cm_kiter *ki) {
    if (ki->open) cm_iter_close(&ki->it);
    ki->open = 0;
}

/* xoshiro256** seeded with splitmix64 from the clock and the pid. */
static uint64_t rng_s[4];
static int rng_seeded;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

uint64_t cm_rand64(void) {
    if (!rng_seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
                     ((uint64_t)getpid() << 32);
        for (int i = 0; i < 4; i++) rng_s[i] = splitmix64(&x);
        rng_seeded = 1;
    }
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9;
    uint64_t t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

uint64_t cm_rand_below(uint64_t n) {
    if (n <= 1) return 0;
    /* Rejection sampling: no modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = cm_rand64();
    while (r >= limit);
    return r % n;
}

static int copy_owned(const cm_entry *e, cm_owned *out) {
    memset(out, 0, sizeof *out);
    out->buf = malloc(e->klen + e->mlen + e->plen + 1);
    if (!out->buf) return ST_NOMEM;
    out->kind = e->kind;
    out->key = out->buf;
    memcpy(out->key, e->key, e->klen);
    out->klen = e->klen;
    out->member = out->buf + e->klen;
    if (e->mlen) memcpy(out->member, e->member, e->mlen);
    out->mlen = e->mlen;
    out->payload = out->member + e->mlen;
    if (e->plen) memcpy(out->payload, e->payload, e->plen);
    out->plen = e->plen;
    return ST_OK;
}

int cm_nth(ks *k, uint64_t id, uint64_t n, cm_owned *out) {
    cm_iter it;
    int rc = cm_iter_open(&it, k, id, NULL, 0);
    if (rc) return rc;
    cm_entry e;
    uint64_t i = 0;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK && i < n) i++;
    if (rc == ST_OK) rc = copy_owned(&e, out);
    cm_iter_close(&it);
    return rc;
}

void cm_owned_free(cm_owned *o) {
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* The key comes from cm_pick_key (cm_pick.c); the entry is read back at it
 * through the same cursor. */
int cm_random_entry(ks *k, uint64_t id, uint8_t kindbyte, uint64_t n, cm_owned *out) {
    uint8_t pre[9], key[KS_SUBKEY_MAX];
    be64_put(pre, id);
    pre[8] = kindbyte;
    size_t kl;
    store_cursor *c;
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c);
    if (rc) return rc;
    const uint8_t *kk, *v;
    size_t kkl, vl;
    cm_entry e;
    if ((rc = cm_pick_key(k, c, pre, n, key, &kl))) goto out;
    if ((rc = store_cursor_seek(c, key, kl))) goto out;
    if ((rc = store_cursor_get(c, &kk, &kkl, &v, &vl))) goto out;
    if ((rc = cm_decode(kk, kkl, v, vl, &e))) goto out;
    rc = copy_owned(&e, out);
out:
    store_cursor_close(c);
    return rc;
}

int cm_list_add(cm_list *l, uint8_t kind, const void *m, size_t mlen, const void *p, size_t plen) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        cm_item *ni = realloc(l->items, nc * sizeof *ni);
        if (!ni) return ST_NOMEM;
        l->items = ni;
        l->cap = nc;
    }
    if (l->len + mlen + plen > l->bufcap) {
        size_t nc = l->bufcap ? l->bufcap * 2 : 1024;
        while (nc < l->len + mlen + plen) nc *= 2;
        uint8_t *nb = realloc(l->buf, nc);
        if (!nb) return ST_NOMEM;
        l->buf = nb;
        l->bufcap = nc;
    }
    cm_item *it = &l->items[l->n++];
    it->kind = kind;
    it->moff = l->len;
    it->mlen = mlen;
    if (mlen) memcpy(l->buf + l->len, m, mlen);
    l->len += mlen;
    it->poff = l->len;
    it->plen = plen;
    if (plen) memcpy(l->buf + l->len, p, plen);
    l->len += plen;
    return ST_OK;
}

void cm_list_free(cm_list *l) {
    free(l->items);
    free(l->buf);
    memset(l, 0, sizeof *l);
}

int cm_collect(ks *k, uint64_t id, cm_list *out) {
    memset(out, 0, sizeof *out);
    cm_iter it;
    int rc = cm_iter_open(&it, k, id, NULL, 0);
    if (rc) return rc;
    cm_entry e;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        if ((rc = cm_list_add(out, e.kind, e.member, e.mlen, e.payload, e.plen))) break;
    }
    cm_iter_close(&it);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc) cm_list_free(out);
    return rc;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int cm_sample_replace(ks *k, uint64_t id, uint64_t size, uint64_t count, cm_list *out) {
    memset(out, 0, sizeof *out);
    if (!size || !count) return ST_OK;
    uint64_t *pos = malloc(count * sizeof *pos);
    if (!pos) return ST_NOMEM;
    for (uint64_t i = 0; i < count; i++) pos[i] = cm_rand_below(size);
    qsort(pos, count, sizeof *pos, cmp_u64);
    cm_iter it;
    int rc = cm_iter_open(&it, k, id, NULL, 0);
    if (rc) {
        free(pos);
        return rc;
    }
    cm_entry e;
    uint64_t at = 0, j = 0;
    while (j < count && (rc = cm_iter_next(&it, &e)) == ST_OK) {
        for (; j < count && pos[j] == at; j++)
            if ((rc = cm_list_add(out, e.kind, e.member, e.mlen, e.payload, e.plen))) break;
        if (rc) break;
        at++;
    }
    cm_iter_close(&it);
    free(pos);
    if (rc == ST_NOTFOUND) rc = ST_OK;
    if (rc) {
        cm_list_free(out);
        return rc;
    }
    /* the draws were independent; a shuffle makes their order random too */
    for (size_t i = out->n; i > 1; i--) {
        size_t r = (size_t)cm_rand_below(i);
        cm_item t = out->items[i - 1];
        out->items[i - 1] = out->items[r];
        out->items[r] = t;
    }
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* hashes                                                              */

void th_hdr_decode(const ks_meta *m, uint8_t *flags, uint64_t *nlong) {
    *flags = 0;
    *nlong = 0;
    if (m->hdrlen >= 1) *flags = m->hdr[0];
    if (m->hdrlen >= TH_HDR_LEN) *nlong = be64_get(m->hdr + 1);
}

int th_open(th_hash *h, ks *k, int db, const void *key, size_t klen) {
    memset(h, 0, sizeof *h);
    h->k = k;
    h->db = db;
    h->key = key;
    h->klen = klen;
    ks_meta m;
    int rc = ks_lookup(k, db, key, klen, KS_HASH, &m);
    if (rc) return rc;
    h->exists = 1;
    h->m.type = KS_HASH;
    h->m.flags = m.flags;
    h->m.expire = m.expire;
    h->m.id = m.id;
    h->m.count = m.count;
    th_hdr_decode(&m, &h->flags, &h->nlong);
    ks_meta_release(&m);
    h->count0 = h->m.count;
    h->flags0 = h->flags;
    h->nlong0 = h->nlong;
    return ST_OK;
}

void th_create(th_hash *h) {
    h->exists = 0;
    memset(&h->m, 0, sizeof h->m);
    h->m.type = KS_HASH;
    h->m.id = ks_new_id(h->k);
    h->flags = 0;
    h->nlong = 0;
}

int th_get(th_hash *h, const void *f, size_t flen, const uint8_t **v, size_t *vlen) {
    if (!h->m.id || !h->m.count) return ST_NOTFOUND;
    return cm_get(h->k, h->m.id, TH_KIND_FIELD, NULL, 0, f, flen, v, vlen);
}

int th_set(th_hash *h, const void *f, size_t flen, const void *v, size_t vlen, int *created) {
    int existed = 0;
    if (h->m.count > 0) {
        const uint8_t *ov;
        size_t ol;
        int rc = cm_get(h->k, h->m.id, TH_KIND_FIELD, NULL, 0, f, flen, &ov, &ol);
        if (rc == ST_OK) existed = 1;
        else if (rc != ST_NOTFOUND) return rc;
    }
    int hashed;
    int rc = cm_put(h->k, h->m.id, TH_KIND_FIELD, NULL, 0, f, flen, v, vlen, &hashed);
    if (rc) return rc;
    h->dirty = 1;
    if (!existed) {
        h->m.count++;
        if (hashed) h->nlong++;
    }
    if (created) *created = !existed;
    return ST_OK;
}

int th_del(th_hash *h, const void *f, size_t flen, int *deleted) {
    *deleted = 0;
    if (!h->m.id || !h->m.count) return ST_OK;
    int hashed;
    int rc = cm_del(h->k, h->m.id, TH_KIND_FIELD, NULL, 0, f, flen, &hashed);
    if (rc == ST_NOTFOUND) return ST_OK;
    if (rc) return rc;
    *deleted = 1;
    h->dirty = 1;
    h->m.count--;
    if (hashed && h->nlong) h->nlong--;
    return ST_OK;
}

int th_commit(th_hash *h) {
    if (!h->m.id) return ST_OK;
    int rc = ST_OK;
    if (h->m.count == 0) {
        if (h->exists) {
            rc = ks_delete(h->k, h->db, h->key, h->klen);
            if (rc > 0) rc = ST_OK;
            h->exists = 0;
        }
    } else if (!h->exists || h->m.count != h->count0 || h->flags != h->flags0 ||
               h->nlong != h->nlong0) {
        h->hdr[0] = h->flags;
        be64_put(h->hdr + 1, h->nlong);
        h->m.hdr = h->hdr;
        h->m.hdrlen = TH_HDR_LEN;
        h->m.val = NULL;
        h->m.vlen = 0;
        h->m.owned = NULL;
        rc = ks_write_meta(h->k, h->db, h->key, h->klen, &h->m);
        if (rc == ST_OK) {
            h->exists = 1;
            h->count0 = h->m.count;
            h->flags0 = h->flags;
            h->nlong0 = h->nlong;
        }
    } else if (h->dirty) {
        ks_notify_write(h->k, h->db, h->key, h->klen);
    }
    h->dirty = 0;
    return rc;
}

int th_random(th_hash *h, cm_owned *out) {
    if (!h->m.id || !h->m.count) return ST_NOTFOUND;
    uint64_t nplain = h->m.count > h->nlong ? h->m.count - h->nlong : 0;
    int plain = cm_rand_below(h->m.count) < nplain;
    uint8_t kind = plain ? TH_KIND_FIELD : (TH_KIND_FIELD | KS_KIND_HASHED);
    int rc = cm_random_entry(h->k, h->m.id, kind, plain ? nplain : h->nlong, out);
    if (rc == ST_NOTFOUND)
        rc = cm_random_entry(h->k, h->m.id, kind ^ KS_KIND_HASHED, plain ? h->nlong : nplain, out);
    return rc;
}
