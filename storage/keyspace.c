/* keyspace.c — keys, meta records, logical databases, expiry, reclamation.
 *
 * Encodings (never change without bumping FORMAT_VERSION in store.c):
 *   keys key     pdb(1) · ukey                      when |ukey| <= KS_INLINE_MAX
 *                (pdb|0x80) · ukey[0:KS_PREFIX] · siphash128(secret, ukey)   otherwise
 *                The high bit of the first byte marks the hashed form, so no
 *                user key byte is ever interpreted as a marker.
 *   meta record  type(1) flags(1) expire(8) id(8) count(8) hdrlen(2)
 *                [klen(4) key if KS_F_LONGKEY] hdr body
 *                body: string bytes, or rawlen(8)·zstd frame if KS_F_COMPRESSED
 *   expires key  when_ms(8 BE) · keys key     (so the sweep reads it in time order)
 *   trash        id(8 BE) -> type(1); ids < 256 are physical db slots ('D')
 *   info         "dbmap" -> 64 slot bytes; "cnt"·pdb -> keys(8) expires(8);
 *                "id_hi" -> next unreserved collection id (8)
 * Counters are kept in memory and written once per tick (ks_flush_counters),
 * through the WAL like every other write, so replay restores them. */
#include "storage/keyspace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <zstd.h>

#include "storage/endian.h"
#include "storage/store_int.h"
#include "storage/siphash.h"
#include "storage/tier.h"

#define KS_INLINE_MAX 502 /* 1 + 502 = 503 bytes; + 8 for expires = 511 */
#define KS_PREFIX     470
#define KS_KKEY_MAX   511
#define META_FIXED    28
#define NSLOTS        128
#define ID_BLOCK      4096
#define COMPRESS_MIN  16384

struct ks {
    store *s;
    int databases;
    uint8_t map[KS_MAX_DBS];   /* logical db -> physical slot */
    uint8_t slot_used[NSLOTS]; /* mapped or being reclaimed */
    uint64_t nkeys[NSLOTS], nexp[NSLOTS];
    uint8_t cnt_dirty[NSLOTS];
    int map_dirty;
    uint8_t secret[16];
    int64_t now;
    ks_change_fn hook;
    void *hook_ud;
    uint64_t next_id, id_hi;
    tier *tier;       /* LRU/LFU bookkeeping */
    int lfu;          /* an LFU maxmemory-policy is in force */
    int64_t open_ms;  /* keys not in the tier count as idle since then */
    void *aux[KS_AUX_SLOTS]; /* derived RAM state of storage modules (ks_set_aux_slot) */
    void (*aux_drop[KS_AUX_SLOTS])(void *);
};

static int64_t wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ------------------------------------------------------------------ */
/* encodings                                                           */

static long reclaim_txn(MDB_txn *txn, const MDB_dbi *dbi, long budget, int *more);

static uint64_t khash(const ks *k, const uint8_t *kkey, size_t kkl) {
    return siphash64(k->secret, kkey, kkl);
}

static size_t enc_kkey(const ks *k, uint8_t pdb, const void *key, size_t klen, uint8_t *out) {
    if (klen <= KS_INLINE_MAX) {
        out[0] = pdb;
        if (klen) memcpy(out + 1, key, klen);
        return 1 + klen;
    }
    out[0] = pdb | 0x80;
    memcpy(out + 1, key, KS_PREFIX);
    siphash128(k->secret, key, klen, out + 1 + KS_PREFIX);
    return 1 + KS_PREFIX + 16;
}

/* Decode a meta record; m->val points at the raw (maybe compressed) body.
 * If fullkey is given, it gets the full key of a long-key record. */
static int meta_decode(const uint8_t *p, size_t n, ks_meta *m, const uint8_t **fullkey,
                       size_t *fullklen) {
    memset(m, 0, sizeof *m);
    if (n < META_FIXED) return ST_CORRUPT;
    m->type = p[0];
    m->flags = p[1];
    m->expire = (int64_t)be64_get(p + 2);
    m->id = be64_get(p + 10);
    m->count = be64_get(p + 18);
    m->hdrlen = (size_t)p[26] << 8 | p[27];
    size_t off = META_FIXED;
    if (m->flags & KS_F_LONGKEY) {
        if (n < off + 4) return ST_CORRUPT;
        uint32_t kl = be32_get(p + off);
        off += 4;
        if (n < off + kl) return ST_CORRUPT;
        if (fullkey) {
            *fullkey = p + off;
            *fullklen = kl;
        }
        off += kl;
    }
    if (n < off + m->hdrlen) return ST_CORRUPT;
    m->hdr = p + off;
    off += m->hdrlen;
    m->val = p + off;
    m->vlen = n - off;
    return ST_OK;
}

/* store's pf_expand: a collection's members live under its id in sub. */
static size_t members_prefix(const uint8_t *v, size_t vlen, uint8_t out[8]) {
    ks_meta m;
    if (meta_decode(v, vlen, &m, NULL, NULL) != ST_OK || !m.id) return 0;
    be64_put(out, m.id);
    return 8;
}

static int decompress_body(ks_meta *m) {
    if (!(m->flags & KS_F_COMPRESSED)) return ST_OK;
    if (m->vlen < 8) return ST_CORRUPT;
    uint64_t raw = be64_get(m->val);
    void *out = malloc(raw ? raw : 1);
    if (!out) return ST_NOMEM;
    size_t r = ZSTD_decompress(out, raw, m->val + 8, m->vlen - 8);
    if (ZSTD_isError(r) || r != raw) {
        free(out);
        return ST_CORRUPT;
    }
    m->owned = out;
    m->val = out;
    m->vlen = raw;
    return ST_OK;
}

/* Encode a meta record into a malloc'd buffer. */
static uint8_t *meta_encode(const ks_meta *m, const void *key, size_t klen, int longkey,
                            size_t *outlen) {
    const uint8_t *body = m->val;
    size_t blen = m->vlen;
    uint8_t flags = (uint8_t)(m->flags & ~(KS_F_LONGKEY | KS_F_COMPRESSED));
    void *zbuf = NULL;
    size_t zlen = 0;
    if (m->type == KS_STRING && blen >= COMPRESS_MIN) {
        size_t bound = ZSTD_compressBound(blen);
        zbuf = malloc(bound + 8);
        if (zbuf) {
            size_t r = ZSTD_compress((uint8_t *)zbuf + 8, bound, body, blen, 1);
            if (!ZSTD_isError(r) && r + 8 < blen - blen / 8) {
                be64_put(zbuf, blen);
                zlen = r + 8;
                flags |= KS_F_COMPRESSED;
            } else {
                free(zbuf);
                zbuf = NULL;
            }
        }
    }
    if (longkey) flags |= KS_F_LONGKEY;
    size_t n = META_FIXED + (longkey ? 4 + klen : 0) + m->hdrlen + (zbuf ? zlen : blen);
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        free(zbuf);
        return NULL;
    }
    p[0] = m->type;
    p[1] = flags;
    be64_put(p + 2, (uint64_t)m->expire);
    be64_put(p + 10, m->id);
    be64_put(p + 18, m->count);
    p[26] = (uint8_t)(m->hdrlen >> 8);
    p[27] = (uint8_t)m->hdrlen;
    size_t off = META_FIXED;
    if (longkey) {
        be32_put(p + off, (uint32_t)klen);
        memcpy(p + off + 4, key, klen);
        off += 4 + klen;
    }
    if (m->hdrlen) memcpy(p + off, m->hdr, m->hdrlen);
    off += m->hdrlen;
    if (zbuf) {
        memcpy(p + off, zbuf, zlen);
        free(zbuf);
    } else if (blen) {
        memcpy(p + off, body, blen);
    }
    *outlen = n;
    return p;
}

size_t ks_subkey(uint8_t *dst, uint64_t id, const void *sub, size_t sublen) {
    be64_put(dst, id);
    if (sublen) memcpy(dst + 8, sub, sublen);
    return 8 + sublen;
}

