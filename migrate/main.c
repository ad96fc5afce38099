/* main.c — lodis-migrate: dispatch `lodis-migrate SUBCOMMAND [options]` to
 * the subcommand's function (one table, below), plus the tool's own --help
 * and --version. Everything else (options, output) is the subcommand's. */
#include "migrate/migrate.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

struct mig_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

/* One row per subcommand; `lodis-migrate --help` lists them in this order. */
static const struct mig_cmd cmds[] = {
    {"dump", mig_cmd_dump, "write a portable, checksummed logical dump of a data directory"},
    {"restore", mig_cmd_restore, "load a dump into an empty (or, with --replace, existing) "
                                 "data directory"},
    {"import-rdb", mig_cmd_import_rdb, "load a Redis RDB file (Redis 2.6 to 7.2) into a data "
                                       "directory"},
    {"export-rdb", mig_cmd_export_rdb, "write a data directory as an RDB file Redis 7.0 loads"},
    {"copy", mig_cmd_copy, "copy from a running Redis (SCAN + DUMP, resumable), or follow it "
                           "as a replica"},
    {"check", mig_cmd_check, "verify a data directory's invariants (exit 0 clean, 1 problems)"},
};

volatile int mig_interrupted;

static void on_signal(int sig) {
    (void)sig;
    mig_interrupted = 1;
}

void mig_trap_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int64_t mig_wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int mig_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    }
    return 0;
}

void mig_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lodis-migrate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f) {
    fprintf(f, "Usage: lodis-migrate SUBCOMMAND [options]\n"
               "       lodis-migrate SUBCOMMAND --help\n"
               "       lodis-migrate --version\n\n"
               "Subcommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nSee lodis-migrate(1) for details.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return MIG_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        usage(stdout);
        return MIG_EXIT_OK;
    }
    if (!strcmp(sub, "-v") || !strcmp(sub, "--version")) {
        printf("lodis-migrate %s\n", MIG_VERSION);
        return MIG_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(sub, cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    mig_err("unknown subcommand '%s'; run 'lodis-migrate --help' for the list", sub);
    return MIG_EXIT_USAGE;
}
