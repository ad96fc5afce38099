"""Sorted sets through redis-py: a leaderboard as applications use one
(ZADD/ZINCRBY/ranks/ranges/pops), members beyond LMDB's key size kept in
exact order across a restart, ZSCAN paging, set operations, and a
200 000-member zset whose DEL is O(1) (its two index entries per member are
reclaimed in the background), and the blocking pops (BZPOPMIN, BZPOPMAX,
BZMPOP: blocking order, timeouts, errors, MULTI)."""

import threading
import time

import pytest
import redis

from lodis_testlib import scaled, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def expect_error(fn, text):
    with pytest.raises(redis.ResponseError) as ei:
        fn()
    assert str(ei.value) == text, "error text %r != %r" % (str(ei.value), text)


def test_leaderboard(r):
    assert r.zadd(b"lb", {b"ada": 10, b"bob": 20, b"cy": 15}) == 3
    assert r.zadd(b"lb", {b"ada": 30}, ch=True) == 1
    assert r.zadd(b"lb", {b"ada": 5}, gt=True) == 0
    assert r.zadd(b"lb", {b"dee": 1}, xx=True) == 0
    assert r.zincrby(b"lb", 2.5, b"cy") == 17.5
    assert r.zscore(b"lb", b"cy") == 17.5
    assert r.zscore(b"lb", b"nobody") is None
    assert r.zmscore(b"lb", [b"ada", b"x"]) == [30.0, None]
    assert r.zcard(b"lb") == 3
    assert r.zrank(b"lb", b"ada") == 2 and r.zrevrank(b"lb", b"ada") == 0
    assert r.zrange(b"lb", 0, -1, withscores=True) == [(b"cy", 17.5), (b"bob", 20.0),
                                                       (b"ada", 30.0)]
    assert r.zrevrange(b"lb", 0, 0) == [b"ada"]
    assert r.zrangebyscore(b"lb", "(17.5", "+inf") == [b"bob", b"ada"]
    assert r.zcount(b"lb", 18, 30) == 2
    assert r.zrange(b"lb", "+inf", 18, byscore=True, desc=True, offset=0, num=1) == [b"ada"]
    assert r.zpopmax(b"lb") == [(b"ada", 30.0)]
    assert r.zpopmin(b"lb", 5) == [(b"cy", 17.5), (b"bob", 20.0)]
    assert r.exists(b"lb") == 0                     # an emptied zset is deleted

    r.zadd(b"names", {b"a": 0, b"b": 0, b"c": 0, b"d": 0})
    assert r.zrangebylex(b"names", b"[b", b"(d") == [b"b", b"c"]
    assert r.zlexcount(b"names", b"-", b"+") == 4
    assert r.zremrangebylex(b"names", b"[a", b"[b") == 2
    assert r.zrange(b"names", 0, -1) == [b"c", b"d"]
    assert r.object("encoding", b"names") == b"listpack"
    r.zadd(b"names", {b"x" * 65: 1})
    assert r.object("encoding", b"names") == b"skiplist"

    r.set(b"str", b"x")
    for fn in (lambda: r.zadd(b"str", {b"a": 1}), lambda: r.zscore(b"str", b"a"),
               lambda: r.zrange(b"str", 0, -1), lambda: r.zcard(b"str")):
        expect_error(fn, WRONGTYPE)
    expect_error(lambda: r.execute_command("ZADD", b"lb", b"NX", b"XX", b"1", b"a"),
                 "XX and NX options at the same time are not compatible")
    expect_error(lambda: r.execute_command("ZRANGEBYSCORE", b"lb", b"x", b"1"),
                 "min or max is not a float")
    expect_error(lambda: r.execute_command("ZINCRBY", b"z", b"-inf", b"m") and
                 r.execute_command("ZINCRBY", b"z", b"+inf", b"m"),
                 "resulting score is not a number (NaN)")