size_t ks_member_key(ks *k, uint64_t id, uint8_t kind, const void *fixed, size_t fixedlen,
                     const void *member, size_t mlen, uint8_t *out, int *hashed) {
    be64_put(out, id);
    size_t off = 9;
    if (fixedlen) memcpy(out + off, fixed, fixedlen);
    off += fixedlen;
    if (off + mlen <= KS_SUBKEY_MAX) {
        out[8] = kind;
        if (mlen) memcpy(out + off, member, mlen);
        *hashed = 0;
        return off + mlen;
    }
    out[8] = kind | KS_KIND_HASHED;
    memcpy(out + off, member, KS_MEMBER_PREFIX);
    off += KS_MEMBER_PREFIX;
    siphash128(k->secret, member, mlen, out + off);
    *hashed = 1;
    return off + 16;
}

int ks_member_split(const uint8_t *key, size_t klen, size_t fixedlen, uint8_t *kind,
                    const uint8_t **fixed, const uint8_t **member, size_t *mlen, int *hashed) {
    if (klen < 9 + fixedlen) return ST_CORRUPT;
    *kind = key[8] & (uint8_t)~KS_KIND_HASHED;
    *hashed = (key[8] & KS_KIND_HASHED) != 0;
    *fixed = key + 9;
    *member = key + 9 + fixedlen;
    *mlen = klen - 9 - fixedlen;
    return ST_OK;
}

uint8_t *ks_member_value_wrap(const void *member, size_t mlen, const void *payload,
                              size_t plen, size_t *outlen) {
    uint8_t *p = malloc(4 + mlen + plen + 1);
    if (!p) return NULL;
    be32_put(p, (uint32_t)mlen);
    memcpy(p + 4, member, mlen);
    if (plen) memcpy(p + 4 + mlen, payload, plen);
    *outlen = 4 + mlen + plen;
    return p;
}

int ks_member_value_unwrap(const uint8_t *v, size_t vlen, const uint8_t **member, size_t *mlen,
                           const uint8_t **payload, size_t *plen) {
    if (vlen < 4) return ST_CORRUPT;
    uint32_t n = be32_get(v);
    if (vlen < 4 + (size_t)n) return ST_CORRUPT;
    *member = v + 4;
    *mlen = n;
    *payload = v + 4 + n;
    *plen = vlen - 4 - n;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* counters, map, ids                                                  */

static void cnt_add(ks *k, uint8_t pdb, int64_t dkeys, int64_t dexp) {
    pdb &= 0x7f;
    k->nkeys[pdb] += (uint64_t)dkeys;
    k->nexp[pdb] += (uint64_t)dexp;
    k->cnt_dirty[pdb] = 1;
}

int ks_flush_counters(ks *k) {
    int rc = ST_OK;
    for (int i = 0; i < NSLOTS; i++) {
        if (!k->cnt_dirty[i]) continue;
        k->cnt_dirty[i] = 0;
        uint8_t key[4] = {'c', 'n', 't', (uint8_t)i}, v[16];
        be64_put(v, k->nkeys[i]);
        be64_put(v + 8, k->nexp[i]);
        int r = store_put(k->s, ST_DBI_INFO, key, 4, v, 16);
        if (r) rc = r;
    }
    if (k->map_dirty) {
        k->map_dirty = 0;
        int r = store_put(k->s, ST_DBI_INFO, "dbmap", 5, k->map, KS_MAX_DBS);
        if (r) rc = r;
    }
    return rc;
}

uint64_t ks_new_id(ks *k) {
    if (k->next_id >= k->id_hi) {
        k->id_hi = k->next_id + ID_BLOCK;
        uint8_t v[8];
        be64_put(v, k->id_hi);
        store_put(k->s, ST_DBI_INFO, "id_hi", 5, v, 8);
    }
    return k->next_id++;
}

const char *ks_type_name(int type) {
    switch (type) {
    case KS_STRING: return "string";
    case KS_LIST: return "list";
    case KS_SET: return "set";
    case KS_ZSET: return "zset";
    case KS_HASH: return "hash";
    case KS_STREAM: return "stream";
    default: return "none";
    }
}

int ks_reserve_ids(ks *k, uint64_t below) {
    if (k->next_id >= below) return ST_OK;
    k->next_id = below;
    k->id_hi = below + ID_BLOCK;
    uint8_t v[8];
    be64_put(v, k->id_hi);
    return store_put(k->s, ST_DBI_INFO, "id_hi", 5, v, 8);
}

int ks_db_slot(ks *k, int db) {
    return db >= 0 && db < KS_MAX_DBS ? k->map[db] & 0x7f : -1;
}

void ks_slot_counters(ks *k, int slot, uint64_t *keys, uint64_t *expires) {
    *keys = k->nkeys[slot & 0x7f];
    *expires = k->nexp[slot & 0x7f];
}

int ks_decode_key_entry(const uint8_t *kk, size_t kkl, const uint8_t *v, size_t vl, int *slot,
                        const uint8_t **key, size_t *klen, ks_meta *m) {
    if (kkl < 1) return ST_CORRUPT;
    const uint8_t *fk = NULL;
    size_t fkl = 0;
    int rc = meta_decode(v, vl, m, &fk, &fkl);
    if (rc) return rc;
    *slot = kk[0] & 0x7f;
    if (kk[0] & 0x80) {
        if (!fk || !(m->flags & KS_F_LONGKEY)) return ST_CORRUPT;
        *key = fk;
        *klen = fkl;
    } else {
        *key = kk + 1;
        *klen = kkl - 1;
    }
    return ST_OK;
}

static int free_slot(ks *k) {
    for (int i = 0; i < NSLOTS; i++)
        if (!k->slot_used[i]) return i;
    return -1;
}

ks *ks_open(store *s, int databases, int *rc) {
    ks *k = calloc(1, sizeof *k);
    if (!k) {
        *rc = ST_NOMEM;
        return NULL;
    }
    if (databases < 1) databases = 1;
    if (databases > KS_MAX_DBS) databases = KS_MAX_DBS;
    k->s = s;
    k->databases = databases;
    k->now = wall_ms();
    k->open_ms = k->now;
    k->tier = tier_new(1u << 20);
    const uint8_t *v;
    size_t vl;
    if (store_get(s, ST_DBI_INFO, "secret", 6, &v, &vl) == ST_OK && vl == 16)
        memcpy(k->secret, v, 16);
    if (store_get(s, ST_DBI_INFO, "dbmap", 5, &v, &vl) == ST_OK && vl == KS_MAX_DBS) {
        memcpy(k->map, v, KS_MAX_DBS);
    } else {
        for (int i = 0; i < KS_MAX_DBS; i++) k->map[i] = (uint8_t)i;
        k->map_dirty = 1;
    }
    for (int i = 0; i < KS_MAX_DBS; i++) k->slot_used[k->map[i] & 0x7f] = 1;
    for (int i = 0; i < NSLOTS; i++) {
        uint8_t key[4] = {'c', 'n', 't', (uint8_t)i};
        if (store_get(s, ST_DBI_INFO, key, 4, &v, &vl) == ST_OK && vl == 16) {
            k->nkeys[i] = be64_get(v);
            k->nexp[i] = be64_get(v + 8);
        }
    }
    k->next_id = 1u << 16;
    if (store_get(s, ST_DBI_INFO, "id_hi", 5, &v, &vl) == ST_OK && vl == 8)
        k->next_id = be64_get(v); /* ids below were possibly handed out */
    k->id_hi = k->next_id;
    /* Slots still in the trash are not free. */
    store_cursor *c;
    if (store_cursor_open(s, ST_DBI_TRASH, &c) == ST_OK) {
        const uint8_t *ck, *cv;
        size_t ckl, cvl;
        for (int r = store_cursor_seek(c, NULL, 0); r == ST_OK; r = store_cursor_next(c)) {
            if (store_cursor_get(c, &ck, &ckl, &cv, &cvl) != ST_OK || ckl != 8) break;
            uint64_t id = be64_get(ck);
            if (id >= NSLOTS) break;
            k->slot_used[id] = 1;
        }
        store_cursor_close(c);
    }
    store_set_reclaim(s, reclaim_txn);
    store_set_prefetch_expand(s, members_prefix);
    *rc = ST_OK;
    return k;
}

static void aux_drop(ks *k) {
    for (int i = 0; i < KS_AUX_SLOTS; i++) {
        if (k->aux[i] && k->aux_drop[i]) k->aux_drop[i](k->aux[i]);
        k->aux[i] = NULL;
    }
}

void *ks_aux_slot(ks *k, int slot) {
    return k->aux[slot];
}

void ks_set_aux_slot(ks *k, int slot, void *p, void (*drop)(void *p)) {
    k->aux[slot] = p;
    k->aux_drop[slot] = drop;
}

void *ks_aux(ks *k) {
    return ks_aux_slot(k, KS_AUX_ZSET_RANK);
}

void ks_set_aux(ks *k, void *p, void (*drop)(void *p)) {
    ks_set_aux_slot(k, KS_AUX_ZSET_RANK, p, drop);
}

void ks_close(ks *k) {
    if (!k) return;
    aux_drop(k);
    tier_free(k->tier);
    free(k);
}

store *ks_store(ks *k) {
    return k->s;
}
int ks_databases(ks *k) {
    return k->databases;
}
void ks_set_change_hook(ks *k, ks_change_fn fn, void *ud) {
    k->hook = fn;
    k->hook_ud = ud;
}
void ks_set_now(ks *k, int64_t now_ms) {
    k->now = now_ms;
}
int64_t ks_now(ks *k) {
    return k->now;
}

static void notify(ks *k, int db, const void *key, size_t klen, int kind) {
    if (k->hook) k->hook(k->hook_ud, db, key, klen, kind);
}

static int db_of_slot(const ks *k, uint8_t pdb) {
    pdb &= 0x7f;
    for (int i = 0; i < k->databases; i++)
        if (k->map[i] == pdb) return i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* lookup                                                              */

/* Raw fetch by user key: fills m (body still maybe compressed). */
static int fetch(ks *k, int db, const void *key, size_t klen, uint8_t *kkey, size_t *kklen,
                 ks_meta *m) {
    *kklen = enc_kkey(k, k->map[db], key, klen, kkey);
    const uint8_t *v;
    size_t vl;
    int rc = store_get(k->s, ST_DBI_KEYS, kkey, *kklen, &v, &vl);
    if (rc) return rc;
    const uint8_t *fk = NULL;
    size_t fkl = 0;
    rc = meta_decode(v, vl, m, &fk, &fkl);
    if (rc) return rc;
    if ((m->flags & KS_F_LONGKEY) && (fkl != klen || memcmp(fk, key, klen) != 0))
        return ST_NOTFOUND; /* a different long key with the same hashed form */
    return ST_OK;
}

/* Remove a key whose meta is m: keys entry, expires entry, members. */
static int drop_encoded(ks *k, const uint8_t *kkey, size_t kklen, const ks_meta *m) {
    int rc = store_del(k->s, ST_DBI_KEYS, kkey, kklen);
    if (rc) return rc;
    tier_forget(k->tier, khash(k, kkey, kklen));
    if (m->expire) {
        uint8_t ek[8 + KS_KKEY_MAX];
        be64_put(ek, (uint64_t)m->expire);
        memcpy(ek + 8, kkey, kklen);
        rc = store_del(k->s, ST_DBI_EXPIRES, ek, 8 + kklen);
        if (rc) return rc;
        cnt_add(k, kkey[0], 0, -1);
    }
    if (m->id) {
        uint8_t tk[8], tv[1] = {m->type};
        be64_put(tk, m->id);
        rc = store_put(k->s, ST_DBI_TRASH, tk, 8, tv, 1);
        if (rc) return rc;
    }
    cnt_add(k, kkey[0], -1, 0);
    return ST_OK;
}

int ks_object_idle(ks *k, int db, const void *key, size_t klen, int64_t *idle_ms) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    ks_meta m;
    int rc = fetch(k, db, key, klen, kkey, &kkl, &m);
    if (rc) return rc;
    if (m.expire && m.expire <= k->now) return ST_NOTFOUND;
    *idle_ms = tier_idle_ms(k->tier, khash(k, kkey, kkl), k->now, k->open_ms);
    return ST_OK;
}

int ks_object_freq(ks *k, int db, const void *key, size_t klen, int *freq) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    ks_meta m;
    int rc = fetch(k, db, key, klen, kkey, &kkl, &m);
    if (rc) return rc;
    if (m.expire && m.expire <= k->now) return ST_NOTFOUND;
    *freq = tier_freq(k->tier, khash(k, kkey, kkl), k->now);
    return ST_OK;
}

