/* cmd_command.c — COMMAND and its subcommands: the command table, read back.
 *
 * Everything here is a view of the const rows in cmdtable.c; only commands
 * whose C code is linked in are shown (see cmdtable.h). Reply shapes follow
 * redis-server 7.0.15 exactly, element for element, because redis-cli builds
 * its hints from COMMAND DOCS and cluster clients route with COMMAND INFO and
 * GETKEYS. Sets and maps are built with reply_set_len / reply_map_len, so the
 * RESP2/RESP3 choice stays in reply.c. Order differs from Redis only where
 * Redis has none (it walks a hash table; we walk the sorted table). */
#include "server/cmdtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/reply.h"
#include "storage/glob.h"

/* ---------------------------------------------------------------- helpers */

static int popcount64(uint64_t v) {
    int n = 0;
    for (; v; v &= v - 1) n++;
    return n;
}

/* The visible command flags as a set of status strings. */
static void reply_cmd_flags(client *c, uint64_t flags) {
    int n = 0;
    for (int i = 0; i < 64; i++)
        if ((flags & (1ULL << i)) && cmd_flag_name(1ULL << i)) n++;
    reply_set_len(c, n);
    for (int i = 0; i < 64; i++)
        if ((flags & (1ULL << i)) && cmd_flag_name(1ULL << i))
            reply_status(c, cmd_flag_name(1ULL << i));
}

static void reply_acl_cats(client *c, uint64_t acl) {
    char name[32];
    reply_set_len(c, popcount64(acl & ((1ULL << ACL_NUM_CATEGORIES) - 1)));
    for (int i = 0; i < ACL_NUM_CATEGORIES; i++) {
        if (!(acl & (1ULL << i))) continue;
        snprintf(name, sizeof name, "@%s", cmd_acl_name(1ULL << i));
        reply_status(c, name);
    }
}

static void reply_key_flags(client *c, unsigned flags) {
    reply_set_len(c, popcount64(flags & ((1u << KSPEC_NUM_FLAGS) - 1)));
    for (int i = 0; i < KSPEC_NUM_FLAGS; i++)
        if (flags & (1u << i)) reply_status(c, cmd_keyflag_name(1u << i));
}

static void reply_key_specs(client *c, const struct command *cmd) {
    reply_set_len(c, cmd->nkeyspecs);
    for (int i = 0; i < cmd->nkeyspecs; i++) {
        const struct cmd_keyspec *ks = &cmd->keyspecs[i];
        reply_map_len(c, ks->notes ? 4 : 3);
        if (ks->notes) {
            reply_bulk_cstr(c, "notes");
            reply_bulk_cstr(c, ks->notes);
        }
        reply_bulk_cstr(c, "flags");
        reply_key_flags(c, ks->flags);

        reply_bulk_cstr(c, "begin_search");
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "type");
        if (ks->bs == KSPEC_BS_INDEX) {
            reply_bulk_cstr(c, "index");
            reply_bulk_cstr(c, "spec");
            reply_map_len(c, 1);
            reply_bulk_cstr(c, "index");
            reply_int(c, ks->bs_pos);
        } else if (ks->bs == KSPEC_BS_KEYWORD) {
            reply_bulk_cstr(c, "keyword");
            reply_bulk_cstr(c, "spec");
            reply_map_len(c, 2);
            reply_bulk_cstr(c, "keyword");
            reply_bulk_cstr(c, ks->bs_keyword);
            reply_bulk_cstr(c, "startfrom");
            reply_int(c, ks->bs_startfrom);
        } else {
            reply_bulk_cstr(c, "unknown");
            reply_bulk_cstr(c, "spec");
            reply_map_len(c, 0);
        }

        reply_bulk_cstr(c, "find_keys");
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "type");
        if (ks->fk == KSPEC_FK_RANGE) {
            reply_bulk_cstr(c, "range");
            reply_bulk_cstr(c, "spec");
            reply_map_len(c, 3);
            reply_bulk_cstr(c, "lastkey");
            reply_int(c, ks->fk_lastkey);
            reply_bulk_cstr(c, "keystep");
            reply_int(c, ks->fk_step);
            reply_bulk_cstr(c, "limit");
            reply_int(c, ks->fk_limit);
        } else if (ks->fk == KSPEC_FK_KEYNUM) {
            reply_bulk_cstr(c, "keynum");
            reply_bulk_cstr(c, "spec");
            reply_map_len(c, 3);
            reply_bulk_cstr(c, "keynumidx");
            reply_int(c, ks->fk_keynumidx);
            reply_bulk_cstr(c, "firstkey");
            reply_int(c, ks->fk_firstkey);
            reply_bulk_cstr(c, "keystep");
            reply_int(c, ks->fk_step);
        } else {
            reply_bulk_cstr(c, "unknown");
            reply_bulk_cstr(c, "spec");
            reply_map_len(c, 0);
        }
    }
}

