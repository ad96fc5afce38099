"""Keyspace commands: DEL/EXISTS/TYPE/RENAME/KEYS/SCAN/RANDOMKEY, keys longer
than LMDB's 511-byte key limit, and SELECT/SWAPDB/MOVE/COPY across databases
surviving restarts (clean and kill -9)."""

import random
import time

import pytest
import redis

from lodis_testlib import assert_bytes_equal, scan_all, wait_until, require_commands

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def expect_error(fn, text):
    with pytest.raises(redis.ResponseError) as ei:
        fn()
    assert str(ei.value) == text, "error text %r != %r" % (str(ei.value), text)


def test_del_exists_unlink_type(r):
    r.mset({b"a": b"1", b"b": b"2", b"c": b"3", b"l": b"4"})
    assert r.exists(b"a") == 1
    assert r.exists(b"a", b"a", b"b", b"zz") == 3   # duplicates count
    assert r.type(b"a") == b"string"
    assert r.type(b"zz") == b"none"
    assert r.delete(b"a", b"zz", b"a") == 1
    assert r.unlink(b"b", b"l") == 2
    assert r.exists(b"a", b"b", b"l") == 0
    assert r.touch(b"c", b"nope") == 1
    assert r.dbsize() == 1
    assert r.delete(b"nope") == 0
    expect_error(lambda: r.execute_command("DEL"), "wrong number of arguments for 'del' command")


def test_keys_and_scan(r):
    expected = set()
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        k = b"user:%d" % i
        expected.add(k)
        pipe.set(k, b"u%d" % i)
    for i in range(200):
        pipe.set(b"order:%d" % i, b"o")
    pipe.set(b"user:list", b"x")
    pipe.execute()
    assert r.dbsize() == 1201
    allkeys = set(r.keys(b"*"))
    assert len(allkeys) == 1201
    assert set(r.keys(b"user:*")) == expected | {b"user:list"}
    assert set(r.keys(b"order:1?")) == {b"order:%d" % i for i in range(10, 20)}
    assert set(r.keys(b"order:[1-2]")) == {b"order:1", b"order:2"}
    assert set(r.keys(b"order:[^0-8]")) == {b"order:9"}
    assert r.keys(b"nomatch*") == []
    # full iterations with different COUNT hints: every key exactly once as a set
    for count in (None, 1, 7, 100, 5000):
        got = scan_all(r, count=count)
        assert set(got) == allkeys, "SCAN COUNT %r missed or invented keys" % count
    assert set(scan_all(r, match=b"order:*", count=13)) == {b"order:%d" % i for i in range(200)}
    assert set(scan_all(r, match=b"user:99?")) == {b"user:%d" % i for i in range(990, 1000)}
    assert scan_all(r, match=b"nomatch*", count=50) == []
    assert len(set(scan_all(r, _type=b"string", count=50))) == 1201
    assert scan_all(r, _type=b"hash", count=50) == []
    # iterate while deleting: keys present for the whole scan are returned
    stable = {k for k in allkeys if k.startswith(b"order:")}
    cursor, seen, deleted = 0, set(), 0
    while True:
        cursor, batch = r.scan(cursor=cursor, count=50)
        seen.update(batch)
        if deleted < 500:
            victims = [b"user:%d" % i for i in range(deleted, deleted + 100)]
            r.delete(*victims)
            deleted += 100
        if int(cursor) == 0:
            break
    assert stable <= seen
    assert r.dbsize() == 1201 - 500


def test_type_and_scan_type_filter_with_other_types(r):
    require_commands(r, "rpush", "sadd", "hset", "zadd")
    r.set(b"str", b"s")
    r.rpush(b"lst", b"x")
    r.sadd(b"st", b"m")
    r.hset(b"hs", b"f", b"v")
    r.zadd(b"zs", {b"m": 1})
    assert [r.type(k) for k in (b"str", b"lst", b"st", b"hs", b"zs")] == [
        b"string", b"list", b"set", b"hash", b"zset"]
    for t, k in ((b"string", b"str"), (b"list", b"lst"), (b"set", b"st"), (b"hash", b"hs"),
                 (b"zset", b"zs")):
        assert scan_all(r, _type=t, count=2) == [k]
    assert r.delete(b"lst", b"st", b"hs", b"zs") == 4
    assert r.keys(b"*") == [b"str"]


