/* cmd_function.c — FUNCTION: the library registry of Redis 7 functions.
 *
 * Libraries come with FUNCTION LOAD (issue 5, not implemented yet), so the
 * registry is empty and FUNCTION FLUSH has nothing to delete; it validates
 * its arguments exactly as Redis does and succeeds. When FUNCTION LOAD lands,
 * the registry lives here and FLUSH empties it. */
#include "server/args.h"
#include "server/cmdtable.h"
#include "server/reply.h"
#include "server/server.h"

/* FUNCTION: only reached with an unknown subcommand. */
void function_command(client *c) {
    container_unknown_subcommand(c);
}

/* FUNCTION FLUSH [ASYNC|SYNC] */
void function_flush_command(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !arg_is(&c->argv[2], "ASYNC") &&
                        !arg_is(&c->argv[2], "SYNC"))) {
        reply_error(c, "FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    reply_ok(c);
}
