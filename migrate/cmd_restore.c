/* cmd_restore.c — lodis-migrate restore FILE -d DATADIR [--replace] [--db N ...]
 *
 * Two passes over the dump. The first verifies the whole file (trailer,
 * CRC-32C, then every record and the end record's counts) and writes
 * nothing, so a damaged or truncated dump is refused before the target is
 * touched. The second writes through storage/'s one write path
 * (ks_write_meta for keys, cm_put/store_put for members, in ticks of a few
 * thousand operations, each one WAL record), like a client would.
 *
 * Target: a missing or empty directory is staged -- written as
 * DATADIR.restore-PID and renamed into place when complete -- so an error
 * or Ctrl-C leaves nothing behind. An existing store needs --replace: it is
 * copied (compacted) to DATADIR.restore-PID, the databases being restored
 * are emptied there (FLUSHDB, O(1)) and written, other databases are kept,
 * and the copy is exchanged with DATADIR in one atomic rename when
 * complete (mig_target, common.c). An interrupted or failed --replace
 * therefore leaves DATADIR exactly as it was; it needs free disk for one
 * copy of the store. The store's LOCK, held throughout, keeps a running
 * server and the restore apart. */
#include "migrate/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/dumpfile.h"
#include "migrate/progress.h"
#include "storage/keyspace.h"
#include "storage/t_hash.h"

#define TICK_OPS 20000

static void usage(FILE *f) {
    fprintf(f,
            "Usage: lodis-migrate restore FILE -d DATADIR [--replace] [--db N ...] [--quiet]\n\n"
            "Load a dump written by 'lodis-migrate dump' into DATADIR. The whole file is\n"
            "verified before anything is written. DATADIR must be missing or empty, or hold a\n"
            "lodis store (stopped) and --replace be given.\n\n"
            "  -d, --dir DATADIR  target data directory\n"
            "  --replace          restore into an existing store: each database being\n"
            "                     restored is emptied first; the others are kept. Done on\n"
            "                     a copy swapped in atomically when complete, so a failure\n"
            "                     or Ctrl-C changes nothing (needs disk for one copy)\n"
            "  --db N             restore only database N (repeatable); default all\n"
            "  -q, --quiet        no progress output\n");
}

typedef struct rs_ctx {
    const char *file;
    uint64_t dbmask; /* databases to restore */
    uint64_t present; /* databases in the dump */
    uint64_t keys_total, keys;
    uint64_t id_hi;
    char err[512];
} rs_ctx;

/* Pass 1: read every record, check structure and counts; write nothing. */
static int verify(rs_ctx *c) {
    dfr r;
    if (dfr_open(&r, c->file, c->err, sizeof c->err) != 0) {
        dfr_close(&r);
        return -1;
    }
    df_rec rec;
    df_entry e;
    uint64_t keys = 0, entries = 0, libs = 0;
    int began = 0, ended = 0, rc, db = -1;
    while ((rc = dfr_next_rec(&r, &rec, c->err, sizeof c->err)) == 1) {
        if (mig_interrupted) break;
        if (ended) {
            snprintf(c->err, sizeof c->err, "records after the end record");
            rc = -1;
            break;
        }
        if (!began && rec.tag != DF_REC_BEGIN) {
            snprintf(c->err, sizeof c->err, "the dump does not start with its begin record");
            rc = -1;
            break;
        }
        switch (rec.tag) {
        case DF_REC_BEGIN:
            if (began || rec.u.begin.fmtlen != strlen(ST_FORMAT) ||
                memcmp(rec.u.begin.fmt, ST_FORMAT, rec.u.begin.fmtlen)) {
                snprintf(c->err, sizeof c->err, "the dump holds store format '%.*s'; this "
                                                "lodis-migrate restores '%s'",
                         (int)(rec.u.begin.fmtlen > 32 ? 32 : rec.u.begin.fmtlen),
                         (const char *)rec.u.begin.fmt, ST_FORMAT);
                rc = -1;
            }
            c->id_hi = rec.u.begin.id_hi;
            began = 1;
            break;
        case DF_REC_DB:
            if (rec.u.db >= KS_MAX_DBS) {
                snprintf(c->err, sizeof c->err, "database %u out of range", rec.u.db);
                rc = -1;
            }
            db = (int)rec.u.db;
            c->present |= 1ull << db;
            break;
        case DF_REC_KEY:
            if (db < 0) {
                snprintf(c->err, sizeof c->err, "a key before any database record");
                rc = -1;
                break;
            }
            keys++;
            if (c->dbmask & (1ull << db)) c->keys_total++;
            if (!strcmp(ks_type_name(rec.u.key.type), "none") ||
                (rec.u.key.type != KS_STRING && rec.u.key.bodylen)) {
                snprintf(c->err, sizeof c->err, "key record %llu has type %d",
                         (unsigned long long)keys, rec.u.key.type);
                rc = -1;
                break;
            }
            while ((rc = dfr_next_entry(&r, &e, c->err, sizeof c->err)) == 1 &&
                   e.form != DF_ENT_END)
                entries++;
            if (rc == 1) rc = 0;
            break;
        case DF_REC_FUNC: libs++; break;
        case DF_REC_END:
            if (rec.u.end.keys != keys || rec.u.end.entries != entries ||
                rec.u.end.libs != libs) {
                snprintf(c->err, sizeof c->err, "counts do not match the end record");
                rc = -1;
            }
            ended = 1;
            break;
        }
        if (rc < 0) break;
        rc = 1;
    }
    dfr_close(&r);
    if (mig_interrupted) {
        snprintf(c->err, sizeof c->err, "interrupted while verifying; nothing was written");
        return -1;
    }
    if (rc < 0) return -1;
    if (!ended) {
        snprintf(c->err, sizeof c->err, "the dump has no end record (truncated)");
        return -1;
    }
    return 0;
}

