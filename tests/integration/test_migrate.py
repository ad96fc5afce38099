"""lodis-migrate dump / restore / check against real servers.

The dump is taken from a live server's data directory (the server keeps
running and writing), restored into a fresh directory, and a second server
started on the result is compared key by key with the first: values, types,
encodings, absolute expiry times, stream groups and pending lists, function
libraries. A writer doing MULTI/EXEC transfers while dumps are taken checks
that a dump is one point in time. Damaged dumps must be refused before the
target changes; `check` must pass a clean store and flag a damaged one.
"""

import hashlib
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import server_binary
from lodis_testlib import scaled

pytestmark = pytest.mark.lodis_only

BIN_DIR = os.path.dirname(os.path.abspath(server_binary()))
MIGRATE = os.environ.get("LODIS_MIGRATE") or os.path.join(BIN_DIR, "lodis-migrate")
DAMAGE = os.path.join(BIN_DIR, "tests", "tools", "lodis-damage")


def migrate(*args, check=None, timeout=120):
    p = subprocess.run([MIGRATE] + [str(a) for a in args], capture_output=True,
                       timeout=scaled(timeout))
    if check is not None:
        assert p.returncode == check, "lodis-migrate %s: exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"))
    return p


LONG_KEY = b"k" * 600 + b"\x00\xff end"          # beyond the 502-byte inline limit
LONG_MEMBER = b"m" * 700 + b"\x01\x02"            # beyond the 400-byte member prefix
BINARY = bytes(range(256))

LIB = """#!lua name=mylib
redis.register_function('myfunc', function(keys, args) return 'hello ' .. args[1] end)
redis.register_function{function_name='ro', callback=function(keys, args) return 7 end,
                        flags={'no-writes'}}
"""


def fill(r_factory):
    """Every type, several dbs, TTLs, long and binary keys and members."""
    rnd = random.Random(7)
    r0 = r_factory(0)
    p = r0.pipeline(transaction=False)
    for i in range(300):
        p.set(b"str:%d" % i, b"v%d" % i)
    p.set(b"int", 12345)
    p.set(b"bin", BINARY)
    p.set(b"empty", b"")
    p.set(b"big", b"abc" * 20000)                      # compressed on disk
    p.set(b"bigrand", bytes(rnd.getrandbits(8) for _ in range(40000)))
    p.set(LONG_KEY, b"long key value")
    p.set(b"ttl:1", b"x", px=500000)
    p.set(b"ttl:2", b"y", ex=86400)
    p.hset(b"hash", mapping={b"f%d" % i: b"v%d" % i for i in range(50)})
    p.hset(b"hash", LONG_MEMBER, b"long field")
    p.hset(b"hash", BINARY, BINARY)
    p.hset(b"bighash", mapping={b"f%d" % i: b"x" * 100 for i in range(600)})
    p.rpush(b"list", *[b"e%d" % i for i in range(100)])
    p.lpush(b"list", b"head", LONG_MEMBER)
    p.sadd(b"intset", *range(50))
    p.sadd(b"set", *[b"m%d" % i for i in range(80)], LONG_MEMBER, BINARY)
    p.zadd(b"zset", {b"a": 1.5, b"b": -2, b"c": 0, LONG_MEMBER: 3.25, BINARY: 1e300,
                     b"inf": float("inf"), b"ninf": float("-inf")})
    p.zadd(b"bigzset", {b"z%d" % i: i * 0.5 for i in range(300)})
    p.pexpire(b"hash", 400000)
    p.expire(b"zset", 100000)
    p.execute()
    for i in range(20):
        r0.xadd(b"stream", {b"f": b"v%d" % i, b"n": str(i)})
    r0.xgroup_create(b"stream", b"g1", id=b"0")
    r0.xgroup_create(b"stream", b"g2", id=b"$")
    r0.xgroup_create(b"stream", LONG_MEMBER, id=b"0")
    r0.xreadgroup(b"g1", b"alice", {b"stream": b">"}, count=5)
    r0.xreadgroup(b"g1", b"bob", {b"stream": b">"}, count=3)
    r0.xack(b"stream", b"g1", r0.xrange(b"stream", count=1)[0][0])
    r0.xdel(b"stream", r0.xrange(b"stream")[-1][0])
    r0.function_load(LIB)
    for db in (1, 5, 15):
        r = r_factory(db)
        r.set(b"db%d" % db, b"in db %d" % db)
        r.hset(b"h", b"db", db)
        r.set(b"shared", b"db %d" % db, ex=1000 + db)


