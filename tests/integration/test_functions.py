"""Redis 7 functions (server/cmd_function.c): FUNCTION LOAD / LIST / DELETE /
FLUSH / DUMP / RESTORE / STATS / KILL, FCALL and FCALL_RO, and libraries
surviving SHUTDOWN and kill -9. Every expectation here also holds against
redis-server 7 (LODIS_SERVER=/usr/bin/redis-server)."""

import pytest
import redis

LIB = """#!lua name=mylib
local function incr_by(keys, args)
  return redis.call('INCRBY', keys[1], args[1])
end
redis.register_function('my_incr', incr_by)
redis.register_function{
  function_name = 'my_get',
  callback = function(keys, args) return redis.call('GET', keys[1]) end,
  flags = {'no-writes'},
  description = 'read one key',
}
"""

LIB_V2 = """#!lua name=mylib
redis.register_function('my_incr', function(keys, args) return 'v2' end)
"""


def err(fn, *a):
    with pytest.raises(redis.ResponseError) as e:
        fn(*a)
    return str(e.value)


def test_load_and_fcall(r):
    assert r.execute_command("FUNCTION", "LOAD", LIB) == b"mylib"
    assert r.fcall("my_incr", 1, "k", 5) == 5
    assert r.fcall("my_incr", 1, "k", 2) == 7
    assert r.fcall("my_get", 1, "k") == b"7"
    assert r.fcall("MY_GET", 1, "k") == b"7"  # function names ignore case
    assert err(r.fcall, "nosuch", 0) == "Function not found"
    assert err(r.execute_command, "FCALL", "my_get", "x") == "Bad number of keys provided"
    assert err(r.execute_command, "FCALL", "my_get", 3, "a") == \
        "Number of keys can't be greater than number of args"
    assert err(r.execute_command, "FCALL", "my_get", -1) == "Number of keys can't be negative"


def test_load_errors(r):
    r.execute_command("FUNCTION", "LOAD", LIB)
    assert err(r.execute_command, "FUNCTION", "LOAD", LIB) == "Library 'mylib' already exists"
    assert err(r.execute_command, "FUNCTION", "LOAD", "return 1") == "Missing library metadata"
    assert err(r.execute_command, "FUNCTION", "LOAD", "#!lua\nreturn 1") == \
        "Library name was not given"
    assert err(r.execute_command, "FUNCTION", "LOAD", "#!lua name=x") == \
        "Invalid library metadata"
    assert err(r.execute_command, "FUNCTION", "LOAD", "#!py name=x\n") == "Engine 'py' not found"
    assert err(r.execute_command, "FUNCTION", "LOAD", "#!lua name=x\n") == \
        "No functions registered"
    assert err(r.execute_command, "FUNCTION", "LOAD",
               "#!lua name=x\nredis.register_function('a', function() end)\n"
               "redis.register_function('a', function() end)") == \
        "Error registering functions: ERR Function already exists in the library"
    assert err(r.execute_command, "FUNCTION", "LOAD",
               "#!lua name=x\nredis.register_function('my_incr', function() end)") == \
        "Function my_incr already exists"
    assert err(r.execute_command, "FUNCTION", "LOAD",
               "#!lua name=x\nredis.register_function{function_name='a', "
               "callback=function() end, flags={'bad'}}") == \
        "Error registering functions: ERR unknown flag given"
    assert err(r.execute_command, "FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')") == \
        ("Error registering functions: ERR user_function:2: Script attempted to access "
         "nonexistent global variable 'call'")
    assert err(r.execute_command, "FUNCTION", "LOAD", "#!lua name=x\nsyntax error") == \
        "Error compiling function: user_function:2: '=' expected near 'error'"
    assert err(r.execute_command, "FUNCTION", "LOAD", "FOO", "#!lua name=x\n") == \
        "Unknown option given: FOO"
    # failed loads change nothing
    assert [l[1] for l in r.execute_command("FUNCTION", "LIST")] == [b"mylib"]