def test_set_operations(r):
    r.zadd(b"a", {b"x": 1, b"y": 2, b"z": 3})
    r.zadd(b"b", {b"y": 10, b"z": 20, b"w": 30})
    assert r.zunion([b"a", b"b"], withscores=True) == [(b"x", 1.0), (b"y", 12.0),
                                                       (b"z", 23.0), (b"w", 30.0)]
    assert r.zinter({b"a": 2, b"b": 1}, aggregate="MAX", withscores=True) == [
        (b"y", 10.0), (b"z", 20.0)]
    assert r.zdiff([b"a", b"b"]) == [b"x"]
    assert r.zunionstore(b"u", [b"a", b"b"], aggregate="MIN") == 4
    assert r.zrange(b"u", 0, -1, withscores=True) == [(b"x", 1.0), (b"y", 2.0), (b"z", 3.0),
                                                      (b"w", 30.0)]
    assert r.zintercard(2, [b"a", b"b"]) == 2
    assert r.zrangestore(b"top", b"u", 0, 1, desc=True) == 2
    assert r.zrange(b"top", 0, -1) == [b"z", b"w"]
    assert r.zinterstore(b"u", [b"a", b"nothing"]) == 0
    assert r.exists(b"u") == 0                       # an empty result deletes the key
    assert r.zmpop(2, [b"nothing", b"a"], min=True, count=2) == [
        b"a", [[b"x", b"1"], [b"y", b"2"]]]


def test_long_members_keep_order_across_restart(server):
    r = server.client()
    p = b"P" * 400
    members = [p + b"b" * 200, p + b"a" * 300, p + b"a" * 299 + b"b", b"P" * 494, b"P" * 495,
               b"P" * 503, b"Q" * 2000, b"short", b"", p]
    r.zadd(b"lm", {m: 0 for m in members})
    # lex ranges are defined over equal scores
    assert r.zrangebylex(b"lm", b"[" + p, b"(" + p + b"b") == sorted(
        m for m in members if p <= m < p + b"b")
    assert r.zlexcount(b"lm", b"(" + b"P" * 494, b"+") == len([m for m in members if m > b"P" * 494])
    r.zadd(b"lm", {b"\xff" * 700: -1, b"\x00" * 600: 1})
    expected = [b"\xff" * 700] + sorted(members) + [b"\x00" * 600]
    assert r.zrange(b"lm", 0, -1) == expected
    assert r.zrank(b"lm", b"Q" * 2000) == expected.index(b"Q" * 2000)
    server.restart()
    r = server.client()
    assert r.zrange(b"lm", 0, -1) == expected
    for m in members:
        assert r.zscore(b"lm", m) == 0.0
    assert r.zrem(b"lm", b"P" * 495, b"Q" * 2000) == 2
    assert r.zcard(b"lm") == len(expected) - 2


def test_zscan_pages_a_big_zset(r):
    n = 5000
    r.zadd(b"big", {b"m%05d" % i: i / 4 for i in range(n)})
    assert r.object("encoding", b"big") == b"skiplist"
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, items = r.zscan(b"big", cursor, count=300)
        calls += 1
        seen.update(items)
        if cursor == 0:
            break
    assert calls > 5
    assert len(seen) == n and seen[b"m00005"] == 1.25
    picked = r.zrandmember(b"big", 200, withscores=True)
    assert len(picked) == 400
    assert len(set(picked[0::2])) == 200
    # ranks in the second half are found walking from the end
    assert r.zrank(b"big", b"m04990") == 4990
    assert r.zrange(b"big", -3, -1) == [b"m04997", b"m04998", b"m04999"]
    assert r.zremrangebyrank(b"big", 100, -101) == n - 200
    assert r.zcard(b"big") == 200