typedef struct writer {
    store *s;
    ks *k;
    long ops;
} writer;

static int tick(writer *w) {
    w->ops = 0;
    return mig_tick(w->s, w->k);
}

/* Pass 2. */
static int load(rs_ctx *c, writer *w, int replace, int quiet) {
    dfr r;
    if (dfr_open(&r, c->file, c->err, sizeof c->err) != 0) {
        dfr_close(&r);
        return -1;
    }
    int rc = ks_reserve_ids(w->k, c->id_hi);
    if (replace)
        for (int db = 0; db < KS_MAX_DBS && rc == ST_OK; db++)
            if (c->dbmask & c->present & (1ull << db)) rc = ks_flushdb(w->k, db);
    if (rc == ST_OK) rc = tick(w);
    progress pr;
    progress_start(&pr, "restore", c->keys_total, quiet);
    df_rec rec;
    df_entry e;
    int db = 0, got;
    uint8_t *copy = NULL;
    size_t copycap = 0;
    while (rc == ST_OK && (got = dfr_next_rec(&r, &rec, c->err, sizeof c->err)) == 1) {
        if (mig_interrupted) break;
        if (rec.tag == DF_REC_DB) {
            db = (int)rec.u.db;
        } else if (rec.tag == DF_REC_FUNC) {
            size_t kl = 3 + rec.u.func.nlen;
            uint8_t *key = malloc(kl);
            if (!key) {
                rc = ST_NOMEM;
                break;
            }
            memcpy(key, "fn:", 3);
            memcpy(key + 3, rec.u.func.name, rec.u.func.nlen);
            rc = store_put(w->s, ST_DBI_INFO, key, kl, rec.u.func.code, rec.u.func.clen);
            free(key);
        } else if (rec.tag == DF_REC_KEY) {
            int want = (c->dbmask >> db) & 1;
            df_key kr = rec.u.key;
            /* The record's bytes move as entries are read: keep a copy. */
            size_t need = kr.klen + kr.hdrlen + kr.bodylen + 1;
            if (want && need > copycap) {
                free(copy);
                copycap = need * 2;
                copy = malloc(copycap);
                if (!copy) {
                    rc = ST_NOMEM;
                    break;
                }
            }
            if (want) {
                memcpy(copy, kr.key, kr.klen);
                memcpy(copy + kr.klen, kr.hdr, kr.hdrlen);
                memcpy(copy + kr.klen + kr.hdrlen, kr.body, kr.bodylen);
                kr.key = copy;
                kr.hdr = copy + kr.klen;
                kr.body = copy + kr.klen + kr.hdrlen;
            }
            uint64_t id = want && kr.type != KS_STRING ? ks_new_id(w->k) : 0;
            while (rc == ST_OK && (got = dfr_next_entry(&r, &e, c->err, sizeof c->err)) == 1 &&
                   e.form != DF_ENT_END) {
                if (!want) continue;
                if (!id) {
                    snprintf(c->err, sizeof c->err, "a string key with members");
                    got = -1;
                    break;
                }
                if (e.form == DF_ENT_PLAIN) {
                    uint8_t sk[512];
                    size_t skl = ks_subkey(sk, id, e.a, e.alen);
                    rc = store_put(w->s, ST_DBI_SUB, sk, skl, e.b, e.blen);
                } else {
                    rc = cm_put(w->k, id, e.kind, e.a, e.alen, e.b, e.blen, e.c, e.clen, NULL);
                }
                if (++w->ops >= TICK_OPS && rc == ST_OK) rc = tick(w);
            }
            if (got < 0) break;
            if (!want || rc != ST_OK) continue;
            ks_meta m = {.type = kr.type,
                         .flags = kr.flags,
                         .expire = kr.expire,
                         .id = id,
                         .count = kr.count,
                         .hdr = kr.hdr,
                         .hdrlen = kr.hdrlen,
                         .val = kr.body,
                         .vlen = kr.bodylen};
            rc = ks_write_meta(w->k, db, kr.key, kr.klen, &m);
            c->keys++;
            if (++w->ops >= TICK_OPS && rc == ST_OK) rc = tick(w);
            progress_update(&pr, c->keys, r.consumed);
        }
    }
    free(copy);
    if (rc == ST_OK) rc = tick(w);
    pr.bytes = r.consumed;
    dfr_close(&r);
    if (rc != ST_OK) {
        snprintf(c->err, sizeof c->err, "writing to the store failed: %s%s", store_strerror(rc),
                 rc == ST_NOSPACE ? "; free some disk space and run the restore again" : "");
        return -1;
    }
    if (mig_interrupted) {
        snprintf(c->err, sizeof c->err, "interrupted");
        return -1;
    }
    if (got < 0) return -1;
    progress_done(&pr);
    return 0;
}

