"""Stream commands: XADD (NOMKSTREAM, MAXLEN/MINID with = and ~, LIMIT,
explicit, `ms-*` and invalid IDs), XLEN, XRANGE, XREVRANGE (COUNT,
exclusive bounds), XDEL, XTRIM, XREAD (COUNT, `$`), XGROUP CREATE
(MKSTREAM, ENTRIESREAD) / SETID / DESTROY / CREATECONSUMER / DELCONSUMER /
HELP, XREADGROUP (COUNT, NOACK, `>` and history IDs), XACK, XPENDING
(summary, extended, IDLE, consumer), XCLAIM (IDLE, TIME, RETRYCOUNT, FORCE,
JUSTID, LASTID), XAUTOCLAIM (COUNT, JUSTID, deleted entries), XINFO STREAM
(FULL, COUNT) / GROUPS / CONSUMERS / HELP, XSETID (ENTRIESADDED,
MAXDELETEDID), OBJECT ENCODING of streams.

Determinism: IDs are always explicit (never `*`), drawn from a counter that
only grows, so most XADDs succeed and some reuse old IDs on purpose. Time
never decides a reply: min-idle times are 0, negative or an hour (only
entries given an old delivery time with TIME qualify), and BLOCK is not
used. XSETID never moves an emptied stream's last ID backwards: Redis then
keeps appending to a listpack node whose master ID is above the new
entries, and its MINID trimming of that node differs (a layout artifact).
Approximate trimming (`~`) only appears where the result does not
depend on Redis's node layout (thresholds above the stream length, MINID
below every entry, or argument errors).

Normalizer (defined here, used through gen.Cmd):
  XPENDING, XINFO   idle times, seen times, delivery times and the
                    radix-tree figures (Redis's memory layout) are zeroed.
"""

import collections
import select
import time

import resp
from gen import Cmd, Group, binary, mangle_arity, prepare, randcase, weighted
from normalize import Exact

WEIGHT = 3.0

LONG_GROUP = 'z' * 600
LONG_CONSUMER = 'z' * 520 + 'c'
TIME_KEYS = {b'idle', b'seen-time', b'radix-tree-keys', b'radix-tree-nodes'}


def _zero(v):
    return ('int', 0) if v[0] == 'int' else v


def _pending_list(v):
    """Group PEL rows [id, name, time, count] and consumer PEL rows
    [id, time, count]: zero the time."""
    if v[0] != 'arr':
        return v
    rows = []
    for row in v[1]:
        if row[0] == 'arr' and len(row[1]) == 4:
            r = list(row[1])
            r[2] = _zero(r[2])
            row = ('arr', tuple(r))
        elif row[0] == 'arr' and len(row[1]) == 3:
            r = list(row[1])
            r[1] = _zero(r[1])
            row = ('arr', tuple(r))
        rows.append(row)
    return ('arr', tuple(rows))


def _scrub(v):
    """Walk a reply; in maps (RESP3) and flat key/value arrays (RESP2),
    zero time-dependent values."""
    if v[0] == 'map':
        out = []
        for k, x in v[1]:
            if k[0] == 'bulk' and k[1] in TIME_KEYS:
                x = _zero(x)
            elif k[0] == 'bulk' and k[1] == b'pending':
                x = _pending_list(x)
            else:
                x = _scrub(x)
            out.append((k, x))
        return ('map', tuple(out))
    if v[0] == 'arr':
        items = list(v[1])
        flat_map = len(items) % 2 == 0 and all(
            items[i][0] == 'bulk' for i in range(0, len(items), 2)) and any(
            items[i][0] == 'bulk' and items[i][1] in (b'name', b'length') for i in
            range(0, len(items), 2))
        if flat_map:
            for i in range(0, len(items), 2):
                if items[i][1] in TIME_KEYS:
                    items[i + 1] = _zero(items[i + 1])
                elif items[i][1] == b'pending':
                    items[i + 1] = _pending_list(items[i + 1])
                else:
                    items[i + 1] = _scrub(items[i + 1])
        else:
            items = [_scrub(x) for x in items]
        return ('arr', tuple(items))
    return v


