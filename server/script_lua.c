/* script_lua.c — the Lua 5.1 engine behind EVAL / EVALSHA / SCRIPT.
 *
 * One interpreter lives for the server's life (SCRIPT FLUSH replaces it).
 * A script body is compiled once as a chunk named "@user_script" and kept in
 * the registry under its SHA1. Scripts see their globals through a proxy
 * table: reading a missing global or creating one is an error (Redis 7's
 * global protection). redis.call / redis.pcall run commands through one fake
 * client; its RESP reply bytes are parsed back into Lua values, and the
 * script's result is turned into a reply with Redis's conversion rules.
 * A script runs to completion inside one command, hence inside one tick and
 * one WAL record: atomic in memory and across crashes.
 * Libraries: base (without loadfile/dofile), table, string, math (with
 * Redis's deterministic random), debug, bit, cjson (cJSON for decoding),
 * cmsgpack (lua_cmsgpack.c), struct (lua_struct.c). Not here: the script
 * debugger.
 *
 * Time limit: a count hook runs every HOOK_INSTRUCTIONS VM instructions.
 * Once a script (or function) has run for busy-reply-threshold ms it is
 * "busy": each hook call then runs one non-blocking pass of the event loop
 * (server_busy_events), where other clients get -BUSY except for the few
 * commands allowed meanwhile (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE,
 * MULTI, ...). SCRIPT/FUNCTION KILL only marks the run; the hook then raises
 * the kill error, and from then on fires on every line so that pcall cannot
 * swallow it. A script that has called a write command cannot be killed:
 * its writes are half done and only SHUTDOWN NOSAVE (which never commits the
 * tick's WAL batch) undoes them. */
#include "server/script_lua.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "server/cmdtable.h"
#include "server/lua_cmsgpack.h"
#include "server/lua_struct.h"
#include "server/config.h"
#include "server/maxmemory.h"
#include "server/reply.h"
#include "server/server.h"

static lua_State *L;
static client *fake;
static int lua_resp = 2;     /* redis.setresp() of the running script */
static int running;

#define HOOK_INSTRUCTIONS 100000

/* The running script or function, for the time limit and KILL. */
static struct {
    client *caller;
    const char *name; /* the script's sha or the function's name */
    int is_eval;
    int64_t start_ms;
    int timedout, killed;
    int tick_dirty; /* the tick wrote before the script began */
} run;
static int run_readonly;     /* EVAL_RO, or a no-writes shebang */
static uint64_t rand_x = 0x1234ABCD330EULL; /* rand48 state: not reset between scripts */
static buf jbuf;             /* cjson.encode output */
/* The script cache, for INFO: entries and bytes (body + sha; the compiled
 * functions are in the VM's heap, counted by Lua). */
static long long cached_scripts, cached_bytes;

#define SCRIPT_FLAG_SHEBANG   1
#define SCRIPT_FLAG_NO_WRITES 2 /* == SCRIPT_DECLARED_NO_WRITES */
#define SCRIPT_FLAG_ALLOW_OOM 4 /* == SCRIPT_DECLARED_ALLOW_OOM */

/* ---------------------------------------------------------------- SHA1 */

typedef struct {
    uint32_t h[5];
    uint64_t n;
    uint8_t blk[64];
    size_t used;
} sha1_ctx;

static uint32_t rol32(uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
}

static void sha1_block(sha1_ctx *s, const uint8_t *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        else f = b ^ c ^ d, k = 0xCA62C1D6;
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rol32(b, 30), b = a, a = t;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

static void sha1_update(sha1_ctx *s, const uint8_t *p, size_t len) {
    s->n += len;
    while (len) {
        size_t take = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->blk + s->used, p, take);
        s->used += take, p += take, len -= take;
        if (s->used == 64) {
            sha1_block(s, s->blk);
            s->used = 0;
        }
    }
}

void script_sha1_hex(const void *p, size_t len, char out[41]) {
    sha1_ctx s = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, 0, {0}, 0};
    sha1_update(&s, p, len);
    uint64_t bits = s.n * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    sha1_update(&s, &pad, 1);
    while (s.used != 56) sha1_update(&s, &zero, 1);
    for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(&s, lenb, 8);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        uint8_t b = (uint8_t)(s.h[i / 4] >> (24 - 8 * (i % 4)));
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[40] = '\0';
}

/* ------------------------------------------------------------ helpers */

/* Redis's visible marker on the error table of a command a script called:
 * the error is in INFO errorstats already, so the script's reply of it is
 * not counted again. */
#define COUNTED_FIELD "ignore_error_stats_update"

static void mark_counted(lua_State *Ls) {
    lua_pushboolean(Ls, 1);
    lua_setfield(Ls, -2, COUNTED_FIELD);
}

static int is_counted(lua_State *Ls, int idx) {
    lua_getfield(Ls, idx, COUNTED_FIELD);
    int v = lua_toboolean(Ls, -1);
    lua_pop(Ls, 1);
    return v;
}

/* Reply a script's error text ("-CODE msg"): counted in INFO unless it
 * came from a command the script called, which still fails the script's
 * command, as Redis does. */
static void reply_script_error(client *c, const char *text, int counted) {
    if (!counted) {
        reply_error(c, text);
        return;
    }
    reply_error_counted_before(c, text);
    if (c->cmd) cmd_stats(c->cmd)->failed_calls++;
}

/* Raise {err = "ERR <msg>"} (no position prefix, as Redis's lib errors). */
static int raise_err(lua_State *Ls, const char *msg) {
    lua_newtable(Ls);
    lua_pushfstring(Ls, "ERR %s", msg);
    lua_setfield(Ls, -2, "err");
    return lua_error(Ls);
}

/* (long long)d with x86's answer for NaN and out-of-range values, without
 * the undefined behaviour. */
static long long num_to_ll(double d) {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return INT64_MIN;
    return (long long)d;
}

