"""Keyspace notifications (notify-keyspace-events): CONFIG SET/GET of the
class string, and the keyspace/keyevent messages published for string,
generic, expiry and hash commands. When /usr/bin/redis-server exists, the
same script also runs against it (own free port) and the event sequences must
match exactly."""

import threading
import time

import pytest
import redis

from lodis_testlib import scaled, wait_until

CONFIG_CASES = ["KEA", "g$lshzxetd", "Ed", "KEAmn", "tedxzhsl$g", "nA", "mnKEgd", "Kn", ""]


def config_script(r):
    out = []
    for v in CONFIG_CASES + ["Kq"]:
        try:
            out.append(r.config_set("notify-keyspace-events", v))
        except redis.ResponseError as e:
            out.append(str(e))
        out.append(r.config_get("notify-keyspace-events")["notify-keyspace-events"])
    return out


def test_config_canonical(r):
    got = config_script(r)
    assert got[:2] == [True, "AKE"]
    assert got[-2] == ("CONFIG SET failed (possibly related to argument "
                       "'notify-keyspace-events') - Invalid event class character. "
                       "Use 'Ag$lshzxeKEtmdn'.")
    assert got[-1] == ""  # unchanged by the failed set


def test_config_matches_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    reference = redis.Redis(port=reference.connection_pool.connection_kwargs["port"],
                            decode_responses=True)
    assert config_script(r) == config_script(reference)


def collect(sub, last):
    """The (channel, data) messages up to and including last (or what came
    within a few seconds)."""
    msgs = []
    deadline = time.time() + scaled(3)
    while time.time() < deadline:
        m = sub.get_message(timeout=0.1)
        if m is None:
            continue
        msgs.append((m["channel"], m["data"]))
        if msgs[-1] == last:
            break
    return msgs


def event_script(cli):
    """Run the commands and return the (channel, data) messages seen."""
    cli.flushall()
    cli.config_set("notify-keyspace-events", "KEA")
    sub = cli.pubsub()
    sub.psubscribe("__key*__:*")
    assert sub.get_message(timeout=scaled(2))["type"] == "psubscribe"
    cli.set("s", "1")
    cli.set("s2", "v", ex=100)
    cli.incrby("s", 5)
    cli.incrbyfloat("s", 1.5)
    cli.append("s2", "x")
    cli.setrange("s2", 0, "ab")
    cli.mset({"m1": "a", "m2": "b"})
    cli.expire("s", 100)
    cli.persist("s")
    cli.getdel("m1")
    cli.delete("m2", "nosuch")
    cli.rename("s", "s3")
    cli.copy("s3", "s4")
    cli.move("s4", 1)
    cli.expire("s3", 0)
    # Long enough that the commands below finish first, even on a loaded machine.
    cli.set("px", "v", px=int(scaled(500)))
    cli.hset("h", mapping={"a": "1", "b": "2"})
    cli.hincrby("h", "a", 2)
    cli.hincrbyfloat("h", "a", 0.5)
    cli.hdel("h", "a")
    cli.hdel("h", "b")
    cli.lpush("l", "a", "b")
    cli.rpush("l", "c")
    cli.lpushx("nol", "a")
    # Collect until the active sweep's "expired" for px has arrived.
    msgs = collect(sub, (b"__keyevent@0__:expired", b"px"))
    sub.close()
    cli.config_set("notify-keyspace-events", "")
    return msgs


def test_events(r):
    r = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    msgs = event_script(r)
    assert msgs[:4] == [(b"__keyspace@0__:s", b"set"), (b"__keyevent@0__:set", b"s"),
                        (b"__keyspace@0__:s2", b"set"), (b"__keyevent@0__:set", b"s2")]
    assert (b"__keyspace@0__:px", b"expired") in msgs
    assert (b"__keyevent@0__:expired", b"px") in msgs
    assert (b"__keyspace@1__:s4", b"move_to") in msgs


def test_events_match_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    mine = event_script(redis.Redis(port=r.connection_pool.connection_kwargs["port"]))
    ref = event_script(reference)
    assert mine == ref


