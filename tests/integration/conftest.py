"""Fixtures for the integration tests: a real lodis-server (or redis-server as
the reference) on a free 127.0.0.1 port with a fresh data directory.

Which binary: $LODIS_SERVER, default <repo>/build/release/lodis-server.
Running the suite against Redis itself (to check the tests):

    LODIS_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest tests/integration

When the binary's basename is redis-server, the fixture adds
`--appendonly yes --save ''` so the durability tests hold there too, and tests
that depend on lodis's on-disk layout skip themselves (`server.is_redis`).

Under an ASan/UBSan build (LODIS_SERVER=build/asan/lodis-server, and
LODIS_TIME_SCALE=3 or so for slower timings) a test fails when a server it
started exits with a non-zero status it did not ask for, or writes
"ERROR: AddressSanitizer" (or LeakSanitizer) or "runtime error:" to its log.

Every server writes stdout+stderr to tmp_path/server-<n>.log; the log is shown
when the server fails to start or fails a check. Only processes started here
are ever signalled, by their PID.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

from lodis_testlib import scaled

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BINARY = os.path.join(REPO, "build", "release", "lodis-server")

START_TIMEOUT = 10.0          # seconds until PING must answer (scaled)
STOP_TIMEOUT = 30.0           # seconds a SHUTDOWN / SIGTERM may take (scaled)
TEST_TIMEOUT = 150.0          # per-test watchdog (scaled): kills the test's servers

SANITIZER_RE = re.compile(
    rb"ERROR: (AddressSanitizer|LeakSanitizer|MemorySanitizer|ThreadSanitizer)|runtime error:")

# Every process started by this conftest, so that an interrupted run still
# cleans up exactly those PIDs.
_LIVE = {}


@atexit.register
def _kill_leftovers():
    for pid, proc in list(_LIVE.items()):
        if proc.poll() is None:
            try:
                os.kill(pid, signal.SIGKILL)
                proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass


def server_binary():
    return os.environ.get("LODIS_SERVER") or DEFAULT_BINARY


def binary_is_redis(path=None):
    return os.path.basename(path or server_binary()) == "redis-server"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long-running test (still run by default; deselect with -m 'not slow')")
    config.addinivalue_line(
        "markers", "lodis_only: depends on lodis internals; skipped against redis-server")


def pytest_report_header(config):
    return "server under test: %s%s (LODIS_TIME_SCALE=%s)" % (
        server_binary(), " [reference redis-server mode]" if binary_is_redis() else "",
        os.environ.get("LODIS_TIME_SCALE", "1"))


def pytest_collection_modifyitems(config, items):
    if binary_is_redis():
        skip = pytest.mark.skip(reason="depends on lodis's on-disk layout; binary is redis-server")
        for item in items:
            if "lodis_only" in item.keywords:
                item.add_marker(skip)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(AssertionError):
    pass


class Server:
    """One server identity (port + data dir) that may be started many times."""

    def __init__(self, binary, tmp_path, index, appendfsync, extra_args, conf_file=None):
        self.binary = binary
        self.is_redis = binary_is_redis(binary)
        self.tmp_path = tmp_path
        self.index = index
        self.appendfsync = appendfsync
        self.extra_args = list(extra_args)
        self.conf_file = conf_file
        self.dir = str(tmp_path / ("data" if index == 0 else "data-%d" % index))
        os.makedirs(self.dir, exist_ok=True)
        self.port = None
        self.proc = None
        self.starts = 0
        self.logs = []                # log paths, one per start
        self.failures = []            # problems found (reported at teardown)
        self.startup_seconds = None   # Popen -> first PONG of the latest start
        self._clients = []
        self._expected_exit = False

    # ---- process control -------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def password(self):
        args = self.extra_args
        for i, a in enumerate(args):
            if a == "--requirepass" and i + 1 < len(args):
                return args[i + 1]
        return None

    def command_line(self):
        cmd = [self.binary]
        if self.conf_file:
            cmd.append(self.conf_file)
        cmd += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--appendfsync", self.appendfsync]
        if self.is_redis:
            cmd += ["--appendonly", "yes", "--save", ""]
        elif "--wal-segment-size" not in self.extra_args:
            # Small log segments: each server preallocates its segment and a
            # spare (64 MB each by default), and a run starts hundreds.
            cmd += ["--wal-segment-size", "4mb"]
        return cmd + self.extra_args

    def start(self):
        assert not self.running, "server already running"
        first = self.port is None
        for attempt in range(5):
            if first:
                self.port = free_port()
            try:
                self._spawn_and_wait()
                return self
            except ServerError as e:
                # The free port may have been taken between probing and bind.
                if first and attempt < 4 and ("in use" in str(e)
                                              or b"in use" in self._log_bytes(-1)):
                    continue
                raise e

    def _spawn_and_wait(self):
        log_path = str(self.tmp_path / ("server%s-%d.log" % (
            "" if self.index == 0 else "-%d" % self.index, self.starts)))
        self.starts += 1
        self.logs.append(log_path)
        cmd = self.command_line()
        with open(log_path, "ab") as log:
            log.write(("# " + " ".join(repr(c) if c == "" or " " in c else c for c in cmd)
                       + "\n").encode())
            log.flush()
            t0 = time.monotonic()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir,
                                         start_new_session=True)
        _LIVE[self.proc.pid] = self.proc
        self._expected_exit = False
        deadline = t0 + scaled(START_TIMEOUT)
        last_err = None
        while True:
            if self.proc.poll() is not None:
                _LIVE.pop(self.proc.pid, None)
                self._expected_exit = True   # reported right here
                raise ServerError("server exited with status %s during startup\n%s"
                                  % (self.proc.returncode, self.log_text(-1)))
            try:
                ready = self._ping_once()
            except OSError as e:
                ready, last_err = False, e
            except ServerError:
                self._expected_exit = True   # reported by the raise
                self._kill(signal.SIGKILL)
                self._reap(10)
                raise
            if ready:
                self.startup_seconds = time.monotonic() - t0
                if not self._owns_port():
                    # Someone else answered on this port: not our server.
                    self._expected_exit = True
                    self._kill(signal.SIGKILL)
                    self._reap(10)
                    raise ServerError("port %d in use by another process\n%s"
                                      % (self.port, self.log_text(-1)))
                return
            if time.monotonic() > deadline:
                self._expected_exit = True   # reported right here
                self._kill(signal.SIGKILL)
                self._reap(10)
                raise ServerError("server did not answer PING within %.1fs (last error: %r)\n%s"
                                  % (scaled(START_TIMEOUT), last_err, self.log_text(-1)))
            time.sleep(0.005)

    def _ping_once(self):
        """True when PING gets +PONG; False while -LOADING. With
        --requirepass, AUTH first (NOAUTH would come even while loading)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
            s.settimeout(2.0)
            f = s.makefile("rb")
            if self.password is not None:
                pw = self.password.encode()
                s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw))
                line = f.readline()
                if not line:
                    raise ConnectionError("closed before replying to AUTH")
                if line.startswith(b"-LOADING"):
                    return False
                if not line.startswith(b"+OK"):
                    raise ServerError("unexpected reply to AUTH: %r\n%s" % (line, self.log_text(-1)))
            s.sendall(b"PING\r\n")
            data = f.readline()
            if not data:
                raise ConnectionError("closed before replying to PING")
        if data.startswith(b"+PONG"):
            return True
        if data.startswith(b"-LOADING"):
            return False
        raise ServerError("unexpected reply to PING: %r\n%s" % (data, self.log_text(-1)))

    def _owns_port(self):
        """True if a LISTEN socket on our port belongs to our process (Linux
        /proc); True as well when /proc cannot tell."""
        try:
            inodes = set()
            with open("/proc/net/tcp") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state, inode = parts[1], parts[3], parts[9]
                    if state == "0A" and int(local.split(":")[1], 16) == self.port:
                        inodes.add("socket:[%s]" % inode)
            if not inodes:
                return True
            fd_dir = "/proc/%d/fd" % self.proc.pid
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, fd)) in inodes:
                        return True
                except OSError:
                    pass
            return False
        except (OSError, StopIteration, IndexError, ValueError):
            return True

    def _kill(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def _reap(self, timeout):
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is not None:
                _LIVE.pop(self.proc.pid, None)

    def _close_clients(self):
        for c in self._clients:
            try:
                c.close()
                c.connection_pool.disconnect()
            except Exception:
                pass
        self._clients = []

    def kill9(self):
        """SIGKILL the server (simulated crash) and wait for it to be gone."""
        assert self.running, "kill9: server not running\n" + self.log_text(-1)
        self._expected_exit = True
        self._kill(signal.SIGKILL)
        self._reap(scaled(STOP_TIMEOUT))
        self._close_clients()
        self._check_log(len(self.logs) - 1)

    def stop(self):
        """SHUTDOWN over the protocol; wait for exit; status must be 0."""
        assert self.running, "stop: server not running\n" + self.log_text(-1)
        self._expected_exit = True
        self._close_clients()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5.0) as s:
            s.settimeout(scaled(STOP_TIMEOUT))
            if self.password is not None:
                pw = self.password.encode()
                s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw))
                assert s.recv(100).startswith(b"+OK"), "AUTH before SHUTDOWN failed"
            s.sendall(b"*1\r\n$8\r\nSHUTDOWN\r\n")
            reply = b""
            try:
                # EOF is success; a complete reply line means SHUTDOWN failed
                while b"\r\n" not in reply:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        if reply:
            self._expected_exit = False
            raise ServerError("SHUTDOWN replied %r instead of closing the connection\n%s"
                              % (reply[:300], self.log_text(-1)))
        self._wait_clean_exit("SHUTDOWN")

    def terminate(self):
        """SIGTERM; wait for exit; status must be 0."""
        assert self.running, "terminate: server not running\n" + self.log_text(-1)
        self._expected_exit = True
        self._close_clients()
        self._kill(signal.SIGTERM)
        self._wait_clean_exit("SIGTERM")

    def _wait_clean_exit(self, how):
        try:
            self._reap(scaled(STOP_TIMEOUT))
        except subprocess.TimeoutExpired:
            self._kill(signal.SIGKILL)
            self._reap(10)
            raise ServerError("server did not exit within %.0fs after %s\n%s"
                              % (scaled(STOP_TIMEOUT), how, self.log_text(-1)))
        self._check_log(len(self.logs) - 1)
        if self.proc.returncode != 0:
            raise ServerError("server exited with status %s after %s\n%s"
                              % (self.proc.returncode, how, self.log_text(-1)))

    def restart(self, extra_args=None, appendfsync=None):
        """Clean stop if running (SHUTDOWN), then start again on the same port
        and directory. extra_args / appendfsync replace the previous ones when
        given."""
        if self.running:
            self.stop()
        if extra_args is not None:
            self.extra_args = list(extra_args)
        if appendfsync is not None:
            self.appendfsync = appendfsync
        return self.start()

    # ---- clients ---------------------------------------------------------

    def client(self, db=0, **kwargs):
        kwargs.setdefault("socket_timeout", scaled(60))
        kwargs.setdefault("socket_connect_timeout", 5)
        if self.password is not None:
            kwargs.setdefault("password", self.password)
        c = redis.Redis(host="127.0.0.1", port=self.port, db=db,
                        decode_responses=False, **kwargs)
        self._clients.append(c)
        return c

    # ---- logs ------------------------------------------------------------

    def _log_bytes(self, i):
        try:
            with open(self.logs[i], "rb") as f:
                return f.read()
        except (OSError, IndexError):
            return b""

    def log_text(self, i=-1, limit=20000):
        data = self._log_bytes(i)
        if len(data) > limit:
            data = b"[... %d bytes cut ...]\n" % (len(data) - limit) + data[-limit:]
        name = self.logs[i] if self.logs else "(no log)"
        return "----- %s -----\n%s\n----- end of log -----" % (
            name, data.decode("utf-8", "replace"))

    def _check_log(self, i):
        data = self._log_bytes(i)
        if SANITIZER_RE.search(data):
            msg = "sanitizer report in server log\n" + self.log_text(i)
            if msg not in self.failures:
                self.failures.append(msg)
            raise ServerError(msg)

    # ---- teardown ----------------------------------------------------------

    def teardown(self):
        """Stop the server if still running; return a list of problems."""
        problems = []
        self._close_clients()
        if self.proc is not None:
            if self.proc.poll() is None:
                self._expected_exit = True
                self._kill(signal.SIGTERM)
                try:
                    self._reap(scaled(STOP_TIMEOUT))
                    if self.proc.returncode != 0:
                        problems.append("server exited with status %s after SIGTERM at teardown\n%s"
                                        % (self.proc.returncode, self.log_text(-1)))
                except subprocess.TimeoutExpired:
                    self._kill(signal.SIGKILL)
                    self._reap(10)
                    problems.append("server did not exit within %.0fs after SIGTERM at teardown\n%s"
                                    % (scaled(STOP_TIMEOUT), self.log_text(-1)))
            elif not self._expected_exit:
                problems.append("server died unexpectedly (exit status %s)\n%s"
                                % (self.proc.returncode, self.log_text(-1)))
        for i in range(len(self.logs)):
            data = self._log_bytes(i)
            if SANITIZER_RE.search(data):
                msg = "sanitizer report in server log\n" + self.log_text(i)
                if msg not in problems:
                    problems.append(msg)
        return problems


