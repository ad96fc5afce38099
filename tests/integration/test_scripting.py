"""Lua scripting (server/cmd_script.c, server/script_lua.c): the common
script patterns run verbatim, EVALSHA/SCRIPT cache, conversions, errors,
and a script's writes surviving a restart as one unit."""

import hashlib

import pytest
import redis

RATE = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if current > tonumber(ARGV[2]) then return 0 end
return 1
"""

SLIDING = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, window)
  return 1
end
return 0
"""

UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
"""

STOCK = """
local s = tonumber(redis.call('GET', KEYS[1]))
if s and s > 0 then return redis.call('DECR', KEYS[1]) end
return -1
"""


def test_fixed_window_rate_limiter(r):
    assert [r.eval(RATE, 1, "rl", 60, 2) for _ in range(3)] == [1, 1, 0]
    assert 0 < r.ttl("rl") <= 60


def test_sliding_window(r):
    got = [r.eval(SLIDING, 1, "sw", t, 100, 2, m) for t, m in
           [(1000, "a"), (1010, "b"), (1020, "c"), (1200, "d")]]
    assert got == [1, 1, 0, 1]
    assert r.zrange("sw", 0, -1) == [b"d"]


def test_lock_release_and_stock(r):
    r.set("lock", "tok", nx=True, px=30000)
    assert r.eval(UNLOCK, 1, "lock", "other") == 0
    assert r.eval(UNLOCK, 1, "lock", "tok") == 1
    assert r.exists("lock") == 0
    r.set("stock", 2)
    assert [r.eval(STOCK, 1, "stock") for _ in range(3)] == [1, 0, -1]


def test_evalsha_and_script_cache(r):
    body = "return ARGV[1] .. KEYS[1]"
    sha = r.script_load(body)
    assert sha == hashlib.sha1(body.encode()).hexdigest()
    assert r.evalsha(sha, 1, "k", "v") == b"vk"
    assert r.evalsha(sha.upper(), 1, "k", "v") == b"vk"
    assert r.script_exists(sha, "0" * 40) == [True, False]
    r.script_flush()
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 0)
    r.eval("return 1", 0)  # EVAL caches too
    assert r.script_exists(hashlib.sha1(b"return 1").hexdigest()) == [True]


def test_conversions(r):
    assert r.eval("return {1, 2.9, 'x', {true, false}, nil, 5}", 0) == [1, 2, b"x", [1, None]]
    assert r.eval("return {ok='FINE'}", 0) == b"FINE"
    with pytest.raises(redis.exceptions.ResponseError, match="^My Error$"):
        r.eval("return {err='My Error'}", 0)
    assert r.eval("return redis.call('GET', 'missing') == false", 0) == 1
    assert r.eval("return cjson.encode(cjson.decode('[1,\"a\",[true]]'))", 0) == b'[1,"a",[true]]'
    assert r.eval("return redis.sha1hex('abc')", 0) == b"a9993e364706816aba3e25717850c26c9cd0d89d"


def test_errors(r):
    r.set("s", "x")
    with pytest.raises(redis.exceptions.ResponseError,
                       match=r"not an integer or out of range script: [0-9a-f]{40}, on @user_script:1\."):
        r.eval("return redis.call('INCR', 's')", 0)
    assert r.eval("return redis.pcall('INCR', 's')['err']", 0).startswith(b"ERR value")
    with pytest.raises(redis.exceptions.ResponseError, match="readonly table"):
        r.eval("x = 1", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="nonexistent global variable 'os'"):
        r.eval("return os", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="not allowed from read-only"):
        r.eval_ro("return redis.call('SET', 'a', 'b')", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="Error compiling script"):
        r.eval("this is not lua", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="NOTBUSY"):
        r.script_kill()


def test_script_select_does_not_leak(r):
    assert r.eval("redis.call('SELECT', 3); redis.call('SET', 'in3', 1); return 1", 0) == 1
    assert r.exists("in3") == 0
    r.execute_command("SELECT", 3)
    assert r.get("in3") == b"1"


def test_script_writes_survive_restart(server_factory):
    s = server_factory()
    c = redis.Redis(port=s.port)
    c.eval("for i = 1, 100 do redis.call('SET', 'k' .. i, i) end return 1", 0)
    s.kill9()
    s.start()
    c = redis.Redis(port=s.port)
    assert c.get("k100") == b"100"


BYTECODE_SCRIPTS = [
    "return loadstring(string.dump(function() return 1 end))()",
    "local f, e = loadstring(string.dump(function() return 1 end)); return {type(f), e ~= nil}",
    "return loadstring('return 1+1')()",
    "local f, e = loadstring('return +'); return e",
    "local p = {'return ', '42'}; local i = 0; return load(function() i = i + 1; return p[i] end)()",
    "local s = string.dump(function() return 1 end); local done = false; "
    "local f = load(function() if done then return nil end; done = true; return s end); "
    "return type(f)",
]


def test_precompiled_chunks_are_refused_like_redis(r, reference):
    """Bytecode (string.dump output) could escape the sandbox: loadstring and
    load refuse it as Redis's Lua does, while source still loads."""
    if reference is None:
        pytest.skip("redis-server not installed")

    def run(cli):
        out = []
        for s in BYTECODE_SCRIPTS:
            try:
                out.append(cli.eval(s, 0))
            except redis.ResponseError as e:
                out.append("error: " + str(e).split(" script:")[0])
        return out

    assert run(r) == run(reference)
    assert run(r)[0].startswith("error: user_script:1: attempt to call a nil value")


