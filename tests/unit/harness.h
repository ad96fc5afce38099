/* harness.h — fixtures for storage unit tests: a fresh data directory in
 * /tmp per test, removed afterwards. Real LMDB, no mocks. */
#ifndef LODIS_TEST_HARNESS_H
#define LODIS_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *harness_tmpdir(void) {
    char *t = strdup("/tmp/lodis-unit-XXXXXX");
    if (!mkdtemp(t)) {
        perror("mkdtemp");
        abort();
    }
    return t;
}

static inline void harness_rmdir(char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
    free(dir);
}

#endif