def test_replace(r):
    r.execute_command("FUNCTION", "LOAD", LIB)
    assert r.execute_command("FUNCTION", "LOAD", "REPLACE", LIB_V2) == b"mylib"
    assert r.fcall("my_incr", 0) == b"v2"
    assert err(r.fcall, "my_get", 1, "k") == "Function not found"


def test_list_shape(r):
    r.execute_command("FUNCTION", "LOAD", LIB)
    libs = r.execute_command("FUNCTION", "LIST")
    assert len(libs) == 1
    lib = libs[0]
    assert lib[:5] == [b"library_name", b"mylib", b"engine", b"LUA", b"functions"]
    fns = sorted(lib[5], key=lambda f: f[1])
    assert fns == [
        [b"name", b"my_get", b"description", b"read one key", b"flags", [b"no-writes"]],
        [b"name", b"my_incr", b"description", None, b"flags", []],
    ]
    withcode = r.execute_command("FUNCTION", "LIST", "WITHCODE")[0]
    assert withcode[6:] == [b"library_code", LIB.encode()]
    assert r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "my*")[0][1] == b"mylib"
    assert r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "zz*") == []
    assert err(r.execute_command, "FUNCTION", "LIST", "LIBRARYNAME") == \
        "library name argument was not given"
    assert err(r.execute_command, "FUNCTION", "LIST", "foo") == "Unknown argument foo"
    stats = r.execute_command("FUNCTION", "STATS")
    assert stats == [b"running_script", None, b"engines",
                     [b"LUA", [b"libraries_count", 1, b"functions_count", 2]]]


def test_fcall_ro(r):
    r.execute_command("FUNCTION", "LOAD", LIB)
    r.set("k", "1")
    assert r.execute_command("FCALL_RO", "my_get", 1, "k") == b"1"
    assert err(r.execute_command, "FCALL_RO", "my_incr", 1, "k", 1) == \
        "Can not execute a script with write flag using *_ro command."
    r.execute_command("FUNCTION", "LOAD",
                      "#!lua name=sneaky\nredis.register_function{function_name='w', "
                      "callback=function(keys) return redis.call('SET', keys[1], 'x') end, "
                      "flags={'no-writes'}}")
    assert err(r.fcall, "w", 1, "k").startswith(
        "Write commands are not allowed from read-only scripts.")
    assert r.get("k") == b"1"


def test_delete_and_flush(r):
    r.execute_command("FUNCTION", "LOAD", LIB)
    assert r.execute_command("FUNCTION", "DELETE", "mylib") == b"OK"
    assert err(r.execute_command, "FUNCTION", "DELETE", "mylib") == "Library not found"
    assert err(r.fcall, "my_incr", 1, "k", 1) == "Function not found"
    r.execute_command("FUNCTION", "LOAD", LIB)
    assert r.execute_command("FUNCTION", "FLUSH", "SYNC") == b"OK"
    assert r.execute_command("FUNCTION", "LIST") == []
    assert err(r.execute_command, "FUNCTION", "FLUSH", "foo") == \
        "FUNCTION FLUSH only supports SYNC|ASYNC option"
    assert err(r.execute_command, "FUNCTION", "KILL") == "NOTBUSY No scripts in execution right now."


def test_dump_restore(r):
    r.execute_command("FUNCTION", "LOAD", LIB)
    payload = r.execute_command("FUNCTION", "DUMP")
    # Redis's format: opcode 245, RDB string, RDB version 10, CRC-64
    assert payload[0] == 0xF5 and payload[-10:-8] == b"\x0a\x00"
    assert err(r.execute_command, "FUNCTION", "RESTORE", payload) == "Library mylib already exists"
    assert err(r.execute_command, "FUNCTION", "RESTORE", payload, "bad") == \
        "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    assert err(r.execute_command, "FUNCTION", "RESTORE", payload[:-1] + b"x") == \
        "DUMP payload version or checksum are wrong"
    assert r.execute_command("FUNCTION", "RESTORE", payload, "REPLACE") == b"OK"
    r.execute_command("FUNCTION", "FLUSH")
    r.execute_command("FUNCTION", "LOAD",
                      "#!lua name=other\nredis.register_function('my_get', function() end)")
    assert err(r.execute_command, "FUNCTION", "RESTORE", payload, "APPEND") == \
        "Function my_get already exists"
    assert r.execute_command("FUNCTION", "RESTORE", payload, "FLUSH") == b"OK"
    assert [l[1] for l in r.execute_command("FUNCTION", "LIST")] == [b"mylib"]
    assert r.fcall("my_incr", 1, "n", 3) == 3


