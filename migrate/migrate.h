/* migrate.h — lodis-migrate's subcommands and the helpers they share.
 *
 * Each subcommand lives in its own file, cmd_<name>.c, and exports
 *   int mig_cmd_<name>(int argc, char **argv);
 * argv[0] is the subcommand's name and argv[1..] its arguments. It returns
 * the process exit status: 0 success, 1 failure (for `check`: problems
 * found), 2 could not run (bad usage, unreadable input). main.c maps names
 * to these functions through one table; adding a subcommand is one row
 * there plus one declaration here. */
#ifndef LODIS_MIGRATE_H
#define LODIS_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/keyspace.h"

#define MIG_VERSION "0.1.0"

/* Exit statuses shared by every subcommand. */
#define MIG_EXIT_OK    0
#define MIG_EXIT_FAIL  1
#define MIG_EXIT_USAGE 2

int mig_cmd_dump(int argc, char **argv);
int mig_cmd_restore(int argc, char **argv);
int mig_cmd_check(int argc, char **argv);
int mig_cmd_import_rdb(int argc, char **argv);
int mig_cmd_export_rdb(int argc, char **argv);
int mig_cmd_copy(int argc, char **argv);

/* --- shared helpers (common.c) ------------------------------------------ */

/* Target directories of commands that create a store:
 * 0 missing, 1 empty directory, 2 holds a lodis store, -1 anything else. */
int mig_target_state(const char *dir);
/* Remove a directory tree (a staged store that was not completed). */
void mig_rm_tree(const char *path);
/* store_opts.log sink: warnings to stderr. */
void mig_store_log(void *ud, int level, const char *msg);

/* Open dir to read at one consistent point in time (a running server may
 * keep using it) with its keyspace. 0, or -1 after printing
 * "lodis-migrate: WHAT: why". Close with ks_close + store_close. */
int mig_open_readonly(const char *dir, const char *what, store **s, ks **k);
/* Commit what was written since the last tick (one WAL record), run the
 * store's periodic duties, and refresh the keyspace's clock. */
int mig_tick(store *s, ks *k);

/* A data directory being written. A missing or empty directory is staged
 * (written as DIR.WHAT-PID, renamed into place when complete). An existing
 * store is written in place, or with copy_existing staged as a compacted
 * copy that replaces it in one atomic exchange (renameat2 RENAME_EXCHANGE)
 * when complete; the original stays locked meanwhile. So only "in place"
 * can be left half-written. */
typedef struct mig_target {
    const char *dir;     /* as given */
    const char *path;    /* where s writes: dir or staged */
    char staged[4096];
    int state;           /* mig_target_state(dir) at open */
    int swap;            /* staged copy of an existing store */
    store *orig;         /* the existing store, held (locked) while swap */
    store *s;
    ks *k;
    /* Set by the caller before close: a staged new store is replaced by a
     * compacted copy of itself (keys written out of order, as an RDB's hash
     * order, leave LMDB's pages about a third full: 4.8 GB instead of
     * 1.5 GB for 10M keys). quiet: no line saying so. */
    int compact, quiet;
} mig_target;
/* 0, or -1 after printing the reason. */
int mig_target_open(mig_target *t, const char *dir, const char *what, int copy_existing);
/* Finish: ok puts the result in place, !ok discards what was staged and
 * prints "WHAT: WHY; DIR was not changed" (or "partly written"). 0 / -1. */
int mig_target_close(mig_target *t, int ok, const char *what, const char *why);

/* Options most subcommands take: -q/--quiet, and when wanted -o/--output
 * FILE, -d/--dir DIR, --db N (repeatable), plus one positional argument.
 * mig_common_opt handles argv[*i] (advancing *i past a value): 1 taken, -1
 * bad (message printed). Call it for each argument a subcommand does not
 * take itself. */
typedef struct mig_common {
    int want_out, want_dir, want_db; /* set by the caller */
    const char *out, *dir, *positional;
    int quiet;
    uint64_t dbmask;
} mig_common;
int mig_common_opt(int argc, char **argv, int *i, const char *what, mig_common *o);
/* "--db N" value: sets bit N of *mask; -1 (printed) if not 0..KS_MAX_DBS-1. */
int mig_parse_db(const char *arg, const char *what, uint64_t *mask);

/* Set by SIGINT/SIGTERM once mig_trap_signals() ran: long loops check it,
 * clean up (no partial output left in place) and return MIG_EXIT_FAIL. */
extern volatile int mig_interrupted;
void mig_trap_signals(void);
/* Wall clock, unix ms. */
int64_t mig_wall_ms(void);

/* True when argv holds -h or --help (a subcommand then prints its usage). */
int mig_wants_help(int argc, char **argv);
/* Print "lodis-migrate: <msg>" to stderr (printf-style). */
void mig_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
