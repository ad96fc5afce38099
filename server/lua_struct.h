/* lua_struct.h — the `struct` Lua library of Redis scripts (binary pack /
 * unpack / size, byte-exact with Redis 7.0's; lua_struct.c). */
#ifndef LODIS_LUA_STRUCT_H
#define LODIS_LUA_STRUCT_H

#include <lua.h>

/* Create the struct table (pack, unpack, size) as the global `struct`. The
 * caller makes it read-only afterwards. */
void lua_open_struct(lua_State *L);

#endif
