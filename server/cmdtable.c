/* cmdtable.c — the const command table, its name index, counters and key
 * extraction.
 *
 * server/commands.def is included three times: once for the argument, key
 * spec, history and tip arrays (CMD_DEF_TABLES), once for the top-level rows
 * (cmd_table) and once for the subcommand rows (cmd_subtable). A container's
 * subcommands are a contiguous slice of cmd_subtable; each subcommand points
 * back at its container. Procs are weak references: a row whose C function is
 * not linked in has proc == NULL and is treated as absent everywhere.
 *
 * The name index is an open-addressing hash of top-level names (ASCII
 * case-insensitive), built once by cmdtable_init(); subcommands are found by
 * a linear scan of their container's slice (a few dozen at most). Counters
 * live in a mutable array indexed by struct command.id, so the rows stay
 * const. Key extraction follows Redis 7.0's getKeysFromCommandWithSpecs. */
#include "server/cmdtable.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Weak references: a command without C code resolves to NULL. */
#define CMD(id, parent, cid, name, fullname, proc, ...) cmd_proc proc __attribute__((weak));
#define SUBCMD                                          CMD
#include "server/commands.def"
#undef CMD
#undef SUBCMD

static int set_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max);
static int bitfield_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max);
static int sort_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max);
static int sort_ro_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max);

/* Tentative definitions: rows of each array point into the other. */
static const struct command cmd_table[CMD_DEF_NTOP];
static const struct command cmd_subtable[CMD_DEF_NSUB > 0 ? CMD_DEF_NSUB : 1];

#define CMD_DEF_TABLES
#define CMD(...)
#define SUBCMD(...)
#include "server/commands.def"
#undef CMD
#undef SUBCMD
#undef CMD_DEF_TABLES

#define ROW(parent_ptr, id_, parent_, cid_, name_, fullname_, proc_, arity_, flags_, first_,       \
            last_, step_, acl_, group_, since_, summary_, complexity_, doc_flags_, depr_, repl_,   \
            args_, nargs_, ks_, nks_, hist_, nhist_, tips_, ntips_, sub_first_, nsub_, getkeys_)   \
    {.name = (name_),                                                                              \
     .fullname = (fullname_),                                                                      \
     .proc = (proc_),                                                                              \
     .arity = (arity_),                                                                            \
     .flags = (flags_),                                                                            \
     .firstkey = (first_),                                                                         \
     .lastkey = (last_),                                                                           \
     .keystep = (step_),                                                                           \
     .acl = (acl_),                                                                                \
     .group = (group_),                                                                            \
     .since = (since_),                                                                            \
     .summary = (summary_),                                                                        \
     .complexity = (complexity_),                                                                  \
     .doc_flags = (doc_flags_),                                                                    \
     .deprecated_since = (depr_),                                                                  \
     .replaced_by = (repl_),                                                                       \
     .args = (args_),                                                                              \
     .nargs = (nargs_),                                                                            \
     .keyspecs = (ks_),                                                                            \
     .nkeyspecs = (nks_),                                                                          \
     .history = (hist_),                                                                           \
     .nhistory = (nhist_),                                                                         \
     .tips = (tips_),                                                                              \
     .ntips = (ntips_),                                                                            \
     .subcmds = cmd_subtable + (sub_first_),                                                       \
     .nsubcmds = (nsub_),                                                                          \
     .parent = (parent_ptr),                                                                       \
     .getkeys = (getkeys_),                                                                        \
     .id = (id_)},

static const struct command cmd_table[CMD_DEF_NTOP] = {
#define CMD(...) ROW(NULL, __VA_ARGS__)
#define SUBCMD(...)
#include "server/commands.def"
#undef CMD
#undef SUBCMD
};

static const struct command cmd_subtable[CMD_DEF_NSUB > 0 ? CMD_DEF_NSUB : 1] = {
#define CMD(...)
#define SUBCMD(id_, parent_, ...) ROW(cmd_table + (parent_), id_, parent_, __VA_ARGS__)
#include "server/commands.def"
#undef CMD
#undef SUBCMD
};

#undef ROW

/* ---------------------------------------------------------------- index */