def test_big_zset_delete_is_constant_time(server):
    r = server.client()
    n, batch = 200_000, 2_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, batch):
        pipe.zadd(b"huge", {b"member-%07d" % i: (i * 7919) % n for i in range(start, start + batch)})
    pipe.execute()
    assert r.zcard(b"huge") == n
    assert r.zscore(b"huge", b"member-0123456") == float((123456 * 7919) % n)
    assert r.zrange(b"huge", 0, 2, withscores=True)[0][1] == 0.0
    assert r.dbsize() == 1

    def reclaimed():
        info = r.info("stats") if not server.is_redis else {}
        return int(info.get("lodis_reclaimed_entries", 0))

    before = reclaimed()
    t0 = time.monotonic()
    assert r.delete(b"huge") == 1
    elapsed = time.monotonic() - t0
    print("DEL of a %d-member zset took %.2f ms" % (n, elapsed * 1000))
    assert elapsed < scaled(0.2)
    assert r.exists(b"huge") == 0 and r.dbsize() == 0
    assert r.zcard(b"huge") == 0
    # a new zset under the same name starts empty
    r.zadd(b"huge", {b"only": 1})
    assert r.zrange(b"huge", 0, -1, withscores=True) == [(b"only", 1.0)]
    if not server.is_redis:
        # two entries per member: the member index and the score index
        wait_until(lambda: reclaimed() - before >= 2 * n, 60, 0.1,
                   "the reclaimer to drop the members")
    r.delete(b"huge")


# ---- blocking pops ----------------------------------------------------------

def blocked_clients(r):
    return int(r.info("clients")["blocked_clients"])


def start_blocked(server, *cmd, results=None, index=0):
    """Run a blocking command on its own connection in a thread; its reply
    (or exception) lands in results[index]."""
    c = server.client()

    def run():
        try:
            results[index] = c.execute_command(*cmd)
        except Exception as e:  # noqa: BLE001 -- the test inspects it
            results[index] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_bzpop_served_in_blocking_order(server, r):
    cmds = [("BZPOPMIN", b"zq", b"other", 0),
            ("BZMPOP", 0, 2, b"other", b"zq", "MAX", "COUNT", 2),
            ("BZPOPMAX", b"zq", 0),
            ("BZPOPMIN", b"zq", 0)]
    results = [None] * len(cmds)
    threads = []
    for i, cmd in enumerate(cmds):
        threads.append(start_blocked(server, *cmd, results=results, index=i))
        wait_until(lambda: blocked_clients(r) == i + 1, scaled(5), what="client %d to block" % i)
    # a write of another type does not serve (nor unblock) anyone
    r.rpush(b"other", b"x")
    time.sleep(0.1)
    assert blocked_clients(r) == 4 and results == [None] * 4
    # one ZADD of 4 members serves the first three in order; the fourth waits
    r.zadd(b"zq", {b"a": 1, b"b": 2, b"c": 3, b"d": 4})
    wait_until(lambda: blocked_clients(r) == 1, scaled(5))
    for t in threads[:3]:
        t.join(scaled(5))
    first, mpop, third = results[:3]
    assert [first[0], first[1], float(first[2])] == [b"zq", b"a", 1.0]
    assert mpop[0] == b"zq" and [(m, float(s)) for m, s in mpop[1]] == [(b"d", 4.0), (b"c", 3.0)]
    assert [third[0], third[1], float(third[2])] == [b"zq", b"b", 2.0]
    assert r.exists(b"zq") == 0 and results[3] is None
    # ZADD then ZREM in one transaction leaves nothing to serve
    with r.pipeline(transaction=True) as p:
        p.zadd(b"zq", {b"e": 5}).zrem(b"zq", b"e").execute()
    time.sleep(0.1)
    assert blocked_clients(r) == 1
    r.zadd(b"zq", {b"f": 6})
    threads[3].join(scaled(5))
    assert [results[3][0], results[3][1], float(results[3][2])] == [b"zq", b"f", 6.0]


def test_bzpop_timeouts_and_errors(server, r):
    c = server.client()
    t0 = time.monotonic()
    assert c.execute_command("BZPOPMIN", b"never", 0.2) is None
    el = time.monotonic() - t0
    assert 0.15 <= el < scaled(0.6), el
    assert c.execute_command("BZMPOP", 0.05, 1, b"never", "MIN") is None
    assert c.execute_command("BZPOPMAX", b"never", b"never2", 0.05) is None
    r.set(b"str", b"v")
    expect_error(lambda: c.execute_command("BZPOPMIN", b"never", b"str", 0), WRONGTYPE)
    expect_error(lambda: c.execute_command("BZMPOP", 0, 1, b"str", "MAX"), WRONGTYPE)
    expect_error(lambda: c.execute_command("BZPOPMIN", b"k", -1), "timeout is negative")
    expect_error(lambda: c.execute_command("BZPOPMAX", b"k", "x"),
                 "timeout is not a float or out of range")
    expect_error(lambda: c.execute_command("BZMPOP", 0, 0, b"k", "MIN"),
                 "numkeys should be greater than 0")
    expect_error(lambda: c.execute_command("BZMPOP", 0, 1, b"k", "MIN", "COUNT", 0),
                 "count should be greater than 0")
    # not blocked: a non-empty zset is popped at once
    r.zadd(b"z", {b"a": 1, b"b": 2})
    v = c.execute_command("BZMPOP", 0, 2, b"never", b"z", "MIN", "COUNT", 5)
    assert v[0] == b"z" and [(m, float(s)) for m, s in v[1]] == [(b"a", 1.0), (b"b", 2.0)]
    assert blocked_clients(r) == 0