/* One COMMAND / COMMAND INFO entry: a 10-element array. */
static void reply_cmd_info(client *c, const struct command *cmd) {
    if (cmd == NULL) {
        reply_null(c);
        return;
    }
    reply_array_len(c, 10);
    reply_bulk_cstr(c, cmd->fullname);
    reply_int(c, cmd->arity);
    reply_cmd_flags(c, cmd->flags);
    reply_int(c, cmd->firstkey);
    reply_int(c, cmd->lastkey);
    reply_int(c, cmd->keystep);
    reply_acl_cats(c, cmd->acl);
    reply_set_len(c, cmd->ntips);
    for (int i = 0; i < cmd->ntips; i++) reply_bulk_cstr(c, cmd->tips[i]);
    reply_key_specs(c, cmd);
    if (cmd->nsubcmds == 0) {
        reply_set_len(c, 0); /* Redis: an empty set when not a container */
    } else {
        size_t it = 0;
        const struct command *sub;
        reply_array_len(c, (long long)cmd_count_sub(cmd));
        while ((sub = cmd_sub_next(cmd, &it)) != NULL) reply_cmd_info(c, sub);
    }
}

static void reply_arg_flags(client *c, unsigned flags) {
    static const unsigned all[] = {ARGF_OPTIONAL, ARGF_MULTIPLE, ARGF_MULTIPLE_TOKEN};
    int n = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (flags & all[i]) n++;
    reply_set_len(c, n);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (flags & all[i]) reply_status(c, cmd_argflag_name(all[i]));
}

static void reply_args(client *c, const struct cmd_arg *args, int nargs) {
    reply_array_len(c, nargs);
    for (int i = 0; i < nargs; i++) {
        const struct cmd_arg *a = &args[i];
        int nested = a->type == ARGT_ONEOF || a->type == ARGT_BLOCK;
        int n = 2 + (a->key_spec_index >= 0) + (a->token != NULL) + (a->summary != NULL) +
                (a->since != NULL) + (a->deprecated_since != NULL) + (a->flags != 0) + nested;
        reply_map_len(c, n);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, a->name);
        reply_bulk_cstr(c, "type");
        reply_bulk_cstr(c, cmd_argtype_name(a->type));
        if (a->key_spec_index >= 0) {
            reply_bulk_cstr(c, "key_spec_index");
            reply_int(c, a->key_spec_index);
        }
        if (a->token) {
            reply_bulk_cstr(c, "token");
            reply_bulk_cstr(c, a->token);
        }
        if (a->summary) {
            reply_bulk_cstr(c, "summary");
            reply_bulk_cstr(c, a->summary);
        }
        if (a->since) {
            reply_bulk_cstr(c, "since");
            reply_bulk_cstr(c, a->since);
        }
        if (a->deprecated_since) {
            reply_bulk_cstr(c, "deprecated_since");
            reply_bulk_cstr(c, a->deprecated_since);
        }
        if (a->flags) {
            reply_bulk_cstr(c, "flags");
            reply_arg_flags(c, a->flags);
        }
        if (nested) {
            reply_bulk_cstr(c, "arguments");
            reply_args(c, a->subargs, a->nsubargs);
        }
    }
}

