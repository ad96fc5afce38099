/* cmd_check.c — lodis-migrate check (being written; see issue 7). */
#include "migrate/migrate.h"

#include <stdio.h>

int mig_cmd_check(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        printf("Usage: lodis-migrate check ...\n");
        return MIG_EXIT_OK;
    }
    mig_err("check: not implemented yet");
    return MIG_EXIT_USAGE;
}