class StreamTimes(Exact):
    name = 'stream-times'

    def show(self, v):
        return _scrub(v)

    def equal(self, a, b):
        return self.show(a) == self.show(b)


class PendingTimes(Exact):
    """XPENDING's extended form: [id, consumer, idle, count] rows."""
    name = 'xpending-idle'

    def show(self, v):
        return _pending_list(v)

    def equal(self, a, b):
        return self.show(a) == self.show(b)


TIMES = StreamTimes()
PENDING = PendingTimes()


class IdClock:
    """A growing millisecond counter for explicit IDs."""

    def __init__(self):
        self.ms = 1
        self.recent = collections.deque(maxlen=48)

    def fresh(self, rng):
        self.ms += rng.randint(0, 2)
        r = rng.random()
        if r < 0.45:
            eid = '%d-%d' % (self.ms, rng.randint(0, 3))
            self.recent.append(eid)
            return eid
        if r < 0.7:
            return '%d-*' % self.ms
        if r < 0.85:
            return str(self.ms)
        return '%d-%d' % (self.ms, rng.randint(4, 20))

    def old(self, rng):
        return '%d-%d' % (rng.randint(0, max(1, self.ms)), rng.randint(0, 4))

    def known(self, rng):
        """An ID recently given to XADD: likely an entry that exists, was
        delivered and is pending somewhere (random old IDs almost never
        are, and XCLAIM of them claims nothing)."""
        if self.recent and rng.random() < 0.7:
            return rng.choice(self.recent)
        return self.old(rng)

    def any(self, rng):
        r = rng.random()
        if r < 0.7:
            return self.old(rng)
        if r < 0.8:
            return str(rng.randint(0, self.ms + 2))
        return rng.choice(['0-0', '0', '-', '+', 'abc', '1-x', '', '(5', '18446744073709551615',
                           '18446744073709551615-18446744073709551615', '1-18446744073709551616',
                           ' 5', '+5', '-1', '5-', '5--1', '0-1'])


CLOCK = IdClock()


def group(rng):
    r = rng.random()
    if r < 0.9:
        return rng.choice(['g1', 'g2', 'g3'])
    if r < 0.95:
        return LONG_GROUP
    return rng.choice(['nog', ''])


def consumer(rng):
    r = rng.random()
    if r < 0.9:
        return rng.choice(['c1', 'c2', 'c3', 'c4'])
    if r < 0.95:
        return LONG_CONSUMER
    return rng.choice(['', 'x y'])


def fields(rng):
    out = []
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.7:
            out += [rng.choice(['a', 'b', 'temp', 'name', '1']), rng.choice(['1', 'v', 'xyz', '-5'])]
        elif r < 0.85:
            out += [binary(rng, 1, 8), binary(rng, 0, 8)]
        elif r < 0.95:
            out += ['', 'e' * rng.randint(0, 3)]
        else:
            out += ['big', 'B' * rng.randint(600, 2000)]
    return out


def trim_opts(rng, xadd):
    r = rng.random()
    if r < 0.45:
        return [randcase(rng, 'MAXLEN')] + rng.choice([[], ['=']]) + [str(rng.randint(0, 8))]
    if r < 0.65:
        return [randcase(rng, 'MINID')] + rng.choice([[], ['=']]) + [CLOCK.old(rng)]
    if r < 0.75:
        # approximate forms whose result does not depend on node layout
        return rng.choice([['MAXLEN', '~', '1000'], ['MAXLEN', '~', '5000', 'LIMIT', '10'],
                           ['MINID', '~', '0'], ['MINID', '~', '0-1', 'LIMIT', '0']])
    return rng.choice([['MAXLEN', '-1'], ['MAXLEN', 'abc'], ['MAXLEN', '5', 'LIMIT', '10'],
                       ['MINID', 'abc'], ['LIMIT', '5'], ['MAXLEN', '5', 'MINID', '1'],
                       ['MAXLEN', '~', '5', 'LIMIT', '-1'], ['MAXLEN', '~', '5', 'LIMIT', 'x'],
                       ['MINID', '-'], ['MAXLEN'], ['FOO', '1'] if not xadd else ['MAXLEN', '1.5']])