/* One COMMAND DOCS value: a map whose optional fields appear only when set. */
static void reply_cmd_docs(client *c, const struct command *cmd) {
    int n = 1 + (cmd->summary != NULL) + (cmd->since != NULL) + (cmd->complexity != NULL) +
            (cmd->doc_flags != 0) + (cmd->deprecated_since != NULL) + (cmd->replaced_by != NULL) +
            (cmd->nhistory > 0) + (cmd->nargs > 0) + (cmd->nsubcmds > 0);
    reply_map_len(c, n);
    if (cmd->summary) {
        reply_bulk_cstr(c, "summary");
        reply_bulk_cstr(c, cmd->summary);
    }
    if (cmd->since) {
        reply_bulk_cstr(c, "since");
        reply_bulk_cstr(c, cmd->since);
    }
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, cmd_group_name(cmd->group));
    if (cmd->complexity) {
        reply_bulk_cstr(c, "complexity");
        reply_bulk_cstr(c, cmd->complexity);
    }
    if (cmd->doc_flags) {
        unsigned all[] = {CMD_DOC_DEPRECATED, CMD_DOC_SYSCMD};
        reply_bulk_cstr(c, "doc_flags");
        reply_set_len(c, popcount64(cmd->doc_flags & (CMD_DOC_DEPRECATED | CMD_DOC_SYSCMD)));
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            if (cmd->doc_flags & all[i]) reply_status(c, cmd_docflag_name(all[i]));
    }
    if (cmd->deprecated_since) {
        reply_bulk_cstr(c, "deprecated_since");
        reply_bulk_cstr(c, cmd->deprecated_since);
    }
    if (cmd->replaced_by) {
        reply_bulk_cstr(c, "replaced_by");
        reply_bulk_cstr(c, cmd->replaced_by);
    }
    if (cmd->nhistory > 0) {
        reply_bulk_cstr(c, "history");
        reply_set_len(c, cmd->nhistory);
        for (int i = 0; i < cmd->nhistory; i++) {
            reply_array_len(c, 2);
            reply_bulk_cstr(c, cmd->history[i].since);
            reply_bulk_cstr(c, cmd->history[i].changes);
        }
    }
    if (cmd->nargs > 0) {
        reply_bulk_cstr(c, "arguments");
        reply_args(c, cmd->args, cmd->nargs);
    }
    if (cmd->nsubcmds > 0) {
        size_t it = 0;
        const struct command *sub;
        reply_bulk_cstr(c, "subcommands");
        reply_map_len(c, (long long)cmd_count_sub(cmd));
        while ((sub = cmd_sub_next(cmd, &it)) != NULL) {
            reply_bulk_cstr(c, sub->fullname);
            reply_cmd_docs(c, sub);
        }
    }
}

/* ---------------------------------------------------------------- commands */

static void reply_all_info(client *c) {
    size_t it = 0;
    const struct command *cmd;
    reply_array_len(c, (long long)cmd_count_top());
    while ((cmd = cmd_top_next(&it)) != NULL) reply_cmd_info(c, cmd);
}

/* COMMAND
 * Also runs for COMMAND <unknown subcommand>, which it rejects. */
void command_command(client *c) {
    if (c->argc > 1) {
        const arg *sub = &c->argv[1];
        /* Redis prints at most 128 bytes of it, and stops at a NUL byte. */
        size_t n = strnlen(sub->p, sub->len < 128 ? sub->len : 128);
        reply_errorf(c, "unknown subcommand '%.*s'. Try COMMAND HELP.", (int)n, sub->p);
        return;
    }
    reply_all_info(c);
}

/* COMMAND COUNT */
void command_count_command(client *c) {
    reply_int(c, (long long)cmd_count_top());
}

/* COMMAND INFO [command-name ...]
 * Unknown names (and "container|unknown") get a null in their slot. */
void command_info_command(client *c) {
    if (c->argc == 2) {
        reply_all_info(c);
        return;
    }
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        reply_cmd_info(c, cmd_lookup_fullname(c->argv[i].p, c->argv[i].len));
}

/* COMMAND DOCS [command-name ...] */
void command_docs_command(client *c) {
    const struct command *cmd;
    if (c->argc == 2) {
        size_t it = 0;
        reply_map_len(c, (long long)cmd_count_top());
        while ((cmd = cmd_top_next(&it)) != NULL) {
            reply_bulk_cstr(c, cmd->fullname);
            reply_cmd_docs(c, cmd);
        }
        return;
    }
    long long found = 0;
    reply_deferred h = reply_defer_len(c);
    for (int i = 2; i < c->argc; i++) {
        cmd = cmd_lookup_fullname(c->argv[i].p, c->argv[i].len);
        if (cmd == NULL) continue; /* unknown names are left out, not nulled */
        reply_bulk_cstr(c, cmd->fullname);
        reply_cmd_docs(c, cmd);
        found++;
    }
    reply_set_deferred_len(c, h, found, REPLY_MAP);
}

/* The command a GETKEYS line names: like dispatch, except that a container
 * followed by an unknown subcommand names nothing (as in Redis). */
