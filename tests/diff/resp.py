"""Minimal RESP2/RESP3 client for the differential test (standard library only).

Replies are decoded into plain, hashable, comparable tuples that keep the wire
type, so that two servers can be compared exactly:

    +OK            -> ('simple', b'OK')
    -ERR x         -> ('err', b'ERR x')
    :5             -> ('int', 5)
    $3 abc         -> ('bulk', b'abc')
    $-1            -> ('nil',)                 RESP2 null bulk string
    *-1            -> ('nil_arr',)             RESP2 null array
    *2 ...         -> ('arr', (r1, r2))
    _              -> ('null',)                RESP3 null
    ,3.14          -> ('double', b'3.14')      raw text, compared byte for byte
    #t / #f        -> ('bool', True) / ('bool', False)
    (123...        -> ('big', b'123...')       raw text
    !5 ...         -> ('bloberr', b'...')      RESP3 blob error
    =7 txt:abc     -> ('verb', b'txt', b'abc') RESP3 verbatim string
    %1 k v         -> ('map', ((k, v),))       pairs in wire order
    ~2 a b         -> ('set', (a, b))          elements in wire order
    >2 a b         -> ('push', (a, b))         out-of-band; not returned as a reply
    |1 k v <reply> -> ('attr', ((k, v),), reply)

An integer whose text is not canonical (":+5", ":05") decodes to
('badint', b'+5') so that it never compares equal to a well-formed one.

Client.pipeline(cmds) sends N commands and reads N replies; pipeline_multi()
does the same on several connections at once, writing and reading without
blocking so that a server which stops reading while its output is pending
cannot deadlock the harness.
"""

import selectors
import socket
import time

__all__ = [
    'ProtocolError', 'ReplyError', 'Client', 'encode_command', 'encode_commands', 'parse_reply',
    'Incomplete', 'pipeline_multi', 'format_reply',
]

CRLF = b'\r\n'


class ProtocolError(Exception):
    """The server sent bytes that are not valid RESP."""


class ReplyError(Exception):
    """Raised by Client.call_ok() when the server answers with an error."""


class Incomplete(Exception):
    """The buffer does not yet hold a whole reply."""


_INCOMPLETE = Incomplete()


def to_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, str):
        return a.encode('utf-8')
    if isinstance(a, bool):
        raise TypeError('bool argument')
    if isinstance(a, int):
        return b'%d' % a
    if isinstance(a, (bytearray, memoryview)):
        return bytes(a)
    raise TypeError('cannot send %r as a RESP argument' % (a,))


def encode_command(args):
    """A command as a RESP array of bulk strings."""
    if not args:
        raise ValueError('empty command (servers send no reply to *0)')
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = to_bytes(a)
        out.append(b'$%d\r\n' % len(a))
        out.append(a)
        out.append(CRLF)
    return b''.join(out)


def encode_commands(cmds):
    return b''.join(encode_command(c) for c in cmds)


def _length(line):
    try:
        n = int(line)
    except ValueError:
        raise ProtocolError('bad length %r' % line)
    if b'%d' % n != line:
        raise ProtocolError('non-canonical length %r' % line)
    return n


