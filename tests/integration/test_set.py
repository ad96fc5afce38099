"""Sets through redis-py: tags and memberships as applications keep them,
set algebra with and without STORE, random draws (SPOP as a work queue,
SRANDMEMBER sampling, a big mixed set drained by single SPOPs), SSCAN paging, members beyond LMDB's key size,
persistence across a restart, and a 200 000-member set whose DEL is O(1)
(its members are reclaimed in the background)."""

import time

import pytest
import redis

from lodis_testlib import RawConn, scaled, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def expect_error(fn, text):
    with pytest.raises(redis.ResponseError) as ei:
        fn()
    assert str(ei.value) == text, "error text %r != %r" % (str(ei.value), text)


def test_set_commands(r):
    assert r.sadd(b"tags", b"redis", b"db", b"", b"db") == 3
    assert r.sadd(b"tags", b"db") == 0
    assert r.scard(b"tags") == 3 and r.scard(b"missing") == 0
    assert r.smembers(b"tags") == {b"redis", b"db", b""}
    assert r.smembers(b"missing") == set()
    assert r.sismember(b"tags", b"db") and not r.sismember(b"tags", b"x")
    assert r.smismember(b"tags", [b"db", b"x", b""]) == [1, 0, 1]
    assert r.smismember(b"missing", [b"a", b"b"]) == [0, 0]
    assert r.srem(b"tags", b"db", b"nope") == 1
    assert r.smove(b"tags", b"other", b"redis") is True
    assert r.smove(b"tags", b"other", b"redis") is False
    assert r.smembers(b"other") == {b"redis"}
    assert r.srem(b"tags", b"") == 1
    assert r.exists(b"tags") == 0                 # an emptied set is deleted
    r.set(b"str", b"x")
    for fn in (lambda: r.sadd(b"str", b"a"), lambda: r.smembers(b"str"),
               lambda: r.scard(b"str"), lambda: r.sinter(b"other", b"str"),
               lambda: r.smove(b"other", b"str", b"redis")):
        expect_error(fn, WRONGTYPE)
    assert r.smove(b"missing", b"str", b"a") is False   # no source: no type check


def test_intset_order_and_encoding(server, r):
    r.sadd(b"nums", 10, -5, 3, 100, 0)
    assert r.object("encoding", b"nums") == b"intset"
    # an intset replies in numeric order, in Redis and here
    with RawConn(server.port) as raw:
        raw.send_command(b"SMEMBERS", b"nums")
        assert raw.read_reply() == [b"-5", b"0", b"3", b"10", b"100"]
    assert r.sscan(b"nums", 0) == (0, [b"-5", b"0", b"3", b"10", b"100"])
    r.sadd(b"nums", b"007")                      # not a canonical integer
    assert r.object("encoding", b"nums") == b"hashtable"
    r.srem(b"nums", b"007")
    assert r.object("encoding", b"nums") == b"hashtable"   # never converted back
    r.sunionstore(b"copy", b"nums")
    assert r.object("encoding", b"copy") == b"intset"      # a stored result is judged afresh


def test_set_algebra(r):
    r.sadd(b"a", 1, 2, 3, b"x", b"y")
    r.sadd(b"b", 2, 3, 4, b"y", b"z")
    r.sadd(b"c", 3, b"y", b"q")
    assert r.sinter(b"a", b"b", b"c") == {b"3", b"y"}
    assert r.sinter(b"a", b"missing") == set()
    assert r.sunion(b"a", b"b") == {b"1", b"2", b"3", b"4", b"x", b"y", b"z"}
    assert r.sdiff(b"a", b"b") == {b"1", b"x"}
    assert r.sdiff(b"a", b"a") == set()
    assert r.sdiff(b"missing", b"a") == set()
    assert r.sintercard(2, [b"a", b"b"]) == 3
    assert r.sintercard(2, [b"a", b"b"], limit=2) == 2
    assert r.sintercard(2, [b"a", b"missing"]) == 0
    expect_error(lambda: r.execute_command("SINTERCARD", 0, b"a"),
                 "numkeys should be greater than 0")
    expect_error(lambda: r.execute_command("SINTERCARD", 3, b"a", b"b"),
                 "Number of keys can't be greater than number of args")
    expect_error(lambda: r.execute_command("SINTERCARD", 1, b"a", b"LIMIT", -1),
                 "LIMIT can't be negative")
    # STORE forms, with the destination among the sources
    assert r.sinterstore(b"a", b"a", b"b") == 3
    assert r.smembers(b"a") == {b"2", b"3", b"y"}
    r.set(b"dst", b"string value")
    r.expire(b"dst", 1000)
    assert r.sunionstore(b"dst", b"b", b"c") == 6
    assert r.type(b"dst") == b"set" and r.ttl(b"dst") == -1
    assert r.sdiffstore(b"dst", b"b", b"b") == 0
    assert r.exists(b"dst") == 0
    assert r.sinterstore(b"dst", b"b", b"missing") == 0


