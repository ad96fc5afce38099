/* cmdtable.h — the command table: what every command is, and how to find it.
 *
 * The table is data generated from server/commands/<family>.json by
 * scripts/gen-commands into server/commands.def (an X-macro file). Each row
 * becomes a `const struct command`; dispatch, COMMAND and its subcommands,
 * INFO commandstats and key extraction all read those rows, and nothing
 * mutates them: per-command counters live in a parallel array (cmd_stats).
 *
 * Implemented or not. Every command procedure is referenced as a weak
 * symbol, so a spec row may exist before its C code does. A row whose proc
 * is NULL is invisible: cmd_lookup*() return NULL for it (the caller then
 * answers with Redis's unknown-command error), and the iterators, counts and
 * COMMAND replies skip it. A subcommand is visible only when its container
 * is too. Container commands (CONFIG, OBJECT, ...) have a proc of their own,
 * called when argv[1] names no visible subcommand; it replies the
 * "unknown subcommand" error (or, for COMMAND, does the no-argument form).
 *
 * Lifetime: all pointers returned here point into static const data and are
 * valid for the life of the process. Call cmdtable_init() once at startup,
 * before any lookup; nothing here is thread-safe except read-only use of
 * struct command after init. */
#ifndef LODIS_CMDTABLE_H
#define LODIS_CMDTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "server/client.h"

typedef void cmd_proc(client *c);

/* Command flags, with the meaning of the Redis 7 COMMAND INFO flag of the
 * same name. MAY_REPLICATE, SENTINEL, ONLY_SENTINEL, PROTECTED,
 * MODULE_GETKEYS and MODULE_NO_CLUSTER are never shown by COMMAND INFO (as in
 * Redis). MOVABLE_KEYS is derived from the key specs by the generator. */
#define CMD_WRITE             (1ULL << 0)
#define CMD_READONLY          (1ULL << 1)
#define CMD_DENYOOM           (1ULL << 2)
#define CMD_MODULE            (1ULL << 3)
#define CMD_ADMIN             (1ULL << 4)
#define CMD_PUBSUB            (1ULL << 5)
#define CMD_NOSCRIPT          (1ULL << 6)
#define CMD_BLOCKING          (1ULL << 7)
#define CMD_LOADING           (1ULL << 8)
#define CMD_STALE             (1ULL << 9)
#define CMD_SKIP_MONITOR      (1ULL << 10)
#define CMD_SKIP_SLOWLOG      (1ULL << 11)
#define CMD_ASKING            (1ULL << 12)
#define CMD_FAST              (1ULL << 13)
#define CMD_NO_AUTH           (1ULL << 14)
#define CMD_MAY_REPLICATE     (1ULL << 15)
#define CMD_SENTINEL          (1ULL << 16)
#define CMD_ONLY_SENTINEL     (1ULL << 17)
#define CMD_NO_MANDATORY_KEYS (1ULL << 18)
#define CMD_PROTECTED         (1ULL << 19)
#define CMD_MODULE_GETKEYS    (1ULL << 20)
#define CMD_MODULE_NO_CLUSTER (1ULL << 21)
#define CMD_NO_ASYNC_LOADING  (1ULL << 22)
#define CMD_NO_MULTI          (1ULL << 23)
#define CMD_MOVABLE_KEYS      (1ULL << 24)
#define CMD_ALLOW_BUSY        (1ULL << 25)

/* Documentation flags (COMMAND DOCS doc_flags). */
#define CMD_DOC_DEPRECATED (1u << 0)
#define CMD_DOC_SYSCMD     (1u << 1)

