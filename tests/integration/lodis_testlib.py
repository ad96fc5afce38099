"""Helpers shared by the integration tests (imported by test modules; not a test).

- RawConn: a plain TCP connection that writes raw bytes and parses RESP2 /
  RESP3 replies itself, so protocol tests see exactly what the server sent.
- assert_bytes_equal: compares large byte strings without letting pytest
  build a multi-megabyte diff.
- TIME_SCALE: multiply wall-clock budgets by LODIS_TIME_SCALE (e.g. 3 for an
  ASan build) so the suite stays meaningful on slower builds.
"""

import hashlib
import os
import socket
import time

TIME_SCALE = float(os.environ.get("LODIS_TIME_SCALE", "1"))


def scaled(seconds):
    return seconds * TIME_SCALE


class Closed(Exception):
    """The server closed the connection."""


class ErrorReply:
    """A RESP error reply ('-ERR ...' or RESP3 '!')."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, ErrorReply) and other.text == self.text

    def __repr__(self):
        return "ErrorReply(%r)" % (self.text,)


class Verbatim(bytes):
    pass


class RespMap(dict):
    pass


class RespSet(list):
    pass


class RespPush(list):
    pass


class RespNull:
    """RESP3 null ('_') or a RESP2 null bulk/array; `kind` keeps which."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return "RespNull(%r)" % (self.kind,)


class RawConn:
    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_command(self, *args):
        self.send(encode_command(*args))

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise Closed()
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, crlf, self.buf = self.buf[:n], self.buf[n:n + 2], self.buf[n + 2:]
        assert crlf == b"\r\n", "bulk payload not followed by CRLF: %r" % crlf
        return data

    def read_raw_line(self):
        """Return one reply line including its type byte, without CRLF."""
        return self._line()

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return ErrorReply(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return RespNull("$")
            return self._exact(n)
        if t == b"*":
            n = int(rest)
            if n < 0:
                return RespNull("*")
            return [self.read_reply() for _ in range(n)]
        if t == b"_":
            return RespNull("_")
        if t == b"%":
            n = int(rest)
            m = RespMap()
            for _ in range(n):
                k = self.read_reply()
                m[k] = self.read_reply()
            return m
        if t == b"~":
            return RespSet(self.read_reply() for _ in range(int(rest)))
        if t == b">":
            return RespPush(self.read_reply() for _ in range(int(rest)))
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return int(rest)
        if t == b"=":
            return Verbatim(self._exact(int(rest)))
        if t == b"!":
            return ErrorReply(self._exact(int(rest)).decode("utf-8", "replace"))
        raise AssertionError("unknown RESP type in line %r" % line[:100])

    def read_until_closed(self, timeout=5.0):
        """Read everything until the server closes; return the bytes.

        Fails (AssertionError) if the connection is still open after
        `timeout` seconds."""
        self.sock.settimeout(0.2)
        deadline = time.monotonic() + timeout
        data, self.buf = self.buf, b""
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        "connection still open after %.1fs; received %r" % (timeout, data[:300]))
                continue
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def assert_open_and_silent(self, wait=0.3):
        """Nothing arrives within `wait` seconds and the socket is not closed."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(10.0)
        raise AssertionError("expected silence on an open connection, got %r" % chunk[:200])


def encode_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def assert_bytes_equal(got, expected, what="value"):
    """Compare (possibly huge) byte strings with a compact failure message."""
    assert got is not None, "%s is missing (got None)" % what
    if got == expected:
        return
    n = min(len(got), len(expected))
    first = next((i for i in range(n) if got[i] != expected[i]), n)
    raise AssertionError(
        "%s differs: len(got)=%d len(expected)=%d, first difference at offset %d "
        "(got %r..., expected %r...), sha256 got=%s expected=%s" % (
            what, len(got), len(expected), first,
            got[first:first + 16], expected[first:first + 16],
            hashlib.sha256(got).hexdigest()[:16], hashlib.sha256(expected).hexdigest()[:16]))


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Poll `predicate` until it returns a truthy value; return it or fail."""
    deadline = time.monotonic() + scaled(timeout)
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last value %r)"
                                 % (scaled(timeout), what, last))
        time.sleep(interval)


def scan_all(client, match=None, count=None, _type=None):
    """Full SCAN iteration; returns the list of keys (duplicates kept)."""
    keys = []
    cursor = 0
    rounds = 0
    while True:
        cursor, batch = client.scan(cursor=cursor, match=match, count=count, _type=_type)
        keys.extend(batch)
        rounds += 1
        assert rounds < 1_000_000, "SCAN does not terminate"
        if int(cursor) == 0:
            return keys


def require_commands(r, *names):
    """Skip the calling test when the server lacks one of these commands.

    lodis grows family by family (see the open issues); a test that needs a
    family not yet implemented is skipped with the reason, never passed."""
    import pytest
    kw = r.connection_pool.connection_kwargs
    with RawConn(kw.get("port", 6379), host=kw.get("host", "127.0.0.1")) as c:
        for name in names:
            c.send_command("COMMAND", "INFO", name)
            reply = c.read_reply()
            if not reply or isinstance(reply[0], RespNull) or reply[0] is None:
                pytest.skip("server lacks %s (its family has not landed yet)" % name.upper())


def eval_or_error(cli, script, *keys_and_args, numkeys=0):
    """EVAL's reply, or "error: <text>" for an error reply."""
    import redis
    try:
        return cli.eval(script, numkeys, *keys_and_args)
    except redis.ResponseError as e:
        return "error: " + str(e)


def script_divergences(r, reference, scripts):
    """(script, lodis reply, reference reply) for each script whose reply
    differs between the two servers (replies via eval_or_error)."""
    out = [(s, eval_or_error(r, s), eval_or_error(reference, s)) for s in scripts]
    return [d for d in out if d[1] != d[2]]