def op_xadd(rng, ks):
    cmd = [randcase(rng, 'XADD'), ks.key(rng)]
    if rng.random() < 0.1:
        cmd.append(randcase(rng, 'NOMKSTREAM'))
    if rng.random() < 0.25:
        cmd += trim_opts(rng, True)
    r = rng.random()
    if r < 0.82:
        cmd.append(CLOCK.fresh(rng))
    elif r < 0.95:
        cmd.append(CLOCK.any(rng))
    elif r < 0.99:
        cmd.append(rng.choice(['0-*', '0-0']))
    else:
        # the last possible ID: the key then refuses every XADD until deleted
        cmd.append(rng.choice(['18446744073709551615-*', '18446744073709551615-18446744073709551615']))
    cmd += fields(rng)
    if rng.random() < 0.03:
        cmd.append('odd')
    return cmd


def op_xlen(rng, ks):
    return [randcase(rng, 'XLEN'), ks.key(rng)]


def op_range(rng, ks):
    rev = rng.random() < 0.4
    a, b = CLOCK.any(rng), CLOCK.any(rng)
    if rng.random() < 0.3:
        a, b = '-', '+'
    if rng.random() < 0.15:
        a = '(' + a
    if rng.random() < 0.15:
        b = '(' + b
    if rev:
        a, b = (b if b != '-' else '+'), (a if a != '+' else '-')
    cmd = [randcase(rng, 'XREVRANGE' if rev else 'XRANGE'), ks.key(rng), a, b]
    r = rng.random()
    if r < 0.3:
        cmd += [randcase(rng, 'COUNT'), str(rng.randint(-1, 5))]
    elif r < 0.35:
        cmd += rng.choice([['COUNT'], ['COUNT', 'x'], ['FOO', '1'], ['COUNT', '1', 'COUNT', '2']])
    return cmd


def op_xdel(rng, ks):
    return [randcase(rng, 'XDEL'), ks.key(rng)] + [rng.choice([CLOCK.any, CLOCK.known])(rng)
                                                   for _ in range(rng.randint(1, 3))]


def op_xtrim(rng, ks):
    return [randcase(rng, 'XTRIM'), ks.key(rng)] + trim_opts(rng, False)


def block_opt(rng):
    """BLOCK in the single-connection stream: nothing else can write while a
    read waits, so a read that finds nothing times out with nil after a few
    milliseconds; one that finds entries answers at once, as without BLOCK.
    BLOCK 0 (forever) appears only where entries are certain to be there:
    never here."""
    return [randcase(rng, 'BLOCK'), rng.choice(['1', '1', '3', '-1', 'x', '1.5'])]


def op_xread(rng, ks):
    cmd = [randcase(rng, 'XREAD')]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'COUNT'), str(rng.randint(-1, 4))]
    if rng.random() < 0.1:
        cmd += block_opt(rng)
    if rng.random() < 0.03:
        cmd += rng.choice([['NOACK'], ['GROUP', 'g1', 'c1'], ['FOO'], ['COUNT', 'x']])
    keys = ks.some(rng, 1, 3)
    ids = [rng.choice(['$', '0', CLOCK.old(rng), CLOCK.any(rng), '+', '>']) for _ in keys]
    cmd += [randcase(rng, 'STREAMS')] + keys + ids
    if rng.random() < 0.03:
        cmd.pop()
    return cmd


