/* lua_struct.c — the `struct` library Redis gives its Lua scripts.
 *
 * struct.pack(fmt, v1, ...) packs values into a binary string,
 * struct.unpack(fmt, s [, pos]) reads them back (then the position after
 * the last byte read), struct.size(fmt) is the length of a fixed format.
 * Format letters, as Roberto Ierusalimschy's struct library that Redis
 * ships: > < big / little endian, ![n] maximum alignment (default 8),
 * x a zero byte, b B h H l L T i[n] I[n] signed / unsigned integers of
 * 1, 2, 8, 8, 8 or n (default 4, at most 32) bytes, f d float / double,
 * c[n] n bytes of a string (c0: all of it when packing, a length read just
 * before when unpacking), s a zero-terminated string, ' ' ignored.
 *
 * Behaviour follows Redis 7.0's build on x86-64 even where it is odd, since
 * scripts depend on the bytes: integers travel through 64 bits (wider ones
 * are zero-filled, not sign-extended), unpacked integers are Lua numbers
 * (doubles), alignment pads up to min(size, the ! value), and size() lets
 * an unknown letter through where pack and unpack refuse it. */
#include "server/lua_struct.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#define MAX_INT_SIZE  32
#define DEFAULT_ALIGN 8 /* the alignment of a double on x86-64 */

typedef struct {
    int little; /* byte order of what is packed (the machine's: little) */
    int align;
} st_header;

/* The decimal number at *fmt (advancing it), or df when there is none. */
static int st_num(lua_State *L, const char **fmt, int df) {
    if (!isdigit((unsigned char)**fmt)) return df;
    int a = 0;
    do {
        int d = **fmt - '0';
        if (a > INT_MAX / 10 || a * 10 > INT_MAX - d) luaL_error(L, "integral size overflow");
        a = a * 10 + d;
        (*fmt)++;
    } while (isdigit((unsigned char)**fmt));
    return a;
}

/* Bytes an option takes (0 for the control options and 's'). */
static size_t st_optsize(lua_State *L, int opt, const char **fmt) {
    switch (opt) {
    case 'B':
    case 'b':
    case 'x': return 1;
    case 'H':
    case 'h': return 2;
    case 'L':
    case 'l':
    case 'T':
    case 'd': return 8;
    case 'f': return 4;
    case 'c': return (size_t)st_num(L, fmt, 1);
    case 'i':
    case 'I': {
        int sz = st_num(L, fmt, 4);
        if (sz > MAX_INT_SIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", sz, MAX_INT_SIZE);
        return (size_t)sz;
    }
    default: return 0;
    }
}

/* 1 for the integer options (lower case signed, upper case unsigned). */
static int st_is_int(int opt) {
    return opt && strchr("bBhHlLTiI", opt) != NULL;
}

/* Padding before an item of `size` bytes at offset len (the library's
 * formula, also for sizes that are not powers of 2). */
static size_t st_toalign(size_t len, const st_header *h, int opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)h->align) size = (size_t)h->align;
    return (size - (len & (size - 1))) & (size - 1);
}

static void st_control(lua_State *L, int opt, const char **fmt, st_header *h) {
    switch (opt) {
    case ' ': return;
    case '>': h->little = 0; return;
    case '<': h->little = 1; return;
    case '!': {
        int a = st_num(L, fmt, DEFAULT_ALIGN);
        if (a <= 0 || (a & (a - 1))) luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default: {
        const char *msg = lua_pushfstring(L, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

/* A Lua number as the library's C conversion gives it on x86-64: through
 * int64 when negative, through uint64 otherwise (0 from 2^64 up, 2^63 for
 * NaN). */
static uint64_t st_to_u64(double n) {
    if (isnan(n)) return (uint64_t)1 << 63;
    if (n < 0) return n < -9223372036854775808.0 ? (uint64_t)INT64_MIN : (uint64_t)(int64_t)n;
    if (!(n < 18446744073709551616.0)) return 0;
    return (uint64_t)n;
}

static void st_put_int(lua_State *L, luaL_Buffer *b, int arg, int little, size_t size) {
    uint64_t v = st_to_u64(luaL_checknumber(L, arg));
    char out[MAX_INT_SIZE];
    for (size_t i = 0; i < size; i++) {
        out[little ? i : size - 1 - i] = (char)(v & 0xff);
        v = i < 7 ? v >> 8 : 0;
    }
    luaL_addlstring(b, out, size);
}

/* n bytes of p in the format's byte order, from or to the machine's. */
static void st_order(void *p, size_t n, int little) {
    if (little) return;
    unsigned char *c = p;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = c[i];
        c[i] = c[n - 1 - i];
        c[n - 1 - i] = t;
    }
}

static int l_struct_pack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    st_header h = {1, 1};
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    lua_pushnil(L); /* keeps the buffer apart from the arguments */
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        size_t pad = st_toalign(total, &h, opt, size);
        total += pad;
        while (pad-- > 0) luaL_addchar(&b, '\0');
        if (st_is_int(opt)) {
            st_put_int(L, &b, arg++, h.little, size);
            total += size;
            continue;
        }
        switch (opt) {
        case 'x': luaL_addchar(&b, '\0'); break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            st_order(&f, 4, h.little);
            luaL_addlstring(&b, (const char *)&f, 4);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            st_order(&d, 8, h.little);
            luaL_addlstring(&b, (const char *)&d, 8);
            break;
        }
        case 'c':
        case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0) size = l;
            /* The library names the argument after this one. */
            luaL_argcheck(L, l >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default: st_control(L, opt, &fmt, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

/* The integer of `size` bytes at p as a Lua number. Wider than 8 bytes,
 * only the last 8 read count, and the sign test looks at bit
 * (size*8-1) mod 64, as the library's shift does on x86-64. */
static lua_Number st_get_int(const char *p, int little, int is_signed, size_t size) {
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = (v << 8) | (unsigned char)p[little ? size - 1 - i : i];
    if (!is_signed) return (lua_Number)v;
    uint64_t mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
    if (v & mask) v |= mask;
    return (lua_Number)(int64_t)v;
}

static int l_struct_unpack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    st_header h = {1, 1};
    int n = 0;
    while (*fmt) {
        int opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_toalign(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        if (st_is_int(opt)) {
            lua_pushnumber(L, st_get_int(data + pos, h.little, islower(opt), size));
            n++;
            pos += size;
            continue;
        }
        switch (opt) {
        case 'x': break;
        case 'f': {
            float f;
            memcpy(&f, data + pos, 4);
            st_order(&f, 4, h.little);
            lua_pushnumber(L, f);
            n++;
            break;
        }
        case 'd': {
            double d;
            memcpy(&d, data + pos, 8);
            st_order(&d, 8, h.little);
            lua_pushnumber(L, d);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)lua_tonumber(L, -1);
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        case 's': {
            const char *e = memchr(data + pos, '\0', ld - pos);
            if (!e) luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default: st_control(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return n + 1;
}

static int l_struct_size(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    st_header h = {1, 1};
    size_t pos = 0;
    while (*fmt) {
        int opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_toalign(pos, &h, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum(opt)) st_control(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

void lua_open_struct(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"pack", l_struct_pack}, {"unpack", l_struct_unpack}, {"size", l_struct_size}, {NULL, NULL}};
    luaL_register(L, "struct", fns);
    lua_pop(L, 1);
}