static const struct command *lookup_line(int argc, const arg *argv) {
    const struct command *cmd = cmd_lookup_argv(argc, argv);
    if (cmd && argc > 1 && cmd->parent == NULL && cmd_count_sub(cmd) > 0) return NULL;
    return cmd;
}

static void getkeys_generic(client *c, int with_flags) {
    int argc = c->argc - 2;
    const arg *argv = c->argv + 2;
    const struct command *cmd = lookup_line(argc, argv);

    if (cmd == NULL) {
        reply_error(c, "Invalid command specified");
        return;
    }
    if (!cmd_has_keys(cmd)) {
        reply_error(c, "The command has no key arguments");
        return;
    }
    if (!cmd_arity_ok(cmd, argc)) {
        reply_error(c, "Invalid number of arguments specified for command");
        return;
    }
    int n = cmd_getkeys_flags(cmd, argc, argv, NULL, 0);
    if (n == 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS)
            reply_empty_array(c);
        else
            reply_error(c, "Invalid arguments specified for command");
        return;
    }
    struct cmd_keyref *keys = malloc((size_t)n * sizeof(*keys));
    if (keys == NULL) abort(); /* as buf.h: a reply cannot be built without memory */
    n = cmd_getkeys_flags(cmd, argc, argv, keys, n);
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        const arg *k = &argv[keys[i].pos];
        if (with_flags) {
            reply_array_len(c, 2);
            reply_bulk(c, k->p, k->len);
            reply_key_flags(c, keys[i].flags);
        } else {
            reply_bulk(c, k->p, k->len);
        }
    }
    free(keys);
}

/* COMMAND GETKEYS command [arg ...] */
void command_getkeys_command(client *c) {
    getkeys_generic(c, 0);
}

/* COMMAND GETKEYSANDFLAGS command [arg ...] */
void command_getkeysandflags_command(client *c) {
    getkeys_generic(c, 1);
}

static int arg_eq(const arg *a, const char *word) {
    size_t n = strlen(word);
    return a->len == n && strncasecmp(a->p, word, n) == 0;
}

/* COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] */
void command_list_command(client *c) {
    enum { F_NONE, F_MODULE, F_ACLCAT, F_PATTERN } filter = F_NONE;
    const arg *farg = NULL;
    for (int i = 2; i < c->argc; i++) {
        /* FILTERBY must be followed by exactly two more arguments. */
        if (arg_eq(&c->argv[i], "filterby") && c->argc - 1 - i == 2) {
            const arg *kind = &c->argv[i + 1];
            if (arg_eq(kind, "module"))
                filter = F_MODULE;
            else if (arg_eq(kind, "aclcat"))
                filter = F_ACLCAT;
            else if (arg_eq(kind, "pattern"))
                filter = F_PATTERN;
            else {
                reply_error(c, "syntax error");
                return;
            }
            farg = &c->argv[i + 2];
            i += 2;
        } else {
            reply_error(c, "syntax error");
            return;
        }
    }

    uint64_t cat = filter == F_ACLCAT ? cmd_acl_from_name(farg->p, farg->len) : 0;
    long long n = 0;
    size_t it = 0;
    const struct command *cmd;
    reply_deferred h = reply_defer_len(c);
    while ((cmd = cmd_all_next(&it)) != NULL) {
        int keep;
        switch (filter) {
        case F_NONE: keep = 1; break;
        case F_MODULE: keep = 0; break; /* lodis has no modules */
        case F_ACLCAT: keep = (cmd->acl & cat) != 0; break;
        case F_PATTERN:
            keep = glob_match(farg->p, farg->len, cmd->fullname, strlen(cmd->fullname), 1);
            break;
        default: keep = 0; break;
        }
        if (!keep) continue;
        reply_bulk_cstr(c, cmd->fullname);
        n++;
    }
    reply_set_deferred_len(c, h, n, REPLY_ARRAY);
}

/* COMMAND HELP */
void command_help_command(client *c) {
    static const char *lines[] = {
        "(no subcommand)",
        "    Describe every command of this server.",
        "COUNT",
        "    Return how many commands this server has.",
        "LIST",
        "    Return the names of all commands of this server.",
        "INFO [<command-name> ...]",
        "    Describe the named commands, or every command when none is named.",
        "DOCS [<command-name> ...]",
        "    Return the documentation of the named commands, or of every command",
        "    when none is named.",
        "GETKEYS <full-command>",
        "    Return the key arguments of a complete command line.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the key arguments of a complete command line with their",
        "    access flags.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c, "COMMAND", lines);
}
