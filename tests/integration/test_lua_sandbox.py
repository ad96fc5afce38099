"""The Lua sandbox (server/script_lua.c): no script can change what later
scripts see. Each attempt below (through loadstring / load chunks,
getfenv / setfenv, the debug library, strings' metatable, a library's
metatable, setmetatable / rawset) must fail as it fails on Redis 7.0, and
redis.call, string methods and the globals must be intact afterwards.
Compared script by script with a reference redis-server."""

import pytest

from lodis_testlib import eval_or_error, script_divergences

ATTEMPTS = [
    "local f = loadstring('redis = {call = function() return 42 end}') "
    "local ok, e = pcall(f) return {tostring(ok), tostring(e)}",
    "local f = loadstring('x_evil = 1') local ok, e = pcall(f) return {tostring(ok), tostring(e)}",
    "local ok, f = pcall(loadstring, 'y_evil = 2') local ok2, e = pcall(f) "
    "return {tostring(ok2), tostring(e)}",
    "local f = load(function() if z_done then return nil end return 'z_evil = 3' end) "
    "return tostring(f)",
    "local co = coroutine.wrap(function() return loadstring('w_evil = 1') end) "
    "local ok, e = pcall(co()) return {tostring(ok), tostring(e)}",
    "local t = {} for _, g in ipairs({'getfenv', 'setfenv', 'newproxy', 'debug'}) do "
    "local ok = pcall(function() return _G[g] end) t[#t + 1] = g .. '=' .. tostring(ok) end "
    "return t",
    "local ok, e = pcall(function() getmetatable('').__index.upper = function() "
    "return 'hijacked' end end) return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() getmetatable('').__index = {} end) "
    "return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() setmetatable(getmetatable(''), {}) end) "
    "return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() rawset(getmetatable(''), '__index', {}) end) "
    "return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() getmetatable(redis).__index.call = function() "
    "return 'hijacked' end end) return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() getmetatable(_G).__index = nil end) "
    "return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() setmetatable(redis, {}) end) "
    "local ok2, e2 = pcall(function() rawset(cjson, 'x', 1) end) return {e, e2}",
    "return tostring(getmetatable(redis)) .. tostring(getmetatable(string))",
    "return {type(getmetatable('')), type(getmetatable(_G)), "
    "tostring(getmetatable('').__index == string)}",
]

# What scripts can see: every library listed by pairs (through the
# read-only proxies), the globals, cjson.new instances, Redis's error
# handler global; the proxies never hand out the real tables.
VISIBLE = [
    "local t = {} for k in pairs(%s) do t[#t + 1] = k end table.sort(t) return t" % lib
    for lib in ("redis", "string", "cjson", "cmsgpack", "struct", "bit", "math", "table",
                "coroutine", "_G")
] + [
    "return {type(rawget(redis, 'call')), type(rawget(string, 'rep')), "
    "tostring(rawget(redis, 'nosuch'))}",
    "local f, s = pairs(redis) local ok, e = pcall(function() s.call = nil end) "
    "return {tostring(ok), tostring(e)}",
    "local ok, e = pcall(function() coroutine.evil = 1 end) return {tostring(ok), tostring(e)}",
    "local c = cjson.new() c.encode_number_precision(3) return {c.encode({3.14159}), "
    "cjson.encode({3.14159}), c.encode_number_precision(), cjson.encode_number_precision()}",
    "local c = cjson.new() c.foo = 1 return {type(c.new), c.foo, c.encode({1})}",
    "local t = __redis__err__handler('boom') return {t.err, type(t.source), type(t.line)}",
    "local ok, e = pcall(function() __redis__err__handler = nil end) "
    "return {tostring(ok), tostring(e)}",
]

AFTERWARDS = [
    "return redis.call('ping')",
    "return string.upper('a') .. ('b'):upper() .. ('%d'):format(5) .. ('abc'):sub(2)",
    "local t = {} for _, g in ipairs({'x_evil', 'y_evil', 'z_evil', 'w_evil'}) do "
    "local ok = pcall(function() return _G[g] end) t[#t + 1] = tostring(ok) end return t",
    "local f = loadstring('return redis.call(\"ping\")') return f()",
    "local f = loadstring('return undefined_thing') local ok, e = pcall(f) "
    "return {tostring(ok), tostring(e)}",
    "local mt = {} local t = setmetatable({}, mt) mt.__index = {y = 3} "
    "return {t.y, tostring(getmetatable(t) == mt)}",
]


def test_escapes_fail_and_leave_later_scripts_alone(r, reference):
    for s in ATTEMPTS:
        eval_or_error(r, s)
    assert r.eval("return redis.call('ping')", 0) == b"PONG"
    assert r.eval("return ('b'):upper()", 0) == b"B"
    assert "nonexistent global variable 'x_evil'" in eval_or_error(r, "return x_evil")
    if reference is None:
        pytest.skip("redis-server not installed")
    assert script_divergences(r, reference, ATTEMPTS + AFTERWARDS) == []


def test_what_scripts_see_matches_redis(r, reference):
    assert b"call" in r.eval(VISIBLE[0], 0)
    if reference is None:
        pytest.skip("redis-server not installed")
    assert script_divergences(r, reference, VISIBLE) == []
