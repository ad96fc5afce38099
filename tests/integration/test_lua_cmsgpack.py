"""cmsgpack in Lua scripts (server/lua_cmsgpack.c): pack and unpack give the
bytes and values Redis 7.0's lua-cmsgpack gives, for every integer width and
sign, float vs double, each string length class, arrays vs maps, nesting,
nil and the stream offsets of unpack_one / unpack_limit. Compared script by
script with a reference redis-server; a few byte-level expectations hold
without one."""

import pytest

from lodis_testlib import eval_or_error, script_divergences

# One script per entry; each returns something whose bytes tell the
# encoding apart (packed strings, or tostring'ed decoded numbers).
SCRIPTS = [
    # integers: each width's edges, both signs
    "local t = {} for _, v in ipairs({0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295,"
    " 4294967296, 2^53, -1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31 - 1, -2^53,"
    " -2^63}) do t[#t + 1] = cmsgpack.pack(v) end return t",
    # floats: what a float holds exactly packs as a float, the rest as a double
    "local t = {} for _, v in ipairs({1.5, -1.5, 0.1, -0.0, 1/0, -1/0, 3.4e38, 3.5e38, 1e-45,"
    " 1e300, 2^63, 2^64, 123456789.123, 1e10 + 0.5}) do t[#t + 1] = cmsgpack.pack(v) end"
    " return t",
    "return cmsgpack.pack(0/0)",
    # strings of each length class
    "return cmsgpack.pack('', string.rep('a', 31), string.rep('b', 32), string.rep('c', 255),"
    " string.rep('d', 256))",
    "local s = cmsgpack.pack(string.rep('e', 65535)) return {#s, s:sub(1, 4)}",
    "local s = cmsgpack.pack(string.rep('f', 65536)) return {#s, s:sub(1, 6)}",
    # tables: array or map, holes, non-integer and out-of-int keys, nesting
    "return cmsgpack.pack({}, {1, 2, 3}, {a = 1}, {1, 2, nil, 4}, {[1] = 1, [2] = 2, [4] = 4},"
    " {[0] = 1}, {[1.5] = 1}, {[2^31] = 1}, {true, false}, {x = {y = {z = {1, 2}}}})",
    "local t = {} for i = 1, 20 do t[i] = i end return cmsgpack.pack(t)",
    "local t = {} for i = 1, 70000 do t[i] = i % 3 end local s = cmsgpack.pack(t)"
    " return {#s, s:sub(1, 12)}",
    "local t = {} for i = 1, 20 do t['k' .. i] = i end return cmsgpack.pack(t)",
    "local t = {} for i = 1, 70000 do t['k' .. i] = i end local s = cmsgpack.pack(t)"
    " return {#s, s:sub(1, 5), redis.sha1hex(s)}",
    "return cmsgpack.pack({[1] = 1, [2] = 2, x = 3})",
    "local t = {} t.a = t return cmsgpack.pack(t)",
    "local a = {} local c = a for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(a)",
    # nil and the types msgpack has no form for
    "return cmsgpack.pack(nil)",
    "return cmsgpack.pack(nil, 1, nil)",
    "return cmsgpack.pack(print, function() end, true)",
    "return cmsgpack.pack()",
    # unpack of every type
    "return {cmsgpack.unpack(cmsgpack.pack(1, 2, 'x', {1, 2}, {a = 'b'}))}",
    "local r = {cmsgpack.unpack(cmsgpack.pack(-1, -200, -40000, -3000000000, 3000000000,"
    " 2^40, -2^40, 1.5, 0.1, 1/0))} for i = 1, #r do r[i] = tostring(r[i]) end return r",
    "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))",
    "return tostring(cmsgpack.unpack('\\207\\128\\0\\0\\0\\0\\0\\0\\1'))",
    "return tostring(cmsgpack.unpack('\\211\\255\\255\\255\\255\\255\\255\\255\\254'))",
    "return tostring(cmsgpack.unpack('\\208\\128')) .. tostring(cmsgpack.unpack('\\209\\128\\1'))"
    " .. tostring(cmsgpack.unpack('\\210\\128\\0\\0\\1'))",
    "return {cmsgpack.unpack('\\147\\1\\2\\3\\145\\146\\1\\194\\195\\192')}",
    "local t = cmsgpack.unpack(cmsgpack.pack({a = {b = {c = {1, 2, 3}}}, [1] = 'x', [5] = 'y'}))"
    " return {t.a.b.c[3], t[1], t[5]}",
    "return cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({1, {2, {3, {4}}}, {k = {v = 1}}})))",
    "return cmsgpack.unpack(string.char(0xd9, 3) .. 'abc', string.char(0xda, 0, 1) .. 'z')",
    # bad input
    "return cmsgpack.unpack('\\193')",
    "return cmsgpack.unpack('\\196\\1a')",
    "return cmsgpack.unpack('\\212\\1a')",
    "return cmsgpack.unpack('\\205\\1')",
    "return cmsgpack.unpack('\\147\\1\\2')",
    "return cmsgpack.unpack('\\129\\192\\1')",
    "return cmsgpack.unpack(string.char(0xdb, 0, 0, 0, 5) .. 'abc')",
    "return cmsgpack.unpack(string.char(0xdf, 0, 0, 0, 1, 1))",
    "return {cmsgpack.unpack()}",
    "return {cmsgpack.unpack({})}",
    "return {cmsgpack.unpack(12)}",
    "local s = string.rep('\\1', 10000) return #{cmsgpack.unpack(s)}",
    "local s = string.rep('\\145', 9000) .. '\\1' return type(cmsgpack.unpack(s))",
    # streams: unpack_one / unpack_limit and their offsets
    "return {cmsgpack.unpack('')}",
    "return {cmsgpack.unpack_one('')}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_one()}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))}",
    # the library table is read-only, as Redis 7's
    "cmsgpack.pack = nil return 1",
    "cmsgpack.extra = 1 return 1",
    "return cmsgpack._NAME .. ' ' .. cmsgpack._VERSION",
]


