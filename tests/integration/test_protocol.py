"""The wire protocol over raw sockets: inline commands, big pipelines, exact
protocol-error replies (then the connection closes, other clients unaffected),
RESP3 via HELLO, HELLO AUTH/SETNAME, QUIT, and huge bulk-length headers that
must not make the server allocate memory up front."""

import time

import pytest

from lodis_testlib import Closed, ErrorReply, RawConn, RespMap, encode_command, scaled


def test_inline_commands(server):
    with RawConn(server.port) as c:
        c.send(b"PING\r\n")
        assert c.read_raw_line() == b"+PONG"
        c.send(b"SET a b\r\n")
        assert c.read_raw_line() == b"+OK"
        c.send(b"GET a\r\n")
        assert c.read_reply() == b"b"
        # telnet style: quotes, escapes, extra blanks, bare LF, empty lines
        c.send(b'SET greeting "hello world"\r\n')
        assert c.read_raw_line() == b"+OK"
        c.send(b"SET single 'it\\'s \"quoted\"'\r\n")
        assert c.read_raw_line() == b"+OK"
        c.send(b'SET esc "tab\\there\\nnl\\x41\\x00Z"\r\n')
        assert c.read_raw_line() == b"+OK"
        c.send(b"\r\n\r\n   SET   spaced    value   \r\n")
        assert c.read_raw_line() == b"+OK"
        c.send(b"SET lf-only yes\nGET lf-only\n")
        assert c.read_raw_line() == b"+OK"
        assert c.read_reply() == b"yes"
        c.send(b'SET empty ""\r\n')
        assert c.read_raw_line() == b"+OK"
        # inline and RESP mixed on one connection, in one write
        c.send(b"GET greeting\r\n" + encode_command("GET", "single") + b"GET esc\r\nSTRLEN empty\r\n")
        assert c.read_reply() == b"hello world"
        assert c.read_reply() == b"it's \"quoted\""
        assert c.read_reply() == b"tab\there\nnlA\x00Z"
        assert c.read_reply() == 0
        c.send(b"GET spaced\r\nEXISTS a greeting nothing\r\n")
        assert c.read_reply() == b"value"
        assert c.read_reply() == 2
        # errors on inline commands are ordinary replies; the connection stays
        c.send(b"NOSUCHCOMMAND x y\r\nINCR greeting\r\nPING\r\n")
        err = c.read_reply()
        assert isinstance(err, ErrorReply)
        assert err.text.startswith("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' 'y'")
        assert c.read_reply() == ErrorReply("ERR value is not an integer or out of range")
        assert c.read_reply() == b"PONG"


def test_pipeline_10000_commands_in_one_write(server):
    n = 10000
    parts, expected = [], []
    ctr = 0
    for i in range(n):
        m = i % 4
        if m == 0:
            parts.append(encode_command("SET", "p:%d" % i, "v:%d" % i))
            expected.append(b"OK")
        elif m == 1:
            parts.append(encode_command("GET", "p:%d" % (i - 1)))
            expected.append(b"v:%d" % (i - 1))
        elif m == 2:
            ctr += 1
            parts.append(encode_command("INCR", "ctr"))
            expected.append(ctr)
        else:
            parts.append(encode_command("ECHO", "e%d" % i))
            expected.append(b"e%d" % i)
    payload = b"".join(parts)
    with RawConn(server.port, timeout=scaled(30)) as c:
        c.send(payload)
        got = [c.read_reply() for _ in range(n)]
        c.assert_open_and_silent(0.2)
    mismatches = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert mismatches == [], "first mismatches: %r" % mismatches[:5]
    r = server.client()
    assert int(r.get(b"ctr")) == n // 4
    assert r.dbsize() == n // 4 + 1


