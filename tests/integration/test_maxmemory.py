"""maxmemory, maxdisk and the eviction policies.

maxmemory bounds lodis's RAM, never its data: with maxmemory far below the
dataset every key stays readable and right. maxdisk bounds the dataset, and
at that bound maxmemory-policy behaves as Redis's does at maxmemory:
noeviction refuses denyoom commands with Redis's OOM error (reads and
deletes keep working), allkeys-* and volatile-* delete keys through the one
write path (`evicted` events, INFO evicted_keys), volatile-* only keys with a
TTL, volatile-ttl the soonest to expire first. Where the behaviour is
deterministic the same steps also run against redis-server at its maxmemory
and the replies must match."""

import os
import shutil
import time

import pytest
import redis

from lodis_testlib import scaled, wait_until

REDIS = shutil.which("redis-server")
OOM = "OOM command not allowed when used memory > 'maxmemory'."
pytestmark = pytest.mark.lodis_only


def value_of(i):
    # 100..1000 bytes, derived from i so every read can be checked
    n = 100 + (i * 7919) % 901
    return ((b"%08d|" % i) * (n // 9 + 1))[:n]


def fill(r, prefix, n, size=500, ttl=None, batch=200):
    """SET n keys; stop at the first error and return (written, error)."""
    written = 0
    for start in range(0, n, batch):
        p = r.pipeline(transaction=False)
        for i in range(start, min(n, start + batch)):
            if ttl:
                p.set("%s:%06d" % (prefix, i), b"v" * size, ex=ttl + i)
            else:
                p.set("%s:%06d" % (prefix, i), b"v" * size)
        for res in p.execute(raise_on_error=False):
            if isinstance(res, Exception):
                return written, res
            written += 1
    return written, None


def info(r, section):
    return r.info(section)


def lodis(server_factory, *args):
    s = server_factory(extra_args=list(args))
    return s, s.client()


def test_maxmemory_far_below_dataset_keeps_every_key(server_factory):
    # ~16 MB of values under an 8 MB maxmemory, with a 1 MB memtable budget
    s, r = lodis(server_factory, "--maxmemory", "8mb", "--memtable-size", "1mb")
    n = 30000
    for start in range(0, n, 500):
        p = r.pipeline(transaction=False)
        for i in range(start, start + 500):
            p.set("k:%06d" % i, value_of(i))
        assert all(x is True for x in p.execute())
    time.sleep(scaled(1.5))  # let the cron drain the memtable and give RAM back
    mem = info(r, "memory")
    assert mem["maxmemory"] == 8 * 1024 * 1024
    # what malloc holds stays near the bound whatever the dataset (16 MB here)
    assert mem["used_memory"] < 8 * 1024 * 1024 + 6 * 1024 * 1024, mem
    assert mem["lodis_memtable_budget"] <= 1024 * 1024
    assert mem["lodis_disk_used"] > 12 * 1024 * 1024
    for start in range(0, n, 1000):
        got = r.mget(["k:%06d" % i for i in range(start, start + 1000)])
        for i, v in zip(range(start, start + 1000), got):
            assert v == value_of(i), i
    assert r.dbsize() == n
    # nothing was evicted: maxmemory never deletes data
    assert info(r, "stats")["evicted_keys"] == 0
    # and after a restart too
    s.restart()
    r = s.client()
    assert r.dbsize() == n
    assert r.get("k:012345") == value_of(12345)


def test_info_memory_fields(server_factory):
    s, r = lodis(server_factory, "--maxmemory", "64mb", "--maxdisk", "1gb",
                 "--maxmemory-policy", "allkeys-lfu")
    r.set("a", "b")
    mem = info(r, "memory")
    for f in ("used_memory", "used_memory_rss", "used_memory_peak", "used_memory_dataset",
              "used_memory_overhead", "used_memory_startup", "mem_fragmentation_ratio",
              "lodis_memtable_bytes", "lodis_tier_entries", "lodis_tier_bytes",
              "lodis_tier_memtable_hits", "lodis_tier_lmdb_reads", "lodis_tier_cache_entries",
              "lodis_tier_cache_bytes", "lodis_tier_cache_max", "lodis_tier_cache_hits",
              "lodis_tier_cache_misses", "lodis_tier_cache_evictions", "lodis_disk_used"):
        assert f in mem, f
    assert mem["maxmemory"] == 64 * 1024 * 1024
    # the clean cache takes at most tier-cache-share % of maxmemory
    assert 0 < mem["lodis_tier_cache_max"] <= 64 * 1024 * 1024 * 15 // 16
    assert r.config_set("tier-cache-share", 25)
    assert 0 < info(r, "memory")["lodis_tier_cache_max"] <= 16 * 1024 * 1024
    assert mem["maxmemory_human"] == "64.00M"
    assert mem["maxmemory_policy"] == "allkeys-lfu"
    assert mem["lodis_maxdisk"] == 1024 ** 3
    assert mem["mem_allocator"] == "libc"
    assert mem["used_memory_rss"] == mem["lodis_rss_anon"] + mem["lodis_rss_file"]
    assert mem["used_memory_peak"] >= mem["used_memory"] > 0
    assert mem["used_memory_dataset"] + mem["used_memory_overhead"] == mem["used_memory"]


def _oom_steps(r):
    """At the bound with noeviction: what a Redis user sees."""
    out = []
    out.append(repr(r.get("fill:000001")))
    try:
        r.set("new", "x")
        out.append("set ok")
    except redis.ResponseError as e:
        out.append("set: " + str(e))
    try:
        r.lpush("newlist", "x")
        out.append("lpush ok")
    except redis.ResponseError as e:
        out.append("lpush: " + str(e))
    out.append("del %d" % r.delete("fill:000002"))
    out.append("exists %d" % r.exists("fill:000003"))
    out.append("ttl %d" % r.ttl("fill:000003"))
    # a command refused while queueing aborts the transaction
    p = r.pipeline(transaction=True)
    p.get("fill:000003")
    p.set("intx", "1")
    try:
        p.execute()
        out.append("exec ok")
    except redis.exceptions.ExecAbortError as e:
        out.append("exec: " + str(e))
    except redis.ResponseError as e:
        out.append("exec: " + str(e))
    return out


def test_noeviction_at_maxdisk_refuses_writes_like_redis(server_factory):
    s, r = lodis(server_factory, "--maxdisk", "1mb", "--maxmemory-policy", "noeviction")
    written, err = fill(r, "fill", 20000)
    assert err is not None and str(err) == OOM, err
    assert 500 < written < 5000
    # The memtable counts its own (larger) bytes until a checkpoint turns
    # them into LMDB pages: fill again once they have landed.
    time.sleep(scaled(2.5))
    more, err = fill(r, "more", 20000)
    assert str(err) == OOM
    got = _oom_steps(r)
    assert got[1] == "set: " + OOM and got[2] == "lpush: " + OOM, got
    assert got[3] == "del 1"
    assert got[-1].startswith("exec: ") and OOM in got[-1], got
    # reads and deletes never stop; emptying the dataset lets writes in again
    r.flushall()
    wait_until(lambda: _set_ok(r), scaled(10), what="writes accepted after FLUSHALL")
    if REDIS:
        ref = server_factory(binary_path=REDIS,
                             extra_args=["--maxmemory-policy", "noeviction"]).client()
        base = ref.info("memory")["used_memory"]
        ref.config_set("maxmemory", base + 1024 * 1024)
        _, rerr = fill(ref, "fill", 20000)
        assert rerr is not None and str(rerr) == OOM
        assert _oom_steps(ref) == got


def _set_ok(r):
    try:
        return r.set("after", "1")
    except redis.ResponseError:
        return False


def _subscribe_evicted(r):
    r.config_set("notify-keyspace-events", "Ee")
    ps = r.pubsub()
    ps.subscribe("__keyevent@0__:evicted")
    ps.get_message(timeout=1)  # subscribe confirmation
    return ps


def _drain(ps):
    keys = []
    while True:
        m = ps.get_message(timeout=0.2)
        if m is None:
            return keys
        if m["type"] == "message":
            keys.append(m["data"])


def test_allkeys_lru_evicts_oldest_and_raises_events(server_factory):
    s, r = lodis(server_factory, "--maxdisk", "1mb", "--maxmemory-policy", "allkeys-lru")
    ps = _subscribe_evicted(r)
    p = r.pipeline(transaction=False)
    for i in range(800):  # old: key:000000..000799
        p.set("key:%06d" % i, b"v" * 500)
    p.execute()
    time.sleep(2.2)  # the LRU clock counts seconds: the old keys are now idle
    p = r.pipeline(transaction=False)
    for i in range(800, 3800):  # new
        p.set("key:%06d" % i, b"v" * 500)
    # never an error: keys leave instead
    assert all(x is True for x in p.execute(raise_on_error=False))
    evicted = _drain(ps)
    stats = info(r, "stats")
    assert stats["evicted_keys"] >= len(evicted) > 0
    assert r.dbsize() < 3800
    assert all(r.exists(k) == 0 for k in evicted[:200])
    old_left = sum(r.exists("key:%06d" % i) for i in range(800)) / 800
    new_left = sum(r.exists("key:%06d" % i) for i in range(2800, 3800)) / 1000
    assert old_left < new_left, (old_left, new_left)


def test_allkeys_lfu_keeps_hot_keys(server_factory):
    s, r = lodis(server_factory, "--maxdisk", "1mb", "--maxmemory-policy", "allkeys-lfu")
    fill(r, "hot", 50)
    for _ in range(30):
        r.mget(["hot:%06d" % i for i in range(50)])
    assert min(r.object("freq", "hot:%06d" % i) for i in range(50)) > 5
    written, err = fill(r, "cold", 4000)
    assert err is None
    assert info(r, "stats")["evicted_keys"] > 0
    hot_left = sum(r.exists("hot:%06d" % i) for i in range(50))
    assert hot_left >= 45, hot_left


def test_allkeys_random_evicts(server_factory):
    s, r = lodis(server_factory, "--maxdisk", "1mb", "--maxmemory-policy", "allkeys-random")
    written, err = fill(r, "k", 4000)
    assert err is None
    assert 0 < info(r, "stats")["evicted_keys"] and r.dbsize() < 4000


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random"])
def test_volatile_policies_evict_only_keys_with_ttl(server_factory, policy):
    s, r = lodis(server_factory, "--maxdisk", "1mb", "--maxmemory-policy", policy)
    ps = _subscribe_evicted(r)
    assert fill(r, "vol", 600, ttl=3600)[1] is None
    written, err = fill(r, "perm", 6000)
    evicted = _drain(ps)
    assert evicted and all(k.startswith(b"vol:") for k in evicted), evicted[:5]
    # once no key has a TTL left, there is nothing to evict: OOM, as Redis
    assert err is not None and str(err) == OOM
    assert all(r.exists("perm:%06d" % i) for i in range(written))


def test_volatile_ttl_evicts_in_expiry_order(server_factory):
    s, r = lodis(server_factory, "--maxdisk", "1mb", "--maxmemory-policy", "volatile-ttl")
    ps = _subscribe_evicted(r)
    # TTLs in an order unrelated to the names
    order = [(i * 37) % 400 for i in range(400)]
    p = r.pipeline(transaction=False)
    for i in order:
        p.set("t:%03d" % i, b"v" * 500, ex=1000 + i)
    p.execute()
    fill(r, "perm", 6000)
    evicted = _drain(ps)
    assert len(evicted) > 20
    assert evicted == sorted(evicted), evicted[:10]
    assert evicted[0] == b"t:000"


def test_object_freq_needs_an_lfu_policy(server_factory):
    s, r = lodis(server_factory)
    refs = [r]
    if REDIS:
        refs.append(server_factory(binary_path=REDIS).client())
    answers = []
    for c in refs:
        c.set("f", "1")
        try:
            c.object("freq", "f")
            answers.append("ok")
        except redis.ResponseError as e:
            answers.append(str(e))
        c.config_set("maxmemory-policy", "allkeys-lfu")
        c.config_set("lfu-log-factor", "0")  # every access counts
        c.set("g", "val")  # not "1": Redis shares small integers' objects
        for _ in range(10):
            c.get("g")
        answers.append(c.object("freq", "g"))
        c.config_set("maxmemory-policy", "volatile-lfu")
        answers.append(c.object("freq", "g"))
        with pytest.raises(redis.ResponseError, match="LFU maxmemory policy is selected"):
            c.object("idletime", "g")
    assert answers[0].startswith("An LFU maxmemory policy is not selected")
    assert answers[1] == answers[2] == 15
    if len(refs) == 2:
        assert answers[:3] == answers[3:]


def test_config_set_takes_effect_at_once(server_factory):
    s, r = lodis(server_factory)
    for name, value in (("maxmemory", "33554432"), ("maxmemory-policy", "allkeys-lru"),
                        ("maxmemory-samples", "10"), ("lfu-log-factor", "3"),
                        ("lfu-decay-time", "5"), ("maxdisk", "1048576")):
        assert r.config_set(name, value)
        assert r.config_get(name) == {name: value}
    assert info(r, "memory")["maxmemory"] == 33554432
    # the memtable budget follows maxmemory at once (a sixteenth of it)
    assert info(r, "memory")["lodis_memtable_budget"] == 33554432 // 16
    r.config_set("maxmemory-policy", "noeviction")
    written, err = fill(r, "k", 20000)
    assert str(err) == OOM
    r.config_set("maxmemory-policy", "allkeys-random")
    assert r.set("now", "ok")
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxdisk", "0")  # unbounded again
    assert r.set("later", "ok")
    with pytest.raises(redis.ResponseError):
        r.config_set("maxmemory-policy", "sometimes")


def test_memory_subcommands(server_factory):
    s, r = lodis(server_factory, "--maxmemory", "64mb")
    for i in range(200):
        r.set("m:%d" % i, b"x" * 1000)
    r.config_set("maxdisk", "100kb")
    stats = r.memory_stats()
    for f in ("peak.allocated", "total.allocated", "startup.allocated", "keys.count",
              "dataset.bytes", "fragmentation", "lodis.disk.used", "lodis.maxdisk", "db.0"):
        assert f in stats, f
    assert stats["keys.count"] == r.dbsize() == 200
    assert stats["db.0"]["keys.count"] == 200
    assert stats["total.allocated"] <= stats["peak.allocated"]
    assert stats["lodis.disk.used"] > 100 * 1024
    doctor = r.execute_command("MEMORY", "DOCTOR")
    doctor = doctor.decode() if isinstance(doctor, bytes) else str(doctor)
    assert "of maxdisk" in doctor and "noeviction" in doctor, doctor
    malloc = r.execute_command("MEMORY", "MALLOC-STATS")
    assert b"<malloc" in (malloc if isinstance(malloc, bytes) else str(malloc).encode())
    assert r.memory_purge()
    assert r.memory_usage("m:1") > 1000
    assert r.memory_usage("missing") is None


def _cli(port, *args):
    import subprocess
    out = subprocess.run(["redis-cli", "-p", str(port)] + list(args), capture_output=True,
                         timeout=scaled(60))
    return out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")


@pytest.mark.skipif(not shutil.which("redis-cli"), reason="redis-cli not installed")
def test_redis_cli_bigkeys_memkeys_hotkeys(server_factory):
    s, r = lodis(server_factory)
    r.set("bigstring", b"s" * 50000)
    r.rpush("biglist", *range(3000))
    r.hset("bighash", mapping={"f%d" % i: i for i in range(700)})
    r.sadd("bigset", *range(900))
    r.zadd("bigzset", {"m%d" % i: i for i in range(1100)})
    for i in range(100):
        r.set("small:%d" % i, "v")
    out = _cli(s.port, "--bigkeys")
    assert "Biggest string found '\"bigstring\"' has 50000 bytes" in out, out
    assert "Biggest   list found '\"biglist\"' has 3000 items" in out
    assert "Biggest   hash found '\"bighash\"' has 700 fields" in out
    assert "Biggest    set found '\"bigset\"' has 900 members" in out
    assert "Biggest   zset found '\"bigzset\"' has 1100 members" in out
    out = _cli(s.port, "--memkeys")
    assert "Biggest   list found '\"biglist\"'" in out and "Biggest string found '\"bigstring\"'" in out
    # --hotkeys needs an LFU policy, as with Redis
    out = _cli(s.port, "--hotkeys")
    assert "LFU" in out
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", "0")
    for _ in range(40):
        r.get("small:7")
    out = _cli(s.port, "--hotkeys")
    lines = [ln for ln in out.splitlines() if ln.startswith("hot key found")]
    assert lines and '"small:7"' in lines[0], out


def test_clean_cache_never_serves_a_replaced_value(server_factory):
    # The RAM tier's clean cache (values read from LMDB) under a maxmemory far
    # below the dataset: reads fill it, overwrites and deletes must replace
    # what it holds, also once a checkpoint has emptied the memtable that
    # held the write, and FLUSHALL must empty it. A model says what each read
    # must return.
    # ~22 MB of values (~35 MB in LMDB) under 12 MB, a third of it for the
    # cache once the rest of the heap (~9 MB here) is counted
    s, r = lodis(server_factory, "--maxmemory", "12mb", "--memtable-size", "1mb")
    n = 40000
    model = {}
    for start in range(0, n, 500):
        p = r.pipeline(transaction=False)
        for i in range(start, start + 500):
            p.set("c:%06d" % i, value_of(i))
            model["c:%06d" % i] = value_of(i)
        p.execute()
    for h in range(50):
        r.hset("ch:%d" % h, mapping={"f%d" % f: "v%d-%d" % (h, f) for f in range(20)})
    hmodel = {"ch:%d" % h: {b"f%d" % f: b"v%d-%d" % (h, f) for f in range(20)} for h in range(50)}

    def check_all():
        keys = sorted(model)
        for start in range(0, len(keys), 1000):
            part = keys[start:start + 1000]
            assert r.mget(part) == [model[k] for k in part]
        hot = keys[:1000]  # read again and again: the cache's hits
        for _ in range(3):
            assert r.mget(hot) == [model[k] for k in hot]
        for h, fields in hmodel.items():
            assert r.hgetall(h) == fields, h
            for f, v in list(fields.items())[:5]:
                assert r.hget(h, f) == v

    rnd = __import__("random").Random(7)
    r.execute_command("DEBUG", "RELOAD")  # checkpoint: reads now come from LMDB
    for rnd_i in range(4):
        check_all()  # fills the cache (and evicts: the dataset is far larger)
        check_all()  # served partly from it
        keys = list(model)
        for k in rnd.sample(keys, 3000):
            v = b"round%d-" % rnd_i + k.encode()
            r.set(k, v)
            model[k] = v
        gone = rnd.sample(keys, 500)
        r.delete(*gone)
        for k in gone:
            model[k] = None
        for h in rnd.sample(sorted(hmodel), 10):
            r.hset(h, "f1", "new%d" % rnd_i)
            hmodel[h][b"f1"] = b"new%d" % rnd_i
            r.hdel(h, "f2")
            hmodel[h].pop(b"f2", None)
        check_all()  # the writes are in the memtable
        if rnd_i % 2 == 0:
            r.execute_command("DEBUG", "RELOAD")  # checkpoint frees that memtable
        else:
            time.sleep(scaled(1.5))  # or the cron's checkpoint does
        check_all()
    mem = info(r, "memory")
    assert mem["lodis_tier_cache_hits"] > 10000, mem
    assert mem["lodis_tier_cache_evictions"] > 0, mem
    assert 0 < mem["lodis_tier_cache_bytes"] <= 12 * 1024 * 1024, mem
    assert mem["lodis_tier_cache_max"] < 12 * 1024 * 1024
    # FLUSHALL empties it; the same names written again read back new values
    r.flushall()
    assert info(r, "memory")["lodis_tier_cache_entries"] == 0
    assert r.mget(["c:%06d" % i for i in range(100)]) == [None] * 100
    r.set("c:000001", "after-flush")
    r.execute_command("DEBUG", "RELOAD")
    assert r.get("c:000001") == b"after-flush"
    assert r.get("c:000001") == b"after-flush"


def test_clean_cache_follows_maxmemory(server_factory):
    # The cache takes what maxmemory leaves and gives way first: lowering
    # maxmemory shrinks it at once; without maxmemory there is none.
    s, r = lodis(server_factory, "--maxmemory", "64mb")
    for start in range(0, 20000, 1000):
        p = r.pipeline(transaction=False)
        for i in range(start, start + 1000):
            p.set("k:%06d" % i, value_of(i))
        p.execute()
    r.execute_command("DEBUG", "RELOAD")
    for start in range(0, 20000, 1000):
        r.mget(["k:%06d" % i for i in range(start, start + 1000)])
    mem = info(r, "memory")
    assert mem["lodis_tier_cache_bytes"] > 8 * 1024 * 1024, mem  # ~11 MB of values
    r.config_set("maxmemory", "4mb")
    wait_until(lambda: info(r, "memory")["lodis_tier_cache_bytes"] < 4 * 1024 * 1024,
               timeout=5)
    assert r.get("k:000123") == value_of(123)
    r.config_set("maxmemory", "0")
    # Without maxmemory LMDB's pages serve reads and the cache stands aside.
    wait_until(lambda: info(r, "memory")["lodis_tier_cache_max"] == 0, timeout=5)
    assert info(r, "memory")["lodis_tier_cache_entries"] == 0
    assert r.get("k:000123") == value_of(123)