#define INDEX_SIZE 512 /* power of two, at least twice CMD_DEF_NTOP */
_Static_assert(INDEX_SIZE >= 2 * CMD_DEF_NTOP, "grow INDEX_SIZE");

static short name_index[INDEX_SIZE];                 /* top-level row + 1, 0 = empty */
static const struct command *all_order[CMD_NUM_IDS]; /* containers before their subcommands */
static size_t visible_top;
static int initialized;
static struct cmd_stats stats[CMD_NUM_IDS];

static unsigned char lower(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch + ('a' - 'A')) : ch;
}

static uint32_t hash_name(const char *s, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a over the lower-cased bytes */
    for (size_t i = 0; i < len; i++) {
        h ^= lower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

/* `name` is a lower-case NUL-terminated table name; s[0..len) is user input. */
static int name_eq(const char *name, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '\0' || name[i] != (char)lower((unsigned char)s[i])) return 0;
    }
    return name[len] == '\0';
}

void cmdtable_init(void) {
    if (initialized) return;
    size_t n = 0;
    memset(name_index, 0, sizeof(name_index));
    visible_top = 0;
    for (int i = 0; i < CMD_DEF_NTOP; i++) {
        const struct command *c = &cmd_table[i];
        uint32_t h = hash_name(c->name, strlen(c->name)) & (INDEX_SIZE - 1);
        while (name_index[h]) h = (h + 1) & (INDEX_SIZE - 1);
        name_index[h] = (short)(i + 1);
        if (cmd_is_implemented(c)) visible_top++;
        all_order[n++] = c;
        for (int j = 0; j < c->nsubcmds; j++) all_order[n++] = &c->subcmds[j];
    }
    initialized = 1;
}

static const struct command *lookup_row(const char *name, size_t len) {
    if (!initialized) cmdtable_init();
    uint32_t h = hash_name(name, len) & (INDEX_SIZE - 1);
    while (name_index[h]) {
        const struct command *c = &cmd_table[name_index[h] - 1];
        if (name_eq(c->name, name, len)) return c;
        h = (h + 1) & (INDEX_SIZE - 1);
    }
    return NULL;
}

static const struct command *
lookup_sub(const struct command *container, const char *name, size_t len) {
    for (int i = 0; i < container->nsubcmds; i++) {
        const struct command *s = &container->subcmds[i];
        if (name_eq(s->name, name, len)) return cmd_is_implemented(s) ? s : NULL;
    }
    return NULL;
}

int cmd_is_implemented(const struct command *cmd) {
    if (cmd == NULL || cmd->proc == NULL) return 0;
    return cmd->parent == NULL || cmd->parent->proc != NULL;
}

const struct command *cmd_lookup(const char *name, size_t len) {
    const struct command *c = lookup_row(name, len);
    return cmd_is_implemented(c) ? c : NULL;
}

const struct command *cmd_lookup_argv(int argc, const arg *argv) {
    if (argc < 1) return NULL;
    const struct command *base = cmd_lookup(argv[0].p, argv[0].len);
    if (base && argc >= 2 && base->nsubcmds > 0) {
        const struct command *sub = lookup_sub(base, argv[1].p, argv[1].len);
        if (sub) return sub;
    }
    return base;
}

const struct command *cmd_lookup_fullname(const char *name, size_t len) {
    const char *bar = memchr(name, '|', len);
    if (bar == NULL) return cmd_lookup(name, len);
    size_t blen = (size_t)(bar - name);
    const char *sub = bar + 1;
    size_t slen = len - blen - 1;
    if (memchr(sub, '|', slen) != NULL) return NULL; /* one level of subcommands only */
    const struct command *base = cmd_lookup(name, blen);
    return base ? lookup_sub(base, sub, slen) : NULL;
}

const struct command *cmd_by_id(int id) {
    if (id < 0 || id >= CMD_NUM_IDS) return NULL;
    return id < CMD_DEF_NTOP ? &cmd_table[id] : &cmd_subtable[id - CMD_DEF_NTOP];
}

