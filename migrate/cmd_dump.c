/* cmd_dump.c — lodis-migrate dump (being written; see issue 7). */
#include "migrate/migrate.h"

#include <stdio.h>

int mig_cmd_dump(int argc, char **argv) {
    if (mig_wants_help(argc, argv)) {
        printf("Usage: lodis-migrate dump ...\n");
        return MIG_EXIT_OK;
    }
    mig_err("dump: not implemented yet");
    return MIG_EXIT_USAGE;
}
