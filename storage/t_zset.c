/* t_zset.c — sorted sets on the `sub` DBI: point operations on the member
 * and score indexes, the merged (plain + hashed) score-index iterator, the
 * ZSCAN walk over the member index.
 *
 * See t_zset.h for the layout. The one subtle part is order: plain
 * score-index keys sort exactly as Redis orders members (score, then member
 * bytes), but hashed ones (members of 495 bytes and more) sit in a range of
 * their own and, among members sharing their first KS_MEMBER_PREFIX bytes,
 * sort by hash. The iterator reads the hashed range group by group (one
 * group = same score and same prefix; almost always one entry), sorts each
 * group by full member, and merges it with the plain range. */
#include "storage/t_zset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/num.h"
#include "storage/t_zset_rank.h"

#define SKEY_HDR  17 /* id(8) kind(1) score64(8) */
#define HKEY_LEN  (SKEY_HDR + KS_MEMBER_PREFIX + 16)
#define HASHED_S  (TZ_KIND_SCORE | KS_KIND_HASHED)
#define HASHED_M  (TZ_KIND_MEMBER | KS_KIND_HASHED)

uint8_t tz_hdr_flags(const ks_meta *m) {
    return m->hdrlen >= 1 && m->hdr ? m->hdr[0] : 0;
}

static int is_negzero(double d) {
    return d == 0.0 && signbit(d);
}

/* Score from score64 plus the optional flag byte. */
static double decode_score(const uint8_t enc[8], const uint8_t *flags, size_t nflags) {
    if (nflags >= 1 && (flags[0] & TZ_NEGZERO)) return -0.0;
    return num_score64_decode(enc);
}

/* Put an entry whose key may be in the hashed form. */
static int put_entry(ks *k, const uint8_t *key, size_t kl, int hashed, const void *m, size_t mlen,
                     const void *payload, size_t plen) {
    store *s = ks_store(k);
    if (!hashed) return store_put(s, ST_DBI_SUB, key, kl, payload, plen);
    size_t wl;
    uint8_t *w = ks_member_value_wrap(m, mlen, payload, plen, &wl);
    if (!w) return ST_NOMEM;
    int rc = store_put(s, ST_DBI_SUB, key, kl, w, wl);
    free(w);
    return rc;
}

int tz_get(ks *k, uint64_t id, const void *m, size_t mlen, double *score) {
    uint8_t key[KS_SUBKEY_MAX];
    int hashed;
    size_t kl = ks_member_key(k, id, TZ_KIND_MEMBER, NULL, 0, m, mlen, key, &hashed);
    const uint8_t *v;
    size_t vl;
    int rc = store_get(ks_store(k), ST_DBI_SUB, key, kl, &v, &vl);
    if (rc) return rc;
    if (hashed) {
        const uint8_t *fm, *p;
        size_t fml, pl;
        if (ks_member_value_unwrap(v, vl, &fm, &fml, &p, &pl) != ST_OK) return ST_CORRUPT;
        if (fml != mlen || memcmp(fm, m, mlen) != 0) return ST_NOTFOUND;
        v = p;
        vl = pl;
    }
    if (vl < 8) return ST_CORRUPT;
    *score = decode_score(v, v + 8, vl - 8);
    return ST_OK;
}