void ks_set_access(ks *k, int db, const void *key, size_t klen, long long idle_s, int freq) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl = enc_kkey(k, k->map[db], key, klen, kkey);
    uint64_t h = khash(k, kkey, kkl);
    if (k->lfu) {
        if (freq >= 0) tier_set_access(k->tier, h, k->now, -1, freq);
    } else if (idle_s >= 0) {
        tier_set_access(k->tier, h, k->now, idle_s * 1000, -1);
    }
}

void ks_set_lfu(ks *k, int lfu, int log_factor, int decay_minutes) {
    k->lfu = lfu;
    tier_set_lfu(k->tier, lfu, log_factor, decay_minutes);
}

int ks_peek(ks *k, int db, const void *key, size_t klen, ks_meta *m) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    int rc = fetch(k, db, key, klen, kkey, &kkl, m);
    if (rc) return rc;
    if (m->expire && m->expire <= k->now) return ST_NOTFOUND;
    return decompress_body(m);
}

static int lookup(ks *k, int db, const void *key, size_t klen, int want_type, ks_meta *m,
                  int touch);

int ks_lookup(ks *k, int db, const void *key, size_t klen, int want_type, ks_meta *m) {
    return lookup(k, db, key, klen, want_type, m, 1);
}

int ks_lookup_notouch(ks *k, int db, const void *key, size_t klen, int want_type, ks_meta *m) {
    return lookup(k, db, key, klen, want_type, m, 0);
}

static int lookup(ks *k, int db, const void *key, size_t klen, int want_type, ks_meta *m,
                  int touch) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    int rc = fetch(k, db, key, klen, kkey, &kkl, m);
    if (rc) return rc;
    if (m->expire && m->expire <= k->now) {
        ks_meta copy = *m;
        rc = drop_encoded(k, kkey, kkl, &copy);
        if (rc) return rc;
        notify(k, db, key, klen, KS_CH_EXPIRED);
        memset(m, 0, sizeof *m);
        return ST_NOTFOUND;
    }
    if (touch) tier_touch(k->tier, khash(k, kkey, kkl), k->now);
    if (want_type != KS_NONE && m->type != want_type) return ST_WRONGTYPE;
    return decompress_body(m);
}

size_t ks_cold_key(ks *k, int db, const void *key, size_t klen, uint8_t *out) {
    size_t kkl = enc_kkey(k, k->map[db], key, klen, out + 2);
    if (store_resident(k->s, ST_DBI_KEYS, out + 2, kkl)) return 0;
    out[0] = (uint8_t)(kkl >> 8);
    out[1] = (uint8_t)kkl;
    return 2 + kkl;
}

int ks_prefetch(ks *k, const uint8_t *packed, size_t len, void *tag) {
    return store_prefetch_submit(k->s, ST_DBI_KEYS, packed, len, tag);
}

void ks_meta_release(ks_meta *m) {
    free(m->owned);
    m->owned = NULL;
}

/* ------------------------------------------------------------------ */
/* writers                                                             */