def test_bzpop_inside_multi_does_not_block(r):
    with r.pipeline(transaction=True) as p:
        p.execute_command("BZPOPMIN", b"nokey", 0)
        p.execute_command("BZMPOP", 0, 1, b"nokey", "MAX")
        p.zadd(b"m", {b"e": 5})
        p.execute_command("BZPOPMAX", b"m", 0)
        res = p.execute()
    assert res[0] is None and res[1] is None and res[2] == 1
    assert [res[3][0], res[3][1], float(res[3][2])] == [b"m", b"e", 5.0]
    assert r.eval("return redis.call('BZMPOP', 0, 1, 'nokey', 'MIN')", 0) is None


def test_ranks_of_a_big_zset_survive_a_crash(server_factory):
    """Thousands of members (runs of equal scores, -0.0, long members that
    share 493 bytes): ranks, rank ranges in both directions, rank deletes
    and pops answer as the sorted model does, and still after kill -9 and
    WAL replay (appendfsync always: every acknowledged write is kept)."""
    import random
    rng = random.Random(7)
    server = server_factory(appendfsync="always")
    r = server.client()
    model = {}
    long_p = b"L" * 493
    for i in range(6000):
        m = b"m%05d" % rng.randrange(9000) if i % 50 else long_p + b"%d" % (i % 97)
        model[m] = float(rng.choice([0, 1, 1, 2, -0.0, 3.5]) if i % 3 else rng.randint(-500, 500))
    pipe = r.pipeline(transaction=False)
    items = list(model.items())
    for j in range(0, len(items), 500):
        pipe.zadd(b"big", dict(items[j:j + 500]))
    pipe.execute()

    def order():
        return sorted(model, key=lambda m: (model[m], m))

    def check(r):
        s = order()
        n = len(s)
        assert r.zcard(b"big") == n
        for m in rng.sample(s, 150) + s[:3] + s[-3:]:
            assert r.zrank(b"big", m) == s.index(m)
            assert r.zrevrank(b"big", m) == n - 1 - s.index(m)
        for start in [0, 1, n // 3, n // 2, n - 10, n - 1] + [rng.randrange(n) for _ in range(20)]:
            assert r.zrange(b"big", start, start + 9) == s[start:start + 10]
            assert r.zrange(b"big", start, start + 9, desc=True) == s[::-1][start:start + 10]
        assert r.zrange(b"big", 0, -1) == s
        assert r.zrank(b"big", b"absent") is None

    check(r)
    # deletes by rank, pops, score changes, removals
    s = order()
    mid = len(s) // 2
    assert r.zremrangebyrank(b"big", mid, mid + 99) == 100
    for m in s[mid:mid + 100]:
        del model[m]
    popped = r.zpopmin(b"big", 40)
    assert [m for m, _ in popped] == order()[:40]
    for m, _ in popped:
        del model[m]
    for m in rng.sample(order(), 200):
        model[m] += rng.choice([-1000.0, 0.5, 2.0])
        r.zincrby(b"big", 0, m)  # a no-op write on the same key first
        r.zadd(b"big", {m: model[m]})
    gone = rng.sample(order(), 300)
    assert r.zrem(b"big", *gone) == 300
    for m in gone:
        del model[m]
    check(r)
    server.kill9()
    server.restart()
    check(server.client())
