"""Node's ioredis against the server (ioredis_smoke.cjs does the checks).

ioredis is installed into tests/integration/node_modules by scripts/setup;
the test skips (with the reason) only when it cannot be found there or on an
extra NODE_PATH given in the environment."""

import os
import shutil
import subprocess

import pytest

from lodis_testlib import scaled

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "ioredis_smoke.cjs")
COLLECTIONS = os.path.join(HERE, "ioredis_collections.cjs")
NODE_MODULES = os.path.join(HERE, "node_modules")


def node_env():
    env = dict(os.environ)
    paths = [NODE_MODULES] + [p for p in env.get("NODE_PATH", "").split(os.pathsep) if p]
    env["NODE_PATH"] = os.pathsep.join(paths)
    return env, paths


def run_node(script, server):
    """Run one ioredis script against server; returns its output."""
    node = shutil.which("node")
    assert node, "node is not installed (scripts/setup installs it)"
    env, paths = node_env()
    if not any(os.path.isfile(os.path.join(p, "ioredis", "package.json")) for p in paths):
        pytest.skip("ioredis is not installed in %s (run scripts/setup)" % NODE_MODULES)
    proc = subprocess.run([node, script, str(server.port)], env=env, cwd=HERE,
                          capture_output=True, timeout=scaled(90))
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, "%s failed (exit %d):\n%s" % (
        os.path.basename(script), proc.returncode, out)
    assert "checks passed" in out
    return out


def test_ioredis_smoke(server):
    run_node(SCRIPT, server)
    # what ioredis wrote is visible to redis-py
    r = server.client()
    assert r.get(b"ioredis:done") == b"yes"
    assert r.get(b"pipe:999") == b"v999"
    assert r.get(b"ctr") == b"41"
    assert r.get(b"utf8") == "żółć ✓ 日本".encode()
    assert r.get(b"k\x00\xff\n") == bytes([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0, 0x80, 0x7f, 0])
    assert server.client(3).get(b"only-in-3") == b"yes"


def test_ioredis_collections(server):
    """Hashes, lists, sets, sorted sets, HLL, geo and SORT through ioredis,
    with blocking pops served across two connections."""
    run_node(COLLECTIONS, server)
    r = server.client()
    assert r.get(b"ioredis:collections") == b"done"
    assert r.lrange(b"working", 0, -1) == [b"mail"]
    assert r.hget(b"user:1", b"visits") == b"42"
