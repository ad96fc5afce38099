/* lua_cmsgpack.h — the `cmsgpack` Lua library of Redis scripts
 * (MessagePack pack / unpack, byte-exact with Redis 7.0; lua_cmsgpack.c). */
#ifndef LODIS_LUA_CMSGPACK_H
#define LODIS_LUA_CMSGPACK_H

#include <lua.h>

/* Create the cmsgpack table (pack, unpack, unpack_one, unpack_limit) and set
 * it as the global `cmsgpack`. The caller makes it read-only afterwards. */
void lua_open_cmsgpack(lua_State *L);

#endif