# Set, list and stream commands (and sorted sets when their calls exist):
# each entry is a command; errors are recorded, not raised.
COLLECTION_SCRIPT = [
    ("SADD", "s", "a", "b", "c"), ("SADD", "s", "a"), ("SREM", "s", "zz"), ("SREM", "s", "a"),
    ("SMOVE", "s", "s2", "b"), ("SMOVE", "s", "s2", "nosuch"), ("SMOVE", "s", "s2", "c"),
    ("SADD", "s3", "x", "y"), ("SMOVE", "s3", "s2", "x"), ("SMOVE", "s2", "s2", "b"),
    ("SPOP", "s3"), ("SADD", "s4", "1", "2", "3", "4"), ("SPOP", "s4", "0"), ("SPOP", "s4", "2"),
    ("SPOP", "s4", "5"), ("SPOP", "nosuch", "3"),
    ("SADD", "i1", "a", "b"), ("SADD", "i2", "b", "c"),
    ("SINTERSTORE", "d", "i1", "i2"), ("SINTERSTORE", "d", "i1", "nosuch"),
    ("SINTERSTORE", "d", "i1", "nosuch"), ("SUNIONSTORE", "d", "i1", "i2"),
    ("SDIFFSTORE", "d", "i1", "i2"), ("SDIFFSTORE", "d", "i1", "i1"),
    ("SUNIONSTORE", "d", "nosuch"), ("SREM", "i1", "a", "b"),
    ("RPUSH", "l", "a", "b", "c", "d", "e"), ("LPOP", "l"), ("RPOP", "l", "2"), ("LPOP", "l", "0"),
    ("LINSERT", "l", "BEFORE", "b", "x"), ("LINSERT", "l", "AFTER", "zz", "y"),
    ("LSET", "l", "0", "q"), ("LSET", "l", "9", "q"), ("LREM", "l", "0", "zz"),
    ("LREM", "l", "1", "q"), ("LTRIM", "l", "0", "-1"), ("RPUSH", "l", "m", "n"),
    ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l", "l2"), ("LMOVE", "l2", "l2", "LEFT", "LEFT"),
    ("LMOVE", "l", "l2", "RIGHT", "LEFT"), ("LMOVE", "nosuch", "l2", "LEFT", "LEFT"),
    ("LMPOP", "2", "nosuch", "l2", "RIGHT", "COUNT", "2"), ("BLPOP", "l2", "1"),
    ("BRPOP", "l2", "1"), ("RPUSH", "l3", "a", "b"), ("BLMPOP", "1", "1", "l3", "LEFT", "COUNT", "5"),
    ("RPUSH", "l4", "a", "b", "c"), ("LTRIM", "l4", "1", "1"), ("LTRIM", "l4", "5", "9"),
    ("RPUSH", "l5", "a"), ("BLMOVE", "l5", "l6", "LEFT", "LEFT", "1"), ("LREM", "l6", "0", "a"),
    ("XADD", "x", "1-1", "f", "v"), ("XADD", "x", "2-1", "f", "v"),
    ("XADD", "x", "MAXLEN", "2", "3-1", "f", "v"), ("XADD", "x", "MAXLEN", "5", "4-1", "f", "v"),
    ("XADD", "x", "1-0", "f", "v"), ("XADD", "nox", "NOMKSTREAM", "*", "f", "v"),
    ("XDEL", "x", "2-1"), ("XDEL", "x", "9-9"), ("XTRIM", "x", "MAXLEN", "5"),
    ("XTRIM", "x", "MAXLEN", "1"), ("XSETID", "x", "10-0"),
    ("XGROUP", "CREATE", "x", "g", "0"), ("XGROUP", "CREATE", "x", "g", "0"),
    ("XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"), ("XGROUP", "SETID", "x", "g", "0"),
    ("XGROUP", "CREATECONSUMER", "x", "g", "c1"), ("XGROUP", "CREATECONSUMER", "x", "g", "c1"),
    ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "x", ">"),
    ("XCLAIM", "x", "g", "c3", "0", "4-1"), ("XCLAIM", "x", "g", "c4", "0", "99-1"),
    ("XAUTOCLAIM", "x", "g", "c5", "0", "0"),
    ("XGROUP", "DELCONSUMER", "x", "g", "c1"), ("XGROUP", "DELCONSUMER", "x", "g", "nobody"),
    ("XGROUP", "DESTROY", "x", "g"), ("XGROUP", "DESTROY", "x", "g"),
]