def test_rename_and_renamenx(r):
    r.set(b"src", b"value", px=100000)
    assert r.rename(b"src", b"dst") is True
    assert r.exists(b"src") == 0
    assert r.get(b"dst") == b"value"
    assert 90000 < r.pttl(b"dst") <= 100000, "RENAME must keep the TTL"
    r.set(b"other", b"o")
    assert r.rename(b"other", b"dst") is True        # overwrites, takes other's (no) TTL
    assert r.get(b"dst") == b"o"
    assert r.ttl(b"dst") == -1
    assert r.renamenx(b"dst", b"dst") is False       # same key: 0, value kept
    assert r.get(b"dst") == b"o"
    r.set(b"x", b"1")
    assert r.renamenx(b"x", b"dst") is False
    assert r.get(b"x") == b"1" and r.get(b"dst") == b"o"
    assert r.renamenx(b"x", b"y") is True
    assert r.get(b"y") == b"1" and r.exists(b"x") == 0
    expect_error(lambda: r.rename(b"nosuch", b"z"), "no such key")
    assert r.rename(b"y", b"y") is True
    assert r.get(b"y") == b"1"


def test_randomkey(r):
    assert r.randomkey() is None
    keys = {b"alpha", b"beta", b"gamma"}
    for k in keys:
        r.set(k, b"v")
    seen = set()
    for _ in range(300):
        k = r.randomkey()
        assert k in keys
        seen.add(k)
        if seen == keys:
            break
    assert seen == keys


def test_flushdb_and_flushall(server):
    c0, c1, c2 = server.client(0), server.client(1), server.client(2)
    for c in (c0, c1, c2):
        c.mset({b"a": b"1", b"b": b"2"})
    assert c1.flushdb() is True
    assert (c0.dbsize(), c1.dbsize(), c2.dbsize()) == (2, 0, 2)
    assert c0.flushall() is True
    assert (c0.dbsize(), c1.dbsize(), c2.dbsize()) == (0, 0, 0)
    c2.set(b"after", b"x")
    server.restart()
    c0, c1, c2 = server.client(0), server.client(1), server.client(2)
    assert (c0.dbsize(), c1.dbsize(), c2.dbsize()) == (0, 0, 1)
    assert c2.get(b"after") == b"x"


# ---------------------------------------------------------------- long keys

LONG_LENGTHS = [509, 510, 511, 512, 513, 600, 2048, 100 * 1024]


def long_key(n, tag=b"", fill=b"k"):
    """A key of exactly n bytes ending in `tag` (tag is where keys differ)."""
    body = (b"longkey:" + fill * n)[: n - len(tag)]
    return body + tag


@pytest.mark.parametrize("length", LONG_LENGTHS)
def test_long_key_commands(r, length):
    k = long_key(length, b":A")
    k2 = long_key(length, b":B")            # same first length-2 bytes
    assert len(k) == length
    assert r.set(k, b"value-A") is True
    assert r.set(k2, b"value-B") is True
    assert r.get(k) == b"value-A"
    assert r.get(k2) == b"value-B"
    assert r.exists(k, k2) == 2
    assert r.get(long_key(length, b":C")) is None
    assert r.exists(long_key(length, b":C")) == 0
    assert r.get(k[:-1]) is None           # a prefix is another key
    assert r.type(k) == b"string"
    assert r.strlen(k) == 7
    assert r.append(k, b"+") == 8
    assert r.incr(long_key(length, b":N")) == 1
    assert set(r.keys(b"*")) == {k, k2, long_key(length, b":N")}
    assert set(scan_all(r, count=1)) == {k, k2, long_key(length, b":N")}
    assert scan_all(r, match=b"*:A") == [k]
    assert r.keys(b"*:B") == [k2]
    assert r.delete(k) == 1
    assert r.get(k) is None and r.get(k2) == b"value-B"
    assert r.dbsize() == 2


