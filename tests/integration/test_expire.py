"""Expiry: expired keys are invisible to every read path, the active sweep
removes untouched keys, TTL commands follow Redis 7, and TTLs are absolute
times that keep running while the server is down."""

import time

import pytest
import redis

from lodis_testlib import scan_all, scaled, wait_until, require_commands


def expect_error(fn, text):
    with pytest.raises(redis.ResponseError) as ei:
        fn()
    assert str(ei.value) == text, "error text %r != %r" % (str(ei.value), text)


def _setup_short_lived(r):
    """10 keys with PX 100 and one persistent key (one round trip, so the
    EXISTS check runs well within the 100 ms); then wait 300 ms."""
    keys = [b"short:%d" % i for i in range(10)]
    pipe = r.pipeline(transaction=False)
    pipe.set(b"live", b"L")
    for i, k in enumerate(keys):
        pipe.set(k, b"v%d" % i, px=100)
    pipe.exists(*keys)
    replies = pipe.execute()
    assert replies[-1] == 10
    time.sleep(0.3)
    return keys


# One test per read path, each on a fresh server, so that one path's lazy
# deletion cannot hide a bug in the next path.
def test_expired_invisible_to_get(r):
    keys = _setup_short_lived(r)
    assert [r.get(k) for k in keys] == [None] * 10
    assert r.mget(keys) == [None] * 10
    assert r.get(b"live") == b"L"


def test_expired_invisible_to_exists(r):
    keys = _setup_short_lived(r)
    assert r.exists(*keys) == 0
    assert r.exists(b"live", *keys) == 1


def test_expired_invisible_to_keys(r):
    _setup_short_lived(r)
    assert r.keys(b"*") == [b"live"]
    assert r.keys(b"short:*") == []


def test_expired_invisible_to_scan(r):
    _setup_short_lived(r)
    assert scan_all(r, count=1) == [b"live"]
    assert scan_all(r, match=b"short:*", count=1000) == []


def test_expired_not_counted_by_dbsize_after_sweep(r):
    _setup_short_lived(r)
    wait_until(lambda: r.dbsize() == 1, 2.0, what="DBSIZE to drop to 1")


def test_expired_never_returned_by_randomkey(r):
    _setup_short_lived(r)
    for _ in range(50):
        assert r.randomkey() == b"live"


def test_expired_invisible_to_ttl_type_strlen(r):
    keys = _setup_short_lived(r)
    assert r.ttl(keys[0]) == -2
    assert r.pttl(keys[1]) == -2
    assert r.type(keys[2]) == b"none"
    assert r.strlen(keys[3]) == 0
    assert r.getrange(keys[4], 0, -1) == b""
    assert r.expiretime(keys[5]) == -2


def test_expired_invisible_inside_multi_and_lua(r):
    require_commands(r, "multi", "exec", "eval")
    keys = _setup_short_lived(r)
    pipe = r.pipeline(transaction=True)       # MULTI ... EXEC
    pipe.get(keys[0])
    pipe.exists(keys[1])
    pipe.keys(b"short:*")
    pipe.get(b"live")
    assert pipe.execute() == [None, 0, [], b"L"]
    script = "return {redis.call('EXISTS', KEYS[1]), redis.call('GET', KEYS[2]) or 'nil'}"
    assert r.eval(script, 2, keys[2], keys[3]) == [0, b"nil"]


def test_expired_key_is_replaced_cleanly_by_writes(server, r):
    keys = _setup_short_lived(r)
    assert r.incr(keys[0]) == 1                     # old value is gone
    assert r.ttl(keys[0]) == -1                     # and so is its TTL
    assert r.append(keys[1], b"x") == 1
    assert r.get(keys[1]) == b"x" and r.ttl(keys[1]) == -1
    assert r.set(keys[2], b"new", nx=True) is True  # NX sees it as absent
    assert r.setnx(keys[3], b"n") is True
    assert r.rename(b"live", keys[4]) is True       # target expired: fine
    assert r.get(keys[4]) == b"L"
    with pytest.raises(redis.ResponseError):
        r.rename(keys[5], b"elsewhere")             # expired source: no such key
    assert r.copy(keys[6], b"copy") is False
    assert r.move(keys[7], 1) is False
    assert r.exists(b"copy") == 0
    assert server.client(1).exists(keys[7]) == 0


def test_active_expiry_without_access(server, r):
    """1000 keys with 100-300 ms TTLs, never touched again, are removed by the
    active sweep within ~2 s (only DBSIZE is polled)."""
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(b"tmp:%d" % i, b"x" * 50, px=100 + (i % 201))
    for i in range(10):
        pipe.set(b"keep:%d" % i, b"k")
    pipe.execute()
    t0 = time.monotonic()
    assert r.dbsize() == 1010
    wait_until(lambda: r.dbsize() == 10, 2.3, interval=0.05,
               what="active expiry to remove 1000 untouched keys")
    elapsed = time.monotonic() - t0
    assert elapsed < scaled(2.5)
    assert sorted(r.keys(b"*")) == sorted(b"keep:%d" % i for i in range(10))


