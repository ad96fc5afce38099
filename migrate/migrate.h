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

/* Target directories of commands that create a store (cmd_restore.c):
 * 0 missing, 1 empty directory, 2 holds a lodis store, -1 anything else. */
int mig_target_state(const char *dir);
/* Remove a directory tree (a staged store that was not completed). */
void mig_rm_tree(const char *path);
/* store_opts.log sink: warnings to stderr. */
void mig_store_log(void *ud, int level, const char *msg);

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