int tz_put(ks *k, uint64_t id, const void *m, size_t mlen, double score, const double *old) {
    uint8_t key[KS_SUBKEY_MAX], enc[8];
    int hashed, rc, moved = 1;
    size_t kl;
    num_score64_encode(score, enc);
    uint8_t flag = is_negzero(score) ? TZ_NEGZERO : 0;
    if (old) {
        uint8_t oenc[8];
        num_score64_encode(*old, oenc);
        moved = memcmp(oenc, enc, 8) != 0;
        if (moved) {
            /* Out of the score index, then out of the rank index: the index
             * must count what the score index holds at each step. */
            kl = ks_member_key(k, id, TZ_KIND_SCORE, oenc, 8, m, mlen, key, &hashed);
            if ((rc = store_del(ks_store(k), ST_DBI_SUB, key, kl)) && rc != ST_NOTFOUND)
                return rc;
            if ((rc = tzr_delete(k, id, oenc, m, mlen))) return rc;
        }
    }
    kl = ks_member_key(k, id, TZ_KIND_SCORE, enc, 8, m, mlen, key, &hashed);
    if ((rc = put_entry(k, key, kl, hashed, m, mlen, &flag, flag ? 1 : 0))) return rc;
    if (hashed) tzr_note_hashed(k, id);
    uint8_t pay[9];
    memcpy(pay, enc, 8);
    pay[8] = flag;
    kl = ks_member_key(k, id, TZ_KIND_MEMBER, NULL, 0, m, mlen, key, &hashed);
    if ((rc = put_entry(k, key, kl, hashed, m, mlen, pay, flag ? 9 : 8))) return rc;
    return moved ? tzr_insert(k, id, enc, m, mlen) : ST_OK;
}

int tz_del(ks *k, uint64_t id, const void *m, size_t mlen, double score) {
    uint8_t key[KS_SUBKEY_MAX], enc[8];
    int hashed, rc;
    num_score64_encode(score, enc);
    size_t kl = ks_member_key(k, id, TZ_KIND_MEMBER, NULL, 0, m, mlen, key, &hashed);
    if ((rc = store_del(ks_store(k), ST_DBI_SUB, key, kl)) && rc != ST_NOTFOUND) return rc;
    kl = ks_member_key(k, id, TZ_KIND_SCORE, enc, 8, m, mlen, key, &hashed);
    if ((rc = store_del(ks_store(k), ST_DBI_SUB, key, kl))) return rc == ST_NOTFOUND ? ST_OK : rc;
    return tzr_delete(k, id, enc, m, mlen);
}

/* ------------------------------------------------------------------ */
/* the merged score-index iterator                                     */

static int hent_cmp(const void *a, const void *b, void *dir) {
    const tz_hent *x = a, *y = b;
    return tzr_entry_cmp(x->enc, x->m, x->mlen, y->enc, y->m, y->mlen) * *(const int *)dir;
}

static void group_clear(tz_iter *it) {
    for (size_t i = it->gi; i < it->gn; i++) free(it->g[i].m);
    it->gn = it->gi = 0;
}

static void note_err(tz_iter *it, int rc) {
    if (rc < 0 && rc != ST_NOTFOUND && !it->err) it->err = rc;
}

static void load_plain(tz_iter *it) {
    const uint8_t *key, *v;
    size_t kl, vl;
    it->pvalid = 0;
    if (store_cursor_get(it->pc, &key, &kl, &v, &vl) != ST_OK) return;
    if (kl < SKEY_HDR || memcmp(key, it->ppre, 9) != 0) return;
    it->pvalid = 1;
    it->penc = key + 9;
    it->pm = key + SKEY_HDR;
    it->pmlen = kl - SKEY_HDR;
    it->pflag = vl >= 1 ? v[0] : 0;
}

static int hashed_key_ok(const tz_iter *it, const uint8_t *key, size_t kl) {
    return kl == HKEY_LEN && memcmp(key, it->hpre, 9) == 0;
}

static void step_cursor(tz_iter *it, store_cursor *c, int *valid) {
    int rc = it->dir > 0 ? store_cursor_next(c) : store_cursor_prev(c);
    note_err(it, rc);
    *valid = rc == ST_OK;
}

/* Read the next group of hashed entries (same score64 and prefix) into g,
 * sorted in iteration order. */
