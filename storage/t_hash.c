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
 * space with seeks instead (see its comment), and callers use exact uniform
 * picks over cm_collect for small collections. */
#include "storage/t_hash.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    if (!h) return store_put(ks_store(k), ST_DBI_SUB, key, kl, payload, plen);
    size_t wl;
    uint8_t *w = ks_member_value_wrap(member, mlen, payload, plen, &wl);
    if (!w) return ST_NOMEM;
    int rc = store_put(ks_store(k), ST_DBI_SUB, key, kl, w, wl);
    free(w);
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

/* The last key having prefix p (plen bytes) into out; ST_NOTFOUND if none. */
static int last_with_prefix(store_cursor *c, const uint8_t *p, size_t plen, uint8_t *out,
                            size_t *outlen) {
    uint8_t up[KS_SUBKEY_MAX];
    size_t ul = plen;
    memcpy(up, p, plen);
    while (ul > 0 && up[ul - 1] == 0xff) ul--;
    int rc;
    if (ul == 0) {
        rc = store_cursor_seek_rev(c, NULL, 0);
    } else {
        up[ul - 1]++;
        rc = store_cursor_seek_rev(c, up, ul);
    }
    if (rc) return rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    if ((rc = store_cursor_get(c, &k, &kl, &v, &vl))) return rc;
    if (ul > 0 && kl == ul && memcmp(k, up, ul) == 0) {
        /* seek_rev lands on a key equal to the bound: step before it */
        if ((rc = store_cursor_prev(c))) return rc;
        if ((rc = store_cursor_get(c, &k, &kl, &v, &vl))) return rc;
    }
    if (kl < plen || memcmp(k, p, plen) != 0) return ST_NOTFOUND;
    memcpy(out, k, kl);
    *outlen = kl;
    return ST_OK;
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

/* A branch the descent expects to hold at most CM_SCAN_EST members (n times
 * the probability of reaching it, over the values of its byte) is walked
 * with cursor steps, which cost a small fraction of a seek, instead of being
 * descended further: up to CM_SCAN_CAP members, one is picked uniformly
 * (reservoir of one) and the branch's exact size enters the probability.
 * That saves the last rounds (three seeks each) and makes the bottom level
 * exact, so fewer draws are refused. */
#define CM_SCAN_EST 64
#define CM_SCAN_CAP 256

/* Walk the branch of keys starting with pre (plen bytes) from the cursor's
 * current entry, its first: 1 with *m its size and pick one of its keys
 * chosen uniformly, or 0 (*m untouched) when it has more than CM_SCAN_CAP
 * entries. */
static int scan_branch(store_cursor *c, const uint8_t *pre, size_t plen, uint8_t *pick,
                       size_t *pickl, unsigned *m) {
    const uint8_t *kk, *v;
    size_t kl, vl;
    unsigned i = 0;
    while (store_cursor_get(c, &kk, &kl, &v, &vl) == ST_OK && kl >= plen &&
           memcmp(kk, pre, plen) == 0 && kl <= KS_SUBKEY_MAX) {
        if (++i > CM_SCAN_CAP) return 0;
        if (cm_rand_below(i) == 0) {
            memcpy(pick, kk, kl);
            *pickl = kl;
        }
        if (store_cursor_next(c) != ST_OK) break;
    }
    *m = i;
    return i > 0;
}

/* One descent from the range [lo0, hi0] (the first and last keys of the
 * kind). Where lo and hi first differ, draw a "byte" between theirs (with
 * one extra value for lo itself when lo is a proper prefix of hi), seek to
 * prefix·byte, and narrow the range to the branch found there (its first
 * and last keys), or walk that branch when it is small (scan_branch). Each
 * round lengthens the shared prefix, so the walk ends within the key
 * length; a round is a seek, a step back (which branch came before) and a
 * seek to the branch's last key or a walk. *prob gets the exact probability
 * of the key reached: per round, the number of drawable values that lead
 * to the branch over the number of values, times 1/size for a walked
 * branch. */
static int descend(store_cursor *c, const uint8_t *lo0, size_t lol0, const uint8_t *hi0,
                   size_t hil0, uint64_t n, uint8_t *lo, size_t *lolp, double *prob) {
    uint8_t hi[KS_SUBKEY_MAX];
    size_t lol = lol0, hil = hil0;
    const uint8_t *kk, *v;
    size_t kl, vl;
    int rc;
    memcpy(lo, lo0, lol0);
    memcpy(hi, hi0, hil0);
    *prob = 1.0;
    while (!(lol == hil && memcmp(lo, hi, lol) == 0)) {
        size_t p = 0, m = lol < hil ? lol : hil;
        while (p < m && lo[p] == hi[p]) p++;
        if (p >= hil) break; /* cannot happen for lo < hi; stay safe */
        /* values: 0 = lo itself (when lo is a proper prefix), b+1 = byte b */
        unsigned lov = p == lol ? 0 : lo[p] + 1u;
        unsigned hiv = hi[p] + 1u;
        if (hiv < lov) break;
        unsigned span = hiv - lov + 1;
        unsigned r = lov + (unsigned)cm_rand_below(span);
        if (r == 0) {
            *prob /= span; /* the shorter key itself */
            break;
        }
        uint8_t probe[KS_SUBKEY_MAX];
        memcpy(probe, hi, p);
        probe[p] = (uint8_t)(r - 1);
        if ((rc = store_cursor_seek(c, probe, p + 1))) return rc;
        if ((rc = store_cursor_get(c, &kk, &kl, &v, &vl))) return rc;
        if (kl <= p || kl > KS_SUBKEY_MAX || memcmp(kk, probe, p) != 0) break;
        unsigned bv = kk[p] + 1u;
        memcpy(lo, kk, kl);
        lol = kl;
        /* The values leading here run from just after the previous branch
         * (the key before this one, if still in range) to this one. */
        unsigned from = lov;
        int before = store_cursor_prev(c) == ST_OK;
        if (before && store_cursor_get(c, &kk, &kl, &v, &vl) == ST_OK && kl >= p &&
            memcmp(kk, lo, p) == 0)
            from = (kl == p ? 0 : kk[p] + 1u) + 1;
        unsigned gap = bv >= from ? bv - from + 1 : 1;
        *prob *= (double)gap / span;
        /* A small branch is walked from its first key (one step back); the
         * estimate of its size takes the branches of this byte as even. */
        unsigned size = 0;
        if ((double)n * *prob <= (double)CM_SCAN_EST * gap) {
            rc = before ? store_cursor_next(c) : store_cursor_seek(c, lo, lol);
            if (rc == ST_OK) scan_branch(c, lo, p + 1, hi, &hil, &size);
        }
        if (size) {
            *prob /= size;
            memcpy(lo, hi, hil); /* scan_branch left its pick in hi */
            lol = hil;
            break;
        }
        if ((rc = last_with_prefix(c, lo, p + 1, hi, &hil))) return rc;
    }
    *lolp = lol;
    return ST_OK;
}

/* Draw by descent, then accept with probability min(1, 1/(n * p)): keys the
 * descent favours (sparse branches, short keys) are brought down to the
 * uniform 1/n, which removes the large biases; keys in dense branches stay
 * somewhat less likely than 1/n. After CM_RAND_TRIES refusals the last draw
 * is taken. */
#define CM_RAND_TRIES 64

int cm_random_entry(ks *k, uint64_t id, uint8_t kindbyte, uint64_t n, cm_owned *out) {
    uint8_t pre[9];
    be64_put(pre, id);
    pre[8] = kindbyte;
    store_cursor *c;
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c);
    if (rc) return rc;
    /* The kind's first and last keys, shared by every try. */
    uint8_t lo0[KS_SUBKEY_MAX], hi0[KS_SUBKEY_MAX], key[KS_SUBKEY_MAX];
    size_t lol0, hil0, kl = 0;
    const uint8_t *kk, *v;
    size_t kkl, vl;
    if ((rc = store_cursor_seek(c, pre, 9))) goto out;
    if ((rc = store_cursor_get(c, &kk, &kkl, &v, &vl))) goto out;
    if (kkl < 9 || memcmp(kk, pre, 9) != 0 || kkl > KS_SUBKEY_MAX) {
        rc = ST_NOTFOUND;
        goto out;
    }
    memcpy(lo0, kk, kkl);
    lol0 = kkl;
    if ((rc = last_with_prefix(c, pre, 9, hi0, &hil0))) goto out;
    for (int t = 0; t < CM_RAND_TRIES; t++) {
        double p;
        if ((rc = descend(c, lo0, lol0, hi0, hil0, n, key, &kl, &p))) goto out;
        if (n <= 1 || p * (double)n <= 1.0) break;
        if ((double)(cm_rand64() >> 11) * 0x1.0p-53 * p * (double)n < 1.0) break;
    }
    if ((rc = store_cursor_seek(c, key, kl))) goto out;
    if ((rc = store_cursor_get(c, &kk, &kkl, &v, &vl))) goto out;
    cm_entry e;
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