MALFORMED = [
    ("bulk-len-not-a-number", b"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length"),
    ("negative-bulk-len", b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
    ("bulk-len-over-proto-max-bulk-len", b"*1\r\n$536870913\r\n",
     "ERR Protocol error: invalid bulk length"),
    ("bulk-len-1gb-over-limit", b"*2\r\n$3\r\nGET\r\n$1073741824\r\n",
     "ERR Protocol error: invalid bulk length"),
    ("multibulk-len-not-a-number", b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
    ("multibulk-len-too-big", b"*3000000000\r\n", "ERR Protocol error: invalid multibulk length"),
    ("missing-dollar", b"*1\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'f'"),
    ("inline-unbalanced-double-quote", b'SET a "b\r\n',
     "ERR Protocol error: unbalanced quotes in request"),
    ("inline-unbalanced-single-quote", b"SET a 'b\r\n",
     "ERR Protocol error: unbalanced quotes in request"),
    ("inline-quote-not-followed-by-space", b'SET a "b"c\r\n',
     "ERR Protocol error: unbalanced quotes in request"),
    ("inline-too-big", b"a" * 70000, "ERR Protocol error: too big inline request"),
    ("mbulk-count-string-too-big", b"*" + b"1" * 70000,
     "ERR Protocol error: too big mbulk count string"),
    ("bulk-count-string-too-big", b"*1\r\n$" + b"1" * 70000,
     "ERR Protocol error: too big bulk count string"),
]


@pytest.mark.parametrize("name,data,error", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request_gets_error_and_is_disconnected(server, name, data, error):
    r = server.client()
    r.set(b"canary", b"alive")
    with RawConn(server.port) as bystander, RawConn(server.port) as bad:
        bystander.send(b"PING\r\n")
        assert bystander.read_raw_line() == b"+PONG"
        # a valid command first: its reply must still arrive, in order
        bad.send(b"PING\r\n" + data)
        received = bad.read_until_closed(timeout=scaled(5))
        assert received == b"+PONG\r\n-" + error.encode() + b"\r\n"
        # the other connection and new ones keep working
        bystander.send(encode_command("GET", "canary"))
        assert bystander.read_reply() == b"alive"
    assert r.get(b"canary") == b"alive"
    assert r.dbsize() == 1


def test_non_positive_multibulk_count_is_ignored(server):
    with RawConn(server.port) as c:
        c.send(b"*-10\r\n")
        c.assert_open_and_silent(0.3)
        c.send(b"*0\r\n*-1\r\nPING\r\n" + encode_command("ECHO", "after"))
        assert c.read_raw_line() == b"+PONG"
        assert c.read_reply() == b"after"
        c.assert_open_and_silent(0.2)


def test_quit(server):
    with RawConn(server.port) as c:
        c.send(b"QUIT\r\nPING\r\n")
        assert c.read_until_closed(timeout=scaled(5)) == b"+OK\r\n"
    with RawConn(server.port) as c:
        c.send(encode_command("QUIT"))
        assert c.read_until_closed(timeout=scaled(5)) == b"+OK\r\n"


HELLO_KEYS = {b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"}


def test_hello_3_switches_to_resp3(server):
    with RawConn(server.port) as c:
        c.send(encode_command("GET", "missing"))
        assert c.read_raw_line() == b"$-1"          # RESP2 null bulk
        c.send(encode_command("HELLO", "3"))
        hello = c.read_reply()
        assert isinstance(hello, RespMap), "HELLO 3 must reply with a RESP3 map"
        assert set(hello) == HELLO_KEYS
        assert hello[b"proto"] == 3
        assert isinstance(hello[b"id"], int)
        assert hello[b"mode"] == b"standalone"
        assert hello[b"role"] == b"master"
        assert hello[b"modules"] == []
        c.send(encode_command("GET", "missing"))
        assert c.read_raw_line() == b"_"            # RESP3 null
        c.send(encode_command("MGET", "missing", "x"))
        assert c.read_raw_line() == b"*2"
        assert c.read_raw_line() == b"_"
        assert c.read_raw_line() == b"_"
        c.send(encode_command("SET", "k", "v") + encode_command("GET", "k")
               + encode_command("EXISTS", "k") + encode_command("INCR", "k"))
        assert c.read_raw_line() == b"+OK"
        assert c.read_reply() == b"v"
        assert c.read_raw_line() == b":1"
        assert c.read_reply() == ErrorReply("ERR value is not an integer or out of range")
        # unsupported version: error, protocol unchanged
        c.send(encode_command("HELLO", "4") + encode_command("GET", "missing"))
        assert c.read_reply() == ErrorReply("NOPROTO unsupported protocol version")
        assert c.read_raw_line() == b"_"
        # back to RESP2
        c.send(encode_command("HELLO", "2"))
        hello2 = c.read_reply()
        assert isinstance(hello2, list) and len(hello2) == 14
        assert dict(zip(hello2[::2], hello2[1::2]))[b"proto"] == 2
        c.send(encode_command("GET", "missing"))
        assert c.read_raw_line() == b"$-1"


def test_resp3_aggregate_and_double_types(server):
    r = server.client()
    r.hset(b"h", b"f", b"v")
    r.sadd(b"s", b"m")
    r.zadd(b"z", {b"m": 1.5})
    with RawConn(server.port) as c:
        c.send(encode_command("HELLO", "3"))
        c.read_reply()
        c.send(encode_command("HGETALL", "h"))
        assert c.read_raw_line() == b"%1"
        assert c.read_reply() == b"f" and c.read_reply() == b"v"
        c.send(encode_command("SMEMBERS", "s"))
        assert c.read_raw_line() == b"~1"
        assert c.read_reply() == b"m"
        c.send(encode_command("ZSCORE", "z", "m"))
        assert c.read_raw_line() == b",1.5"
        c.send(encode_command("HGETALL", "nothing"))
        assert c.read_raw_line() == b"%0"


def test_hello_with_auth_and_setname(server_factory):
    server = server_factory(extra_args=["--requirepass", "s3cret"])
    with RawConn(server.port) as c:
        c.send(b"PING\r\n")
        assert c.read_reply() == ErrorReply("NOAUTH Authentication required.")
        c.send(encode_command("HELLO", "3"))
        err = c.read_reply()
        assert isinstance(err, ErrorReply) and err.text.startswith(
            "NOAUTH HELLO must be called with the client already authenticated")
        c.send(encode_command("HELLO", "3", "AUTH", "default", "wrong"))
        assert c.read_reply() == ErrorReply(
            "WRONGPASS invalid username-password pair or user is disabled.")
        c.send(encode_command("GET", "x"))
        assert c.read_reply() == ErrorReply("NOAUTH Authentication required.")
        c.send(encode_command("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "billing-worker"))
        hello = c.read_reply()
        assert isinstance(hello, RespMap) and hello[b"proto"] == 3
        c.send(encode_command("CLIENT", "GETNAME") + encode_command("GET", "x"))
        assert c.read_reply() == b"billing-worker"
        assert c.read_raw_line() == b"_"
        c.send(encode_command("CLIENT", "LIST"))
        listing = c.read_reply()
        assert b"name=billing-worker" in listing
        # SETNAME with an invalid name is rejected
        c.send(encode_command("HELLO", "2", "SETNAME", "has space"))
        assert c.read_reply() == ErrorReply(
            "ERR Client names cannot contain spaces, newlines or special characters.")
    # AUTH with a password only (legacy form) also works
    with RawConn(server.port) as c:
        c.send(encode_command("AUTH", "wrong") + encode_command("AUTH", "s3cret") + b"PING\r\n")
        assert c.read_reply() == ErrorReply(
            "WRONGPASS invalid username-password pair or user is disabled.")
        assert c.read_raw_line() == b"+OK"
        assert c.read_raw_line() == b"+PONG"


@pytest.mark.parametrize("data,error", [
    (b"*20\r\n", "ERR Protocol error: unauthenticated multibulk length"),
    (b"*2\r\n$4\r\nECHO\r\n$100000\r\n", "ERR Protocol error: unauthenticated bulk length"),
], ids=["multibulk", "bulk"])
def test_unauthenticated_clients_get_small_limits(server_factory, data, error):
    server = server_factory(extra_args=["--requirepass", "pw"])
    with RawConn(server.port) as c:
        c.send(data)
        assert c.read_until_closed(timeout=scaled(5)) == b"-" + error.encode() + b"\r\n"
    assert server.client().ping() is True


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


@pytest.mark.parametrize("extra,length", [
    ([], 512 * 1024 * 1024),                                   # exactly the default limit
    (["--proto-max-bulk-len", "2gb"], 1024 * 1024 * 1024),     # 1 GB, accepted length
], ids=["512mb-default-limit", "1gb-raised-limit"])
def test_huge_bulk_header_does_not_allocate(server_factory, extra, length):
    server = server_factory(extra_args=extra)
    r = server.client()
    r.set(b"canary", b"alive")
    base = vm_rss_kb(server.pid)
    clients = []
    try:
        for i in range(4):
            c = RawConn(server.port)
            clients.append(c)
            header = b"*3\r\n$3\r\nSET\r\n$4\r\nbig%d\r\n$%d\r\n" % (i, length)
            # two with the header only, two with the header and 256 KB of the data
            c.send(header + (b"x" * (256 * 1024) if i % 2 else b""))
        time.sleep(0.5)
        assert r.ping() is True
        assert r.get(b"canary") == b"alive"
        grown = vm_rss_kb(server.pid) - base
        assert grown < 64 * 1024, "RSS grew by %d kB after %d headers of %d bytes" % (
            grown, len(clients), length)
        for c in clients:
            c.assert_open_and_silent(0.05)      # still waiting for the data
    finally:
        for c in clients:
            c.close()
    time.sleep(0.2)
    assert r.exists(b"big0", b"big1", b"big2", b"big3") == 0
    assert r.get(b"canary") == b"alive"
    assert vm_rss_kb(server.pid) - base < 64 * 1024


def test_client_disconnecting_mid_command_leaves_no_trace(server):
    r = server.client()
    for partial in (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab",
                    b"*3\r\n$3\r\nSET\r\n$1\r\nk",
                    b"SET k v"):
        with RawConn(server.port) as c:
            c.send(partial)
            c.assert_open_and_silent(0.1)
    time.sleep(0.1)
    assert r.exists(b"k") == 0
    assert r.ping() is True
    with pytest.raises(Closed):
        with RawConn(server.port) as c:
            c.send(b"QUIT\r\n")
            c.read_reply()
            c.read_reply()
