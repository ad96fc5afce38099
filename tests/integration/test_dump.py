"""DUMP / RESTORE / MIGRATE against the reference redis-server: payloads
move both ways (Redis -> lodis and lodis -> Redis) for every type and every
encoding size class (listpack/intset-sized and hashtable/skiplist-sized,
members longer than 511 bytes, binary data, TTLs), and the values are
compared key by key with their encodings. Also: RESTORE's options and
errors, corrupted payloads (nothing changes), and MIGRATE in both
directions with COPY, REPLACE and KEYS."""

import os
import random
import time

import pytest
import redis


LONG = 600  # past LMDB's 511-byte key limit: the hashed long-member form


def _rnd(seed):
    return random.Random(seed)


def fill(c, with_ttl=True):
    """Every type in every size class. Returns the key names."""
    rnd = _rnd(7)
    c.flushall()
    # strings: int-encoded in the RDB (8/16/32 bit), big ints, short, long
    # compressible (LZF), binary, empty
    for k, v in {"s:i8": "-5", "s:i16": "1234", "s:i32": "-123456789", "s:i64": "1234567890123",
                 "s:lead0": "007", "s:short": "hello", "s:emb": "e" * 44, "s:raw": "r" * 45,
                 "s:lzf": "abc" * 300, "s:empty": "", "s:float": "3.14"}.items():
        c.set(k, v)
    c.set("s:bin", bytes(range(256)) * 3)
    c.set("s:rand", os.urandom(3000))
    # lists: small, many nodes, long elements, binary
    c.rpush("l:small", "a", "1", "-2", "x" * 70, b"\x00\xff")
    c.rpush("l:big", *[("e%d" % i) * rnd.randint(1, 30) for i in range(2000)])
    c.rpush("l:ints", *range(-300, 300))
    c.rpush("l:long", "L" * LONG, os.urandom(LONG), "tail")
    c.rpush("l:huge", "H" * 20000, "small")
    # sets: intset small / intset past its limit / strings / long / binary
    c.sadd("set:int", 1, 2, 3, -7, 2 ** 40, -(2 ** 62))
    c.sadd("set:int16", *range(0, 100))
    c.sadd("set:intbig", *range(0, 600))
    c.sadd("set:str", "a", "b", "c", "10")
    c.sadd("set:many", *["m%d" % i for i in range(300)])
    c.sadd("set:long", "S" * LONG, "short", os.urandom(LONG))
    # zsets: listpack, skiplist by count, skiplist by member length
    c.zadd("z:small", {"a": 1, "b": 2.5, "c": -3, "d": 1e20, "e": float("inf"),
                       "f": float("-inf"), "g": 0.1})
    c.zadd("z:big", {"m%d" % i: rnd.random() * 1000 - 500 for i in range(400)})
    c.zadd("z:long", {"Z" * LONG: 1, "short": 2})
    c.zadd("z:binary", {os.urandom(40): i for i in range(20)})
    # hashes: listpack, hashtable by count, by value length, long fields
    c.hset("h:small", mapping={"f": "v", "n": "123", "neg": "-9", "empty": ""})
    c.hset("h:big", mapping={"f%d" % i: "v%d" % i for i in range(600)})
    c.hset("h:mid", mapping={"f%d" % i: "v%d" % i for i in range(300)})
    c.hset("h:longval", mapping={"a": "V" * 65, "b": "2"})
    c.hset("h:longfield", mapping={"F" * LONG: "x", "y": "Y" * LONG})
    c.hset("h:bin", mapping={os.urandom(10): os.urandom(100) for _ in range(10)})
    # streams: same and different fields, deletions, several nodes, groups
    for i in range(5):
        c.xadd("x:small", {"a": i, "b": "v%d" % i})
    c.xadd("x:small", {"other": "field"})
    c.xadd("x:small", {"a": 1})
    c.xdel("x:small", c.xrange("x:small", count=2)[1][0])
    for i in range(500):
        c.xadd("x:big", {"f%d" % (i % 3): "v" * (i % 50), "n": i}, id="%d-%d" % (1000 + i // 7, i))
    c.xgroup_create("x:big", "g1", "0")
    c.xgroup_create("x:big", "g2", "$")
    c.xgroup_create("x:big", "G" * LONG, "1010-0")
    c.xreadgroup("g1", "alice", {"x:big": ">"}, count=10)
    c.xreadgroup("g1", "bob", {"x:big": ">"}, count=5)
    c.xreadgroup("g1", "carol", {"x:big": ">"}, count=3)
    c.xack("x:big", "g1", c.xrange("x:big", count=2)[1][0])
    c.xgroup_createconsumer("x:big", "g2", "idle")
    c.xgroup_create("x:empty", "g", "$", mkstream=True)
    c.xadd("x:emptied", {"a": 1}, id="5-1")
    c.xdel("x:emptied", "5-1")
    keys = sorted(k.decode() if isinstance(k, bytes) else k for k in c.keys())
    if with_ttl:
        c.pexpire("s:short", 100000)
        c.pexpire("h:big", 200000)
        c.pexpire("x:small", 300000)
    return keys


def key_value(c, key, stream_meta=True):
    """(type, value) of a key, comparable across servers and encodings.
    stream_meta=False leaves out the stream and group fields a copy made by
    replaying commands may not reproduce (consumers count, entries-read,
    lag, max-deleted-entry-id, entries-added, recorded-first-entry-id)."""
    t = c.type(key).decode()
    if t == "string":
        v = c.get(key)
    elif t == "list":
        v = c.lrange(key, 0, -1)
    elif t == "set":
        v = sorted(c.smembers(key))
    elif t == "zset":
        v = c.zrange(key, 0, -1, withscores=True)
    elif t == "hash":
        v = sorted(c.hgetall(key).items())
    elif t == "stream":
        info = c.xinfo_stream(key)
        groups = []
        for g in c.xinfo_groups(key):
            name = g["name"]
            pend = [(p["message_id"], p["consumer"], p["times_delivered"])
                    for p in c.xpending_range(key, name, "-", "+", 10000)]
            cons = sorted((x["name"], x["pending"]) for x in c.xinfo_consumers(key, name))
            if stream_meta:
                groups.append((name, g["consumers"], g["pending"], g["last-delivered-id"],
                               g["entries-read"], g["lag"], pend, cons))
            else:
                groups.append((name, g["pending"], g["last-delivered-id"], pend, cons))
        if stream_meta:
            v = (c.xrange(key), info["length"], info["last-generated-id"],
                 info["max-deleted-entry-id"], info["entries-added"],
                 info["recorded-first-entry-id"], sorted(groups))
        else:
            v = (c.xrange(key), info["length"], info["last-generated-id"], sorted(groups))
    else:
        raise AssertionError("unexpected type %s for %r" % (t, key))
    return t, v


def snapshot(c, key):
    """Everything observable about a key's value (not its access times)."""
    enc = c.object("encoding", key)
    t, v = key_value(c, key)
    return t, enc, v


def assert_same(a, b, keys):
    for k in keys:
        sa, sb = snapshot(a, k), snapshot(b, k)
        assert sa == sb, k
        ta, tb = a.pttl(k), b.pttl(k)
        if ta < 0 or tb < 0:
            assert ta == tb, k
        else:
            assert abs(ta - tb) < 5000, k


def copy_by_dump(src, dst, keys):
    for k in keys:
        payload = src.dump(k)
        assert payload is not None, k
        ttl = src.pttl(k)
        assert ok(dst.restore(k, ttl if ttl > 0 else 0, payload, replace=True)), k


def ok(reply):
    return reply in (True, b"OK", "OK")


def need(reference):
    if reference is None:
        pytest.skip("redis-server not installed")


def test_redis_to_lodis_every_type(r, reference):
    need(reference)
    keys = fill(reference)
    r.flushall()
    copy_by_dump(reference, r, keys)
    assert sorted(k.decode() for k in r.keys()) == keys
    assert_same(reference, r, keys)


def test_lodis_to_redis_every_type(r, reference):
    need(reference)
    keys = fill(r)
    reference.flushall()
    copy_by_dump(r, reference, keys)
    assert sorted(k.decode() for k in reference.keys()) == keys
    assert_same(r, reference, keys)


def test_lodis_payload_matches_redis_for_listpacks(r, reference):
    """Where the value has one canonical RDB form, lodis's DUMP is Redis's,
    byte for byte (listpack-encoded hashes and zsets in insertion order
    equal to key order, intsets, strings, ints)."""
    need(reference)
    for c in (r, reference):
        c.flushall()
        c.set("s", "short")
        c.set("i", "-12345")
        c.sadd("is", 5, 1, 3, 70000)
        c.hset("h", mapping={"a": "1", "b": "two"})
        c.zadd("z", {"a": 1, "b": 2.5})
    for k in ("s", "i", "is", "h", "z"):
        assert r.dump(k) == reference.dump(k), k


def test_restore_options_and_errors(r, reference):
    need(reference)
    for c in (r, reference):
        c.flushall()
        c.set("src", "value")
    payload = reference.dump("src")
    script = [
        ("RESTORE", "k", "0", payload),
        ("RESTORE", "k", "0", payload),                      # BUSYKEY
        ("RESTORE", "k", "0", payload, "REPLACE"),
        ("RESTORE", "k2", "-1", payload),
        ("RESTORE", "k2", "abc", payload),
        ("RESTORE", "k2", "0", payload, "BOGUS"),
        ("RESTORE", "k2", "0", payload, "IDLETIME", "-1"),
        ("RESTORE", "k2", "0", payload, "FREQ", "256"),
        ("RESTORE", "k2", "0", payload, "IDLETIME", "10", "FREQ", "5"),
        ("RESTORE", "k2", "0", payload, "IDLETIME"),
        ("RESTORE", "k3", "1", payload, "ABSTTL"),           # already expired: OK, not created
        ("EXISTS", "k3"),
        ("RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"),  # replaces with an expired one: deleted
        ("EXISTS", "k"),
        ("RESTORE", "k4", str(int(time.time() * 1000) + 100000), payload, "ABSTTL"),
        ("RESTORE", "k5", "0", payload, "IDLETIME", "1000"),
        ("RESTORE", "k6", "0", b"short"),
        ("RESTORE", "k6", "0", b""),
        ("DUMP", "nosuchkey"),
        ("RESTORE", "k7", "0", payload[:-1]),
        ("RESTORE", "k7", "0", payload[:-2] + bytes([payload[-2] ^ 1, payload[-1]])),
    ]

    def run(c):
        out = []
        for cmd in script:
            try:
                res = c.execute_command(*cmd)
            except redis.ResponseError as e:
                res = "ERR:" + str(e)
            out.append(res)
        return out

    got, want = run(r), run(reference)
    assert got == want
    # IDLETIME counts whole seconds from the RESTORE: a second boundary
    # passed before the OBJECT call (a loaded machine) reads one more.
    assert 1000 <= r.object("idletime", "k5") <= 1002
    assert 1000 <= reference.object("idletime", "k5") <= 1002
    assert 99000 < r.pttl("k4") <= 100000
    assert r.get("k4") == b"value"


def _bad_payloads(good):
    """Corruptions with a valid footer (so the body is what is judged) and
    corruptions of the footer itself."""
    import zlib  # noqa: F401 (stdlib only; CRC-64 computed below)
    out = []
    body = good[:-10]
    for cut in (1, 2, len(body) // 2, len(body) - 1):
        out.append(with_footer(body[:cut]))
    for i in range(0, len(body), max(1, len(body) // 25)):
        b = bytearray(body)
        b[i] ^= 0x5A
        out.append(with_footer(bytes(b)))
    out.append(good[:-1] + bytes([good[-1] ^ 1]))   # checksum
    out.append(good[:-10] + b"\x0c\x00" + good[-8:])  # version 12
    out.append(good[:5])
    return out


def crc64(data):
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def with_footer(body, version=10):
    b = body + bytes([version & 0xff, version >> 8])
    return b + crc64(b).to_bytes(8, "little")


def test_crc64_footer_matches_redis(reference):
    need(reference)
    reference.set("k", "v")
    p = reference.dump("k")
    assert with_footer(p[:-10]) == p


def test_corrupt_payloads_change_nothing(r, reference):
    need(reference)
    reference.flushall()
    reference.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(20)})
    reference.zadd("z", {"m%d" % i: i for i in range(200)})
    reference.rpush("l", *range(50))
    for i in range(30):
        reference.xadd("x", {"f": i})
    reference.xgroup_create("x", "g", "0")
    reference.xreadgroup("g", "c", {"x": ">"}, count=5)
    r.flushall()
    r.set("keep", "me")
    for key in ("h", "z", "l", "x"):
        good = reference.dump(key)
        for bad in _bad_payloads(good):
            try:
                r.restore("target", 0, bad)
                # A flipped byte inside a string's bytes can still be a valid
                # value: then it must be readable, and we drop it again.
                assert r.exists("target") == 1
                snapshot(r, "target")
                r.delete("target")
            except redis.ResponseError as e:
                msg = str(e)
                assert msg in ("DUMP payload version or checksum are wrong", "Bad data format"), msg
                assert r.exists("target") == 0
        # the same corruptions with REPLACE leave the existing key alone
        r.set("target", "old")
        for bad in _bad_payloads(good)[:5]:
            with pytest.raises(redis.ResponseError):
                r.restore("target", 0, bad, replace=True)
            assert r.get("target") == b"old"
        r.delete("target")
    assert r.dbsize() == 1 and r.get("keep") == b"me"


def test_corrupt_errors_match_redis(r, reference):
    """Truncations and footer damage get the same reply from both."""
    need(reference)
    reference.flushall()
    reference.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(300)})
    good = reference.dump("h")
    cases = [with_footer(good[:-10][:n]) for n in (0, 1, 3, 10, 100)]
    cases += [good[:-1], good + b"x", good[:9]]

    def run(c):
        out = []
        for p in cases:
            c.delete("t")
            try:
                out.append(c.restore("t", 0, p))
            except redis.ResponseError as e:
                out.append(str(e))
        return out

    r.flushall()
    assert run(r) == run(reference)


def test_restore_keyspace_event_and_watch(r):
    r.set("src", "v")
    payload = r.dump("src")
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    r2 = r.connection_pool.get_connection("x")
    pipe = r.pipeline()
    pipe.watch("dst")
    r.restore("dst", 0, payload)
    pipe.multi()
    pipe.get("dst")
    with pytest.raises(redis.WatchError):
        pipe.execute()
    msgs = []
    for _ in range(5):
        m = p.get_message(timeout=1)
        if m and m["type"] == "pmessage":
            msgs.append((m["channel"], m["data"]))
    assert (b"__keyevent@0__:restore", b"dst") in msgs
    r.connection_pool.release(r2)


def test_migrate_lodis_to_redis(r, reference):
    need(reference)
    port = reference.connection_pool.connection_kwargs["port"]
    keys = fill(r)
    expected = {k: snapshot(r, k) for k in keys}
    reference.flushall()
    # one key, COPY: stays here
    assert ok(r.migrate("127.0.0.1", port, "s:short", 0, 5000, copy=True))
    assert r.exists("s:short") == 1
    assert snapshot(reference, "s:short") == expected["s:short"]
    assert 0 < reference.pttl("s:short") <= 100000
    # existing target without REPLACE: the target's error
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        r.migrate("127.0.0.1", port, "s:short", 0, 5000)
    assert r.exists("s:short") == 1
    # KEYS, REPLACE, into db 3: moved
    rest = [k for k in keys if k != "s:short"]
    assert ok(r.migrate("127.0.0.1", port, rest, 3, 5000, replace=True))
    assert r.dbsize() == 1
    ref3 = redis.Redis(port=port, db=3)
    for k in rest:
        assert snapshot(ref3, k) == expected[k], k
    # nothing to move
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "nokey", 0, 1000) == b"NOKEY"