/* Write meta m for key; old is the previous meta (or NULL if none). */
static int put_meta(ks *k, uint8_t pdb, const void *key, size_t klen, const ks_meta *m,
                    const ks_meta *old) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl = enc_kkey(k, pdb, key, klen, kkey);
    size_t n;
    uint8_t *rec = meta_encode(m, key, klen, klen > KS_INLINE_MAX, &n);
    if (!rec) return ST_NOMEM;
    int rc = store_put(k->s, ST_DBI_KEYS, kkey, kkl, rec, n);
    free(rec);
    if (rc) return rc;
    tier_touch(k->tier, khash(k, kkey, kkl), k->now);
    uint8_t ek[8 + KS_KKEY_MAX];
    memcpy(ek + 8, kkey, kkl);
    int64_t oexp = old ? old->expire : 0;
    if (oexp != m->expire) {
        if (oexp) {
            be64_put(ek, (uint64_t)oexp);
            if ((rc = store_del(k->s, ST_DBI_EXPIRES, ek, 8 + kkl))) return rc;
        }
        if (m->expire) {
            be64_put(ek, (uint64_t)m->expire);
            if ((rc = store_put(k->s, ST_DBI_EXPIRES, ek, 8 + kkl, "", 0))) return rc;
        }
        cnt_add(k, pdb, 0, (m->expire != 0) - (oexp != 0));
    }
    if (!old) cnt_add(k, pdb, 1, 0);
    return ST_OK;
}

int ks_set_string(ks *k, int db, const void *key, size_t klen, const void *val, size_t vlen,
                  int64_t expire, int keepttl, uint8_t flags) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    ks_meta old;
    int rc = fetch(k, db, key, klen, kkey, &kkl, &old);
    if (rc != ST_OK && rc != ST_NOTFOUND) return rc;
    int exists = rc == ST_OK;
    if (exists && old.expire && old.expire <= k->now) {
        /* Logically absent: drop it so the write starts clean. */
        if ((rc = drop_encoded(k, kkey, kkl, &old))) return rc;
        notify(k, db, key, klen, KS_CH_EXPIRED);
        exists = 0;
    }
    if (exists && old.id) {
        /* Replacing a collection: its members go to the trash. */
        uint8_t tk[8], tv[1] = {old.type};
        be64_put(tk, old.id);
        if ((rc = store_put(k->s, ST_DBI_TRASH, tk, 8, tv, 1))) return rc;
    }
    ks_meta m = {0};
    m.type = KS_STRING;
    m.flags = flags;
    m.expire = keepttl && exists ? old.expire : expire;
    m.val = val;
    m.vlen = vlen;
    rc = put_meta(k, k->map[db], key, klen, &m, exists ? &old : NULL);
    if (rc == ST_OK && !exists) notify(k, db, key, klen, KS_CH_NEW);
    if (rc == ST_OK) notify(k, db, key, klen, KS_CH_WRITE);
    return rc;
}

int ks_write_meta(ks *k, int db, const void *key, size_t klen, const ks_meta *m) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    ks_meta old;
    int rc = fetch(k, db, key, klen, kkey, &kkl, &old);
    if (rc != ST_OK && rc != ST_NOTFOUND) return rc;
    int exists = rc == ST_OK;
    if (exists && old.expire && old.expire <= k->now && old.id != m->id) {
        /* Replacing a logically absent key: it expires first, as in Redis. */
        if ((rc = drop_encoded(k, kkey, kkl, &old))) return rc;
        notify(k, db, key, klen, KS_CH_EXPIRED);
        exists = 0;
    }
    if (exists && old.id && old.id != m->id) {
        uint8_t tk[8], tv[1] = {old.type};
        be64_put(tk, old.id);
        if ((rc = store_put(k->s, ST_DBI_TRASH, tk, 8, tv, 1))) return rc;
    }
    rc = put_meta(k, k->map[db], key, klen, m, exists ? &old : NULL);
    if (rc == ST_OK && !exists) notify(k, db, key, klen, KS_CH_NEW);
    if (rc == ST_OK) notify(k, db, key, klen, KS_CH_WRITE);
    return rc;
}

int ks_mark_raw(ks *k, int db, const void *key, size_t klen) {
    ks_meta m;
    int rc = ks_lookup(k, db, key, klen, KS_STRING, &m);
    if (rc != ST_OK) return rc == ST_NOTFOUND ? ST_OK : rc;
    if (!(m.flags & KS_F_RAW)) {
        ks_meta nm = m;
        nm.flags |= KS_F_RAW;
        nm.owned = NULL;
        rc = put_meta(k, k->map[db], key, klen, &nm, &m);
    }
    ks_meta_release(&m);
    return rc;
}

void ks_notify_write(ks *k, int db, const void *key, size_t klen) {
    notify(k, db, key, klen, KS_CH_WRITE);
}

int ks_drop_id(ks *k, uint64_t id, int type) {
    uint8_t tk[8], tv[1] = {(uint8_t)type};
    be64_put(tk, id);
    return store_put(k->s, ST_DBI_TRASH, tk, 8, tv, 1);
}

/* Delete a key, reporting `kind` (or KS_CH_EXPIRED if its time had come).
 * 1 deleted live, 0 missing or expired, or ST_*. */
static int delete_as(ks *k, int db, const void *key, size_t klen, int kind) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    ks_meta m;
    int rc = fetch(k, db, key, klen, kkey, &kkl, &m);
    if (rc == ST_NOTFOUND) return 0;
    if (rc) return rc;
    int expired = m.expire && m.expire <= k->now;
    if ((rc = drop_encoded(k, kkey, kkl, &m))) return rc;
    notify(k, db, key, klen, expired ? KS_CH_EXPIRED : kind);
    return expired ? 0 : 1;
}

int ks_delete(ks *k, int db, const void *key, size_t klen) {
    return delete_as(k, db, key, klen, KS_CH_DEL);
}

int ks_set_expire(ks *k, int db, const void *key, size_t klen, int64_t when) {
    ks_meta m;
    int rc = ks_lookup(k, db, key, klen, KS_NONE, &m);
    if (rc == ST_NOTFOUND) return 0;
    if (rc) return rc;
    if (when > 0 && when <= k->now) {
        ks_meta_release(&m);
        rc = ks_delete(k, db, key, klen);
        return rc < 0 ? rc : 1;
    }
    /* Rewrite the record with the new time; the body is re-encoded from
     * its decompressed form. */
    ks_meta old = m;
    ks_meta nm = m;
    nm.expire = when;
    nm.owned = NULL;
    rc = put_meta(k, k->map[db], key, klen, &nm, &old);
    ks_meta_release(&m);
    if (rc == ST_OK) notify(k, db, key, klen, KS_CH_WRITE);
    return rc ? rc : 1;
}

static int relink_copy(ks *k, int db, const void *src, size_t slen, int dstdb, const void *dst,
                       size_t dlen, const ks_meta *m, const ks_meta *dold);

/* Move a record (meta as is) to another key/db; members stay where they
 * are (they live under the id). Caller has checked dst. */
static int relink(ks *k, int db, const void *src, size_t slen, int dstdb, const void *dst,
                  size_t dlen, const ks_meta *mb, const ks_meta *dold) {
    /* mb borrows the source record's memory, which deleting the source frees:
     * take a private copy of its header and body first. */
    ks_meta mc = *mb;
    const ks_meta *m = &mc;
    uint8_t *copy = malloc(mb->hdrlen + mb->vlen + 1);
    if (!copy) return ST_NOMEM;
    memcpy(copy, mb->hdr, mb->hdrlen);
    memcpy(copy + mb->hdrlen, mb->val, mb->vlen);
    mc.hdr = copy;
    mc.val = copy + mb->hdrlen;
    int rc = relink_copy(k, db, src, slen, dstdb, dst, dlen, m, dold);
    free(copy);
    return rc;
}

