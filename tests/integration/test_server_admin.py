"""Server administration commands against a real lodis-server: INFO, CONFIG,
SLOWLOG, MONITOR, DEBUG, LATENCY, SAVE/BGSAVE/LASTSAVE, TIME, SHUTDOWN.

Self-contained: the `admin` fixture below starts its own server (the binary
in $LODIS_SERVER, default build/release/lodis-server) on a free 127.0.0.1
port with a fresh --dir under pytest's tmp_path, and stops it by its PID.

    /usr/bin/python3 -m pytest tests/integration/test_server_admin.py

With LODIS_SERVER=/usr/bin/redis-server the same tests run against Redis
7.0.15 (to check the tests themselves); checks of lodis-only fields skip
there.
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
if os.sep in BINARY:
    BINARY = os.path.abspath(BINARY)  # the server runs with its own cwd
IS_REDIS = os.path.basename(BINARY) == "redis-server"
SCALE = float(os.environ.get("LODIS_TIME_SCALE", "1"))

SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:")

lodis_only = pytest.mark.skipif(IS_REDIS, reason="lodis-specific behaviour")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AdminServer:
    """One server process; restartable on the same port and data dir."""

    def __init__(self, tmp_path, conf_lines=None):
        self.port = _free_port()
        self.dir = tmp_path / "data"
        self.dir.mkdir()
        self.log = tmp_path / "server.log"
        self.conf = None
        if conf_lines is not None:
            self.conf = tmp_path / "lodis.conf"
            self.conf.write_text("".join(line + "\n" for line in conf_lines))
        self.proc = None
        self.clients = []

    def argv(self):
        args = [BINARY]
        if self.conf is not None:
            args.append(str(self.conf))
        args += ["--port", str(self.port), "--dir", str(self.dir), "--bind", "127.0.0.1"]
        if IS_REDIS:
            args += ["--save", "", "--appendonly", "yes", "--enable-debug-command", "yes"]
        else:
            args += ["--wal-segment-size", "4mb"]  # disk: see conftest.py
        return args

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                     cwd=str(self.dir.parent))
        logf.close()
        deadline = time.time() + 10 * SCALE
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited at start:\n" + self.log.read_text())
            try:
                probe = redis.Redis(port=self.port, socket_timeout=1)
                try:
                    probe.execute_command("PING")
                finally:
                    probe.connection_pool.disconnect()
                return
            except redis.ResponseError:
                return  # answering at all is enough (even "unknown command")
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("server did not answer PING:\n" + self.log.read_text())

    @property
    def pid(self):
        return self.proc.pid

    def client(self, **kw):
        c = redis.Redis(port=self.port, socket_timeout=10 * SCALE, **kw)
        self.clients.append(c)
        return c

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout * SCALE)
        except subprocess.TimeoutExpired:
            raise AssertionError("server still running after SHUTDOWN")

    def stop(self):
        """SIGTERM (only our own PID) and wait; fail on an unclean exit."""
        for c in self.clients:
            c.connection_pool.disconnect()
        self.clients = []
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30 * SCALE)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
                raise AssertionError("server ignored SIGTERM")
        log = self.log.read_text(errors="replace")
        assert not SANITIZER_RE.search(log), log[-5000:]
        assert proc.returncode == 0, "exit status %s\n%s" % (proc.returncode, log[-3000:])


@pytest.fixture
def admin(tmp_path):
    s = AdminServer(tmp_path)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def r(admin):
    return admin.client()


def _wait_for(fn, expect, timeout=5):
    """Poll fn() until it returns expect (connections close asynchronously)."""
    deadline = time.time() + timeout * SCALE
    got = fn()
    while got != expect and time.time() < deadline:
        time.sleep(0.05)
        got = fn()
    return got


def _raw(port, payload, wait=0.3):
    """Send raw bytes, return every byte the server sent back."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(payload)
        time.sleep(wait * SCALE)
        s.settimeout(0.5)
        out = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
        except socket.timeout:
            pass
        return out


# ---------------------------------------------------------------------------
# INFO

DEFAULT_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication",
                    "CPU", "Modules", "Errorstats", "Cluster", "Keyspace"]


