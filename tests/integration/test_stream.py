"""Streams through redis-py: auto IDs (`*`, which the differential test
cannot use), two consumers of a group where one dies mid-work and the
other claims its entries (XAUTOCLAIM and XCLAIM), XREAD/XREADGROUP BLOCK
served by another client's XADD, a 200 000-entry stream whose DEL is O(1).
Concurrent workers: test_stream_workers.py; crash test: test_stream_crash.py."""

import threading
import time

import pytest
import redis

from lodis_testlib import scaled, wait_until


def test_auto_ids_are_increasing(r):
    ids = [r.xadd(b"s", {b"n": str(i).encode()}) for i in range(200)]
    parsed = [tuple(int(x) for x in i.split(b"-")) for i in ids]
    assert parsed == sorted(parsed) and len(set(parsed)) == 200
    now = int(time.time() * 1000)
    assert abs(parsed[-1][0] - now) < 60000
    # `ms-*` on the last ms continues its sequence
    ms = parsed[-1][0]
    nxt = r.xadd(b"s", {b"x": b"y"}, id=b"%d-*" % ms)
    assert nxt == b"%d-%d" % (ms, parsed[-1][1] + 1)
    info = r.xinfo_stream(b"s")
    assert info["length"] == 201 and info["entries-added"] == 201
    assert info["last-generated-id"] == nxt
    assert r.xadd(b"s", {b"a": b"b"}, maxlen=10, approximate=False) and r.xlen(b"s") == 10
    assert r.object("encoding", b"s") == b"stream" and r.type(b"s") == b"stream"


def test_consumer_dies_other_claims(server):
    r = server.client()
    r.xgroup_create(b"jobs", b"workers", id=b"0", mkstream=True)
    for i in range(20):
        r.xadd(b"jobs", {b"job": str(i).encode()})
    done = {b"a": [], b"b": []}

    def work(name, limit):
        c = server.client()
        n = 0
        while n < limit:
            got = c.xreadgroup(b"workers", name, {b"jobs": b">"}, count=1)
            if not got:
                break
            for _stream, entries in got:
                for eid, _fields in entries:
                    c.xack(b"jobs", b"workers", eid)
                    done[name].append(eid)
                    n += 1
        c.close()

    # consumer "a" takes 5 entries and dies before acking them
    dead = server.client()
    taken = dead.xreadgroup(b"workers", b"a", {b"jobs": b">"}, count=5)
    taken_ids = [eid for eid, _ in taken[0][1]]
    dead.close()
    # consumer "b" processes the rest
    t = threading.Thread(target=work, args=(b"b", 100))
    t.start()
    t.join(scaled(20))
    assert len(done[b"b"]) == 15
    pend = r.xpending(b"jobs", b"workers")
    assert pend["pending"] == 5
    assert pend["consumers"] == [{"name": b"a", "pending": 5}]
    # "b" claims what "a" left behind, once it has been idle for a while
    time.sleep(0.05)
    nxt, claimed, deleted = r.execute_command("XAUTOCLAIM", b"jobs", b"workers", b"b", 20,
                                              b"0-0", b"COUNT", 3)
    assert [c[0] for c in claimed] == taken_ids[:3] and deleted == []
    assert nxt == taken_ids[3]
    rest = r.xclaim(b"jobs", b"workers", b"b", 20, taken_ids[3:])
    assert [e[0] for e in rest] == taken_ids[3:]
    rows = r.xpending_range(b"jobs", b"workers", min=b"-", max=b"+", count=10)
    assert [x["message_id"] for x in rows] == taken_ids
    assert all(x["consumer"] == b"b" and x["times_delivered"] == 2 for x in rows)
    assert r.xack(b"jobs", b"workers", *taken_ids) == 5
    assert r.xpending(b"jobs", b"workers")["pending"] == 0
    groups = r.xinfo_groups(b"jobs")
    assert groups[0]["lag"] == 0 and groups[0]["entries-read"] == 20
    cons = {c["name"]: c for c in r.xinfo_consumers(b"jobs", b"workers")}
    assert cons[b"a"]["pending"] == 0 and cons[b"b"]["pending"] == 0