def test_many_long_keys_sharing_a_prefix(server):
    """300 keys of 2000 bytes that differ only in their last bytes: every one
    distinct, found by SCAN (small COUNT, so the cursor lands on long keys),
    KEYS and MATCH on the tail, renamed, expired, and all surviving restarts."""
    r = server.client()
    prefix = b"tenant:" + b"\xff\x00x" * 700
    keys = [prefix[:2000 - 6] + b":%05d" % i for i in range(300)]
    assert all(len(k) == 2000 for k in keys) and len(set(keys)) == 300
    pipe = r.pipeline(transaction=False)
    for i, k in enumerate(keys):
        pipe.set(k, b"v%d" % i)
    pipe.execute()
    assert r.dbsize() == 300
    assert r.mget(keys) == [b"v%d" % i for i in range(300)]
    got = scan_all(r, count=3)
    assert set(got) == set(keys) and len(got) >= 300
    assert set(scan_all(r, match=b"*:0001?", count=7)) == {keys[i] for i in range(10, 20)}
    assert set(r.keys(b"*:0029?")) == {keys[i] for i in range(290, 300)}
    # rename long -> long, long -> short, short -> long
    new_long = prefix[:3000] + b":renamed"
    assert r.rename(keys[0], new_long) is True
    assert r.get(new_long) == b"v0" and r.exists(keys[0]) == 0
    assert r.rename(keys[1], b"short") is True
    assert r.get(b"short") == b"v1"
    r.set(b"short2", b"s2")
    big_target = long_key(100 * 1024, b":target")
    assert r.rename(b"short2", big_target) is True
    assert r.get(big_target) == b"s2"
    # expiry of long keys
    for k in keys[10:20]:
        r.pexpire(k, 100)
    r.expire(keys[20], 3600)
    time.sleep(0.3)
    assert r.mget(keys[10:20]) == [None] * 10
    assert r.exists(*keys[10:20]) == 0
    live = {new_long, b"short", big_target} | set(keys[2:10]) | set(keys[20:])
    assert set(r.keys(b"*")) == live
    assert set(scan_all(r, count=5)) == live
    wait_until(lambda: r.dbsize() == len(live), 3.0, what="long keys to be swept")
    # survive a clean restart and a crash
    server.restart()
    r = server.client()
    assert set(r.keys(b"*")) == live
    assert r.get(new_long) == b"v0" and r.get(big_target) == b"s2"
    assert r.mget(keys[20:]) == [b"v%d" % i for i in range(20, 300)]
    assert 3500 < r.ttl(keys[20]) <= 3600
    assert r.ttl(keys[21]) == -1
    server.kill9()
    server.start()
    r = server.client()
    assert set(scan_all(r, count=10)) == live
    assert r.mget(keys[2:10]) == [b"v%d" % i for i in range(2, 10)]


@pytest.mark.parametrize("length", [600, 2048, 100 * 1024])
def test_long_keys_survive_crash_with_appendfsync_always(server_factory, length):
    server = server_factory(appendfsync="always")
    r = server.client()
    rng = random.Random(length)
    keys = {long_key(length, b":%d" % i, fill=bytes([rng.randrange(256)])): rng.randbytes(100)
            for i in range(20)}
    for k, v in keys.items():
        assert r.set(k, v) is True
    server.kill9()
    server.start()
    r = server.client()
    assert r.dbsize() == len(keys)
    for k, v in keys.items():
        assert_bytes_equal(r.get(k), v, "value of a %d-byte key" % length)
    assert set(r.keys(b"*")) == set(keys)


# ------------------------------------------------- multiple databases

