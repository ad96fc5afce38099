"""redis-cli (from redis-tools) against the server: one-shot commands, --raw /
--no-raw output, -n, --scan --pattern, INFO, commands read from stdin, -x
and --pipe mass insertion."""

import shutil
import subprocess

import pytest

from lodis_testlib import encode_command, scaled

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def cli(server, *args, stdin=b"", check=True):
    proc = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(server.port), *args],
                          input=stdin, capture_output=True, timeout=scaled(30))
    if check:
        assert proc.returncode == 0, "redis-cli %r exited %d: %r %r" % (
            args, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def test_set_get(server):
    assert cli(server, "set", "a", "b") == b"OK\n"
    assert cli(server, "get", "a") == b"b\n"
    assert cli(server, "get", "missing") == b"\n"
    assert cli(server, "--no-raw", "get", "a") == b'"b"\n'
    assert cli(server, "--no-raw", "get", "missing") == b"(nil)\n"
    assert cli(server, "incr", "n") == b"1\n"
    assert cli(server, "--no-raw", "incr", "n") == b"(integer) 2\n"
    assert cli(server, "ping") == b"PONG\n"
    assert server.client().get(b"a") == b"b"
    # errors are printed, not fatal
    # (in non-tty output redis-cli adds an empty line after an error)
    assert cli(server, "incr", "a", check=False) == \
        b"ERR value is not an integer or out of range\n\n"
    assert cli(server, "--no-raw", "incr", "a", check=False) == \
        b"(error) ERR value is not an integer or out of range\n"


def test_raw_and_quoted_output(server):
    r = server.client()
    r.set(b"bin", b"line1\nline2\x00\xff")
    r.set(b"x1", b"x")
    r.set(b"x2", b"y z")
    assert cli(server, "--raw", "get", "bin") == b"line1\nline2\x00\xff\n"
    assert cli(server, "--no-raw", "get", "bin") == b'"line1\\nline2\\x00\\xff"\n'
    assert cli(server, "--raw", "mget", "x1", "x2") == b"x\ny z\n"
    assert cli(server, "--no-raw", "mget", "x1", "x2") == b'1) "x"\n2) "y z"\n'
    assert cli(server, "--raw", "mget", "bin", "nothing") == b"line1\nline2\x00\xff\n\n"
    assert cli(server, "--no-raw", "mget", "x1", "nothing") == b'1) "x"\n2) (nil)\n'


def test_select_db_with_n(server):
    assert cli(server, "-n", "3", "set", "k", "in-three") == b"OK\n"
    assert cli(server, "-n", "3", "get", "k") == b"in-three\n"
    assert cli(server, "get", "k") == b"\n"
    assert cli(server, "-n", "3", "dbsize") == b"1\n"
    assert server.client(3).get(b"k") == b"in-three"
    assert server.client(0).exists(b"k") == 0


def test_scan_with_pattern(server):
    r = server.client()
    users = {b"user:%d" % i for i in range(500)}
    pipe = r.pipeline(transaction=False)
    for k in users:
        pipe.set(k, b"1")
    for i in range(300):
        pipe.set(b"order:%d" % i, b"1")
    pipe.set(b"user with space", b"1")
    pipe.execute()
    out = cli(server, "--scan", "--pattern", "user:*")
    lines = out.splitlines()
    assert set(lines) == users
    out = cli(server, "--scan", "--pattern", "user:4?")
    assert set(out.splitlines()) == {b"user:%d" % i for i in range(40, 50)}
    out = cli(server, "--scan")
    assert set(out.splitlines()) == users | {b"order:%d" % i for i in range(300)} | {
        b"user with space"}
    assert cli(server, "--scan", "--pattern", "nomatch*") == b""


def test_info_server_parses(server):
    out = cli(server, "info", "server").decode()
    assert out.startswith("# Server")
    fields = {}
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert ":" in line, "malformed INFO line %r" % line
        k, v = line.split(":", 1)
        fields[k] = v
    assert int(fields["tcp_port"]) == server.port
    assert int(fields["process_id"]) == server.pid
    v = fields["redis_version"].split(".")
    assert len(v) == 3 and all(x.isdigit() for x in v), fields["redis_version"]
    assert int(fields["uptime_in_seconds"]) >= 0
    assert fields["redis_mode"] == "standalone"
    # INFO with no section has several sections, including keyspace
    r = server.client()
    r.set(b"x", b"1")
    full = cli(server, "info").decode()
    for section in ("# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
                    "# Keyspace"):
        assert section in full, "INFO lacks %s" % section
    assert "db0:keys=1,expires=0" in full


def test_commands_from_stdin(server):
    script = (b"SET s1 v1\n"
              b"INCR c\n"
              b"INCR c\n"
              b"GET s1\n"
              b"MGET s1 nokey\n"
              b'SET spaced "a b"\n'
              b"GET spaced\n"
              b"INCR s1\n"
              b"DEL s1 c\n")
    out = cli(server, stdin=script)
    assert out == (b"OK\n1\n2\nv1\nv1\n\nOK\na b\n"
                   b"ERR value is not an integer or out of range\n\n2\n")
    r = server.client()
    assert r.get(b"spaced") == b"a b"
    assert r.exists(b"s1", b"c") == 0


def test_x_reads_last_argument_from_stdin(server):
    payload = b"first line\nsecond\x00line"
    assert cli(server, "-x", "set", "fromstdin", stdin=payload) == b"OK\n"
    assert server.client().get(b"fromstdin") == payload


def test_pipe_mass_insertion(server):
    n = 20000
    data = b"".join(encode_command("SET", "mass:%d" % i, "value %d" % i) for i in range(n))
    data += encode_command("INCRBY", "mass:count", str(n))
    out = cli(server, "--pipe", stdin=data)
    assert b"errors: 0, replies: %d" % (n + 1) in out, out
    r = server.client()
    assert r.dbsize() == n + 1
    assert r.get(b"mass:12345") == b"value 12345"
    assert r.get(b"mass:count") == b"%d" % n


def test_auth_option(server_factory):
    server = server_factory(extra_args=["--requirepass", "pw"])
    out = subprocess.run([REDIS_CLI, "-p", str(server.port), "ping"], capture_output=True,
                         timeout=scaled(30))
    assert out.stdout.strip() == b"NOAUTH Authentication required."
    assert cli(server, "-a", "pw", "--no-auth-warning", "set", "k", "v") == b"OK\n"
    assert cli(server, "--user", "default", "--pass", "pw", "--no-auth-warning", "get", "k") \
        == b"v\n"


@pytest.mark.parametrize("cmd,expected", [
    (["dbsize"], b"0\n"),
    (["exists", "nothing"], b"0\n"),
    (["echo", "hello world"], b"hello world\n"),
    (["type", "nothing"], b"none\n"),
])
def test_simple_replies(server, cmd, expected):
    assert cli(server, *cmd) == expected