def test_expire_commands(r):
    r.set(b"k", b"v")
    assert r.ttl(b"k") == -1 and r.pttl(b"k") == -1
    assert r.expiretime(b"k") == -1
    assert r.ttl(b"missing") == -2
    assert r.expire(b"missing", 10) is False
    assert r.expire(b"k", 100) is True
    assert 99 <= r.ttl(b"k") <= 100
    assert 99000 <= r.pttl(b"k") <= 100000
    assert r.persist(b"k") is True
    assert r.persist(b"k") is False
    assert r.ttl(b"k") == -1
    # NX / XX / GT / LT (Redis 7)
    assert r.expire(b"k", 100, xx=True) is False
    assert r.expire(b"k", 100, nx=True) is True
    assert r.expire(b"k", 200, nx=True) is False
    assert r.expire(b"k", 50, gt=True) is False
    assert r.expire(b"k", 300, gt=True) is True
    assert r.expire(b"k", 400, lt=True) is False
    assert r.expire(b"k", 30, lt=True) is True
    assert 29 <= r.ttl(b"k") <= 30
    expect_error(lambda: r.execute_command("EXPIRE", "k", 10, "NX", "XX"),
                 "NX and XX, GT or LT options at the same time are not compatible")
    expect_error(lambda: r.execute_command("EXPIRE", "k", "ten"),
                 "value is not an integer or out of range")
    expect_error(lambda: r.execute_command("EXPIRE", "k", 10, "BOGUS"),
                 "Unsupported option BOGUS")
    # absolute times
    now = int(time.time())
    assert r.expireat(b"k", now + 1000) is True
    assert r.expiretime(b"k") == now + 1000
    assert r.pexpireat(b"k", (now + 2000) * 1000 + 123) is True
    assert r.pexpiretime(b"k") == (now + 2000) * 1000 + 123
    assert r.expiretime(b"k") == now + 2000
    # zero / negative / past deletes the key at once
    r.set(b"a", b"1")
    r.set(b"b", b"2")
    r.set(b"c", b"3")
    assert r.expire(b"a", 0) is True
    assert r.pexpire(b"b", -100) is True
    assert r.expireat(b"c", now - 10) is True
    assert r.exists(b"a", b"b", b"c") == 0
    # overwrite clears the TTL; modifying commands keep it
    r.set(b"t", b"1", ex=100)
    assert r.incr(b"t") == 2 and r.ttl(b"t") > 0
    assert r.append(b"t", b"0") == 2 and r.ttl(b"t") > 0
    assert r.setrange(b"t", 0, b"3") == 2 and r.ttl(b"t") > 0
    r.set(b"t", b"fresh")
    assert r.ttl(b"t") == -1
    r.set(b"t", b"x", ex=100)
    assert r.getset(b"t", b"y") == b"x" and r.ttl(b"t") == -1
    # GETEX
    r.set(b"g", b"v")
    assert r.getex(b"g", px=5000) == b"v"
    assert 4900 <= r.pttl(b"g") <= 5000
    assert r.getex(b"g", persist=True) == b"v"
    assert r.ttl(b"g") == -1
    assert r.getex(b"g") == b"v" and r.ttl(b"g") == -1
    assert r.getex(b"nothing", ex=10) is None


def test_ttl_in_the_far_future_and_ms_precision(r):
    r.set(b"far", b"v")
    assert r.expire(b"far", 10 ** 9) is True
    assert 10 ** 9 - 5 <= r.ttl(b"far") <= 10 ** 9
    pipe = r.pipeline(transaction=False)
    pipe.set(b"ms", b"v", px=250)
    pipe.pttl(b"ms")
    pttl = pipe.execute()[1]
    assert 240 < pttl <= 250
    time.sleep(0.1)
    later = r.pttl(b"ms")
    assert later == -2 or 0 < later <= pttl - 90
    wait_until(lambda: r.exists(b"ms") == 0, 1.0, what="ms key to expire")
    # expiring when due, not before
    t0 = time.monotonic()
    r.set(b"due", b"v", px=600)
    time.sleep(0.2)
    if time.monotonic() - t0 < 0.55:
        assert r.get(b"due") == b"v"
    time.sleep(0.7)
    assert r.get(b"due") is None


@pytest.mark.parametrize("how", ["shutdown", "kill9"])
def test_ttls_survive_restart_as_absolute_times(server_factory, how):
    server = server_factory(appendfsync="always")
    r = server.client()
    now = int(time.time())
    r.set(b"abs", b"v", exat=now + 10000)
    r.set(b"rel", b"v", ex=5000)
    r.set(b"ms", b"v", pxat=(now + 20000) * 1000 + 777)
    r.set(b"soon", b"v", px=1500)          # expires while the server is down
    r.set(b"never", b"v")
    r.set(b"later", b"v", px=3000)
    t_set = time.monotonic()
    rel_before = r.pexpiretime(b"rel")
    if how == "shutdown":
        server.stop()
    else:
        server.kill9()
    time.sleep(max(0.0, 1.8 - (time.monotonic() - t_set)))
    server.start()
    r = server.client()
    assert r.expiretime(b"abs") == now + 10000
    assert r.pexpiretime(b"ms") == (now + 20000) * 1000 + 777
    assert r.pexpiretime(b"rel") == rel_before, "relative TTL was re-based at restart"
    assert r.ttl(b"never") == -1
    assert r.get(b"soon") is None, "TTL did not run while the server was down"
    assert r.exists(b"soon") == 0
    assert sorted(set(r.keys(b"*")) - {b"later"}) == [b"abs", b"ms", b"never", b"rel"]
    elapsed_ms = (time.monotonic() - t_set) * 1000
    left = r.pttl(b"later")
    if left == -2:
        assert elapsed_ms > 2950, "'later' expired early (%.0f ms after SET)" % elapsed_ms
    else:
        assert 0 < left <= 3000 - elapsed_ms + 20, \
            "remaining TTL %d ms does not account for the %.0f ms that passed" % (left, elapsed_ms)
    wait_until(lambda: r.dbsize() == 4, 4.0, what="'later' to be swept after restart")
    assert r.get(b"later") is None