static int relink_copy(ks *k, int db, const void *src, size_t slen, int dstdb, const void *dst,
                       size_t dlen, const ks_meta *m, const ks_meta *dold) {
    uint8_t kkey[KS_KKEY_MAX], dkey[KS_KKEY_MAX];
    size_t kkl = enc_kkey(k, k->map[db], src, slen, kkey);
    size_t dkl = enc_kkey(k, k->map[dstdb], dst, dlen, dkey);
    int rc = store_del(k->s, ST_DBI_KEYS, kkey, kkl);
    if (rc) return rc;
    /* The value keeps its access history under its new name, as in Redis. */
    tier_move(k->tier, khash(k, kkey, kkl), khash(k, dkey, dkl));
    if (m->expire) {
        uint8_t ek[8 + KS_KKEY_MAX];
        be64_put(ek, (uint64_t)m->expire);
        memcpy(ek + 8, kkey, kkl);
        if ((rc = store_del(k->s, ST_DBI_EXPIRES, ek, 8 + kkl))) return rc;
        cnt_add(k, kkey[0], 0, -1);
    }
    cnt_add(k, kkey[0], -1, 0);
    if (dold && dold->id) {
        uint8_t tk[8], tv[1] = {dold->type};
        be64_put(tk, dold->id);
        if ((rc = store_put(k->s, ST_DBI_TRASH, tk, 8, tv, 1))) return rc;
    }
    return put_meta(k, k->map[dstdb], dst, dlen, m, dold);
}

int ks_rename(ks *k, int db, const void *src, size_t slen, const void *dst, size_t dlen, int nx) {
    ks_meta m, d;
    int rc = ks_lookup(k, db, src, slen, KS_NONE, &m);
    if (rc) return rc;
    int drc = ks_lookup(k, db, dst, dlen, KS_NONE, &d);
    if (drc != ST_OK && drc != ST_NOTFOUND) {
        ks_meta_release(&m);
        return drc;
    }
    if (drc == ST_OK && nx) {
        ks_meta_release(&m);
        ks_meta_release(&d);
        return 0;
    }
    rc = relink(k, db, src, slen, db, dst, dlen, &m, drc == ST_OK ? &d : NULL);
    ks_meta_release(&m);
    if (drc == ST_OK) ks_meta_release(&d);
    if (rc) return rc;
    /* Redis deletes an existing destination and adds the key afresh. */
    notify(k, db, dst, dlen, KS_CH_NEW);
    notify(k, db, src, slen, KS_CH_DEL);
    notify(k, db, dst, dlen, KS_CH_WRITE);
    return 1;
}

int ks_move(ks *k, int db, int dstdb, const void *key, size_t klen) {
    ks_meta m, d;
    int rc = ks_lookup(k, db, key, klen, KS_NONE, &m);
    if (rc == ST_NOTFOUND) return 0;
    if (rc) return rc;
    rc = ks_lookup(k, dstdb, key, klen, KS_NONE, &d);
    if (rc == ST_OK) {
        ks_meta_release(&d);
        ks_meta_release(&m);
        return 0;
    }
    if (rc != ST_NOTFOUND) {
        ks_meta_release(&m);
        return rc;
    }
    rc = relink(k, db, key, klen, dstdb, key, klen, &m, NULL);
    ks_meta_release(&m);
    if (rc) return rc;
    notify(k, dstdb, key, klen, KS_CH_NEW);
    notify(k, db, key, klen, KS_CH_DEL);
    notify(k, dstdb, key, klen, KS_CH_WRITE);
    return 1;
}

/* Copy every member entry of one collection under a new id: all types keep
 * their members as id·subkey, so one loop serves them all. */
static int copy_members_generic(ks *k, uint64_t from_id, uint64_t to_id, int type) {
    (void)type;
    uint8_t start[8];
    be64_put(start, from_id);
    store_cursor *c;
    int rc = store_cursor_open(k->s, ST_DBI_SUB, &c);
    if (rc) return rc;
    uint8_t nk[KS_KKEY_MAX];
    for (rc = store_cursor_seek(c, start, 8); rc == ST_OK; rc = store_cursor_next(c)) {
        const uint8_t *sk, *v;
        size_t skl, vl;
        if (store_cursor_get(c, &sk, &skl, &v, &vl) != ST_OK || skl < 8 ||
            memcmp(sk, start, 8) != 0)
            break;
        memcpy(nk, sk, skl);
        be64_put(nk, to_id);
        /* The value may live in the memtable node we are about to add next
         * to; copy it first. */
        uint8_t *vc = malloc(vl ? vl : 1);
        if (!vc) {
            store_cursor_close(c);
            return ST_NOMEM;
        }
        memcpy(vc, v, vl);
        int r = store_put(k->s, ST_DBI_SUB, nk, skl, vc, vl);
        free(vc);
        if (r) {
            store_cursor_close(c);
            return r;
        }
    }
    store_cursor_close(c);
    return ST_OK;
}

int ks_copy(ks *k, int db, const void *src, size_t slen, int dstdb, const void *dst,
            size_t dlen, int replace, ks_copy_members_fn copy_members) {
    ks_meta m, d;
    int rc = ks_lookup(k, db, src, slen, KS_NONE, &m);
    if (rc == ST_NOTFOUND) return 0;
    if (rc) return rc;
    int drc = ks_lookup(k, dstdb, dst, dlen, KS_NONE, &d);
    if (drc != ST_OK && drc != ST_NOTFOUND) {
        ks_meta_release(&m);
        return drc;
    }
    if (drc == ST_OK) {
        ks_meta_release(&d);
        if (!replace) {
            ks_meta_release(&m);
            return 0;
        }
        if ((rc = ks_delete(k, dstdb, dst, dlen)) < 0) {
            ks_meta_release(&m);
            return rc;
        }
    }
    ks_meta nm = m;
    nm.owned = NULL;
    if (m.id) {
        if (!copy_members) copy_members = copy_members_generic;
        nm.id = ks_new_id(k);
        if ((rc = copy_members(k, m.id, nm.id, m.type))) {
            ks_meta_release(&m);
            return rc;
        }
    }
    rc = put_meta(k, k->map[dstdb], dst, dlen, &nm, NULL);
    ks_meta_release(&m);
    if (rc) return rc;
    notify(k, dstdb, dst, dlen, KS_CH_NEW);
    notify(k, dstdb, dst, dlen, KS_CH_WRITE);
    return 1;
}

/* ------------------------------------------------------------------ */
/* databases                                                           */

uint64_t ks_dbsize(ks *k, int db) {
    return k->nkeys[k->map[db]];
}

uint64_t ks_expires_count(ks *k, int db) {
    return k->nexp[k->map[db]];
}

int ks_flushdb(ks *k, int db) {
    uint8_t old = k->map[db];
    if (k->nkeys[old] == 0) {
        notify(k, db, NULL, 0, KS_CH_FLUSHDB);
        return ST_OK;
    }
    int ns = free_slot(k);
    if (ns < 0) return ST_NOSPACE; /* caller falls back to deleting keys */
    uint8_t tk[8] = {0}, tv[1] = {'D'};
    tk[7] = old;
    int rc = store_put(k->s, ST_DBI_TRASH, tk, 8, tv, 1);
    if (rc) return rc;
    k->slot_used[ns] = 1;
    k->map[db] = (uint8_t)ns;
    k->map_dirty = 1;
    k->nkeys[ns] = k->nexp[ns] = 0;
    k->cnt_dirty[ns] = 1;
    /* Reclamation deletes the old slot's keys straight in LMDB and the slot
     * is reused later: no cached value of it may survive (store.h). */
    store_cache_clear(k->s);
    aux_drop(k); /* derived state of the flushed keys' ids: drop it all */
    notify(k, db, NULL, 0, KS_CH_FLUSHDB);
    return ST_OK;
}

int ks_flushall(ks *k) {
    for (int i = 0; i < k->databases; i++) {
        int rc = ks_flushdb(k, i);
        if (rc) return rc;
    }
    return ST_OK;
}