def _info_text(r, *sections):
    """INFO's reply as text, without redis-py's parsing."""
    conn = r.connection_pool.get_connection("INFO")
    try:
        conn.send_command("INFO", *sections)
        reply = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    return reply.decode() if isinstance(reply, bytes) else reply


def _select_or_skip(r, db):
    """SELECT db, or skip the test while SELECT is not implemented."""
    try:
        r.execute_command("SELECT", db)
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            return False
        raise
    return True


def _headers(text):
    return re.findall(r"^# (\w+)\r$", text, re.M)


def test_info_default_sections_and_format(r):
    text = _info_text(r)
    assert _headers(text) == DEFAULT_SECTIONS
    # Redis's layout: "field:value" lines with CRLF, one empty line between
    # sections, and the text ends with the last line's CRLF.
    assert text.endswith("\r\n") and not text.endswith("\r\n\r\n")
    for line in text.split("\r\n"):
        assert line == "" or line.startswith("# ") or re.match(r"^[A-Za-z0-9_|]+:", line), line


def test_info_everything_and_all(r):
    r.get("x")
    for arg in ("all", "everything", "ALL"):
        heads = _headers(_info_text(r, arg))
        assert "Commandstats" in heads and heads[0] == "Server" and heads[-1] == "Keyspace"
    assert _headers(_info_text(r, "default")) == DEFAULT_SECTIONS


def test_info_section_selection(r):
    assert _headers(_info_text(r, "cpu")) == ["CPU"]
    assert _headers(_info_text(r, "CPU")) == ["CPU"]
    # Several sections come in the server's fixed order, each once.
    heads = _headers(_info_text(r, "keyspace", "server", "Server"))
    assert heads == ["Server", "Keyspace"]
    assert _info_text(r, "no-such-section") == ""
    assert _info_text(r, "modules") == "# Modules\r\n"


def test_info_server_true_values(admin, r):
    info = r.info("server")
    assert info["redis_version"] == "7.0.15"
    assert info["redis_mode"] == "standalone"
    assert info["process_id"] == admin.pid
    assert info["tcp_port"] == admin.port
    assert re.fullmatch(r"[0-9a-f]{40}", info["run_id"])
    assert info["arch_bits"] in (32, 64)
    assert 0 <= info["uptime_in_seconds"] < 60
    assert abs(info["server_time_usec"] / 1e6 - time.time()) < 5
    assert info["hz"] == 10
    assert os.path.basename(str(info["executable"])).startswith(os.path.basename(BINARY))
    if not IS_REDIS:
        assert info["lodis_version"]


def test_info_memory_persistence_replication_cpu(r):
    mem = r.info("memory")
    assert mem["used_memory"] > 0 and mem["used_memory_rss"] > 0
    assert mem["used_memory_peak"] >= mem["used_memory"]
    assert re.fullmatch(r"[0-9.]+[BKMGTP]", mem["used_memory_human"])
    assert mem["maxmemory_policy"] == "noeviction"
    assert "mem_allocator" in mem
    r.config_set("maxmemory", "10mb")
    mem = r.info("memory")
    assert mem["maxmemory"] == 10485760 and mem["maxmemory_human"] == "10.00M"
    r.config_set("maxmemory", "0")
    p = r.info("persistence")
    assert p["loading"] == 0 and p["rdb_bgsave_in_progress"] == 0
    assert p["aof_rewrite_in_progress"] == 0
    assert p["rdb_last_bgsave_status"] == "ok"
    rep = r.info("replication")
    assert rep["role"] == "master" and rep["connected_slaves"] == 0
    assert re.fullmatch(r"[0-9a-f]{40}", rep["master_replid"])
    cpu = r.info("cpu")
    assert cpu["used_cpu_user"] >= 0 and cpu["used_cpu_sys"] >= 0


