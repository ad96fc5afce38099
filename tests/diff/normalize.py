"""Normalizers: how the replies of one command are compared.

By default two replies must be identical (same RESP type, same bytes). A few
commands have replies that legitimately differ between two correct servers;
for those a normalizer is registered here, by command name (upper case) or by
(command, subcommand). A family can also force one on a single command with
gen.Cmd(args, norm='name').

Plain normalizers see one reply at a time and decide equality with
equal(ref_reply, sut_reply). Compound normalizers (compound = True) instead
run a small conversation with each server on their own (e.g. iterate a SCAN
cursor to completion) and return a value that is then compared exactly; the
runner flushes the pipeline before running one.
"""


class Exact:
    name = 'exact'
    compound = False

    def equal(self, a, b):
        return a == b

    def show(self, v):
        return v


class Sorted(Exact):
    """Aggregate replies in an implementation-defined order (KEYS, SMEMBERS):
    compare the multiset of elements. Type and length must still match."""
    name = 'sorted'

    def show(self, v):
        if v[0] in ('arr', 'set') and len(v) == 2:
            return (v[0], tuple(sorted(v[1])))
        if v[0] == 'map':
            return ('map', tuple(sorted(v[1])))
        return v

    def equal(self, a, b):
        return self.show(a) == self.show(b)


class TypeOnly(Exact):
    """Only the reply type must match (OBJECT IDLETIME, REFCOUNT, FREQ: values
    depend on the implementation's internals and on timing)."""
    name = 'type'

    def show(self, v):
        return (v[0],)

    def equal(self, a, b):
        return a[0] == b[0]


class Tolerance(Exact):
    """Non-negative integers may differ by up to `tol` (TTL/PTTL/EXPIRETIME
    of keys whose expiry was set relative to each server's own clock).
    Negative sentinels (-1 no expiry, -2 no key) must match exactly."""

    def __init__(self, tol):
        self.tol = tol
        self.name = 'tolerance(%d)' % tol

    def equal(self, a, b):
        if a == b:
            return True
        return (a[0] == 'int' and b[0] == 'int' and a[1] >= 0 and b[1] >= 0
                and abs(a[1] - b[1]) <= self.tol)


class ScanFull(Exact):
    """SCAN-family commands started at cursor 0: cursors are opaque and differ
    between implementations, so iterate each server to completion (same
    MATCH/COUNT/TYPE options) and compare the set of elements returned.
    Duplicates are allowed by the SCAN contract and ignored. A call whose
    cursor is not 0 is compared by type only if it is a valid cursor (it
    means nothing to the other server), exactly if it is garbage (error)."""
    compound = True

    def __init__(self, cursor_at, pairs):
        self.cursor_at = cursor_at
        self.pairs = pairs
        self.name = 'scan-full'

    def run(self, client, args):
        args = list(args)
        if len(args) <= self.cursor_at:
            return client.call(*args)
        cursor = args[self.cursor_at]
        if cursor != b'0':
            r = client.call(*args)
            if r[0] == 'err':
                return r
            return ('scan-partial', r[0])
        seen = set()
        for step in range(100000):
            args[self.cursor_at] = cursor
            r = client.call(*args)
            if (r[0] != 'arr' or len(r[1]) != 2 or r[1][0][0] != 'bulk'
                    or r[1][1][0] not in ('arr', 'set')):
                return r if step == 0 else ('scan-bad-reply', step, r)
            items = r[1][1][1]
            if self.pairs:
                if len(items) % 2:
                    return ('scan-odd-pairs', step, r)
                seen.update(zip(items[0::2], items[1::2]))
            else:
                seen.update(items)
            cursor = r[1][0][1]
            if cursor == b'0':
                return ('scan', tuple(sorted(seen)))
        return ('scan-never-ended',)


class RandomKey(Exact):
    """RANDOMKEY: both must be nil, or both must return a key that EXISTS
    on the server that returned it. Which key is returned is not compared."""
    compound = True
    name = 'randomkey'

    def run(self, client, args):
        r = client.call(*args)
        if r[0] != 'bulk':
            return r
        return ('randomkey', 'exists=%s' % (client.call(b'EXISTS', r[1]),))


EXACT = Exact()
SORTED = Sorted()
TYPE_ONLY = TypeOnly()

NAMED = {
    'exact': EXACT,
    'sorted': SORTED,
    'type': TYPE_ONLY,
    'ttl': Tolerance(1),
    'pttl': Tolerance(1000),
    'randomkey': RandomKey(),
    'scan': ScanFull(1, False),
}

BY_COMMAND = {
    b'KEYS': SORTED,
    b'TTL': NAMED['ttl'],
    b'EXPIRETIME': NAMED['ttl'],
    b'PTTL': NAMED['pttl'],
    b'PEXPIRETIME': NAMED['pttl'],
    (b'OBJECT', b'REFCOUNT'): TYPE_ONLY,
    (b'OBJECT', b'FREQ'): TYPE_ONLY,
    (b'OBJECT', b'IDLETIME'): TYPE_ONLY,
    b'SCAN': NAMED['scan'],
    b'SSCAN': ScanFull(2, False),
    b'HSCAN': ScanFull(2, True),
    b'ZSCAN': ScanFull(2, True),
    b'RANDOMKEY': NAMED['randomkey'],
}


def for_command(args, explicit=None):
    if explicit is not None:
        return NAMED[explicit] if isinstance(explicit, str) else explicit
    name = args[0].upper()
    if len(args) > 1:
        n = BY_COMMAND.get((name, args[1].upper()))
        if n is not None:
            return n
    return BY_COMMAND.get(name, EXACT)