@pytest.mark.parametrize("how", ["shutdown", "kill9"])
def test_select_swapdb_move_copy_persist(server_factory, how):
    server = server_factory(appendfsync="always")
    c = {db: server.client(db) for db in range(16)}
    c[0].set(b"in0", b"zero")
    c[1].set(b"in1", b"one")
    c[1].set(b"shared", b"from1")
    c[0].set(b"shared", b"from0")
    assert c[0].swapdb(0, 1) is True
    assert c[0].get(b"in1") == b"one" and c[0].get(b"in0") is None
    assert c[1].get(b"in0") == b"zero" and c[1].get(b"shared") == b"from0"
    assert c[0].get(b"shared") == b"from1"
    # MOVE: keeps TTL; refuses when the target db has the key
    c[2].set(b"mv", b"moving", ex=5000)
    assert c[2].move(b"mv", 5) is True
    assert c[2].exists(b"mv") == 0
    assert c[5].get(b"mv") == b"moving"
    assert 4990 < c[5].ttl(b"mv") <= 5000
    c[2].set(b"mv", b"again")
    assert c[2].move(b"mv", 5) is False
    assert c[2].get(b"mv") == b"again" and c[5].get(b"mv") == b"moving"
    expect_error(lambda: c[2].move(b"mv", 2), "source and destination objects are the same")
    # COPY within and across databases
    c[3].set(b"orig", b"payload", ex=7000)
    assert c[3].copy(b"orig", b"dup") is True
    assert c[3].copy(b"orig", b"dup") is False
    assert c[3].copy(b"orig", b"orig", destination_db=7) is True
    assert c[7].get(b"orig") == b"payload" and 6990 < c[7].ttl(b"orig") <= 7000
    c[7].set(b"occupied", b"old")
    assert c[3].copy(b"orig", b"occupied", destination_db=7) is False
    assert c[3].copy(b"orig", b"occupied", destination_db=7, replace=True) is True
    assert c[7].get(b"occupied") == b"payload"
    c[3].set(b"orig", b"changed")          # copies are independent
    assert c[7].get(b"orig") == b"payload" and c[3].get(b"dup") == b"payload"
    # SELECT inside one connection
    one = server.client(0, single_connection_client=True)
    assert one.execute_command("SELECT", 9) is True
    one.set(b"via-select", b"nine")
    assert one.execute_command("SELECT", 0) is True
    assert one.get(b"via-select") is None
    assert c[9].get(b"via-select") == b"nine"
    expect_error(lambda: one.execute_command("SELECT", 16), "DB index is out of range")
    expect_error(lambda: one.execute_command("SELECT", "x"),
                 "value is not an integer or out of range")
    c[15].set(b"last", b"db15")
    # swap again so that db 1 <-> 15 holds data moved after the first swap
    assert c[0].swapdb(15, 14) is True

    expected = {
        0: {b"in1": b"one", b"shared": b"from1"},
        1: {b"in0": b"zero", b"shared": b"from0"},
        2: {b"mv": b"again"},
        3: {b"orig": b"changed", b"dup": b"payload"},
        5: {b"mv": b"moving"},
        7: {b"orig": b"payload", b"occupied": b"payload"},
        9: {b"via-select": b"nine"},
        14: {b"last": b"db15"},
    }

    def check():
        cl = {db: server.client(db) for db in range(16)}
        for db in range(16):
            want = expected.get(db, {})
            assert sorted(cl[db].keys(b"*")) == sorted(want), "db %d keys" % db
            for k, v in want.items():
                assert cl[db].get(k) == v, "db %d key %r" % (db, k)
        assert 4900 < cl[5].ttl(b"mv") <= 5000
        assert 6900 < cl[7].ttl(b"orig") <= 7000
        assert 6900 < cl[3].ttl(b"dup") <= 7000
        assert cl[3].ttl(b"orig") == -1
        assert cl[7].ttl(b"occupied") > 6900

    check()
    if how == "shutdown":
        server.stop()
    else:
        server.kill9()
    server.start()
    check()
