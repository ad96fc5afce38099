/* cmd_check.c — lodis-migrate check DATADIR
 *
 * Verifies the invariants the storage layer keeps, on one consistent
 * snapshot (store_open_snapshot: works while a server runs):
 * - every collection's member entries match its meta record's count (hash
 *   fields, set members, zset members and score-index entries, list
 *   elements and head/tail, stream entries), and only its type's kinds;
 * - each zset member's score has its score-index entry (with equal counts,
 *   the two indexes are then one-to-one);
 * - the expires index and the meta records agree both ways;
 * - every `sub` entry belongs to a live collection or to one in the trash;
 * - the persisted per-database key and TTL counters match the keys;
 * - keys live only in mapped slots or slots being reclaimed.
 * Exit status: 0 clean, 1 problems found, 2 could not run. */
#include "migrate/migrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/progress.h"
#include "storage/keyspace.h"
#include "storage/t_hash.h"
#include "storage/t_list.h"
#include "storage/t_set.h"
#include "storage/t_stream.h"
#include "storage/t_zset.h"

#define MAX_SHOWN 50

static void usage(FILE *f) {
    fprintf(f, "Usage: lodis-migrate check DATADIR [--quiet]\n\n"
               "Verify the invariants of a lodis data directory (also while a lodis-server\n"
               "uses it) and report what is wrong. Exit status: 0 clean, 1 problems found,\n"
               "2 could not run.\n\n"
               "  -q, --quiet   no progress output\n");
}

typedef struct chk {
    ks *k;
    store *s;
    uint64_t problems;
    uint64_t *ids;
    size_t nids, idcap;
    uint64_t nkeys[128], nexp[128];
    int slot_db[128];     /* logical db of a slot, -1 unmapped */
    uint8_t slot_trash[128];
    int oom;
} chk;

