"""String commands through redis-py, as applications use them: sessions with
TTLs, concurrent counters, SET NX PX locks, INCR+EXPIRE rate limits,
binary-safe and very large values."""

import hashlib
import json
import random
import threading
import time

import pytest
import redis

from lodis_testlib import assert_bytes_equal, scaled, wait_until, require_commands


def expect_error(fn, text):
    with pytest.raises(redis.ResponseError) as ei:
        fn()
    assert str(ei.value) == text, "error text %r != %r" % (str(ei.value), text)


def test_basic_string_commands(r):
    assert r.get(b"missing") is None
    assert r.set(b"k", b"v") is True
    assert r.get(b"k") == b"v"
    # NX / XX / GET options
    assert r.set(b"k", b"other", nx=True) is None
    assert r.get(b"k") == b"v"
    assert r.set(b"k2", b"x", xx=True) is None
    assert r.exists(b"k2") == 0
    assert r.set(b"k", b"v2", xx=True) is True
    assert r.set(b"k", b"v3", get=True) == b"v2"
    assert r.set(b"new", b"n", get=True) is None and r.get(b"new") == b"n"
    assert r.setnx(b"k", b"zz") is False
    assert r.setnx(b"fresh", b"f") is True
    assert r.getset(b"fresh", b"g") == b"f"
    assert r.getdel(b"fresh") == b"g"
    assert r.exists(b"fresh") == 0
    # APPEND / STRLEN / GETRANGE / SETRANGE
    assert r.append(b"s", b"Hello") == 5
    assert r.append(b"s", b" World") == 11
    assert r.strlen(b"s") == 11
    assert r.strlen(b"missing") == 0
    assert r.getrange(b"s", 0, 4) == b"Hello"
    assert r.getrange(b"s", -5, -1) == b"World"
    assert r.getrange(b"s", 5, 2) == b""
    assert r.getrange(b"s", 0, 1000) == b"Hello World"
    assert r.setrange(b"s", 6, b"Redis") == 11
    assert r.get(b"s") == b"Hello Redis"
    assert r.setrange(b"pad", 5, b"x") == 6
    assert r.get(b"pad") == b"\x00\x00\x00\x00\x00x"
    # MSET / MGET / MSETNX
    assert r.mset({b"a": b"1", b"b": b"2", b"c": b"3"}) is True
    assert r.mget([b"a", b"nope", b"b", b"c"]) == [b"1", None, b"2", b"3"]
    assert r.msetnx({b"c": b"x", b"d": b"4"}) is False
    assert r.exists(b"d") == 0
    assert r.msetnx({b"d": b"4", b"e": b"5"}) is True
    assert r.mget([b"d", b"e"]) == [b"4", b"5"]


def test_wrongtype_errors(r):
    require_commands(r, "rpush")
    r.rpush(b"list", b"x")
    expect_error(lambda: r.get(b"list"),
                 "WRONGTYPE Operation against a key holding the wrong kind of value")
    expect_error(lambda: r.append(b"list", b"x"),
                 "WRONGTYPE Operation against a key holding the wrong kind of value")
    assert r.set(b"list", b"now a string") is True
    assert r.get(b"list") == b"now a string"


def test_integer_and_float_commands(r):
    assert r.incr(b"n") == 1
    assert r.incrby(b"n", 41) == 42
    assert r.decr(b"n") == 41
    assert r.decrby(b"n", 50) == -9
    assert r.get(b"n") == b"-9"
    r.set(b"big", b"9223372036854775806")
    assert r.incr(b"big") == 9223372036854775807
    expect_error(lambda: r.incr(b"big"), "increment or decrement would overflow")
    assert r.get(b"big") == b"9223372036854775807"
    for bad in (b"abc", b" 1", b"1 ", b"1.5", b"", b"99999999999999999999"):
        r.set(b"bad", bad)
        expect_error(lambda: r.incr(b"bad"), "value is not an integer or out of range")
        assert r.get(b"bad") == bad
    r.set(b"f", b"10.5")
    assert r.incrbyfloat(b"f", 0.1) == pytest.approx(10.6)
    assert r.get(b"f") == b"10.6"
    assert r.incrbyfloat(b"f", -5) == pytest.approx(5.6)
    assert r.get(b"f") == b"5.6"
    r.set(b"nf", b"x")
    expect_error(lambda: r.incrbyfloat(b"nf", 1), "value is not a valid float")