static void push_tostring(lua_State *Ls, int idx) {
    switch (lua_type(Ls, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
        lua_pushvalue(Ls, idx);
        lua_tostring(Ls, -1);
        break;
    case LUA_TNIL: lua_pushliteral(Ls, "nil"); break;
    case LUA_TBOOLEAN: lua_pushstring(Ls, lua_toboolean(Ls, idx) ? "true" : "false"); break;
    default:
        lua_pushfstring(Ls, "%s: %p", luaL_typename(Ls, idx), lua_topointer(Ls, idx));
    }
}

/* ------------------------------------------------- RESP bytes -> Lua */

static const char *line_end(const char *p, const char *end) {
    const char *e = memchr(p, '\r', (size_t)(end - p));
    return e ? e : end;
}

static long long parse_len(const char *p, const char *e) {
    long long v = 0;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    while (p < e && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    return neg ? -v : v;
}

/* Push the value encoded at p; return the position after it. */
static const char *resp_to_lua(lua_State *Ls, const char *p, const char *end) {
    if (p >= end) {
        lua_pushboolean(Ls, 0);
        return end;
    }
    lua_checkstack(Ls, 5);
    char t = *p++;
    const char *e = line_end(p, end);
    const char *next = e + 2 <= end ? e + 2 : end;
    switch (t) {
    case ':': lua_pushnumber(Ls, (lua_Number)parse_len(p, e)); return next;
    case '+':
        lua_newtable(Ls);
        lua_pushlstring(Ls, p, (size_t)(e - p));
        lua_setfield(Ls, -2, "ok");
        return next;
    case '-':
        lua_newtable(Ls);
        lua_pushlstring(Ls, p, (size_t)(e - p));
        lua_setfield(Ls, -2, "err");
        mark_counted(Ls);
        return next;
    case '$':
    case '=': {
        long long n = parse_len(p, e);
        if (n < 0) {
            lua_pushboolean(Ls, 0);
            return next;
        }
        if (next + n > end) n = end - next;
        if (t == '$') {
            lua_pushlstring(Ls, next, (size_t)n);
        } else {
            lua_newtable(Ls);
            lua_newtable(Ls);
            lua_pushlstring(Ls, next, n >= 3 ? 3 : (size_t)n);
            lua_setfield(Ls, -2, "format");
            lua_pushlstring(Ls, next + (n >= 4 ? 4 : n), (size_t)(n >= 4 ? n - 4 : 0));
            lua_setfield(Ls, -2, "string");
            lua_setfield(Ls, -2, "verbatim_string");
        }
        next += n;
        return next + 2 <= end ? next + 2 : end;
    }
    case '*':
    case '>':
    case '~':
    case '%': {
        long long n = parse_len(p, e);
        if (n < 0) {
            lua_pushboolean(Ls, 0);
            return next;
        }
        lua_newtable(Ls);
        if (t == '~' || t == '%') lua_newtable(Ls);
        for (long long i = 0; i < n; i++) {
            if (t == '%') {
                next = resp_to_lua(Ls, next, end);
                next = resp_to_lua(Ls, next, end);
                lua_settable(Ls, -3);
            } else if (t == '~') {
                next = resp_to_lua(Ls, next, end);
                lua_pushboolean(Ls, 1);
                lua_settable(Ls, -3);
            } else {
                lua_pushnumber(Ls, (lua_Number)(i + 1));
                next = resp_to_lua(Ls, next, end);
                lua_settable(Ls, -3);
            }
        }
        if (t == '~') lua_setfield(Ls, -2, "set");
        if (t == '%') lua_setfield(Ls, -2, "map");
        return next;
    }
    case '_': lua_pushnil(Ls); return next;
    case '#': lua_pushboolean(Ls, p < e && *p == 't'); return next;
    case ',': {
        char tmp[64];
        size_t n = (size_t)(e - p) < sizeof tmp - 1 ? (size_t)(e - p) : sizeof tmp - 1;
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        lua_newtable(Ls);
        lua_pushnumber(Ls, strtod(tmp, NULL));
        lua_setfield(Ls, -2, "double");
        return next;
    }
    case '(':
        lua_newtable(Ls);
        lua_pushlstring(Ls, p, (size_t)(e - p));
        lua_setfield(Ls, -2, "big_number");
        return next;
    case '|': { /* attribute: skip it, then the value it decorates */
        long long n = parse_len(p, e);
        for (long long i = 0; i < 2 * n; i++) {
            next = resp_to_lua(Ls, next, end);
            lua_pop(Ls, 1);
        }
        return resp_to_lua(Ls, next, end);
    }
    default: lua_pushboolean(Ls, 0); return end;
    }
}

/* ------------------------------------------------- Lua -> reply */

static void reply_sanitized_status(client *c, const char *s, size_t len) {
    char *tmp = malloc(len + 1);
    for (size_t i = 0; i < len; i++) tmp[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    reply_status_len(c, tmp, len);
    free(tmp);
}

static void lua_to_reply(client *c, lua_State *Ls, int depth);

static int table_field_type(lua_State *Ls, const char *name) {
    lua_pushstring(Ls, name);
    lua_rawget(Ls, -2);
    return lua_type(Ls, -1); /* value left on the stack */
}

static void lua_table_to_reply(client *c, lua_State *Ls, int depth) {
    if (!lua_checkstack(Ls, 4) || depth > 1000) {
        reply_error(c, "reached lua stack limit");
        return;
    }
    int t = table_field_type(Ls, "err");
    if (t == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(Ls, -1, &n);
        char *tmp = malloc(n + 2);
        tmp[0] = '-';
        memcpy(tmp + 1, s, n);
        tmp[n + 1] = '\0';
        reply_script_error(c, tmp, is_counted(Ls, -2));
        free(tmp);
        lua_pop(Ls, 1);
        return;
    }
    lua_pop(Ls, 1);
    if (table_field_type(Ls, "ok") == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(Ls, -1, &n);
        reply_sanitized_status(c, s, n);
        lua_pop(Ls, 1);
        return;
    }
    lua_pop(Ls, 1);
    if (table_field_type(Ls, "double") == LUA_TNUMBER) {
        reply_double(c, lua_tonumber(Ls, -1));
        lua_pop(Ls, 1);
        return;
    }
    lua_pop(Ls, 1);
    if (table_field_type(Ls, "big_number") == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(Ls, -1, &n);
        char *tmp = malloc(n + 1);
        for (size_t i = 0; i < n; i++) tmp[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
        reply_bignum(c, tmp, n);
        free(tmp);
        lua_pop(Ls, 1);
        return;
    }
    lua_pop(Ls, 1);
    if (table_field_type(Ls, "map") == LUA_TTABLE) {
        reply_deferred h = reply_defer_len(c);
        long long n = 0;
        lua_pushnil(Ls);
        while (lua_next(Ls, -2)) {
            lua_pushvalue(Ls, -2);
            lua_to_reply(c, Ls, depth + 1);
            lua_pop(Ls, 1);
            lua_to_reply(c, Ls, depth + 1);
            lua_pop(Ls, 1);
            n++;
        }
        reply_set_deferred_len(c, h, n, REPLY_MAP);
        lua_pop(Ls, 1);
        return;
    }
    lua_pop(Ls, 1);
    if (table_field_type(Ls, "set") == LUA_TTABLE) {
        reply_deferred h = reply_defer_len(c);
        long long n = 0;
        lua_pushnil(Ls);
        while (lua_next(Ls, -2)) {
            lua_pop(Ls, 1);
            lua_pushvalue(Ls, -1);
            lua_to_reply(c, Ls, depth + 1);
            lua_pop(Ls, 1);
            n++;
        }
        reply_set_deferred_len(c, h, n, REPLY_SET);
        lua_pop(Ls, 1);
        return;
    }
    lua_pop(Ls, 1);
    if (table_field_type(Ls, "verbatim_string") == LUA_TTABLE) {
        lua_getfield(Ls, -1, "format");
        lua_getfield(Ls, -2, "string");
        if (lua_type(Ls, -2) == LUA_TSTRING && lua_type(Ls, -1) == LUA_TSTRING) {
            size_t n;
            const char *s = lua_tolstring(Ls, -1, &n);
            char fmt[4] = {0};
            strncpy(fmt, lua_tostring(Ls, -2), 3);
            reply_verbatim(c, s, n, fmt);
            lua_pop(Ls, 3);
            return;
        }
        lua_pop(Ls, 2);
    }
    lua_pop(Ls, 1);
    /* An array, up to the first nil. */
    reply_deferred h = reply_defer_len(c);
    long long n = 0;
    for (;;) {
        lua_rawgeti(Ls, -1, (int)(n + 1));
        if (lua_isnil(Ls, -1)) {
            lua_pop(Ls, 1);
            break;
        }
        lua_to_reply(c, Ls, depth + 1);
        lua_pop(Ls, 1);
        n++;
    }
    reply_set_deferred_len(c, h, n, REPLY_ARRAY);
}

/* Reply the value on top of the stack (left there). */
static void lua_to_reply(client *c, lua_State *Ls, int depth) {
    switch (lua_type(Ls, -1)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(Ls, -1, &n);
        reply_bulk(c, s, n);
        break;
    }
    case LUA_TBOOLEAN:
        if (lua_resp == 2) {
            if (lua_toboolean(Ls, -1)) reply_int(c, 1);
            else reply_null(c);
        } else {
            reply_bool(c, lua_toboolean(Ls, -1));
        }
        break;
    case LUA_TNUMBER: reply_int(c, num_to_ll(lua_tonumber(Ls, -1))); break;
    case LUA_TTABLE: lua_table_to_reply(c, Ls, depth); break;
    default: reply_null(c);
    }
}

/* ------------------------------------------------- the redis table */

static arg *call_argv;
static int call_argv_cap;
static buf call_bytes;
static int run_wrote;
static int run_oom; /* over maxdisk with nothing to evict when the script began */

static int redis_call_generic(lua_State *Ls, int raise) {
    int argc = lua_gettop(Ls);
    const char *err = NULL, *code = "ERR";
    int looked_up = 0;                         /* errors after the lookup are counted */
    const struct command *rejected = NULL;     /* ... and its rejected_calls */
    if (argc == 0) err = "Please specify at least one argument for this redis lib call";
    for (int i = 1; !err && i <= argc; i++) {
        int t = lua_type(Ls, i);
        if (t != LUA_TSTRING && t != LUA_TNUMBER)
            err = "Lua redis lib command arguments must be strings or integers";
        if (t == LUA_TNUMBER) {
            /* 17 digits as Redis (Lua's own tostring keeps 14): 2^53-1 stays exact. */
            char nb[64];
            snprintf(nb, sizeof nb, "%.17g", (double)lua_tonumber(Ls, i));
            lua_pushstring(Ls, nb);
            lua_replace(Ls, i);
        }
    }
    if (!err) {
        if (argc > call_argv_cap) {
            call_argv_cap = argc * 2;
            call_argv = realloc(call_argv, sizeof(arg) * (size_t)call_argv_cap);
        }
        buf_clear(&call_bytes);
        size_t total = 0;
        for (int i = 1; i <= argc; i++) {
            size_t n;
            lua_tolstring(Ls, i, &n);
            total += n + 1;
        }
        buf_reserve(&call_bytes, total); /* no reallocation below: pointers stay valid */
        for (int i = 1; i <= argc; i++) {
            size_t n;
            const char *s = lua_tolstring(Ls, i, &n);
            call_argv[i - 1].p = call_bytes.p + call_bytes.len;
            call_argv[i - 1].len = n;
            buf_append(&call_bytes, s, n);
            buf_append(&call_bytes, "", 1);
        }
        const struct command *cmd = cmd_lookup_argv(argc, call_argv);
        looked_up = 1;
        rejected = cmd;
        if (!cmd) err = "Unknown Redis command called from script";
        else if (!cmd_arity_ok(cmd, argc))
            err = "Wrong number of args calling Redis command from script";
        else if (cmd->flags & CMD_NOSCRIPT) err = "This Redis command is not allowed from script";
        else if ((cmd->flags & CMD_WRITE) && run_readonly)
            err = "Write commands are not allowed from read-only scripts.";
        else if ((cmd->flags & CMD_WRITE) && !config_enough_replicas()) {
            code = "NOREPLICAS";
            err = "Not enough good replicas to write.";
        }
        else if ((cmd->flags & CMD_DENYOOM) && !run_wrote && run_oom) {
            /* Over maxdisk when the script started: refused until its first
             * write, after which it must be let finish (Redis's rule). */
            code = "OOM";
            err = "command not allowed when used memory > 'maxmemory'.";
        }
        if (!err) {
            if (cmd->flags & CMD_WRITE) run_wrote = 1;
            arg *saved_argv = fake->argv;
            int saved_cap = fake->argv_cap;
            fake->argv = call_argv;
            fake->argc = argc;
            fake->argv_cap = call_argv_cap;
            fake->resp = lua_resp;
            buf_clear(&fake->reply);
            call_command(fake, cmd);
            fake->argv = saved_argv;
            fake->argv_cap = saved_cap;
            fake->argc = 0;
            lua_settop(Ls, 0);
            resp_to_lua(Ls, fake->reply.p, fake->reply.p + fake->reply.len);
            buf_clear(&fake->reply);
            if (raise && lua_istable(Ls, -1)) {
                lua_getfield(Ls, -1, "err");
                int is_err = lua_isstring(Ls, -1);
                lua_pop(Ls, 1);
                if (is_err) {
                    /* Keep only the err field (and the marker). */
                    lua_getfield(Ls, -1, "err");
                    lua_newtable(Ls);
                    lua_insert(Ls, -2);
                    lua_setfield(Ls, -2, "err");
                    mark_counted(Ls);
                    return lua_error(Ls);
                }
            }
            return 1;
        }
    }
    /* Refused before it ran: counted now, as Redis counts a rejected
     * command (and its rejected_calls when it is a known one). */
    lua_newtable(Ls);
    lua_pushfstring(Ls, "%s %s", code, err);
    lua_setfield(Ls, -2, "err");
    if (looked_up) {
        server_count_error(code);
        if (rejected) cmd_stats(rejected)->rejected_calls++;
        call_errors_accounted();
        mark_counted(Ls);
    }
    if (raise) return lua_error(Ls);
    return 1;
}

static int l_redis_call(lua_State *Ls) {
    return redis_call_generic(Ls, 1);
}

static int l_redis_pcall(lua_State *Ls) {
    return redis_call_generic(Ls, 0);
}

/* redis.acl_check_cmd(cmd, arg...): may the calling user run it? lodis has
 * only the default user, allowed everything (no ACL yet), so true for any
 * command that exists; an unknown one, or bad arguments, raise as in Redis. */
static int l_acl_check_cmd(lua_State *Ls) {
    int argc = lua_gettop(Ls);
    if (argc == 0) return raise_err(Ls, "Please specify at least one argument for this redis lib call");
    arg argv[2] = {{NULL, 0}, {NULL, 0}};
    for (int i = 1; i <= argc; i++) {
        int t = lua_type(Ls, i);
        if (t != LUA_TSTRING && t != LUA_TNUMBER)
            return raise_err(Ls, "Lua redis lib command arguments must be strings or integers");
        if (i <= 2) {
            size_t n;
            argv[i - 1].p = (char *)lua_tolstring(Ls, i, &n);
            argv[i - 1].len = n;
        }
    }
    /* The name and, for a container, the subcommand decide (a container
     * with an unknown subcommand is no command, as Redis's lookup says). */
    const struct command *cmd = cmd_lookup_argv(argc < 2 ? argc : 2, argv);
    if (!cmd || (argc >= 2 && cmd->nsubcmds > 0))
        return raise_err(Ls, "Invalid command passed to redis.acl_check_cmd()");
    lua_pushboolean(Ls, 1);
    return 1;
}

static int l_sha1hex(lua_State *Ls) {
    if (lua_gettop(Ls) != 1) return raise_err(Ls, "wrong number of arguments");
    size_t n;
    const char *s = lua_tolstring(Ls, 1, &n);
    char out[41];
    script_sha1_hex(s ? s : "", s ? n : 0, out);
    lua_pushstring(Ls, out);
    return 1;
}

static int l_error_reply(lua_State *Ls) {
    if (lua_gettop(Ls) != 1 || lua_type(Ls, 1) != LUA_TSTRING)
        goto bad;
    /* Redis's form: "-CODE msg" keeps its code, a text without a code
     * (or without a space after it) gets "ERR "; newlines around the
     * message go. */
    size_t n;
    const char *s = lua_tolstring(Ls, 1, &n);
    if (n && s[0] == '-') s++, n--;
    const char *sp = memchr(s, ' ', n);
    const char *msg = sp ? sp + 1 : s;
    size_t mlen = n - (size_t)(msg - s);
    while (mlen && (*msg == '\r' || *msg == '\n')) msg++, mlen--;
    while (mlen && (msg[mlen - 1] == '\r' || msg[mlen - 1] == '\n')) mlen--;
    lua_newtable(Ls);
    if (sp) lua_pushlstring(Ls, s, (size_t)(sp - s));
    else lua_pushliteral(Ls, "ERR");
    lua_pushliteral(Ls, " ");
    lua_pushlstring(Ls, msg, mlen);
    lua_concat(Ls, 3);
    lua_setfield(Ls, -2, "err");
    return 1;
bad: /* returned, not raised, as Redis does */
    lua_newtable(Ls);
    lua_pushliteral(Ls, "ERR wrong number or type of arguments");
    lua_setfield(Ls, -2, "err");
    return 1;
}

static int l_status_reply(lua_State *Ls) {
    if (lua_gettop(Ls) != 1 || lua_type(Ls, 1) != LUA_TSTRING) {
        lua_newtable(Ls);
        lua_pushliteral(Ls, "ERR wrong number or type of arguments");
        lua_setfield(Ls, -2, "err");
        return 1;
    }
    lua_newtable(Ls);
    lua_pushvalue(Ls, 1);
    lua_setfield(Ls, -2, "ok");
    return 1;
}

/* pcall that hands scripts the text of an error table ({err = ...}) rather
 * than the table, as Redis 7 does. */
/* Redis's Lua refuses precompiled chunks (string.dump output): crafted
 * bytecode can escape the sandbox. Debian's Lua 5.1 has no switch for it,
 * so loadstring and load check the first byte for the bytecode signature
 * (ESC) and answer nil plus a message, as a failed load does. */
#define BINARY_CHUNK_ERR "attempt to load a binary chunk"

/* Give the chunk just loaded (on top) the environment of the Lua function
 * that loads it, else the scripts' read-only one: by default Lua would give
 * it the real globals, where `redis = ...` would change every later
 * script. */
static void chunk_env(lua_State *Ls) {
    lua_Debug ar;
    int caller = lua_getstack(Ls, 1, &ar) && lua_getinfo(Ls, "f", &ar);
    if (caller && !lua_iscfunction(Ls, -1)) {
        lua_getfenv(Ls, -1);
        lua_remove(Ls, -2);
    } else {
        if (caller) lua_pop(Ls, 1);
        lua_getfield(Ls, LUA_REGISTRYINDEX, "lodis_env");
    }
    lua_setfenv(Ls, -2);
}

static int l_loadstring(lua_State *Ls) {
    size_t len;
    const char *s = luaL_checklstring(Ls, 1, &len);
    const char *name = luaL_optstring(Ls, 2, s);
    if (len > 0 && s[0] == '\033') {
        lua_pushnil(Ls);
        lua_pushstring(Ls, BINARY_CHUNK_ERR);
        return 2;
    }
    if (luaL_loadbuffer(Ls, s, len, name) == 0) {
        chunk_env(Ls);
        return 1;
    }
    lua_pushnil(Ls);
    lua_insert(Ls, -2);
    return 2;
}

typedef struct chunk_reader {
    int first, binary;
} chunk_reader;

/* load(f): call f for pieces until it returns nil or ""; the piece is kept
 * in stack slot 3 while Lua parses it (as Lua's own load does). */
static const char *read_piece(lua_State *Ls, void *ud, size_t *size) {
    chunk_reader *r = ud;
    luaL_checkstack(Ls, 2, "too many nested functions");
    lua_pushvalue(Ls, 1);
    lua_call(Ls, 0, 1);
    if (lua_isnil(Ls, -1)) {
        *size = 0;
        return NULL;
    }
    if (!lua_isstring(Ls, -1)) luaL_error(Ls, "reader function must return a string");
    lua_replace(Ls, 3);
    const char *p = lua_tolstring(Ls, 3, size);
    if (r->first && *size > 0) {
        r->first = 0;
        if (p[0] == '\033') {
            r->binary = 1;
            *size = 0;
            return NULL;
        }
    }
    return p;
}

static int l_load(lua_State *Ls) {
    luaL_checktype(Ls, 1, LUA_TFUNCTION);
    const char *name = luaL_optstring(Ls, 2, "=(load)");
    lua_settop(Ls, 3);
    chunk_reader r = {1, 0};
    int st = lua_load(Ls, read_piece, &r, name);
    if (st == 0 && !r.binary) {
        chunk_env(Ls);
        return 1;
    }
    if (st == 0) lua_pop(Ls, 1);
    lua_pushnil(Ls);
    if (r.binary) lua_pushstring(Ls, BINARY_CHUNK_ERR);
    else lua_insert(Ls, -2);
    return 2;
}

static int l_pcall(lua_State *Ls) {
    luaL_checkany(Ls, 1);
    int status = lua_pcall(Ls, lua_gettop(Ls) - 1, LUA_MULTRET, 0);
    if (status != 0 && lua_istable(Ls, -1)) {
        lua_getfield(Ls, -1, "err");
        if (lua_isstring(Ls, -1)) lua_replace(Ls, -2);
        else lua_pop(Ls, 1);
    }
    lua_pushboolean(Ls, status == 0);
    lua_insert(Ls, 1);
    return lua_gettop(Ls);
}

static int l_log(lua_State *Ls) {
    int argc = lua_gettop(Ls);
    if (argc < 2) return raise_err(Ls, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(Ls, 1)) return raise_err(Ls, "First argument must be a number (log level).");
    int level = (int)lua_tonumber(Ls, 1);
    if (level < 0 || level > 3) return raise_err(Ls, "Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(Ls, &b);
    for (int i = 2; i <= argc; i++) {
        if (i > 2) luaL_addchar(&b, ' ');
        size_t n;
        const char *s = lua_tolstring(Ls, i, &n);
        if (s) luaL_addlstring(&b, s, n);
    }
    luaL_pushresult(&b);
    server_log(level, "%s", lua_tostring(Ls, -1));
    return 0;
}

static int l_setresp(lua_State *Ls) {
    if (lua_gettop(Ls) != 1) return raise_err(Ls, "redis.setresp() requires one argument.");
    int v = (int)luaL_checknumber(Ls, 1);
    if (v != 2 && v != 3) return raise_err(Ls, "RESP version must be 2 or 3.");
    lua_resp = v;
    return 0;
}

static int l_set_repl(lua_State *Ls) {
    if (lua_gettop(Ls) != 1) return raise_err(Ls, "redis.set_repl() requires one argument.");
    int v = (int)luaL_checknumber(Ls, 1);
    if (v & ~3)
        return raise_err(Ls, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                             "REPL_NONE.");
    return 0;
}

static int l_true(lua_State *Ls) {
    lua_pushboolean(Ls, 1);
    return 1;
}

static int l_false(lua_State *Ls) {
    lua_pushboolean(Ls, 0);
    return 1;
}

static int l_nothing(lua_State *Ls) {
    (void)Ls;
    return 0;
}

/* ------------------------------------------------- deterministic random */

static void rand48_seed(int32_t s) {
    rand_x = ((uint64_t)(uint32_t)s << 16) | 0x330E;
}

static int32_t rand48_next(void) {
    rand_x = (0x5DEECE66DULL * rand_x + 0xB) & 0xFFFFFFFFFFFFULL;
    return (int32_t)(rand_x >> 17);
}

static int l_math_random(lua_State *Ls) {
    lua_Number r = (lua_Number)(rand48_next() % 2147483647) / (lua_Number)2147483647;
    switch (lua_gettop(Ls)) {
    case 0: lua_pushnumber(Ls, r); break;
    case 1: {
        int u = luaL_checkint(Ls, 1);
        luaL_argcheck(Ls, 1 <= u, 1, "interval is empty");
        lua_pushnumber(Ls, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(Ls, 1);
        int u = luaL_checkint(Ls, 2);
        luaL_argcheck(Ls, l <= u, 2, "interval is empty");
        lua_pushnumber(Ls, floor(r * (u - l + 1)) + l);
        break;
    }
    default: return luaL_error(Ls, "wrong number of arguments");
    }
    return 1;
}

static int l_math_randomseed(lua_State *Ls) {
    rand48_seed((int32_t)luaL_checkint(Ls, 1));
    return 0;
}

/* ------------------------------------------------- globals protection */

static int env_index(lua_State *Ls) {
    lua_pushvalue(Ls, 2);
    lua_rawget(Ls, LUA_GLOBALSINDEX);
    if (lua_isnil(Ls, -1)) {
        push_tostring(Ls, 2);
        return luaL_error(Ls, "Script attempted to access nonexistent global variable '%s'",
                          lua_tostring(Ls, -1));
    }
    return 1;
}

static int env_newindex(lua_State *Ls) {
    return luaL_error(Ls, "Attempt to modify a readonly table");
}

/* Read-only tables. Redis 7 makes the globals and every library table
 * read-only inside its Lua; stock Lua 5.1 cannot, so lodis gives scripts a
 * proxy for each library (reads fall through to the real table, writes
 * fail) and guards the ways around a metatable: setmetatable and rawset
 * refuse a protected table, getmetatable returns a read-only view. Without
 * this one script could rewrite redis.call or the globals' metatable for
 * every script after it. Protected tables are the keys of the registry's
 * weak "lodis_ro" table. Not covered: rawget and pairs see an empty proxy. */
static int is_protected(lua_State *Ls, int idx) {
    if (!lua_istable(Ls, idx)) return 0;
    lua_getfield(Ls, LUA_REGISTRYINDEX, "lodis_ro");
    lua_pushvalue(Ls, idx < 0 ? idx - 1 : idx);
    lua_rawget(Ls, -2);
    int p = lua_toboolean(Ls, -1);
    lua_pop(Ls, 2);
    return p;
}

/* Replace the __index value on top of the stack (a table, or a function)
 * with a protected read-only proxy whose reads go to it. */
static void push_readonly(lua_State *Ls) {
    lua_newtable(Ls);
    lua_newtable(Ls);
    lua_pushvalue(Ls, -3);
    lua_setfield(Ls, -2, "__index");
    lua_pushcfunction(Ls, env_newindex);
    lua_setfield(Ls, -2, "__newindex");
    lua_setmetatable(Ls, -2);
    lua_remove(Ls, -2);
    lua_getfield(Ls, LUA_REGISTRYINDEX, "lodis_ro");
    lua_pushvalue(Ls, -2);
    lua_pushboolean(Ls, 1);
    lua_rawset(Ls, -3);
    lua_pop(Ls, 1);
}

/* Call the wrapped base function (upvalue 1) with this call's arguments. */
static int call_wrapped(lua_State *Ls) {
    lua_pushvalue(Ls, lua_upvalueindex(1));
    lua_insert(Ls, 1);
    lua_call(Ls, lua_gettop(Ls) - 1, LUA_MULTRET);
    return lua_gettop(Ls);
}

/* setmetatable and rawset: refused on a protected table. */
static int l_guarded_write(lua_State *Ls) {
    if (is_protected(Ls, 1)) {
        /* Without a position, as Redis's setmetatable / rawset say it. */
        lua_pushliteral(Ls, "Attempt to modify a readonly table");
        return lua_error(Ls);
    }
    return call_wrapped(Ls);
}

/* getmetatable: a library proxy has none (Redis's libraries are plain
 * tables; its metatable would hand out the real table), the globals'
 * proxy and a protected metatable (strings') come as read-only views. */
static int l_getmetatable(lua_State *Ls) {
    lua_settop(Ls, 1);
    if (is_protected(Ls, 1) && lua_getmetatable(Ls, 1)) {
        lua_getfield(Ls, -1, "__index");
        int library = lua_istable(Ls, -1);
        lua_pop(Ls, 1);
        if (library) lua_pushnil(Ls);
        else push_readonly(Ls);
        return 1;
    }
    lua_pushvalue(Ls, lua_upvalueindex(1));
    lua_pushvalue(Ls, 1);
    lua_call(Ls, 1, 1);
    if (is_protected(Ls, -1)) push_readonly(Ls);
    return 1;
}

/* Replace the value at idx, when it is a read-only proxy, with what it
 * stands for (a library's table, or the real globals for _G's), for
 * reading only. */
static void unwrap_proxy(lua_State *Ls, int idx) {
    if (!is_protected(Ls, idx) || !lua_getmetatable(Ls, idx)) return;
    lua_getfield(Ls, -1, "__index");
    lua_remove(Ls, -2);
    if (lua_tocfunction(Ls, -1) == env_index) {
        lua_pop(Ls, 1);
        lua_pushvalue(Ls, LUA_GLOBALSINDEX);
    }
    if (lua_istable(Ls, -1)) lua_replace(Ls, idx);
    else lua_pop(Ls, 1);
}

/* next and rawget see through the proxies, so that pairs(redis) lists the
 * library as Redis's does; the proxy itself stays the loop's state, the
 * real table never reaches the script. */
static int l_see_through(lua_State *Ls) {
    if (lua_gettop(Ls) >= 1) unwrap_proxy(Ls, 1);
    return call_wrapped(Ls);
}

/* pairs(t): the wrapped next (upvalue 1), t, nil. */
static int l_pairs(lua_State *Ls) {
    luaL_checktype(Ls, 1, LUA_TTABLE);
    lua_pushvalue(Ls, lua_upvalueindex(1));
    lua_pushvalue(Ls, 1);
    lua_pushnil(Ls);
    return 3;
}

/* Strings' metatable indexes the string library: point it at the library's
 * read-only proxy and protect the metatable itself, so that neither
 * getmetatable('').__index.upper = f nor a new __index changes strings for
 * later scripts. */
static void protect_string_metatable(lua_State *Ls) {
    lua_pushliteral(Ls, "");
    if (lua_getmetatable(Ls, -1)) {
        lua_getglobal(Ls, "string");
        lua_setfield(Ls, -2, "__index");
        lua_getfield(Ls, LUA_REGISTRYINDEX, "lodis_ro");
        lua_pushvalue(Ls, -2);
        lua_pushboolean(Ls, 1);
        lua_rawset(Ls, -3);
        lua_pop(Ls, 2);
    }
    lua_pop(Ls, 1);
}

/* Wrap the base function `name` with f, the original as f's upvalue. */
static void wrap_base(lua_State *Ls, const char *name, lua_CFunction f) {
    lua_getglobal(Ls, name);
    lua_pushcclosure(Ls, f, 1);
    lua_setglobal(Ls, name);
}

static void protect_globals(lua_State *Ls) {
    lua_newtable(Ls);
    lua_newtable(Ls);
    lua_pushliteral(Ls, "k");
    lua_setfield(Ls, -2, "__mode");
    lua_setmetatable(Ls, -2);
    lua_setfield(Ls, LUA_REGISTRYINDEX, "lodis_ro");
    static const char *const libs[] = {"redis",  "cjson", "cmsgpack", "bit",       "struct",
                                       "string", "math",  "table",    "coroutine", NULL};
    for (int i = 0; libs[i]; i++) {
        lua_getglobal(Ls, libs[i]);
        if (lua_istable(Ls, -1)) {
            push_readonly(Ls);
            lua_setglobal(Ls, libs[i]);
        } else {
            lua_pop(Ls, 1);
        }
    }
    protect_string_metatable(Ls);
    wrap_base(Ls, "setmetatable", l_guarded_write);
    wrap_base(Ls, "getmetatable", l_getmetatable);
    wrap_base(Ls, "rawset", l_guarded_write);
    wrap_base(Ls, "next", l_see_through);
    wrap_base(Ls, "rawget", l_see_through);
    lua_getglobal(Ls, "next");
    lua_pushcclosure(Ls, l_pairs, 1);
    lua_setglobal(Ls, "pairs");
}

/* The error handler: make every error a table {err, source, line}. */
static int err_handler(lua_State *Ls) {
    lua_Debug ar;
    int have = 0;
    if (lua_getstack(Ls, 1, &ar)) {
        lua_getinfo(Ls, "nSl", &ar);
        have = 1;
        if (!strcmp(ar.what, "C")) {
            have = lua_getstack(Ls, 2, &ar);
            if (have) lua_getinfo(Ls, "nSl", &ar);
        }
    }
    if (!lua_istable(Ls, 1)) {
        lua_newtable(Ls);
        push_tostring(Ls, 1);
        lua_pushfstring(Ls, "ERR %s", lua_tostring(Ls, -1));
        lua_remove(Ls, -2);
        lua_setfield(Ls, -2, "err");
        lua_replace(Ls, 1);
    }
    lua_settop(Ls, 1);
    if (have) {
        lua_pushstring(Ls, ar.source);
        lua_setfield(Ls, 1, "source");
        lua_pushinteger(Ls, ar.currentline);
        lua_setfield(Ls, 1, "line");
    }
    return 1;
}

/* ------------------------------------------------- libraries (below) */

static void open_bit(lua_State *Ls);
static void open_cjson(lua_State *Ls);

static void open_lib(lua_State *Ls, const char *name, lua_CFunction f) {
    lua_pushcfunction(Ls, f);
    lua_pushstring(Ls, name);
    lua_call(Ls, 1, 0);
}

static void set_fn(lua_State *Ls, const char *name, lua_CFunction f) {
    lua_pushcfunction(Ls, f);
    lua_setfield(Ls, -2, name);
}

static void set_num(lua_State *Ls, const char *name, lua_Number v) {
    lua_pushnumber(Ls, v);
    lua_setfield(Ls, -2, name);
}

static void vm_create(void) {
    L = luaL_newstate();
    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_DBLIBNAME, luaopen_debug);
    /* Gone as in Redis: getfenv(0) / setfenv and the debug library reach
     * the real globals and the registry, past every read-only guard, so
     * one script could rewrite redis.call for all later ones. The engine
     * uses the C debug API only. */
    static const char *const removed[] = {"getfenv", "setfenv", "newproxy", "debug", NULL};
    for (int i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, l_pcall);
    lua_setglobal(L, "pcall");
    /* Redis keeps its error handler as this global; scripts can see it. */
    lua_pushcfunction(L, err_handler);
    lua_setglobal(L, "__redis__err__handler");
    lua_pushcfunction(L, l_loadstring);
    lua_setglobal(L, "loadstring");
    lua_pushcfunction(L, l_load);
    lua_setglobal(L, "load");
    lua_getglobal(L, "math");
    set_fn(L, "random", l_math_random);
    set_fn(L, "randomseed", l_math_randomseed);
    lua_pop(L, 1);
    open_bit(L);
    open_cjson(L);
    lua_open_cmsgpack(L);
    lua_open_struct(L);

    lua_newtable(L);
    set_fn(L, "call", l_redis_call);
    set_fn(L, "pcall", l_redis_pcall);
    set_fn(L, "log", l_log);
    set_fn(L, "sha1hex", l_sha1hex);
    set_fn(L, "acl_check_cmd", l_acl_check_cmd);
    set_fn(L, "error_reply", l_error_reply);
    set_fn(L, "status_reply", l_status_reply);
    set_fn(L, "setresp", l_setresp);
    set_fn(L, "set_repl", l_set_repl);
    set_fn(L, "replicate_commands", l_true);
    set_fn(L, "breakpoint", l_false);
    set_fn(L, "debug", l_nothing);
    set_num(L, "LOG_DEBUG", 0);
    set_num(L, "LOG_VERBOSE", 1);
    set_num(L, "LOG_NOTICE", 2);
    set_num(L, "LOG_WARNING", 3);
    set_num(L, "REPL_NONE", 0);
    set_num(L, "REPL_AOF", 1);
    set_num(L, "REPL_SLAVE", 2);
    set_num(L, "REPL_REPLICA", 2);
    set_num(L, "REPL_ALL", 3);
    lua_pushstring(L, LODIS_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    set_num(L, "REDIS_VERSION_NUM", (7 << 16) | (0 << 8) | 15);
    lua_setglobal(L, "redis");

    protect_globals(L);
    /* The scripts' environment: a read-only view of the globals, protected
     * like the libraries (no setmetatable(_G, ...) either). */
    lua_pushcfunction(L, env_index);
    push_readonly(L);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "_G");
    lua_setfield(L, LUA_REGISTRYINDEX, "lodis_env");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "lodis_scripts");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "lodis_flags");
}

void script_lua_init(void) {
    if (L) return;
    vm_create();
    fake = client_create_fake();
    fake->flags |= CLIENT_SCRIPT;
}

void script_lua_shutdown(void) {
    if (!L) return;
    lua_close(L);
    L = NULL;
    free(call_argv);
    call_argv = NULL;
    call_argv_cap = 0;
    buf_free(&call_bytes);
    buf_free(&jbuf);
}

void script_lua_reset(void) {
    if (!L) return;
    lua_close(L);
    vm_create();
    cached_scripts = cached_bytes = 0;
}

static int parse_shebang(client *c, const char *body, size_t len, size_t *linelen);

uint64_t script_declared_cmd_flags(uint64_t cmd_flags, int declared) {
    cmd_flags &= ~(uint64_t)(CMD_DENYOOM | CMD_WRITE);
    if (!(declared & (SCRIPT_DECLARED_NO_WRITES | SCRIPT_DECLARED_ALLOW_OOM)))
        cmd_flags |= CMD_DENYOOM;
    if (!(declared & SCRIPT_DECLARED_NO_WRITES)) cmd_flags |= CMD_WRITE;
    return cmd_flags;
}

uint64_t script_eval_cmd_flags(const client *c, uint64_t cmd_flags, int by_sha) {
    if (c->argc < 2) return cmd_flags;
    const arg *a = &c->argv[1];
    int flags = 0;
    if (by_sha) {
        if (a->len != 40 || !L) return cmd_flags;
        char sha[41];
        for (int i = 0; i < 40; i++) sha[i] = (char)tolower((unsigned char)a->p[i]);
        sha[40] = '\0';
        lua_getfield(L, LUA_REGISTRYINDEX, "lodis_flags");
        lua_getfield(L, -1, sha);
        flags = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
    } else if (a->len >= 2 && a->p[0] == '#' && a->p[1] == '!') {
        size_t ll;
        flags = parse_shebang(NULL, a->p, a->len, &ll);
        if (flags < 0) return cmd_flags; /* the command replies the error */
    }
    if (!(flags & SCRIPT_FLAG_SHEBANG)) return cmd_flags;
    return script_declared_cmd_flags(cmd_flags, flags);
}

long long script_lua_vm_bytes(lua_State *Ls) {
    return Ls ? (long long)lua_gc(Ls, LUA_GCCOUNT, 0) * 1024 + lua_gc(Ls, LUA_GCCOUNTB, 0) : 0;
}

void script_lua_mem(script_mem *m) {
    m->vm_eval = script_lua_vm_bytes(L);
    m->cached_scripts = cached_scripts;
    m->scripts_eval = cached_bytes;
}

int script_lua_running(void) {
    return running;
}

int script_lua_exists(const char *sha) {
    lua_getfield(L, LUA_REGISTRYINDEX, "lodis_scripts");
    lua_getfield(L, -1, sha);
    int ok = !lua_isnil(L, -1);
    lua_pop(L, 2);
    return ok;
}

/* Parse a "#!lua flags=a,b" first line. Returns flags, or -1 after
 * replying the error to c (c NULL: no reply). */
static int parse_shebang(client *c, const char *body, size_t len, size_t *linelen) {
    const char *nl = memchr(body, '\n', len);
    size_t n = nl ? (size_t)(nl - body) : len;
    *linelen = n;
    char *line = malloc(n + 1);
    memcpy(line, body, n);
    line[n] = '\0';
    int flags = SCRIPT_FLAG_SHEBANG;
    char *save = NULL;
    char *tok = strtok_r(line + 2, " ", &save);
    if (!tok || strcmp(tok, "lua")) {
        if (c) reply_errorf(c, "Unexpected engine in script shebang: %s", line + 2);
        free(line);
        return -1;
    }
    while ((tok = strtok_r(NULL, " ", &save))) {
        if (strncmp(tok, "flags=", 6)) {
            if (c) reply_errorf(c, "Unknown lua shebang option: %s", tok);
            free(line);
            return -1;
        }
        char *s2 = NULL;
        for (char *f = strtok_r(tok + 6, ",", &s2); f; f = strtok_r(NULL, ",", &s2)) {
            if (!strcmp(f, "no-writes")) flags |= SCRIPT_FLAG_NO_WRITES;
            else if (!strcmp(f, "allow-oom")) flags |= SCRIPT_FLAG_ALLOW_OOM;
            else if (strcmp(f, "allow-stale") && strcmp(f, "no-cluster") &&
                     strcmp(f, "allow-cross-slot-keys")) {
                if (c) reply_errorf(c, "Unexpected flag in script shebang: %s", f);
                free(line);
                return -1;
            }
        }
    }
    free(line);
    return flags;
}

int script_lua_load(client *c, const char *body, size_t len, char sha[41]) {
    script_sha1_hex(body, len, sha);
    if (script_lua_exists(sha)) return 0;
    int flags = 0;
    char *copy = NULL;
    const char *code = body;
    if (len >= 2 && body[0] == '#' && body[1] == '!') {
        size_t ll;
        flags = parse_shebang(c, body, len, &ll);
        if (flags < 0) return -1;
        copy = malloc(len);
        memcpy(copy, body, len);
        copy[0] = copy[1] = '-'; /* the line becomes a comment: line numbers stay */
        code = copy;
    }
    int rc = luaL_loadbuffer(L, code, len, "@user_script");
    free(copy);
    if (rc) {
        reply_errorf(c, "Error compiling script (new function): %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "lodis_env");
    lua_setfenv(L, -2);
    lua_getfield(L, LUA_REGISTRYINDEX, "lodis_scripts");
    lua_insert(L, -2);
    lua_setfield(L, -2, sha);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "lodis_flags");
    lua_pushinteger(L, flags);
    lua_setfield(L, -2, sha);
    lua_pop(L, 1);
    cached_scripts++;
    cached_bytes += (long long)len + 41;
    return 0;
}

/* ------------------------------------------------- time limit, KILL */

static void count_hook(lua_State *Ls, lua_Debug *ar) {
    (void)ar;
    if (!run.timedout) {
        int64_t elapsed = mstime() - run.start_ms;
        if (elapsed < cfg.lua_time_limit) return;
        server_log(3,
                   "Slow script detected: still in execution after %lld milliseconds. You can "
                   "try killing the script using the %s command. Script name is: %s.",
                   (long long)elapsed, run.is_eval ? "SCRIPT KILL" : "FUNCTION KILL", run.name);
        run.timedout = 1;
        srv.busy_script = run.is_eval ? BUSY_EVAL : BUSY_FUNCTION;
        server_busy_begin(run.caller, run.tick_dirty);
    }
    server_busy_events();
    if (run.killed) {
        server_log(3, "Lua script killed by user with SCRIPT KILL.");
        lua_sethook(Ls, count_hook, LUA_MASKLINE, 0);
        raise_err(Ls, "Script killed by user with SCRIPT KILL...");
    }
}

/* Around every script or function call. */
static void run_begin(lua_State *Ls, client *caller, const char *name, int is_eval, int readonly) {
    lua_resp = 2;
    fake->db = caller->db;
    run_readonly = readonly;
    run_wrote = 0;
    run_oom = maxdisk_oom();
    running = 1;
    run.caller = caller;
    run.name = name;
    run.is_eval = is_eval;
    run.start_ms = mstime();
    run.timedout = run.killed = 0;
    run.tick_dirty = srv.tick_writes != 0;
    lua_sethook(Ls, count_hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
}

static void run_end(lua_State *Ls) {
    lua_sethook(Ls, NULL, 0, 0);
    running = 0;
    if (run.timedout) {
        srv.busy_script = 0;
        server_busy_end();
    }
    run.caller = NULL;
}

void script_lua_kill(client *c, int is_eval) {
    if (!running) {
        reply_error(c, "-NOTBUSY No scripts in execution right now.");
    } else if (run_wrote) {
        reply_error(c, "-UNKILLABLE Sorry the script already executed write commands against "
                       "the dataset. You can either wait the script termination or kill the "
                       "server in a hard way using the SHUTDOWN NOSAVE command.");
    } else if (is_eval != run.is_eval) {
        /* SCRIPT KILL does not stop a function, nor FUNCTION KILL a script. */
        reply_error(c, ERR_BUSY(run.is_eval ? BUSY_EVAL : BUSY_FUNCTION));
    } else {
        run.killed = 1;
        reply_ok(c);
    }
}

int script_lua_running_info(const char **name, client **caller, int64_t *duration_ms) {
    if (!running) return 0;
    *name = run.name;
    *caller = run.caller;
    *duration_ms = mstime() - run.start_ms;
    return run.is_eval ? BUSY_EVAL : BUSY_FUNCTION;
}

/* Reply the error a script or function (name: its sha or function name)
 * ended with, on top of Ls: the error table err_handler made gets its
 * place ("script: name, on @user_script:line."). */
static void reply_run_error(client *c, lua_State *Ls, const char *name, int is_eval) {
    if (!lua_istable(Ls, -1)) {
        reply_errorf(c, "Error running script (call to %s%s): %s", is_eval ? "f_" : "", name,
                     lua_isstring(Ls, -1) ? lua_tostring(Ls, -1) : "execution failure");
        return;
    }
    int counted = is_counted(Ls, -1);
    lua_getfield(Ls, -1, "err");
    lua_getfield(Ls, -2, "source");
    lua_getfield(Ls, -3, "line");
    const char *msg = lua_tostring(Ls, -3);
    const char *src = lua_tostring(Ls, -2);
    buf b = {0};
    buf_printf(&b, "-%s", msg ? msg : "ERR unknown error");
    if (src && !lua_isnil(Ls, -1))
        buf_printf(&b, " script: %s, on %s:%s.", name, src, lua_tostring(Ls, -1));
    reply_script_error(c, b.p, counted);
    buf_free(&b);
    lua_pop(Ls, 3);
}

static void set_arg_table(const char *name, const arg *v, int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, name);
}

void script_lua_run(client *c, const char *sha, const arg *keys, int nkeys, const arg *args,
                    int nargs, int readonly) {
    lua_getfield(L, LUA_REGISTRYINDEX, "lodis_flags");
    lua_getfield(L, -1, sha);
    int flags = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);
    /* A script that declares flags without no-writes may write: checked
     * before it runs, as Redis does. */
    if ((flags & SCRIPT_FLAG_SHEBANG) && !(flags & SCRIPT_FLAG_NO_WRITES)) {
        if (!config_enough_replicas()) {
            reply_error(c, ERR_NOREPLICAS);
            return;
        }
        if (readonly) {
            reply_error(c, "Can not execute a script with write flag using *_ro command.");
            return;
        }
    }
    lua_pushcfunction(L, err_handler);
    lua_getfield(L, LUA_REGISTRYINDEX, "lodis_scripts");
    lua_getfield(L, -1, sha);
    lua_remove(L, -2);
    set_arg_table("KEYS", keys, nkeys);
    set_arg_table("ARGV", args, nargs);
    run_begin(L, c, sha, 1, readonly || (flags & SCRIPT_FLAG_NO_WRITES));
    if (flags & SCRIPT_FLAG_ALLOW_OOM) run_oom = 0;
    int rc = lua_pcall(L, 0, 1, -2);
    run_end(L);
    if (rc) {
        reply_run_error(c, L, sha, 1);
    } else {
        lua_to_reply(c, L, 0);
    }
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 1);
}

/* ------------------------------------------------- FUNCTION support */

lua_State *script_lua_new_vm(void) {
    lua_State *saved = L;
    vm_create();
    lua_State *vm = L;
    L = saved;
    return vm;
}

void script_lua_call_fn(client *c, lua_State *Ls, const char *name, const arg *keys, int nkeys,
                        const arg *args, int nargs, int readonly, int allow_oom) {
    lua_pushcfunction(Ls, err_handler);
    lua_insert(Ls, -2);
    const arg *v[2] = {keys, args};
    int n[2] = {nkeys, nargs};
    for (int t = 0; t < 2; t++) {
        lua_createtable(Ls, n[t], 0);
        for (int i = 0; i < n[t]; i++) {
            lua_pushlstring(Ls, v[t][i].p, v[t][i].len);
            lua_rawseti(Ls, -2, i + 1);
        }
    }
    run_begin(Ls, c, name, 0, readonly);
    if (allow_oom) run_oom = 0;
    int rc = lua_pcall(Ls, 2, 1, -4);
    run_end(Ls);
    if (rc) {
        reply_run_error(c, Ls, name, 0);
    } else {
        lua_to_reply(c, Ls, 0);
    }
    lua_settop(Ls, 0);
    lua_gc(Ls, LUA_GCSTEP, 1);
}

/* ------------------------------------------------- bit (LuaBitOp API) */

static uint32_t bit_arg(lua_State *Ls, int i) {
    double d = luaL_checknumber(Ls, i);
    /* Round to nearest, wrap modulo 2^32, like LuaBitOp's 2^52+2^51 trick. */
    double r = nearbyint(d);
    double m = fmod(r, 4294967296.0);
    if (m < 0) m += 4294967296.0;
    return (uint32_t)(uint64_t)m;
}

static int bit_ret(lua_State *Ls, uint32_t v) {
    lua_pushnumber(Ls, (lua_Number)(int32_t)v);
    return 1;
}

static int l_bit_tobit(lua_State *Ls) {
    return bit_ret(Ls, bit_arg(Ls, 1));
}
static int l_bit_bnot(lua_State *Ls) {
    return bit_ret(Ls, ~bit_arg(Ls, 1));
}
static int l_bit_band(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1);
    for (int i = lua_gettop(Ls); i > 1; i--) v &= bit_arg(Ls, i);
    return bit_ret(Ls, v);
}
static int l_bit_bor(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1);
    for (int i = lua_gettop(Ls); i > 1; i--) v |= bit_arg(Ls, i);
    return bit_ret(Ls, v);
}
static int l_bit_bxor(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1);
    for (int i = lua_gettop(Ls); i > 1; i--) v ^= bit_arg(Ls, i);
    return bit_ret(Ls, v);
}
static int l_bit_lshift(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1), n = bit_arg(Ls, 2) & 31;
    return bit_ret(Ls, v << n);
}
static int l_bit_rshift(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1), n = bit_arg(Ls, 2) & 31;
    return bit_ret(Ls, v >> n);
}
static int l_bit_arshift(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1), n = bit_arg(Ls, 2) & 31;
    uint32_t r = v >> n;
    if ((v & 0x80000000u) && n) r |= ~(0xFFFFFFFFu >> n);
    return bit_ret(Ls, r);
}
static int l_bit_rol(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1), n = bit_arg(Ls, 2) & 31;
    return bit_ret(Ls, n ? (v << n) | (v >> (32 - n)) : v);
}
static int l_bit_ror(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1), n = bit_arg(Ls, 2) & 31;
    return bit_ret(Ls, n ? (v >> n) | (v << (32 - n)) : v);
}
static int l_bit_bswap(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1);
    return bit_ret(Ls, (v >> 24) | ((v >> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24));
}
static int l_bit_tohex(lua_State *Ls) {
    uint32_t v = bit_arg(Ls, 1);
    int32_t n = lua_isnone(Ls, 2) ? 8 : (int32_t)bit_arg(Ls, 2);
    const char *digits = "0123456789abcdef";
    char out[8];
    if (n < 0) n = -n, digits = "0123456789ABCDEF";
    if (n > 8) n = 8;
    for (int i = n - 1; i >= 0; i--) {
        out[i] = digits[v & 15];
        v >>= 4;
    }
    lua_pushlstring(Ls, out, (size_t)n);
    return 1;
}