static void load_group(tz_iter *it) {
    uint8_t first[8 + KS_MEMBER_PREFIX];
    group_clear(it);
    while (it->hvalid) {
        const uint8_t *key, *v, *fm, *p;
        size_t kl, vl, fml, pl;
        if (store_cursor_get(it->hc, &key, &kl, &v, &vl) != ST_OK || !hashed_key_ok(it, key, kl)) {
            it->hvalid = 0;
            break;
        }
        if (it->gn == 0) memcpy(first, key + 9, sizeof first);
        else if (memcmp(first, key + 9, sizeof first) != 0) break;
        if (ks_member_value_unwrap(v, vl, &fm, &fml, &p, &pl) != ST_OK) {
            note_err(it, ST_CORRUPT);
            it->hvalid = 0;
            break;
        }
        if (it->gn == it->gcap) {
            size_t nc = it->gcap ? it->gcap * 2 : 4;
            tz_hent *ng = realloc(it->g, nc * sizeof *ng);
            if (!ng) {
                note_err(it, ST_NOMEM);
                it->hvalid = 0;
                break;
            }
            it->g = ng;
            it->gcap = nc;
        }
        tz_hent *e = &it->g[it->gn];
        e->m = malloc(fml ? fml : 1);
        if (!e->m) {
            note_err(it, ST_NOMEM);
            it->hvalid = 0;
            break;
        }
        memcpy(e->m, fm, fml);
        e->mlen = fml;
        memcpy(e->enc, key + 9, 8);
        e->score = decode_score(key + 9, p, pl);
        it->gn++;
        step_cursor(it, it->hc, &it->hvalid);
    }
    if (it->gn > 1) qsort_r(it->g, it->gn, sizeof *it->g, hent_cmp, &it->dir);
}

static void choose(tz_iter *it) {
    int hp = it->pvalid, hh = it->gi < it->gn;
    if (!hp && !hh) it->cur = -1;
    else if (!hh) it->cur = 0;
    else if (!hp) it->cur = 1;
    else {
        const tz_hent *e = &it->g[it->gi];
        int c = tzr_entry_cmp(it->penc, it->pm, it->pmlen, e->enc, e->m, e->mlen);
        it->cur = c * it->dir < 0 ? 0 : 1;
    }
}

int tz_iter_open(tz_iter *it, ks *k, uint64_t id, int reverse) {
    memset(it, 0, sizeof *it);
    it->k = k;
    it->id = id;
    it->dir = reverse ? -1 : 1;
    it->cur = -1;
    uint8_t kind = TZ_KIND_SCORE, hkind = HASHED_S;
    ks_subkey(it->ppre, id, &kind, 1);
    ks_subkey(it->hpre, id, &hkind, 1);
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &it->pc);
    if (rc) return rc;
    rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &it->hc);
    if (rc) {
        store_cursor_close(it->pc);
        it->pc = NULL;
        return rc;
    }
    return ST_OK;
}

/* Position a cursor at the first key >= key (ascending) or the last key
 * <= key (descending); strict excludes the key itself. */
static int cursor_seek(tz_iter *it, store_cursor *c, const uint8_t *key, size_t kl, int strict) {
    int rc = it->dir > 0 ? store_cursor_seek(c, key, kl) : store_cursor_seek_rev(c, key, kl);
    if (rc == ST_OK && strict) {
        const uint8_t *ck, *v;
        size_t ckl, vl;
        if (store_cursor_get(c, &ck, &ckl, &v, &vl) == ST_OK && ckl == kl &&
            memcmp(ck, key, kl) == 0)
            rc = it->dir > 0 ? store_cursor_next(c) : store_cursor_prev(c);
    }
    note_err(it, rc);
    return rc == ST_OK;
}

static int finish_seek(tz_iter *it) {
    load_plain(it);
    load_group(it);
    choose(it);
    if (it->err) return it->err;
    return it->cur < 0 ? ST_NOTFOUND : ST_OK;
}

int tz_iter_first(tz_iter *it) {
    group_clear(it);
    if (it->dir > 0) {
        cursor_seek(it, it->pc, it->ppre, 9, 0);
        it->hvalid = !it->plain_only && cursor_seek(it, it->hc, it->hpre, 9, 0);
    } else {
        /* The last key below the next kind. */
        uint8_t p[9], h[9];
        memcpy(p, it->ppre, 9);
        memcpy(h, it->hpre, 9);
        p[8]++;
        h[8]++;
        cursor_seek(it, it->pc, p, 9, 1);
        it->hvalid = !it->plain_only && cursor_seek(it, it->hc, h, 9, 1);
    }
    return finish_seek(it);
}