const char *cmd_fullname(const struct command *cmd, char *out, size_t cap) {
    if (cap == 0) return out;
    size_t n = strlen(cmd->fullname);
    if (n >= cap) n = cap - 1;
    memcpy(out, cmd->fullname, n);
    out[n] = '\0';
    return out;
}

int cmd_arity_ok(const struct command *cmd, int argc) {
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

/* ---------------------------------------------------------------- iteration */

const struct command *cmd_top_next(size_t *it) {
    while (*it < CMD_DEF_NTOP) {
        const struct command *c = &cmd_table[(*it)++];
        if (cmd_is_implemented(c)) return c;
    }
    return NULL;
}

const struct command *cmd_all_next(size_t *it) {
    if (!initialized) cmdtable_init();
    while (*it < CMD_NUM_IDS) {
        const struct command *c = all_order[(*it)++];
        if (cmd_is_implemented(c)) return c;
    }
    return NULL;
}

const struct command *cmd_sub_next(const struct command *container, size_t *it) {
    while (*it < (size_t)container->nsubcmds) {
        const struct command *c = &container->subcmds[(*it)++];
        if (cmd_is_implemented(c)) return c;
    }
    return NULL;
}

size_t cmd_count_top(void) {
    if (!initialized) cmdtable_init();
    return visible_top;
}

size_t cmd_count_sub(const struct command *container) {
    size_t it = 0, n = 0;
    while (cmd_sub_next(container, &it)) n++;
    return n;
}

/* ---------------------------------------------------------------- stats */

struct cmd_stats *cmd_stats(const struct command *cmd) {
    return &stats[cmd->id];
}

void cmd_stats_reset(void) {
    memset(stats, 0, sizeof(stats));
}

/* ---------------------------------------------------------------- keys */

static int arg_is(const arg *a, const char *word) {
    size_t n = strlen(word);
    return a->len == n && strncasecmp(a->p, word, n) == 0;
}

/* Strict decimal parse, as Redis's string2ll: no spaces, no '+', no leading
 * zeros. Returns 1 on success. */
static int parse_ll(const char *s, size_t len, long long *out) {
    size_t i = 0;
    int neg = 0;
    unsigned long long v = 0;
    if (len == 0 || len > 20) return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1) return 0;
    }
    if (s[i] < '1' || s[i] > '9') return 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *out = (long long)v;
    }
    return 1;
}

static void put_key(struct cmd_keyref *out, int max, int *n, int pos, unsigned flags) {
    if (*n < max) {
        out[*n].pos = pos;
        out[*n].flags = flags;
    }
    (*n)++;
}

/* Keys from the specs alone; -1 if a spec cannot be resolved for this argv
 * (unknown kind, unparsable numkeys, range out of bounds, incomplete). */
static int keys_from_specs(
    const struct command *cmd, int argc, const arg *argv, struct cmd_keyref *out, int max) {
    int n = 0;
    for (int j = 0; j < cmd->nkeyspecs; j++) {
        const struct cmd_keyspec *ks = &cmd->keyspecs[j];
        int first = 0, last, step;
        if (ks->flags & KSPEC_NOT_KEY) continue;

        if (ks->bs == KSPEC_BS_INDEX) {
            first = ks->bs_pos;
        } else if (ks->bs == KSPEC_BS_KEYWORD) {
            int start = ks->bs_startfrom > 0 ? ks->bs_startfrom : argc + ks->bs_startfrom;
            int end = ks->bs_startfrom > 0 ? argc - 1 : 1;
            for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
                if (i >= argc || i < 1) break;
                if (arg_is(&argv[i], ks->bs_keyword)) {
                    first = i + 1;
                    break;
                }
            }
            if (!first) continue; /* keyword absent: this spec has no keys */
        } else {
            return -1;
        }

        if (ks->fk == KSPEC_FK_RANGE) {
            step = ks->fk_step;
            if (ks->fk_lastkey >= 0)
                last = first + ks->fk_lastkey;
            else if (!ks->fk_limit)
                last = argc + ks->fk_lastkey;
            else
                last = first + ((argc - first) / ks->fk_limit + ks->fk_lastkey);
        } else if (ks->fk == KSPEC_FK_KEYNUM) {
            long long numkeys;
            int idx = first + ks->fk_keynumidx;
            step = ks->fk_step;
            if (idx >= argc) return -1;
            if (!parse_ll(argv[idx].p, argv[idx].len, &numkeys) || numkeys < 0 ||
                numkeys > INT_MAX / 2)
                return -1;
            first += ks->fk_firstkey;
            last = first + (int)numkeys - 1;
        } else {
            return -1;
        }

        if (last >= argc || last < first || first >= argc) return -1;
        for (int i = first; i <= last; i += step) put_key(out, max, &n, i, ks->flags);
        if (ks->flags & KSPEC_INCOMPLETE) return -1;
    }
    return n;
}