run = eval_or_error


def test_cmsgpack_matches_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    assert script_divergences(r, reference, SCRIPTS) == []


def test_cmsgpack_bytes(r):
    assert r.eval("return cmsgpack.pack(-33, 200, -2^63)", 0) == (
        b"\xd0\xdf" + b"\xcc\xc8" + b"\xd3\x80" + b"\x00" * 7)
    assert r.eval("return cmsgpack.pack(1.5, 0.1)", 0) == (
        b"\xca\x3f\xc0\x00\x00" + b"\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a")
    assert r.eval("return cmsgpack.pack({1, 2}, {a = true}, {})", 0) == (
        b"\x92\x01\x02" + b"\x81\xa1a\xc3" + b"\x90")
    assert r.eval("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", 0) == [2, 1, 2]
    assert "Missing bytes in input." in run(r, "return cmsgpack.unpack('\\205\\1')")
    assert "Attempt to modify a readonly table" in run(r, "cmsgpack.pack = nil")


def test_cmsgpack_in_functions_and_keys(r):
    """Functions have the library too, and a packed value stored in a key
    reads back through unpack."""
    r.execute_command("FUNCTION", "LOAD", "#!lua name=mp\n"
                      "redis.register_function('put', function(k, a)\n"
                      "  return redis.call('SET', k[1], cmsgpack.pack({a[1], tonumber(a[2])}))\n"
                      "end)\n"
                      "redis.register_function('get', function(k, a)\n"
                      "  local t = cmsgpack.unpack(redis.call('GET', k[1]))\n"
                      "  return {t[1], t[2] + 1}\n"
                      "end)")
    assert r.fcall("put", 1, "m", "name", 41) == b"OK"
    assert r.get("m") == b"\x92\xa4name\x29"
    assert r.fcall("get", 1, "m") == [b"name", 42]