def op_xreadgroup(rng, ks):
    cmd = [randcase(rng, 'XREADGROUP')]
    if rng.random() < 0.97:
        cmd += [randcase(rng, 'GROUP'), group(rng), consumer(rng)]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'COUNT'), str(rng.randint(-1, 4))]
    if rng.random() < 0.1:
        cmd += block_opt(rng)
    if rng.random() < 0.2:
        cmd.append(randcase(rng, 'NOACK'))
    keys = ks.some(rng, 1, 2)
    ids = [rng.choice(['>', '>', '>', '0', CLOCK.old(rng), '$', 'abc']) for _ in keys]
    cmd += [randcase(rng, 'STREAMS')] + keys + ids
    if rng.random() < 0.02:
        cmd.pop()
    return cmd


def op_xgroup(rng, ks):
    sub = rng.choice(['CREATE'] * 4 + ['SETID'] * 2 + ['DESTROY', 'CREATECONSUMER',
                                                       'CREATECONSUMER', 'DELCONSUMER', 'HELP'])
    key = ks.key(rng)
    if sub == 'HELP':
        return ['XGROUP', randcase(rng, 'HELP')]
    cmd = ['XGROUP', randcase(rng, sub), key, group(rng)]
    if sub in ('CREATE', 'SETID'):
        cmd.append(rng.choice(['$', '0', CLOCK.old(rng), CLOCK.any(rng)]))
        if sub == 'CREATE' and rng.random() < 0.5:
            cmd.append(randcase(rng, 'MKSTREAM'))
        if rng.random() < 0.25:
            cmd += [randcase(rng, 'ENTRIESREAD'), rng.choice(['0', '1', '3', '-1', '-2', 'x', '100'])]
        if rng.random() < 0.04:
            cmd.append(rng.choice(['FOO', 'MKSTREAM']))
    elif sub in ('CREATECONSUMER', 'DELCONSUMER'):
        cmd.append(consumer(rng))
    return cmd


def ids_for(rng):
    return sorted(set(CLOCK.known(rng) for _ in range(rng.randint(1, 4))),
                  key=lambda e: tuple(int(x) for x in e.split('-')))


def op_xack(rng, ks):
    ids = ids_for(rng)
    if rng.random() < 0.05:
        ids.append('abc')
    return [randcase(rng, 'XACK'), ks.key(rng), group(rng)] + ids


def op_xpending(rng, ks):
    cmd = [randcase(rng, 'XPENDING'), ks.key(rng), group(rng)]
    if rng.random() < 0.4:
        return cmd
    if rng.random() < 0.3:
        cmd += [randcase(rng, 'IDLE'), rng.choice(['0', '3600000', '-5', 'x'])]
    a, b = rng.choice([('-', '+'), (CLOCK.old(rng), '+'), ('(' + CLOCK.old(rng), CLOCK.old(rng)),
                       ('-', 'abc')])
    cmd += [a, b, rng.choice(['10', '1', '2', '0', '-1', 'x'])]
    if rng.random() < 0.4:
        cmd.append(consumer(rng))
    if rng.random() < 0.03:
        cmd += ['extra', 'args']
    return Cmd(cmd, norm=PENDING)


def op_xclaim(rng, ks):
    cmd = [randcase(rng, 'XCLAIM'), ks.key(rng), group(rng), consumer(rng),
           rng.choice(['0', '0', '3600000', '-1', 'x'])] + ids_for(rng)
    for opt in rng.sample(['IDLE', 'TIME', 'RETRYCOUNT', 'FORCE', 'JUSTID', 'LASTID', 'BAD'],
                          rng.randint(0, 3)):
        if opt == 'IDLE':
            cmd += [randcase(rng, opt), rng.choice(['0', '7200000', '-1', 'x'])]
        elif opt == 'TIME':
            cmd += [randcase(rng, opt), rng.choice(['1000', '0', '-5', '99999999999999', 'x'])]
        elif opt == 'RETRYCOUNT':
            cmd += [randcase(rng, opt), rng.choice(['0', '5', '-1', 'x'])]
        elif opt == 'LASTID':
            cmd += [randcase(rng, opt), rng.choice([CLOCK.old(rng), 'abc'])]
        elif opt == 'BAD':
            if rng.random() < 0.3:
                cmd.append('NOPE')
        else:
            cmd.append(randcase(rng, opt))
    return cmd