@lodis_only
def test_info_lodis_fields(r):
    mem = r.info("memory")
    assert mem["mem_allocator"] == "libc"
    for f in ("lodis_memtable_bytes", "lodis_memtable_entries", "lodis_disk_bytes",
              "lodis_wal_bytes", "lodis_map_size"):
        assert isinstance(mem[f], int), f
    r.set("k", "v")
    assert r.info("memory")["lodis_memtable_entries"] >= 1
    p = r.info("persistence")
    assert p["aof_enabled"] == 1
    for f in ("lodis_checkpoints", "lodis_checkpoint_in_progress", "lodis_last_checkpoint_ms",
              "lodis_wal_gen", "lodis_load_ms", "lodis_replayed_records"):
        assert isinstance(p[f], int), f
    assert "lodis_reclaimed_entries" in r.info("stats")


def test_info_keyspace_after_writes(r):
    assert r.info("keyspace") == {}
    r.set("a", 1)
    r.set("b", 2, ex=100)
    r.set("c", 3)
    other_db = _select_or_skip(r, 3)  # this connection now uses db 3
    if other_db:
        r.set("d", 4, px=100000)
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 3 and ks["db0"]["expires"] == 1
    if other_db:
        assert ks["db3"]["keys"] == 1 and ks["db3"]["expires"] == 1
    assert "avg_ttl" in ks["db0"]
    assert "db1" not in ks


def test_total_commands_processed_grows(r):
    before = r.info("stats")["total_commands_processed"]
    for i in range(10):
        r.set("k%d" % i, i)
    after = r.info("stats")["total_commands_processed"]
    # the 10 SETs and the first INFO (the second INFO counts after it replies)
    assert after - before == 11


def test_stats_counters(admin, r):
    st = r.info("stats")
    assert st["total_connections_received"] >= 1
    assert st["total_net_input_bytes"] > 0 and st["total_net_output_bytes"] > 0
    r.set("hit", 1)
    r.get("hit")
    r.get("miss")
    st2 = r.info("stats")
    assert st2["keyspace_hits"] == st["keyspace_hits"] + 1
    assert st2["keyspace_misses"] == st["keyspace_misses"] + 1
    c2 = admin.client()
    c2.time()
    assert r.info("stats")["total_connections_received"] == st["total_connections_received"] + 1


def test_instantaneous_ops_per_sec(r):
    deadline = time.time() + 3 * SCALE
    seen = 0
    while time.time() < deadline and not seen:
        for i in range(200):
            r.get("x")
        seen = r.info("stats")["instantaneous_ops_per_sec"]
    assert seen > 0


def _connected(r):
    return r.info("clients")["connected_clients"]


def test_connected_clients_counts_two(admin, r):
    assert _wait_for(lambda: _connected(r), 1) == 1
    other = admin.client()
    other.time()
    info = r.info("clients")
    assert info["connected_clients"] == 2
    assert info["blocked_clients"] == 0
    assert info["maxclients"] == 10000
    other.connection_pool.disconnect()
    assert _wait_for(lambda: _connected(r), 1) == 1


def test_commandstats_calls(r):
    r.config_resetstat()
    for _ in range(3):
        r.get("nokey")
    r.set("a", "b")
    r.config_get("maxmemory")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET", "a", "extra")  # arity: rejected before it runs
    cs = r.info("commandstats")
    assert cs["cmdstat_get"]["calls"] == 3
    assert cs["cmdstat_get"]["rejected_calls"] == 1
    assert cs["cmdstat_set"]["calls"] == 1
    assert cs["cmdstat_get"]["usec"] >= 0
    assert "usec_per_call" in cs["cmdstat_get"]
    assert cs["cmdstat_config|get"]["calls"] == 1
    assert "cmdstat_del" not in cs  # never called: not listed


def test_errorstats(r):
    r.config_resetstat()
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError):
        r.incr("s")
    text = _info_text(r, "errorstats")
    assert "errorstat_ERR:count=2" in text
    assert r.info("stats")["total_error_replies"] == 2


def test_info_resp3_is_verbatim(admin, r):
    reply = _raw(admin.port, b"HELLO 3\r\nINFO cpu\r\n")
    if reply.startswith(b"-ERR unknown command"):
        pytest.skip("HELLO is not implemented yet")
    assert b"=" in reply and b"txt:# CPU\r\n" in reply
    assert _raw(admin.port, b"INFO cpu\r\n").startswith(b"$")


