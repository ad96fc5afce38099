/* cmd_dump.c — lodis-migrate dump DATADIR -o FILE
 *
 * Writes every database of a data directory, its TTLs (absolute unix ms)
 * and its function libraries as one portable dump file (dumpfmt.h). The
 * directory is read through store_open_snapshot(), so a running server
 * keeps serving and the dump is one point in time. Keys already expired at
 * that time are left out. The output is written to FILE.tmp and renamed
 * only when complete and synced; an error or Ctrl-C removes FILE.tmp. */
#include "migrate/migrate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/dumpfile.h"
#include "migrate/progress.h"
#include "storage/keyspace.h"
#include "storage/t_hash.h"

#define FLUSH_AT (1u << 20)

static void usage(FILE *f) {
    fprintf(f,
            "Usage: lodis-migrate dump DATADIR -o FILE [--level N] [--quiet]\n\n"
            "Write a portable, zstd-compressed, checksummed logical dump of every database in\n"
            "DATADIR (a lodis 'dir'), with TTLs and function libraries. Works while a\n"
            "lodis-server is using DATADIR: the dump is one consistent point in time.\n\n"
            "  -o, --output FILE  where to write (written to FILE.tmp, renamed when complete)\n"
            "  --level N          zstd level, 1..19 (default 1: the fastest;\n"
            "                     higher levels cost much more CPU for a few per cent)\n"
            "  --limit-rate N     at most N keys per second (spare a busy server's disk)\n"
            "  -q, --quiet        no progress output\n");
}

typedef struct dump_ctx {
    ks *k;
    dfw w;
    df_buf b;
    progress pr;
    int db;
    uint64_t keys, entries, libs;
    int failed;
    long limit_rate; /* keys per second, 0 = unlimited */
    char err[512];
} dump_ctx;

/* --limit-rate: sleep while ahead of the allowed pace. */
static void pace(dump_ctx *d) {
    if (d->limit_rate <= 0) return;
    double ahead = (double)d->keys / (double)d->limit_rate - (progress_now() - d->pr.t0);
    if (ahead > 0.001) usleep((useconds_t)(ahead * 1e6));
}

static int flush_buf(dump_ctx *d, int force) {
    if (d->b.oom) {
        snprintf(d->err, sizeof d->err, "out of memory");
        return -1;
    }
    if (!force && d->b.len < FLUSH_AT) return 0;
    if (dfw_write(&d->w, d->b.p, d->b.len, d->err, sizeof d->err) != 0) return -1;
    d->b.len = 0;
    return 0;
}

/* The member entries of collection id, in key order. */
static int dump_entries(dump_ctx *d, uint64_t id) {
    cm_iter it;
    int rc = cm_iter_open(&it, d->k, id, NULL, 0);
    if (rc != ST_OK) goto fail;
    cm_entry e;
    while ((rc = cm_iter_next(&it, &e)) == ST_OK) {
        df_entry de = {0};
        if (e.hashed) {
            /* key = id · kind|HASHED · fixed · prefix · hash(16) */
            if (e.klen < 9 + KS_MEMBER_PREFIX + 16 ||
                e.klen - 9 - KS_MEMBER_PREFIX - 16 > DF_LONG_FIXED_MAX) {
                rc = ST_CORRUPT;
                break;
            }
            size_t fixedlen = e.klen - 9 - KS_MEMBER_PREFIX - 16;
            de.form = DF_ENT_LONG;
            de.kind = e.kind;
            de.a = e.key + 9;
            de.alen = fixedlen;
            de.b = e.member;
            de.blen = e.mlen;
            de.c = e.payload;
            de.clen = e.plen;
        } else {
            de.form = DF_ENT_PLAIN;
            de.a = e.key + 8;
            de.alen = e.klen - 8;
            de.b = e.payload;
            de.blen = e.plen;
        }
        df_rec_entry(&d->b, &de);
        d->entries++;
        if (flush_buf(d, 0) != 0) {
            cm_iter_close(&it);
            return -1;
        }
    }
    cm_iter_close(&it);
    if (rc == ST_NOTFOUND) return 0;
    if (rc == ST_CORRUPT) {
        snprintf(d->err, sizeof d->err, "collection %llu has a damaged member entry; run "
                 "'lodis-migrate check' on the directory", (unsigned long long)id);
        return -1;
    }
fail:
    snprintf(d->err, sizeof d->err, "reading the members of collection %llu: %s",
             (unsigned long long)id, store_strerror(rc));
    return -1;
}

static int dump_key(void *ud, const uint8_t *key, size_t klen, const ks_meta *m) {
    dump_ctx *d = ud;
    if (mig_interrupted) return 1;
    df_key r = {.type = m->type,
                .flags = (uint8_t)(m->flags & ~(KS_F_LONGKEY | KS_F_COMPRESSED)),
                .expire = m->expire,
                .count = m->count,
                .key = key,
                .klen = klen,
                .hdr = m->hdr,
                .hdrlen = m->hdrlen};
    ks_meta full = {0};
    if (m->type == KS_STRING) {
        if (m->flags & KS_F_COMPRESSED) {
            int rc = ks_peek(d->k, d->db, key, klen, &full);
            if (rc != ST_OK) {
                snprintf(d->err, sizeof d->err, "reading string body: %s", store_strerror(rc));
                d->failed = 1;
                return 1;
            }
            r.body = full.val;
            r.bodylen = full.vlen;
        } else {
            r.body = m->val;
            r.bodylen = m->vlen;
        }
    }
    df_rec_key(&d->b, &r);
    ks_meta_release(&full);
    if (m->id && dump_entries(d, m->id) != 0) {
        d->failed = 1;
        return 1;
    }
    df_rec_entries_end(&d->b);
    d->keys++;
    if (flush_buf(d, 0) != 0) {
        d->failed = 1;
        return 1;
    }
    progress_update(&d->pr, d->keys, d->w.body);
    pace(d);
    return 0;
}

