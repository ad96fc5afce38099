/* cmd_restore.c — lodis-migrate restore (being written; see issue 7). */
#include "migrate/migrate.h"

#include <stdio.h>

int mig_cmd_restore(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        printf("Usage: lodis-migrate restore ...\n");
        return MIG_EXIT_OK;
    }
    mig_err("restore: not implemented yet");
    return MIG_EXIT_USAGE;
}