# ---------------------------------------------------------------------------
# CONFIG

@pytest.mark.parametrize("name,value,expect", [
    ("maxmemory", "10mb", "10485760"),
    ("maxmemory", "1gb", "1073741824"),
    ("maxmemory", "100k", "100000"),
    ("maxmemory", "2KB", "2048"),
    ("maxmemory", "0", "0"),
    ("maxmemory-policy", "allkeys-lru", "allkeys-lru"),
    ("slowlog-log-slower-than", "-1", "-1"),
    ("slowlog-max-len", "5", "5"),
    ("hz", "20", "20"),
    ("timeout", "300", "300"),
    ("latency-monitor-threshold", "50", "50"),
    ("notify-keyspace-events", "", ""),
    ("appendfsync", "always", "always"),
    ("hash-max-listpack-entries", "100", "100"),
])
def test_config_set_get_roundtrip(r, name, value, expect):
    assert r.config_set(name, value)
    assert r.config_get(name) == {name: expect}


def test_config_ziplist_aliases(r):
    r.config_set("hash-max-ziplist-entries", 77)
    assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "77"}
    assert r.config_get("hash-max-ziplist-entries") == {"hash-max-ziplist-entries": "77"}
    r.config_set("zset-max-listpack-value", 33)
    assert r.config_get("zset-max-ziplist-value") == {"zset-max-ziplist-value": "33"}
    r.config_set("list-max-ziplist-size", -3)
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-3"}


def test_config_get_patterns_and_several(r):
    got = r.execute_command("CONFIG", "GET", "maxmemory", "hz")
    got = dict(zip(got[::2], got[1::2]))
    assert set(got) == {b"maxmemory", b"hz"}
    assert b"maxmemory-policy" in r.execute_command("CONFIG", "GET", "maxmemory*")
    assert r.config_get("no-such-*") == {}


def test_config_set_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("no-such-directive", "1")
    assert str(e.value) == \
        "Unknown option or number of arguments for CONFIG SET - 'no-such-directive'"
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("maxmemory", "lots")
    assert "argument must be a memory value" in str(e.value)
    with pytest.raises(redis.ResponseError):
        r.config_set("maxmemory-policy", "sometimes")
    with pytest.raises(redis.ResponseError):
        r.config_set("databases", "4")  # immutable
    # All or nothing: a bad pair leaves the good one unchanged.
    r.config_set("hz", 10)
    with pytest.raises(redis.ResponseError):
        r.execute_command("CONFIG", "SET", "hz", "11", "maxmemory", "lots")
    assert r.config_get("hz") == {"hz": "10"}


def test_config_rewrite_without_file(r):
    with pytest.raises(redis.ResponseError) as e:
        r.config_rewrite()
    assert "without a config file" in str(e.value)


def test_config_rewrite_with_file(tmp_path):
    s = AdminServer(tmp_path, conf_lines=["# a comment that must survive", "hz 10",
                                          "maxmemory 1mb", "slowlog-max-len 64"])
    s.start()
    try:
        r = s.client()
        assert r.info("server")["config_file"] == str(s.conf)
        r.config_set("maxmemory", "2mb")
        r.config_set("slowlog-max-len", 99)
        r.config_set("latency-monitor-threshold", 7)
        assert r.config_rewrite()
        text = s.conf.read_text()
        assert "# a comment that must survive" in text
        # Restart from the rewritten file: the values come back.
        s.stop()
        s.start()
        r = s.client()
        assert r.config_get("maxmemory") == {"maxmemory": "2097152"}
        assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "99"}
        assert r.config_get("latency-monitor-threshold") == {"latency-monitor-threshold": "7"}
        assert r.config_get("hz") == {"hz": "10"}
    finally:
        s.stop()


# ---------------------------------------------------------------------------
# SLOWLOG