def test_set_expire_options_and_errors(r):
    expect_error(lambda: r.execute_command("SET", "k", "v", "NX", "XX"), "syntax error")
    expect_error(lambda: r.execute_command("SET", "k", "v", "EX", "10", "PX", "100"),
                 "syntax error")
    expect_error(lambda: r.execute_command("SET", "k", "v", "EX", "0"),
                 "invalid expire time in 'set' command")
    expect_error(lambda: r.execute_command("SET", "k", "v", "PX", "-5"),
                 "invalid expire time in 'set' command")
    expect_error(lambda: r.execute_command("SET", "k", "v", "EX", "abc"),
                 "value is not an integer or out of range")
    assert r.exists(b"k") == 0
    expect_error(lambda: r.execute_command("GET"),
                 "wrong number of arguments for 'get' command")
    now = time.time()
    r.set(b"ex", b"v", ex=100)
    assert 98 <= r.ttl(b"ex") <= 100
    r.set(b"px", b"v", px=100000)
    assert 98000 <= r.pttl(b"px") <= 100000
    r.set(b"exat", b"v", exat=int(now) + 1000)
    assert r.expiretime(b"exat") == int(now) + 1000
    r.set(b"pxat", b"v", pxat=int(now * 1000) + 500000)
    assert r.pexpiretime(b"pxat") == int(now * 1000) + 500000
    r.set(b"ex", b"v2", keepttl=True)
    assert 98 <= r.ttl(b"ex") <= 100
    r.set(b"ex", b"v3")
    assert r.ttl(b"ex") == -1


def test_sessions_with_ttl(server, r):
    rng = random.Random(7)
    sessions = {}
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        sid = "session:%032x" % rng.getrandbits(128)
        payload = json.dumps({"user_id": i, "roles": ["reader"] * (i % 4),
                              "cart": list(range(i % 17))}).encode()
        sessions[sid] = payload
        pipe.set(sid, payload, ex=1800)
    assert all(x is True for x in pipe.execute())
    # read back, check TTLs
    for sid, payload in sessions.items():
        assert r.get(sid) == payload
    ttls = [r.ttl(sid) for sid in list(sessions)[:50]]
    assert all(1795 <= t <= 1800 for t in ttls), ttls
    # sliding expiration: each access extends the session
    some = list(sessions)[:100]
    for sid in some:
        assert r.getex(sid, ex=3600) == sessions[sid]
        assert 3595 <= r.ttl(sid) <= 3600
    # logout: delete a third of them
    gone = list(sessions)[::3]
    assert r.delete(*gone) == len(gone)
    for sid in gone:
        assert r.get(sid) is None
        del sessions[sid]
    assert r.dbsize() == len(sessions)
    # short-lived sessions (e.g. one-time login tokens) vanish on their own
    pipe = r.pipeline(transaction=False)
    for i in range(20):
        pipe.set("otp:%d" % i, b"123456", px=150)
    pipe.get(b"otp:3")
    assert pipe.execute()[-1] == b"123456"
    time.sleep(0.4)
    assert r.mget(["otp:%d" % i for i in range(20)]) == [None] * 20
    # the long sessions are unaffected and survive a restart with their TTLs
    server.restart()
    r = server.client()
    assert r.dbsize() == len(sessions)
    for sid, payload in sessions.items():
        assert r.get(sid) == payload
    assert all(1790 <= r.ttl(sid) <= 3600 for sid in sessions)


