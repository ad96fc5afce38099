/* cmd_import_rdb.c — lodis-migrate import-rdb dump.rdb -d DATADIR
 *
 * Loads a Redis RDB file of any version Redis 2.6 through 7.2 writes
 * (storage/rdb_file.c does the parsing; every value goes through the
 * keyspace's write path). The file's CRC-64 is checked before anything is
 * written. A new or empty DATADIR is staged (DATADIR.import-PID, renamed
 * into place when complete), so an error or Ctrl-C leaves nothing behind;
 * an existing store takes the keys in place (--replace to overwrite keys
 * that exist). Writes are committed in ticks from the progress callback. */
#include "migrate/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate/progress.h"
#include "storage/keyspace.h"
#include "storage/rdb_file.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: lodis-migrate import-rdb FILE -d DATADIR [--replace] [--db N ...]\n"
            "                                [--skip-unknown] [--keep-expired] [--quiet]\n\n"
            "Load a Redis RDB file (written by Redis 2.6 to 7.2) into DATADIR: every type and\n"
            "encoding, TTLs, databases and function libraries. The file's checksum is verified\n"
            "before anything is written. A new or empty DATADIR is only put in place when the\n"
            "whole file loaded.\n\n"
            "  -d, --dir DATADIR  target data directory (stop any lodis-server using it)\n"
            "  --replace          overwrite keys that already exist in DATADIR\n"
            "  --db N             load only database N (repeatable); default all\n"
            "  --skip-unknown     skip keys holding module values (reported) instead of failing\n"
            "  --keep-expired     also load keys whose TTL has passed (Redis drops them)\n"
            "  -q, --quiet        no progress output\n");
}

typedef struct imp {
    store *s;
    ks *k;
    progress pr;
    int rc;
} imp;

/* Commit what was loaded so far (one WAL record per tick) and report. */
static int on_progress(void *ud, const rdb_file_stats *st, uint64_t total) {
    imp *m = ud;
    (void)total;
    int rc = ks_flush_counters(m->k);
    if (rc == ST_OK) rc = store_commit(m->s);
    store_end_tick(m->s);
    store_cron(m->s, mig_wall_ms());
    ks_set_now(m->k, mig_wall_ms());
    progress_update(&m->pr, st->keys, st->bytes);
    if (rc) m->rc = rc;
    return rc || mig_interrupted;
}

int mig_cmd_import_rdb(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    const char *dir = NULL, *file = NULL;
    int quiet = 0;
    rdb_limits lim;
    rdb_limits_default(&lim);
    rdb_load_opts o = {.lim = &lim, .every = 2000};
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-d") || !strcmp(argv[i], "--dir")) && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--replace")) {
            o.replace = 1;
        } else if (!strcmp(argv[i], "--skip-unknown")) {
            o.skip_modules = 1;
        } else if (!strcmp(argv[i], "--keep-expired")) {
            o.keep_expired = 1;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n >= KS_MAX_DBS) {
                mig_err("import-rdb: --db takes a database number 0..%d", KS_MAX_DBS - 1);
                return MIG_EXIT_USAGE;
            }
            o.dbmask |= 1ull << n;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' || file) {
            mig_err("import-rdb: unexpected argument '%s'; see 'lodis-migrate import-rdb --help'",
                    argv[i]);
            return MIG_EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (!file || !dir) {
        usage(stderr);
        return MIG_EXIT_USAGE;
    }
    struct stat sb;
    if (stat(file, &sb) != 0) {
        mig_err("import-rdb: %s: %s", file, strerror(errno));
        return MIG_EXIT_USAGE;
    }
    mig_trap_signals();
    int state = mig_target_state(dir);
    if (state < 0) {
        mig_err("import-rdb: %s is not empty and holds no lodis store", dir);
        return MIG_EXIT_USAGE;
    }
    char staged[4096];
    const char *target = dir;
    if (state < 2) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        snprintf(staged, sizeof staged, "%.*s.import-%d", (int)n, dir, (int)getpid());
        target = staged;
    }
    store_opts so;
    store_opts_default(&so);
    so.dir = target;
    so.fsync = ST_FSYNC_NO; /* the closing checkpoint is synced */
    so.memtable_budget = 128u << 20;
    so.log = mig_store_log;
    char err[1024] = "";
    int rc;
    imp m = {0};
    m.s = store_open(&so, &rc, err, sizeof err);
    if (!m.s) {
        mig_err("import-rdb: %s%s", err,
                rc == ST_BUSY ? " (stop the lodis-server using it first)" : "");
        if (target != dir) mig_rm_tree(target);
        return MIG_EXIT_FAIL;
    }
    m.k = ks_open(m.s, KS_MAX_DBS, &rc);
    rdb_file_stats st;
    if (!m.k) {
        snprintf(err, sizeof err, "cannot open the keyspace: %s", store_strerror(rc));
    } else {
        ks_set_now(m.k, mig_wall_ms());
        o.progress = on_progress;
        o.ud = &m;
        progress_start(&m.pr, "import-rdb", 0, quiet);
        rc = rdb_file_load_path(m.k, file, &o, &st, err, sizeof err);
        if (rc == ST_OK && m.rc) {
            rc = m.rc;
            snprintf(err, sizeof err, "writing to the store failed: %s", store_strerror(rc));
        }
        if (rc == ST_OK) progress_done(&m.pr);
    }
    int ok = m.k && rc == ST_OK && !mig_interrupted;
    if (mig_interrupted) snprintf(err, sizeof err, "interrupted");
    ks_close(m.k);
    store_close(m.s);
    if (!ok) {
        if (target != dir) {
            mig_rm_tree(target);
            mig_err("import-rdb: %s: %s; %s was not changed", file, err, dir);
        } else {
            mig_err("import-rdb: %s: %s; %s is partly loaded", file, err, dir);
        }
        return MIG_EXIT_FAIL;
    }
    if (target != dir) {
        if (state == 1) rmdir(dir);
        if (rename(target, dir) != 0) {
            mig_err("import-rdb: cannot rename %s to %s: %s", target, dir, strerror(errno));
            return MIG_EXIT_FAIL;
        }
    }
    if (!quiet)
        fprintf(stderr,
                "import-rdb: RDB version %d: %llu keys, %llu function libraries into %s"
                " (%llu expired keys and %llu module values skipped)\n",
                st.version, (unsigned long long)st.keys, (unsigned long long)st.functions, dir,
                (unsigned long long)st.expired, (unsigned long long)st.skipped_modules);
    return MIG_EXIT_OK;
}