@pytest.fixture
def server_factory(tmp_path, request):
    """server_factory(appendfsync="everysec", extra_args=(), start=True,
    binary_path=None) -> Server.

    Each call creates a new server identity (own port and data directory)."""
    binary = server_binary()
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        pytest.fail("server binary %r not found or not executable: build it with `make` "
                    "(or `make SAN=1` and LODIS_SERVER=build/asan/lodis-server), or point "
                    "LODIS_SERVER at a binary" % binary, pytrace=False)
    servers = []
    timed_out = threading.Event()

    def watchdog():
        timed_out.set()
        for s in servers:
            if s.proc is not None and s.proc.poll() is None:
                try:
                    os.kill(s.proc.pid, signal.SIGKILL)
                except OSError:
                    pass

    timer = threading.Timer(scaled(TEST_TIMEOUT), watchdog)
    timer.daemon = True
    timer.start()

    def make(appendfsync="everysec", extra_args=(), start=True, conf_file=None, binary_path=None):
        # binary_path: another binary (a reference redis-server) for this one
        s = Server(binary_path or binary, tmp_path, len(servers), appendfsync, extra_args,
                   conf_file)
        servers.append(s)
        if start:
            s.start()
        return s

    try:
        yield make
    finally:
        timer.cancel()
        problems = []
        if timed_out.is_set():
            problems.append("test exceeded its %.0fs budget; its servers were killed"
                            % scaled(TEST_TIMEOUT))
        for s in servers:
            if timed_out.is_set():
                s._expected_exit = True
            problems += s.teardown()
            problems += [f for f in s.failures if f not in problems]
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server(server_factory):
    """A started server with the default --appendfsync everysec."""
    return server_factory()


