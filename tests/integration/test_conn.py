"""Connection family: PING ECHO QUIT RESET SELECT AUTH HELLO and CLIENT *.

Self-contained: the fixtures here start their own server (no conftest.py
fixture is used) on a free 127.0.0.1 port with a temporary --dir, and stop it
by PID at teardown. The binary is $LODIS_SERVER or build/release/lodis-server;
with LODIS_SERVER=/usr/bin/redis-server the same tests check the reference.
With an ASan build (LODIS_SERVER=build/asan/lodis-server LODIS_TIME_SCALE=3)
a test fails when the server exits non-zero or logs a sanitizer report.

Exact reply bytes (RESP2 and RESP3 types, error texts) are checked through a
raw socket; redis-py is used where only the values matter.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("LODIS_SERVER") or os.path.join(REPO, "build", "release", "lodis-server")
SCALE = float(os.environ.get("LODIS_TIME_SCALE", "1"))
SANITIZER_RE = re.compile(rb"ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, tmp_path, extra):
        self.dir = str(tmp_path)
        self.port = None
        self.proc = None
        self.extra = extra
        self.log = os.path.join(self.dir, "server.log")

    def start(self):
        for _ in range(5):
            self.port = _free_port()
            cmd = [BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
            if os.path.basename(BINARY) == "redis-server":
                cmd += ["--save", "", "--appendonly", "no"]
            cmd += self.extra
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.dir,
                                             start_new_session=True)
            deadline = time.monotonic() + 10 * SCALE
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                        s.sendall(b"PING\r\n")
                        if s.recv(64):
                            return self
                except OSError:
                    time.sleep(0.05)
            self.stop()
        with open(self.log, "rb") as f:
            raise AssertionError("server did not start:\n" + f.read().decode(errors="replace"))

    def stop(self):
        """Stop by PID; returns the exit status (None if it had to be killed)."""
        status = None
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                status = self.proc.wait(20 * SCALE)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        elif self.proc:
            status = self.proc.returncode
        self.proc = None
        return status

    def check_clean_exit(self, status):
        with open(self.log, "rb") as f:
            log = f.read()
        bad = SANITIZER_RE.search(log)
        assert status == 0 and not bad, "server exit %r, log:\n%s" % (
            status, log.decode(errors="replace")[-4000:])

    def client(self, **kw):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10 * SCALE, **kw)

    def raw(self):
        return Raw(self.port)


@pytest.fixture
def srv(tmp_path):
    s = _Server(tmp_path, []).start()
    yield s
    s.check_clean_exit(s.stop())


@pytest.fixture
def srv_pass(tmp_path):
    s = _Server(tmp_path, ["--requirepass", "s3cret"]).start()
    yield s
    s.check_clean_exit(s.stop())


class Raw:
    """A raw connection: send a command, read exactly one reply's bytes."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5 * SCALE)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def reply(self):
        """The next reply's raw bytes."""
        line = self._line()
        t = line[:1]
        if t in b"$=!" and line[1:3] != b"-1":
            return line + self._take(int(line[1:-2]) + 2)
        if t in b"*%~>|" and line[1:3] != b"-1":
            n = int(line[1:-2]) * (2 if t in b"%|" else 1)
            return line + b"".join(self.reply() for _ in range(n))
        return line

    def call(self, *args):
        self.send(*args)
        return self.reply()

    def nothing_pending(self, wait=0.2):
        """True if no bytes arrive within `wait` seconds."""
        if self.buf:
            return False
        self.s.settimeout(wait * SCALE)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return True
        finally:
            self.s.settimeout(5 * SCALE)
        self.buf += d
        return False

    def closed_by_peer(self):
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True


def bulk(s):
    s = s if isinstance(s, bytes) else s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


# ---------------------------------------------------------------------------
# PING ECHO QUIT SELECT