int cmd_has_keys(const struct command *cmd) {
    if (cmd->getkeys) return 1;
    for (int j = 0; j < cmd->nkeyspecs; j++)
        if (!(cmd->keyspecs[j].flags & KSPEC_NOT_KEY)) return 1;
    return 0;
}

int cmd_getkeys_flags(
    const struct command *cmd, int argc, const arg *argv, struct cmd_keyref *out, int max) {
    int has_keyspec = 0, has_varflags = 0;
    for (int j = 0; j < cmd->nkeyspecs; j++) {
        if (!(cmd->keyspecs[j].flags & KSPEC_NOT_KEY)) has_keyspec = 1;
        if (cmd->keyspecs[j].flags & KSPEC_VARIABLE_FLAGS) has_varflags = 1;
    }
    /* Specs first, when their flags can be trusted; else the command's own
     * function, which knows the options that change the access flags. */
    if (has_keyspec && !has_varflags) {
        int n = keys_from_specs(cmd, argc, argv, out, max);
        if (n >= 0) return n;
    }
    if (cmd->getkeys) return cmd->getkeys(argc, argv, out, max);
    return 0;
}

int cmd_getkeys(const struct command *cmd, int argc, const arg *argv, int *keypos, int maxkeys) {
    struct cmd_keyref small[16], *refs = small;
    int n = cmd_getkeys_flags(cmd, argc, argv, small, 16);
    if (n > 16 && maxkeys > 16) {
        /* Many keys (MSET, DEL k1 ... k100): search again with room for all. */
        refs = malloc((size_t)n * sizeof(*refs));
        if (refs == NULL) abort(); /* like buf.h: no way to go on without memory */
        n = cmd_getkeys_flags(cmd, argc, argv, refs, n);
    }
    for (int i = 0; i < n && i < maxkeys; i++) keypos[i] = refs[i].pos;
    if (refs != small) free(refs);
    return n;
}

/* SET key value [... GET ...]: with GET the old value is read. */
static int set_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max) {
    unsigned flags = KSPEC_OW | KSPEC_UPDATE;
    if (argc < 2) return 0;
    for (int i = 3; i < argc; i++) {
        if (arg_is(&argv[i], "get")) {
            flags = KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE;
            break;
        }
    }
    int n = 0;
    put_key(out, max, &n, 1, flags);
    return n;
}

/* BITFIELD key [GET ...|SET ...|INCRBY ...|OVERFLOW ...]...: read-only when
 * every operation is a GET (or OVERFLOW); anything else, including a syntax
 * error, is treated as a write. */
static int bitfield_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max) {
    int readonly = 1;
    if (argc < 2) return 0;
    for (int i = 2; i < argc; i++) {
        int remargs = argc - i - 1;
        if (arg_is(&argv[i], "get") && remargs >= 2) {
            i += 2;
        } else if (arg_is(&argv[i], "overflow") && remargs >= 1) {
            i += 1;
        } else {
            readonly = 0; /* SET, INCRBY, or a syntax error: assume a write */
            break;
        }
    }
    int n = 0;
    put_key(out, max, &n, 1, readonly ? KSPEC_RO | KSPEC_ACCESS : KSPEC_RW | KSPEC_ACCESS | KSPEC_UPDATE);
    return n;
}

/* SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dst]:
 * the specs cannot say where STORE's key is (patterns and options come in
 * any order), so the options are walked as SORT parses them; the last
 * STORE wins, like SORT itself. */