def parse_reply(buf, pos=0):
    """Parse one reply from bytes `buf` at `pos`. Returns (value, new_pos).

    Raises Incomplete when more bytes are needed, ProtocolError on garbage.
    """
    end = buf.find(CRLF, pos)
    if end < 0:
        raise _INCOMPLETE
    if end == pos:
        raise ProtocolError('empty line where a reply type was expected')
    t = buf[pos]
    line = buf[pos + 1:end]
    pos = end + 2
    if t == 0x24:  # $ bulk
        n = _length(line)
        if n < 0:
            if n != -1:
                raise ProtocolError('bad bulk length %d' % n)
            return ('nil',), pos
        stop = pos + n
        if len(buf) < stop + 2:
            raise _INCOMPLETE
        if buf[stop:stop + 2] != CRLF:
            raise ProtocolError('bulk string not terminated by CRLF')
        return ('bulk', buf[pos:stop]), stop + 2
    if t == 0x2b:  # + simple
        return ('simple', line), pos
    if t == 0x3a:  # : integer
        try:
            v = int(line)
        except ValueError:
            return ('badint', line), pos
        if b'%d' % v != line:
            return ('badint', line), pos
        return ('int', v), pos
    if t == 0x2d:  # - error
        return ('err', line), pos
    if t in (0x2a, 0x7e, 0x3e):  # * array, ~ set, > push
        n = _length(line)
        if n < 0:
            if t == 0x2a and n == -1:
                return ('nil_arr',), pos
            raise ProtocolError('bad aggregate length %d' % n)
        items = []
        for _ in range(n):
            v, pos = parse_reply(buf, pos)
            items.append(v)
        tag = 'arr' if t == 0x2a else ('set' if t == 0x7e else 'push')
        return (tag, tuple(items)), pos
    if t in (0x25, 0x7c):  # % map, | attribute
        n = _length(line)
        if n < 0:
            raise ProtocolError('bad map length %d' % n)
        pairs = []
        for _ in range(n):
            k, pos = parse_reply(buf, pos)
            v, pos = parse_reply(buf, pos)
            pairs.append((k, v))
        if t == 0x25:
            return ('map', tuple(pairs)), pos
        reply, pos = parse_reply(buf, pos)
        return ('attr', tuple(pairs), reply), pos
    if t == 0x5f:  # _ null
        if line:
            raise ProtocolError('null with payload %r' % line)
        return ('null',), pos
    if t == 0x2c:  # , double
        return ('double', line), pos
    if t == 0x23:  # # boolean
        if line == b't':
            return ('bool', True), pos
        if line == b'f':
            return ('bool', False), pos
        raise ProtocolError('bad boolean %r' % line)
    if t == 0x28:  # ( big number
        return ('big', line), pos
    if t in (0x21, 0x3d):  # ! blob error, = verbatim
        n = _length(line)
        if n < 0:
            raise ProtocolError('bad blob length %d' % n)
        stop = pos + n
        if len(buf) < stop + 2:
            raise _INCOMPLETE
        if buf[stop:stop + 2] != CRLF:
            raise ProtocolError('blob not terminated by CRLF')
        data = buf[pos:stop]
        if t == 0x21:
            return ('bloberr', data), stop + 2
        if n < 4 or data[3:4] != b':':
            raise ProtocolError('bad verbatim string %r' % data[:16])
        return ('verb', data[:3], data[4:]), stop + 2
    raise ProtocolError('unknown reply type byte %r' % bytes([t]))


