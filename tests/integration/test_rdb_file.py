"""Whole RDB files with lodis-migrate import-rdb / export-rdb, against the
reference redis-server: (a) Redis SAVEs every type and size class in
several databases with TTLs and a function library, import-rdb loads the
file, and a lodis-server started on the result equals Redis key by key;
(b) export-rdb writes a live lodis data directory, a redis-server started
on that file equals lodis key by key. Damaged files are refused and leave
no target directory behind."""

import os
import shutil
import subprocess
import time

import pytest
import redis

from conftest import free_port as _free_port
from conftest import server_binary
from lodis_testlib import scaled, wait_until
from test_dump import fill, need, snapshot
from test_migrate import LIB, migrate

REDIS = shutil.which("redis-server")

pytestmark = pytest.mark.lodis_only


def fill_dbs(c_factory):
    keys = fill(c_factory(0))
    c_factory(0).function_load(LIB)
    c3 = c_factory(3)
    c3.set("in-db3", "x")
    c3.hset("h3", mapping={"a": "1"})
    c3.pexpire("h3", 500000)
    c_factory(0).set("gone", "soon", px=1)  # expired by the time it is loaded
    time.sleep(0.01)
    return keys


def compare(a, b, keys):
    for k in keys:
        assert snapshot(a(0), k) == snapshot(b(0), k), k
    assert sorted(a(0).keys()) == sorted(b(0).keys())
    assert a(3).get("in-db3") == b(3).get("in-db3") == b"x"
    assert abs(a(3).pexpiretime("h3") - b(3).pexpiretime("h3")) < 1000
    assert abs(a(0).pexpiretime("x:small") - b(0).pexpiretime("x:small")) < 1000
    assert functions(a(0)) == functions(b(0))


def functions(c):
    """FUNCTION LIST with each library's functions in name order (Redis's
    own order is its dict's)."""
    out = []
    for lib in c.function_list():
        d = dict(zip(lib[::2], lib[1::2]))
        d[b"functions"] = sorted(map(tuple, d[b"functions"]), key=lambda f: f[1])
        out.append(sorted(d.items(), key=lambda kv: kv[0]))
    return out


def test_import_redis_rdb(server_factory, reference, tmp_path):  # noqa: F811
    need(reference)
    port = reference.connection_pool.connection_kwargs["port"]
    keys = fill_dbs(lambda db: redis.Redis(port=port, db=db))
    assert reference.save()
    rdir = reference.config_get("dir")["dir"]
    rdb = os.path.join(rdir, reference.config_get("dbfilename")["dbfilename"])
    target = server_factory(start=False)
    p = migrate("import-rdb", rdb, "-d", target.dir, check=0)
    assert b"RDB version 10" in p.stderr
    target.start()
    compare(lambda db: redis.Redis(port=port, db=db), lambda db: target.client(db=db), keys)
    assert target.client().exists("gone") == 0
    assert target.client().fcall("myfunc", 0, "x") == b"hello x"
    migrate("check", target.dir, check=0)


def test_import_refuses_damaged_file(server_factory, reference, tmp_path):  # noqa: F811
    need(reference)
    reference.set("k", "v" * 1000)
    reference.rpush("l", *range(100))
    assert reference.save()
    rdir = reference.config_get("dir")["dir"]
    good = open(os.path.join(rdir, "dump.rdb"), "rb").read()
    for i, bad in enumerate([good[:-1], good[:len(good) // 2],
                             good[:40] + bytes([good[40] ^ 0xff]) + good[41:], b"REDIS0010",
                             b"NOTREDIS", b""]):
        f = tmp_path / ("bad%d.rdb" % i)
        f.write_bytes(bad)
        d = tmp_path / ("target%d" % i)
        p = migrate("import-rdb", f, "-d", d)
        assert p.returncode != 0
        assert b"lodis-migrate: import-rdb" in p.stderr
        assert not d.exists()
        assert not any(x.name.startswith("target%d." % i) for x in tmp_path.iterdir())


def strip_stream_meta(snap):
    """A stream snapshot without what RDB version 9 cannot carry
    (entries-added, max-deleted ID, first ID, groups' entries-read / lag)."""
    t, enc, v = snap
    if t != "stream":
        return snap
    groups = [(g[0], g[1], g[2], g[3], g[6], g[7]) for g in v[6]]
    return t, enc, (v[0], v[1], v[2], groups)


@pytest.mark.parametrize("version", [10, 9])
def test_export_rdb_loads_in_redis(server_factory, tmp_path, version):
    if not REDIS:
        pytest.skip("redis-server not installed")
    src = server_factory()
    keys = fill_dbs(lambda db: src.client(db=db))
    out = tmp_path / "out" / "lodis.rdb"
    out.parent.mkdir()
    p = migrate("export-rdb", src.dir, "-o", out, "--rdb-version", version, check=0)
    assert open(out, "rb").read(9) == b"REDIS%04d" % version
    assert b"keys" in p.stderr and out.exists()
    assert not any(x.name.startswith("lodis.rdb.tmp") for x in out.parent.iterdir())
    port = _free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(out.parent), "--dbfilename", "lodis.rdb"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ref = redis.Redis(port=port)

        def up():
            try:
                return ref.ping() and ref.info("persistence")["loading"] == 0
            except redis.ConnectionError:
                return False
        wait_until(up, scaled(20), what="redis-server loading the exported RDB")
        if version == 10:
            compare(lambda db: src.client(db=db), lambda db: redis.Redis(port=port, db=db), keys)
            assert ref.fcall("myfunc", 0, "x") == b"hello x"
            return
        assert b"function libraries not written" in p.stderr
        assert ref.function_list() == []
        for k in keys:
            assert strip_stream_meta(snapshot(src.client(), k)) == \
                strip_stream_meta(snapshot(ref, k)), k
        assert sorted(src.client().keys()) == sorted(ref.keys())
        assert ref.pttl("x:small") > 0 and redis.Redis(port=port, db=3).get("in-db3") == b"x"
    finally:
        proc.terminate()
        proc.wait(10)


def test_export_then_import_is_identity(server_factory, tmp_path):
    src = server_factory()
    keys = fill_dbs(lambda db: src.client(db=db))
    out = tmp_path / "x.rdb"
    migrate("export-rdb", src.dir, "-o", out, check=0)
    dst = server_factory(start=False)
    migrate("import-rdb", out, "-d", dst.dir, check=0)
    dst.start()
    compare(lambda db: src.client(db=db), lambda db: dst.client(db=db), keys)
    # importing again into the existing store: keys exist
    dst.stop()
    p = migrate("import-rdb", out, "-d", dst.dir)
    assert p.returncode == 1 and b"already exists" in p.stderr
    migrate("import-rdb", out, "-d", dst.dir, "--replace", check=0)
