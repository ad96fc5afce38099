"""SAVE and BGSAVE snapshots: a compacted copy of the store in
dir/dbfilename that is itself a data directory, taken while writes go on,
consistent (one point in time) and replaced atomically."""

import os
import shutil
import threading
import time

import pytest
import redis

from lodis_testlib import scaled

pytestmark = pytest.mark.lodis_only


def wait_bgsave(r):
    deadline = time.time() + scaled(30)
    while r.info("persistence")["rdb_bgsave_in_progress"]:
        assert time.time() < deadline, "BGSAVE did not finish"
        time.sleep(0.02)


def open_copy(server_factory, server, tmp_path, name):
    """Start a second server on a copy of the snapshot directory."""
    snap = os.path.join(server.dir, "dump.lmdb")
    assert os.path.isfile(os.path.join(snap, "data.mdb"))
    other = server_factory(start=False)
    shutil.rmtree(other.dir)
    shutil.copytree(snap, other.dir)
    other.start()
    return other


def test_save_snapshot_is_a_data_directory(server_factory, tmp_path):
    s = server_factory()
    r = s.client()
    assert r.config_get("dbfilename") == {"dbfilename": "dump.lmdb"}
    r.mset({"k%d" % i: "v%d" % i for i in range(5000)})
    r.hset("h", mapping={"f%d" % i: i for i in range(3000)})
    r.set("ttl", "x", ex=1000)
    r.select(3)
    r.set("in-db-3", "yes")
    assert r.save() is True
    r.set("after-save", "1")  # not in the snapshot
    other = open_copy(server_factory, s, tmp_path, "copy")
    o = other.client()
    assert o.dbsize() == 5002
    assert o.get("k4999") == b"v4999"
    assert o.hlen("h") == 3000
    assert 0 < o.ttl("ttl") <= 1000
    assert o.get("after-save") is None
    o.select(3)
    assert o.get("in-db-3") == b"yes"


def test_bgsave_under_writes_is_one_point_in_time(server_factory, tmp_path):
    """MULTI/EXEC transfers keep the sum constant; the snapshot, taken while
    they run, must hold a constant sum too."""
    s = server_factory()
    r = s.client()
    r.mset({"acct:%d" % i: 100 for i in range(100)})
    r.mset({"pad:%d" % i: "x" * 200 for i in range(20000)})
    stop = threading.Event()

    def transfers():
        w = s.client()
        i = 0
        while not stop.is_set():
            a, b = "acct:%d" % (i % 100), "acct:%d" % ((i * 7 + 3) % 100)
            p = w.pipeline(transaction=True)
            p.decrby(a, 1)
            p.incrby(b, 1)
            p.execute()
            i += 1

    t = threading.Thread(target=transfers)
    t.start()
    try:
        time.sleep(0.2)
        assert r.bgsave() is True
        try:
            r.bgsave()  # fine if the first one is already over
        except redis.ResponseError as e:
            assert str(e) == "Background save already in progress"
        wait_bgsave(r)
    finally:
        stop.set()
        t.join()
    wait_bgsave(r)
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    other = open_copy(server_factory, s, tmp_path, "copy")
    o = other.client()
    vals = o.mget(["acct:%d" % i for i in range(100)])
    assert all(v is not None for v in vals)
    assert sum(int(v) for v in vals) == 10000
    assert o.get("pad:19999") == b"x" * 200


def test_bgsave_schedule_and_replace(server_factory, tmp_path):
    s = server_factory()
    r = s.client()
    r.set("gen", "1")
    assert r.save()
    r.set("gen", "2")
    assert r.execute_command("BGSAVE", "SCHEDULE")
    wait_bgsave(r)
    # a scheduled one may start at the next cron tick
    time.sleep(scaled(0.3))
    wait_bgsave(r)
    snapdir = os.path.join(s.dir, "dump.lmdb")
    assert sorted(os.listdir(snapdir)) == ["data.mdb"]
    assert not os.path.exists(snapdir + ".tmp") and not os.path.exists(snapdir + ".old")
    other = open_copy(server_factory, s, tmp_path, "copy")
    assert other.client().get("gen") == b"2"