/* ACL categories. Bit order is the order COMMAND INFO lists them in. */
#define ACL_KEYSPACE       (1ULL << 0)
#define ACL_READ           (1ULL << 1)
#define ACL_WRITE          (1ULL << 2)
#define ACL_SET            (1ULL << 3)
#define ACL_SORTEDSET      (1ULL << 4)
#define ACL_LIST           (1ULL << 5)
#define ACL_HASH           (1ULL << 6)
#define ACL_STRING         (1ULL << 7)
#define ACL_BITMAP         (1ULL << 8)
#define ACL_HYPERLOGLOG    (1ULL << 9)
#define ACL_GEO            (1ULL << 10)
#define ACL_STREAM         (1ULL << 11)
#define ACL_PUBSUB         (1ULL << 12)
#define ACL_ADMIN          (1ULL << 13)
#define ACL_FAST           (1ULL << 14)
#define ACL_SLOW           (1ULL << 15)
#define ACL_BLOCKING       (1ULL << 16)
#define ACL_DANGEROUS      (1ULL << 17)
#define ACL_CONNECTION     (1ULL << 18)
#define ACL_TRANSACTION    (1ULL << 19)
#define ACL_SCRIPTING      (1ULL << 20)
#define ACL_NUM_CATEGORIES 21

/* Command groups (COMMAND DOCS "group"). */
enum cmd_group {
    GRP_GENERIC,
    GRP_STRING,
    GRP_LIST,
    GRP_SET,
    GRP_SORTED_SET,
    GRP_HASH,
    GRP_PUBSUB,
    GRP_TRANSACTIONS,
    GRP_CONNECTION,
    GRP_SERVER,
    GRP_SCRIPTING,
    GRP_HYPERLOGLOG,
    GRP_CLUSTER,
    GRP_SENTINEL,
    GRP_GEO,
    GRP_STREAM,
    GRP_BITMAP,
    GRP_MODULE,
};

/* Argument tree, as COMMAND DOCS reports it (redis-cli builds hints from it). */
enum cmd_arg_type {
    ARGT_STRING,
    ARGT_INTEGER,
    ARGT_DOUBLE,
    ARGT_KEY,
    ARGT_PATTERN,
    ARGT_UNIX_TIME,
    ARGT_PURE_TOKEN,
    ARGT_ONEOF, /* exactly one of subargs */
    ARGT_BLOCK, /* all of subargs, in order */
};
#define ARGF_OPTIONAL       (1u << 0)
#define ARGF_MULTIPLE       (1u << 1)
#define ARGF_MULTIPLE_TOKEN (1u << 2)

struct cmd_arg {
    const char *name;
    enum cmd_arg_type type;
    int key_spec_index;            /* index into the command's key specs, or -1 */
    const char *token;             /* literal word before the value, or NULL */
    const char *summary;           /* or NULL */
    const char *since;             /* or NULL */
    const char *deprecated_since;  /* or NULL */
    unsigned flags;                /* ARGF_* */
    const struct cmd_arg *subargs; /* ONEOF and BLOCK only */
    int nsubargs;
};

/* Key specs (Redis 7): where keys are, and how they are accessed. */
#define KSPEC_RO             (1u << 0)
#define KSPEC_RW             (1u << 1)
#define KSPEC_OW             (1u << 2)
#define KSPEC_RM             (1u << 3)
#define KSPEC_ACCESS         (1u << 4)
#define KSPEC_UPDATE         (1u << 5)
#define KSPEC_INSERT         (1u << 6)
#define KSPEC_DELETE         (1u << 7)
#define KSPEC_NOT_KEY        (1u << 8)
#define KSPEC_INCOMPLETE     (1u << 9)
#define KSPEC_VARIABLE_FLAGS (1u << 10)
#define KSPEC_NUM_FLAGS      11

enum ks_begin { KSPEC_BS_INVALID = 0, KSPEC_BS_UNKNOWN, KSPEC_BS_INDEX, KSPEC_BS_KEYWORD };
enum ks_find { KSPEC_FK_INVALID = 0, KSPEC_FK_UNKNOWN, KSPEC_FK_RANGE, KSPEC_FK_KEYNUM };

struct cmd_keyspec {
    const char *notes; /* or NULL */
    unsigned flags;    /* KSPEC_* */
    enum ks_begin bs;
    int bs_pos;             /* INDEX: argv index of the first key */
    const char *bs_keyword; /* KEYWORD: the keys follow this word ... */
    int bs_startfrom;       /* ... searched from here (negative: from the end, backwards) */
    enum ks_find fk;
    int fk_lastkey;   /* RANGE: last key relative to the first; -1 = argc-1, -2 = argc-2 ... */
    int fk_step;      /* RANGE and KEYNUM: distance between keys */
    int fk_limit;     /* RANGE with lastkey -1: only 1/limit of the remaining args (0 = all) */
    int fk_keynumidx; /* KEYNUM: index of the key count, relative to the begin position */
    int fk_firstkey;  /* KEYNUM: index of the first key, relative to the begin position */
};