static void open_bit(lua_State *Ls) {
    static const luaL_Reg fns[] = {
        {"tobit", l_bit_tobit},   {"bnot", l_bit_bnot},       {"band", l_bit_band},
        {"bor", l_bit_bor},       {"bxor", l_bit_bxor},       {"lshift", l_bit_lshift},
        {"rshift", l_bit_rshift}, {"arshift", l_bit_arshift}, {"rol", l_bit_rol},
        {"ror", l_bit_ror},       {"bswap", l_bit_bswap},     {"tohex", l_bit_tohex},
        {NULL, NULL}};
    luaL_register(Ls, "bit", fns);
    lua_pop(Ls, 1);
}

/* ------------------------------------------------- cjson */

/* Encoding writes into one static buffer (cleared per call), so an error
 * raised half-way leaks nothing. */
static buf jbuf;

/* lua-cjson's settings (cjson.encode_max_depth() and the rest), one set per
 * interpreter as a userdata upvalue of every cjson function; they last
 * until the interpreter goes (SCRIPT FLUSH), as in Redis. */
typedef struct json_cfg {
    int sparse_convert, sparse_ratio, sparse_safe;
    int encode_max_depth, decode_max_depth, precision;
    int keep_buffer, encode_invalid, decode_invalid; /* encode_invalid 2: as null */
} json_cfg;