/* Does the current entry lie on the wrong side of the bound? */
static int violates(const tz_iter *it, const uint8_t enc[8], const uint8_t *m, size_t mlen,
                    int excl) {
    const uint8_t *ce, *cm;
    size_t cl;
    if (it->cur == 0) {
        ce = it->penc;
        cm = it->pm;
        cl = it->pmlen;
    } else {
        const tz_hent *e = &it->g[it->gi];
        ce = e->enc;
        cm = e->m;
        cl = e->mlen;
    }
    int c = tzr_entry_cmp(ce, cm, cl, enc, m, mlen) * it->dir;
    return excl ? c <= 0 : c < 0;
}

static int seek_enc(tz_iter *it, const uint8_t enc[8], const uint8_t *m, size_t mlen, int excl) {
    uint8_t key[KS_SUBKEY_MAX];
    group_clear(it);
    /* Plain range: plain members are at most KS_SUBKEY_MAX - 17 bytes, so a
     * longer bound is cut there; the skip loop below settles the rest. */
    size_t pm = mlen < KS_SUBKEY_MAX - SKEY_HDR ? mlen : KS_SUBKEY_MAX - SKEY_HDR;
    memcpy(key, it->ppre, 9);
    memcpy(key + 9, enc, 8);
    if (pm) memcpy(key + SKEY_HDR, m, pm);
    cursor_seek(it, it->pc, key, SKEY_HDR + pm, 0);
    /* Hashed range: seek by the prefix; entries sharing the bound's prefix
     * are filtered by full member below. */
    memcpy(key, it->hpre, 9);
    size_t hl;
    if (mlen < KS_MEMBER_PREFIX) {
        if (mlen) memcpy(key + SKEY_HDR, m, mlen);
        hl = SKEY_HDR + mlen;
    } else {
        memcpy(key + SKEY_HDR, m, KS_MEMBER_PREFIX);
        hl = SKEY_HDR + KS_MEMBER_PREFIX;
        if (it->dir < 0) {
            memset(key + hl, 0xff, 16);
            hl += 16;
        }
    }
    it->hvalid = !it->plain_only && cursor_seek(it, it->hc, key, hl, 0);
    int rc = finish_seek(it);
    while (rc == ST_OK && violates(it, enc, m, mlen, excl)) rc = tz_iter_next(it);
    return rc;
}

int tz_iter_seek_member(tz_iter *it, double s, const void *m, size_t mlen, int excl) {
    uint8_t enc[8];
    num_score64_encode(s, enc);
    return seek_enc(it, enc, m, mlen, excl);
}

/* enc + 1 as a big-endian integer; 0 if it overflowed. */
static int enc_inc(uint8_t enc[8]) {
    for (int i = 7; i >= 0; i--)
        if (++enc[i] != 0) return 1;
    return 0;
}

int tz_iter_seek_score(tz_iter *it, double s, int excl) {
    uint8_t enc[8];
    num_score64_encode(s, enc);
    /* Ascending: >= (s, "") or >= (next(s), ""). Descending: < (next(s), "")
     * or < (s, ""). */
    int need_inc = it->dir > 0 ? excl : !excl;
    if (need_inc && !enc_inc(enc)) {
        if (it->dir > 0) {
            group_clear(it);
            it->pvalid = it->hvalid = 0;
            it->cur = -1;
            return ST_NOTFOUND;
        }
        return tz_iter_first(it);
    }
    return seek_enc(it, enc, NULL, 0, it->dir < 0);
}

int tz_iter_next(tz_iter *it) {
    if (it->cur < 0) return ST_NOTFOUND;
    if (it->cur == 0) {
        int v;
        step_cursor(it, it->pc, &v);
        if (v) load_plain(it);
        else it->pvalid = 0;
    } else {
        free(it->g[it->gi].m);
        it->gi++;
        if (it->gi == it->gn) load_group(it);
    }
    choose(it);
    if (it->err) return it->err;
    return it->cur < 0 ? ST_NOTFOUND : ST_OK;
}