def test_migrate_redis_to_lodis(r, reference):
    need(reference)
    port = r.connection_pool.connection_kwargs["port"]
    keys = fill(reference)
    expected = {k: snapshot(reference, k) for k in keys}
    r.flushall()
    assert ok(reference.migrate("127.0.0.1", port, keys, 0, 5000, copy=True))
    for k in keys:
        assert snapshot(r, k) == expected[k], k
    assert ok(reference.migrate("127.0.0.1", port, keys, 0, 5000, replace=True))
    assert reference.dbsize() == 0
    assert sorted(k.decode() for k in r.keys()) == keys


def test_migrate_errors(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="IOERR error or timeout connecting"):
        r.execute_command("MIGRATE", "127.0.0.1", "1", "k", 0, 500)
    with pytest.raises(redis.ResponseError, match="must be set to the empty string"):
        r.execute_command("MIGRATE", "127.0.0.1", "1", "k", 0, 500, "KEYS", "k")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("MIGRATE", "127.0.0.1", "1", "k", 0, 500, "AUTH")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("MIGRATE", "127.0.0.1", "1", "k", "x", 500)
    assert r.get("k") == b"v"


def test_migrate_auth_error_from_target(r, reference):
    need(reference)
    port = reference.connection_pool.connection_kwargs["port"]
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="Target instance replied with error"):
        r.migrate("127.0.0.1", port, "k", 0, 5000, auth="wrong")
    assert r.get("k") == b"v"