static const json_cfg *jcfg; /* the settings of the running encode/decode */

static json_cfg *json_cfg_of(lua_State *Ls) {
    return lua_touserdata(Ls, lua_upvalueindex(1));
}

static void json_string(buf *b, const char *s, size_t n) {
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"': buf_append(b, "\\\"", 2); break;
        case '\\': buf_append(b, "\\\\", 2); break;
        case '/': buf_append(b, "\\/", 2); break;
        case '\b': buf_append(b, "\\b", 2); break;
        case '\f': buf_append(b, "\\f", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        default:
            if (ch < 32 || ch == 127) buf_printf(b, "\\u%04x", ch);
            else buf_append(b, (const char *)&ch, 1);
        }
    }
    buf_append(b, "\"", 1);
}

static void json_number(lua_State *Ls, buf *b, double d) {
    if (isnan(d) || isinf(d)) {
        if (jcfg->encode_invalid == 0)
            luaL_error(Ls, "Cannot serialise number: must not be NaN or Inf");
        if (jcfg->encode_invalid == 2 || isnan(d)) {
            buf_append_cstr(b, jcfg->encode_invalid == 2 ? "null" : "nan");
            return;
        }
    }
    buf_printf(b, "%.*g", jcfg->precision, d);
}

/* Array length if the table is an array (positive integer keys only), 0 if
 * empty, -1 if it is an object. */
