/* cmd_memory.c — MEMORY USAGE and MEMORY HELP.
 *
 * MEMORY USAGE estimates the bytes a key takes where it lives, on disk: the
 * key and its meta record, plus for a collection its member entries, taken
 * from a sample of SAMPLES entries (default 5, 0 = all) scaled to the whole
 * collection, plus LMDB's per-entry overhead. Like Redis's answer, it is an
 * estimate; it reads at most SAMPLES entries. */
#include <string.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/reply.h"
#include "server/server.h"
#include "storage/evict.h"
#include "storage/keyspace.h"

/* MEMORY: only reached with an unknown subcommand. */
void memory_command(client *c) {
    container_unknown_subcommand(c);
}

/* MEMORY USAGE key [SAMPLES count] */
void memory_usage_command(client *c) {
    long long samples = 5;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "SAMPLES") && j + 1 < c->argc) {
            if (arg_ll_or_reply(c, &c->argv[++j], &samples, NULL) != 0) return;
            if (samples < 0) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            if (samples == 0) samples = -1; /* all */
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    int64_t bytes = evict_key_bytes(srv.ks, c->db, c->argv[2].p, c->argv[2].len, samples);
    if (bytes < 0) {
        reply_null(c);
        return;
    }
    reply_int(c, bytes);
}

void memory_help_command(client *c) {
    static const char *help[] = {
        "USAGE <key> [SAMPLES <count>]",
        "    Estimate the bytes <key> and its value take on disk, sampling <count>",
        "    members of a collection (default 5, 0 for all).",
        "HELP",
        "    Print this help.",
        NULL};
    reply_help(c, "MEMORY", help);
}