def test_concurrent_incr_counters(server):
    threads_n, per_thread = 8, 600
    results = [[] for _ in range(threads_n)]
    errors = []
    start = threading.Barrier(threads_n)

    def worker(t):
        c = server.client()
        try:
            start.wait(10)
            for i in range(per_thread):
                results[t].append(c.incr(b"counter:hits"))
                if i % 3 == 0:
                    c.incrby(b"counter:bytes", 1000 + t)
                if i % 5 == 0:
                    c.decr(b"counter:gauge")
        except Exception as e:  # reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(scaled(60))
    assert not any(t.is_alive() for t in ts), "worker threads hung"
    assert errors == []
    r = server.client()
    total = threads_n * per_thread
    assert int(r.get(b"counter:hits")) == total
    # every INCR got a distinct reply and together they are exactly 1..total
    replies = sorted(v for lst in results for v in lst)
    assert replies == list(range(1, total + 1))
    # and each thread saw its own replies increasing
    for lst in results:
        assert lst == sorted(lst)
    incrby_per_thread = len(range(0, per_thread, 3))
    assert int(r.get(b"counter:bytes")) == sum((1000 + t) * incrby_per_thread
                                               for t in range(threads_n))
    assert int(r.get(b"counter:gauge")) == -threads_n * len(range(0, per_thread, 5))


def test_locks_set_nx_px_mutual_exclusion(server):
    """Clients serialise a read-modify-write with a lock taken by
    SET lock token NX PX and released by compare-and-delete (GET, then DEL if
    the token is ours)."""
    threads_n, rounds = 4, 40
    holder = []
    violations = []
    acquired = [0] * threads_n
    errors = []

    def worker(t):
        c = server.client()
        try:
            for i in range(rounds):
                token = ("%d-%d" % (t, i)).encode()
                deadline = time.monotonic() + scaled(20)
                while not c.set(b"lock:inventory", token, nx=True, px=10000):
                    assert time.monotonic() < deadline, "could not get the lock"
                    time.sleep(0.0005)
                if holder:
                    violations.append((t, list(holder)))
                holder.append(t)
                # non-atomic critical section: only safe under the lock
                v = int(c.get(b"inventory") or 0)
                c.set(b"inventory", v + 1)
                acquired[t] += 1
                holder.remove(t)
                # compare-and-delete, client side
                if c.get(b"lock:inventory") == token:
                    c.delete(b"lock:inventory")
                else:
                    violations.append(("lost lock", t, i))
        except Exception as e:
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(scaled(60))
    assert not any(t.is_alive() for t in ts)
    assert errors == []
    assert violations == []
    assert acquired == [rounds] * threads_n
    r = server.client()
    assert int(r.get(b"inventory")) == threads_n * rounds
    assert r.exists(b"lock:inventory") == 0


def test_lock_expires_and_stale_holder_does_not_release(r):
    pipe = r.pipeline(transaction=False)
    pipe.set(b"lock:job", b"A", nx=True, px=200)
    pipe.set(b"lock:job", b"B", nx=True, px=5000)     # held by A: refused
    pipe.pttl(b"lock:job")
    assert pipe.execute() == [True, None, pytest.approx(195, abs=5)]
    time.sleep(0.35)
    # A's lock timed out: B takes it
    assert r.set(b"lock:job", b"B", nx=True, px=5000) is True
    # A (stale) tries compare-and-delete: token differs, so it must not DEL
    if r.get(b"lock:job") == b"A":
        r.delete(b"lock:job")
    assert r.get(b"lock:job") == b"B"
    assert 4000 < r.pttl(b"lock:job") <= 5000
    # B releases properly
    if r.get(b"lock:job") == b"B":
        assert r.delete(b"lock:job") == 1
    assert r.exists(b"lock:job") == 0


def test_rate_limiter_incr_expire(r):
    """Fixed-window limiter: INCR the window counter; EXPIRE it on the first
    hit; allow while the count is <= limit."""
    limit = 10

    def hit(user):
        key = "rl:%s" % user
        n = r.incr(key)
        if n == 1:
            r.expire(key, 1)
        return n <= limit

    decisions = [hit("alice") for _ in range(25)]
    assert decisions == [True] * limit + [False] * 15
    assert int(r.get(b"rl:alice")) == 25
    pttl = r.pttl(b"rl:alice")
    assert 0 < pttl <= 1000
    # other users have independent windows
    assert [hit("bob") for _ in range(3)] == [True] * 3
    # further INCRs did not reset the window's TTL
    time.sleep(0.3)
    hit("alice")
    assert r.pttl(b"rl:alice") <= pttl - 200
    # after the window, counting starts over
    wait_until(lambda: r.exists(b"rl:alice") == 0, 2.0, what="rate-limit window to expire")
    assert [hit("alice") for _ in range(12)] == [True] * limit + [False] * 2
    assert r.ttl(b"rl:alice") in (0, 1)