static int json_array_len(lua_State *Ls, int idx) {
    double max = 0;
    int items = 0;
    lua_pushnil(Ls);
    while (lua_next(Ls, idx)) {
        lua_pop(Ls, 1);
        if (lua_type(Ls, -1) == LUA_TNUMBER) {
            double k = lua_tonumber(Ls, -1);
            if (floor(k) == k && k >= 1) {
                if (k > max) max = k;
                items++;
                continue;
            }
        }
        lua_pop(Ls, 1);
        return -1;
    }
    if (jcfg->sparse_ratio > 0 && max > jcfg->sparse_safe && max > items * jcfg->sparse_ratio) {
        if (!jcfg->sparse_convert)
            luaL_error(Ls, "Cannot serialise table: excessively sparse array");
        return -1;
    }
    return (int)max;
}

static void json_encode_value(lua_State *Ls, int idx, int depth);

static void json_encode_table(lua_State *Ls, int idx, int depth) {
    if (depth > jcfg->encode_max_depth)
        luaL_error(Ls, "Cannot serialise, excessive nesting (%d)", depth);
    luaL_checkstack(Ls, 6, "json");
    int len = json_array_len(Ls, idx);
    if (len > 0) {
        buf_append(&jbuf, "[", 1);
        for (int i = 1; i <= len; i++) {
            if (i > 1) buf_append(&jbuf, ",", 1);
            lua_rawgeti(Ls, idx, i);
            json_encode_value(Ls, lua_gettop(Ls), depth);
            lua_pop(Ls, 1);
        }
        buf_append(&jbuf, "]", 1);
        return;
    }
    buf_append(&jbuf, "{", 1);
    int first = 1;
    lua_pushnil(Ls);
    while (lua_next(Ls, idx)) {
        if (!first) buf_append(&jbuf, ",", 1);
        first = 0;
        int kt = lua_type(Ls, -2);
        if (kt == LUA_TSTRING) {
            size_t n;
            const char *k = lua_tolstring(Ls, -2, &n);
            json_string(&jbuf, k, n);
        } else if (kt == LUA_TNUMBER) {
            buf_printf(&jbuf, "\"%.*g\"", jcfg->precision, lua_tonumber(Ls, -2));
        } else {
            luaL_error(Ls, "Cannot serialise table: table key must be a number or string");
        }
        buf_append(&jbuf, ":", 1);
        json_encode_value(Ls, lua_gettop(Ls), depth);
        lua_pop(Ls, 1);
    }
    buf_append(&jbuf, "}", 1);
}

