"""Hashes through redis-py: the commands as applications use them (objects
stored field by field, counters, random sampling, HSCAN paging), fields
beyond LMDB's key size, persistence across a restart, and a 200 000-field
hash whose DEL is O(1) (its fields are reclaimed in the background)."""

import time

import pytest
import redis

from lodis_testlib import scaled, wait_until


def expect_error(fn, text):
    with pytest.raises(redis.ResponseError) as ei:
        fn()
    assert str(ei.value) == text, "error text %r != %r" % (str(ei.value), text)


def test_hash_commands(r):
    assert r.hset(b"user:1", mapping={b"name": b"ada", b"age": b"36", b"": b"empty"}) == 3
    assert r.hset(b"user:1", b"age", b"37") == 0
    assert r.hget(b"user:1", b"age") == b"37"
    assert r.hget(b"user:1", b"nope") is None
    assert r.hget(b"missing", b"x") is None
    assert r.hmget(b"user:1", [b"name", b"nope", b""]) == [b"ada", None, b"empty"]
    assert r.hmget(b"missing", [b"a", b"b"]) == [None, None]
    assert r.hgetall(b"user:1") == {b"name": b"ada", b"age": b"37", b"": b"empty"}
    assert r.hgetall(b"missing") == {}
    assert sorted(r.hkeys(b"user:1")) == [b"", b"age", b"name"]
    assert sorted(r.hvals(b"user:1")) == [b"37", b"ada", b"empty"]
    assert r.hlen(b"user:1") == 3 and r.hlen(b"missing") == 0
    assert r.hexists(b"user:1", b"name") is True
    assert r.hexists(b"user:1", b"x") is False
    assert r.hstrlen(b"user:1", b"name") == 3 and r.hstrlen(b"user:1", b"x") == 0
    assert r.hsetnx(b"user:1", b"name", b"bob") == 0
    assert r.hsetnx(b"user:1", b"city", b"london") == 1
    assert r.hget(b"user:1", b"city") == b"london"
    assert r.execute_command("HMSET", b"user:2", b"a", b"1", b"b", b"2") in (True, b"OK")
    assert r.hdel(b"user:1", b"name", b"nope", b"name") == 1
    assert r.hdel(b"missing", b"a") == 0
    assert r.hdel(b"user:2", b"a", b"b") == 2
    assert r.exists(b"user:2") == 0              # an emptied hash is deleted
    assert r.type(b"user:1") == b"hash"

    expect_error(lambda: r.execute_command("HSET", b"user:1", b"a", b"1", b"b"),
                 "wrong number of arguments for 'hset' command")
    r.set(b"str", b"x")
    for fn in (lambda: r.hset(b"str", b"a", b"1"), lambda: r.hget(b"str", b"a"),
               lambda: r.hgetall(b"str"), lambda: r.hlen(b"str"),
               lambda: r.hmget(b"str", [b"a"])):
        expect_error(fn, "WRONGTYPE Operation against a key holding the wrong kind of value")


def test_hash_counters(r):
    assert r.hincrby(b"c", b"n", 5) == 5
    assert r.hincrby(b"c", b"n", -7) == -2
    assert r.hincrbyfloat(b"c", b"f", 10.5) == 10.5
    assert r.hincrbyfloat(b"c", b"f", 0.1) == pytest.approx(10.6)
    assert r.hget(b"c", b"f") == b"10.6"
    assert r.hincrbyfloat(b"c", b"n", 1.5) == -0.5
    r.hset(b"c", b"max", str(2 ** 63 - 1))
    expect_error(lambda: r.hincrby(b"c", b"max", 1),
                 "increment or decrement would overflow")
    r.hset(b"c", b"word", b"abc")
    expect_error(lambda: r.hincrby(b"c", b"word", 1), "hash value is not an integer")
    expect_error(lambda: r.hincrbyfloat(b"c", b"word", 1), "hash value is not a float")
    expect_error(lambda: r.hincrby(b"c", b"n", b"x"),
                 "value is not an integer or out of range")
    expect_error(lambda: r.hincrbyfloat(b"c", b"n", b"inf"), "value is NaN or Infinity")