def test_random_members(r):
    members = {b"m%d" % i for i in range(50)}
    r.sadd(b"pool", *members)
    assert r.srandmember(b"pool") in members
    assert r.srandmember(b"missing") is None
    got = r.srandmember(b"pool", 10)
    assert len(got) == 10 and len(set(got)) == 10 and set(got) <= members
    assert set(r.srandmember(b"pool", 100)) == members
    dup = r.srandmember(b"pool", -200)
    assert len(dup) == 200 and set(dup) <= members
    assert r.srandmember(b"missing", 5) == []
    expect_error(lambda: r.srandmember(b"pool", b"x"), "value is not an integer or out of range")
    # SPOP as a work queue: every member comes out exactly once
    out = []
    while True:
        batch = r.spop(b"pool", 7)
        if not batch:
            break
        out += batch
    assert sorted(out) == sorted(members) and r.exists(b"pool") == 0
    r.sadd(b"one", b"only")
    assert r.spop(b"one") == b"only" and r.exists(b"one") == 0
    assert r.spop(b"one") is None
    expect_error(lambda: r.spop(b"one", -1), "value is out of range, must be positive")


def test_spop_drains_a_big_mixed_set(r):
    # Past 1000 members a single SPOP draws by descending the member keys
    # (storage/t_hash.c cm_random_entry) through the memtable's tombstones
    # of the pops before it: integers, short members and long members (kept
    # in a hashed form) must each come out exactly once, none invented.
    members = {b"%d" % (i * 7919 - 40000) for i in range(1500)}
    members |= {b"element:%012d" % (i * 613) for i in range(1500)}
    members |= {b"long:" + b"x" * 300 + b"%d" % i for i in range(300)}
    items = list(members)
    for i in range(0, len(items), 500):
        r.sadd(b"queue", *items[i:i + 500])
    p = r.pipeline(transaction=False)
    for _ in range(len(items) + 5):
        p.spop(b"queue")
    out = p.execute()
    assert out[-5:] == [None] * 5 and r.exists(b"queue") == 0
    assert sorted(out[:-5]) == sorted(items)
    assert len(set(out[:-5])) == len(items)


def test_long_members_survive_restart(server):
    r = server.client()
    base = b"M" * 450
    members = {base + b"a" * 100, base + b"b" * 100, base, b"q" * 3000, b"short", b"12"}
    r.sadd(b"long", *members)
    r.sadd(b"long2", base + b"b" * 100, b"12", b"zz")
    assert r.sinter(b"long", b"long2") == {base + b"b" * 100, b"12"}
    server.restart()
    r = server.client()
    assert r.smembers(b"long") == members
    for m in members:
        assert r.sismember(b"long", m)
    assert not r.sismember(b"long", base + b"c" * 100)
    assert r.sdiff(b"long", b"long2") == members - {base + b"b" * 100, b"12"}


def test_sscan_pages_a_big_set(r):
    n = 3000
    for start in range(0, n, 500):
        r.sadd(b"big", *[b"member:%d" % i for i in range(start, start + 500)])
    assert r.object("encoding", b"big") == b"hashtable"
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, part = r.sscan(b"big", cursor, count=100)
        calls += 1
        seen.update(part)
        if cursor == 0:
            break
    assert calls > 10 and len(seen) == n
    picked = r.srandmember(b"big", 300)
    assert len(set(picked)) == 300 and set(picked) <= seen
    popped = r.spop(b"big", 50)
    assert len(set(popped)) == 50 and r.scard(b"big") == n - 50
    assert not any(r.smismember(b"big", popped))


@pytest.mark.slow
def test_big_set_delete_is_constant_time(server):
    r = server.client()
    n, batch = 200_000, 2_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, batch):
        pipe.sadd(b"huge", *[b"member-%d" % i for i in range(start, start + batch)])
    pipe.execute()
    assert r.scard(b"huge") == n
    assert r.sismember(b"huge", b"member-123456")
    assert r.dbsize() == 1

    def reclaimed():
        info = r.info("stats") if not server.is_redis else {}
        return int(info.get("lodis_reclaimed_entries", 0))

    before = reclaimed()
    t0 = time.monotonic()
    assert r.delete(b"huge") == 1
    elapsed = time.monotonic() - t0
    print("DEL of a %d-member set took %.2f ms" % (n, elapsed * 1000))
    assert elapsed < scaled(0.2)
    assert r.exists(b"huge") == 0 and r.dbsize() == 0 and r.scard(b"huge") == 0
    r.sadd(b"huge", b"fresh")
    assert r.smembers(b"huge") == {b"fresh"}
    if not server.is_redis:
        wait_until(lambda: reclaimed() - before >= n, 60, 0.1, "the reclaimer to drop the members")