int mig_cmd_restore(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    rs_ctx *c = calloc(1, sizeof *c);
    if (!c) return MIG_EXIT_FAIL;
    const char *dir = NULL;
    int replace = 0, quiet = 0, status = MIG_EXIT_USAGE;
    mig_common co = {.want_dir = 1, .want_db = 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--replace")) replace = 1;
        else if (mig_common_opt(argc, argv, &i, "restore", &co) < 0) goto done;
    }
    c->file = co.positional;
    dir = co.dir;
    quiet = co.quiet;
    uint64_t mask = co.dbmask;
    if (!c->file || !dir) {
        usage(stderr);
        goto done;
    }
    c->dbmask = mask ? mask : ~0ull;
    mig_trap_signals();
    int state = mig_target_state(dir);
    if (state < 0) {
        mig_err("restore: %s is not empty and holds no lodis store; choose an empty or new "
                "directory", dir);
        goto done;
    }
    if (state == 2 && !replace) {
        mig_err("restore: %s already holds a lodis store; add --replace to overwrite the "
                "databases in the dump, or restore into a new directory", dir);
        goto done;
    }
    if (verify(c) != 0) {
        mig_err("restore: %s: %s; %s was not changed", c->file, c->err, dir);
        status = MIG_EXIT_FAIL;
        goto done;
    }
    status = MIG_EXIT_FAIL;
    /* An existing store is replaced through a staged copy exchanged at the
     * end: an error, Ctrl-C or a crash leaves it as it was. */
    mig_target t;
    if (mig_target_open(&t, dir, "restore", state == 2) != 0) goto done;
    writer w = {.s = t.s, .k = t.k};
    int ok = load(c, &w, replace, quiet) == 0;
    if (mig_target_close(&t, ok, "restore", c->err) != 0) goto done;
    if (!quiet)
        fprintf(stderr, "restore: %llu keys into %s\n", (unsigned long long)c->keys, dir);
    status = MIG_EXIT_OK;
done:
    free(c);
    return status;
}