struct cmd_history {
    const char *since;
    const char *changes;
};

/* One key found in a command line: argv index and its KSPEC_* access flags. */
struct cmd_keyref {
    int pos;
    unsigned flags;
};

/* Key extraction for commands whose key specs carry VARIABLE_FLAGS (SET,
 * BITFIELD): same contract as cmd_getkeys_flags(). */
typedef int cmd_getkeys_proc(int argc, const arg *argv, struct cmd_keyref *out, int max);

struct command {
    const char *name;               /* lower case; a subcommand's own name ("get") */
    const char *fullname;           /* "config|get" for a subcommand, else == name */
    cmd_proc *proc;                 /* NULL: not implemented, so the row is invisible */
    int arity;                      /* N: exactly N args (name included); -N: at least N */
    uint64_t flags;                 /* CMD_* */
    int firstkey, lastkey, keystep; /* legacy key range, as COMMAND INFO shows it */
    uint64_t acl;                   /* ACL_* */
    enum cmd_group group;
    const char *since;
    const char *summary;
    const char *complexity;       /* or NULL */
    unsigned doc_flags;           /* CMD_DOC_* */
    const char *deprecated_since; /* or NULL */
    const char *replaced_by;      /* or NULL */
    const struct cmd_arg *args;
    int nargs;
    const struct cmd_keyspec *keyspecs;
    int nkeyspecs;
    const struct cmd_history *history;
    int nhistory;
    const char *const *tips; /* "nondeterministic_output", "request_policy:..." */
    int ntips;
    const struct command *subcmds; /* all rows, visible or not: see cmd_sub_next() */
    int nsubcmds;
    const struct command *parent; /* container, or NULL for a top-level command */
    cmd_getkeys_proc *getkeys;    /* or NULL */
    int id;                       /* dense index, 0 .. CMD_NUM_IDS-1 */
};

/* Every proc named in the table, declared once for the files defining them.
 * (Only the rows are wanted here, never the data arrays.) */
#undef CMD_DEF_TABLES
#define CMD(id, parent, cid, name, fullname, proc, ...) cmd_proc proc;
#define SUBCMD                                          CMD
#include "server/commands.def"
#undef CMD
#undef SUBCMD

/* Compile-time ids: CMDID_set, CMDID_config_get, ... (rows, implemented or not). */
enum cmd_id {
#define CMD(id, parent, cid, ...) CMDID_##cid = id,
#define SUBCMD                    CMD
#include "server/commands.def"
#undef CMD
#undef SUBCMD
    CMD_NUM_IDS = CMD_DEF_NTOP + CMD_DEF_NSUB
};

/* Latency buckets per command: 1 us to 1 s, doubling (latency_hist.c). */
#define LAT_HIST_BUCKETS 21

/* Per-command counters (INFO commandstats), indexed by id. */
struct cmd_stats {
    uint64_t calls;
    uint64_t usec;
    uint64_t rejected_calls;
    uint64_t failed_calls;
    uint64_t hist[LAT_HIST_BUCKETS]; /* latency_hist.c: calls per duration bucket */
};

/* Build the name index. Call once before any lookup; idempotent. */
void cmdtable_init(void);

/* Top-level command by name, case-insensitive. NULL if unknown or not
 * implemented. `name` need not be NUL-terminated. */
const struct command *cmd_lookup(const char *name, size_t len);

/* The command a request runs: when argv[0] is a container and argv[1] names
 * one of its visible subcommands (case-insensitive), that subcommand;
 * otherwise the command argv[0] names (the container itself, whose proc then
 * handles the unknown subcommand). NULL if argv[0] is unknown or argc < 1. */
const struct command *cmd_lookup_argv(int argc, const arg *argv);

