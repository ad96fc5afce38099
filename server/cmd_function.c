/* cmd_function.c — Redis 7 functions: FUNCTION LOAD / DELETE / LIST / DUMP /
 * RESTORE / FLUSH / STATS / KILL / HELP, FCALL and FCALL_RO.
 *
 * The registry of libraries lives here: each library keeps its name, its code
 * and its functions' metadata (name, description, flags) in C, and its
 * callbacks in a table of a Lua interpreter of its own (script_lua_new_vm()),
 * separate from EVAL's so that SCRIPT FLUSH leaves functions alone.
 * A library's code is evaluated once at load time in an environment whose
 * `redis` table offers only register_function, log and constants; at run
 * time the same code sees the full redis table.
 * Persistence: every library's code is stored in the info DBI under
 * "fn:<name>" during the command that changes it, so it is part of that
 * tick's WAL record; function_family_load() reloads them at startup.
 * FUNCTION DUMP / RESTORE use Redis's payload format (opcode 245 + RDB string
 * per library, RDB version 10, CRC-64/Jones), so payloads move both ways. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "server/args.h"
#include "server/cmdtable.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/resp.h"
#include "server/script_lua.h"
#include "server/server.h"
#include "storage/glob.h"
#include "storage/num.h"
#include "storage/store.h"

void function_family_load(void);

#define FNF_NO_WRITES  1
#define FNF_ALLOW_OOM  2
#define FNF_ALLOW_STALE 4
#define FNF_NO_CLUSTER 8
#define FNF_CROSS_SLOT 16

static const struct {
    const char *name;
    int bit;
} fn_flag_names[] = {{"no-writes", FNF_NO_WRITES},
                     {"allow-oom", FNF_ALLOW_OOM},
                     {"allow-stale", FNF_ALLOW_STALE},
                     {"no-cluster", FNF_NO_CLUSTER},
                     {"allow-cross-slot-keys", FNF_CROSS_SLOT}};
#define N_FN_FLAGS ((int)(sizeof fn_flag_names / sizeof fn_flag_names[0]))

typedef struct {
    char *name;
    char *desc; /* NULL: none */
    int flags;
} fn_func;

typedef struct {
    char *name;
    char *code;
    size_t len;
    fn_func *fns;
    int nfns;
    int ref; /* registry ref of the table name -> callback */
} fn_lib;

static lua_State *FL;
static fn_lib **libs;
static int nlibs;
static fn_lib *loading; /* the library register_function adds to */
static int load_phase;

#define RF "redis.register_function"
#define ERR_NAME_CHARS                                                                        \
    "Library names can only contain letters, numbers, or underscores(_) and must be at least " \
    "one character long"

/* ------------------------------------------------------------ registry */

static void lib_free(fn_lib *l) {
    if (!l) return;
    for (int i = 0; i < l->nfns; i++) {
        free(l->fns[i].name);
        free(l->fns[i].desc);
    }
    free(l->fns);
    if (FL && l->ref != LUA_NOREF) luaL_unref(FL, LUA_REGISTRYINDEX, l->ref);
    free(l->name);
    free(l->code);
    free(l);
}

static int lib_index(const char *name) {
    for (int i = 0; i < nlibs; i++)
        if (!strcmp(libs[i]->name, name)) return i;
    return -1;
}