static int sort_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max) {
    if (argc < 2) return 0;
    int n = 0, store = 0;
    put_key(out, max, &n, 1, KSPEC_RO | KSPEC_ACCESS);
    for (int i = 2; i < argc; i++) {
        if (arg_is(&argv[i], "limit")) i += 2;
        else if (arg_is(&argv[i], "get") || arg_is(&argv[i], "by")) i += 1;
        else if (arg_is(&argv[i], "store") && i + 1 < argc) store = ++i;
    }
    if (store) put_key(out, max, &n, store, KSPEC_OW | KSPEC_UPDATE);
    return n;
}

/* SORT_RO key ...: only the sorted key (its BY/GET patterns are not keys
 * that can be found from the arguments). */
static int sort_ro_getkeys(int argc, const arg *argv, struct cmd_keyref *out, int max) {
    (void)argv;
    int n = 0;
    if (argc >= 2) put_key(out, max, &n, 1, KSPEC_RO | KSPEC_ACCESS);
    return n;
}

/* ---------------------------------------------------------------- names */

static const char *const flag_names[] = {
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    NULL /* may_replicate */,
    NULL /* sentinel */,
    NULL /* only_sentinel */,
    "no_mandatory_keys",
    NULL /* protected */,
    NULL /* module_getkeys */,
    NULL /* module_no_cluster */,
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
};
static const char *const acl_names[ACL_NUM_CATEGORIES] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting",
};
static const char *const keyflag_names[KSPEC_NUM_FLAGS] = {
    "RO",     "RW",     "OW",      "RM",         "access",         "update",
    "insert", "delete", "not_key", "incomplete", "variable_flags",
};
static const char *const group_names[] = {
    "generic", "string",       "list",       "set",    "sorted-set", "hash",
    "pubsub",  "transactions", "connection", "server", "scripting",  "hyperloglog",
    "cluster", "sentinel",     "geo",        "stream", "bitmap",     "module",
};
static const char *const argtype_names[] = {
    "string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block",
};

/* Index of the single set bit, or -1 if flag is zero or has several bits. */
static int bit_index(uint64_t flag) {
    if (flag == 0 || (flag & (flag - 1)) != 0) return -1;
    int i = 0;
    while (!(flag & 1)) {
        flag >>= 1;
        i++;
    }
    return i;
}

const char *cmd_flag_name(uint64_t flag) {
    int i = bit_index(flag);
    return i >= 0 && i < (int)(sizeof(flag_names) / sizeof(flag_names[0])) ? flag_names[i] : NULL;
}

const char *cmd_acl_name(uint64_t cat) {
    int i = bit_index(cat);
    return i >= 0 && i < ACL_NUM_CATEGORIES ? acl_names[i] : NULL;
}

const char *cmd_keyflag_name(unsigned flag) {
    int i = bit_index(flag);
    return i >= 0 && i < KSPEC_NUM_FLAGS ? keyflag_names[i] : NULL;
}

const char *cmd_docflag_name(unsigned flag) {
    if (flag == CMD_DOC_DEPRECATED) return "deprecated";
    if (flag == CMD_DOC_SYSCMD) return "syscmd";
    return NULL;
}

const char *cmd_group_name(enum cmd_group group) {
    unsigned g = (unsigned)group;
    return g < sizeof(group_names) / sizeof(group_names[0]) ? group_names[g] : NULL;
}

const char *cmd_argtype_name(enum cmd_arg_type type) {
    unsigned t = (unsigned)type;
    return t < sizeof(argtype_names) / sizeof(argtype_names[0]) ? argtype_names[t] : NULL;
}

const char *cmd_argflag_name(unsigned flag) {
    if (flag == ARGF_OPTIONAL) return "optional";
    if (flag == ARGF_MULTIPLE) return "multiple";
    if (flag == ARGF_MULTIPLE_TOKEN) return "multiple_token";
    return NULL;
}

uint64_t cmd_acl_from_name(const char *name, size_t len) {
    for (int i = 0; i < ACL_NUM_CATEGORIES; i++) {
        if (strlen(acl_names[i]) == len && strncasecmp(acl_names[i], name, len) == 0)
            return 1ULL << i;
    }
    return 0;
}
