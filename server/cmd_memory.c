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
#include "storage/keyspace.h"

#define ENTRY_OVERHEAD 16 /* LMDB node header and slot, per entry */

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
    ks_meta m;
    if (ks_lookup_notouch(srv.ks, c->db, c->argv[2].p, c->argv[2].len, KS_NONE, &m) != ST_OK) {
        reply_null(c);
        return;
    }
    long long bytes = (long long)c->argv[2].len + 28 + (long long)m.hdrlen +
                      (long long)m.vlen + 2 * ENTRY_OVERHEAD;
    if (m.id) {
        uint8_t prefix[8];
        ks_subkey(prefix, m.id, NULL, 0);
        store_cursor *cur;
        long long seen = 0, sum = 0;
        if (store_cursor_open(srv.st, ST_DBI_SUB, &cur) == ST_OK) {
            int rc = store_cursor_seek(cur, prefix, 8);
            for (; rc == ST_OK && (samples < 0 || seen < samples); rc = store_cursor_next(cur)) {
                const uint8_t *k, *v;
                size_t kl, vl;
                if (store_cursor_get(cur, &k, &kl, &v, &vl) != ST_OK || kl < 8 ||
                    memcmp(k, prefix, 8) != 0)
                    break;
                sum += (long long)(kl + vl) + ENTRY_OVERHEAD;
                seen++;
            }
            store_cursor_close(cur);
        }
        /* Some types keep more than one entry per member (a zset's score
         * index); the sample's average covers whatever entries there are. */
        if (seen) bytes += sum * (long long)(m.count ? m.count : (uint64_t)seen) / seen;
    }
    ks_meta_release(&m);
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