int ks_swapdb(ks *k, int a, int b) {
    uint8_t t = k->map[a];
    k->map[a] = k->map[b];
    k->map[b] = t;
    k->map_dirty = 1;
    notify(k, a, NULL, 0, KS_CH_SWAPDB);
    notify(k, b, NULL, 0, KS_CH_SWAPDB);
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* iteration                                                           */

/* Full user key of a keys-DBI entry. */
static void user_key(const uint8_t *kk, size_t kkl, const uint8_t *v, size_t vl,
                     const uint8_t **key, size_t *klen, ks_meta *m) {
    const uint8_t *fk = NULL;
    size_t fkl = 0;
    meta_decode(v, vl, m, &fk, &fkl);
    if (kk[0] & 0x80) {
        *key = fk;
        *klen = fkl;
    } else {
        *key = kk + 1;
        *klen = kkl - 1;
    }
}

/* Iterate one physical range: first byte == b. */
static int scan_range(ks *k, uint8_t b, uint8_t *cursor, size_t *curlen, size_t curcap,
                      long *budget, ks_key_fn fn, void *ud, int *stopped) {
    store_cursor *c;
    int rc = store_cursor_open(k->s, ST_DBI_KEYS, &c);
    if (rc) return rc;
    uint8_t start[1] = {b};
    if (*curlen) rc = store_cursor_seek(c, cursor, *curlen);
    else rc = store_cursor_seek(c, start, 1);
    const uint8_t *kk, *v;
    size_t kkl, vl;
    int finished = 1;
    for (; rc == ST_OK; rc = store_cursor_next(c)) {
        if (store_cursor_get(c, &kk, &kkl, &v, &vl) != ST_OK || kk[0] != b) break;
        if (*budget <= 0) {
            /* Resume here next time. */
            if (kkl <= curcap) {
                memcpy(cursor, kk, kkl);
                *curlen = kkl;
            }
            finished = 0;
            break;
        }
        (*budget)--;
        ks_meta m;
        const uint8_t *key;
        size_t klen;
        user_key(kk, kkl, v, vl, &key, &klen, &m);
        if (m.expire && m.expire <= k->now) continue;
        if (fn(ud, key, klen, &m)) {
            *stopped = 1;
            rc = store_cursor_next(c);
            if (rc == ST_OK && store_cursor_get(c, &kk, &kkl, &v, &vl) == ST_OK && kk[0] == b &&
                kkl <= curcap) {
                memcpy(cursor, kk, kkl);
                *curlen = kkl;
                finished = 0;
            }
            break;
        }
    }
    store_cursor_close(c);
    if (finished) *curlen = 0;
    return finished ? 1 : 0;
}

int ks_scan(ks *k, int db, uint8_t *cursor, size_t *curlen, size_t curcap, long count,
            ks_key_fn fn, void *ud, int *done) {
    uint8_t pdb = k->map[db];
    long budget = count;
    int stopped = 0;
    *done = 0;
    /* The cursor says which of the two ranges (inline, hashed) we are in. */
    int in_long = *curlen && (cursor[0] & 0x80);
    if (*curlen && (cursor[0] & 0x7f) != pdb) *curlen = 0, in_long = 0;
    if (!in_long) {
        int r = scan_range(k, pdb, cursor, curlen, curcap, &budget, fn, ud, &stopped);
        if (r < 0) return r;
        if (r == 0) return ST_OK;
    }
    int r = scan_range(k, pdb | 0x80, cursor, curlen, curcap, &budget, fn, ud, &stopped);
    if (r < 0) return r;
    if (r == 1) *done = 1;
    return ST_OK;
}

int ks_random_key(ks *k, int db, uint8_t **out, size_t *outlen) {
    uint8_t pdb = k->map[db];
    if (k->nkeys[pdb] == 0) return ST_NOTFOUND;
    store_cursor *c;
    int rc = store_cursor_open(k->s, ST_DBI_KEYS, &c);
    if (rc) return rc;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint8_t probe[9];
        probe[0] = (attempt & 1) && attempt > 50 ? (pdb | 0x80) : pdb;
        for (int i = 1; i < 9; i++) probe[i] = (uint8_t)(random() & 0xff);
        rc = store_cursor_seek(c, probe, 9);
        const uint8_t *kk, *v;
        size_t kkl, vl;
        if (rc != ST_OK || store_cursor_get(c, &kk, &kkl, &v, &vl) != ST_OK ||
            (kk[0] & 0x7f) != pdb)
            rc = store_cursor_seek(c, &pdb, 1);
        if (rc != ST_OK || store_cursor_get(c, &kk, &kkl, &v, &vl) != ST_OK ||
            (kk[0] & 0x7f) != pdb)
            continue;
        ks_meta m;
        const uint8_t *key;
        size_t klen;
        user_key(kk, kkl, v, vl, &key, &klen, &m);
        if (m.expire && m.expire <= k->now) continue;
        *out = malloc(klen ? klen : 1);
        if (!*out) break;
        memcpy(*out, key, klen);
        *outlen = klen;
        store_cursor_close(c);
        return ST_OK;
    }
    store_cursor_close(c);
    return ST_NOTFOUND;
}

/* ------------------------------------------------------------------ */
/* eviction support                                                    */

int ks_evict_key(ks *k, int db, const void *key, size_t klen) {
    return delete_as(k, db, key, klen, KS_CH_EVICTED);
}

int ks_key_access(ks *k, int db, const void *key, size_t klen, int *tracked, int64_t *idle_ms,
                  int *freq, int64_t *expire) {
    uint8_t kkey[KS_KKEY_MAX];
    size_t kkl;
    ks_meta m;
    int rc = fetch(k, db, key, klen, kkey, &kkl, &m);
    if (rc) return rc;
    *expire = m.expire;
    *idle_ms = 0;
    *freq = 0;
    *tracked = tier_lookup(k->tier, khash(k, kkey, kkl), k->now, idle_ms, freq);
    return ST_OK;
}

/* The user key of a keys-DBI key, malloc'd (hashed form: from its record). */
static int key_of_kkey(ks *k, const uint8_t *kk, size_t kkl, uint8_t **out, size_t *outlen) {
    const uint8_t *key = kk + 1;
    size_t klen = kkl - 1;
    if (kk[0] & 0x80) {
        const uint8_t *v;
        size_t vl;
        ks_meta m;
        int rc = store_get(k->s, ST_DBI_KEYS, kk, kkl, &v, &vl);
        if (rc) return rc;
        key = NULL;
        if ((rc = meta_decode(v, vl, &m, &key, &klen))) return rc;
        if (!key) return ST_CORRUPT;
    }
    *out = malloc(klen ? klen : 1);
    if (!*out) return ST_NOMEM;
    memcpy(*out, key, klen);
    *outlen = klen;
    return ST_OK;
}

/* Is the keys-DBI key live in the merged view (not deleted, not expired,
 * and with the given expiry when want_exp != 0)? */
static int live_kkey(ks *k, const uint8_t *kk, size_t kkl, int64_t want_exp) {
    const uint8_t *v;
    size_t vl;
    ks_meta m;
    if (store_get(k->s, ST_DBI_KEYS, kk, kkl, &v, &vl) != ST_OK) return 0;
    if (meta_decode(v, vl, &m, NULL, NULL) != ST_OK) return 0;
    if (m.expire && m.expire <= k->now) return 0;
    return !want_exp || m.expire == want_exp;
}

/* A probe key drawn between a and b (a <= b) in byte order: their common
 * prefix, then a byte between theirs, then bytes drawn from the range of
 * byte values the two keys use after that point. Keys share long prefixes
 * and small alphabets ("user:000123"), so a probe of random bytes would land
 * before or after all of them; drawing from their alphabet spreads probes
 * over the keys (exactly so for keys of a fixed format). */