ZSET_SCRIPT = [
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZADD", "z", "1", "a"),
    ("ZADD", "z", "XX", "CH", "5", "a"), ("ZADD", "z", "INCR", "1", "a"), ("ZADD", "z", "NX", "9", "a"),
    ("ZINCRBY", "z", "2", "b"), ("ZREM", "z", "zz"), ("ZREM", "z", "a"),
    ("ZADD", "z", "4", "d", "5", "e", "6", "f", "7", "g"),
    ("ZREMRANGEBYSCORE", "z", "100", "200"), ("ZREMRANGEBYSCORE", "z", "4", "4"),
    ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYLEX", "z", "[a", "[b"),
    ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "0"), ("ZPOPMAX", "z", "1"),
    ("ZADD", "z2", "1", "a", "2", "b"), ("ZMPOP", "2", "nosuch", "z2", "MIN", "COUNT", "5"),
    ("ZADD", "z3", "1", "a", "2", "b"), ("ZADD", "z4", "2", "b", "3", "c"),
    ("ZINTERSTORE", "zd", "2", "z3", "z4"), ("ZUNIONSTORE", "zd", "2", "z3", "z4"),
    ("ZDIFFSTORE", "zd", "2", "z3", "z3"), ("ZDIFFSTORE", "zd", "2", "z3", "z3"),
    ("ZINTERSTORE", "zd", "2", "z3", "nosuch"), ("ZRANGESTORE", "zd", "z3", "0", "-1"),
    ("ZRANGESTORE", "zd", "z3", "5", "9"), ("ZRANGESTORE", "zd", "z3", "5", "9"),
    ("ZREM", "z3", "a", "b"), ("ZPOPMIN", "z4", "9"),
    ("ZADD", "z5", "1", "a"), ("BZPOPMIN", "z5", "1"), ("ZADD", "z5", "1", "a"),
    ("BZMPOP", "1", "1", "z5", "MAX"),
]


def collection_script(cli, script, classes="KEA"):
    """Run script (plus one served blocked pop) and return the messages."""
    cli.flushall()
    cli.config_set("notify-keyspace-events", classes)
    sub = cli.pubsub()
    sub.psubscribe("__key*__:*")
    assert sub.get_message(timeout=scaled(2))["type"] == "psubscribe"
    # One raw connection (no reply callbacks; SELECT stays on it).
    conn = cli.connection_pool.get_connection("script")
    for cmd in script:
        conn.send_command(*cmd)
        try:
            conn.read_response()
        except redis.ResponseError:
            pass
    cli.connection_pool.release(conn)
    # A blocked BLPOP served by an RPUSH: rpush, lpop, del.
    port = cli.connection_pool.connection_kwargs["port"]
    blocker = redis.Redis(port=port)
    t = threading.Thread(target=lambda: blocker.blpop(["wake"], timeout=scaled(5)))
    t.start()
    wait_until(lambda: cli.info("clients")["blocked_clients"] == 1, scaled(5), what="blocked")
    cli.rpush("wake", "v")
    t.join()
    cli.set("end", "1")
    msgs = collect(sub, (b"__keyevent@0__:set", b"end"))
    sub.close()
    blocker.close()
    cli.config_set("notify-keyspace-events", "")
    return msgs


# Hashes, geo, SORT ... STORE, HyperLogLog, bitmaps and the generic key
# commands, run with 'n' so that every key creation shows its "new" event.
MORE_SCRIPT = [
    ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HSETNX", "h", "a", "9"),
    ("HSETNX", "h", "c", "3"), ("HMSET", "h", "d", "4"), ("HINCRBY", "h", "n", "2"),
    ("HINCRBYFLOAT", "h", "f", "1.5"), ("HINCRBY", "h", "a", "x"), ("HDEL", "h", "zz"),
    ("HDEL", "h", "a", "b", "c", "d", "n", "f"), ("HSET", "h2", "a", "1"),
    ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ("GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo"),
    ("GEOADD", "g", "XX", "CH", "13.4", "38.1", "Palermo"),
    ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
    ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"),
    ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gr"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "gr2"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "1", "km", "STORE", "gr"),
    ("RPUSH", "sl", "3", "1", "2"), ("SORT", "sl", "STORE", "sd"), ("SORT", "sl", "STORE", "sd"),
    ("SORT", "nosuch", "STORE", "sd"), ("SORT", "nosuch", "STORE", "sd"),
    ("PFADD", "p", "a", "b"), ("PFADD", "p", "a"), ("PFADD", "p2"), ("PFADD", "p2"),
    ("PFADD", "p3", "c"), ("PFMERGE", "p4", "p", "p3"), ("PFMERGE", "p", "p3"), ("PFCOUNT", "p"),
    ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "1"), ("BITOP", "OR", "bd", "b", "b"),
    ("BITOP", "AND", "bd", "nosuch"), ("BITFIELD", "bf", "SET", "u8", "0", "255"),
    ("BITFIELD", "bf", "GET", "u8", "0"), ("SETNX", "k", "1"), ("SETNX", "k", "2"),
    ("SETEX", "k2", "100", "v"), ("PSETEX", "k3", "100000", "v"), ("GETSET", "k", "3"),
    ("MSETNX", "k4", "1", "k5", "2"), ("MSETNX", "k4", "1", "k6", "2"), ("DECR", "k"),
    ("DECRBY", "k", "2"), ("INCR", "k"), ("GETEX", "k", "EX", "100"), ("GETEX", "k", "PERSIST"),
    ("SET", "k", "v", "KEEPTTL"), ("SET", "k", "v", "NX"), ("SET", "k", "v", "XX", "GET"),
    ("EXPIRE", "k", "100", "NX"), ("EXPIRE", "k", "100", "NX"), ("PEXPIREAT", "k", "99999999999999"),
    ("COPY", "h", "hc"), ("COPY", "h2", "hc"), ("COPY", "h2", "hc", "REPLACE"),
    ("COPY", "h2", "hc", "DB", "1"), ("RENAME", "hc", "hr"), ("RENAME", "h2", "hr"),
    ("RENAMENX", "hr", "k"), ("RENAMENX", "hr", "hn"), ("RENAME", "hn", "hn"),
    ("MOVE", "hn", "1"), ("MOVE", "k", "1"), ("SELECT", "1"), ("RPUSH", "l1", "a"),
    ("SELECT", "0"), ("SWAPDB", "0", "1"), ("DEL", "l1", "nosuch"), ("UNLINK", "hc", "k4"),
    ("SWAPDB", "0", "1"), ("SADD", "s", "a"), ("SADD", "s2", "b"),
    ("SINTERSTORE", "s", "s", "s2"), ("RPUSH", "lx", "a"), ("LPUSHX", "lx", "b"),
    ("RPUSHX", "nolx", "b"), ("ZADD", "z", "1", "a"), ("ZUNIONSTORE", "z", "1", "z"),
    ("XADD", "x", "1-1", "f", "v"), ("FLUSHDB",),
]


@pytest.mark.parametrize("name,classes", [("COLLECTION_SCRIPT", "KEA"), ("ZSET_SCRIPT", "KEA"),
                                           ("MORE_SCRIPT", "KEAn")])
def test_script_events_match_redis(r, reference, name, classes):
    if reference is None:
        pytest.skip("redis-server not installed")
    script = globals()[name]
    mine = collection_script(redis.Redis(port=r.connection_pool.connection_kwargs["port"]),
                             script, classes)
    ref = collection_script(reference, script, classes)
    assert ref[-2:] == [(b"__keyspace@0__:end", b"set"), (b"__keyevent@0__:set", b"end")]
    if "n" in classes:
        assert (b"__keyevent@0__:new", b"h") in ref
    # Keyspace channel first: a shorter diff when they differ.
    assert [m for m in mine if m[0].startswith(b"__keyspace")] == \
        [m for m in ref if m[0].startswith(b"__keyspace")]
    assert mine == ref
