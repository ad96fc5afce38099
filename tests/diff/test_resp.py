"""Tests of resp.py. Run with `/usr/bin/python3 -m pytest tests/diff` or via
`run_diff.py --selftest` (which calls run_all())."""

import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import resp  # noqa: E402

CASES = [
    (b'+OK\r\n', ('simple', b'OK')),
    (b'-ERR unknown command\r\n', ('err', b'ERR unknown command')),
    (b':0\r\n', ('int', 0)),
    (b':-9223372036854775808\r\n', ('int', -9223372036854775808)),
    (b':+5\r\n', ('badint', b'+5')),
    (b':05\r\n', ('badint', b'05')),
    (b'$0\r\n\r\n', ('bulk', b'')),
    (b'$4\r\na\r\nb\r\n', ('bulk', b'a\r\nb')),
    (b'$-1\r\n', ('nil',)),
    (b'*-1\r\n', ('nil_arr',)),
    (b'*0\r\n', ('arr', ())),
    (b'*3\r\n:1\r\n$1\r\nx\r\n*1\r\n$-1\r\n',
     ('arr', (('int', 1), ('bulk', b'x'), ('arr', (('nil',),))))),
    (b'_\r\n', ('null',)),
    (b',3.14\r\n', ('double', b'3.14')),
    (b',inf\r\n', ('double', b'inf')),
    (b',1\r\n', ('double', b'1')),
    (b'#t\r\n', ('bool', True)),
    (b'#f\r\n', ('bool', False)),
    (b'(3492890328409238509324850943850943825024385\r\n',
     ('big', b'3492890328409238509324850943850943825024385')),
    (b'!21\r\nSYNTAX invalid syntax\r\n', ('bloberr', b'SYNTAX invalid syntax')),
    (b'=15\r\ntxt:Some string\r\n', ('verb', b'txt', b'Some string')),
    (b'%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n_\r\n',
     ('map', ((('simple', b'first'), ('int', 1)), (('bulk', b'second'), ('null',))))),
    (b'~2\r\n+a\r\n:2\r\n', ('set', (('simple', b'a'), ('int', 2)))),
    (b'>2\r\n+message\r\n$2\r\nhi\r\n', ('push', (('simple', b'message'), ('bulk', b'hi')))),
    (b'|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n',
     ('attr', ((('simple', b'key-popularity'),
                ('map', ((('bulk', b'a'), ('double', b'0.19')),))),), ('arr', (('int', 2),)))),
]

BAD = [b'?x\r\n', b'$abc\r\n', b'$3\r\nabcde\r\n', b'*-2\r\n', b'#x\r\n', b'_x\r\n',
       b'=2\r\nab\r\n', b'$01\r\na\r\n', b'\r\n']


def test_types():
    for wire, want in CASES:
        got, pos = resp.parse_reply(wire, 0)
        assert got == want, (wire, got, want)
        assert pos == len(wire), wire


def test_incomplete_at_every_split():
    for wire, want in CASES:
        for cut in range(len(wire)):
            try:
                resp.parse_reply(wire[:cut], 0)
            except resp.Incomplete:
                continue
            raise AssertionError('parsed a truncated reply %r' % wire[:cut])


def test_bad():
    for wire in BAD:
        try:
            resp.parse_reply(wire, 0)
        except resp.ProtocolError:
            continue
        raise AssertionError('accepted %r' % wire)


def test_encode():
    assert resp.encode_command(['SET', b'k\x00', 5]) == b'*3\r\n$3\r\nSET\r\n$2\r\nk\x00\r\n$1\r\n5\r\n'
    assert resp.encode_command(['GET', '']) == b'*2\r\n$3\r\nGET\r\n$0\r\n\r\n'


def test_replies_hashable_and_sortable():
    values = [want for _, want in CASES]
    assert len(set(values)) == len(values)
    sorted(v for v in values if v[0] in ('bulk', 'int'))


def _fake_server(reply_bytes, expect_cmds, chunk=1, close=False):
    """A one-connection server: reads `expect_cmds` commands, then sends
    reply_bytes in chunks of `chunk` bytes."""
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    got = []

    def serve():
        conn, _ = ls.accept()
        buf = b''
        with conn:
            while True:
                try:
                    n = 0
                    pos = 0
                    while n < expect_cmds:
                        _, pos = resp.parse_reply(buf, pos)
                        n += 1
                    break
                except resp.Incomplete:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
            got.append(buf)
            for i in range(0, len(reply_bytes), chunk):
                conn.sendall(reply_bytes[i:i + chunk])
            if not close:
                conn.recv(1)     # wait for the client to close
        ls.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return port, t, got


def test_pipeline_fragmented_with_push():
    wire = b''.join(w for w, _ in CASES if not w.startswith(b'>'))
    want = [v for w, v in CASES if not w.startswith(b'>')]
    # a push message before the replies must not count as a reply
    wire = b'>1\r\n+inv\r\n' + wire
    port, t, got = _fake_server(wire, len(want), chunk=7)
    with resp.Client('127.0.0.1', port, timeout=10) as c:
        cmds = [['PING', str(i)] for i in range(len(want))]
        replies = c.pipeline(cmds)
        assert replies == want, replies
        assert c.pushes == [('push', (('simple', b'inv'),))]
    t.join(5)
    assert got[0] == resp.encode_commands(cmds)


def test_pipeline_reports_short_read():
    port, t, _ = _fake_server(b'+OK\r\n', 2, chunk=100, close=True)
    with resp.Client('127.0.0.1', port, timeout=10) as c:
        (replies, err), = resp.pipeline_multi([(c, [['A'], ['B']])], timeout=10)
        c.sock.close()
    assert replies == [('simple', b'OK')]
    assert err and 'closed' in err, err
    t.join(5)


def test_pipeline_reports_garbage():
    port, t, _ = _fake_server(b'+OK\r\n?what\r\n', 2, chunk=100)
    with resp.Client('127.0.0.1', port, timeout=10) as c:
        (replies, err), = resp.pipeline_multi([(c, [['A'], ['B']])], timeout=10)
    assert replies == [('simple', b'OK')]
    assert err and 'protocol error' in err, err
    t.join(5)


def test_pipeline_reports_extra_bytes():
    port, t, _ = _fake_server(b'+OK\r\n+EXTRA\r\n', 1, chunk=100)
    with resp.Client('127.0.0.1', port, timeout=10) as c:
        (replies, err), = resp.pipeline_multi([(c, [['A']])], timeout=10)
    assert err is None or 'desync' in err, err
    t.join(5)


def run_all():
    for name, fn in sorted(globals().items()):
        if name.startswith('test_') and callable(fn):
            fn()


if __name__ == '__main__':
    run_all()
    print('test_resp: ok')
