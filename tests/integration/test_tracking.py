"""Client-side caching (CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO) and
its invalidation messages: RESP3 pushes on the tracking connection, and RESP2
messages on __redis__:invalidate for a redirect target.

Most tests are differential: a scenario (commands on three raw connections,
and reads of the push messages they expect) runs against lodis and against
the reference redis-server, and the two transcripts must be equal, byte-level
reply shapes included. Each scenario ends by checking that no connection has
anything more to read, so an extra or missing invalidation fails too."""

import time

import pytest
import redis

from lodis_testlib import RawConn, RespPush, scaled, wait_until

# Connections of a scenario: A tracks (RESP3 unless a step says HELLO 2),
# B writes, R is the redirect target (RESP2, subscribed to
# __redis__:invalidate). "$R" in a command stands for R's client id; a step
# ("A", None) reads one more message (a push) from A.


def run_scenario(port, steps):
    conns = {name: RawConn(port, timeout=scaled(5)) for name in "ABR"}
    try:
        conns["R"].send_command("CLIENT", "ID")
        rid = conns["R"].read_reply()
        conns["R"].send_command("SUBSCRIBE", "__redis__:invalidate")
        conns["R"].read_reply()
        conns["A"].send_command("HELLO", "3")
        conns["A"].read_reply()
        out = []
        for step in steps:
            name, cmd = step[0], step[1:]
            conn = conns[name]
            if cmd == (None,):
                out.append((name, "read", normalize(conn.read_reply(), rid)))
                continue
            if cmd[0] == "SLEEP":
                time.sleep(scaled(float(cmd[1])))
                continue
            args = [str(rid) if a == "$R" else a for a in cmd]
            conn.send_command(*args)
            reply = conn.read_reply()
            if isinstance(args[0], str) and args[0].upper() == "HELLO":
                reply = "hello"
            out.append((name, " ".join(map(str, cmd)), normalize(reply, rid)))
        for name, conn in conns.items():
            if (name, "QUIT") not in steps:
                conn.assert_open_and_silent(scaled(0.3))
        return out
    finally:
        for c in conns.values():
            c.close()


def normalize(reply, rid):
    """Replies with R's id in place of the number (ids differ by server)."""
    if isinstance(reply, int) and not isinstance(reply, bool) and reply == rid:
        return "RID"
    if isinstance(reply, dict):
        return {k: normalize(v, rid) for k, v in reply.items()}
    if isinstance(reply, list):
        return type(reply)(normalize(x, rid) for x in reply)
    if hasattr(reply, "kind"):  # RespNull
        return ("null", reply.kind)
    if hasattr(reply, "text"):  # ErrorReply
        return ("error", reply.text)
    return reply


