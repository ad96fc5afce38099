/* families.c — the one list of command families with init/shutdown work.
 * A family without state needs no entry: its commands are found through
 * the command table. Functions are weak so a family can land on its own. */
#include "server/families.h"

#include <stddef.h>

#define FAMILY(name)                                                                           \
    void name##_family_init(void) __attribute__((weak));                                       \
    void name##_family_shutdown(void) __attribute__((weak));
#define FAMILIES(X) X(conn) X(server) X(multi) X(pubsub) X(blocking) X(scripting) X(memory) \
    X(tracking)
FAMILIES(FAMILY)
#undef FAMILY

void families_init(void) {
#define INIT(name)                                                                             \
    if (name##_family_init) name##_family_init();
    FAMILIES(INIT)
#undef INIT
}

void families_shutdown(void) {
#define SHUT(name)                                                                             \
    if (name##_family_shutdown) name##_family_shutdown();
    FAMILIES(SHUT)
#undef SHUT
}