def test_ping_echo(srv):
    r = srv.raw()
    assert r.call("PING") == b"+PONG\r\n"
    assert r.call("PING", "hi there") == bulk("hi there")
    assert r.call("PING", "a", "b") == b"-ERR wrong number of arguments for 'ping' command\r\n"
    assert r.call("ECHO", "x\r\ny") == bulk("x\r\ny")
    assert r.call("ECHO") == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert r.call("HELLO", "3").startswith(b"%7\r\n")
    assert r.call("PING") == b"+PONG\r\n"
    assert r.call("PING", "m") == bulk("m")


def test_quit_closes_after_reply(srv):
    r = srv.raw()
    r.s.sendall(b"PING\r\nQUIT\r\nPING\r\n")
    assert r.reply() == b"+PONG\r\n"
    assert r.reply() == b"+OK\r\n"
    assert r.closed_by_peer()


def test_select_bounds(srv):
    r = srv.raw()
    assert r.call("SELECT", "15") == b"+OK\r\n"
    assert r.call("SELECT", "0") == b"+OK\r\n"
    for bad in ("16", "-1"):
        assert r.call("SELECT", bad) == b"-ERR DB index is out of range\r\n"
    for bad in ("1.5", "01", " 1", "", "abc", "99999999999999999999"):
        assert r.call("SELECT", bad) == b"-ERR value is not an integer or out of range\r\n"
    for bad in ("2147483648", "-2147483649"):
        assert r.call("SELECT", bad) == (b"-ERR value is out of range, value must between "
                                         b"-2147483648 and 2147483647\r\n")
    # the selected db is per connection
    c = srv.client(db=3)
    c.set("k", "in3")
    assert srv.client().get("k") is None
    assert srv.client(db=3).get("k") == b"in3"


# ---------------------------------------------------------------------------
# AUTH HELLO

WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
HELLO_NOAUTH = (b"-NOAUTH HELLO must be called with the client already authenticated, otherwise "
                b"the HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                b"select the RESP protocol version at the same time\r\n")


def test_auth_without_password(srv):
    r = srv.raw()
    assert r.call("AUTH", "x") == (
        b"-ERR AUTH <password> called without any password configured for the default user. "
        b"Are you sure your configuration is correct?\r\n")
    assert r.call("AUTH", "default", "anything") == b"+OK\r\n"
    assert r.call("AUTH", "bob", "x") == WRONGPASS
    assert r.call("AUTH", "a", "b", "c") == b"-ERR syntax error\r\n"
    assert r.call("PING") == b"+PONG\r\n"


def test_auth_with_requirepass(srv_pass):
    r = srv_pass.raw()
    assert r.call("PING") == b"-NOAUTH Authentication required.\r\n"
    assert r.call("GET", "k") == b"-NOAUTH Authentication required.\r\n"
    assert r.call("AUTH", "wrong") == WRONGPASS
    assert r.call("AUTH", "default", "s3cre") == WRONGPASS
    assert r.call("AUTH", "DEFAULT", "s3cret") == WRONGPASS  # user names are case-sensitive
    assert r.call("PING") == b"-NOAUTH Authentication required.\r\n"
    assert r.call("AUTH", "s3cret") == b"+OK\r\n"
    assert r.call("PING") == b"+PONG\r\n"
    # a failed AUTH does not log an authenticated client out
    assert r.call("AUTH", "nope") == WRONGPASS
    assert r.call("PING") == b"+PONG\r\n"
    r2 = srv_pass.raw()
    assert r2.call("AUTH", "default", "s3cret") == b"+OK\r\n"
    assert r2.call("PING") == b"+PONG\r\n"
    # redis-py with a password works end to end
    c = srv_pass.client(password="s3cret")
    c.set("a", "1")
    assert c.get("a") == b"1"
    with pytest.raises((redis.AuthenticationError, redis.ResponseError), match="WRONGPASS"):
        srv_pass.client(password="bad").ping()


def test_hello_with_requirepass(srv_pass):
    r = srv_pass.raw()
    assert r.call("HELLO") == HELLO_NOAUTH
    assert r.call("HELLO", "3") == HELLO_NOAUTH
    # the name is set even though the reply is NOAUTH (Redis 7.0 order)
    assert r.call("HELLO", "3", "SETNAME", "early") == HELLO_NOAUTH
    assert r.call("HELLO", "3", "AUTH", "default", "bad") == WRONGPASS
    rep = r.call("HELLO", "3", "AUTH", "default", "s3cret")
    assert rep.startswith(b"%7\r\n") and b"$5\r\nproto\r\n:3\r\n" in rep
    assert r.call("CLIENT", "GETNAME") == bulk("early")
    # authentication happens before the name check
    r2 = srv_pass.raw()
    assert r2.call("HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "a b") == (
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
    assert r2.call("PING") == b"+PONG\r\n"


def _hello_body(proto, cid):
    pairs = [bulk("server"), bulk("redis"), bulk("version"), bulk("7.0.15"),
             bulk("proto"), b":%d\r\n" % proto, bulk("id"), b":%d\r\n" % cid,
             bulk("mode"), bulk("standalone"), bulk("role"), bulk("master"),
             bulk("modules"), b"*0\r\n"]
    return b"".join(pairs)


def test_hello3_map(srv):
    r = srv.raw()
    cid = int(r.call("CLIENT", "ID")[1:-2])
    assert r.call("HELLO") == b"*14\r\n" + _hello_body(2, cid)
    assert r.call("HELLO", "3") == b"%7\r\n" + _hello_body(3, cid)
    # now in RESP3: null and verbatim types
    assert r.call("CLIENT", "GETNAME") == b"_\r\n"
    assert r.call("CLIENT", "INFO").startswith(b"=")
    assert r.call("HELLO", "2") == b"*14\r\n" + _hello_body(2, cid)
    assert r.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert r.call("HELLO", "3", "AUTH", "default", "x", "SETNAME", "nm") == (
        b"%7\r\n" + _hello_body(3, cid))
    assert r.call("CLIENT", "GETNAME") == bulk("nm")
    assert r.call("HELLO", "3", "SETNAME", "a", "SETNAME", "b").startswith(b"%7")
    assert r.call("CLIENT", "GETNAME") == bulk("b")


def test_hello_errors(srv):
    r = srv.raw()
    assert r.call("HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
    assert r.call("HELLO", "4", "x") == b"-NOPROTO unsupported protocol version\r\n"
    assert r.call("HELLO", "abc") == (
        b"-ERR Protocol version is not an integer or out of range\r\n")
    assert r.call("HELLO", "3", "AUTH") == b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    assert r.call("HELLO", "3", "AUTH", "u") == b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    assert r.call("HELLO", "3", "setname") == b"-ERR Syntax error in HELLO option 'setname'\r\n"
    assert r.call("HELLO", "3", "foo") == b"-ERR Syntax error in HELLO option 'foo'\r\n"
    assert r.call("HELLO", "3", "AUTH", "bob", "x") == WRONGPASS
    assert r.call("HELLO", "3", "SETNAME", "a b") == (
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
    # nothing above switched the protocol
    assert r.call("CLIENT", "GETNAME") == b"$-1\r\n"


# ---------------------------------------------------------------------------
# CLIENT


def test_client_setname_getname_id(srv):
    r = srv.raw()
    assert r.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert r.call("CLIENT", "SETNAME", "worker-1") == b"+OK\r\n"
    assert r.call("CLIENT", "GETNAME") == bulk("worker-1")
    bad = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    for name in ("a b", "a\nb", "\xe9", "\x7f"):
        assert r.call("CLIENT", "SETNAME", name) == bad
    assert r.call("CLIENT", "GETNAME") == bulk("worker-1")
    assert r.call("CLIENT", "SETNAME", "") == b"+OK\r\n"
    assert r.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert r.call("CLIENT", "SETNAME") == (
        b"-ERR wrong number of arguments for 'client|setname' command\r\n")
    assert r.call("CLIENT") == b"-ERR wrong number of arguments for 'client' command\r\n"
    assert r.call("CLIENT", "nosuch") == b"-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n"
    ida = int(r.call("CLIENT", "ID")[1:-2])
    idb = int(srv.raw().call("CLIENT", "ID")[1:-2])
    assert ida > 0 and idb > ida
    assert r.call("CLIENT", "ID", "x") == (
        b"-ERR wrong number of arguments for 'client|id' command\r\n")
    help_reply = r.call("CLIENT", "HELP")
    assert help_reply.startswith(b"*") and b"+CLIENT <subcommand>" in help_reply


def _fields(line):
    return dict(kv.split("=", 1) for kv in line.split(" "))


def test_client_list_and_info(srv):
    a = srv.client(decode_responses=True)
    b = srv.client(decode_responses=True)
    a.client_setname("alpha")
    b.client_setname("beta")
    b.execute_command("SELECT", 2)
    ida, idb = a.client_id(), b.client_id()
    text = a.execute_command("CLIENT", "LIST")
    lines = [l for l in text.split("\n") if l]
    byname = {_fields(l)["name"]: _fields(l) for l in lines}
    assert int(byname["alpha"]["id"]) == ida and int(byname["beta"]["id"]) == idb
    assert byname["beta"]["db"] == "2"
    ids = [int(_fields(l)["id"]) for l in lines]
    assert ids == sorted(ids), "oldest connection first"
    for f in ("addr", "laddr", "fd", "age", "idle", "flags", "sub", "psub", "multi", "qbuf",
              "omem", "tot-mem", "events", "cmd", "user", "redir", "resp"):
        assert f in byname["alpha"]
    assert byname["alpha"]["user"] == "default" and byname["alpha"]["flags"] == "N"
    # TYPE and ID filters
    assert len([l for l in a.execute_command("CLIENT", "LIST", "TYPE", "normal").split("\n")
                if l]) == len(lines)
    assert a.execute_command("CLIENT", "LIST", "TYPE", "replica") == ""
    assert a.execute_command("CLIENT", "LIST", "TYPE", "pubsub") == ""
    one = a.execute_command("CLIENT", "LIST", "ID", idb, 999999)
    assert one.count("\n") == 1 and _fields(one.strip())["name"] == "beta"
    with pytest.raises(redis.ResponseError, match="^Unknown client type 'bogus'$"):
        a.execute_command("CLIENT", "LIST", "TYPE", "bogus")
    with pytest.raises(redis.ResponseError, match="^Invalid client ID$"):
        a.execute_command("CLIENT", "LIST", "ID", "1", "x")
    for args in (("TYPE",), ("ID",), ("foo", "bar"), ("TYPE", "normal", "x")):
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            a.execute_command("CLIENT", "LIST", *args)
    # CLIENT INFO: this connection's line, newline-terminated
    info = a.execute_command("CLIENT", "INFO")
    assert info.endswith("\n") and info.count("\n") == 1
    f = _fields(info.strip())
    assert int(f["id"]) == ida and f["name"] == "alpha" and f["resp"] == "2"
    r = srv.raw()
    r.call("HELLO", "3")
    rep = r.call("CLIENT", "INFO")
    assert rep.startswith(b"=") and b"\r\ntxt:id=" in rep and b" resp=3\n\r\n" in rep


def test_client_kill(srv):
    a = srv.client(decode_responses=True)
    victims = [srv.raw() for _ in range(4)]
    vids = [int(v.call("CLIENT", "ID")[1:-2]) for v in victims]
    addrs = {int(_fields(l)["id"]): _fields(l) for l in
             a.execute_command("CLIENT", "LIST").split("\n") if l}
    # old form: by address, OK / error
    assert a.execute_command("CLIENT", "KILL", addrs[vids[0]]["addr"]) == "OK"
    assert victims[0].closed_by_peer()
    with pytest.raises(redis.ResponseError, match="^No such client$"):
        a.execute_command("CLIENT", "KILL", "1.2.3.4:5")
    # new form: counts
    assert a.execute_command("CLIENT", "KILL", "ID", vids[1]) == 1
    assert victims[1].closed_by_peer()
    assert a.execute_command("CLIENT", "KILL", "ID", vids[1]) == 0
    assert a.execute_command("CLIENT", "KILL", "ADDR", addrs[vids[2]]["addr"],
                             "LADDR", addrs[vids[2]]["laddr"]) == 1
    assert victims[2].closed_by_peer()
    assert a.execute_command("CLIENT", "KILL", "LADDR", "1.2.3.4:5") == 0
    assert a.execute_command("CLIENT", "KILL", "USER", "default", "TYPE", "normal") == 1
    assert victims[3].closed_by_peer()
    assert a.ping()  # SKIPME yes by default
    errors = [
        (("ID", "0"), "client-id should be greater than 0"),
        (("ID", "abc"), "client-id should be greater than 0"),
        (("TYPE", "foo"), "Unknown client type 'foo'"),
        (("USER", "bob"), "No such user 'bob'"),
        (("SKIPME", "maybe"), "syntax error"),
        (("foo", "bar"), "syntax error"),
        (("ID", "5", "x"), "syntax error"),
    ]
    for args, msg in errors:
        with pytest.raises(redis.ResponseError) as e:
            a.execute_command("CLIENT", "KILL", *args)
        assert str(e.value) == msg
    # killing oneself: the reply still arrives, then the connection closes
    r = srv.raw()
    rid = r.call("CLIENT", "ID")[1:-2]
    r.s.sendall(b"CLIENT KILL ID " + rid + b" SKIPME no\r\nPING\r\n")
    assert r.reply() == b":1\r\n"
    assert r.closed_by_peer()


def test_client_reply_off_skip_on(srv):
    r = srv.raw()
    r.send("CLIENT", "REPLY", "OFF")
    r.send("SET", "k", "v1")
    r.send("PING")
    r.send("CLIENT", "REPLY", "SKIP")  # ignored while OFF
    assert r.nothing_pending()
    assert r.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert r.call("GET", "k") == bulk("v1")  # the muted SET did run
    r.send("CLIENT", "REPLY", "SKIP")
    r.send("ECHO", "skipped")
    assert r.call("ECHO", "shown") == bulk("shown")
    # SKIP then ON: the ON itself answers
    r.send("CLIENT", "REPLY", "SKIP")
    assert r.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    # errors are muted too
    r.send("CLIENT", "REPLY", "OFF")
    r.send("CLIENT", "REPLY", "bogus")
    r.send("SELECT", "99")
    assert r.nothing_pending()
    assert r.call("CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert r.call("CLIENT", "REPLY", "bogus") == b"-ERR syntax error\r\n"


def test_client_no_evict(srv):
    r = srv.raw()
    assert r.call("CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
    assert b" flags=e " in r.call("CLIENT", "INFO")
    assert r.call("CLIENT", "NO-EVICT", "OFF") == b"+OK\r\n"
    assert b" flags=N " in r.call("CLIENT", "INFO")
    assert r.call("CLIENT", "NO-EVICT", "maybe") == b"-ERR syntax error\r\n"


def _timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def test_client_pause_write_delays_set_not_get(srv):
    admin = srv.client()
    other = srv.client()
    other.set("k", "v0")
    pause = 0.6 * SCALE
    assert admin.execute_command("CLIENT", "PAUSE", int(pause * 1000), "WRITE") == b"OK"
    t_get = _timed(lambda: other.get("k"))
    t_ping = _timed(other.ping)
    t_set = _timed(lambda: other.set("k", "v1"))
    assert t_get < pause / 2 and t_ping < pause / 2
    assert t_set >= pause * 0.7
    assert other.get("k") == b"v1"


def test_client_pause_all(srv):
    admin = srv.client()
    other = srv.client()
    pause = 0.6 * SCALE
    assert admin.execute_command("CLIENT", "PAUSE", int(pause * 1000), "ALL") == b"OK"
    assert _timed(lambda: other.get("k")) >= pause * 0.7


def test_client_unpause_releases_held_write(srv):
    admin = srv.client()
    other = srv.client()
    assert admin.execute_command("CLIENT", "PAUSE", 60000, "WRITE") == b"OK"
    done = {}

    def writer():
        other.set("k", "v")
        done["t"] = time.monotonic()

    th = threading.Thread(target=writer)
    th.start()
    time.sleep(0.3 * SCALE)
    assert "t" not in done, "SET ran during CLIENT PAUSE WRITE"
    t0 = time.monotonic()
    assert admin.execute_command("CLIENT", "UNPAUSE") == b"OK"  # not a write: runs
    th.join(10 * SCALE)
    assert not th.is_alive() and done["t"] - t0 < 2 * SCALE
    assert admin.get("k") == b"v"


def test_client_pause_errors_and_merge(srv):
    r = srv.raw()
    assert r.call("CLIENT", "PAUSE") == (
        b"-ERR wrong number of arguments for 'client|pause' command\r\n")
    assert r.call("CLIENT", "PAUSE", "abc") == (
        b"-ERR timeout is not an integer or out of range\r\n")
    assert r.call("CLIENT", "PAUSE", "-1") == b"-ERR timeout is negative\r\n"
    assert r.call("CLIENT", "PAUSE", "10", "foo") == (
        b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n")
    assert r.call("CLIENT", "PAUSE", "10", "WRITE", "x") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. "
        b"Try CLIENT HELP.\r\n")
    # 0 pauses nothing; a sum past the 64-bit range wraps and pauses nothing
    assert r.call("CLIENT", "PAUSE", "0") == b"+OK\r\n"
    assert r.call("CLIENT", "PAUSE", "9223372036854775807") == b"+OK\r\n"
    other = srv.client()
    assert _timed(lambda: other.set("k", "v")) < 0.3 * SCALE
    # the latest mode wins and the end only grows: WRITE 1s then ALL 1ms
    # makes an ALL pause of about 1s
    pause = 0.6 * SCALE
    assert r.call("CLIENT", "PAUSE", str(int(pause * 1000)), "WRITE") == b"+OK\r\n"
    assert r.call("CLIENT", "PAUSE", "1", "ALL") == b"+OK\r\n"
    assert _timed(lambda: other.get("k")) >= pause * 0.5
    assert r.call("CLIENT", "UNPAUSE") == b"+OK\r\n"


def test_reset(srv_pass):
    r = srv_pass.raw()
    assert r.call("AUTH", "s3cret") == b"+OK\r\n"
    assert r.call("SELECT", "5") == b"+OK\r\n"
    assert r.call("SET", "k5", "v") == b"+OK\r\n"
    assert r.call("CLIENT", "SETNAME", "named") == b"+OK\r\n"
    assert r.call("CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
    assert r.call("HELLO", "3").startswith(b"%7")
    r.send("CLIENT", "REPLY", "OFF")
    assert r.call("RESET") == b"+RESET\r\n"  # REPLY OFF is lifted first
    # authentication is dropped again when requirepass is set
    assert r.call("PING") == b"-NOAUTH Authentication required.\r\n"
    assert r.call("AUTH", "s3cret") == b"+OK\r\n"
    assert r.call("CLIENT", "GETNAME") == b"$-1\r\n"  # RESP2 null: resp is 2 again
    info = r.call("CLIENT", "INFO")
    assert b" db=0 " in info and b" resp=2" in info
    assert b" flags=e " in info  # NO-EVICT survives RESET in Redis 7.0.15
    assert r.call("GET", "k5") == b"$-1\r\n"
    assert r.call("SELECT", "5") == b"+OK\r\n"
    assert r.call("GET", "k5") == bulk("v")
    # CLIENT REPLY SKIP covers the RESET itself
    r.send("CLIENT", "REPLY", "SKIP")
    r.send("RESET")
    assert r.call("AUTH", "s3cret") == b"+OK\r\n"
    assert r.call("RESET", "x") == b"-ERR wrong number of arguments for 'reset' command\r\n"


def test_reset_leaves_monitor_mode(srv):
    m = srv.raw()
    assert m.call("MONITOR") == b"+OK\r\n"
    assert m.call("RESET") == b"+RESET\r\n"
    srv.client().set("after", "reset")
    assert m.nothing_pending(), "still fed after RESET"
    assert m.call("PING") == b"+PONG\r\n"
