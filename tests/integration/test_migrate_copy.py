"""lodis-migrate copy: online copy from a running redis-server (Debian's 7.0,
the `reference` fixture) into a data directory and into a running lodis,
resumption after SIGINT, the errors a user meets, and --follow (replica of
the source) while a writer keeps writing.

Values are compared by type (DUMP payloads may differ across encodings),
TTLs within a tolerance."""

import os
import random
import signal
import subprocess
import threading
import time

import pytest
import redis

from conftest import server_binary
from lodis_testlib import scaled, wait_until
from test_dump import fill, key_value, need
from test_migrate import LIB, MIGRATE, migrate

pytestmark = pytest.mark.lodis_only

TTL_SLACK_MS = 3000


def value(c, key):
    """A key's type and value, comparable across servers and encodings."""
    return key_value(c, key, stream_meta=False)


def compare_all(src, dst, dbs):
    """Every key of every db in dbs: same keys, same values, TTLs within slack."""
    n = 0
    for db in dbs:
        a, b = src(db), dst(db)
        ka, kb = sorted(a.scan_iter(count=1000)), sorted(b.scan_iter(count=1000))
        assert ka == kb, "db %d: keys differ: only in source %r, only in target %r" % (
            db, sorted(set(ka) - set(kb))[:5], sorted(set(kb) - set(ka))[:5])
        for k in ka:
            assert value(a, k) == value(b, k), (db, k)
            ta, tb = a.pttl(k), b.pttl(k)
            if ta < 0 or tb < 0:
                assert ta == tb, (db, k, ta, tb)
            else:
                assert abs(ta - tb) < TTL_SLACK_MS, (db, k, ta, tb)
        n += len(ka)
    return n


def ref_port(reference):
    return reference.connection_pool.connection_kwargs["port"]


def fill_source(reference):
    port = ref_port(reference)
    fill(reference)                       # every type and size class in db 0, TTLs
    reference.function_load(LIB)
    for db in (1, 5, 15):
        r = redis.Redis(port=port, db=db)
        r.set("db%d" % db, "in db %d" % db)
        r.hset("h", mapping={"db": db, "x": "y"})
        r.set("shared", "db %d" % db, ex=1000 + db)
        r.zadd("z", {"a": db, "b": -db})
    return lambda db: redis.Redis(port=port, db=db)


DBS = (0, 1, 5, 15)


def test_copy_into_datadir_and_running_lodis(server_factory, reference):
    need(reference)
    src = fill_source(reference)
    url = "redis://127.0.0.1:%d" % ref_port(reference)
    # into a new data directory
    target = server_factory(start=False)
    p = migrate("copy", "--from", url, "--to", target.dir, check=0)
    assert b"1 function libraries" in p.stderr
    assert not os.path.exists(os.path.join(target.dir, "lodis-migrate-copy.state"))
    migrate("check", target.dir, check=0)
    target.start()
    assert compare_all(src, lambda db: target.client(db=db), DBS) > 40
    assert target.client().fcall("myfunc", 0, "x") == b"hello x"
    # into a running lodis that already holds other keys (kept) and stale
    # versions of copied ones (replaced)
    live = server_factory()
    c = live.client()
    c.set("s:short", "stale")
    c.rpush("l:small", "stale")
    live.client(db=7).set("other", "kept")
    lurl = "lodis://127.0.0.1:%d" % live.port
    migrate("copy", "--from", url, "--to", lurl, "--batch", "7",
            "--state", live.tmp_path / "copy.state", check=0)
    compare_all(src, lambda db: live.client(db=db), DBS)
    assert live.client(db=7).get("other") == b"kept"
    assert live.client().fcall("myfunc", 0, "x") == b"hello x"
    # one database only (/db in the URL)
    one = server_factory()
    migrate("copy", "--from", url + "/5", "--to", "lodis://127.0.0.1:%d" % one.port,
            "--state", one.tmp_path / "one.state", check=0)
    assert one.client(db=5).get("db5") == b"in db 5"
    assert one.client(db=0).dbsize() == 0 and one.client(db=1).dbsize() == 0