def snapshot(r_factory, dbs=range(16)):
    """Everything observable about the dataset, per db, comparable across servers."""
    out = {}
    for db in dbs:
        r = r_factory(db)
        keys = sorted(r.scan_iter(count=1000))
        for k in keys:
            t = r.type(k)
            item = {"type": t, "pexpiretime": r.pexpiretime(k),
                    "encoding": r.object("encoding", k)}
            if t == b"string":
                item["v"] = r.get(k)
            elif t == b"hash":
                item["v"] = r.hgetall(k)
            elif t == b"list":
                item["v"] = r.lrange(k, 0, -1)
            elif t == b"set":
                item["v"] = sorted(r.smembers(k))
            elif t == b"zset":
                item["v"] = r.zrange(k, 0, -1, withscores=True)
            elif t == b"stream":
                item["v"] = r.xrange(k)
                groups = r.xinfo_groups(k)
                item["groups"] = [{x: g[x] for x in ("name", "consumers", "pending",
                                                     "last-delivered-id", "entries-read", "lag")}
                                  for g in groups]
                item["pending"] = {g["name"]: r.xpending_range(k, g["name"], "-", "+", 1000)
                                   for g in groups}
                for g in item["pending"].values():
                    for e in g:
                        e.pop("time_since_delivered", None)
                item["consumers"] = {g["name"]: sorted((c["name"], c["pending"])
                                                       for c in r.xinfo_consumers(k, g["name"]))
                                     for g in groups}
                info = r.xinfo_stream(k)
                item["info"] = {x: info[x] for x in ("length", "last-generated-id",
                                                     "max-deleted-entry-id", "entries-added")}
            out[(db, k)] = item
    return out


def restore_and_start(server_factory, dump_file, *extra):
    target = server_factory(start=False)
    migrate("restore", dump_file, "-d", target.dir, *extra, check=0)
    target.start()
    return target


def test_dump_restore_roundtrip_live(server_factory, tmp_path):
    src = server_factory()
    fill(lambda db: src.client(db=db))
    # Part of the data only in the WAL (not yet checkpointed), part in LMDB.
    src.client().set(b"late", b"written just before the dump")
    out = tmp_path / "all.dump"
    p = migrate("dump", src.dir, "-o", out, check=0)
    assert out.exists() and not (tmp_path / "all.dump.tmp").exists()
    assert b"keys" in p.stderr                      # the final progress line
    dst = restore_and_start(server_factory, out)
    a = snapshot(lambda db: src.client(db=db))
    b = snapshot(lambda db: dst.client(db=db))
    assert len(a) > 300
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k
    # TTLs are absolute: the same expiry instant, not the same remaining time.
    assert dst.client().pexpiretime(b"ttl:1") == src.client().pexpiretime(b"ttl:1") > 0
    assert dst.client().function_list() == src.client().function_list()
    assert dst.client().fcall("myfunc", 0, "x") == b"hello x"
    for db in range(16):
        assert dst.client(db=db).dbsize() == src.client(db=db).dbsize()
    # New stream groups on the restored store do not collide with restored ones.
    rd = dst.client()
    rd.xgroup_create(b"stream", b"g3", id=b"0")
    rd.xreadgroup(b"g3", b"carol", {b"stream": b">"}, count=2)
    assert [g["name"] for g in rd.xinfo_groups(b"stream")].count(b"g1") == 1
    assert rd.xpending(b"stream", b"g1")["pending"] == \
        src.client().xpending(b"stream", b"g1")["pending"]
    assert rd.xpending(b"stream", b"g3")["pending"] == 2
    migrate("check", dst.dir, check=0)


def test_restore_selected_dbs_and_replace(server_factory, tmp_path):
    src = server_factory()
    fill(lambda db: src.client(db=db))
    out = tmp_path / "d.dump"
    migrate("dump", src.dir, "-o", out, "--quiet", check=0)
    dst = restore_and_start(server_factory, out, "--db", "5")
    assert dst.client(db=0).dbsize() == 0
    assert dst.client(db=5).get(b"db5") == b"in db 5"
    assert dst.client(db=1).dbsize() == 0
    dst.client(db=5).set(b"extra", b"1")
    dst.client(db=7).set(b"kept", b"1")
    dst.stop()
    p = migrate("restore", out, "-d", dst.dir)
    assert p.returncode == 2 and b"--replace" in p.stderr
    migrate("restore", out, "-d", dst.dir, "--replace", "--quiet", check=0)
    dst.start()
    assert dst.client(db=5).get(b"extra") is None     # db 5 was replaced
    assert dst.client(db=7).get(b"kept") == b"1"      # db 7 is not in the dump: kept
    assert dst.client(db=0).dbsize() == src.client(db=0).dbsize()
    # A running server holds the directory: restore refuses and says why.
    p = migrate("restore", out, "-d", dst.dir, "--replace")
    assert p.returncode == 1 and b"stop the lodis-server" in p.stderr