def op_xautoclaim(rng, ks):
    cmd = [randcase(rng, 'XAUTOCLAIM'), ks.key(rng), group(rng), consumer(rng),
           rng.choice(['0', '0', '3600000', '-1', 'x']),
           rng.choice(['0', '-', CLOCK.old(rng), '(' + CLOCK.old(rng), 'abc', '+'])]
    if rng.random() < 0.5:
        cmd += [randcase(rng, 'COUNT'), rng.choice(['1', '2', '3', '100', '0', '-1', 'x'])]
    if rng.random() < 0.3:
        cmd.append(randcase(rng, 'JUSTID'))
    if rng.random() < 0.03:
        cmd.append('FOO')
    return cmd


def op_xinfo(rng, ks):
    r = rng.random()
    key = ks.key(rng)
    if r < 0.35:
        cmd = ['XINFO', randcase(rng, 'STREAM'), key]
        r2 = rng.random()
        if r2 < 0.4:
            cmd.append(randcase(rng, 'FULL'))
            if rng.random() < 0.5:
                cmd += [randcase(rng, 'COUNT'), rng.choice(['0', '1', '2', '-1', 'x'])]
        elif r2 < 0.45:
            cmd += rng.choice([['FOO'], ['FULL', 'COUNT'], ['FULL', 'X', '1']])
    elif r < 0.65:
        cmd = ['XINFO', randcase(rng, 'GROUPS'), key]
    elif r < 0.95:
        cmd = ['XINFO', randcase(rng, 'CONSUMERS'), key, group(rng)]
    else:
        cmd = ['XINFO', rng.choice(['HELP', 'FOO'])]
    return Cmd(cmd, norm=TIMES)


def op_xsetid(rng, ks):
    cmd = [randcase(rng, 'XSETID'), ks.key(rng),
           rng.choice(['%d-%d' % (CLOCK.ms, 9), '%d-%d' % (CLOCK.ms + 1, 0), '%d' % (CLOCK.ms + 1),
                       'abc'])]
    if rng.random() < 0.3:
        cmd += [randcase(rng, 'ENTRIESADDED'), rng.choice(['0', '3', '1000', '1000', '5000', '-1', 'x'])]
    if rng.random() < 0.3:
        cmd += [randcase(rng, 'MAXDELETEDID'), rng.choice([CLOCK.old(rng), CLOCK.old(rng), '0-0', 'abc'])]
    if rng.random() < 0.03:
        cmd.append('FOO')
    return cmd


def op_encoding(rng, ks):
    return ['OBJECT', 'ENCODING', ks.key(rng)]