def test_slowlog_everything_logged(r):
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.set("slowkey", "slowvalue")
    entries = r.slowlog_get()
    cmds = [e["command"] for e in entries]
    assert b"SET slowkey slowvalue" in cmds
    e = entries[cmds.index(b"SET slowkey slowvalue")]
    assert e["duration"] >= 0 and abs(e["start_time"] - time.time()) < 10
    assert r.slowlog_len() >= 1
    r.config_set("slowlog-log-slower-than", -1)
    r.slowlog_reset()
    r.set("x", 1)
    assert r.slowlog_len() == 0


# ---------------------------------------------------------------------------
# MONITOR

def test_monitor_sees_command(admin, r):
    m = admin.client()
    with m.monitor() as mon:
        r.set("watched", 'quote"d')
        cmd = mon.next_command()
        assert cmd["command"] == 'SET watched quote"d'
        assert cmd["db"] == 0
        assert _wait_for(lambda: _connected(r), 2) == 2
    assert _wait_for(lambda: _connected(r), 1) == 1
    # After the monitor leaves, nothing is fed to a dead client.
    r.set("after", 1)
    assert r.get("after") == b"1"


def _monitor_order(cli):
    """The commands MONITOR shows for a transaction, an aborted one, a script
    and a function, in order (timestamps and addresses dropped)."""
    port = cli.connection_pool.connection_kwargs["port"]
    cli.function_load("#!lua name=mon\nredis.register_function('f', function() "
                      "return redis.call('set', 'fk', 'v') end)", replace=True)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as m:
        m.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
        got = b""
        while not got.endswith(b"+OK\r\n"):
            got += m.recv(100)
        p = cli.pipeline(transaction=True)
        p.set("foo", "bar")
        p.execute()
        tx = cli.connection_pool.get_connection("x")
        for args in (("MULTI",), ("SYNTAX", "ERROR"), ("EXEC",)):
            tx.send_command(*args)
            try:
                tx.read_response()
            except redis.ResponseError:
                pass
        cli.connection_pool.release(tx)
        cli.eval("return redis.call('get', KEYS[1])", 1, "foo")
        cli.fcall("f", 0)
        cli.set("end", "1")
        buf = b""
        while b'"end"' not in buf:
            buf += m.recv(4096)
    return [re.sub(r"^\+[0-9.]+ \[0 [^\]]+\] ", "", line)
            for line in buf.decode().split("\r\n") if line]


def test_monitor_order_matches_redis(r, reference):
    if reference is None:
        pytest.skip("redis-server not installed")
    assert _monitor_order(r) == _monitor_order(reference)