static int name_valid(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

static void persist_put(const fn_lib *l) {
    if (!srv.st) return;
    buf k = {0};
    buf_printf(&k, "fn:%s", l->name);
    int rc = store_put(srv.st, ST_DBI_INFO, k.p, k.len, l->code, l->len);
    if (rc) server_log(3, "FUNCTION: storing library %s failed: %s", l->name, store_strerror(rc));
    buf_free(&k);
}

static void persist_del(const char *name) {
    if (!srv.st) return;
    buf k = {0};
    buf_printf(&k, "fn:%s", name);
    store_del(srv.st, ST_DBI_INFO, k.p, k.len);
    buf_free(&k);
}

/* ------------------------------------------------------- load-time Lua */

static int raise_err(lua_State *Ls, const char *msg) {
    lua_newtable(Ls);
    lua_pushfstring(Ls, "ERR %s", msg);
    lua_setfield(Ls, -2, "err");
    return lua_error(Ls);
}

static int flag_bit(lua_State *Ls, int idx) {
    if (lua_type(Ls, idx) != LUA_TSTRING) return -1;
    const char *s = lua_tostring(Ls, idx);
    for (int i = 0; i < N_FN_FLAGS; i++)
        if (!strcmp(s, fn_flag_names[i].name)) return fn_flag_names[i].bit;
    return -1;
}

/* redis.register_function(name, callback) or
 * redis.register_function{function_name=..., callback=..., flags=..., description=...} */
static int l_register_function(lua_State *Ls) {
    if (!loading) return raise_err(Ls, RF " can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(Ls);
    int name_idx = 0, cb_idx = 0, desc_idx = 0, flags = 0;
    if (argc == 1) {
        if (!lua_istable(Ls, 1))
            return raise_err(Ls, "calling redis.register_function with a single argument is only "
                                 "applicable to Lua table (representing named arguments).");
        lua_getfield(Ls, 1, "function_name"); /* 2 */
        lua_getfield(Ls, 1, "callback");      /* 3 */
        lua_getfield(Ls, 1, "description");   /* 4 */
        lua_pushnil(Ls);
        while (lua_next(Ls, 1)) {
            lua_pop(Ls, 1);
            const char *k = lua_type(Ls, -1) == LUA_TSTRING ? lua_tostring(Ls, -1) : NULL;
            if (!k) return raise_err(Ls, "named argument key given to " RF " is not a string");
            if (!strcmp(k, "function_name")) {
                if (!lua_isstring(Ls, 2))
                    return raise_err(Ls, "function_name argument given to " RF " must be a string");
            } else if (!strcmp(k, "callback")) {
                if (!lua_isfunction(Ls, 3))
                    return raise_err(Ls, "callback argument given to " RF " must be a function");
            } else if (!strcmp(k, "description")) {
                if (!lua_isstring(Ls, 4))
                    return raise_err(Ls, "description argument given to " RF " must be a string");
            } else if (!strcmp(k, "flags")) {
                lua_getfield(Ls, 1, "flags");
                if (!lua_istable(Ls, -1))
                    return raise_err(Ls, "flags argument to " RF " must be a table "
                                         "representing function flags");
                for (int i = 1;; i++) {
                    lua_rawgeti(Ls, -1, i);
                    if (lua_isnil(Ls, -1)) {
                        lua_pop(Ls, 1);
                        break;
                    }
                    int b = flag_bit(Ls, -1);
                    if (b < 0) return raise_err(Ls, "unknown flag given");
                    flags |= b;
                    lua_pop(Ls, 1);
                }
                lua_pop(Ls, 1);
            } else {
                return raise_err(Ls, "unknown argument given to redis.register_function");
            }
        }
        if (lua_isnil(Ls, 2)) return raise_err(Ls, RF " must get a function name argument");
        if (lua_isnil(Ls, 3)) return raise_err(Ls, RF " must get a callback argument");
        name_idx = 2, cb_idx = 3;
        if (!lua_isnil(Ls, 4)) desc_idx = 4;
    } else if (argc == 2) {
        if (!lua_isstring(Ls, 1))
            return raise_err(Ls, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(Ls, 2))
            return raise_err(Ls, "second argument to redis.register_function must be a function");
        name_idx = 1, cb_idx = 2;
    } else {
        return raise_err(Ls, "wrong number of arguments to redis.register_function");
    }
    size_t nlen;
    const char *name = lua_tolstring(Ls, name_idx, &nlen);
    if (!name_valid(name, nlen)) return raise_err(Ls, ERR_NAME_CHARS);
    for (int i = 0; i < loading->nfns; i++)
        if (!strcmp(loading->fns[i].name, name))
            return raise_err(Ls, "Function already exists in the library");
    /* No Lua error can happen below: allocate. */
    lua_rawgeti(Ls, LUA_REGISTRYINDEX, loading->ref);
    lua_pushvalue(Ls, cb_idx);
    lua_setfield(Ls, -2, name);
    lua_pop(Ls, 1);
    loading->fns = realloc(loading->fns, sizeof(fn_func) * (size_t)(loading->nfns + 1));
    fn_func *f = &loading->fns[loading->nfns++];
    f->name = strdup(name);
    f->desc = desc_idx ? strdup(lua_tostring(Ls, desc_idx)) : NULL;
    f->flags = flags;
    return 0;
}

static int l_missing_global(lua_State *Ls) {
    const char *k = lua_isstring(Ls, 2) ? lua_tostring(Ls, 2) : "?";
    return luaL_error(Ls, "Script attempted to access nonexistent global variable '%s'", k);
}

static int l_readonly(lua_State *Ls) {
    return luaL_error(Ls, "Attempt to modify a readonly table");
}

/* A library's globals: the interpreter's, with the load-time redis table
 * while the library's code runs at load. */
static int l_env_index(lua_State *Ls) {
    if (load_phase) {
        /* Loading sees only the load-time redis table, as in Redis. */
        if (lua_type(Ls, 2) != LUA_TSTRING || strcmp(lua_tostring(Ls, 2), "redis"))
            return l_missing_global(Ls);
        lua_getfield(Ls, LUA_REGISTRYINDEX, "lodis_fn_loadredis");
        return 1;
    }
    lua_pushvalue(Ls, 2);
    lua_rawget(Ls, LUA_GLOBALSINDEX);
    if (lua_isnil(Ls, -1)) return l_missing_global(Ls);
    return 1;
}

/* A library's load run may take at most 500 ms, as in Redis. */
static long long load_started_ms;

static void load_hook(lua_State *Ls, lua_Debug *ar) {
    (void)ar;
    if (mstime() - load_started_ms > 500) raise_err(Ls, "FUNCTION LOAD timeout");
}

/* Error handler of the load run: an error table's text or "ERR <message>". */
static int l_load_err(lua_State *Ls) {
    if (lua_istable(Ls, 1)) {
        lua_getfield(Ls, 1, "err");
        if (lua_isstring(Ls, -1)) return 1;
        lua_pop(Ls, 1);
    }
    const char *m = lua_isstring(Ls, 1) ? lua_tostring(Ls, 1) : "unknown error";
    lua_pushfstring(Ls, "ERR %s", m);
    return 1;
}

static void vm_setup(void) {
    FL = script_lua_new_vm();
    /* Metatable shared by the libraries' environments. */
    lua_newtable(FL);
    lua_pushcfunction(FL, l_env_index);
    lua_setfield(FL, -2, "__index");
    lua_pushcfunction(FL, l_readonly);
    lua_setfield(FL, -2, "__newindex");
    lua_setfield(FL, LUA_REGISTRYINDEX, "lodis_fn_envmeta");
    /* The load-time redis table. */
    lua_newtable(FL);
    lua_pushcfunction(FL, l_register_function);
    lua_setfield(FL, -2, "register_function");
    lua_getglobal(FL, "redis");
    static const char *copy[] = {"log",         "LOG_DEBUG",     "LOG_VERBOSE",       "LOG_NOTICE",
                                 "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM", NULL};
    for (int i = 0; copy[i]; i++) {
        lua_getfield(FL, -1, copy[i]);
        lua_setfield(FL, -3, copy[i]);
    }
    lua_pop(FL, 1);
    lua_newtable(FL);
    lua_pushcfunction(FL, l_missing_global);
    lua_setfield(FL, -2, "__index");
    lua_pushcfunction(FL, l_readonly);
    lua_setfield(FL, -2, "__newindex");
    lua_setmetatable(FL, -2);
    lua_setfield(FL, LUA_REGISTRYINDEX, "lodis_fn_loadredis");
}

/* ------------------------------------------------------- compile */

/* Parse the "#!<engine> name=<lib> ..." first line into *name (malloc'd). */
static int parse_meta(const char *code, size_t len, char **name, buf *err) {
    *name = NULL;
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        buf_append_cstr(err, "Missing library metadata");
        return -1;
    }
    const char *nl = memchr(code, '\n', len);
    if (!nl) {
        buf_append_cstr(err, "Invalid library metadata");
        return -1;
    }
    size_t n = (size_t)(nl - code);
    char *line = malloc(n + 1);
    memcpy(line, code, n);
    line[n] = '\0';
    /* Words as Redis splits them (sdssplitargs): quotes and escapes, so
     * name="foo" names the library foo. */
    resp_arg *words = NULL;
    int cap = 0;
    int nw = resp_split_inline(line, n, &words, &cap);
    if (nw <= 0) {
        free(words);
        free(line);
        buf_append_cstr(err, "Invalid library metadata");
        return -1;
    }
    for (int i = 0; i < nw; i++) line[words[i].off + words[i].len] = '\0';
    char *engine = line + words[0].off + 2; /* the first word starts with "#!" */
    int rc = 0;
    for (int i = 1; i < nw; i++) {
        char *tok = line + words[i].off;
        if (!strncasecmp(tok, "name=", 5)) {
            if (*name) {
                buf_append_cstr(err, "Invalid metadata value, name argument was given multiple "
                                     "times");
                rc = -1;
                break;
            }
            *name = strdup(tok + 5);
        } else {
            buf_printf(err, "Invalid metadata value given: %s", tok);
            rc = -1;
            break;
        }
    }
    if (!rc && !*name) {
        buf_append_cstr(err, "Library name was not given");
        rc = -1;
    }
    if (!rc && strcasecmp(engine, "lua")) {
        buf_printf(err, "Engine '%s' not found", engine);
        rc = -1;
    }
    if (!rc && !name_valid(*name, strlen(*name))) {
        buf_append_cstr(err, ERR_NAME_CHARS);
        rc = -1;
    }
    free(words);
    free(line);
    if (rc) {
        free(*name);
        *name = NULL;
    }
    return rc;
}

/* Evaluate a library's code (its name already parsed): a new library, or
 * NULL with the error text in err. */
static fn_lib *lib_compile(char *name, const char *code, size_t len, buf *err) {
    char *copy = malloc(len ? len : 1);
    memcpy(copy, code, len);
    copy[0] = copy[1] = '-'; /* the metadata line becomes a comment */
    int rc = luaL_loadbuffer(FL, copy, len, "@user_function");
    free(copy);
    if (rc) {
        buf_printf(err, "Error compiling function: %s", lua_tostring(FL, -1));
        lua_settop(FL, 0);
        free(name);
        return NULL;
    }
    fn_lib *l = calloc(1, sizeof *l);
    l->name = name;
    l->code = malloc(len ? len : 1);
    memcpy(l->code, code, len);
    l->len = len;
    lua_newtable(FL);
    l->ref = luaL_ref(FL, LUA_REGISTRYINDEX);
    lua_newtable(FL);
    lua_getfield(FL, LUA_REGISTRYINDEX, "lodis_fn_envmeta");
    lua_setmetatable(FL, -2);
    lua_setfenv(FL, -2);
    lua_pushcfunction(FL, l_load_err);
    lua_insert(FL, -2);
    loading = l;
    load_phase = 1;
    load_started_ms = mstime();
    lua_sethook(FL, load_hook, LUA_MASKCOUNT, 100000);
    rc = lua_pcall(FL, 0, 0, -2);
    lua_sethook(FL, NULL, 0, 0);
    load_phase = 0;
    loading = NULL;
    if (rc) {
        buf_printf(err, "Error registering functions: %s", lua_tostring(FL, -1));
        lua_settop(FL, 0);
        lib_free(l);
        return NULL;
    }
    lua_settop(FL, 0);
    if (l->nfns == 0) {
        buf_append_cstr(err, "No functions registered");
        lib_free(l);
        return NULL;
    }
    return l;
}

enum { POL_APPEND, POL_REPLACE, POL_FLUSH };

/* Install `add` (n libraries) under a policy, all or nothing. On success the
 * libraries belong to the registry; on failure the caller frees them. */
static int commit(fn_lib **add, int n, int policy, buf *err) {
    fn_lib **keep = malloc(sizeof(fn_lib *) * (size_t)(nlibs + n + 1));
    int nkeep = 0;
    for (int i = 0; i < nlibs; i++) {
        int removed = policy == POL_FLUSH;
        for (int j = 0; !removed && policy == POL_REPLACE && j < n; j++)
            if (!strcmp(add[j]->name, libs[i]->name)) removed = 1;
        if (!removed) keep[nkeep++] = libs[i];
    }
    int base = nkeep;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < nkeep; i++) {
            if (!strcmp(keep[i]->name, add[j]->name)) {
                buf_printf(err, "Library %s already exists", add[j]->name);
                goto fail;
            }
            for (int a = 0; a < add[j]->nfns; a++)
                for (int b = 0; b < keep[i]->nfns; b++)
                    if (!strcasecmp(add[j]->fns[a].name, keep[i]->fns[b].name)) {
                        buf_printf(err, "Function %s already exists", add[j]->fns[a].name);
                        goto fail;
                    }
        }
        keep[nkeep++] = add[j];
    }
    /* Success: drop what is gone, persist what is new. */
    for (int i = 0; i < nlibs; i++) {
        int kept = 0;
        for (int k = 0; k < base; k++)
            if (keep[k] == libs[i]) kept = 1;
        if (!kept) {
            persist_del(libs[i]->name);
            lib_free(libs[i]);
        }
    }
    for (int j = 0; j < n; j++) persist_put(add[j]);
    free(libs);
    libs = keep;
    nlibs = nkeep;
    return 0;