static int dump_functions(dump_ctx *d, store *s) {
    store_cursor *c;
    if (store_cursor_open(s, ST_DBI_INFO, &c) != ST_OK) return -1;
    const uint8_t *k, *v;
    size_t kl, vl;
    for (int rc = store_cursor_seek(c, "fn:", 3); rc == ST_OK; rc = store_cursor_next(c)) {
        if (store_cursor_get(c, &k, &kl, &v, &vl) != ST_OK || kl < 3 || memcmp(k, "fn:", 3))
            break;
        df_rec_func(&d->b, k + 3, kl - 3, v, vl);
        d->libs++;
    }
    store_cursor_close(c);
    return 0;
}

int mig_cmd_dump(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    mig_common co = {.want_out = 1};
    int level = 1;
    long limit_rate = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            level = atoi(argv[++i]);
            if (level < 1 || level > 19) {
                mig_err("dump: --level must be 1..19");
                return MIG_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--limit-rate") && i + 1 < argc) {
            limit_rate = atol(argv[++i]);
            if (limit_rate <= 0) {
                mig_err("dump: --limit-rate takes a positive number of keys per second");
                return MIG_EXIT_USAGE;
            }
        } else if (mig_common_opt(argc, argv, &i, "dump", &co) < 0) {
            return MIG_EXIT_USAGE;
        }
    }
    const char *dir = co.positional, *out = co.out;
    int quiet = co.quiet;
    if (!dir || !out) {
        usage(stderr);
        return MIG_EXIT_USAGE;
    }
    mig_trap_signals();
    int rc;
    store *s;
    ks *k;
    if (mig_open_readonly(dir, "dump", &s, &k) != 0) return MIG_EXIT_USAGE;
    dump_ctx *d = calloc(1, sizeof *d);
    if (!d) {
        ks_close(k);
        store_close(s);
        return MIG_EXIT_FAIL;
    }
    d->k = k;
    d->limit_rate = limit_rate;
    int64_t snap = mig_wall_ms();
    ks_set_now(k, snap);
    uint64_t total = 0;
    for (int db = 0; db < KS_MAX_DBS; db++) total += ks_dbsize(k, db);
    int status = MIG_EXIT_FAIL;
    if (dfw_open(&d->w, out, level, d->err, sizeof d->err) != 0) goto out;
    uint64_t id_hi = 0;
    const uint8_t *v;
    size_t vl;
    if (store_get(s, ST_DBI_INFO, "id_hi", 5, &v, &vl) == ST_OK && vl == 8)
        for (int i = 0; i < 8; i++) id_hi = id_hi << 8 | v[i];
    df_rec_begin(&d->b, ST_FORMAT, (uint64_t)snap, id_hi);
    progress_start(&d->pr, "dump", total, quiet);
    for (int db = 0; db < KS_MAX_DBS && !d->failed && !mig_interrupted; db++) {
        if (ks_dbsize(k, db) == 0) continue;
        d->db = db;
        df_rec_db(&d->b, (uint32_t)db);
        uint8_t cur[512];
        size_t curlen = 0;
        int done = 0;
        rc = ks_scan(k, db, cur, &curlen, sizeof cur, LONG_MAX, dump_key, d, &done);
        if (rc != ST_OK && !d->failed) {
            snprintf(d->err, sizeof d->err, "reading database %d: %s", db, store_strerror(rc));
            d->failed = 1;
        }
    }
    if (d->failed) goto out;
    if (mig_interrupted) {
        snprintf(d->err, sizeof d->err, "interrupted; %s.tmp removed, %s not written", out, out);
        goto out;
    }
    dump_functions(d, s);
    df_rec_end(&d->b, d->keys, d->entries, d->libs);
    if (flush_buf(d, 1) != 0) goto out;
    d->pr.bytes = d->w.body + DF_HDR_LEN + DF_TAIL_LEN;
    if (dfw_finish(&d->w, d->err, sizeof d->err) != 0) goto out;
    progress_done(&d->pr);
    if (!quiet)
        fprintf(stderr, "dump: %s: %llu keys, %llu members, %llu function libraries\n", out,
                (unsigned long long)d->keys, (unsigned long long)d->entries,
                (unsigned long long)d->libs);
    status = MIG_EXIT_OK;
out:
    if (status != MIG_EXIT_OK) {
        if (d->pr.drawn && d->pr.tty) fputc('\n', stderr);
        mig_err("dump: %s", d->err);
    }
    dfw_abort(&d->w);
    df_buf_free(&d->b);
    free(d);
    ks_close(k);
    store_close(s);
    return status;
}