class Client:
    """One connection. Not thread safe."""

    def __init__(self, host='127.0.0.1', port=6379, timeout=30.0, name=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.name = name or '%s:%d' % (host, port)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b''
        self._pos = 0
        self.pushes = []   # RESP3 push messages received out of band

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- buffer handling -------------------------------------------------
    def _feed(self, data):
        if self._pos:
            self._buf = self._buf[self._pos:] + data
            self._pos = 0
        else:
            self._buf += data

    def _drain(self, out, limit):
        """Move complete replies from the buffer into `out` (at most limit)."""
        buf, pos = self._buf, self._pos
        try:
            while len(out) < limit and pos < len(buf):
                v, pos = parse_reply(buf, pos)
                if v[0] == 'push':
                    self.pushes.append(v)
                    continue
                out.append(v)
        except Incomplete:
            pass
        self._pos = pos

    def pending_bytes(self):
        return len(self._buf) - self._pos

    # -- commands --------------------------------------------------------
    def call(self, *args):
        """Send one command, return its decoded reply (blocking I/O: one
        small command cannot fill the socket buffers)."""
        try:
            self.sock.sendall(encode_command(args))
        except socket.timeout:
            raise ConnectionError('%s: no reply within %.0fs' % (self.name, self.timeout))
        return self.read_reply()

    def read_reply(self):
        """Wait for the next reply (of a command sent earlier, e.g. one that
        blocks) and return it decoded."""
        out = []
        try:
            while True:
                self._drain(out, 1)
                if out:
                    break
                chunk = self.sock.recv(1 << 18)
                if not chunk:
                    raise ConnectionError('%s: connection closed by server' % self.name)
                self._feed(chunk)
        except socket.timeout:
            raise ConnectionError('%s: no reply within %.0fs' % (self.name, self.timeout))
        except ProtocolError as e:
            raise ConnectionError('%s: protocol error: %s' % (self.name, e))
        if self.pending_bytes():
            raise ConnectionError('%s: protocol desync: %d unexpected bytes after the reply'
                                  % (self.name, self.pending_bytes()))
        return out[0]

    def call_ok(self, *args):
        r = self.call(*args)
        if r[0] in ('err', 'bloberr'):
            raise ReplyError(r[1].decode('utf-8', 'replace'))
        return r

    def pipeline(self, cmds):
        """Send every command, then return the list of replies."""
        replies, err = pipeline_multi([(self, cmds)], self.timeout)[0]
        if err:
            raise ConnectionError(err)
        return replies


def pipeline_multi(jobs, timeout=30.0):
    """Run several pipelines at once.

    jobs: [(client, [cmd, ...]), ...], or [(client, payload, n), ...] with the
    commands already encoded (encode_commands) to send the same bytes to
    several servers without encoding them twice. Returns [(replies, error),
    ...] in the same order; error is None, or a string when the connection
    failed, timed out or sent garbage (replies then holds what was decoded
    before that).
    """
    sel = selectors.DefaultSelector()
    states = []
    for job in jobs:
        if len(job) == 3:
            client, payload, want = job
        else:
            client, cmds = job
            payload, want = encode_commands(cmds), len(cmds)
        st = {'client': client, 'data': memoryview(payload), 'sent': 0,
              'want': want, 'replies': [], 'error': None}
        states.append(st)
        if not want:
            continue
        client.sock.setblocking(False)
        sel.register(client.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, st)
    pending = sum(1 for st in states if st['want'])
    deadline = time.monotonic() + timeout

    def finish(st, error=None):
        nonlocal pending
        st['error'] = error
        sel.unregister(st['client'].sock)
        pending -= 1

    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                for key in list(sel.get_map().values()):
                    st = key.data
                    finish(st, 'timeout after %.0fs: %d of %d replies received'
                           % (timeout, len(st['replies']), st['want']))
                break
            for key, mask in sel.select(min(left, 1.0)):
                st = key.data
                client = st['client']
                sock = client.sock
                try:
                    if mask & selectors.EVENT_WRITE and st['sent'] < len(st['data']):
                        n = sock.send(st['data'][st['sent']:st['sent'] + (1 << 20)])
                        st['sent'] += n
                        if st['sent'] == len(st['data']):
                            sel.modify(sock, selectors.EVENT_READ, st)
                    if mask & selectors.EVENT_READ:
                        chunk = sock.recv(1 << 18)
                        if not chunk:
                            finish(st, 'connection closed by server after %d of %d replies'
                                   % (len(st['replies']), st['want']))
                            continue
                        client._feed(chunk)
                        client._drain(st['replies'], st['want'])
                        if len(st['replies']) >= st['want']:
                            if client.pending_bytes():
                                finish(st, 'protocol desync: %d unexpected bytes after '
                                       'the last reply: %r' % (client.pending_bytes(),
                                       client._buf[client._pos:client._pos + 60]))
                            else:
                                finish(st)
                except (BlockingIOError, InterruptedError):
                    pass
                except ProtocolError as e:
                    finish(st, 'protocol error after %d replies: %s' % (len(st['replies']), e))
                except OSError as e:
                    finish(st, 'connection error after %d replies: %s' % (len(st['replies']), e))
    finally:
        sel.close()
        for st in states:
            client = st['client']
            try:
                client.sock.setblocking(True)
                client.sock.settimeout(client.timeout)
            except OSError:
                pass
    return [(st['replies'], st['error']) for st in states]


# -- display -----------------------------------------------------------------

def _q(b, limit):
    s = b.decode('latin-1')
    more = ''
    if len(b) > limit:
        s = s[:limit]
        more = '...(%d bytes)' % len(b)
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == '\\':
            out.append('\\' + ch)
        elif 32 <= o < 127:
            out.append(ch)
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        else:
            out.append('\\x%02x' % o)
    return '"' + ''.join(out) + '"' + more


def format_reply(v, limit=120):
    """A compact one-line rendering of a decoded reply."""
    if not isinstance(v, tuple) or not v or not isinstance(v[0], str):
        return repr(v)
    t = v[0]
    if t in ('nil', 'nil_arr', 'null'):
        return '(%s)' % t
    if t == 'int':
        return '(integer) %d' % v[1]
    if t == 'bool':
        return '(boolean) %s' % ('true' if v[1] else 'false')
    if t in ('simple', 'err', 'bloberr', 'double', 'big', 'badint'):
        return '(%s) %s' % (t, _q(v[1], limit))
    if t == 'bulk':
        return _q(v[1], limit)
    if t == 'verb':
        return '(verbatim %s) %s' % (v[1].decode('latin-1'), _q(v[2], limit))
    if t in ('arr', 'set', 'push'):
        items = v[1]
        shown = ', '.join(format_reply(x, limit) for x in items[:20])
        if len(items) > 20:
            shown += ', ...(%d items)' % len(items)
        return '%s[%s]' % ({'arr': '', 'set': 'set', 'push': 'push'}[t], shown)
    if t == 'map':
        pairs = v[1]
        shown = ', '.join('%s: %s' % (format_reply(k, limit), format_reply(x, limit))
                          for k, x in pairs[:20])
        if len(pairs) > 20:
            shown += ', ...(%d pairs)' % len(pairs)
        return '{%s}' % shown
    if t == 'attr':
        return '|attr %s| %s' % (format_reply(('map', v[1]), limit), format_reply(v[2], limit))
    return repr(v)