def test_dump_payload_from_redis(r):
    # FUNCTION DUMP of redis-server 7.0.15 (one library "x", function "a")
    payload = (b"\xf5@B#!lua name=x\nredis.register_function('a', function() return 1 end)"
               b"\n\x00}\xa4S\x10\xe9^\xc9\xa9")
    assert r.execute_command("FUNCTION", "RESTORE", payload) == b"OK"
    assert r.fcall("a", 0) == 1
    assert r.execute_command("FUNCTION", "DUMP") == payload


@pytest.mark.parametrize("how", ["shutdown", "kill9"])
def test_libraries_survive_restart(server_factory, how):
    server = server_factory(appendfsync="always")
    c = server.client()
    c.execute_command("FUNCTION", "LOAD", LIB)
    c.execute_command("FUNCTION", "LOAD",
                      "#!lua name=gone\nredis.register_function('g', function() return 1 end)")
    c.execute_command("FUNCTION", "DELETE", "gone")
    c.execute_command("FUNCTION", "LOAD", "REPLACE",
                      LIB.replace("read one key", "read a key"))
    if how == "shutdown":
        server.stop()
    else:
        server.kill9()
    server.start()
    c = server.client()
    libs = c.execute_command("FUNCTION", "LIST", "WITHCODE")
    assert [l[1] for l in libs] == [b"mylib"]
    assert b"read a key" in libs[0][7]
    assert c.fcall("my_incr", 1, "k", 4) == 4
    assert c.execute_command("FCALL_RO", "my_get", 1, "k") == b"4"
    assert err(c.fcall, "g", 0) == "Function not found"
    c.execute_command("FUNCTION", "FLUSH")
    server.kill9()
    server.start()
    assert server.client().execute_command("FUNCTION", "LIST") == []


LOAD_CASES = [
    "#!lua name=x\nlocal s = string.len('a') redis.register_function('f', function() return 1 end)",
    "#!lua name=x\nlocal t = getmetatable(_G)",
    "#!lua name=x\nlocal t = pcall(function() end)",
    '#!lua name="foo"\nredis.register_function("f", function() return 1 end)',
    '#!lua NAME=bar "x\nredis.register_function("f", function() return 1 end)',
    "#!lua Name=bar\nredis.register_function('g', function() return string.len('abc') end)",
]


def test_load_time_globals_and_metadata_like_redis(r, reference):
    """While a library loads it sees only the load-time redis table (no
    string, math, getmetatable ...); its shebang is split as Redis splits
    arguments (quotes, any-case name=); FUNCTION FLUSH with too many
    arguments is a subcommand syntax error."""
    def run(cli):
        cli.execute_command("FUNCTION", "FLUSH")
        out = []
        for code in LOAD_CASES:
            try:
                out.append(cli.execute_command("FUNCTION", "LOAD", "REPLACE", code))
            except redis.ResponseError as e:
                out.append("error: " + str(e))
        out.append(cli.fcall("g", 0))
        for args in (["SYNC", "extra"], ["bad"]):
            out.append(err(cli.execute_command, "FUNCTION", "FLUSH", *args))
        return out

    mine = run(r)
    assert "nonexistent global variable 'string'" in mine[0]
    assert mine[3] == b"foo" and mine[6] == 3
    assert "Try FUNCTION HELP." in mine[7]
    if reference is not None:
        assert mine == run(reference)