def test_monitor_wrong_args(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MONITOR", "x")
    assert "wrong number of arguments" in str(e.value)


# ---------------------------------------------------------------------------
# DEBUG

def test_debug_sleep(admin, r):
    assert r.execute_command("DEBUG", "SLEEP", 0) == b"OK"
    other = admin.client()
    other.time()
    result = {}

    def sleeper():
        result["reply"] = r.execute_command("DEBUG", "SLEEP", "0.3")

    t = threading.Thread(target=sleeper)
    t.start()
    time.sleep(0.05)
    t0 = time.time()
    other.time()  # the whole server is blocked, like Redis
    waited = time.time() - t0
    t.join()
    assert result["reply"] == b"OK"
    assert waited >= 0.15


def test_debug_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG", "NO-SUCH-THING")
    assert str(e.value) == ("unknown subcommand or wrong number of arguments for "
                            "'NO-SUCH-THING'. Try DEBUG HELP.")
    with pytest.raises(redis.ResponseError):
        r.execute_command("DEBUG", "SLEEP")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG", "OBJECT", "missing")
    assert str(e.value) == "no such key"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("DEBUG", "ERROR", "CUSTOM message")
    assert str(e.value) == "CUSTOM message"
    assert isinstance(r.execute_command("DEBUG", "HELP"), list)


def test_debug_object(r):
    r.set("int", 12345)
    r.set("emb", "hello")
    r.set("raw", "x" * 100)
    line = r.execute_command("DEBUG", "OBJECT", "int")
    assert re.match(rb"Value at:0x[0-9a-f]+ refcount:\d+ encoding:int serializedlength:3 "
                    rb"lru:\d+ lru_seconds_idle:\d+", line), line
    assert b"encoding:embstr" in r.execute_command("DEBUG", "OBJECT", "emb")
    assert b"encoding:raw" in r.execute_command("DEBUG", "OBJECT", "raw")
    # redis-py parses it too
    assert r.debug_object("emb")["encoding"] == "embstr"


def test_debug_populate(r):
    assert r.execute_command("DEBUG", "POPULATE", 100) == b"OK"
    assert r.dbsize() == 100
    assert r.get("key:0") == b"value:0" and r.get("key:99") == b"value:99"
    r.set("p:1", "mine")
    r.execute_command("DEBUG", "POPULATE", 3, "p", 10)
    assert r.get("p:0") == b"value:0\0\0\0"
    assert r.get("p:1") == b"mine"  # existing keys are kept
    with pytest.raises(redis.ResponseError):
        r.execute_command("DEBUG", "POPULATE", -1)


def test_debug_digest(admin, r):
    zero = b"0" * 40
    assert r.execute_command("DEBUG", "DIGEST") == zero
    r.set("a", 1)
    r.set("b", "two", ex=1000)
    d1 = r.execute_command("DEBUG", "DIGEST")
    assert re.fullmatch(rb"[0-9a-f]{40}", d1) and d1 != zero
    assert r.execute_command("DEBUG", "DIGEST") == d1  # stable
    r.set("a", 2)
    d2 = r.execute_command("DEBUG", "DIGEST")
    assert d2 != d1
    r.set("a", 1)
    assert r.execute_command("DEBUG", "DIGEST") == d1  # content, not history
    dv = r.execute_command("DEBUG", "DIGEST-VALUE", "a", "missing")
    assert dv[1] == zero and dv[0] != zero
    # Same content, same digest, after a restart too.
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert r.execute_command("DEBUG", "DIGEST") == d1
    admin.stop()
    admin.start()
    r = admin.client()
    assert r.execute_command("DEBUG", "DIGEST") == d1


def test_debug_set_active_expire(r):
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0) == b"OK"
    r.set("short", 1, px=50)
    time.sleep(0.4 * SCALE)
    # Not swept in the background: still counted, until someone reads it.
    assert r.info("keyspace")["db0"]["keys"] == 1
    assert r.get("short") is None
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1) == b"OK"
    r.set("short2", 1, px=50)
    deadline = time.time() + 3 * SCALE
    while r.info("keyspace").get("db0") and time.time() < deadline:
        time.sleep(0.05)
    assert r.info("keyspace") == {}


def test_debug_protocol(r):
    assert r.execute_command("DEBUG", "PROTOCOL", "string") == b"Hello World"
    assert r.execute_command("DEBUG", "PROTOCOL", "integer") == 12345
    assert r.execute_command("DEBUG", "PROTOCOL", "array") == [0, 1, 2]
    assert r.execute_command("DEBUG", "PROTOCOL", "null") is None


# ---------------------------------------------------------------------------
# LATENCY

def test_latency_monitor(r):
    assert r.execute_command("LATENCY", "LATEST") == []
    assert r.execute_command("LATENCY", "HISTORY", "command") == []
    assert r.execute_command("LATENCY", "RESET") == 0
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("LATENCY", "GRAPH", "command")
    assert str(e.value) == "No samples available for event 'command'"
    assert r.execute_command("LATENCY", "DOCTOR")


def test_latency_records_slow_commands(r):
    r.config_set("latency-monitor-threshold", 100)
    r.execute_command("DEBUG", "SLEEP", "0.2")
    latest = r.execute_command("LATENCY", "LATEST")
    assert latest, "no latency sample: dispatch.c must call latency_add_sample()"
    name, when, last, worst = latest[0]
    assert name == b"command" and last >= 200 and worst >= 200
    assert abs(when - time.time()) < 10
    hist = r.execute_command("LATENCY", "HISTORY", "command")
    assert len(hist) == 1 and hist[0][1] >= 200
    assert b"command" in r.execute_command("LATENCY", "GRAPH", "command")
    assert b"command" in r.execute_command("LATENCY", "DOCTOR")
    assert r.execute_command("LATENCY", "RESET", "command", "nothing") == 1
    assert r.execute_command("LATENCY", "LATEST") == []


