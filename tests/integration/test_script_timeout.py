"""Scripts and functions that run past busy-reply-threshold (alias
lua-time-limit): other clients get -BUSY except for the commands allowed
meanwhile; SCRIPT KILL / FUNCTION KILL stop a script that has not written;
one that has written is UNKILLABLE and only SHUTDOWN NOSAVE ends it, without
any of its writes surviving a restart.

The reply sequences are compared with the reference redis-server (same
steps on both); the restart test is lodis's own."""

import socket
import time

import pytest

from lodis_testlib import RawConn, scaled, wait_until

LIB = ("#!lua name=lib\n"
       "redis.register_function('spin', function() while true do end end)\n"
       "redis.register_function('spinw', function(keys) redis.call('set', keys[1], 'x') "
       "while true do end end)\n")


def busy(conn):
    """Wait until conn's PING is refused with -BUSY (the script is busy)."""
    def refused():
        conn.send_command("PING")
        r = conn.read_reply()
        return hasattr(r, "text") and r.text.startswith("BUSY")
    wait_until(refused, scaled(5), interval=0.02, what="script busy")


def flat(reply):
    """Comparable form: errors as ('error', text), durations blanked."""
    if hasattr(reply, "text"):
        return ("error", reply.text)
    if hasattr(reply, "kind"):
        return ("null", reply.kind)
    if isinstance(reply, dict):
        return {k: (0 if k == b"duration_ms" else flat(v)) for k, v in reply.items()}
    if isinstance(reply, list):
        return [flat(x) for x in reply]
    return reply


def session(port):
    out = []
    with RawConn(port, timeout=scaled(10)) as a, RawConn(port, timeout=scaled(10)) as b, \
            RawConn(port, timeout=scaled(10)) as m:

        def cmd(conn, *args):
            conn.send_command(*args)
            out.append((args, flat(conn.read_reply())))

        b.send_command("HELLO", "3")  # maps for FUNCTION STATS (its reply differs: ids)
        b.read_reply()
        cmd(b, "FLUSHALL")
        cmd(b, "FUNCTION", "FLUSH")
        cmd(b, "CONFIG", "SET", "busy-reply-threshold", "50")
        cmd(b, "CONFIG", "GET", "lua-time-limit")
        cmd(b, "SCRIPT", "KILL")
        cmd(b, "FUNCTION", "KILL")
        cmd(b, "SET", "xx", "1")
        # A read-only script, pipelined with a PING on the same connection.
        a.send(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n"
               b"*2\r\n$4\r\nPING\r\n$5\r\nafter\r\n")
        busy(b)
        for args in (("GET", "xx"), ("FUNCTION", "STATS"), ("FUNCTION", "KILL"),
                     ("SHUTDOWN",), ("CLIENT", "LIST"), ("EXEC",)):
            cmd(b, *args)
        # A transaction started while busy cannot run half of itself.
        cmd(m, "MULTI")
        cmd(m, "INCR", "xx")
        cmd(b, "SCRIPT", "KILL")
        out.append(("caller", flat(a.read_reply()), flat(a.read_reply())))
        cmd(m, "INCR", "xx")
        cmd(m, "EXEC")
        cmd(m, "GET", "xx")
        cmd(m, "PING", "asdf")
        # pcall does not swallow the kill.
        a.send_command("EVAL", "local f = function() while 1 do redis.call('ping') end end "
                       "while 1 do pcall(f) end", "0")
        busy(b)
        cmd(b, "SCRIPT", "KILL")
        out.append(("caller", flat(a.read_reply())))
        # Functions: FUNCTION KILL, not SCRIPT KILL; STATS names the running one.
        cmd(b, "FUNCTION", "LOAD", LIB)
        a.send_command("FCALL", "spin", "0")
        busy(b)
        cmd(b, "FUNCTION", "STATS")
        cmd(b, "SCRIPT", "KILL")
        cmd(b, "FUNCTION", "KILL")
        out.append(("caller", flat(a.read_reply())))
        # A function that wrote cannot be killed; the script flavour likewise
        # is tested with the restart below (it ends the server).
        cmd(b, "CONFIG", "SET", "busy-reply-threshold", "5000")
        cmd(b, "EVAL", "for i=1,1000000 do end return 'done'", "0")
        cmd(b, "PING")
        for conn in (a, b, m):
            conn.assert_open_and_silent(scaled(0.2))
    return out