def test_binary_safe_values(server, r):
    rng = random.Random(1234)
    values = {
        b"empty": b"",
        b"nul": b"\x00",
        b"nul-middle": b"abc\x00def\x00\x00",
        b"crlf": b"line1\r\nline2\r\n$5\r\n*1\r\n",
        b"all-bytes": bytes(range(256)) * 4,
        b"high": b"\xff\xfe\x80\x00\x7f",
        b"key\x00with\x00nul": b"v-nul-key",
        b"\xff\x00\r\n key": b"weird key",
        b"random-1mb": rng.randbytes(1 << 20),
        b"zeros-1mb": b"\x00" * (1 << 20),
        b"text-1mb": (b"the quick brown fox jumps over the lazy dog\n" * 30000)[:1 << 20],
    }
    for k, v in values.items():
        assert r.set(k, v) is True
    for k, v in values.items():
        assert_bytes_equal(r.get(k), v, "value of %r" % k)
        assert r.strlen(k) == len(v)
    assert r.mget(list(values)) == list(values.values())
    big = values[b"random-1mb"]
    assert r.getrange(b"random-1mb", 1000, 1999) == big[1000:2000]
    assert r.getrange(b"random-1mb", -10, -1) == big[-10:]
    assert r.append(b"nul-middle", b"\x00tail\x00") == 9 + 6
    assert r.get(b"nul-middle") == b"abc\x00def\x00\x00\x00tail\x00"
    assert r.setrange(b"random-1mb", 500000, b"\x00\x01\x02") == 1 << 20
    big = big[:500000] + b"\x00\x01\x02" + big[500003:]
    assert_bytes_equal(r.get(b"random-1mb"), big, "random-1mb after SETRANGE")
    # append 1 MB to 1 MB
    assert r.append(b"zeros-1mb", big) == 2 << 20
    assert_bytes_equal(r.get(b"zeros-1mb"), b"\x00" * (1 << 20) + big, "zeros+random")
    # everything survives a restart byte for byte
    server.restart()
    r = server.client()
    expected = dict(values)
    expected[b"nul-middle"] = b"abc\x00def\x00\x00\x00tail\x00"
    expected[b"random-1mb"] = big
    expected[b"zeros-1mb"] = b"\x00" * (1 << 20) + big
    for k, v in expected.items():
        assert_bytes_equal(r.get(k), v, "value of %r after restart" % k)
    assert r.dbsize() == len(expected)


@pytest.mark.slow
def test_value_100mb_roundtrip(server):
    size = 100 * 1024 * 1024
    # partly random (incompressible), partly repetitive
    rnd = random.Random(99).randbytes(size // 2)
    value = rnd + (b"0123456789abcdef" * (size // 32))
    assert len(value) == size
    digest = hashlib.sha256(value).hexdigest()
    r = server.client()
    assert r.set(b"huge", value) is True
    assert r.strlen(b"huge") == size
    got = r.get(b"huge")
    assert len(got) == size
    assert hashlib.sha256(got).hexdigest() == digest, "100 MB value corrupted"
    del got
    assert r.getrange(b"huge", size // 2 - 8, size // 2 + 7) == value[size // 2 - 8:size // 2 + 8]
    assert r.getrange(b"huge", -16, -1) == value[-16:]
    assert r.set(b"small", b"still works") is True
    server.restart()
    r = server.client()
    assert r.strlen(b"huge") == size
    got = r.get(b"huge")
    assert hashlib.sha256(got).hexdigest() == digest, "100 MB value corrupted after restart"
    del got
    assert r.delete(b"huge") == 1
    assert r.exists(b"huge") == 0
    assert r.get(b"small") == b"still works"