static void json_encode_value(lua_State *Ls, int idx, int depth) {
    switch (lua_type(Ls, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(Ls, idx, &n);
        json_string(&jbuf, s, n);
        break;
    }
    case LUA_TNUMBER: json_number(Ls, &jbuf, lua_tonumber(Ls, idx)); break;
    case LUA_TBOOLEAN: buf_append_cstr(&jbuf, lua_toboolean(Ls, idx) ? "true" : "false"); break;
    case LUA_TNIL: buf_append_cstr(&jbuf, "null"); break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(Ls, idx) == NULL) {
            buf_append_cstr(&jbuf, "null");
            break;
        }
        luaL_error(Ls, "Cannot serialise %s: type not supported", luaL_typename(Ls, idx));
        break;
    case LUA_TTABLE: json_encode_table(Ls, idx, depth + 1); break;
    default: luaL_error(Ls, "Cannot serialise %s: type not supported", luaL_typename(Ls, idx));
    }
}

static int l_cjson_encode(lua_State *Ls) {
    luaL_argcheck(Ls, lua_gettop(Ls) == 1, 1, "expected 1 argument");
    buf_clear(&jbuf);
    jcfg = json_cfg_of(Ls);
    json_encode_value(Ls, 1, 0);
    lua_pushlstring(Ls, jbuf.p ? jbuf.p : "", jbuf.len);
    return 1;
}