def op_scenario(rng, ks):
    """A deterministic consumer-group workout on one key: fill, create
    groups, read with two consumers, ack some, delete some entries, claim,
    then look at everything."""
    key = ks.key(rng)
    items = [['DEL', key]]
    own = []
    for _ in range(rng.randint(3, 12)):
        CLOCK.ms += 1
        own.append('%d-%d' % (CLOCK.ms, rng.randint(0, 3)))
        items.append(['XADD', key, own[-1]] + fields(rng))

    def some():
        return sorted(rng.sample(own, rng.randint(1, min(4, len(own)))),
                      key=lambda e: tuple(int(x) for x in e.split('-')))
    items.append(['XGROUP', 'CREATE', key, 'g1', rng.choice(['0', '$', CLOCK.old(rng)])])
    items.append(['XGROUP', 'CREATE', key, 'g2', '0', 'ENTRIESREAD', rng.choice(['0', '2'])])
    items.append(['XREADGROUP', 'GROUP', 'g1', 'c1', 'COUNT', str(rng.randint(1, 4)),
                  'STREAMS', key, '>'])
    items.append(['XREADGROUP', 'GROUP', 'g1', 'c2', 'STREAMS', key, '>'])
    items.append(['XREADGROUP', 'GROUP', 'g2', 'c1', 'COUNT', '2', 'STREAMS', key, '>'])
    items.append(['XACK', key, 'g1'] + some())
    items.append(['XDEL', key] + some())
    items.append(['XCLAIM', key, 'g1', 'c3', '0'] + some() + rng.choice(
        [[], ['JUSTID'], ['TIME', '1000'], ['IDLE', '5000', 'RETRYCOUNT', '7'], ['FORCE'],
         ['FORCE', 'JUSTID', 'LASTID', own[-1]], ['LASTID', '99999999-0']]))
    items.append(Cmd(['XPENDING', key, 'g1', 'IDLE', '3600000', '-', '+', '10'], norm=PENDING))
    items.append(Cmd(['XPENDING', key, 'g1', '-', '+', '10', 'c3'], norm=PENDING))
    items.append(['XAUTOCLAIM', key, 'g1', 'c4', '0', '0', 'COUNT', str(rng.randint(1, 5))])
    items.append(['XREADGROUP', 'GROUP', 'g1', 'c1', 'STREAMS', key, '0'])
    items.append(Cmd(['XPENDING', key, 'g1', '-', '+', '100'], norm=PENDING))
    items.append(['XPENDING', key, 'g1'])
    items.append(Cmd(['XINFO', 'GROUPS', key], norm=TIMES))
    items.append(Cmd(['XINFO', 'STREAM', key], norm=TIMES))
    items.append(Cmd(['XINFO', 'STREAM', key, 'FULL'], norm=TIMES))
    items.append(Cmd(['XINFO', 'CONSUMERS', key, 'g1'], norm=TIMES))
    return Group(items)


class BlockedWake(Exact):
    """Clients blocked in XREAD / XREADGROUP, then woken by writes from the
    main connection (plain, inside MULTI/EXEC or inside a Lua script).

    A compound normalizer: on each server on its own, the readers connect
    and block one after the other (each waits until INFO counts it as
    blocked, so the blocking order is fixed), then the main connection runs
    the writes. The result compared exactly is the writes' replies plus
    every reader's reply in blocking order: who got which entries shows the
    serving order. Readers left waiting are then ended by CLIENT UNBLOCK
    (nil, as for a timeout; its 1/0 reply tells who was still blocked), so
    no timing decides a reply even on a loaded machine."""
    compound = True
    name = 'blocked-wake'

    def __init__(self, readers, writes):
        self.readers = [[resp.to_bytes(a) for a in r] for r in readers]
        self.writes = [[resp.to_bytes(a) for a in w] for w in writes]

    @staticmethod
    def blocked(client):
        info = client.call(b'INFO', b'clients')
        text = info[2] if info[0] == 'verb' else info[1]    # RESP3: verbatim string
        for line in text.split(b'\r\n'):
            if line.startswith(b'blocked_clients:'):
                return int(line.split(b':')[1])
        raise resp.ProtocolError('INFO clients has no blocked_clients line')

    def run(self, client, args):
        conns, out = [], []
        try:
            base = self.blocked(client)
            ids = []
            for r in self.readers:
                c = resp.Client(client.host, client.port, timeout=client.timeout)
                conns.append(c)
                ids.append(c.call(b'CLIENT', b'ID')[1])
                c.sock.sendall(resp.encode_command(r))
                deadline = time.time() + 5
                while time.time() < deadline:
                    if self.blocked(client) > base:
                        base += 1
                        break
                    if select.select([c.sock], [], [], 0.002)[0]:
                        break               # answered at once (entries there, or an error)
            for w in self.writes:
                out.append(client.call(*w))
            # readers nothing was served to are still blocked: end their wait
            # now (the reply is nil, as for a timeout) rather than by a clock
            for i in ids:
                out.append(client.call(b'CLIENT', b'UNBLOCK', b'%d' % i))
            for c in conns:
                out.append(c.read_reply())
        finally:
            for c in conns:
                c.close()
        return ('blocked-wake', tuple(out))


