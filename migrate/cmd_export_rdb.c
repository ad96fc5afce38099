/* cmd_export_rdb.c — lodis-migrate export-rdb DATADIR -o dump.rdb
 *
 * Writes every database of a data directory (a consistent snapshot: a
 * running server may keep using it) as an RDB file of version 10, which
 * Redis 7.0 loads: every key, value, TTL and function library. The file is
 * written under a temporary name and renamed when complete, so an error or
 * Ctrl-C leaves no partial file at the output path. */
#include "migrate/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/progress.h"
#include "storage/keyspace.h"
#include "storage/rdb_file.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: lodis-migrate export-rdb DATADIR -o FILE [--rdb-version 9|10] [--quiet]\n\n"
               "Write DATADIR (a lodis 'dir'; a running server may keep using it) as a Redis RDB\n"
               "file that Redis 7.0 loads: every key, value, TTL and function library.\n\n"
               "  -o, --output FILE  the RDB file to write (replaced only when complete)\n"
               "  --rdb-version N    10 (Redis 7.0, the default) or 9 (Redis 5 and 6: no function\n"
               "                     libraries, which those versions do not have)\n"
               "  -q, --quiet        no progress output\n");
}

static int on_progress(void *ud, const rdb_file_stats *st, uint64_t total) {
    (void)total;
    progress_update(ud, st->keys, st->bytes);
    return mig_interrupted;
}

int mig_cmd_export_rdb(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    mig_common co = {.want_out = 1};
    int version = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rdb-version") && i + 1 < argc) {
            version = atoi(argv[++i]);
            if (version != 9 && version != 10) {
                mig_err("export-rdb: --rdb-version is 10 (Redis 7.0) or 9 (Redis 5 and 6)");
                return MIG_EXIT_USAGE;
            }
        } else if (mig_common_opt(argc, argv, &i, "export-rdb", &co) < 0) {
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
    char err[1024] = "";
    int rc;
    store *s;
    ks *k;
    if (mig_open_readonly(dir, "export-rdb", &s, &k) != 0) return MIG_EXIT_FAIL;
    ks_set_now(k, mig_wall_ms());
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", out, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        mig_err("export-rdb: %s: %s", tmp, strerror(errno));
        ks_close(k);
        store_close(s);
        return MIG_EXIT_FAIL;
    }
    rdb_limits lim;
    rdb_limits_default(&lim);
    lim.rdb_version = version;
    progress pr;
    progress_start(&pr, "export-rdb", 0, quiet);
    rdb_save_opts o = {.lim = &lim, .progress = on_progress, .ud = &pr, .every = 2000};
    rdb_file_stats st;
    rc = rdb_file_save(k, f, &o, &st, err, sizeof err);
    if (rc == ST_OK && (fsync(fileno(f)) != 0)) {
        rc = ST_IO;
        snprintf(err, sizeof err, "fsync: %s", strerror(errno));
    }
    if (fclose(f) != 0 && rc == ST_OK) {
        rc = ST_IO;
        snprintf(err, sizeof err, "close: %s", strerror(errno));
    }
    ks_close(k);
    store_close(s);
    if (rc == ST_OK && rename(tmp, out) != 0) {
        rc = ST_IO;
        snprintf(err, sizeof err, "rename to %s: %s", out, strerror(errno));
    }
    if (rc != ST_OK) {
        unlink(tmp);
        mig_err("export-rdb: %s", err);
        return MIG_EXIT_FAIL;
    }
    progress_done(&pr);
    if (version < 10 && st.functions)
        mig_err("export-rdb: %llu function libraries not written: RDB version 9 has none",
                (unsigned long long)st.functions);
    if (!quiet)
        fprintf(stderr, "export-rdb: %llu keys, %llu function libraries, %llu bytes to %s\n",
                (unsigned long long)st.keys, (unsigned long long)st.functions,
                (unsigned long long)st.bytes, out);
    return MIG_EXIT_OK;
}