def test_block_served_by_xadd(server):
    r = server.client()
    r.xgroup_create(b"q", b"g", id=b"$", mkstream=True)
    out = {}

    def reader():
        c = server.client()
        out["xread"] = c.xread({b"q": b"$"}, block=5000)
        c.close()

    def group_reader():
        c = server.client()
        out["xreadgroup"] = c.xreadgroup(b"g", b"c1", {b"q": b">"}, block=5000)
        c.close()

    ts = [threading.Thread(target=reader), threading.Thread(target=group_reader)]
    for t in ts:
        t.start()
    time.sleep(0.3)
    eid = r.xadd(b"q", {b"k": b"v"})
    for t in ts:
        t.join(scaled(10))
    assert out["xread"][0][1][0][0] == eid
    assert out["xreadgroup"][0][1][0][0] == eid
    assert r.xpending(b"q", b"g")["pending"] == 1
    t0 = time.time()
    assert r.xread({b"q": b"$"}, block=200) in (None, [], {})
    assert time.time() - t0 >= 0.15


def test_big_stream_delete_is_fast(server):
    r = server.client()
    p = r.pipeline(transaction=False)
    n = 200_000
    for i in range(n):
        p.execute_command("XADD", b"big", b"%d-1" % (i + 1), b"f", b"v%d" % i)
        if i % 5000 == 4999:
            p.execute()
    p.execute()
    assert r.xlen(b"big") == n
    r.xgroup_create(b"big", b"g", id=b"0")
    r.xreadgroup(b"g", b"c", {b"big": b">"}, count=1000)
    t0 = time.time()
    assert r.delete(b"big") == 1
    took = time.time() - t0
    print("DEL of a %d-entry stream took %.2f ms" % (n, took * 1000))
    assert took < 0.5
    assert r.exists(b"big") == 0 and r.dbsize() == 0
    r.xadd(b"big", {b"a": b"b"}, id=b"1-1")
    assert r.xlen(b"big") == 1
    assert r.xrange(b"big") == [(b"1-1", {b"a": b"b"})]
    with pytest.raises(redis.ResponseError):
        r.xinfo_consumers(b"big", b"g")


def test_blocked_readers_woken_in_order_and_by_deletion(server):
    """Blocked readers are served in blocking order by an XADD from Lua and
    from MULTI; XREADGROUP waiters get -UNBLOCKED when the key is deleted
    and -NOGROUP when the group is destroyed; an XREAD waiter ignores a key
    that became a list."""
    r = server.client()
    r.xgroup_create(b"bq", b"g", id=b"$", mkstream=True)
    results = {}

    def blocked(name, *cmd):
        c = server.client()
        try:
            results[name] = c.execute_command(*cmd)
        except redis.ResponseError as e:
            results[name] = "error: %s" % e
        c.close()

    def start(name, *cmd):
        n = r.info("clients")["blocked_clients"]
        t = threading.Thread(target=blocked, args=(name,) + cmd)
        t.start()
        wait_until(lambda: r.info("clients")["blocked_clients"] == n + 1, scaled(5),
                   what="%s blocked" % name)
        return t

    ts = [start(n, "XREADGROUP", "GROUP", "g", n, "COUNT", "1", "BLOCK", "0", "STREAMS", "bq", ">")
          for n in ("c1", "c2", "c3")]
    r.eval("redis.call('XADD', KEYS[1], '1-1', 'a', '1') redis.call('XADD', KEYS[1], '2-1', 'a', '2')",
           1, b"bq")
    for t in ts[:2]:
        t.join(scaled(5))
    assert results["c1"][0][1][0][0] == b"1-1" and results["c2"][0][1][0][0] == b"2-1"
    p = r.pipeline(transaction=True)
    p.xadd(b"bq", {b"a": b"3"}, id=b"3-1")
    p.xadd(b"bq", {b"a": b"4"}, id=b"4-1")
    p.execute()
    ts[2].join(scaled(5))
    assert results["c3"][0][1][0][0] == b"3-1"
    assert r.xreadgroup(b"g", b"c9", {b"bq": b">"})[0][1][0][0] == b"4-1"
    t = start("gone", "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "bq", ">")
    assert r.delete(b"bq") == 1
    t.join(scaled(5))
    assert results["gone"] == "error: UNBLOCKED the stream key no longer exists"
    r.xgroup_create(b"bq", b"g", id=b"$", mkstream=True)
    t = start("destroyed", "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "bq", ">")
    r.xgroup_destroy(b"bq", b"g")
    t.join(scaled(5))
    assert results["destroyed"] == ("error: NOGROUP the consumer group this client was blocked "
                                    "on no longer exists")
    t = start("xread", "XREAD", "BLOCK", "0", "STREAMS", "bq", "$")
    p = r.pipeline(transaction=True)
    p.delete(b"bq")
    p.lpush(b"bq", b"x")
    p.execute()
    time.sleep(0.2)
    assert "xread" not in results
    r.delete(b"bq")
    r.xadd(b"bq", {b"f": b"v"}, id=b"9-1")
    t.join(scaled(5))
    assert results["xread"][0][1][0][0] == b"9-1"