static size_t probe_between(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
                            uint8_t *out, size_t cap) {
    size_t i = 0;
    while (i < al && i < bl && a[i] == b[i] && i + 1 < cap) out[i] = a[i], i++;
    unsigned lo = i < al ? a[i] : 0, hi = i < bl ? b[i] : 255;
    if (hi < lo) hi = lo;
    out[i] = (uint8_t)(lo + (unsigned)random() % (hi - lo + 1));
    unsigned amin = 255, amax = 0;
    for (size_t j = i + 1; j < al || j < bl; j++) {
        unsigned x = j < al ? a[j] : b[j], y = j < bl ? b[j] : x;
        if (x > y) x ^= y, y ^= x, x ^= y;
        if (x < amin) amin = x;
        if (y > amax) amax = y;
    }
    if (amin > amax) amin = 0, amax = 255;
    size_t n = (al > bl ? al : bl);
    if (n > cap) n = cap;
    for (size_t j = i + 1; j < n; j++)
        out[j] = (uint8_t)(amin + (unsigned)random() % (amax - amin + 1));
    return n > i + 1 ? n : i + 1;
}

int ks_sample_key(ks *k, int db, uint8_t **out, size_t *outlen) {
    uint8_t pdb = k->map[db];
    if (k->nkeys[pdb] == 0) return ST_NOTFOUND;
    for (int attempt = 0; attempt < 16; attempt++) {
        uint8_t b = (attempt & 3) == 3 ? (pdb | 0x80) : pdb, hib = (uint8_t)(b + 1);
        const uint8_t *kk, *first, *last;
        size_t kkl, fl, ll;
        /* Bounds of this slot's range in LMDB, then a probe between them. */
        if (store_base_seek(k->s, ST_DBI_KEYS, &b, 1, 0, &first, &fl) != ST_OK ||
            first[0] != b)
            continue;
        uint8_t fcopy[KS_KKEY_MAX];
        memcpy(fcopy, first, fl);
        if (store_base_seek(k->s, ST_DBI_KEYS, &hib, 1, 1, &last, &ll) != ST_OK || last[0] != b)
            continue;
        uint8_t probe[KS_KKEY_MAX + 9];
        size_t pl = probe_between(fcopy, fl, last, ll, probe, sizeof probe);
        /* Every other probe goes to the memtable, so keys written since the
         * last checkpoint are candidates too (under LFU they are the
         * coldest: a new key starts at counter 5). */
        int rc = (attempt & 1) ? store_memtable_seek(k->s, ST_DBI_KEYS, probe, pl, &kk, &kkl)
                               : store_base_seek(k->s, ST_DBI_KEYS, probe, pl, 0, &kk, &kkl);
        if (rc == ST_NOTFOUND && (attempt & 1))
            rc = store_memtable_seek(k->s, ST_DBI_KEYS, &b, 1, &kk, &kkl);
        if (rc != ST_OK || kk[0] != b) continue;
        if (!live_kkey(k, kk, kkl, 0)) continue;
        return key_of_kkey(k, kk, kkl, out, outlen);
    }
    /* Nothing found in LMDB: the keys may all be in the memtable still. */
    return ks_random_key(k, db, out, outlen);
}

int ks_random_volatile(ks *k, int db, uint8_t **out, size_t *outlen) {
    uint8_t pdb = k->map[db];
    if (k->nexp[pdb] == 0) return ST_NOTFOUND;
    const uint8_t *ek;
    size_t ekl;
    uint64_t lo = 0, hi = 0;
    if (store_base_seek(k->s, ST_DBI_EXPIRES, NULL, 0, 0, &ek, &ekl) == ST_OK && ekl >= 8) {
        lo = be64_get(ek);
        hi = (uint64_t)k->now + 86400000; /* probes past the last entry wrap */
        if (hi < lo) hi = lo;
        /* A random time between the first expiry and a day ahead, then the
         * next entries of this database from there (wrapping once). */
        for (int attempt = 0; attempt < 16; attempt++) {
            uint8_t probe[8];
            uint64_t span = hi - lo + 1;
            be64_put(probe, lo + (((uint64_t)random() << 31) ^ (uint64_t)random()) % span);
            int rc = store_base_seek(k->s, ST_DBI_EXPIRES, probe, 8, 0, &ek, &ekl);
            if (rc == ST_NOTFOUND)
                rc = store_base_seek(k->s, ST_DBI_EXPIRES, NULL, 0, 0, &ek, &ekl);
            if (rc != ST_OK || ekl <= 9 || (ek[8] & 0x7f) != pdb) continue;
            if (!live_kkey(k, ek + 8, ekl - 8, (int64_t)be64_get(ek))) continue;
            return key_of_kkey(k, ek + 8, ekl - 8, out, outlen);
        }
    }
    /* Fall back to the merged view (TTLs set since the last checkpoint). */
    store_cursor *c;
    int rc = store_cursor_open(k->s, ST_DBI_EXPIRES, &c);
    if (rc) return rc;
    rc = ST_NOTFOUND;
    int r = store_cursor_seek(c, NULL, 0);
    for (int step = 0; r == ST_OK && step < 1024; step++, r = store_cursor_next(c)) {
        const uint8_t *v;
        size_t vl;
        if (store_cursor_get(c, &ek, &ekl, &v, &vl) != ST_OK || ekl <= 9) break;
        if ((ek[8] & 0x7f) != pdb) continue;
        rc = key_of_kkey(k, ek + 8, ekl - 8, out, outlen);
        break;
    }
    store_cursor_close(c);
    return rc;
}

int ks_first_volatile(ks *k, int *db, uint8_t **out, size_t *outlen) {
    store_cursor *c;
    int rc = store_cursor_open(k->s, ST_DBI_EXPIRES, &c);
    if (rc) return rc;
    const uint8_t *ek, *v;
    size_t ekl, vl;
    rc = ST_NOTFOUND;
    /* Entries of flushed databases wait for the reclaimer: skip them (a
     * bounded number, so a huge flushed database cannot stall a command). */
    int r = store_cursor_seek(c, NULL, 0);
    for (int step = 0; r == ST_OK && step < 4096; step++, r = store_cursor_next(c)) {
        if (store_cursor_get(c, &ek, &ekl, &v, &vl) != ST_OK || ekl <= 9) break;
        int d = db_of_slot(k, ek[8]);
        if (d < 0) continue;
        rc = key_of_kkey(k, ek + 8, ekl - 8, out, outlen);
        if (rc == ST_NOTFOUND) continue; /* stale entry */
        *db = d;
        break;
    }
    store_cursor_close(c);
    return rc;
}

void ks_tier_set_max(ks *k, size_t entries) {
    tier_set_max(k->tier, entries);
}
size_t ks_tier_bytes(ks *k) {
    return tier_bytes(k->tier);
}
size_t ks_tier_entries(ks *k) {
    return tier_entries(k->tier);
}

/* ------------------------------------------------------------------ */
/* background work                                                     */

static int64_t elapsed_us(const struct timeval *t0) {
    struct timeval t1;
    gettimeofday(&t1, NULL);
    return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_usec - t0->tv_usec);
}

