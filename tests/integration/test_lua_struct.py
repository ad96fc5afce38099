"""struct in Lua scripts (server/lua_struct.c): pack, unpack and size give
the bytes and values of Redis 7.0's struct library, for every integer width
and sign (wider than 8 bytes too), both byte orders, float and double,
c / c0 / s strings, alignment with !, offsets and every error. Compared
script by script with a reference redis-server; a few byte-level
expectations hold without one."""

import pytest

from lodis_testlib import eval_or_error, script_divergences

SCRIPTS = [
    "return struct.pack('>I2', 5)",
    "return {struct.pack('bBhHlLTiI', -1, 255, -2, 65535, -3, 2^40, 7, -4, 4000000000)}",
    "return {struct.pack('<bBhHlLTiI', -1, 255, -2, 65535, -3, 2^40, 7, -4, 4000000000)}",
    "return {struct.pack('>i3I5i16I16', -5, 2^33, -1, 2^63)}",
    "return {struct.pack('<i16', -1), struct.pack('<I9', 2^64), struct.pack('<I8', 2^64), struct.pack('<i8', -2^70), struct.pack('<I8', 0/0), struct.pack('<i4', 1.9), struct.pack('<i4', -1.9)}",
    "return {struct.pack('>fd', 1.5, 0.1), struct.pack('<fd', 1.5, 0.1)}",
    "return {struct.pack('c3c0sx', 'abcdef', 'xyz', 'hello')}",
    "return struct.pack('c10', 'abc')",
    "return struct.pack('!4 b i b d', 1, 2, 3, 4.5)",
    "return struct.pack('!b d', 1, 4.5)",
    "return struct.pack('!2 b i3 b', 1, 2, 3)",
    "return struct.pack('!3 b', 1)",
    "return struct.pack('z', 1)",
    "return struct.pack('i33', 1)",
    "return struct.pack('i', 'x')",
    "return struct.pack('i')",
    "return {struct.unpack('>I2', '\\0\\5')}",
    "local s = struct.pack('<bBhHlLTiI', -1, 255, -2, 65535, -3, 2^40, 7, -4, 4000000000) local r = {struct.unpack('<bBhHlLTiI', s)} for i = 1, #r do r[i] = tostring(r[i]) end return r",
    "local s = struct.pack('>i3I5i16I16', -5, 2^33, -1, 2^63) local r = {struct.unpack('>i3I5i16I16', s)} for i = 1, #r do r[i] = tostring(r[i]) end return r",
    "local r = {struct.unpack('<i9', string.rep('\\255', 9))} for i = 1, #r do r[i] = tostring(r[i]) end return r",
    "local r = {struct.unpack('>fd', struct.pack('>fd', 1.5, 0.1))} for i = 1, #r do r[i] = tostring(r[i]) end return r",
    "return {struct.unpack('c3 s b c0', 'abchello\\0' .. string.char(2) .. 'xyz')}",
    "return {struct.unpack('b c0', string.char(5) .. 'xy')}",
    "return {struct.unpack('c0', 'xy')}",
    "return {struct.unpack('s', 'xy')}",
    "return {struct.unpack('i', 'xy')}",
    "return {struct.unpack('b', 'xyz', 2)}",
    "return {struct.unpack('b', 'xyz', 0)}",
    "return {struct.unpack('b', 'xyz', -1)}",
    "return {struct.unpack('b', 'xyz', 4)}",
    "return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}",
    "return {struct.size('bhi'), struct.size('!8 b d'), struct.size('c5'), struct.size('>i16'), struct.size('z'), struct.size('x x')}",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.size('!5')",
    "return struct.size('@')",
    'struct.pack = nil return 1',
    "return {struct.unpack('<I4', struct.pack('<I4', 4294967295))}",
    "return struct.pack('i99999999999', 1)",
]


run = eval_or_error


def test_struct_matches_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    assert script_divergences(r, reference, SCRIPTS) == []


def test_struct_bytes(r):
    assert r.eval("return struct.pack('>I2', 5)", 0) == b"\x00\x05"
    assert r.eval("return struct.pack('<i16', -1)", 0) == b"\xff" * 8 + b"\x00" * 8
    assert r.eval("return struct.pack('!4 b i', 1, 2)", 0) == b"\x01\x00\x00\x00\x02\x00\x00\x00"
    assert r.eval("return {struct.unpack('>h c0', struct.pack('>h c0', 3, 'abc'))}", 0) == [b"abc", 6]
    assert r.eval("return struct.size('!8 b d')", 0) == 16
    assert "invalid format option 'z'" in run(r, "return struct.pack('z', 1)")
    assert "Attempt to modify a readonly table" in run(r, "struct.pack = nil")
