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
    int rc = mig_tick(m->s, m->k);
    progress_update(&m->pr, st->keys, st->bytes);
    if (rc) m->rc = rc;
    return rc || mig_interrupted;
}

int mig_cmd_import_rdb(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    mig_common co = {.want_dir = 1, .want_db = 1};
    rdb_limits lim;
    rdb_limits_default(&lim);
    rdb_load_opts o = {.lim = &lim, .every = 2000};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--replace")) o.replace = 1;
        else if (!strcmp(argv[i], "--skip-unknown")) o.skip_modules = 1;
        else if (!strcmp(argv[i], "--keep-expired")) o.keep_expired = 1;
        else if (mig_common_opt(argc, argv, &i, "import-rdb", &co) < 0) return MIG_EXIT_USAGE;
    }
    const char *dir = co.dir, *file = co.positional;
    int quiet = co.quiet;
    o.dbmask = co.dbmask;
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
    if (mig_target_state(dir) < 0) {
        mig_err("import-rdb: %s is not empty and holds no lodis store", dir);
        return MIG_EXIT_USAGE;
    }
    mig_target t;
    if (mig_target_open(&t, dir, "import-rdb", 0) != 0) return MIG_EXIT_FAIL;
    t.compact = 1;
    t.quiet = quiet;
    char err[1024] = "";
    imp m = {.s = t.s, .k = t.k};
    o.progress = on_progress;
    o.ud = &m;
    progress_start(&m.pr, "import-rdb", 0, quiet);
    rdb_file_stats st;
    int rc = rdb_file_load_path(m.k, file, &o, &st, err, sizeof err);
    if (rc == ST_OK && m.rc) {
        rc = m.rc;
        snprintf(err, sizeof err, "writing to the store failed: %s", store_strerror(rc));
    }
    if (rc == ST_OK) progress_done(&m.pr);
    int ok = rc == ST_OK && !mig_interrupted;
    if (mig_interrupted) snprintf(err, sizeof err, "interrupted");
    char why[1200];
    snprintf(why, sizeof why, "%s: %s", file, err);
    if (mig_target_close(&t, ok, "import-rdb", why) != 0) return MIG_EXIT_FAIL;
    if (!quiet)
        fprintf(stderr,
                "import-rdb: RDB version %d: %llu keys, %llu function libraries into %s"
                " (%llu expired keys and %llu module values skipped)\n",
                st.version, (unsigned long long)st.keys, (unsigned long long)st.functions, dir,
                (unsigned long long)st.expired, (unsigned long long)st.skipped_modules);
    return MIG_EXIT_OK;
}