long ks_expire_cycle(ks *k, long budget_us) {
    struct timeval t0;
    gettimeofday(&t0, NULL);
    int64_t now = wall_ms();
    k->now = now;
    long n = 0;
    store_cursor *c;
    if (store_cursor_open(k->s, ST_DBI_EXPIRES, &c) != ST_OK) return 0;
    int rc = store_cursor_seek(c, NULL, 0);
    /* Collect a batch first: deleting while iterating is fine for the
     * memtable, but the LMDB side of the cursor must not see stale state. */
    struct item {
        uint8_t k[8 + KS_KKEY_MAX];
        size_t kl;
    } *items = malloc(sizeof(struct item) * 64);
    int ni = 0;
    for (; rc == ST_OK && ni < 64; rc = store_cursor_next(c)) {
        const uint8_t *ek, *v;
        size_t ekl, vl;
        if (store_cursor_get(c, &ek, &ekl, &v, &vl) != ST_OK || ekl < 9) break;
        if ((int64_t)be64_get(ek) > now) break;
        memcpy(items[ni].k, ek, ekl);
        items[ni].kl = ekl;
        ni++;
        if ((ni & 15) == 0 && elapsed_us(&t0) > budget_us) break;
    }
    store_cursor_close(c);
    for (int i = 0; i < ni; i++) {
        uint8_t *ek = items[i].k;
        const uint8_t *kk = ek + 8;
        size_t kkl = items[i].kl - 8;
        int64_t when = (int64_t)be64_get(ek);
        const uint8_t *v;
        size_t vl;
        ks_meta m;
        const uint8_t *fk = NULL;
        size_t fkl = 0;
        if (store_get(k->s, ST_DBI_KEYS, kk, kkl, &v, &vl) != ST_OK ||
            meta_decode(v, vl, &m, &fk, &fkl) != ST_OK || m.expire != when) {
            store_del(k->s, ST_DBI_EXPIRES, ek, items[i].kl); /* stale entry */
            continue;
        }
        uint8_t keycopy[KS_KKEY_MAX];
        const uint8_t *key;
        size_t klen;
        uint8_t *longcopy = NULL;
        if (kk[0] & 0x80) {
            longcopy = malloc(fkl ? fkl : 1);
            if (!longcopy) break;
            memcpy(longcopy, fk, fkl);
            key = longcopy;
            klen = fkl;
        } else {
            memcpy(keycopy, kk + 1, kkl - 1);
            key = keycopy;
            klen = kkl - 1;
        }
        ks_meta mc = m;
        if (drop_encoded(k, kk, kkl, &mc) == ST_OK) {
            n++;
            int db = db_of_slot(k, kk[0]);
            if (db >= 0) notify(k, db, key, klen, KS_CH_EXPIRED);
        }
        free(longcopy);
    }
    free(items);
    return n;
}

/* ------------------------------------------------------------------ */
/* reclamation, on the checkpoint thread                                */

/* Everything below runs inside the checkpoint thread's LMDB write
 * transaction, after the frozen memtable was applied, so it sees every
 * trash entry written before that checkpoint and every member or key it
 * has to delete. Nothing else ever reads a trashed id's members or a
 * flushed slot's keys, so deleting them straight from LMDB, without
 * tombstones in the memtable and the WAL, is safe: the deletions commit
 * atomically with the checkpoint, and a crash before the commit leaves the
 * trash entry in place to be reclaimed again. The event loop never waits
 * for any of it. */

/* Delete up to max entries of the sub range of id; *done when it is empty. */
static long reclaim_id_txn(MDB_txn *txn, const MDB_dbi *dbi, uint64_t id, long max, int *done,
                           int *err) {
    uint8_t start[8];
    be64_put(start, id);
    MDB_cursor *c;
    *done = 0;
    if ((*err = mdb_cursor_open(txn, dbi[ST_DBI_SUB], &c))) return 0;
    MDB_val k = {8, start}, v;
    long n = 0;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= 8 && memcmp(k.mv_data, start, 8) == 0) {
        if (n >= max) break;
        if ((rc = mdb_cursor_del(c, 0))) break;
        n++;
        /* after a delete the cursor already stands on the next entry; an
         * emptied tree leaves it uninitialised (EINVAL) */
        rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
        if (rc == EINVAL) rc = MDB_NOTFOUND;
    }
    if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < 8 || memcmp(k.mv_data, start, 8) != 0)))
        *done = 1;
    else if (rc && rc != MDB_NOTFOUND)
        *err = rc;
    mdb_cursor_close(c);
    return n;
}

/* Delete up to max keys of a flushed physical slot, sending their
 * collections to the trash and their expires entries away. */
static long reclaim_slot_txn(MDB_txn *txn, const MDB_dbi *dbi, uint8_t slot, long max,
                             int *done, int *err) {
    long n = 0;
    *done = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint8_t b = pass ? (slot | 0x80) : slot;
        MDB_cursor *c;
        if ((*err = mdb_cursor_open(txn, dbi[ST_DBI_KEYS], &c))) return n;
        MDB_val k = {1, &b}, v;
        int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && ((const uint8_t *)k.mv_data)[0] == b) {
            if (n >= max) {
                mdb_cursor_close(c);
                return n;
            }
            const uint8_t *mv = v.mv_data;
            if (v.mv_size >= META_FIXED) {
                uint64_t id = be64_get(mv + 10);
                int64_t exp = (int64_t)be64_get(mv + 2);
                if (id) {
                    uint8_t tk[8], tv[1] = {mv[0]};
                    be64_put(tk, id);
                    MDB_val tkv = {8, tk}, tvv = {1, tv};
                    if ((rc = mdb_put(txn, dbi[ST_DBI_TRASH], &tkv, &tvv, 0))) break;
                }
                if (exp && k.mv_size <= KS_KKEY_MAX) {
                    uint8_t ek[8 + KS_KKEY_MAX];
                    be64_put(ek, (uint64_t)exp);
                    memcpy(ek + 8, k.mv_data, k.mv_size);
                    MDB_val ekv = {8 + k.mv_size, ek};
                    rc = mdb_del(txn, dbi[ST_DBI_EXPIRES], &ekv, NULL);
                    if (rc && rc != MDB_NOTFOUND) break;
                }
            }
            if ((rc = mdb_cursor_del(c, 0))) break;
            n++;
            rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
            if (rc == EINVAL) rc = MDB_NOTFOUND;
        }
        mdb_cursor_close(c);
        if (rc && rc != MDB_NOTFOUND) {
            *err = rc;
            return n;
        }
    }
    *done = 1;
    return n;
}

static long reclaim_txn(MDB_txn *txn, const MDB_dbi *dbi, long budget, int *more) {
    long n = 0;
    *more = 0;
    int err = 0;
    while (n < budget) {
        MDB_cursor *tc;
        if ((err = mdb_cursor_open(txn, dbi[ST_DBI_TRASH], &tc))) break;
        MDB_val k, v;
        int rc = mdb_cursor_get(tc, &k, &v, MDB_FIRST);
        uint64_t id = 0;
        int bad = 0;
        if (rc == 0) {
            if (k.mv_size == 8) id = be64_get(k.mv_data);
            else bad = 1;
        }
        mdb_cursor_close(tc);
        if (rc == MDB_NOTFOUND) break;
        if (rc) {
            err = rc;
            break;
        }
        int done = 1;
        if (!bad) {
            n += id < NSLOTS ? reclaim_slot_txn(txn, dbi, (uint8_t)id, budget - n, &done, &err)
                             : reclaim_id_txn(txn, dbi, id, budget - n, &done, &err);
            if (err) break;
        }
        if (!done) {
            *more = 1;
            break;
        }
        uint8_t key[8];
        be64_put(key, id);
        MDB_val dk = bad ? k : (MDB_val){8, key};
        if ((err = mdb_del(txn, dbi[ST_DBI_TRASH], &dk, NULL))) break;
        n++;
    }
    if (err) return -(long)err;
    if (n >= budget) *more = 1;
    return n;
}

long ks_reclaim_step(ks *k, long budget_us, int *pending) {
    (void)budget_us;
    /* The deleting happens on the checkpoint thread (reclaim_txn); here we
     * only learn which flushed slots are free again. */
    *pending = 0;
    for (int i = 0; i < NSLOTS; i++) {
        if (!k->slot_used[i] || db_of_slot(k, (uint8_t)i) >= 0) continue;
        int mapped = 0;
        for (int d = 0; d < KS_MAX_DBS; d++)
            if (k->map[d] == i) mapped = 1;
        if (mapped) continue;
        uint8_t key[8] = {0};
        key[7] = (uint8_t)i;
        const uint8_t *v;
        size_t vl;
        if (store_get(k->s, ST_DBI_TRASH, key, 8, &v, &vl) == ST_NOTFOUND) {
            store_cache_clear(k->s); /* the slot may be reused now */
            k->slot_used[i] = 0;
            k->nkeys[i] = k->nexp[i] = 0;
            k->cnt_dirty[i] = 1;
        } else {
            *pending = 1;
        }
    }
    return 0;
}
