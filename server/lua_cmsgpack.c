/* lua_cmsgpack.c — the `cmsgpack` library Redis gives its Lua scripts.
 *
 * cmsgpack.pack(v1, ...) returns the MessagePack encodings of its arguments
 * concatenated; cmsgpack.unpack(s) decodes every value in s;
 * cmsgpack.unpack_one(s [, offset]) and cmsgpack.unpack_limit(s, n
 * [, offset]) decode at most 1 / n values and return the offset to resume
 * at first (-1 once s is used up).
 *
 * The encodings are the ones Redis 7.0's lua-cmsgpack 0.4.0 produces, byte
 * for byte, since scripts store them in keys that other programs read:
 * - a Lua number that is an integer within int64 is packed in the smallest
 *   (u)int form for its sign; any other number as a 4-byte float when the
 *   float holds the same value (so also +-inf), else as an 8-byte double;
 * - strings use fixstr / str8 / str16 / str32 by length;
 * - a table whose keys are exactly 1..n (numbers fitting a C int) is an
 *   array, any other table (the empty one is an array) a map in lua_next
 *   order; a table nested 16 deep packs as nil (survives cycles);
 * - booleans are true/false; nil, functions and the rest are nil.
 * Decoding mirrors Redis's Lua 5.1 build as well: int64 and uint64 come
 * back as Lua numbers (a uint64 above 2^63-1 wraps negative), bin / ext and
 * 0xc1 are "Bad data format", a short input "Missing bytes", and
 * unpack_limit(s, 0) decodes everything and returns no offset.
 *
 * The output is built in a Lua userdata kept on the stack (grown by
 * replacing it), so an error raised mid-way leaks nothing and a nested call
 * (from an __index metamethod) has its own buffer. */
#include "server/lua_cmsgpack.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#define MP_MAX_NESTING 16

/* ---------------------------------------------------------------- output */

typedef struct {
    lua_State *L;
    int slot; /* stack index of the userdata holding the bytes */
    unsigned char *p;
    size_t len, cap;
} mp_out;

static void out_init(mp_out *o, lua_State *L) {
    o->L = L;
    o->cap = 64;
    o->len = 0;
    o->p = lua_newuserdata(L, o->cap);
    o->slot = lua_gettop(L);
}

static void out_put(mp_out *o, const void *s, size_t n) {
    if (o->cap - o->len < n) {
        size_t cap = o->cap;
        while (cap - o->len < n) {
            if (cap > SIZE_MAX / 2) luaL_error(o->L, "not enough memory");
            cap *= 2;
        }
        unsigned char *np = lua_newuserdata(o->L, cap);
        memcpy(np, o->p, o->len);
        lua_replace(o->L, o->slot);
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* A type byte followed by the low `width` bytes of v, big-endian. */
static void out_tagged(mp_out *o, unsigned char tag, uint64_t v, int width) {
    unsigned char b[9];
    b[0] = tag;
    for (int i = 0; i < width; i++) b[1 + i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    out_put(o, b, (size_t)width + 1);
}

/* ---------------------------------------------------------------- encode */

static void pack_int(mp_out *o, int64_t n) {
    if (n >= 0) {
        if (n <= 127) out_tagged(o, (unsigned char)n, 0, 0);
        else if (n <= 0xff) out_tagged(o, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) out_tagged(o, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) out_tagged(o, 0xce, (uint64_t)n, 4);
        else out_tagged(o, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) out_tagged(o, (unsigned char)(n & 0xff), 0, 0);
        else if (n >= -128) out_tagged(o, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768) out_tagged(o, 0xd1, (uint64_t)n, 2);
        else if (n >= INT32_MIN) out_tagged(o, 0xd2, (uint64_t)n, 4);
        else out_tagged(o, 0xd3, (uint64_t)n, 8);
    }
}

static void pack_number(mp_out *o, double d) {
    /* An integer value within int64 (the range test first: casting an
     * out-of-range double is undefined). 2^63 itself is not within. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == floor(d)) {
        pack_int(o, (int64_t)d);
        return;
    }
    if (isinf(d) || (fabs(d) <= FLT_MAX && (double)(float)d == d)) {
        float f = (float)d;
        uint32_t u;
        memcpy(&u, &f, 4);
        out_tagged(o, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        out_tagged(o, 0xcb, u, 8);
    }
}

static void pack_string(mp_out *o, const char *s, size_t n) {
    if (n < 32) out_tagged(o, (unsigned char)(0xa0 | n), 0, 0);
    else if (n <= 0xff) out_tagged(o, 0xd9, n, 1);
    else if (n <= 0xffff) out_tagged(o, 0xda, n, 2);
    else out_tagged(o, 0xdb, n, 4); /* above 4 GiB the length wraps, as Redis's */
    out_put(o, s, n);
}

static void pack_count(mp_out *o, unsigned char fix, unsigned char tag16, size_t n) {
    if (n <= 15) out_tagged(o, (unsigned char)(fix | n), 0, 0);
    else if (n <= 0xffff) out_tagged(o, tag16, n, 2);
    else out_tagged(o, (unsigned char)(tag16 + 1), n, 4);
}

/* 1 if the table on top has exactly the keys 1..n, each a number that
 * fits a C int (Redis's test; larger indexes make a map). */
static int table_is_array(lua_State *L) {
    int top = lua_gettop(L);
    long count = 0;
    double max = 0;
    luaL_checkstack(L, 2, "in function table_is_an_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        double n;
        if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || n > INT_MAX ||
            n != floor(n)) {
            lua_settop(L, top);
            return 0;
        }
        if (n > max) max = n;
        count++;
    }
    lua_settop(L, top);
    return max == (double)count;
}

static void pack_value(mp_out *o, int level);

static void pack_table(mp_out *o, int level) {
    lua_State *L = o->L;
    if (table_is_array(L)) {
        size_t n = lua_objlen(L, -1);
        pack_count(o, 0x90, 0xdc, n);
        luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
        for (size_t i = 1; i <= n; i++) {
            lua_pushnumber(L, (lua_Number)i);
            lua_gettable(L, -2);
            pack_value(o, level + 1);
        }
        return;
    }
    size_t n = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    pack_count(o, 0x80, 0xde, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        pack_value(o, level + 1); /* the key (the copy) */
        pack_value(o, level + 1); /* the value */
    }
}

/* Pack the value on top of the stack and pop it. */
static void pack_value(mp_out *o, int level) {
    lua_State *L = o->L;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        pack_string(o, s, n);
        break;
    }
    case LUA_TBOOLEAN: out_tagged(o, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0); break;
    case LUA_TNUMBER: pack_number(o, lua_tonumber(L, -1)); break;
    case LUA_TTABLE:
        if (level < MP_MAX_NESTING) {
            pack_table(o, level);
            break;
        }
        out_tagged(o, 0xc0, 0, 0);
        break;
    default: out_tagged(o, 0xc0, 0, 0); break;
    }
    lua_pop(L, 1);
}