static void json_to_lua(lua_State *Ls, const cJSON *j) {
    luaL_checkstack(Ls, 4, "json");
    if (cJSON_IsNull(j)) lua_pushlightuserdata(Ls, NULL);
    else if (cJSON_IsFalse(j)) lua_pushboolean(Ls, 0);
    else if (cJSON_IsTrue(j)) lua_pushboolean(Ls, 1);
    else if (cJSON_IsNumber(j)) lua_pushnumber(Ls, j->valuedouble);
    else if (cJSON_IsString(j)) lua_pushstring(Ls, j->valuestring);
    else if (cJSON_IsArray(j)) {
        lua_newtable(Ls);
        int i = 1;
        for (const cJSON *e = j->child; e; e = e->next) {
            json_to_lua(Ls, e);
            lua_rawseti(Ls, -2, i++);
        }
    } else if (cJSON_IsObject(j)) {
        lua_newtable(Ls);
        for (const cJSON *e = j->child; e; e = e->next) {
            lua_pushstring(Ls, e->string ? e->string : "");
            json_to_lua(Ls, e);
            lua_rawset(Ls, -3);
        }
    } else {
        lua_pushnil(Ls);
    }
}

/* Where lua-cjson stops for nesting deeper than max: the 1-based position
 * just after the first '[' or '{' (outside strings) that opens level
 * max+1, with that level in *level; 0 if the text never nests so deep. */
