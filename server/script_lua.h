/* script_lua.h — the Lua 5.1 engine behind EVAL / EVALSHA / SCRIPT.
 *
 * One interpreter for the whole server. Scripts are compiled once and kept
 * in the interpreter's registry under their SHA1; running one sets KEYS and
 * ARGV, calls it under an error handler and turns its result into a reply.
 * redis.call / redis.pcall run commands through one fake client whose reply
 * bytes are parsed back into Lua values (script_lua.c). */
#ifndef LODIS_SCRIPT_LUA_H
#define LODIS_SCRIPT_LUA_H

#include <stddef.h>
#include <stdint.h>

#include "server/client.h"

/* Create / destroy the interpreter (and the fake client). */
void script_lua_init(void);
void script_lua_shutdown(void);
/* SCRIPT FLUSH: a fresh interpreter with an empty cache. */
void script_lua_reset(void);

/* 40 lower-case hex digits + NUL of SHA1(p[0..len)). */
void script_sha1_hex(const void *p, size_t len, char out[41]);

/* Compile and cache a script body; fills sha. On a compile error replies the
 * error to c and returns -1. */
int script_lua_load(client *c, const char *body, size_t len, char sha[41]);
/* 1 if a script with this (40-digit, lower-case) sha is cached. */
int script_lua_exists(const char *sha);
/* Run a cached script (sha must exist) and reply its result to c. */
void script_lua_run(client *c, const char *sha, const arg *keys, int nkeys, const arg *args,
                    int nargs, int readonly);
/* 1 while a script runs. */
int script_lua_running(void);
/* SCRIPT KILL (is_eval) / FUNCTION KILL: replies OK and has the running
 * script stopped at its next hook, or replies why not (NOTBUSY,
 * UNKILLABLE, or BUSY for the other kind). */
void script_lua_kill(client *c, int is_eval);
/* While a script or function runs: BUSY_EVAL or BUSY_FUNCTION, with its
 * name (sha or function name), calling client and run time so far; else 0. */
int script_lua_running_info(const char **name, client **caller, int64_t *duration_ms);

/* FUNCTION support (cmd_function.c). A new interpreter with the same
 * libraries and redis table as the scripts' one; the caller owns it. */
struct lua_State;
struct lua_State *script_lua_new_vm(void);
/* Call the Lua function on top of Ls's stack as f(keys, args) and reply its
 * result (or error, naming the function) to c; the stack is left empty. */
void script_lua_call_fn(client *c, struct lua_State *Ls, const char *name, const arg *keys,
                        int nkeys, const arg *args, int nargs, int readonly, int allow_oom);

/* Redis's command flags for a script or function that declares flags: its
 * command may write unless no-writes, and is refused out of memory (deny
 * OOM) unless no-writes or allow-oom. declared: SCRIPT_DECLARED_* bits. */
#define SCRIPT_DECLARED_NO_WRITES 2
#define SCRIPT_DECLARED_ALLOW_OOM 4
uint64_t script_declared_cmd_flags(uint64_t cmd_flags, int declared);
/* The flags EVAL / EVALSHA (_RO) c runs with: its script's declared ones
 * (a shebang), else cmd_flags (no shebang, not cached, a bad shebang). */
uint64_t script_eval_cmd_flags(const client *c, uint64_t cmd_flags, int by_sha);
/* The same for FCALL / FCALL_RO (cmd_function.c). */
uint64_t function_fcall_cmd_flags(const client *c, uint64_t cmd_flags);

/* INFO memory's scripting fields: the EVAL interpreter and its script
 * cache (script_lua_mem), the functions' interpreter and libraries
 * (function_mem, cmd_function.c). Byte counts are the Lua heaps as Lua
 * counts them and the cached code with its names. */
typedef struct script_mem {
    long long vm_eval, scripts_eval, cached_scripts;
    long long vm_functions, functions_bytes, nfunctions, nlibraries;
} script_mem;
void script_lua_mem(script_mem *m);
void function_mem(script_mem *m);
/* Lua's count of Ls's heap in bytes (0 for NULL). */
long long script_lua_vm_bytes(struct lua_State *Ls);

#endif