def test_copy_resumes_after_sigint(server_factory, reference):
    need(reference)
    port = ref_port(reference)
    src = lambda db: redis.Redis(port=port, db=db)  # noqa: E731
    for db in (0, 2):
        src(db).execute_command("DEBUG", "POPULATE", 20000, "k%d:" % db, 20)
        src(db).hset("hash", mapping={"f%d" % i: i for i in range(100)})
        src(db).set("ttl", "x", px=600000)
    total = src(0).dbsize() + src(2).dbsize()
    target = server_factory(start=False)
    state = os.path.join(target.dir, "lodis-migrate-copy.state")
    cmd = [MIGRATE, "copy", "--from", "redis://127.0.0.1:%d" % port, "--to", target.dir,
           "--batch", "5"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # interrupt once a few batches are saved
    wait_until(lambda: os.path.exists(state) or p.poll() is not None, 30,
               interval=0.002, what="the resume file")
    assert p.poll() is None, "the copy finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=scaled(30))
    assert p.returncode == 1, err
    assert b"interrupted" in err and b"run the same command again" in err
    assert os.path.exists(state)
    saved = open(state).read()
    assert saved.startswith("lodis-migrate copy state 1\nsource 127.0.0.1:%d\n" % port)
    # a rerun continues: it copies fewer keys than the whole, and ends complete
    p2 = migrate(*cmd[1:-1], "200", check=0)      # (the batch size may change)
    assert b"resuming from" in p2.stderr
    copied = int(p2.stderr.split(b"copy: ")[-1].split(b" keys")[0])
    assert 0 < copied < total, p2.stderr
    assert not os.path.exists(state)
    target.start()
    compare_all(src, lambda db: target.client(db=db), (0, 2))
    # a resume file of another source is refused
    open(state, "w").write("lodis-migrate copy state 1\nsource 10.0.0.1:1\ndb 0 cursor 5\n")
    p3 = migrate(*cmd[1:-2], "--to", "lodis://127.0.0.1:%d" % target.port, "--state", state)
    assert p3.returncode == 1 and b"resume file of another copy" in p3.stderr


def test_copy_errors_say_what_to_do(server_factory, reference, tmp_path):
    need(reference)
    port = ref_port(reference)
    reference.set("k", "v")
    d = str(tmp_path / "t")
    # nothing listening
    from conftest import free_port
    p = migrate("copy", "--from", "redis://127.0.0.1:%d" % free_port(), "--to", d)
    assert p.returncode == 1 and b"Connection refused" in p.stderr
    assert b"is the server running" in p.stderr
    # wrong password, a user without DUMP, a user that may not replicate
    reference.execute_command("ACL", "SETUSER", "nodump", "on", ">pw", "~*", "+@all", "-dump")
    reference.execute_command("ACL", "SETUSER", "nosync", "on", ">pw", "~*", "+@all", "-psync")
    p = migrate("copy", "--from", "redis://nodump:wrong@127.0.0.1:%d" % port, "--to", d)
    assert p.returncode == 1 and b"refused the credentials" in p.stderr
    p = migrate("copy", "--from", "redis://nodump:pw@127.0.0.1:%d" % port, "--to", d)
    assert p.returncode == 1 and b"NOPERM" in p.stderr and b"ACL SETUSER nodump +dump" in p.stderr
    p = migrate("copy", "--from", "redis://nosync:pw@127.0.0.1:%d" % port, "--to", d,
                "--follow")
    assert p.returncode == 1 and b"ACL SETUSER nosync +psync" in p.stderr
    # --follow into a DATADIR with no lodis-server to run: said before any load
    nd = str(tmp_path / "never")
    p = migrate("copy", "--from", "redis://127.0.0.1:%d" % port, "--to", nd, "--follow",
                "--server", str(tmp_path / "no-such-server"))
    assert p.returncode == 1 and b"give --server PATH" in p.stderr and not os.path.exists(nd)
    # bad usage
    p = migrate("copy", "--from", "http://x:1", "--to", d)
    assert p.returncode == 2 and b"--from takes redis://" in p.stderr
    p = migrate("copy", "--from", "redis://127.0.0.1:%d/1" % port, "--to", d, "--follow")
    assert p.returncode == 2 and b"--follow replicates every database" in p.stderr
    # a directory a server is using
    live = server_factory()
    p = migrate("copy", "--from", "redis://127.0.0.1:%d" % port, "--to", live.dir)
    assert p.returncode == 1 and b"lodis://host:port instead" in p.stderr
    p = migrate("copy", "--help", check=0)
    assert b"Resumable" in p.stdout and b"--follow" in p.stdout


def writer(port, stop, counts):
    """SET/INCR/HSET/LPUSH/ZADD/EXPIRE/DEL across dbs 0 and 1 until stop."""
    rnd = random.Random(3)
    cs = [redis.Redis(port=port, db=db) for db in (0, 1)]
    n = 0
    while not stop.is_set():
        c = cs[rnd.randrange(2)]
        k = "w:%d" % rnd.randrange(200)
        op = rnd.randrange(8)
        p = c.pipeline(transaction=op == 7)
        if op == 0:
            p.set("s:" + k, rnd.random())
        elif op == 1:
            p.incr("cnt:" + k)
        elif op == 2:
            p.hset("h:" + k, "f%d" % rnd.randrange(20), n)
        elif op == 3:
            p.lpush("l:" + k, n)
        elif op == 4:
            p.zadd("z:" + k, {"m%d" % rnd.randrange(50): rnd.random()})
        elif op == 5:
            p.expire("h:" + k, rnd.randrange(100, 1000))
        elif op == 6:
            p.delete("l:" + k)
        else:
            p.incr("cnt:multi")
            p.set("s:multi", n, px=500000)
        p.execute()
        n += 1
    counts.append(n)


def online(reference):
    s = reference.info("replication").get("slave0")
    return s is not None and s["state"] == "online" and s["offset"] > 0


def in_sync(reference):
    info = reference.info("replication")
    s = info.get("slave0")
    return s is not None and s["state"] == "online" and s["offset"] == info["master_repl_offset"]


@pytest.mark.parametrize("target_kind,diskless", [("lodis", "yes"), ("datadir", "no")])
def test_copy_follow_with_a_live_writer(server_factory, reference, target_kind, diskless):
    need(reference)
    port = ref_port(reference)
    # the two ways Redis sends the snapshot: $EOF:<mark> (diskless) and $<len>
    reference.config_set("repl-diskless-sync", diskless)
    reference.config_set("repl-diskless-sync-delay", 0)
    src = fill_source(reference)
    stop, counts = threading.Event(), []
    w = threading.Thread(target=writer, args=(port, stop, counts))
    w.start()
    try:
        if target_kind == "lodis":
            target = server_factory()
            to = "lodis://127.0.0.1:%d" % target.port
        else:
            target = server_factory(start=False)
            to = target.dir
        log = open(os.path.join(str(target.tmp_path), "follow-%s.log" % target_kind), "wb+")
        extra = [] if target_kind == "datadir" else [  # (default: the current directory)
            "--state", os.path.join(str(target.tmp_path), "follow.state")]
        f = subprocess.Popen([MIGRATE, "copy", "--from", "redis://127.0.0.1:%d" % port,
                              "--to", to, "--follow", "--server", server_binary()] + extra,
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: online(reference) or f.poll() is not None, 60,
                       what="the follower online")
            assert f.poll() is None
            time.sleep(scaled(2))          # the writer keeps going while we follow
        finally:
            stop.set()
            w.join()
        assert counts and counts[0] > 100
        wait_until(lambda: in_sync(reference) or f.poll() is not None, 30,
                   what="the follower's offset to reach the source's")
        assert f.poll() is None
        if target_kind == "lodis":
            compare_all(src, lambda db: target.client(db=db), DBS)
        f.send_signal(signal.SIGINT if target_kind == "lodis" else signal.SIGTERM)
        assert f.wait(scaled(60)) == 0
        log.seek(0)
        out = log.read()
        assert b"stopped following at offset %d" % reference.info("replication")[
            "master_repl_offset"] in out, out
        assert b", 0 refused" in out
        if target_kind == "datadir":
            assert b"follow-server.log" not in out
            target.start()
            compare_all(src, lambda db: target.client(db=db), DBS)
            migrate("check", target.dir, check=0)
        assert target.client().fcall("myfunc", 0, "x") == b"hello x"
        assert target.client().get("cnt:multi") == src(0).get("cnt:multi") or \
            target.client(db=1).get("cnt:multi") == src(1).get("cnt:multi")
        # A rerun after a clean stop continues from the stopped offset (PSYNC
        # replid offset -> +CONTINUE): no second full load, writes made in
        # between arrive, nothing is applied twice (INCR and LPUSH would show).
        if target_kind == "datadir":
            assert os.path.exists(os.path.join(target.dir, "lodis-migrate-follow.state"))
            target.stop()
        src(0).incr("cnt:again")
        src(1).lpush("l:again", 1, 2, 3)
        src(0).delete("s:short")
        src(0).hset("h:small", "new", "field")
        f = subprocess.Popen(f.args, stdout=log, stderr=subprocess.STDOUT)
        log_end = log.tell()
        wait_until(lambda: in_sync(reference) or f.poll() is not None, 30,
                   what="the second run in sync")
        assert f.poll() is None
        f.send_signal(signal.SIGINT)
        assert f.wait(scaled(60)) == 0
        log.seek(log_end)
        out = log.read()
        assert b"continuing where the last run stopped" in out, out
        assert b"loading the snapshot" not in out, out
        if target_kind == "datadir":
            target.start()
        compare_all(src, lambda db: target.client(db=db), DBS)
        assert target.client().get("cnt:again") == b"1"
        assert target.client(db=1).lrange("l:again", 0, -1) == [b"3", b"2", b"1"]
    finally:
        stop.set()
