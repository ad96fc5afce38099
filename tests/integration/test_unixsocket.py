"""unixsocket / unixsocketperm: the same listener, addresses and flags as
Debian's redis-server, checked side by side.

Before this file the directives were accepted and did nothing."""

import os
import stat
import subprocess

import redis

REDIS = "/usr/bin/redis-server"


def _start(server_factory, tmp_path, name, binary_path=None):
    path = str(tmp_path / (name + ".sock"))
    s = server_factory(extra_args=["--unixsocket", path, "--unixsocketperm", "700"],
                       binary_path=binary_path)
    return s, path


def _facts(path):
    r = redis.Redis(unix_socket_path=path, decode_responses=True)
    assert r.ping() is True
    r.set("k", "v")
    assert r.get("k") == "v"
    info = dict(kv.split("=", 1) for kv in r.execute_command("CLIENT", "INFO").split())
    perm = r.config_get("unixsocketperm")["unixsocketperm"]
    sock = r.config_get("unixsocket")["unixsocket"]
    r.close()
    return {
        "addr": info["addr"].replace(path, "PATH"),
        "laddr": info["laddr"].replace(path, "PATH"),
        "flags": info["flags"],
        "perm": perm,
        "unixsocket": sock.replace(path, "PATH"),
        "mode": oct(stat.S_IMODE(os.stat(path).st_mode)),
    }


def test_unixsocket_serves_like_redis(server_factory, tmp_path):
    lodis, lpath = _start(server_factory, tmp_path, "lodis")
    ref, rpath = _start(server_factory, tmp_path, "redis", binary_path=REDIS)
    got, want = _facts(lpath), _facts(rpath)
    assert got == want
    assert got["addr"] == "PATH:0" and "U" in got["flags"] and got["mode"] == "0o700"
    # redis-cli's -s talks to it too.
    out = subprocess.run(["redis-cli", "-s", lpath, "get", "k"], capture_output=True,
                         text=True, timeout=10)
    assert out.stdout.strip() == "v"
    # TCP keeps working beside it.
    assert lodis.client().get("k") == b"v"


def test_unixsocket_file_replaced_at_start_and_removed_at_shutdown(server_factory, tmp_path):
    path = str(tmp_path / "stale.sock")
    with open(path, "w") as f:  # a stale file left by an earlier run
        f.write("")
    s = server_factory(extra_args=["--unixsocket", path])
    r = redis.Redis(unix_socket_path=path)
    assert r.ping() is True
    r.close()
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    s.stop()
    assert not os.path.exists(path)