def op_block_wake(rng, ks):
    """One to three readers block on a private stream, then XADDs arrive
    plainly, in MULTI/EXEC or from Lua."""
    key = ks.private('strm:block')
    other = ks.private('strm:block2')
    items = [['DEL', key, other]]
    if rng.random() < 0.7:
        items.append(['XADD', key, CLOCK.fresh(rng), 'f', 'v'])
    items.append(['XGROUP', 'CREATE', key, 'g1', '$', 'MKSTREAM'])
    readers = []
    for i in range(rng.randint(1, 3)):
        count = rng.choice([[], ['COUNT', '1'], ['COUNT', '2']])
        if rng.random() < 0.5:
            readers.append(['XREAD'] + count + ['BLOCK', '20000', 'STREAMS', key, '$'])
        else:
            readers.append(['XREADGROUP', 'GROUP', 'g1', 'c%d' % (i + 1)] + count + ['BLOCK', '20000'] +
                           rng.choice([[], ['NOACK']]) + ['STREAMS', key, '>'])
    if rng.random() < 0.2:
        readers.append(['XREAD', 'BLOCK', '20000', 'STREAMS', other, key, '$', '$'])
    ids = [CLOCK.fresh(rng) for _ in range(rng.randint(1, 3))]
    how = rng.choice(['plain', 'multi', 'multi', 'lua', 'lua'])
    adds = [['XADD', key, i, 'n', str(k)] for k, i in enumerate(ids)]
    if rng.random() < 0.15:
        adds.append(rng.choice([['DEL', key], ['XGROUP', 'DESTROY', key, 'g1'],
                                ['XTRIM', key, 'MAXLEN', '0']]))
    if how == 'plain':
        writes = adds
    elif how == 'multi':
        writes = [['MULTI']] + adds + [['EXEC']]
    else:
        body = ' '.join("redis.call(%s);" % ','.join("'%s'" % a for a in (a0[:1] + ['KEYS[1]'] + a0[2:]))
                        for a0 in adds).replace("'KEYS[1]'", 'KEYS[1]')
        writes = [['EVAL', body + " return 1", '1', key]]
    items.append(Cmd(writes[0], norm=BlockedWake(readers, writes)))
    items.append(Cmd(['XINFO', 'GROUPS', key], norm=TIMES))
    items.append(Cmd(['XINFO', 'CONSUMERS', key, 'g1'], norm=TIMES))
    items.append(Cmd(['XPENDING', key, 'g1', '-', '+', '10'], norm=PENDING))
    items.append(['XRANGE', key, '-', '+'])
    return Group(items)


def op_wrongarity(rng, ks):
    name = rng.choice(['XADD', 'XLEN', 'XRANGE', 'XREVRANGE', 'XDEL', 'XTRIM', 'XREAD',
                       'XREADGROUP', 'XACK', 'XPENDING', 'XCLAIM', 'XAUTOCLAIM', 'XSETID'])
    return [name] + [ks.key(rng)][:rng.randint(0, 1)]


NORM_BY_NAME = {'XINFO': TIMES}


def with_norm(item):
    if isinstance(item, list) and item:
        name = item[0].upper() if isinstance(item[0], str) else item[0].decode().upper()
        if name in NORM_BY_NAME:
            return Cmd(item, norm=NORM_BY_NAME[name])
        if name == 'XPENDING':
            return Cmd(item, norm=PENDING)
    return item


def generate(rng, ks):
    table = prepare([
        (14, op_xadd), (3, op_xlen), (6, op_range), (3, op_xdel), (3, op_xtrim), (4, op_xread),
        (6, op_xgroup), (6, op_xreadgroup), (3, op_xack), (4, op_xpending), (3, op_xclaim),
        (3, op_xautoclaim), (4, op_xinfo), (2, op_xsetid), (1, op_encoding), (0.4, op_scenario), (0.06, op_block_wake),
        (1, op_wrongarity),
    ])
    while True:
        item = weighted(rng, table)(rng, ks)
        if isinstance(item, list) and rng.random() < 0.02:
            item = mangle_arity(rng, item)
        yield with_norm(item)
