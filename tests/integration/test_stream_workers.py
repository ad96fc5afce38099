"""Consumer-group workers as applications write them, with redis-py and with
ioredis (ioredis_stream.cjs): two consumers share a group's work; one is
killed mid-work (its connection closes with entries read and not acked);
the other finishes its own share, then takes over the dead one's entries
with XCLAIM (after looking them up with XPENDING ... consumer) and
XAUTOCLAIM, including entries deleted meanwhile, which XAUTOCLAIM reports
and drops from the PEL. In the end every entry still in the stream was
processed and acknowledged exactly once (XACK answered 1 once per entry)."""

import os
import shutil
import subprocess
import threading
import time

import pytest

from lodis_testlib import scaled
from test_ioredis import node_env

HERE = os.path.dirname(os.path.abspath(__file__))
N = 300


def fill(r, key):
    r.xgroup_create(key, b"workers", id=b"$", mkstream=True)
    p = r.pipeline(transaction=False)
    for i in range(N):
        p.xadd(key, {b"job": str(i).encode(), b"payload": b"x" * (i % 50)})
    return p.execute()


class Ledger:
    """What the workers did: entry id -> number of successful XACKs, and who."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}
        self.by = {}

    def ack(self, r, key, name, eid):
        n = r.xack(key, b"workers", eid)
        with self.lock:
            self.acked[eid] = self.acked.get(eid, 0) + n
            if n:
                self.by[eid] = name


def test_workers_one_killed_other_claims(server):
    r = server.client()
    key = b"jobs"
    ids = fill(r, key)
    ledger = Ledger()

    # worker A: processes 40 entries, then reads 10 more and dies without acking
    a = server.client()
    done_a = 0
    while done_a < 40:
        got = a.xreadgroup(b"workers", b"A", {key: b">"}, count=5)
        for eid, fields in got[0][1]:
            assert fields[b"job"] == str(ids.index(eid)).encode()
            ledger.ack(a, key, b"A", eid)
            done_a += 1
    orphans = [eid for eid, _ in a.xreadgroup(b"workers", b"A", {key: b">"}, count=10)[0][1]]
    a.connection_pool.disconnect()          # killed: the connection just goes away

    # worker B, concurrently with a writer deleting two of A's orphans
    def worker_b():
        b = server.client()
        while True:
            got = b.xreadgroup(b"workers", b"B", {key: b">"}, count=7, block=200)
            if not got:
                break
            for eid, _fields in got[0][1]:
                ledger.ack(b, key, b"B", eid)
        b.close()

    tb = threading.Thread(target=worker_b)
    tb.start()
    r.xdel(key, orphans[3], orphans[7])
    tb.join(scaled(60))
    assert not tb.is_alive()

    summary = r.xpending(key, b"workers")
    assert summary["pending"] == 10
    assert summary["consumers"] == [{"name": b"A", "pending": 10}]
    # B looks A's entries up and claims the first three by hand ...
    time.sleep(0.12)
    rows = r.xpending_range(key, b"workers", min=b"-", max=b"+", count=100, consumername=b"A",
                            idle=100)
    assert [x["message_id"] for x in rows] == orphans
    assert all(x["times_delivered"] == 1 for x in rows)
    b = server.client()
    claimed = b.xclaim(key, b"workers", b"B", 100, orphans[:3])
    assert [e[0] for e in claimed] == orphans[:3]
    for eid, _ in claimed:
        ledger.ack(b, key, b"B", eid)
    # ... and the rest with XAUTOCLAIM, a few at a time, deleted ones reported
    cursor, deleted_seen, auto = b"0-0", [], []
    while True:
        cursor, got, deleted = b.execute_command("XAUTOCLAIM", key, b"workers", b"B", 100, cursor,
                                                 "COUNT", 3)
        deleted_seen += deleted
        for eid, fields in got:
            assert fields is not None
            auto.append(eid)
        # the claimed entries were delivered twice by now
        if got:
            rows = b.xpending_range(key, b"workers", min=got[0][0], max=got[-1][0], count=10)
            assert all(x["times_delivered"] == 2 and x["consumer"] == b"B" for x in rows)
        for eid, _ in got:
            ledger.ack(b, key, b"B", eid)
        if cursor == b"0-0":
            break
    assert sorted(deleted_seen) == sorted([orphans[3], orphans[7]])
    assert auto == [e for e in orphans[3:] if e not in deleted_seen]

    # every surviving entry processed and acknowledged exactly once
    survivors = [e for e in ids if e not in deleted_seen]
    assert r.xlen(key) == len(survivors)
    assert sorted(ledger.acked) == sorted(survivors)
    assert all(n == 1 for n in ledger.acked.values())
    assert sum(1 for e in survivors if ledger.by[e] == b"A") == 40
    assert r.xpending(key, b"workers")["pending"] == 0
    groups = r.xinfo_groups(key)
    assert groups[0]["pending"] == 0 and groups[0]["lag"] == 0
    assert groups[0]["entries-read"] == N and groups[0]["last-delivered-id"] == ids[-1]
    cons = {c["name"]: c for c in r.xinfo_consumers(key, b"workers")}
    assert cons[b"A"]["pending"] == 0 and cons[b"B"]["pending"] == 0


def test_ioredis_workers(server):
    node = shutil.which("node")
    assert node, "node is not installed (scripts/setup installs it)"
    env, paths = node_env()
    if not any(os.path.isfile(os.path.join(p, "ioredis", "package.json")) for p in paths):
        pytest.skip("ioredis is not installed (run scripts/setup)")
    proc = subprocess.run([node, os.path.join(HERE, "ioredis_stream.cjs"), str(server.port)],
                          env=env, cwd=HERE, capture_output=True, timeout=scaled(90))
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, "ioredis stream workers failed (exit %d):\n%s" % (
        proc.returncode, out)
    assert "stream workers: all checks passed" in out
    # what the node workers left, seen from redis-py
    r = server.client()
    assert r.xpending(b"njobs", b"workers")["pending"] == 0
    assert r.xlen(b"njobs") == 198
    assert r.get(b"njobs:acked") == b"199"      # 198 entries, then one more from MULTI