def test_busy_session_matches_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    mine = session(r.connection_pool.connection_kwargs["port"])
    ref = session(reference.connection_pool.connection_kwargs["port"])
    # CLIENT LIST is refused while busy: same text on both.
    assert mine == ref


def test_shutdown_nosave_drops_the_running_scripts_writes(server_factory):
    s = server_factory(appendfsync="always")
    r = s.client()
    r.set("before", "1")
    r.config_set("busy-reply-threshold", 50)
    with RawConn(s.port, timeout=scaled(10)) as a, RawConn(s.port, timeout=scaled(10)) as b:
        a.send_command("EVAL", "redis.call('set', 'w1', 'x') redis.call('incr', 'before') "
                       "redis.call('rpush', 'w2', 'a') while true do end", "0")
        busy(b)
        b.send_command("SCRIPT", "KILL")
        assert b.read_reply().text.startswith("UNKILLABLE Sorry the script already executed")
        b.send_command("SHUTDOWN")
        assert b.read_reply().text.startswith("BUSY Redis is busy running a script")
        b.send_command("FUNCTION", "KILL")
        assert b.read_reply().text.startswith("UNKILLABLE")
        s._expected_exit = True
        b.send_command("SHUTDOWN", "NOSAVE")
        assert b.read_until_closed(scaled(10)) == b""
        assert a.read_until_closed(scaled(10)) == b""
    s.proc.wait(scaled(10))
    assert s.proc.returncode == 0
    s.start()
    r = s.client()
    assert r.get("before") == b"1"
    assert r.exists("w1", "w2") == 0


def test_function_that_wrote_is_unkillable(server_factory):
    s = server_factory()
    r = s.client()
    r.function_load(LIB)
    r.config_set("busy-reply-threshold", 50)
    with RawConn(s.port, timeout=scaled(10)) as a, RawConn(s.port, timeout=scaled(10)) as b:
        b.send_command("HELLO", "3")
        b.read_reply()
        a.send_command("FCALL", "spinw", "1", "k")
        busy(b)
        b.send_command("FUNCTION", "KILL")
        assert b.read_reply().text.startswith("UNKILLABLE")
        b.send_command("FUNCTION", "STATS")
        stats = b.read_reply()
        assert stats[b"running_script"][b"name"] == b"spinw"
        assert stats[b"running_script"][b"command"] == [b"FCALL", b"spinw", b"1", b"k"]
        s._expected_exit = True
        b.send_command("SHUTDOWN", "NOSAVE")
        assert b.read_until_closed(scaled(10)) == b""
    s.proc.wait(scaled(10))
    s.start()
    assert s.client().exists("k") == 0


def test_replies_waiting_for_the_tick_are_held(server_factory):
    """A reply made earlier in the tick of a busy script (a write not yet in
    the WAL) is not sent while the script is busy: with SHUTDOWN NOSAVE the
    write is lost, so it must never have been acknowledged."""
    s = server_factory(appendfsync="always")
    r = s.client()
    r.config_set("busy-reply-threshold", 50)
    with RawConn(s.port, timeout=scaled(10)) as a, RawConn(s.port, timeout=scaled(10)) as b:
        # SET and the script in one packet: one tick.
        a.send(b"*3\r\n$3\r\nSET\r\n$4\r\nheld\r\n$1\r\n1\r\n"
               b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n")
        # b's first PING must not share the tick (its reply would be held too).
        time.sleep(scaled(0.2))
        busy(b)
        a.sock.settimeout(scaled(0.3))
        with pytest.raises(socket.timeout):
            a.sock.recv(100)
        s._expected_exit = True
        b.send_command("SHUTDOWN", "NOSAVE")
        b.read_until_closed(scaled(10))
        # Closed without ever acknowledging the SET.
        assert a.read_until_closed(scaled(10)) == b""
    s.proc.wait(scaled(10))
    s.start()
    assert s.client().get("held") is None