SCENARIOS = {
    "basic_resp3": [
        ("A", "CLIENT", "TRACKING", "on"), ("B", "SET", "k1", "1"), ("A", "GET", "k1"),
        ("B", "SET", "k1", "2"), ("A", None),
        # Not read again: no second invalidation.
        ("B", "SET", "k1", "3"),
        # Own write: the push comes after the reply.
        ("A", "GET", "k1"), ("A", "HDEL", "k1", "x"), ("A", "DEL", "k1"), ("A", None),
        ("A", "CLIENT", "TRACKINGINFO"), ("A", "CLIENT", "GETREDIR"),
    ],
    "redirect_resp2": [
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "$R"), ("B", "SET", "a", "1"),
        ("B", "SET", "b", "1"), ("A", "GET", "a"), ("B", "INCR", "b"), ("B", "INCR", "a"),
        ("R", None), ("A", "MGET", "a", "b", "c"), ("B", "MSET", "a", "1", "b", "2", "c", "3"),
        ("R", None), ("R", None), ("R", None), ("A", "CLIENT", "GETREDIR"),
        ("A", "CLIENT", "TRACKINGINFO"), ("A", "CLIENT", "TRACKING", "off"),
        ("A", "CLIENT", "GETREDIR"),
    ],
    "bcast": [
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$R", "PREFIX", "a:",
         "PREFIX", "b:"),
        ("B", "MULTI"), ("B", "INCR", "a:2"), ("B", "INCR", "a:1"), ("B", "INCR", "b:1"),
        ("B", "INCR", "c:1"), ("B", "INCR", "a:1"), ("B", "EXEC"), ("R", None), ("R", None),
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$R", "PREFIX", "c:"),
        ("B", "INCR", "c:9"), ("R", None),
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x"),
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "zz", "PREFIX", "z"),
        ("A", "CLIENT", "TRACKING", "on"), ("A", "CLIENT", "TRACKINGINFO"),
        ("A", "CLIENT", "TRACKING", "off"),
        ("A", "CLIENT", "TRACKING", "on", "BCAST"), ("B", "SET", "x", "1"), ("A", None),
        ("A", "CLIENT", "TRACKINGINFO"),
    ],
    "noloop": [
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "$R", "NOLOOP"),
        ("A", "MGET", "o1", "loop", "o2"), ("B", "SET", "o1", "1"), ("A", "SET", "loop", "1"),
        ("B", "SET", "o2", "1"), ("R", None), ("R", None),
        ("A", "CLIENT", "TRACKING", "off"),
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$R", "NOLOOP"),
        ("B", "SET", "o1", "1"), ("R", None), ("A", "SET", "loop", "1"), ("B", "SET", "o2", "1"),
        ("R", None),
        # Expiry is nobody's change: NOLOOP does not hide it.
        ("A", "SET", "gone", "v", "PX", "1"), ("A", "SET", "gone2", "v"), ("A", "SLEEP", "0.3"),
        ("R", None),
    ],
    "optin_optout": [
        ("A", "CLIENT", "TRACKING", "on", "OPTIN", "REDIRECT", "$R"), ("B", "SET", "k1", "1"),
        ("A", "GET", "k1"), ("B", "SET", "k1", "2"), ("A", "CLIENT", "CACHING", "yes"),
        ("A", "CLIENT", "TRACKINGINFO"), ("A", "GET", "k1"), ("A", "GET", "k2"),
        ("B", "MSET", "k1", "3", "k2", "3"), ("R", None),
        ("A", "CLIENT", "CACHING", "yes"), ("A", "MULTI"), ("A", "GET", "k1"), ("A", "GET", "k2"),
        ("A", "EXEC"), ("B", "MSET", "k1", "4", "k2", "4"), ("R", None), ("R", None),
        ("A", "CLIENT", "TRACKING", "off"),
        ("A", "CLIENT", "TRACKING", "on", "OPTOUT", "REDIRECT", "$R"),
        ("A", "CLIENT", "CACHING", "no"), ("A", "GET", "k1"), ("A", "GET", "k2"),
        ("B", "MSET", "k1", "5", "k2", "5"), ("R", None),
        ("A", "CLIENT", "CACHING", "no"), ("A", "CLIENT", "TRACKINGINFO"),
        ("A", "CLIENT", "CACHING", "yes"), ("A", "CLIENT", "TRACKING", "on", "OPTIN"),
    ],
    "transaction_and_lazy_expiry": [
        ("B", "DEBUG", "SET-ACTIVE-EXPIRE", "0"),
        ("A", "CLIENT", "TRACKING", "on"), ("A", "MSET", "a", "1", "b", "2"), ("A", "GET", "a"),
        # The push for a comes after EXEC's whole reply.
        ("A", "MULTI"), ("A", "INCR", "a"), ("A", "GET", "b"), ("A", "EXEC"), ("A", None),
        ("A", "MULTI"), ("A", "MSET", "x", "1", "y", "2"), ("A", "PEXPIRE", "y", "100"),
        ("A", "GET", "y"), ("A", "EXEC"), ("A", "SLEEP", "0.15"),
        # y expires lazily inside MGET: the push follows MGET's reply.
        ("A", "MGET", "x", "y"), ("A", None), ("B", "DEBUG", "SET-ACTIVE-EXPIRE", "1"),
    ],
    "flush": [
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "$R"), ("B", "SET", "k1", "1"),
        ("A", "GET", "k1"), ("B", "FLUSHALL"), ("R", None), ("B", "FLUSHDB"), ("R", None),
        ("A", "CLIENT", "TRACKING", "off"), ("A", "CLIENT", "TRACKING", "on"),
        ("A", "SET", "a", "1"), ("A", "GET", "a"), ("A", "MULTI"), ("A", "FLUSHDB"),
        ("A", "EXEC"), ("A", None), ("B", "FLUSHALL"), ("A", None),
    ],
    "scripts": [
        ("A", "CLIENT", "TRACKING", "on"),
        # No read inside: nothing remembered.
        ("A", "EVAL", "redis.call('set', 'k3', 'bar')", "2", "k1", "k2"),
        ("B", "MSET", "k2", "2", "k1", "2"),
        # A read inside: the script's declared keys are remembered.
        ("A", "EVAL", "redis.call('get', 'k3')", "2", "k1", "k2"),
        ("B", "MSET", "k2", "2", "k1", "2"), ("A", None), ("A", None),
        ("A", "EVAL_RO", "redis.call('ping')", "2", "k1", "k2"),
        ("B", "MSET", "k2", "2", "k1", "2"),
        ("A", "EVAL_RO", "redis.call('get', 'k1')", "2", "k1", "k2"),
        ("B", "MSET", "k2", "3", "k1", "3"), ("A", None), ("A", None),
        ("A", "CLIENT", "TRACKING", "on", "NOLOOP"), ("A", "GET", "k1"),
        ("A", "EVAL", "return redis.call('set', KEYS[1], '2')", "1", "k1"),
        ("A", "GET", "k1"),
    ],
    "redirect_broken": [
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "$R"), ("A", "GET", "k1"),
        ("R", "QUIT"), ("A", "SLEEP", "0.1"), ("B", "SET", "k1", "2"), ("A", None),
        ("A", "CLIENT", "TRACKINGINFO"), ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "$R"),
    ],
    "errors": [
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "999999"),
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "x"),
        ("A", "CLIENT", "TRACKING", "on", "REDIRECT", "$R", "REDIRECT", "$R"),
        ("A", "CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
        ("A", "CLIENT", "TRACKING", "maybe"), ("A", "CLIENT", "TRACKING", "on", "PREFIX", "x"),
        ("A", "CLIENT", "TRACKING", "on", "foo"), ("A", "CLIENT", "TRACKING", "on", "REDIRECT"),
        ("A", "CLIENT", "TRACKING"), ("A", "CLIENT", "CACHING", "yes"),
        ("A", "CLIENT", "CACHING"), ("A", "CLIENT", "GETREDIR", "x"),
        ("A", "CLIENT", "TRACKINGINFO", "x"), ("A", "CLIENT", "TRACKINGINFO"),
        ("A", "CLIENT", "TRACKING", "on", "OPTOUT"), ("A", "CLIENT", "CACHING", "yes"),
        ("A", "CLIENT", "CACHING", "maybe"),
        ("A", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
        ("A", "HELLO", "2"), ("A", "CLIENT", "TRACKINGINFO"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_redis(r, reference, name):
    if reference is None:
        pytest.skip("redis-server not installed")
    steps = SCENARIOS[name]
    mine = run_scenario(r.connection_pool.connection_kwargs["port"], steps)
    ref = run_scenario(reference.connection_pool.connection_kwargs["port"], steps)
    assert mine == ref


def test_resp3_push_shape(r):
    """The raw bytes of an invalidation push (RESP3) and of a flush's null."""
    port = r.connection_pool.connection_kwargs["port"]
    with RawConn(port) as a, RawConn(port) as b:
        a.send_command("HELLO", "3")
        a.read_reply()
        a.send_command("CLIENT", "TRACKING", "on")
        assert a.read_reply() == b"OK"
        a.send_command("GET", "key")
        a.read_reply()
        b.send_command("SET", "key", "v")
        b.read_reply()
        assert a.read_raw_line() == b">2"
        assert a.read_reply() == b"invalidate"
        assert a.read_reply() == [b"key"]
        b.send_command("FLUSHALL")
        b.read_reply()
        assert a.read_raw_line() == b">2"
        assert a.read_reply() == b"invalidate"
        assert a.read_raw_line() == b"_"


def test_resp2_redirect_with_redis_py(r):
    """A RESP2 redis-py client subscribed to __redis__:invalidate receives
    the keys another connection cached, as a message whose data is a list."""
    port = r.connection_pool.connection_kwargs["port"]
    target = redis.Redis(port=port)
    sub = target.pubsub()
    sub.subscribe("__redis__:invalidate")
    assert sub.get_message(timeout=scaled(2))["type"] == "subscribe"
    rid = [int(c["id"]) for c in r.client_list() if "P" in c["flags"]][0]
    tracker = redis.Redis(port=port, single_connection_client=True)
    assert tracker.execute_command("CLIENT", "TRACKING", "on", "REDIRECT", rid) == b"OK"
    r.set("cached", "1")
    assert tracker.get("cached") == b"1"
    assert tracker.execute_command("CLIENT", "GETREDIR") == rid
    info = r.info()
    assert info["tracking_clients"] == 1 and info["tracking_total_keys"] == 1
    line = [c for c in r.client_list() if int(c["id"]) == tracker.client_id()][0]
    assert "t" in line["flags"] and int(line["redir"]) == rid
    r.set("cached", "2")
    m = None
    deadline = time.time() + scaled(3)
    while time.time() < deadline:
        m = sub.get_message(timeout=0.1)
        if m and m["type"] == "message":
            break
    assert m["channel"] == b"__redis__:invalidate" and m["data"] == [b"cached"]
    assert r.info()["tracking_total_keys"] == 0
    sub.close()
    tracker.close()
    target.close()


def test_expiry_and_table_limit(r):
    """Expiry (active sweep) invalidates like a write; a table over
    tracking-table-max-keys invalidates keys until it fits."""
    port = r.connection_pool.connection_kwargs["port"]
    with RawConn(port) as a:
        a.send_command("HELLO", "3")
        a.read_reply()
        a.send_command("CLIENT", "TRACKING", "on")
        a.read_reply()
        r.set("soon", "v", px=50)
        a.send_command("GET", "soon")
        assert a.read_reply() == b"v"
        assert a.read_reply() == RespPush([b"invalidate", [b"soon"]])
        for i in range(20):
            a.send_command("GET", "k%d" % i)
            a.read_reply()
        assert r.info()["tracking_total_keys"] == 20
        r.config_set("tracking-table-max-keys", 5)
        seen = set()
        while len(seen) < 15:
            msg = a.read_reply()
            assert msg[0] == b"invalidate"
            seen.update(msg[1])
        assert r.info()["tracking_total_keys"] == 5
        a.assert_open_and_silent(scaled(0.3))
        r.config_set("tracking-table-max-keys", 1000000)
    wait_until(lambda: r.info()["tracking_clients"] == 0, scaled(2), what="tracking client gone")