def test_latency_help_and_unknown(r):
    assert isinstance(r.execute_command("LATENCY", "HELP"), list)
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("LATENCY", "FOO")
    assert str(e.value) == "unknown subcommand 'FOO'. Try LATENCY HELP."


# ---------------------------------------------------------------------------
# SAVE, BGSAVE, LASTSAVE, TIME

def test_lastsave_changes_after_save(r):
    t0 = r.lastsave()
    time.sleep(1.1)
    r.set("k", "v")
    assert r.save()
    t1 = r.lastsave()
    assert t1 > t0
    assert r.info("persistence")["rdb_changes_since_last_save"] == 0
    time.sleep(1.1)
    assert _raw(r.connection_pool.connection_kwargs["port"], b"BGSAVE\r\n") == \
        b"+Background saving started\r\n"
    deadline = time.time() + 10 * SCALE
    while r.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    assert r.lastsave() > t1
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BGSAVE", "NOW")
    assert str(e.value) == "syntax error"


def test_time_format(admin, r):
    raw = _raw(admin.port, b"TIME\r\n")
    m = re.fullmatch(rb"\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n", raw)
    assert m, raw
    secs, usecs = int(m.group(1)), int(m.group(2))
    assert 0 <= usecs < 1000000
    assert abs(secs + usecs / 1e6 - time.time()) < 2


# ---------------------------------------------------------------------------
# SHUTDOWN

def test_shutdown_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SHUTDOWN", "ABORT")
    assert str(e.value) == "No shutdown in progress."
    for args in (("FOO",), ("NOSAVE", "SAVE"), ("ABORT", "NOW")):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SHUTDOWN", *args)
        assert str(e.value) == "syntax error"
    assert r.time()


@pytest.mark.parametrize("how", [(), ("SAVE",), ("NOW", "FORCE")])
def test_shutdown_persists_data(admin, r, how):
    r.set("survivor", "yes")
    other_db = _select_or_skip(r, 2)
    if other_db:
        r.set("other-db", "too")
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", *how)
    assert admin.wait_exit() == 0
    admin.start()
    c = admin.client()
    assert c.get("survivor") == b"yes"
    if other_db:
        c.execute_command("SELECT", 2)
        assert c.get("other-db") == b"too"


@lodis_only
def test_shutdown_nosave_loses_nothing(admin, r):
    # lodis: NOSAVE skips nothing that matters, the WAL holds every write.
    r.mset({"k%d" % i: i for i in range(100)})
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "NOSAVE")
    assert admin.wait_exit() == 0
    admin.start()
    assert admin.client().dbsize() == 100


def test_config_set_port_and_bind_reopen_the_listener(admin, r):
    """CONFIG SET port / bind listen anew at once, as Redis does; a port
    that is taken fails with Redis's error and rolls back every value of
    the command, the old listener staying in use."""
    old_port = admin.port
    r.config_set("maxmemory", "0")
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        with pytest.raises(redis.ResponseError, match=(
                r"CONFIG SET failed \(possibly related to argument 'port'\) - "
                r"Unable to listen on this port")):
            r.execute_command("CONFIG", "SET", "maxmemory", "10000001",
                              "port", str(busy.getsockname()[1]))
    finally:
        busy.close()
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_get("port") == {"port": str(old_port)}
    assert redis.Redis(port=old_port).ping()
    assert r.config_set("port", str(old_port))  # unchanged: nothing reopened
    new_port = _free_port()
    try:
        assert r.config_set("port", str(new_port))
        assert redis.Redis(port=new_port).ping()
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=old_port, socket_connect_timeout=1).ping()
        assert r.ping()  # connections already made stay
        assert r.config_set("bind", "127.0.0.1 -::1")
        assert redis.Redis(port=new_port).ping()
        with pytest.raises(redis.ResponseError, match="Failed to bind to specified addresses"):
            r.config_set("bind", "192.0.2.1")
        assert redis.Redis(port=new_port).ping()
    finally:
        r.config_set("bind", "127.0.0.1")
        r.config_set("port", str(old_port))
    assert redis.Redis(port=old_port).ping()
