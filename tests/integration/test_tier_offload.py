"""Cold reads off the event loop (server/prefetch.c, storage/prefetch.c).

Under maxmemory, a command whose keys neither a memtable nor the clean cache
holds is parked while reader threads fault its keys' pages in, then runs.
These tests force the detour for every cold key (tier-read-offload always)
and check what a client must never notice: replies in order within a
pipeline, the values of other clients' writes, WATCH, MULTI, scripts,
blocking pops, clients that leave while parked, and switching the threads
off and on at runtime. Each test checks INFO lodis_tier_cold_commands to
prove the detour really ran."""

import socket
import threading
import time

import pytest
import redis

from lodis_testlib import encode_command, scaled, wait_until

pytestmark = pytest.mark.lodis_only


def value_of(i):
    n = 50 + (i * 7919) % 400
    return ((b"%08d|" % i) * (n // 9 + 1))[:n]


def cold_server(server_factory, *extra):
    """A server whose reads of checkpointed keys all take the detour."""
    s = server_factory(
        extra_args=[
            "--maxmemory", "16mb",
            "--tier-read-offload", "always",
            "--checkpoint-interval", "50",
        ] + list(extra)
    )
    return s, s.client()


def load(r, n, prefix="k"):
    for start in range(0, n, 500):
        p = r.pipeline(transaction=False)
        for i in range(start, min(n, start + 500)):
            p.set("%s:%06d" % (prefix, i), value_of(i))
        p.execute()


def settle(r):
    """Wait until the writes so far are checkpointed: no memtable holds
    them, so the next reads are cold."""
    wait_until(lambda: r.info("memory")["lodis_memtable_bytes"] == 0, scaled(10),
               what="memtable drained")


def cold_commands(r):
    return r.info("memory")["lodis_tier_cold_commands"]


def test_cold_reads_detour_and_answer_right(server_factory):
    s, r = cold_server(server_factory)
    assert r.config_get("tier-read-threads")["tier-read-threads"] == "2"
    assert r.info("memory")["lodis_tier_read_threads"] == 2
    n = 5000
    load(r, n)
    settle(r)
    before = cold_commands(r)
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.get("k:%06d" % i)
    got = p.execute()
    assert got == [value_of(i) for i in range(n)]
    # a pipeline's cold reads share detours: the requests behind a parked
    # one have their keys read in its job (up to 64 requests / 128 keys)
    detours = cold_commands(r) - before
    assert 1 <= detours <= n // 32, detours
    again = cold_commands(r)
    assert r.get("k:000007") == value_of(7)
    assert cold_commands(r) == again  # now cached: no detour
    assert r.get("nosuchkey") is None  # a missing key is cold too, and answers nil
    assert cold_commands(r) == again + 1
    # one request at a time: one detour each
    load(r, 20, prefix="solo")
    settle(r)
    again = cold_commands(r)
    for i in range(20):
        assert r.get("solo:%06d" % i) == value_of(i)
    assert cold_commands(r) == again + 20


def test_pipeline_order_with_writes_between_cold_reads(server_factory):
    s, r = cold_server(server_factory)
    load(r, 2000)
    settle(r)
    before = cold_commands(r)
    p = r.pipeline(transaction=False)
    for i in range(0, 2000, 10):
        k = "k:%06d" % i
        p.get(k)               # cold: parked
        p.append(k, b"+")      # runs after it, in order
        p.get(k)               # sees the append
        p.incr("counter")      # a new key between them
    got = p.execute()
    for j, i in enumerate(range(0, 2000, 10)):
        v = value_of(i)
        assert got[4 * j] == v
        assert got[4 * j + 1] == len(v) + 1
        assert got[4 * j + 2] == v + b"+"
        assert got[4 * j + 3] == j + 1
    assert cold_commands(r) > before


def test_concurrent_clients_see_each_others_writes(server_factory):
    s, r = cold_server(server_factory)
    n = 3000
    load(r, n)
    settle(r)
    errors = []

    def worker(w):
        try:
            c = s.client()
            for i in range(w, n, 4):
                k = "k:%06d" % i
                assert c.get(k) == value_of(i)
                c.set(k, b"w%d" % w)
                assert c.get(k) == b"w%d" % w
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = r.mget(["k:%06d" % i for i in range(n)])
    assert got == [b"w%d" % (i % 4) for i in range(n)]


def test_watch_multi_and_scripts_with_cold_keys(server_factory):
    s, r = cold_server(server_factory)
    load(r, 100)
    settle(r)
    before = cold_commands(r)
    other = s.client()
    # WATCH of a cold key (parked), then another client changes it: EXEC fails
    p = r.pipeline(transaction=True)
    p.watch("k:000001")
    other.set("k:000001", b"changed")
    p.multi()
    p.get("k:000001")
    with pytest.raises(redis.WatchError):
        p.execute()
    # MULTI/EXEC of cold keys: queued commands run inside EXEC, in order
    settle(r)
    p = r.pipeline(transaction=True)
    p.get("k:000002")
    p.set("k:000002", b"x")
    p.get("k:000003")
    assert p.execute() == [value_of(2), True, value_of(3)]
    # a script reading cold keys (EVAL names them: the detour runs first)
    got = r.eval("return {redis.call('GET', KEYS[1]), redis.call('STRLEN', KEYS[2])}", 2,
                 "k:000004", "k:000005")
    assert got == [value_of(4), len(value_of(5))]
    assert cold_commands(r) > before


def test_blocking_pop_and_collections_when_cold(server_factory):
    s, r = cold_server(server_factory)
    r.rpush("list", *[b"e%d" % i for i in range(50)])
    r.hset("hash", mapping={"f%d" % i: i for i in range(50)})
    r.zadd("zset", {"m%d" % i: i for i in range(300)})
    settle(r)
    before = cold_commands(r)
    assert r.blpop("list", timeout=1) == (b"list", b"e0")
    assert r.hget("hash", "f7") == b"7"
    assert r.zrank("zset", "m250") == 250
    assert r.zrange("zset", 100, 102) == [b"m100", b"m101", b"m102"]
    assert cold_commands(r) > before
    # a client blocked on an empty key is woken by a push from another
    got = []
    t = threading.Thread(target=lambda: got.append(s.client().blpop("empty", timeout=5)))
    t.start()
    time.sleep(scaled(0.2))
    r.rpush("empty", b"x")
    t.join()
    assert got == [(b"empty", b"x")]


def test_client_leaving_while_parked_harms_nothing(server_factory):
    s, r = cold_server(server_factory)
    load(r, 4000)
    settle(r)
    before = cold_commands(r)
    payload = b"".join(encode_command("GET", "k:%06d" % i) for i in range(4000))
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", s.port))
        sock.sendall(payload)
        sock.close()  # gone while its first command is parked
    wait_until(lambda: cold_commands(r) > before, scaled(5), what="a detour")
    assert r.ping()
    assert r.get("k:003999") == value_of(3999)
    # the rest of those keys still read right
    got = r.mget(["k:%06d" % i for i in range(0, 4000, 7)])
    assert got == [value_of(i) for i in range(0, 4000, 7)]


def test_threads_switch_off_and_on_at_runtime(server_factory):
    s, r = cold_server(server_factory)
    load(r, 1000)
    settle(r)
    assert r.config_set("tier-read-threads", 0)
    assert r.info("memory")["lodis_tier_read_threads"] == 0
    before = cold_commands(r)
    assert r.get("k:000010") == value_of(10)
    assert cold_commands(r) == before  # no threads: read in place
    assert r.config_set("tier-read-threads", 3)
    assert r.info("memory")["lodis_tier_read_threads"] == 3
    assert r.get("k:000011") == value_of(11)
    assert cold_commands(r) == before + 1
    # without maxmemory the threads stop (no cache: every key would look cold)
    assert r.config_set("maxmemory", 0)
    assert r.info("memory")["lodis_tier_read_threads"] == 0
    assert r.get("k:000012") == value_of(12)
    assert r.config_set("tier-read-offload", "never")
    assert r.config_set("maxmemory", "16mb")
    assert r.get("k:000013") == value_of(13)
    assert cold_commands(r) == before + 1
    with pytest.raises(redis.ResponseError):
        r.config_set("tier-read-offload", "sometimes")


def test_pipelined_bulk_load_under_detours_stays_bounded(server_factory):
    # A parked client is not read from: a pipelining writer cannot grow its
    # query buffer while it waits (this once OOM-killed a capped server).
    s, r = cold_server(server_factory)
    load(r, 2000)
    settle(r)
    sock = socket.create_connection(("127.0.0.1", s.port))
    batch = b"".join(encode_command("SET", "k:%06d" % (i % 2000), b"y" * 200)
                     for i in range(20000))
    sock.sendall(batch)
    got = b""
    deadline = time.time() + scaled(30)
    while got.count(b"+OK\r\n") < 20000 and time.time() < deadline:
        got += sock.recv(1 << 20)
    sock.close()
    assert got.count(b"+OK\r\n") == 20000
    clients = r.client_list()
    assert all(int(c["qbuf"]) < 1 << 20 for c in clients)
    assert r.get("k:000001") == b"y" * 200