def dir_digest(d):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(d)):
        for f in sorted(files):
            path = os.path.join(root, f)
            h.update(path.encode())
            with open(path, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def test_corrupt_or_truncated_dump_refused(server_factory, tmp_path):
    src = server_factory()
    fill(lambda db: src.client(db=db))
    good = tmp_path / "good.dump"
    migrate("dump", src.dir, "-o", good, "--quiet", check=0)
    data = good.read_bytes()
    cases = {
        "flipped": data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x40])
        + data[len(data) // 2 + 1:],
        "truncated": data[:len(data) - 100],
        "cut-in-half": data[:len(data) // 2],
        "header-only": data[:32],
        "not-a-dump": b"REDIS0009" + b"\x00" * 100,
    }
    existing = server_factory()
    existing.client().set(b"mine", b"untouched")
    existing.stop()
    before = dir_digest(existing.dir)
    for name, blob in cases.items():
        f = tmp_path / (name + ".dump")
        f.write_bytes(blob)
        new_dir = tmp_path / ("new-" + name)
        p = migrate("restore", f, "-d", new_dir)
        assert p.returncode == 1, (name, p.stderr)
        assert b"was not changed" in p.stderr, (name, p.stderr)
        assert not new_dir.exists(), name
        assert not [x for x in os.listdir(tmp_path) if ".restore-" in x], name
        p = migrate("restore", f, "-d", existing.dir, "--replace")
        assert p.returncode == 1, (name, p.stderr)
        assert dir_digest(existing.dir) == before, name
    existing.start()
    assert existing.client().get(b"mine") == b"untouched"


def test_dump_consistent_under_multi_exec_writer(server_factory, tmp_path):
    """Transfers between accounts in MULTI/EXEC keep the total constant; each
    dump, taken while they run and while checkpoints happen, must show the
    same total."""
    src = server_factory(extra_args=("--checkpoint-interval", "100"))
    n_acc, total = 50, 50 * 1000
    r = src.client()
    r.mset({b"acc:%d" % i: 1000 for i in range(n_acc)})
    r.hset(b"ledger", mapping={b"acc:%d" % i: 1000 for i in range(n_acc)})
    stop = threading.Event()
    moves = [0]
    errors = []

    def writer():
        w = src.client()
        rnd = random.Random(1)
        try:
            while not stop.is_set():
                a, b = rnd.sample(range(n_acc), 2)
                amt = rnd.randint(1, 50)
                p = w.pipeline(transaction=True)
                p.decrby(b"acc:%d" % a, amt)
                p.incrby(b"acc:%d" % b, amt)
                p.hincrby(b"ledger", b"acc:%d" % a, -amt)
                p.hincrby(b"ledger", b"acc:%d" % b, amt)
                p.set(b"noise:%d" % rnd.randint(0, 5000), b"x" * rnd.randint(1, 300))
                p.execute()
                moves[0] += 1
        except Exception as e:  # reported below
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    dumps = []
    try:
        for i in range(3):
            time.sleep(0.4)
            f = tmp_path / ("live%d.dump" % i)
            migrate("dump", src.dir, "-o", f, "--quiet", check=0)
            dumps.append(f)
    finally:
        stop.set()
        t.join()
    assert not errors, errors
    assert moves[0] > 50
    for f in dumps:
        dst = restore_and_start(server_factory, f)
        c = dst.client()
        vals = c.mget([b"acc:%d" % i for i in range(n_acc)])
        assert sum(int(v) for v in vals) == total, f
        ledger = c.hgetall(b"ledger")
        assert sum(int(v) for v in ledger.values()) == total, f
        # The string and hash views come from the same instant.
        assert {b"acc:%d" % i: int(v) for i, v in enumerate(vals)} == \
            {k: int(v) for k, v in ledger.items()}, f
        migrate("check", dst.dir, check=0)
        dst.stop()


def test_check_clean_and_damaged(server_factory):
    s = server_factory()
    fill(lambda db: s.client(db=db))
    r = s.client()
    r.delete(b"bighash")                     # its members wait in the trash: not orphans
    p = migrate("check", s.dir, check=0)     # live directory
    assert b"clean" in p.stdout
    s.stop()
    migrate("check", s.dir, check=0)
    subprocess.run([DAMAGE, s.dir, "count", "hash"], check=True)
    p = migrate("check", s.dir, check=1)
    assert b"key 'hash' (hash): meta count" in p.stdout
    subprocess.run([DAMAGE, s.dir, "orphan"], check=True)
    subprocess.run([DAMAGE, s.dir, "expires"], check=True)
    p = migrate("check", s.dir, check=1)
    assert b"orphans" in p.stdout
    assert b"'ghost': no such key" in p.stdout
    assert b"3 problems found" in p.stdout


def test_check_and_dump_cannot_run(tmp_path):
    p = migrate("check", tmp_path / "nowhere", check=2)
    assert b"data.mdb" in p.stderr
    p = migrate("dump", tmp_path / "nowhere", "-o", tmp_path / "x.dump", check=2)
    assert not (tmp_path / "x.dump").exists()


def test_dump_interrupted_leaves_no_file(server_factory, tmp_path):
    s = server_factory()
    r = s.client()
    r.mset({b"k:%d" % i: b"v" * 100 for i in range(5000)})
    out = tmp_path / "big.dump"
    # --limit-rate makes the dump take ~10 s, so the signal lands mid-way.
    proc = subprocess.Popen([MIGRATE, "dump", s.dir, "-o", str(out), "--limit-rate", "500"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + scaled(10)
    while not (tmp_path / "big.dump.tmp").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "big.dump.tmp").exists()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=scaled(60))
    assert proc.returncode == 1, err
    assert b"interrupted" in err
    assert b"keys/s" in err     # plain progress lines (stderr is not a terminal)
    assert not out.exists() and not (tmp_path / "big.dump.tmp").exists()


def test_cli_help_and_errors():
    p = migrate("--help", check=0)
    for sub in (b"dump", b"restore", b"check"):
        assert sub in p.stdout
    for sub in ("dump", "restore", "check"):
        p = migrate(sub, "--help", check=0)
        assert p.stdout.startswith(b"Usage: lodis-migrate " + sub.encode())
    assert migrate("--version", check=0).stdout.startswith(b"lodis-migrate ")
    p = migrate("frobnicate", check=2)
    assert b"unknown subcommand" in p.stderr
    p = migrate("dump", check=2)
    assert b"Usage" in p.stderr


def test_restore_replace_interrupted_or_failed_changes_nothing(server_factory, tmp_path):
    """restore --replace works on a staged copy swapped in atomically: Ctrl-C in
    the middle of the load leaves the existing store exactly as it was."""
    src = server_factory()
    src.client().execute_command("DEBUG", "POPULATE", 300000, "big:", 50)
    src.client(db=3).hset("h", mapping={"f%d" % i: i for i in range(5000)})
    out = tmp_path / "big.dump"
    migrate("dump", src.dir, "-o", out, "--quiet", check=0)
    existing = server_factory()
    existing.client().set(b"mine", b"untouched")
    existing.client(db=3).set(b"other", b"db3")
    existing.stop()
    parent = os.path.dirname(existing.dir)
    p = subprocess.Popen([MIGRATE, "restore", str(out), "-d", existing.dir, "--replace"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # interrupt once the load into the staged copy runs
    deadline = time.monotonic() + scaled(30)
    while not any(".restore-" in x for x in os.listdir(parent)) and p.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.3)
    assert p.poll() is None, "the restore finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=scaled(60))
    assert p.returncode == 1 and b"interrupted" in err and b"was not changed" in err, err
    assert not [x for x in os.listdir(parent) if ".restore-" in x]
    # (the store was opened, so its log files may differ byte for byte; its data may not)
    existing.start()
    assert existing.client().get(b"mine") == b"untouched" and existing.client().dbsize() == 1
    assert existing.client(db=3).dbsize() == 1
    existing.stop()
    # completed: replaced, and nothing left beside it
    migrate("restore", out, "-d", existing.dir, "--replace", "--db", "0", "--quiet", check=0)
    assert not [x for x in os.listdir(parent) if ".restore-" in x]
    existing.start()
    c = existing.client()
    assert c.get(b"mine") is None and c.dbsize() == 300000
    assert existing.client(db=3).get(b"other") == b"db3"   # not restored: kept
    migrate("check", existing.dir, check=0)