static size_t json_too_deep_at(const char *s, size_t n, int max, int *level) {
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max) {
                *level = depth;
                return i + 1;
            }
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return 0;
}

static int l_cjson_decode(lua_State *Ls) {
    luaL_argcheck(Ls, lua_gettop(Ls) == 1, 1, "expected 1 argument");
    size_t n;
    const char *s = luaL_checklstring(Ls, 1, &n);
    const char *endp = NULL;
    /* The tree is held by a userdata whose __gc frees it, so an error raised
     * while converting (nesting too deep, Lua stack full) leaks nothing. */
    cJSON **box = lua_newuserdata(Ls, sizeof *box);
    *box = NULL;
    lua_getfield(Ls, LUA_REGISTRYINDEX, "lodis_cjson_box");
    lua_setmetatable(Ls, -2);
    jcfg = json_cfg_of(Ls);
    int deep_level = 0;
    size_t deep = json_too_deep_at(s, n, jcfg->decode_max_depth, &deep_level);
    cJSON *j = *box = cJSON_ParseWithLengthOpts(s, n, &endp, 0);
    size_t at = j ? n + 1 : endp && endp >= s ? (size_t)(endp - s) + 1 : 1;
    /* lua-cjson reads in order: whichever problem comes first is reported. */
    if (deep && deep <= at) {
        return luaL_error(Ls, "Found too many nested data structures (%d) at character %d",
                          deep_level, (int)deep);
    }
    if (!j) {
        if (at > n) return luaL_error(Ls, "Expected value but found T_END at character %d", (int)at);
        return luaL_error(Ls, "Expected value but found invalid token at character %d", (int)at);
    }
    json_to_lua(Ls, j);
    cJSON_Delete(j);
    *box = NULL;
    return 1;
}

static int l_cjson_box_gc(lua_State *Ls) {
    cJSON **box = lua_touserdata(Ls, 1);
    if (*box) cJSON_Delete(*box);
    *box = NULL;
    return 0;
}

/* lua-cjson's option readers: nil leaves the setting, the reply is the
 * setting's value after the call. */
static int json_int_option(lua_State *Ls, int i, int *setting, int min, int max) {
    if (!lua_isnil(Ls, i)) {
        int v = luaL_checkint(Ls, i);
        char msg[64];
        snprintf(msg, sizeof msg, "expected integer between %d and %d", min, max);
        luaL_argcheck(Ls, min <= v && v <= max, 1, msg);
        *setting = v;
    }
    lua_pushinteger(Ls, *setting);
    return 1;
}

/* options: NULL for off/on; true means option 1. */
static int json_enum_option(lua_State *Ls, int i, int *setting, const char *const *options) {
    static const char *const onoff[] = {"off", "on", NULL};
    if (!options) options = onoff;
    if (!lua_isnil(Ls, i)) {
        if (lua_isboolean(Ls, i)) *setting = lua_toboolean(Ls, i);
        else *setting = luaL_checkoption(Ls, i, NULL, options);
    }
    if (*setting <= 1) lua_pushboolean(Ls, *setting);
    else lua_pushstring(Ls, options[*setting]);
    return 1;
}

/* Each setter takes at most its own arguments, as lua-cjson checks. */
static json_cfg *json_cfg_args(lua_State *Ls, int max) {
    luaL_argcheck(Ls, lua_gettop(Ls) <= max, max + 1, "found too many arguments");
    lua_settop(Ls, max);
    return json_cfg_of(Ls);
}

static int l_cjson_sparse(lua_State *Ls) {
    json_cfg *jc = json_cfg_args(Ls, 3);
    json_enum_option(Ls, 1, &jc->sparse_convert, NULL);
    json_int_option(Ls, 2, &jc->sparse_ratio, 0, INT_MAX);
    json_int_option(Ls, 3, &jc->sparse_safe, 0, INT_MAX);
    return 3;
}

static int l_cjson_encode_depth(lua_State *Ls) {
    return json_int_option(Ls, 1, &json_cfg_args(Ls, 1)->encode_max_depth, 1, INT_MAX);
}

static int l_cjson_decode_depth(lua_State *Ls) {
    return json_int_option(Ls, 1, &json_cfg_args(Ls, 1)->decode_max_depth, 1, INT_MAX);
}

static int l_cjson_precision(lua_State *Ls) {
    return json_int_option(Ls, 1, &json_cfg_args(Ls, 1)->precision, 1, 14);
}

static int l_cjson_keep_buffer(lua_State *Ls) {
    return json_enum_option(Ls, 1, &json_cfg_args(Ls, 1)->keep_buffer, NULL);
}

static int l_cjson_encode_invalid(lua_State *Ls) {
    static const char *const opts[] = {"off", "on", "null", NULL};
    return json_enum_option(Ls, 1, &json_cfg_args(Ls, 1)->encode_invalid, opts);
}

/* Stored only: cJSON never accepts nan / inf / hex numbers. */
static int l_cjson_decode_invalid(lua_State *Ls) {
    return json_enum_option(Ls, 1, &json_cfg_args(Ls, 1)->decode_invalid, NULL);
}

/* cjson.new(): a module table of its own, with its own settings (what the
 * global cjson is too). */
static int l_cjson_new(lua_State *Ls) {
    static const luaL_Reg fns[] = {{"encode", l_cjson_encode},
                                   {"decode", l_cjson_decode},
                                   {"encode_sparse_array", l_cjson_sparse},
                                   {"encode_max_depth", l_cjson_encode_depth},
                                   {"decode_max_depth", l_cjson_decode_depth},
                                   {"encode_number_precision", l_cjson_precision},
                                   {"encode_keep_buffer", l_cjson_keep_buffer},
                                   {"encode_invalid_numbers", l_cjson_encode_invalid},
                                   {"decode_invalid_numbers", l_cjson_decode_invalid},
                                   {"new", l_cjson_new},
                                   {NULL, NULL}};
    lua_newtable(Ls);
    /* lua-cjson's defaults. */
    json_cfg *jc = lua_newuserdata(Ls, sizeof *jc);
    *jc = (json_cfg){.sparse_convert = 0,
                     .sparse_ratio = 2,
                     .sparse_safe = 10,
                     .encode_max_depth = 1000,
                     .decode_max_depth = 1000,
                     .precision = 14,
                     .keep_buffer = 1,
                     .encode_invalid = 0,
                     .decode_invalid = 1};
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushvalue(Ls, -1);
        lua_pushcclosure(Ls, f->func, 1);
        lua_setfield(Ls, -3, f->name);
    }
    lua_pop(Ls, 1);
    lua_pushlightuserdata(Ls, NULL);
    lua_setfield(Ls, -2, "null");
    lua_pushliteral(Ls, "lua-cjson");
    lua_setfield(Ls, -2, "_NAME");
    lua_pushliteral(Ls, "2.1.0");
    lua_setfield(Ls, -2, "_VERSION");
    return 1;
}

static void open_cjson(lua_State *Ls) {
    lua_newtable(Ls);
    lua_pushcfunction(Ls, l_cjson_box_gc);
    lua_setfield(Ls, -2, "__gc");
    lua_setfield(Ls, LUA_REGISTRYINDEX, "lodis_cjson_box");
    l_cjson_new(Ls);
    lua_setglobal(Ls, "cjson");
}

