"""Lists through redis-py: a work queue with producers and consumers on
threads (BLPOP served in the order clients blocked, timeouts, one push
waking several blocked clients, BLMOVE between lists, a blocked client that
disconnects, CLIENT UNBLOCK, INFO blocked_clients), the middle operations,
persistence across a restart, and a 1 000 000-element list whose DEL is
O(1) (its elements are reclaimed in the background)."""

import threading
import time

import pytest
import redis

from lodis_testlib import RawConn, scaled, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def blocked_clients(r):
    return int(r.info("clients")["blocked_clients"])


def start_blocked(server, *cmd, results=None, index=0):
    """Run a blocking command on its own connection in a thread."""
    c = server.client()

    def run():
        try:
            v = c.execute_command(*cmd)
            results[index] = list(v) if isinstance(v, tuple) else v
        except Exception as e:  # noqa: BLE001 -- the test inspects it
            results[index] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, c


def test_list_commands(r):
    assert r.rpush(b"l", b"a", b"b", b"c") == 3
    assert r.lpush(b"l", b"z") == 4
    assert r.lrange(b"l", 0, -1) == [b"z", b"a", b"b", b"c"]
    assert r.lindex(b"l", -1) == b"c" and r.lindex(b"l", 10) is None
    assert r.lset(b"l", 1, b"A") is True
    assert r.linsert(b"l", "BEFORE", b"b", b"x") == 5
    assert r.linsert(b"l", "AFTER", b"nope", b"x") == -1
    assert r.lrem(b"l", 0, b"x") == 1
    assert r.lpos(b"l", b"c") == 3
    assert r.lpop(b"l", 2) == [b"z", b"A"]
    assert r.rpoplpush(b"l", b"l2") == b"c"
    assert r.lmove(b"l2", b"l", "LEFT", "RIGHT") == b"c"
    assert r.lrange(b"l", 0, -1) == [b"b", b"c"]
    assert r.exists(b"l2") == 0
    assert r.lmpop(2, b"none", b"l", direction="RIGHT", count=5) == [b"l", [b"c", b"b"]]
    assert r.exists(b"l") == 0
    assert r.lpushx(b"l", b"a") == 0
    r.set(b"s", b"v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lpush(b"s", b"a")
    assert r.object("encoding", b"s") != b"quicklist"
    r.rpush(b"q", b"1")
    assert r.object("encoding", b"q") == b"quicklist"


def test_middle_operations_keep_order(r):
    ref = [b"%d" % (i % 7) for i in range(300)]
    r.rpush(b"m", *ref)
    # insert near the head and near the tail (both shifting strategies)
    r.linsert(b"m", "AFTER", b"0", b"H")
    ref.insert(1, b"H")
    idx = len(ref) - 1 - ref[::-1].index(b"6")
    r.lset(b"m", idx, b"six")
    ref[idx] = b"six"
    assert r.lrem(b"m", -3, b"5") == 3
    for _ in range(3):
        j = len(ref) - 1 - ref[::-1].index(b"5")
        del ref[j]
    assert r.lrem(b"m", 2, b"1") == 2
    for _ in range(2):
        ref.remove(b"1")
    r.ltrim(b"m", 3, -4)
    ref = ref[3:-3]
    assert r.lrange(b"m", 0, -1) == ref
    assert r.llen(b"m") == len(ref)
    assert [r.lindex(b"m", i) for i in (0, 50, -1)] == [ref[0], ref[50], ref[-1]]
    assert r.lpos(b"m", b"3", rank=-2, count=3, maxlen=100) == \
        [i for i in range(len(ref) - 1, len(ref) - 101, -1) if ref[i] == b"3"][1:4]


def test_blpop_served_in_blocking_order(server, r):
    n = 5
    results = [None] * n
    threads = []
    for i in range(n):
        t, _ = start_blocked(server, "BLPOP", b"queue", b"other", 0, results=results, index=i)
        threads.append(t)
        wait_until(lambda: blocked_clients(r) == i + 1, scaled(5), what="client %d to block" % i)
    r.rpush(b"queue", *[b"job%d" % i for i in range(n)])
    for t in threads:
        t.join(scaled(5))
    assert results == [[b"queue", b"job%d" % i] for i in range(n)]
    assert blocked_clients(r) == 0
    assert r.exists(b"queue") == 0


def test_one_push_wakes_only_as_many_as_elements(server, r):
    results = [None] * 3
    for i in range(3):
        start_blocked(server, "BRPOP", b"q2", 0, results=results, index=i)
        wait_until(lambda: blocked_clients(r) == i + 1, scaled(5))
    r.lpush(b"q2", b"a", b"b")
    wait_until(lambda: blocked_clients(r) == 1, scaled(5))
    # served by the server; their threads may still be storing the replies
    wait_until(lambda: results[0] is not None and results[1] is not None, scaled(5))
    assert results[:2] == [[b"q2", b"a"], [b"q2", b"b"]] and results[2] is None
    r.rpush(b"q2", b"c")
    wait_until(lambda: results[2] is not None, scaled(5))
    assert results[2] == [b"q2", b"c"]


def test_timeouts(server, r):
    c = server.client()
    t0 = time.monotonic()
    assert c.blpop([b"never"], timeout=0.2) is None
    el = time.monotonic() - t0
    assert 0.15 <= el < scaled(0.6), el
    t0 = time.monotonic()
    assert c.execute_command("BLMOVE", b"never", b"dst", "LEFT", "RIGHT", 0.05) is None
    assert c.execute_command("BLMPOP", 0.05, 1, b"never", "LEFT") is None
    assert time.monotonic() - t0 < scaled(0.5)
    for bad, msg in (("-1", "timeout is negative"), ("x", "timeout is not a float or out of range")):
        with pytest.raises(redis.ResponseError) as ei:
            c.execute_command("BLPOP", b"k", bad)
        assert str(ei.value) == msg
    # pipelined input after a blocking command waits for it, then runs
    with RawConn(server.port) as raw:
        raw.send(b"*3\r\n$5\r\nBLPOP\r\n$3\r\npip\r\n$3\r\n0.1\r\n*1\r\n$4\r\nPING\r\n")
        assert repr(raw.read_reply()) == "RespNull('*')"   # a null array
        assert raw.read_reply() == b"PONG"


def test_blmove_chain_and_wrongtype(server, r):
    results = [None, None]
    start_blocked(server, "BLMOVE", b"src", b"mid", "LEFT", "RIGHT", 0, results=results, index=0)
    wait_until(lambda: blocked_clients(r) == 1, scaled(5))
    start_blocked(server, "BLPOP", b"mid", 0, results=results, index=1)
    wait_until(lambda: blocked_clients(r) == 2, scaled(5))
    r.rpush(b"src", b"v")
    wait_until(lambda: None not in results, scaled(5))
    assert results == [b"v", [b"mid", b"v"]]
    # a destination of the wrong type: the blocked client gets WRONGTYPE
    r.set(b"str", b"x")
    results = [None]
    start_blocked(server, "BLMOVE", b"src2", b"str", "LEFT", "LEFT", 0, results=results, index=0)
    wait_until(lambda: blocked_clients(r) == 1, scaled(5))
    r.rpush(b"src2", b"e")
    wait_until(lambda: results[0] is not None, scaled(5))
    assert isinstance(results[0], redis.ResponseError) and str(results[0]) == WRONGTYPE
    assert r.lrange(b"src2", 0, -1) == [b"e"]


def test_disconnect_and_client_unblock(server, r):
    raw = RawConn(server.port)
    raw.send_command(b"BLPOP", b"gone", b"0")
    wait_until(lambda: blocked_clients(r) == 1, scaled(5))
    raw.close()
    wait_until(lambda: blocked_clients(r) == 0, scaled(5), what="disconnect cleanup")
    r.rpush(b"gone", b"x")
    assert r.lrange(b"gone", 0, -1) == [b"x"]    # nobody took it

    for how, check in (("TIMEOUT", lambda v: v is None),
                       ("ERROR", lambda v: isinstance(v, redis.ResponseError) and
                        str(v) == "UNBLOCKED client unblocked via CLIENT UNBLOCK")):
        results = [0]
        c2 = server.client()
        cid = c2.client_id()

        def run():
            try:
                results[0] = c2.execute_command("BLPOP", b"nothing", 0)
            except Exception as e:  # noqa: BLE001
                results[0] = e
        t = threading.Thread(target=run, daemon=True)
        t.start()
        wait_until(lambda: blocked_clients(r) == 1, scaled(5))
        assert r.execute_command("CLIENT", "UNBLOCK", cid, how) == 1
        t.join(scaled(5))
        assert check(results[0]), results[0]
        assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0


def test_producers_consumers(server, r):
    n_prod, n_cons, per = 4, 4, 250
    got = []
    lock = threading.Lock()

    def consumer():
        c = server.client()
        while True:
            v = c.blpop([b"work"], timeout=scaled(3))
            if v is None or v[1] == b"stop":
                return
            with lock:
                got.append(v[1])

    def producer(p):
        c = server.client()
        for i in range(per):
            c.rpush(b"work", b"%d:%d" % (p, i))

    cons = [threading.Thread(target=consumer) for _ in range(n_cons)]
    for t in cons:
        t.start()
    prods = [threading.Thread(target=producer, args=(p,)) for p in range(n_prod)]
    for t in prods:
        t.start()
    for t in prods:
        t.join()
    r.rpush(b"work", *[b"stop"] * n_cons)
    for t in cons:
        t.join(scaled(10))
    assert sorted(got) == sorted(b"%d:%d" % (p, i) for p in range(n_prod) for i in range(per))
    # each producer's items were consumed in its push order
    for p in range(n_prod):
        mine = [int(x.split(b":")[1]) for x in got if x.startswith(b"%d:" % p)]
        assert len(mine) == per


def test_persistence(server_factory):
    s = server_factory()
    r = s.client()
    r.rpush(b"p", *[b"e%d" % i for i in range(100)])
    r.linsert(b"p", "BEFORE", b"e50", b"mid")
    r.lpop(b"p")
    s.restart()
    r = s.client()
    v = r.lrange(b"p", 0, -1)
    assert v[0] == b"e1" and v[49] == b"mid" and len(v) == 100


@pytest.mark.slow
def test_big_list_delete_is_constant_time(server):
    r = server.client()
    n, batch = 1_000_000, 10_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, n, batch):
        pipe.rpush(b"huge", *[b"element-%d" % i for i in range(start, start + batch)])
    pipe.execute()
    assert r.llen(b"huge") == n
    assert r.lindex(b"huge", 654321) == b"element-654321"
    assert r.dbsize() == 1

    def reclaimed():
        info = r.info("stats") if not server.is_redis else {}
        return int(info.get("lodis_reclaimed_entries", 0))

    before = reclaimed()
    t0 = time.monotonic()
    assert r.delete(b"huge") == 1
    elapsed = time.monotonic() - t0
    print("DEL of a %d-element list took %.2f ms" % (n, elapsed * 1000))
    assert elapsed < scaled(0.2)
    assert r.exists(b"huge") == 0 and r.dbsize() == 0 and r.llen(b"huge") == 0
    r.rpush(b"huge", b"fresh")
    assert r.lrange(b"huge", 0, -1) == [b"fresh"]
    if not server.is_redis:
        wait_until(lambda: reclaimed() - before >= n, 120, 0.1, "the reclaimer to drop the elements")