/* By full name as COMMAND INFO/DOCS take it: "get" or "config|get"
 * (case-insensitive). NULL if unknown, not implemented, or more than one '|'. */
const struct command *cmd_lookup_fullname(const char *name, size_t len);

/* The row with this id, implemented or not; NULL if id is out of range. */
const struct command *cmd_by_id(int id);

/* Nonzero if the command is visible (its proc, and its container's, exist). */
int cmd_is_implemented(const struct command *cmd);

/* Write "container|sub" (or the plain name) NUL-terminated into out, truncated
 * to cap-1 bytes. Returns out. (cmd->fullname is the same string, static.) */
const char *cmd_fullname(const struct command *cmd, char *out, size_t cap);

/* 1 if argc (command name included) satisfies the arity, else 0. */
int cmd_arity_ok(const struct command *cmd, int argc);

/* Iteration over visible commands. Start with *it = 0; each call returns the
 * next command or NULL at the end.
 *   cmd_top_next: top-level commands, sorted by name;
 *   cmd_all_next: every command and subcommand, each container followed by
 *                 its subcommands (INFO commandstats, COMMAND LIST);
 *   cmd_sub_next: the subcommands of one container, sorted by name. */
const struct command *cmd_top_next(size_t *it);
const struct command *cmd_all_next(size_t *it);
const struct command *cmd_sub_next(const struct command *container, size_t *it);

/* Number of visible top-level commands (COMMAND COUNT). */
size_t cmd_count_top(void);
/* Number of visible subcommands of a container. */
size_t cmd_count_sub(const struct command *container);

/* Mutable counters of a command (never NULL for a table row). */
struct cmd_stats *cmd_stats(const struct command *cmd);
/* Zero every counter (CONFIG RESETSTAT). */
void cmd_stats_reset(void);

/* Key positions of a command line (argv[0] is the command name; for a
 * subcommand, argv[1] is the subcommand name). Follows Redis 7.0: the key
 * specs first; a command whose specs carry VARIABLE_FLAGS, or whose specs
 * cannot be resolved for this argv, uses its getkeys function if it has one.
 * Keys come in spec order, ascending within a spec; a keyword spec whose
 * keyword is absent contributes nothing. Returns the number of keys found
 * and stores the first `max` of them in out (out may be NULL when max is 0,
 * to count); returns 0 when the command has no keys or the line does not fit
 * its specs (numkeys not a number, a range past argc, ...), so check arity
 * first. Never returns an index >= argc. */
int cmd_getkeys_flags(
    const struct command *cmd, int argc, const arg *argv, struct cmd_keyref *out, int max);
/* Same, positions only. */
int cmd_getkeys(const struct command *cmd, int argc, const arg *argv, int *keypos, int maxkeys);

/* Nonzero if the command may have key arguments at all (some key spec not
 * marked NOT_KEY, or a getkeys function). */
int cmd_has_keys(const struct command *cmd);

/* Names as COMMAND INFO/DOCS print them, or NULL:
 *   cmd_flag_name(CMD_WRITE) = "write" (NULL for the hidden flags);
 *   cmd_acl_name(ACL_STRING) = "string" (without '@');
 *   cmd_keyflag_name(KSPEC_RW) = "RW", (KSPEC_ACCESS) = "access";
 *   cmd_docflag_name(CMD_DOC_SYSCMD) = "syscmd";
 *   cmd_group_name(GRP_SORTED_SET) = "sorted-set";
 *   cmd_argtype_name(ARGT_UNIX_TIME) = "unix-time";
 *   cmd_argflag_name(ARGF_MULTIPLE_TOKEN) = "multiple_token". */
const char *cmd_flag_name(uint64_t flag);
const char *cmd_acl_name(uint64_t cat);
const char *cmd_keyflag_name(unsigned flag);
const char *cmd_docflag_name(unsigned flag);
const char *cmd_group_name(enum cmd_group group);
const char *cmd_argtype_name(enum cmd_arg_type type);
const char *cmd_argflag_name(unsigned flag);

/* ACL category bit by name, case-insensitive, with or without a leading
 * '@'; 0 if unknown. */
uint64_t cmd_acl_from_name(const char *name, size_t len);

#endif
