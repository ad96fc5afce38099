/* cmd_script.c — EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.
 *
 * The commands parse their arguments and hand the work to the Lua engine
 * in script_lua.c (compile, cache by SHA1, run). EVAL caches the scripts it
 * compiles, as Redis 7 does, so EVALSHA and SCRIPT EXISTS see them.
 * A script runs to completion inside its command, so all its writes land in
 * one tick and one WAL record.
 * A script running past busy-reply-threshold can be stopped by SCRIPT KILL
 * (script_lua.c). Not implemented: SCRIPT DEBUG (the debugger). */
#include <ctype.h>
#include <string.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/families.h"
#include "server/reply.h"
#include "server/script_lua.h"
#include "server/server.h"
#include "storage/num.h"

void scripting_family_init(void);
void scripting_family_shutdown(void);
void function_family_load(void); /* cmd_function.c: FUNCTION libraries */

void scripting_family_init(void) {
    script_lua_init();
    function_family_load();
}

void scripting_family_shutdown(void) {
    script_lua_shutdown();
}

/* numkeys at argv[2]: sets *nkeys, or replies and returns -1. */
static int numkeys_or_reply(client *c, int *nkeys) {
    long long n;
    if (num_parse_ll(c->argv[2].p, c->argv[2].len, &n) != 0) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    if (n > c->argc - 3) {
        reply_error(c, "Number of keys can't be greater than number of args");
        return -1;
    }
    if (n < 0) {
        reply_error(c, "Number of keys can't be negative");
        return -1;
    }
    *nkeys = (int)n;
    return 0;
}

static void eval_generic(client *c, int by_sha, int readonly) {
    int nkeys;
    char sha[41];
    /* Before the script runs, so that MONITOR shows its calls after it. */
    server_feed_monitors(c);
    /* Redis refuses a SHA of the wrong length before it reads numkeys, and
     * looks a well-formed one up only after. */
    if (by_sha && c->argv[1].len != 40) {
        reply_error(c, "-NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    if (numkeys_or_reply(c, &nkeys) < 0) return;
    if (by_sha) {
        for (int i = 0; i < 40; i++) sha[i] = (char)tolower((unsigned char)c->argv[1].p[i]);
        sha[40] = '\0';
        if (!script_lua_exists(sha)) {
            reply_error(c, "-NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else if (script_lua_load(c, c->argv[1].p, c->argv[1].len, sha) < 0) {
        return;
    }
    script_lua_run(c, sha, c->argv + 3, nkeys, c->argv + 3 + nkeys, c->argc - 3 - nkeys,
                   readonly);
}

/* EVAL script numkeys [key ...] [arg ...] */
void eval_command(client *c) {
    eval_generic(c, 0, 0);
}

/* EVALSHA sha1 numkeys [key ...] [arg ...] */
void evalsha_command(client *c) {
    eval_generic(c, 1, 0);
}

/* EVAL_RO script numkeys [key ...] [arg ...] */
void eval_ro_command(client *c) {
    eval_generic(c, 0, 1);
}

/* EVALSHA_RO sha1 numkeys [key ...] [arg ...] */
void evalsha_ro_command(client *c) {
    eval_generic(c, 1, 1);
}

/* SCRIPT <subcommand> [<arg> ...] (unknown subcommands) */
void script_command(client *c) {
    container_unknown_subcommand(c);
}

/* SCRIPT LOAD script */
void script_load_command(client *c) {
    char sha[41];
    if (script_lua_load(c, c->argv[2].p, c->argv[2].len, sha) < 0) return;
    reply_bulk(c, sha, 40);
}

/* SCRIPT EXISTS sha1 [sha1 ...] */
void script_exists_command(client *c) {
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        char sha[41];
        if (c->argv[i].len != 40) {
            reply_int(c, 0);
            continue;
        }
        for (int j = 0; j < 40; j++) sha[j] = (char)tolower((unsigned char)c->argv[i].p[j]);
        sha[40] = '\0';
        reply_int(c, script_lua_exists(sha));
    }
}

/* SCRIPT FLUSH [ASYNC | SYNC] */
void script_flush_command(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !arg_is(&c->argv[2], "sync") &&
                        !arg_is(&c->argv[2], "async"))) {
        reply_error(c, "SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    script_lua_reset();
    reply_ok(c);
}

/* SCRIPT KILL */
void script_kill_command(client *c) {
    script_lua_kill(c, 1);
}

/* SCRIPT HELP */
void script_help_command(client *c) {
    static const char *help[] = {
        "EXISTS <sha1> [<sha1> ...]",
        "    For each SHA1 digest, 1 if a script with that digest is cached, else 0.",
        "FLUSH [ASYNC|SYNC]",
        "    Empty the script cache (both modes do it at once).",
        "KILL",
        "    Stop the running script if it has not written yet.",
        "LOAD <script>",
        "    Compile a script, cache it and reply its SHA1 digest for EVALSHA.",
        NULL};
    reply_help(c, "SCRIPT", help);
}