int tz_iter_valid(const tz_iter *it) {
    return it->cur >= 0;
}

const uint8_t *tz_iter_member(const tz_iter *it, size_t *mlen) {
    if (it->cur == 0) {
        *mlen = it->pmlen;
        return it->pm;
    }
    *mlen = it->g[it->gi].mlen;
    return it->g[it->gi].m;
}

double tz_iter_score(const tz_iter *it) {
    return it->cur == 0 ? decode_score(it->penc, &it->pflag, 1) : it->g[it->gi].score;
}

const uint8_t *tz_iter_enc(const tz_iter *it) {
    return it->cur == 0 ? it->penc : it->g[it->gi].enc;
}

void tz_iter_close(tz_iter *it) {
    group_clear(it);
    free(it->g);
    it->g = NULL;
    it->gcap = 0;
    store_cursor_close(it->pc);
    store_cursor_close(it->hc);
    it->pc = it->hc = NULL;
    it->cur = -1;
}

/* ------------------------------------------------------------------ */
/* ZSCAN over the member index                                          */

int tz_scan(ks *k, uint64_t id, uint8_t *pos, size_t *poslen, long count, tz_scan_fn fn,
            void *ud, int *done) {
    store_cursor *c;
    uint8_t key[8 + TZ_SCAN_POS_MAX];
    int rc = store_cursor_open(ks_store(k), ST_DBI_SUB, &c);
    if (rc) return rc;
    *done = 0;
    uint8_t kind = TZ_KIND_MEMBER;
    size_t kl;
    int strict = 0;
    if (*poslen) {
        kl = ks_subkey(key, id, pos, *poslen);
        strict = 1;
    } else {
        kl = ks_subkey(key, id, &kind, 1);
    }
    rc = store_cursor_seek(c, key, kl);
    long seen = 0;
    while (rc == ST_OK) {
        const uint8_t *ck, *v;
        size_t ckl, vl;
        if ((rc = store_cursor_get(c, &ck, &ckl, &v, &vl)) != ST_OK) break;
        if (ckl < 9 || memcmp(ck, key, 8) != 0) {
            rc = ST_NOTFOUND;
            break;
        }
        if (strict && ckl == kl && memcmp(ck, key, kl) == 0) {
            strict = 0;
            rc = store_cursor_next(c);
            continue;
        }
        strict = 0;
        uint8_t kb = ck[8];
        if (kb != TZ_KIND_MEMBER && kb != HASHED_M) {
            if (kb > HASHED_M) {
                rc = ST_NOTFOUND;
                break;
            }
            /* Jump to the next range of member entries. */
            uint8_t next = kb < TZ_KIND_MEMBER ? TZ_KIND_MEMBER : HASHED_M;
            uint8_t jk[9];
            ks_subkey(jk, id, &next, 1);
            rc = store_cursor_seek(c, jk, 9);
            continue;
        }
        if (seen == count) break; /* more remain: stop before this one */
        const uint8_t *m = ck + 9, *p = v;
        size_t ml = ckl - 9, pl = vl;
        if (kb == HASHED_M &&
            ks_member_value_unwrap(v, vl, &m, &ml, &p, &pl) != ST_OK) {
            rc = ST_CORRUPT;
            break;
        }
        if (pl < 8) {
            rc = ST_CORRUPT;
            break;
        }
        if (ckl - 8 > TZ_SCAN_POS_MAX) {
            rc = ST_CORRUPT;
            break;
        }
        memcpy(pos, ck + 8, ckl - 8);
        *poslen = ckl - 8;
        seen++;
        if (fn(ud, m, ml, decode_score(p, p + 8, pl - 8))) break;
        rc = store_cursor_next(c);
    }
    store_cursor_close(c);
    if (rc == ST_NOTFOUND) {
        *done = 1;
        return ST_OK;
    }
    return rc < 0 ? rc : ST_OK;
}