def test_hash_encoding_and_random(r):
    r.hset(b"small", mapping={b"f%d" % i: b"v%d" % i for i in range(10)})
    assert r.object("encoding", b"small") == b"listpack"
    r.hset(b"small", b"long", b"x" * 65)             # value over hash-max-listpack-value
    assert r.object("encoding", b"small") == b"hashtable"
    r.hdel(b"small", b"long")
    assert r.object("encoding", b"small") == b"hashtable"   # never converted back

    content = r.hgetall(b"small")
    assert r.hrandfield(b"small") in content
    assert r.hrandfield(b"missing") is None
    picked = r.hrandfield(b"small", 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(content)
    assert sorted(r.hrandfield(b"small", 100)) == sorted(content)
    many = r.hrandfield(b"small", -30)
    assert len(many) == 30 and set(many) <= set(content)
    pairs = r.hrandfield(b"small", 4, withvalues=True)
    assert len(pairs) == 8
    for f, v in zip(pairs[0::2], pairs[1::2]):
        assert content[f] == v
    assert r.hrandfield(b"missing", 3) == []
    assert r.hrandfield(b"small", 0) == []


def test_hash_long_fields_survive_restart(server):
    r = server.client()
    base = b"F" * 450
    fields = {base + b"a" * 100: b"1", base + b"b" * 100: b"2", base: b"3",
              b"p" * 2000: b"4", b"short": b"5"}
    r.hset(b"long", mapping=fields)
    assert r.hlen(b"long") == 5
    assert r.hgetall(b"long") == fields
    assert r.hdel(b"long", base + b"b" * 100) == 1
    del fields[base + b"b" * 100]
    server.restart()
    r = server.client()
    assert r.hgetall(b"long") == fields
    for f, v in fields.items():
        assert r.hget(b"long", f) == v
        assert r.hexists(b"long", f)
    assert r.hget(b"long", base + b"b" * 100) is None


def test_hscan_pages_a_big_hash(r):
    n = 3000
    for start in range(0, n, 500):
        r.hset(b"big", mapping={b"field:%d" % i: b"%d" % i for i in range(start, start + 500)})
    assert r.object("encoding", b"big") == b"hashtable"
    seen = {}
    cursor, calls = 0, 0
    while True:
        cursor, part = r.hscan(b"big", cursor, count=100)
        calls += 1
        seen.update(part)
        if cursor == 0:
            break
    assert calls > 10
    assert len(seen) == n and seen[b"field:1234"] == b"1234"
    cursor, part = r.hscan(b"big", 0, match=b"field:12??", count=10000)
    assert cursor == 0 and len(part) == 100
    # random fields of a big hash: distinct and real
    picked = r.hrandfield(b"big", 200, withvalues=True)
    fields = picked[0::2]
    assert len(set(fields)) == 200
    for f, v in zip(fields, picked[1::2]):
        assert f == b"field:" + v
    assert len(r.hrandfield(b"big", -500)) == 500


@pytest.mark.slow
def test_big_hash_delete_is_constant_time(server):
    r = server.client()
    n, batch = 200_000, 2_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, batch):
        pipe.hset(b"huge", mapping={b"f%07d" % i: b"value-%d" % i
                                    for i in range(start, start + batch)})
    pipe.execute()
    assert r.hlen(b"huge") == n
    assert r.hget(b"huge", b"f0123456") == b"value-123456"
    assert r.dbsize() == 1

    def reclaimed():
        info = r.info("stats") if not server.is_redis else {}
        return int(info.get("lodis_reclaimed_entries", 0))

    before = reclaimed()
    t0 = time.monotonic()
    assert r.delete(b"huge") == 1
    elapsed = time.monotonic() - t0
    print("DEL of a %d-field hash took %.2f ms" % (n, elapsed * 1000))
    assert elapsed < scaled(0.2)
    assert r.exists(b"huge") == 0 and r.dbsize() == 0
    assert r.hlen(b"huge") == 0
    # a new hash under the same name starts empty
    r.hset(b"huge", b"only", b"1")
    assert r.hgetall(b"huge") == {b"only": b"1"}
    if not server.is_redis:
        wait_until(lambda: reclaimed() - before >= n, 60, 0.1, "the reclaimer to drop the fields")
    r.delete(b"huge")
