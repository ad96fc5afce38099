"""Keyspace notifications (notify-keyspace-events): CONFIG SET/GET of the
class string, and the keyspace/keyevent messages published for string,
generic, expiry and hash commands. When /usr/bin/redis-server exists, the
same script also runs against it (own free port) and the event sequences must
match exactly."""

import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

from lodis_testlib import scaled, wait_until

REDIS = shutil.which("redis-server")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def reference(tmp_path):
    """A redis-server started here (by PID), or None when not installed."""
    if not REDIS:
        yield None
        return
    port = _free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli = redis.Redis(port=port)
    try:
        wait_until(lambda: _ping(cli), scaled(10), what="reference redis-server")
        yield cli
    finally:
        proc.terminate()
        proc.wait(10)


def _ping(cli):
    try:
        return cli.ping()
    except redis.ConnectionError:
        return False


CONFIG_CASES = ["KEA", "g$lshzxetd", "Ed", "KEAmn", "tedxzhsl$g", "nA", "mnKEgd", "Kn", ""]


def config_script(r):
    out = []
    for v in CONFIG_CASES + ["Kq"]:
        try:
            out.append(r.config_set("notify-keyspace-events", v))
        except redis.ResponseError as e:
            out.append(str(e))
        out.append(r.config_get("notify-keyspace-events")["notify-keyspace-events"])
    return out


def test_config_canonical(r):
    got = config_script(r)
    assert got[:2] == [True, "AKE"]
    assert got[-2] == ("CONFIG SET failed (possibly related to argument "
                       "'notify-keyspace-events') - Invalid event class character. "
                       "Use 'Ag$lshzxeKEtmdn'.")
    assert got[-1] == ""  # unchanged by the failed set


def test_config_matches_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    reference = redis.Redis(port=reference.connection_pool.connection_kwargs["port"],
                            decode_responses=True)
    assert config_script(r) == config_script(reference)


def event_script(cli):
    """Run the commands and return the (channel, data) messages seen."""
    cli.flushall()
    cli.config_set("notify-keyspace-events", "KEA")
    sub = cli.pubsub()
    sub.psubscribe("__key*__:*")
    assert sub.get_message(timeout=scaled(2))["type"] == "psubscribe"
    cli.set("s", "1")
    cli.set("s2", "v", ex=100)
    cli.incrby("s", 5)
    cli.incrbyfloat("s", 1.5)
    cli.append("s2", "x")
    cli.setrange("s2", 0, "ab")
    cli.mset({"m1": "a", "m2": "b"})
    cli.expire("s", 100)
    cli.persist("s")
    cli.getdel("m1")
    cli.delete("m2", "nosuch")
    cli.rename("s", "s3")
    cli.copy("s3", "s4")
    cli.move("s4", 1)
    cli.expire("s3", 0)
    cli.set("px", "v", px=100)
    cli.hset("h", mapping={"a": "1", "b": "2"})
    cli.hincrby("h", "a", 2)
    cli.hincrbyfloat("h", "a", 0.5)
    cli.hdel("h", "a")
    cli.hdel("h", "b")
    cli.lpush("l", "a", "b")
    cli.rpush("l", "c")
    cli.lpushx("nol", "a")
    msgs = []
    deadline = time.time() + scaled(3)
    # Collect until the active sweep's "expired" for px has arrived.
    while time.time() < deadline:
        m = sub.get_message(timeout=0.1)
        if m is None:
            continue
        msgs.append((m["channel"], m["data"]))
        if msgs[-1] == (b"__keyevent@0__:expired", b"px"):
            break
    sub.close()
    cli.config_set("notify-keyspace-events", "")
    return msgs


def test_events(r):
    r = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    msgs = event_script(r)
    assert msgs[:4] == [(b"__keyspace@0__:s", b"set"), (b"__keyevent@0__:set", b"s"),
                        (b"__keyspace@0__:s2", b"set"), (b"__keyevent@0__:set", b"s2")]
    assert (b"__keyspace@0__:px", b"expired") in msgs
    assert (b"__keyevent@0__:expired", b"px") in msgs
    assert (b"__keyspace@1__:s4", b"move_to") in msgs


def test_events_match_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    mine = event_script(redis.Redis(port=r.connection_pool.connection_kwargs["port"]))
    ref = event_script(reference)
    assert mine == ref