# Blocking commands with a timeout of 0 (forever): inside MULTI/EXEC they
# must not wait, but act at once (pop what is there, else nil / empty), as
# in Redis. Scripts may not call the blocking list and sorted-set commands
# at all (Redis 7 flags them noscript), and XREAD / XREADGROUP refuse the
# BLOCK option there.
BLOCKING = [
    ["BLPOP", "l", 0], ["BRPOP", "l", "l2", 0], ["BRPOPLPUSH", "l", "d", 0],
    ["BLMOVE", "l", "d", "LEFT", "RIGHT", 0], ["BLMPOP", 0, 2, "l", "l2", "RIGHT", "COUNT", 2],
    ["BZPOPMIN", "z", 0], ["BZPOPMAX", "z", "z2", 0], ["BZMPOP", 0, 1, "z", "MAX", "COUNT", 3],
    ["XREAD", "BLOCK", 0, "STREAMS", "s", "$"], ["xread", "BLOCK", 0, "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "NOACK", "STREAMS", "s", "0"],
    ["BLPOP", "l", -1], ["WAIT", 1, 0], ["WAIT", 0, 0],
]


def _blocking_outcomes(cli):
    out = []
    for data in (False, True):
        for cmd in BLOCKING:
            for mode in ("multi", "script"):
                cli.flushall()
                cli.xadd("s", {"f": "v"}, id="1-1")
                cli.xgroup_create("s", "g", id="0" if data else "$")
                if data:
                    cli.rpush("l", "a", "b", "c")
                    cli.zadd("z", {"m1": 1, "m2": 2})
                try:
                    if mode == "multi":
                        p = cli.pipeline(transaction=True)
                        p.execute_command(*cmd)
                        p.execute_command("PING")
                        got = p.execute(raise_on_error=False)
                    else:
                        body = "return redis.pcall(%s)" % ",".join("'%s'" % a for a in cmd)
                        got = cli.eval(body, 0)
                except redis.ResponseError as e:
                    got = "error: " + str(e).split(" script:")[0]
                out.append((data, mode, cmd, repr(got), cli.lrange("l", 0, -1),
                            cli.lrange("d", 0, -1), cli.zrange("z", 0, -1),
                            cli.xinfo_groups("s")))
    return out


def test_blocking_commands_do_not_block_in_scripts_and_multi(r, reference):
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from script"):
        r.eval("return redis.call('BLPOP', 'nothing', 0)", 0)
    p = r.pipeline(transaction=True)
    p.blpop(["nothing"], 0).blpop(["l"], 0)
    assert p.execute() == [None, (b"l", b"x")]
    with pytest.raises(redis.ResponseError, match="XREAD command is not allowed with BLOCK"):
        r.eval("return redis.call('XREAD', 'BLOCK', 0, 'STREAMS', 's', '$')", 0)
    if reference is None:
        pytest.skip("redis-server not installed")
    mine, theirs = _blocking_outcomes(r), _blocking_outcomes(reference)
    assert [a for a, b in zip(mine, theirs) if a != b] == []


SCRIPT_INFO_FIELDS = [
    "used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human",
    "used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
    "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
    "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
    "used_memory_scripts_human",
]


def test_info_memory_scripting_fields(r, reference):
    """INFO memory has Redis 7.0's scripting fields, in its order, with
    values that follow the cache: EVAL and SCRIPT LOAD add a script once,
    SCRIPT FLUSH empties it; FUNCTION LOAD / FLUSH count libraries."""
    def fields(cli):
        return [n for n in cli.info("memory") if n in SCRIPT_INFO_FIELDS]

    assert fields(r) == SCRIPT_INFO_FIELDS
    if reference is not None:
        assert fields(reference) == SCRIPT_INFO_FIELDS
    r.script_flush()
    info = r.info("memory")
    assert info["number_of_cached_scripts"] == 0
    assert info["used_memory_scripts_eval"] == 0
    assert info["used_memory_vm_eval"] > 0
    assert info["used_memory_lua"] == info["used_memory_vm_eval"]
    r.script_load("return 'a'")
    r.eval("return 'b'", 0)
    r.eval("return 'b'", 0)
    info = r.info("memory")
    assert info["number_of_cached_scripts"] == 2
    assert info["used_memory_scripts_eval"] >= len("return 'a'") + len("return 'b'")
    assert info["used_memory_vm_total"] == (info["used_memory_vm_eval"]
                                            + info["used_memory_vm_functions"])
    r.execute_command("FUNCTION", "LOAD", "#!lua name=infolib\n"
                      "redis.register_function('f1', function() return 1 end)\n"
                      "redis.register_function('f2', function() return 2 end)")
    info = r.info("memory")
    assert (info["number_of_functions"], info["number_of_libraries"]) == (2, 1)
    assert info["used_memory_functions"] > 0
    assert info["used_memory_scripts"] == (info["used_memory_scripts_eval"]
                                           + info["used_memory_functions"])
    r.script_flush()
    r.execute_command("FUNCTION", "FLUSH")
    info = r.info("memory")
    assert (info["number_of_cached_scripts"], info["number_of_functions"],
            info["number_of_libraries"], info["used_memory_functions"]) == (0, 0, 0, 0)


# cjson's settings: each returns its value, checks its argument and changes
# what encode / decode do (restored by every script that changes one).
CJSON_CFG_SCRIPTS = [l for l in r"""
return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), tostring(cjson.encode_keep_buffer()), tostring(cjson.encode_invalid_numbers()), tostring(cjson.decode_invalid_numbers())}
return {cjson.encode_sparse_array()}
cjson.encode_max_depth(1) local ok, e = pcall(cjson.encode, {a={1}}) cjson.encode_max_depth(1000) return {tostring(ok), e}
cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {a={1}}) cjson.encode_max_depth(1000) return {tostring(ok), e}
cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[1]]') cjson.decode_max_depth(1000) return {tostring(ok), type(e)}
local ok, e = pcall(cjson.encode, {num1=0/0}) return {tostring(ok), e}
cjson.encode_invalid_numbers(true) local ok, e = pcall(cjson.encode, {0/0, 1/0, -1/0}) cjson.encode_invalid_numbers(false) return {tostring(ok), e}
cjson.encode_invalid_numbers("null") local ok, e = pcall(cjson.encode, {0/0, 1/0}) local r = cjson.encode_invalid_numbers() cjson.encode_invalid_numbers(false) return {tostring(ok), e, r}
return cjson.encode_invalid_numbers("bogus")
return cjson.encode_max_depth(0)
return cjson.encode_max_depth(1, 2)
cjson.encode_number_precision(3) local e = cjson.encode({3.14159, [5] = 2}) cjson.encode_number_precision(14) return e
cjson.encode_number_precision(3) local e = cjson.encode({3.14159}) cjson.encode_number_precision(14) return e
return cjson.encode_number_precision(15)
return cjson.encode({[1]=1, [20]=2})
cjson.encode_sparse_array(true) local e = cjson.encode({[1]=1, [20]=2}) cjson.encode_sparse_array(false) return e
local r = {cjson.encode_sparse_array(nil, 0)} local e = cjson.encode({[1]=1, [20]=2}) cjson.encode_sparse_array(false, 2, 10) return {e, tostring(r[1]), r[2], r[3]}
return {cjson.encode_keep_buffer(false), cjson.encode_keep_buffer("on")}
cjson.decode_max_depth(1) local ok, e = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}') cjson.decode_max_depth(1000) return {tostring(ok), e}
cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[["[[[", {"a": [1]}]]') cjson.decode_max_depth(1000) return {tostring(ok), e}
cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[1, x [[[') cjson.decode_max_depth(1000) return {tostring(ok), e}
cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[1], [x, [[[') cjson.decode_max_depth(1000) return {tostring(ok), e}
local ok, e = pcall(cjson.decode, string.rep('[', 1001) .. string.rep(']', 1001)) return {tostring(ok), e}
local ok, e = pcall(cjson.decode, string.rep('[', 1000) .. string.rep(']', 1000)) return {tostring(ok), type(e)}
""".splitlines() if l]


def test_cjson_settings_match_redis(r, reference):
    r.eval("cjson.decode_max_depth(1)", 0)
    with pytest.raises(redis.ResponseError, match="Found too many nested data structures"):
        r.eval("return cjson.decode('[[1]]')", 0)
    r.eval("cjson.decode_max_depth(1000)", 0)
    assert r.eval("cjson.encode_number_precision(3) local e = cjson.encode({3.14159})"
                  " cjson.encode_number_precision(14) return e", 0) == b"[3.14]"
    if reference is None:
        pytest.skip("redis-server not installed")

    def run(cli, s):
        try:
            return cli.eval(s, 0)
        except redis.ResponseError as e:
            return "error: " + str(e)

    assert [(s, run(r, s)) for s in CJSON_CFG_SCRIPTS] == \
        [(s, run(reference, s)) for s in CJSON_CFG_SCRIPTS]


def _norepl_outcomes(cli):
    cli.flushall()
    cli.execute_command("FUNCTION", "FLUSH")
    cli.set("x", "some value")
    cli.execute_command(
        "FUNCTION", "LOAD", "#!lua name=nr\n"
        "redis.register_function('w', function(k) return redis.call('set', k[1], 1) end)\n"
        "redis.register_function{function_name='r', flags={'no-writes'},\n"
        "  callback=function(k) return redis.call('get', k[1]) end}")
    cmds = [
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", 1, "x"),
        ("EVAL", "return redis.call('get','x')", 1, "x"),
        ("EVAL", "#!lua\nreturn redis.call('get','x')", 1, "x"),
        ("EVAL", "return redis.call('set','x', 1)", 1, "x"),
        ("EVAL", "return redis.pcall('set','x', 1)", 1, "x"),
        ("EVAL_RO", "#!lua\nreturn 1", 0),
        ("FCALL", "w", 1, "x"), ("FCALL", "r", 1, "x"), ("FCALL_RO", "w", 1, "x"),
        ("SET", "x", 2), ("GET", "x"), ("INCR", "n"), ("PUBLISH", "ch", "m"),
    ]
    out = []
    try:
        for setting in (1, 0):
            cli.config_set("min-replicas-to-write", setting)
            for cmd in cmds:
                try:
                    out.append(cli.execute_command(*cmd))
                except redis.ResponseError as e:
                    out.append("error: " + str(e))
            p = cli.pipeline(transaction=True)
            p.get("x").set("x", 1)
            try:
                out.append(p.execute(raise_on_error=False))
            except redis.ResponseError as e:
                out.append("error: " + str(e))
    finally:
        cli.config_set("min-replicas-to-write", 0)
    return out


def test_min_replicas_to_write_refuses_writes(r, reference):
    """lodis has no replicas: with min-replicas-to-write above 0 every write
    (command, EXEC with a write, writing script or function) fails with
    Redis's NOREPLICAS error and reads still work; EVAL_RO of a script that
    declares it may write is refused."""
    out = _norepl_outcomes(r)
    assert out[0] == b"some value"
    assert out[3].startswith("error: NOREPLICAS Not enough good replicas to write.")
    assert out[9] == "error: NOREPLICAS Not enough good replicas to write."
    assert out[19] == "error: Can not execute a script with write flag using *_ro command."
    if reference is not None:
        assert out == _norepl_outcomes(reference)


ERRSTAT_SCRIPTS = [
    ("return redis.call('set','x','y')", 1),
    ("local t = redis.pcall('set','x','y') return t['err']", 1),
    ("return redis.pcall('set','x','y')", 1),
    ("return redis.call('select',99)", 0),
    ("local t = redis.pcall('select',99) return t['err']", 0),
    ("return redis.pcall('select',99)", 0),
    ("redis.pcall('select',99) return redis.call('get', 'x')", 0),
    ("redis.pcall('select',99) return redis.error_reply('MY err')", 0),
    ("redis.pcall('select',99) error('boom')", 0),
    ("return redis.pcall('nosuch')", 0),
    ("local t = redis.pcall('nosuch') return 1", 0),
    ("return redis.pcall('get')", 0),
    ("return redis.pcall('blpop', 'x', 0)", 0),
    ("return {err='X y'}", 0),
    ("local t = redis.pcall('select',99) return {err=t.err}", 0),
    ("local t = redis.pcall('select',99) return t.ignore_error_stats_update", 0),
    ("#!lua flags=no-writes\nreturn redis.pcall('set','x','y')", 0),
    ("#!lua\nreturn 1", 0),
    ("#!lua flags=allow-oom\nreturn redis.call('set','x','y')", 0),
    ("#!lua flags=no-writes\nreturn redis.call('get','x')", 0),
]


def _errstat_outcomes(cli, limit):
    """Each script with the dataset over its bound (limit: lodis's maxdisk,
    Redis's maxmemory) and without: reply, INFO errorstats, the error total
    and the commandstats of the commands involved."""
    cli.flushall()
    out = []
    for over in (True, False):
        for body, nkeys in ERRSTAT_SCRIPTS:
            if over:
                cli.config_set(limit, 1)
            cli.config_resetstat()
            try:
                got = cli.eval(body, nkeys, "x")
            except redis.ResponseError as e:
                got = "error: " + str(e).split(" script:")[0]
            finally:
                cli.config_set(limit, 0)
            info = cli.info("all")
            out.append((over, body, got,
                        {k: v for k, v in info.items() if k.startswith("errorstat_")},
                        info["total_error_replies"],
                        {k: (v["calls"], v["rejected_calls"], v["failed_calls"])
                         for k, v in info.items()
                         if k.startswith("cmdstat_") and k not in ("cmdstat_config",
                                                                   "cmdstat_info")}))
    return out


def test_script_error_stats_match_redis(r, reference):
    """INFO errorstats / commandstats around scripts as Redis keeps them: an
    error of a called command counts once, a command refused inside a script
    counts as rejected, a script fails only by its own reply; a script that
    declares flags is refused over the bound unless allow-oom / no-writes."""
    r.config_resetstat()
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call('select', 99)", 0)
    info = r.info("all")
    assert info["errorstat_ERR"] in ({"count": 1}, "count=1")
    assert info["cmdstat_eval"]["failed_calls"] == 1
    assert r.eval("local t = redis.pcall('select', 99) return 1", 0) == 1
    assert r.info("all")["cmdstat_eval"]["failed_calls"] == 1
    assert r.info("all")["cmdstat_config|resetstat"]["failed_calls"] == 0
    if reference is None:
        pytest.skip("redis-server not installed")
    assert _errstat_outcomes(r, "maxdisk") == _errstat_outcomes(reference, "maxmemory")


ACL_CHECK_SCRIPTS = [l for l in r"""
return redis.acl_check_cmd('set', 'x', 'y')
return redis.acl_check_cmd('SET')
return redis.acl_check_cmd('nosuch')
return redis.acl_check_cmd()
return redis.acl_check_cmd({})
return redis.acl_check_cmd('config', 'get', 'x')
return redis.acl_check_cmd('config', 'nosuch')
return redis.acl_check_cmd('config')
local ok, e = pcall(redis.acl_check_cmd, 'nosuch') return {tostring(ok), tostring(e)}
return redis.acl_check_cmd('get', 1)
return redis.acl_check_cmd('xgroup', 'create', 's', 'g', '$')
""".splitlines() if l]


def test_acl_check_cmd(r, reference):
    """redis.acl_check_cmd: lodis has only the default user (no ACL), so
    every existing command is allowed; unknown ones raise as in Redis."""
    assert r.eval("return redis.acl_check_cmd('set', 'x', 'y')", 0) == 1
    with pytest.raises(redis.ResponseError, match="Invalid command passed to redis.acl_check_cmd"):
        r.eval("return redis.acl_check_cmd('nosuch')", 0)
    if reference is None:
        pytest.skip("redis-server not installed")
    from lodis_testlib import script_divergences
    assert script_divergences(r, reference, ACL_CHECK_SCRIPTS) == []