fail:
    free(keep);
    return -1;
}

static void flush_all(void) {
    for (int i = 0; i < nlibs; i++) {
        persist_del(libs[i]->name);
        lib_free(libs[i]);
    }
    nlibs = 0;
    if (FL) lua_gc(FL, LUA_GCCOLLECT, 0);
}

/* Startup: the libraries stored in the info DBI. */
void function_family_load(void) {
    if (!FL) vm_setup();
    if (!srv.st) return;
    store_cursor *cur;
    if (store_cursor_open(srv.st, ST_DBI_INFO, &cur) != ST_OK) return;
    const uint8_t *k, *v;
    size_t kl, vl;
    int rc = store_cursor_seek(cur, "fn:", 3);
    while (rc == ST_OK && store_cursor_get(cur, &k, &kl, &v, &vl) == ST_OK) {
        if (kl < 3 || memcmp(k, "fn:", 3)) break;
        buf err = {0};
        char *name = NULL;
        fn_lib *l = NULL;
        char *code = malloc(vl ? vl : 1);
        memcpy(code, v, vl);
        if (parse_meta(code, vl, &name, &err) == 0) l = lib_compile(name, code, vl, &err);
        if (l) {
            libs = realloc(libs, sizeof(fn_lib *) * (size_t)(nlibs + 1));
            libs[nlibs++] = l;
        } else {
            server_log(3, "FUNCTION: cannot load library %.*s: %s", (int)(kl - 3),
                       (const char *)k + 3, err.p ? err.p : "?");
        }
        free(code);
        buf_free(&err);
        rc = store_cursor_next(cur);
    }
    store_cursor_close(cur);
    if (nlibs) server_log(2, "Loaded %d function librar%s", nlibs, nlibs == 1 ? "y" : "ies");
}