static int l_pack(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs)) {
        return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    }
    mp_out o;
    out_init(&o, L);
    for (int i = 1; i <= nargs; i++) {
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        pack_value(&o, 0);
    }
    lua_pushlstring(L, (const char *)o.p, o.len);
    return 1;
}

/* ---------------------------------------------------------------- decode */

enum { MP_OK, MP_EOF, MP_BADFMT };

typedef struct {
    const unsigned char *p;
    size_t left;
    int err;
} mp_in;

/* The big-endian unsigned integer in p[0..width). */
static uint64_t be(const unsigned char *p, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; i++) v = (v << 8) | p[i];
    return v;
}

static int need(mp_in *c, size_t n) {
    if (c->left < n) {
        c->err = MP_EOF;
        return 0;
    }
    return 1;
}

static void skip(mp_in *c, size_t n) {
    c->p += n;
    c->left -= n;
}

static void unpack_value(lua_State *L, mp_in *c);

static void unpack_array(lua_State *L, mp_in *c, size_t n) {
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (size_t i = 1; i <= n; i++) {
        lua_pushnumber(L, (lua_Number)i);
        unpack_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void unpack_map(lua_State *L, mp_in *c, size_t n) {
    lua_newtable(L);
    while (n--) {
        unpack_value(L, c);
        if (c->err) return;
        unpack_value(L, c);
        if (c->err) return;
        lua_settable(L, -3); /* a nil or NaN key raises Lua's own error */
    }
}

/* A string of n bytes after a header of hdr bytes. */
static void unpack_str(lua_State *L, mp_in *c, size_t hdr, size_t n) {
    if (!need(c, hdr + n)) return;
    lua_pushlstring(L, (const char *)c->p + hdr, n);
    skip(c, hdr + n);
}

/* An integer of `width` bytes after the type byte; sign-extended when
 * `sign`. uint64 goes through int64 as in Redis (wraps above 2^63-1). */
static void unpack_int(lua_State *L, mp_in *c, int width, int sign) {
    if (!need(c, (size_t)width + 1)) return;
    uint64_t u = be(c->p + 1, width);
    int64_t v;
    if (sign && width < 8 && (u >> (8 * width - 1))) v = (int64_t)(u | (~0ULL << (8 * width)));
    else v = (int64_t)u;
    lua_pushnumber(L, (lua_Number)v);
    skip(c, (size_t)width + 1);
}

/* Decode one value at the cursor and push it; on a short or bad input set
 * c->err (what was pushed is then left for the caller's error to unwind). */
static void unpack_value(lua_State *L, mp_in *c) {
    if (!need(c, 1)) return;
    luaL_checkstack(L, 1,
                    "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char t = c->p[0];
    switch (t) {
    case 0xc0: lua_pushnil(L); skip(c, 1); return;
    case 0xc2: lua_pushboolean(L, 0); skip(c, 1); return;
    case 0xc3: lua_pushboolean(L, 1); skip(c, 1); return;
    case 0xcc: unpack_int(L, c, 1, 0); return;
    case 0xcd: unpack_int(L, c, 2, 0); return;
    case 0xce: unpack_int(L, c, 4, 0); return;
    case 0xcf: unpack_int(L, c, 8, 0); return;
    case 0xd0: unpack_int(L, c, 1, 1); return;
    case 0xd1: unpack_int(L, c, 2, 1); return;
    case 0xd2: unpack_int(L, c, 4, 1); return;
    case 0xd3: unpack_int(L, c, 8, 1); return;
    case 0xca: {
        if (!need(c, 5)) return;
        uint32_t u = (uint32_t)be(c->p + 1, 4);
        float f;
        memcpy(&f, &u, 4);
        lua_pushnumber(L, f);
        skip(c, 5);
        return;
    }
    case 0xcb: {
        if (!need(c, 9)) return;
        uint64_t u = be(c->p + 1, 8);
        double d;
        memcpy(&d, &u, 8);
        lua_pushnumber(L, d);
        skip(c, 9);
        return;
    }
    case 0xd9:
    case 0xda:
    case 0xdb: {
        int w = t == 0xd9 ? 1 : t == 0xda ? 2 : 4;
        if (!need(c, (size_t)w + 1)) return;
        unpack_str(L, c, (size_t)w + 1, be(c->p + 1, w));
        return;
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
        int w = (t == 0xdc || t == 0xde) ? 2 : 4;
        if (!need(c, (size_t)w + 1)) return;
        size_t n = be(c->p + 1, w);
        skip(c, (size_t)w + 1);
        if (t <= 0xdd) unpack_array(L, c, n);
        else unpack_map(L, c, n);
        return;
    }
    default: break;
    }
    if (!(t & 0x80)) { /* positive fixint */
        lua_pushnumber(L, t);
        skip(c, 1);
    } else if ((t & 0xe0) == 0xe0) { /* negative fixint */
        lua_pushnumber(L, (signed char)t);
        skip(c, 1);
    } else if ((t & 0xe0) == 0xa0) { /* fixstr */
        unpack_str(L, c, 1, t & 0x1f);
    } else if ((t & 0xf0) == 0x90) { /* fixarray */
        skip(c, 1);
        unpack_array(L, c, t & 0xf);
    } else if ((t & 0xf0) == 0x80) { /* fixmap */
        skip(c, 1);
        unpack_map(L, c, t & 0xf);
    } else {
        c->err = MP_BADFMT; /* 0xc1, bin, ext, fixext */
    }
}

/* Decode from s[offset..] at most `limit` values (all when both are 0,
 * Redis's quirk); unless decoding all, the resume offset comes first. The
 * string is argument 1 and the only one left on the stack. */
static int unpack_full(lua_State *L, lua_Integer limit, lua_Integer offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = !limit && !offset;
    if (offset < 0 || limit < 0) {
        /* Redis prints the input length where it means the limit. */
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          (int)offset, (int)len);
    }
    if ((size_t)offset > len) {
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset,
                          (int)len);
    }
    if (all) limit = INT_MAX;
    mp_in c = {(const unsigned char *)s + offset, len - (size_t)offset, MP_OK};
    int cnt;
    for (cnt = 0; c.left > 0 && cnt < limit; cnt++) {
        unpack_value(L, &c);
        if (c.err == MP_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_BADFMT) return luaL_error(L, "Bad data format in input.");
    }
    if (all) return cnt;
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2);
    return cnt + 1;
}

/* Drop all arguments but the first (none stays none: the error then says
 * "got no value", as Redis's). */
static void keep_first(lua_State *L) {
    if (lua_gettop(L) > 1) lua_settop(L, 1);
}

static int l_unpack(lua_State *L) {
    return unpack_full(L, 0, 0);
}

static int l_unpack_one(lua_State *L) {
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    keep_first(L);
    return unpack_full(L, 1, offset);
}

static int l_unpack_limit(lua_State *L) {
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    keep_first(L);
    return unpack_full(L, limit, offset);
}

void lua_open_cmsgpack(lua_State *L) {
    static const luaL_Reg fns[] = {{"pack", l_pack},
                                   {"unpack", l_unpack},
                                   {"unpack_one", l_unpack_one},
                                   {"unpack_limit", l_unpack_limit},
                                   {NULL, NULL}};
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    lua_setglobal(L, "cmsgpack");
}