@pytest.fixture
def r(server):
    """A redis-py client (bytes replies) on `server`, db 0."""
    return server.client()


# Disk: a test's data directories go once it has passed (a failed test
# keeps them for the post-mortem). pytest 7.2 keeps every tmp_path of the
# last three runs, and a full run writes several gigabytes.
@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(autouse=True)
def _remove_tmp_path_when_passed(request, tmp_path):
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.passed:
        shutil.rmtree(tmp_path, ignore_errors=True)


REFERENCE_REDIS = "/usr/bin/redis-server"


@pytest.fixture
def reference(tmp_path):
    """A reference redis-server (Debian's 7.0.15) started here on a free port,
    by PID, as a redis-py client; None when it is not installed. Differential
    tests run the same script against it and lodis and compare."""
    if not os.access(REFERENCE_REDIS, os.X_OK):
        yield None
        return
    port = free_port()
    refdir = tmp_path / "reference"
    refdir.mkdir()
    proc = subprocess.Popen([REFERENCE_REDIS, "--port", str(port), "--save", "",
                             "--appendonly", "no", "--enable-debug-command", "yes",
                             "--dir", str(refdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _LIVE[proc.pid] = proc
    cli = redis.Redis(port=port)

    def up():
        try:
            return cli.ping()
        except redis.ConnectionError:
            return False

    try:
        deadline = time.time() + scaled(START_TIMEOUT)
        while not up():
            if time.time() > deadline:
                pytest.fail("reference redis-server did not start", pytrace=False)
            time.sleep(0.02)
        yield cli
    finally:
        cli.close()
        proc.terminate()
        proc.wait(10)
        _LIVE.pop(proc.pid, None)