/* ------------------------------------------------------- DUMP payload */

static uint64_t crc64_jones(uint64_t crc, const uint8_t *p, size_t n) {
    static uint64_t table[256];
    static int ready;
    if (!ready) {
        for (int i = 0; i < 256; i++) {
            uint64_t c = (uint64_t)i;
            for (int b = 0; b < 8; b++) c = (c & 1) ? (c >> 1) ^ 0x95AC9329AC4BC9B5ULL : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

static void rdb_put_len(buf *b, uint64_t n) {
    uint8_t t[9];
    if (n < 64) {
        t[0] = (uint8_t)n;
        buf_append(b, t, 1);
    } else if (n < 16384) {
        t[0] = (uint8_t)(0x40 | (n >> 8));
        t[1] = (uint8_t)n;
        buf_append(b, t, 2);
    } else if (n <= 0xFFFFFFFFULL) {
        t[0] = 0x80;
        for (int i = 0; i < 4; i++) t[1 + i] = (uint8_t)(n >> (24 - 8 * i));
        buf_append(b, t, 5);
    } else {
        t[0] = 0x81;
        for (int i = 0; i < 8; i++) t[1 + i] = (uint8_t)(n >> (56 - 8 * i));
        buf_append(b, t, 9);
    }
}

/* Length at *p; *enc set for the special encodings (then the low 6 bits). */
static int rdb_get_len(const uint8_t **p, const uint8_t *end, uint64_t *out, int *enc) {
    if (*p >= end) return -1;
    uint8_t b = *(*p)++;
    *enc = 0;
    switch (b >> 6) {
    case 0: *out = b & 63; return 0;
    case 1:
        if (*p >= end) return -1;
        *out = ((uint64_t)(b & 63) << 8) | *(*p)++;
        return 0;
    case 2: {
        int w = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (!w || end - *p < w) return -1;
        uint64_t v = 0;
        for (int i = 0; i < w; i++) v = (v << 8) | *(*p)++;
        *out = v;
        return 0;
    }
    default: *enc = 1; *out = b & 63; return 0;
    }
}

static int lzf_unpack(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen) {
    size_t ip = 0, op = 0;
    while (ip < inlen) {
        unsigned ctrl = in[ip++];
        if (ctrl < 32) {
            size_t n = ctrl + 1;
            if (ip + n > inlen || op + n > outlen) return -1;
            memcpy(out + op, in + ip, n);
            ip += n, op += n;
        } else {
            size_t n = ctrl >> 5;
            if (n == 7) {
                if (ip >= inlen) return -1;
                n += in[ip++];
            }
            if (ip >= inlen) return -1;
            size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
            n += 2;
            if (back > op || op + n > outlen) return -1;
            for (size_t i = 0; i < n; i++, op++) out[op] = out[op - back];
        }
    }
    return op == outlen ? 0 : -1;
}

/* An RDB string at *p into a malloc'd buffer. */
static char *rdb_get_string(const uint8_t **p, const uint8_t *end, size_t *len) {
    uint64_t n;
    int enc;
    if (rdb_get_len(p, end, &n, &enc)) return NULL;
    if (!enc) {
        if ((uint64_t)(end - *p) < n) return NULL;
        char *s = malloc(n ? n : 1);
        memcpy(s, *p, n);
        *p += n;
        *len = n;
        return s;
    }
    if (n <= 2) { /* an integer: 1, 2 or 4 bytes little-endian */
        int w = 1 << n;
        if (end - *p < w) return NULL;
        int64_t v = 0;
        for (int i = w - 1; i >= 0; i--) v = (v << 8) | (*p)[i];
        if (w == 1) v = (int8_t)v;
        else if (w == 2) v = (int16_t)v;
        else v = (int32_t)v;
        *p += w;
        char *s = malloc(24);
        *len = (size_t)snprintf(s, 24, "%lld", (long long)v);
        return s;
    }
    if (n == 3) {
        uint64_t clen, ulen;
        int e1, e2;
        if (rdb_get_len(p, end, &clen, &e1) || rdb_get_len(p, end, &ulen, &e2) || e1 || e2)
            return NULL;
        if ((uint64_t)(end - *p) < clen || ulen > (1ULL << 32)) return NULL;
        char *s = malloc(ulen ? ulen : 1);
        if (lzf_unpack(*p, clen, (uint8_t *)s, ulen)) {
            free(s);
            return NULL;
        }
        *p += clen;
        *len = ulen;
        return s;
    }
    return NULL;
}

/* ------------------------------------------------------- commands */

/* FUNCTION: only reached with an unknown subcommand. */
void function_command(client *c) {
    container_unknown_subcommand(c);
}

/* FUNCTION LOAD [REPLACE] function-code */
void function_load_command(client *c) {
    int replace = 0;
    for (int i = 2; i < c->argc - 1; i++) {
        if (arg_is(&c->argv[i], "REPLACE")) {
            replace = 1;
        } else {
            reply_errorf(c, "Unknown option given: %.*s", (int)c->argv[i].len, c->argv[i].p);
            return;
        }
    }
    const arg *code = &c->argv[c->argc - 1];
    buf err = {0};
    char *name;
    if (parse_meta(code->p, code->len, &name, &err) < 0) goto fail;
    if (!replace && lib_index(name) >= 0) {
        buf_printf(&err, "Library '%s' already exists", name);
        free(name);
        goto fail;
    }
    fn_lib *l = lib_compile(name, code->p, code->len, &err);
    if (!l) goto fail;
    if (commit(&l, 1, POL_REPLACE, &err) < 0) {
        lib_free(l);
        goto fail;
    }
    reply_bulk_cstr(c, l->name);
    return;
fail:
    reply_error(c, err.p);
    buf_free(&err);
}

/* FUNCTION DELETE library-name */
void function_delete_command(client *c) {
    for (int i = 0; i < nlibs; i++) {
        if (strlen(libs[i]->name) == c->argv[2].len &&
            !memcmp(libs[i]->name, c->argv[2].p, c->argv[2].len)) {
            persist_del(libs[i]->name);
            lib_free(libs[i]);
            memmove(libs + i, libs + i + 1, sizeof(fn_lib *) * (size_t)(nlibs - i - 1));
            nlibs--;
            reply_ok(c);
            return;
        }
    }
    reply_error(c, "Library not found");
}

/* FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE] */
void function_list_command(client *c) {
    int withcode = 0;
    const arg *pat = NULL;
    for (int i = 2; i < c->argc; i++) {
        if (!withcode && arg_is(&c->argv[i], "WITHCODE")) {
            withcode = 1;
        } else if (!pat && arg_is(&c->argv[i], "LIBRARYNAME")) {
            if (i + 1 >= c->argc) {
                reply_error(c, "library name argument was not given");
                return;
            }
            pat = &c->argv[++i];
        } else {
            reply_errorf(c, "Unknown argument %.*s", (int)c->argv[i].len, c->argv[i].p);
            return;
        }
    }
    reply_deferred h = reply_defer_len(c);
    long long n = 0;
    for (int i = 0; i < nlibs; i++) {
        const fn_lib *l = libs[i];
        if (pat && !glob_match(pat->p, pat->len, l->name, strlen(l->name), 1)) continue;
        n++;
        reply_map_len(c, withcode ? 4 : 3);
        reply_bulk_cstr(c, "library_name");
        reply_bulk_cstr(c, l->name);
        reply_bulk_cstr(c, "engine");
        reply_bulk_cstr(c, "LUA");
        reply_bulk_cstr(c, "functions");
        reply_array_len(c, l->nfns);
        for (int f = 0; f < l->nfns; f++) {
            reply_map_len(c, 3);
            reply_bulk_cstr(c, "name");
            reply_bulk_cstr(c, l->fns[f].name);
            reply_bulk_cstr(c, "description");
            reply_bulk_cstr(c, l->fns[f].desc);
            reply_bulk_cstr(c, "flags");
            int nf = 0;
            for (int k = 0; k < N_FN_FLAGS; k++)
                if (l->fns[f].flags & fn_flag_names[k].bit) nf++;
            reply_set_len(c, nf);
            for (int k = 0; k < N_FN_FLAGS; k++)
                if (l->fns[f].flags & fn_flag_names[k].bit) reply_status(c, fn_flag_names[k].name);
        }
        if (withcode) {
            reply_bulk_cstr(c, "library_code");
            reply_bulk(c, l->code, l->len);
        }
    }
    reply_set_deferred_len(c, h, n, REPLY_ARRAY);
}

/* FUNCTION DUMP */
void function_dump_command(client *c) {
    buf b = {0};
    for (int i = 0; i < nlibs; i++) {
        buf_append(&b, "\xf5", 1);
        rdb_put_len(&b, libs[i]->len);
        buf_append(&b, libs[i]->code, libs[i]->len);
    }
    buf_append(&b, "\x0a\x00", 2); /* RDB version 10 */
    uint64_t crc = crc64_jones(0, (const uint8_t *)b.p, b.len);
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(crc >> (8 * i));
    buf_append(&b, t, 8);
    reply_bulk(c, b.p, b.len);
    buf_free(&b);
}

/* FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE] */
void function_restore_command(client *c) {
    if (c->argc > 4) {
        reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "FUNCTION HELP.", (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    int policy = POL_APPEND;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "FLUSH")) policy = POL_FLUSH;
        else if (arg_is(&c->argv[3], "APPEND")) policy = POL_APPEND;
        else if (arg_is(&c->argv[3], "REPLACE")) policy = POL_REPLACE;
        else {
            reply_error(c, "Wrong restore policy given, value should be either FLUSH, APPEND or "
                           "REPLACE.");
            return;
        }
    }
    const uint8_t *p = (const uint8_t *)c->argv[2].p;
    size_t len = c->argv[2].len;
    if (len < 10) goto bad_payload;
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--) want = (want << 8) | p[len - 8 + i];
    unsigned ver = p[len - 10] | (unsigned)p[len - 9] << 8;
    if (ver > 10 || crc64_jones(0, p, len - 8) != want) goto bad_payload;
    const uint8_t *end = p + len - 10;
    fn_lib **add = NULL;
    int nadd = 0;
    buf err = {0};
    while (p < end) {
        if (*p++ != 0xf5) {
            buf_append_cstr(&err, "given type is not a function");
            goto fail;
        }
        size_t clen;
        char *code = rdb_get_string(&p, end, &clen);
        if (!code) {
            buf_append_cstr(&err, "DUMP payload version or checksum are wrong");
            goto fail;
        }
        char *name;
        fn_lib *l = NULL;
        if (parse_meta(code, clen, &name, &err) == 0) l = lib_compile(name, code, clen, &err);
        free(code);
        if (!l) goto fail;
        add = realloc(add, sizeof(fn_lib *) * (size_t)(nadd + 1));
        add[nadd++] = l;
    }
    if (commit(add, nadd, policy, &err) < 0) goto fail;
    free(add);
    reply_ok(c);
    return;
fail:
    for (int i = 0; i < nadd; i++) lib_free(add[i]);
    free(add);
    reply_error(c, err.p);
    buf_free(&err);
    return;
bad_payload:
    reply_error(c, "DUMP payload version or checksum are wrong");
}

/* FUNCTION FLUSH [ASYNC|SYNC] */
void function_flush_command(client *c) {
    if (c->argc > 3) {
        reply_errorf(c,
                     "unknown subcommand or wrong number of arguments for '%.*s'. Try FUNCTION "
                     "HELP.",
                     (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (c->argc == 3 && !arg_is(&c->argv[2], "ASYNC") && !arg_is(&c->argv[2], "SYNC")) {
        reply_error(c, "FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    flush_all();
    reply_ok(c);
}

/* FUNCTION STATS */
void function_stats_command(client *c) {
    const char *name;
    client *caller;
    int64_t ms;
    int running = script_lua_running_info(&name, &caller, &ms);
    if (running == BUSY_EVAL) {
        reply_error(c, ERR_BUSY_EVAL);
        return;
    }
    int nf = 0;
    for (int i = 0; i < nlibs; i++) nf += libs[i]->nfns;
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "running_script");
    if (running) {
        /* Seen from another client while the function is busy. */
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, name);
        reply_bulk_cstr(c, "command");
        reply_array_len(c, caller->argc);
        for (int i = 0; i < caller->argc; i++)
            reply_bulk(c, caller->argv[i].p, caller->argv[i].len);
        reply_bulk_cstr(c, "duration_ms");
        reply_int(c, ms);
    } else {
        reply_null(c);
    }
    reply_bulk_cstr(c, "engines");
    reply_map_len(c, 1);
    reply_bulk_cstr(c, "LUA");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "libraries_count");
    reply_int(c, nlibs);
    reply_bulk_cstr(c, "functions_count");
    reply_int(c, nf);
}

/* FUNCTION KILL */
void function_kill_command(client *c) {
    script_lua_kill(c, 0);
}

/* FUNCTION HELP */
void function_help_command(client *c) {
    static const char *help[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a library from code starting with '#!lua name=<library>'; REPLACE",
        "    overwrites a library of the same name.",
        "DELETE <LIBRARY NAME>",
        "    Remove a library and its functions.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Each library (or those whose name matches PATTERN): name, engine, functions",
        "    with their description and flags, and its code with WITHCODE.",
        "STATS",
        "    The running function (always none here) and the number of libraries and",
        "    functions per engine.",
        "KILL",
        "    Stop the running function (functions here always run to completion).",
        "FLUSH [ASYNC|SYNC]",
        "    Remove every library.",
        "DUMP",
        "    A binary payload holding every library, for FUNCTION RESTORE.",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Load the libraries of a payload. FLUSH removes the existing libraries",
        "    first; APPEND (the default) fails on a library name that exists; REPLACE",
        "    overwrites libraries of the same name. Nothing changes on failure.",
        "HELP",
        "    Print this help.",
        NULL};
    reply_help(c, "FUNCTION", help);
}

/* The function called name (names ignore case), and its library. */
static const fn_func *fn_find(const arg *name, const fn_lib **lib) {
    for (int i = 0; i < nlibs; i++) {
        for (int f = 0; f < libs[i]->nfns; f++) {
            const fn_func *fn = &libs[i]->fns[f];
            if (strlen(fn->name) != name->len || strncasecmp(fn->name, name->p, name->len))
                continue;
            if (lib) *lib = libs[i];
            return fn;
        }
    }
    return NULL;
}

static void fcall_generic(client *c, int ro) {
    long long n;
    /* Before the function runs, so that MONITOR shows its calls after it. */
    server_feed_monitors(c);
    if (num_parse_ll(c->argv[2].p, c->argv[2].len, &n) != 0) {
        reply_error(c, "Bad number of keys provided");
        return;
    }
    if (n > c->argc - 3) {
        reply_error(c, "Number of keys can't be greater than number of args");
        return;
    }
    if (n < 0) {
        reply_error(c, "Number of keys can't be negative");
        return;
    }
    const fn_lib *lib;
    const fn_func *fn = fn_find(&c->argv[1], &lib);
    if (!fn) {
        reply_error(c, "Function not found");
        return;
    }
    if (!(fn->flags & FNF_NO_WRITES) && !config_enough_replicas()) {
        reply_error(c, ERR_NOREPLICAS);
        return;
    }
    if (ro && !(fn->flags & FNF_NO_WRITES)) {
        reply_error(c, "Can not execute a script with write flag using *_ro command.");
        return;
    }
    lua_rawgeti(FL, LUA_REGISTRYINDEX, lib->ref);
    lua_getfield(FL, -1, fn->name);
    lua_remove(FL, -2);
    script_lua_call_fn(c, FL, fn->name, c->argv + 3, (int)n, c->argv + 3 + n,
                       c->argc - 3 - (int)n, ro || (fn->flags & FNF_NO_WRITES),
                       (fn->flags & FNF_ALLOW_OOM) != 0);
}

uint64_t function_fcall_cmd_flags(const client *c, uint64_t cmd_flags) {
    const fn_func *fn = c->argc >= 2 ? fn_find(&c->argv[1], NULL) : NULL;
    if (!fn) return cmd_flags;
    return script_declared_cmd_flags(cmd_flags,
                                     ((fn->flags & FNF_NO_WRITES) ? SCRIPT_DECLARED_NO_WRITES : 0) |
                                         ((fn->flags & FNF_ALLOW_OOM) ? SCRIPT_DECLARED_ALLOW_OOM : 0));
}

/* FCALL function numkeys [key ...] [arg ...] */
void fcall_command(client *c) {
    fcall_generic(c, 0);
}

/* FCALL_RO function numkeys [key ...] [arg ...] */
void fcall_ro_command(client *c) {
    fcall_generic(c, 1);
}

void function_mem(script_mem *m) {
    m->vm_functions = script_lua_vm_bytes(FL);
    m->nlibraries = nlibs;
    m->nfunctions = 0;
    m->functions_bytes = 0;
    for (int i = 0; i < nlibs; i++) {
        const fn_lib *l = libs[i];
        m->nfunctions += l->nfns;
        m->functions_bytes += (long long)(sizeof *l + strlen(l->name) + 1 + l->len);
        for (int j = 0; j < l->nfns; j++) {
            const fn_func *f = &l->fns[j];
            m->functions_bytes += (long long)(sizeof *f + strlen(f->name) + 1);
            if (f->desc) m->functions_bytes += (long long)strlen(f->desc) + 1;
        }
    }
}