static void problem(chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(chk *c, const char *fmt, ...) {
    c->problems++;
    if (c->problems > MAX_SHOWN) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("check: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

/* A printable, bounded rendering of a key for messages. */
static const char *show(const uint8_t *p, size_t n, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (p[i] >= 32 && p[i] < 127 && p[i] != '\\') buf[o++] = (char)p[i];
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", p[i]);
    }
    if (o + 5 >= cap) o = cap - 4, memcpy(buf + o, "...", 3), o += 3;
    buf[o] = 0;
    return buf;
}

static int kind_ok(int type, uint8_t kind) {
    switch (type) {
    case KS_HASH: return kind == TH_KIND_FIELD;
    case KS_SET: return kind == TS_KIND_INT || kind == TS_KIND_MEMBER;
    case KS_ZSET: return kind == TZ_KIND_MEMBER || kind == TZ_KIND_SCORE || kind == TZ_KIND_RANK;
    case KS_LIST: return kind == TL_KIND;
    case KS_STREAM: return strchr("egcpq", kind) != NULL && kind;
    default: return 0;
    }
}

/* Members of one collection against its meta record. */
static void check_members(chk *c, int db, const char *kname, const ks_meta *m) {
    uint64_t per[256] = {0};
    cm_iter it;
    cm_entry e;
    int rc = cm_iter_open(&it, c->k, m->id, NULL, 0);
    uint64_t badkind = 0, badscore = 0;
    while (rc == ST_OK && (rc = cm_iter_next(&it, &e)) == ST_OK) {
        per[e.kind]++;
        if (!kind_ok(m->type, e.kind)) badkind++;
        if (m->type == KS_ZSET && e.kind == TZ_KIND_MEMBER) {
            const uint8_t *pl;
            size_t pll;
            if (e.plen < 8 || cm_get(c->k, m->id, TZ_KIND_SCORE, e.payload, 8, e.member,
                                     e.mlen, &pl, &pll) != ST_OK)
                badscore++;
        }
    }
    cm_iter_close(&it);
    if (rc != ST_NOTFOUND) {
        problem(c, "db %d key '%s': cannot read its members: %s", db, kname, store_strerror(rc));
        return;
    }
    uint64_t n = 0;
    const char *what = "member";
    switch (m->type) {
    case KS_HASH: n = per[TH_KIND_FIELD], what = "field"; break;
    case KS_SET: n = per[TS_KIND_INT] + per[TS_KIND_MEMBER]; break;
    case KS_ZSET:
        n = per[TZ_KIND_MEMBER];
        if (per[TZ_KIND_SCORE] != n)
            problem(c, "db %d key '%s' (zset): %llu members but %llu score-index entries", db,
                    kname, (unsigned long long)n, (unsigned long long)per[TZ_KIND_SCORE]);
        if (badscore)
            problem(c, "db %d key '%s' (zset): %llu members without their score-index entry",
                    db, kname, (unsigned long long)badscore);
        /* The counted rank index (storage/t_zset_rank.c) must count exactly
         * the score index's members. */
        if (per[TZ_KIND_RANK] && tz_rank_check(c->k, m->id, n) != ST_OK)
            problem(c, "db %d key '%s' (zset): the rank index disagrees with the score index",
                    db, kname);
        break;
    case KS_LIST: {
        n = per[TL_KIND], what = "element";
        if (m->hdrlen >= TL_HDR_LEN) {
            uint64_t head = 0, tail = 0;
            for (int i = 0; i < 8; i++) head = head << 8 | m->hdr[i];
            for (int i = 8; i < 16; i++) tail = tail << 8 | m->hdr[i];
            if (tail - head != m->count)
                problem(c, "db %d key '%s' (list): head/tail span %llu, meta count %llu", db,
                        kname, (unsigned long long)(tail - head), (unsigned long long)m->count);
        } else {
            problem(c, "db %d key '%s' (list): header of %zu bytes", db, kname, m->hdrlen);
        }
        break;
    }
    case KS_STREAM: n = per[STRM_KIND_ENTRY], what = "entry"; break;
    default: problem(c, "db %d key '%s': unknown type %d", db, kname, m->type); return;
    }
    if (n != m->count)
        problem(c, "db %d key '%s' (%s): meta count %llu, %llu %s entries", db, kname,
                ks_type_name(m->type), (unsigned long long)m->count, (unsigned long long)n, what);
    if (badkind)
        problem(c, "db %d key '%s' (%s): %llu entries of kinds foreign to the type", db, kname,
                ks_type_name(m->type), (unsigned long long)badkind);
}

static int add_id(chk *c, uint64_t id) {
    if (c->nids == c->idcap) {
        size_t nc = c->idcap ? c->idcap * 2 : 4096;
        uint64_t *n = realloc(c->ids, nc * sizeof *n);
        if (!n) return -1;
        c->ids = n;
        c->idcap = nc;
    }
    c->ids[c->nids++] = id;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t get_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

/* Pass over the keys DBI: meta records, their expires entries, members. */
static int check_keys(chk *c, progress *pr) {
    store_cursor *cur;
    int rc = store_cursor_open(c->s, ST_DBI_KEYS, &cur);
    if (rc) return rc;
    const uint8_t *kk, *v, *key;
    size_t kkl, vl, klen;
    uint64_t seen = 0;
    char kname[200];
    for (rc = store_cursor_seek(cur, NULL, 0); rc == ST_OK && !mig_interrupted;
         rc = store_cursor_next(cur)) {
        if ((rc = store_cursor_get(cur, &kk, &kkl, &v, &vl)) != ST_OK) break;
        ks_meta m;
        int slot;
        if (ks_decode_key_entry(kk, kkl, v, vl, &slot, &key, &klen, &m) != ST_OK) {
            problem(c, "undecodable meta record under keys-DBI key '%s'",
                    show(kk, kkl, kname, sizeof kname));
            continue;
        }
        show(key, klen, kname, sizeof kname);
        int db = c->slot_db[slot];
        if (db < 0) {
            if (!c->slot_trash[slot])
                problem(c, "key '%s' in physical slot %d, which no database maps and the "
                           "reclaimer does not own", kname, slot);
            continue;
        }
        c->nkeys[slot]++;
        if (m.expire) {
            c->nexp[slot]++;
            uint8_t ek[8 + 512];
            for (int i = 0; i < 8; i++) ek[i] = (uint8_t)((uint64_t)m.expire >> (56 - 8 * i));
            memcpy(ek + 8, kk, kkl);
            const uint8_t *ev;
            size_t evl;
            if (store_get(c->s, ST_DBI_EXPIRES, ek, 8 + kkl, &ev, &evl) != ST_OK)
                problem(c, "db %d key '%s': TTL %lld in its meta record but no expires-index "
                           "entry", db, kname, (long long)m.expire);
        }
        if (m.type == KS_STRING) {
            if (m.id) problem(c, "db %d key '%s': a string with a collection id", db, kname);
        } else if (!m.id) {
            problem(c, "db %d key '%s' (%s): no collection id", db, kname, ks_type_name(m.type));
        } else {
            if (add_id(c, m.id) != 0) return ST_NOMEM;
            /* check_members reads through other cursors; the outer one
             * stays valid (no writes happen). */
            check_members(c, db, kname, &m);
        }
        progress_update(pr, ++seen, 0);
    }
    store_cursor_close(cur);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

/* Expires index -> meta records. */
static int check_expires(chk *c) {
    store_cursor *cur;
    int rc = store_cursor_open(c->s, ST_DBI_EXPIRES, &cur);
    if (rc) return rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    char kname[200];
    for (rc = store_cursor_seek(cur, NULL, 0); rc == ST_OK && !mig_interrupted;
         rc = store_cursor_next(cur)) {
        if ((rc = store_cursor_get(cur, &k, &kl, &v, &vl)) != ST_OK) break;
        if (kl < 10) {
            problem(c, "expires-index entry of %zu bytes", kl);
            continue;
        }
        int slot = k[8] & 0x7f;
        if (c->slot_db[slot] < 0 && c->slot_trash[slot]) continue;
        int64_t when = (int64_t)get_be64(k);
        const uint8_t *mv;
        size_t mvl;
        ks_meta m;
        const uint8_t *key;
        size_t klen;
        int ds;
        if (store_get(c->s, ST_DBI_KEYS, k + 8, kl - 8, &mv, &mvl) != ST_OK) {
            problem(c, "expires-index entry at %lld for '%s': no such key", (long long)when,
                    show(k + 9, kl - 9, kname, sizeof kname));
        } else if (ks_decode_key_entry(k + 8, kl - 8, mv, mvl, &ds, &key, &klen, &m) == ST_OK &&
                   m.expire != when) {
            problem(c, "expires-index entry at %lld for '%s', whose meta record says %lld",
                    (long long)when, show(key, klen, kname, sizeof kname), (long long)m.expire);
        }
    }
    store_cursor_close(cur);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

/* Every id in `sub` is live or in the trash: one seek per id. */
static int check_orphans(chk *c) {
    if (c->nids) qsort(c->ids, c->nids, sizeof *c->ids, cmp_u64); /* ids is NULL when none */
    store_cursor *cur;
    int rc = store_cursor_open(c->s, ST_DBI_SUB, &cur);
    if (rc) return rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    rc = store_cursor_seek(cur, NULL, 0);
    while (rc == ST_OK && !mig_interrupted) {
        if ((rc = store_cursor_get(cur, &k, &kl, &v, &vl)) != ST_OK) break;
        if (kl < 8) {
            problem(c, "sub entry of %zu bytes", kl);
            rc = store_cursor_next(cur);
            continue;
        }
        uint64_t id = get_be64(k);
        const uint8_t *tv;
        size_t tvl;
        if (!bsearch(&id, c->ids, c->nids, sizeof *c->ids, cmp_u64) &&
            store_get(c->s, ST_DBI_TRASH, k, 8, &tv, &tvl) != ST_OK)
            problem(c, "members under collection id %llu, which no key owns and the trash "
                       "does not hold (orphans)", (unsigned long long)id);
        if (id == UINT64_MAX) break;
        uint8_t next[8];
        for (int i = 0; i < 8; i++) next[i] = (uint8_t)((id + 1) >> (56 - 8 * i));
        rc = store_cursor_seek(cur, next, 8);
    }
    store_cursor_close(cur);
    return rc == ST_NOTFOUND ? ST_OK : rc;
}

int mig_cmd_check(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    mig_common co = {0};
    for (int i = 1; i < argc; i++)
        if (mig_common_opt(argc, argv, &i, "check", &co) < 0) return MIG_EXIT_USAGE;
    const char *dir = co.positional;
    int quiet = co.quiet;
    if (!dir) {
        usage(stderr);
        return MIG_EXIT_USAGE;
    }
    mig_trap_signals();
    chk c = {0};
    if (mig_open_readonly(dir, "check", &c.s, &c.k) != 0) return MIG_EXIT_USAGE;
    for (int i = 0; i < 128; i++) c.slot_db[i] = -1;
    uint64_t total = 0;
    for (int db = 0; db < KS_MAX_DBS; db++) {
        int slot = ks_db_slot(c.k, db);
        if (c.slot_db[slot] >= 0)
            problem(&c, "databases %d and %d map to the same slot %d", c.slot_db[slot], db, slot);
        else
            c.slot_db[slot] = db;
        total += ks_dbsize(c.k, db);
    }
    for (int i = 0; i < 128; i++) {
        uint8_t tk[8] = {0};
        tk[7] = (uint8_t)i;
        const uint8_t *tv;
        size_t tvl;
        c.slot_trash[i] = store_get(c.s, ST_DBI_TRASH, tk, 8, &tv, &tvl) == ST_OK;
    }
    progress pr;
    progress_start(&pr, "check", total, quiet);
    int rc = check_keys(&c, &pr);
    if (rc == ST_OK) rc = check_expires(&c);
    if (rc == ST_OK) rc = check_orphans(&c);
    for (int db = 0; rc == ST_OK && db < KS_MAX_DBS; db++) {
        int slot = ks_db_slot(c.k, db);
        uint64_t nk, ne;
        ks_slot_counters(c.k, slot, &nk, &ne);
        if (nk != c.nkeys[slot] || ne != c.nexp[slot])
            problem(&c, "db %d: counters say %llu keys and %llu with a TTL; found %llu and %llu",
                    db, (unsigned long long)nk, (unsigned long long)ne,
                    (unsigned long long)c.nkeys[slot], (unsigned long long)c.nexp[slot]);
    }
    progress_done(&pr);
    int status;
    if (mig_interrupted) {
        mig_err("check: interrupted");
        status = MIG_EXIT_USAGE;
    } else if (rc != ST_OK) {
        mig_err("check: reading %s failed: %s", dir, store_strerror(rc));
        status = MIG_EXIT_USAGE;
    } else if (c.problems) {
        if (c.problems > MAX_SHOWN)
            printf("check: ... and %llu more\n", (unsigned long long)(c.problems - MAX_SHOWN));
        printf("check: %s: %llu problem%s found\n", dir, (unsigned long long)c.problems,
               c.problems == 1 ? "" : "s");
        status = MIG_EXIT_FAIL;
    } else {
        printf("check: %s: clean (%llu keys, %zu collections)\n", dir,
               (unsigned long long)(total), c.nids);
        status = MIG_EXIT_OK;
    }
    free(c.ids);
    ks_close(c.k);
    store_close(c.s);
    return status;
}
