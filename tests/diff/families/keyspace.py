"""Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX,
COPY (DB, REPLACE), MOVE, KEYS, SCAN, RANDOMKEY, TOUCH, DBSIZE, SELECT,
SWAPDB, FLUSHDB, OBJECT ENCODING/REFCOUNT/FREQ/IDLETIME.

Databases 0-3 are used; SELECT goes back to 0 most of the time so that the
other families keep meeting their keys. KEYS is compared sorted, SCAN by the
set of keys of a full iteration, RANDOMKEY by nil-ness and existence, OBJECT
REFCOUNT/FREQ/IDLETIME by reply type (see normalize.py).
"""

from gen import mangle_arity, prepare, randcase, value, weighted

WEIGHT = 2.5

DBS = ['0', '0', '1', '2', '3']
BAD_DBS = ['16', '-1', 'abc', '', '1.5', '9223372036854775808', '2147483648']


def _db(rng):
    return rng.choice(DBS) if rng.random() < 0.9 else rng.choice(BAD_DBS)


def op_set(rng, ks):
    return ['SET', ks.key(rng), value(rng)]


def op_del(rng, ks):
    return [rng.choice(['DEL', 'UNLINK']), *ks.some(rng, 1, 4)]


def op_exists(rng, ks):
    keys = ks.some(rng, 1, 5)
    if rng.random() < 0.3:
        keys.append(keys[0])            # duplicates count twice
    return ['EXISTS', *keys]


def op_type(rng, ks):
    return ['TYPE', ks.key(rng)]


def op_rename(rng, ks):
    a = ks.key(rng)
    b = a if rng.random() < 0.08 else ks.key(rng)
    return [rng.choice(['RENAME', 'RENAMENX']), a, b]


def op_copy(rng, ks):
    a = ks.key(rng)
    b = a if rng.random() < 0.08 else ks.key(rng)
    cmd = ['COPY', a, b]
    opts = []
    if rng.random() < 0.4:
        opts.append([randcase(rng, 'DB'), _db(rng)])
    if rng.random() < 0.4:
        opts.append([randcase(rng, 'REPLACE')])
    if rng.random() < 0.05:
        opts.append(rng.choice([['DB'], ['BOGUS'], ['REPLACE', 'REPLACE'], ['DB', '1', 'DB', '2']]))
    rng.shuffle(opts)
    for o in opts:
        cmd += o
    return cmd


def op_move(rng, ks):
    return ['MOVE', ks.key(rng), _db(rng)]


PATTERNS = [
    '*', '*', 'k*', 'k?', 'k1*', 'k[0-4]', 'k[^0-4]', 'k[!1]*', 'k1?', '?', '??', '???',
    'long:*', 'bin*', '*key', '', 'nomatch*', 'k[1-]', 'k[', 'k\\1', '\\*', '*[',
    '[a-z]*', '[k]*', 'k[0-9][0-9]', '*L*', '*\\', 'k[]1]', '[^b-z]*', 'K*', '*:*',
    'k[9-0]', 'k[\\-]', 'lcs:*', '*\x00*', '*\xff*',
]


def op_keys(rng, ks):
    return ['KEYS', rng.choice(PATTERNS)]


def op_scan(rng, ks):
    r = rng.random()
    if r < 0.1:
        cursor = rng.choice(['abc', '', '1.5', '-', '18446744073709551616', ' 0'])
    else:
        cursor = '0'
    cmd = [randcase(rng, 'SCAN'), cursor]
    opts = []
    if rng.random() < 0.5:
        opts.append([randcase(rng, 'MATCH'), rng.choice(PATTERNS)])
    if rng.random() < 0.4:
        opts.append([randcase(rng, 'COUNT'), rng.choice(['1', '2', '5', '10', '100', '1000'])])
    if rng.random() < 0.3:
        opts.append([randcase(rng, 'TYPE'), rng.choice(['string', 'list', 'set', 'hash', 'zset',
                                                        'stream', 'STRING', 'nosuchtype'])])
    if rng.random() < 0.08:
        opts.append(rng.choice([['COUNT', '0'], ['COUNT', '-1'], ['COUNT', 'abc'], ['MATCH'],
                                ['COUNT'], ['BOGUS', '1'], ['TYPE']]))
    rng.shuffle(opts)
    for o in opts:
        cmd += o
    return cmd


def op_randomkey(rng, ks):
    return ['RANDOMKEY'] if rng.random() < 0.95 else ['RANDOMKEY', 'extra']


def op_touch(rng, ks):
    return ['TOUCH', *ks.some(rng, 1, 4)]


def op_dbsize(rng, ks):
    return ['DBSIZE']


def op_select(rng, ks):
    if rng.random() < 0.6:
        return ['SELECT', '0']
    return [randcase(rng, 'SELECT'), _db(rng)]


def op_swapdb(rng, ks):
    return ['SWAPDB', _db(rng), _db(rng)]


def op_flushdb(rng, ks):
    return ['FLUSHDB', *rng.choice([[], [], ['ASYNC'], ['SYNC'], ['sync'], ['BOGUS'],
                                    ['ASYNC', 'SYNC']])]


def op_object(rng, ks):
    sub = rng.choice(['ENCODING', 'ENCODING', 'ENCODING', 'REFCOUNT', 'FREQ', 'IDLETIME'])
    if rng.random() < 0.05:
        return rng.choice([['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'BOGUS', 'k1'],
                           ['OBJECT', 'ENCODING', 'k1', 'k2'], ['OBJECT', 'bogus']])
    return ['OBJECT', randcase(rng, sub), ks.key(rng)]


def op_wrongarity(rng, ks):
    return rng.choice([
        ['DEL'], ['UNLINK'], ['EXISTS'], ['TYPE'], ['TYPE', 'a', 'b'], ['RENAME', 'a'],
        ['RENAMENX', 'a', 'b', 'c'], ['COPY', 'a'], ['MOVE', 'a'], ['KEYS'], ['KEYS', '*', 'x'],
        ['SCAN'], ['TOUCH'], ['DBSIZE', 'x'], ['SELECT'], ['SELECT', '0', '1'], ['SWAPDB', '0'],
    ])


def generate(rng, ks):
    table = prepare([
        (12, op_set), (6, op_del), (6, op_exists), (5, op_type), (5, op_rename),
        (4, op_copy), (3, op_move), (3, op_keys), (2, op_scan), (1.5, op_randomkey),
        (2, op_touch), (2, op_dbsize), (3, op_select), (0.6, op_swapdb), (0.15, op_flushdb),
        (5, op_object), (1, op_wrongarity),
    ])
    while True:
        item = weighted(rng, table)(rng, ks)
        if rng.random() < 0.015:
            item = mangle_arity(rng, item)
        yield item
