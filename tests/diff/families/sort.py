"""SORT and SORT_RO over lists, sets (intset and not) and sorted sets: BY
(patterns, hash fields with ->, "nosort"), LIMIT, GET (#, strings, hash
fields, missing keys), ASC/DESC, ALPHA, STORE (read back with LRANGE),
numeric conversion errors, WRONGTYPE and syntax errors.

Redis leaves some orders unspecified, and the generator avoids them rather
than normalizing: a set's own order ("BY nosort" without STORE) is compared
sorted and never cut by LIMIT or expanded by GET; ALPHA with BY (whose ties
keep the input order) is used on lists only; set and sorted-set members have
no NUL byte (strcoll stops there, making ties under ALPHA).

Redis tests errno == ERANGE after strtod without clearing errno first, so a
SORT fails with "can't be converted into double" whenever an earlier command
left ERANGE behind (a score of 1e400 anywhere, in any family). lodis clears
it; each SORT here therefore follows an INCRBYFLOAT, which clears errno in
Redis too, in one group.
"""

from gen import Cmd, Group, mangle_arity, prepare, randcase, weighted

WEIGHT = 1.5

_NUMS = [b'1', b'2', b'10', b'-3', b'3.5', b'1e2', b'0', b'-0', b'007', b'2.5e-1', b'inf', b'-inf']
_WORDS = [b'a', b'b', b'abc', b'B', b'', b' 4', b'4 ', b'x' * 600, b'\xff', b'\xc3\xa9', b'nan']
_NULS = [b'a\x00b', b'a\x00c', b'\x00']

_SRC = {'list': 'sort:l', 'set': 'sort:s', 'iset': 'sort:i', 'zset': 'sort:z'}
_DSTS = ['sort:d', 'sort:l']


def _elem(rng, nul_ok):
    pool = _NUMS + _WORDS + (_NULS if nul_ok else [])
    return rng.choice(pool)


def op_fill(rng, ks):
    kind = rng.choice(list(_SRC))
    key = ks.private(_SRC[kind])
    n = rng.randint(1, 8)
    if kind == 'list':
        return ['RPUSH', key, *[_elem(rng, True) for _ in range(n)]]
    if kind == 'iset':
        return ['SADD', key, *[str(rng.randint(-50, 50)) for _ in range(n)]]
    if kind == 'set':
        return ['SADD', key, *[_elem(rng, False) for _ in range(n)]]
    args = []
    for _ in range(n):
        args += [str(rng.choice([0, 1, 1, 2, 3.5, -1])), _elem(rng, False)]
    return ['ZADD', key, *args]


def op_weights(rng, ks):
    e = _elem(rng, True)
    r = rng.random()
    if r < 0.5:
        return ['SET', b'w_' + e, rng.choice(_NUMS + [b'abc', b'', b'1 ', b'1e400'])]
    if r < 0.8:
        return ['HSET', b'h_' + e, rng.choice(['f', 'g']), rng.choice(_NUMS + _WORDS)]
    if r < 0.9:
        return ['DEL', b'w_' + e]
    return ['SADD', b'w_' + e, 'x']  # a weight of the wrong type


def op_reset(rng, ks):
    return ['DEL', ks.private(rng.choice(list(_SRC.values()) + _DSTS))]


def _pattern(rng):
    return rng.choice(['w_*', 'h_*->f', 'h_*->g', 'nosort', 'w_*x', '#', 'h_*->', '*', 'w_\x00*'])


def _sorts(pattern):
    """Whether BY pattern sorts: Redis looks for '*' in it as a C string."""
    return '*' in pattern.split('\x00')[0]


def op_sort(rng, ks):
    kind = rng.choice(list(_SRC) + ['shared'])
    key = ks.key(rng) if kind == 'shared' else ks.private(_SRC[kind])
    ro = rng.random() < 0.25
    alpha = rng.random() < 0.4
    store = not ro and rng.random() < 0.25
    by = _pattern(rng) if rng.random() < 0.5 else None
    unordered = kind in ('set', 'iset', 'shared') and by is not None and not _sorts(by) and not store
    if alpha and by and _sorts(by) and kind != 'list':
        alpha = False
    if alpha and kind == 'shared':
        alpha = False
    opts = []
    if by:
        opts += [randcase(rng, 'BY'), by]
    if rng.random() < 0.4 and not unordered:
        # (huge offsets and counts: start + count must not overflow)
        opts += [randcase(rng, 'LIMIT'),
                 rng.choice(['0', '1', '2', '-1', '5', '100', '9223372036854775807']),
                 rng.choice(['1', '2', '3', '0', '-1', '10', '9223372036854775807',
                             '-9223372036854775808'])]
    if rng.random() < 0.4 and not unordered:
        for _ in range(rng.randint(1, 3)):
            opts += [randcase(rng, 'GET'), _pattern(rng)]
    if rng.random() < 0.5:
        opts.append(randcase(rng, rng.choice(['ASC', 'DESC'])))
    if alpha:
        opts.append(randcase(rng, 'ALPHA'))
    if store:
        opts += [randcase(rng, 'STORE'), ks.private(rng.choice(_DSTS))]
    if rng.random() < 0.03:
        opts.append(rng.choice(['BOGUS', 'LIMIT', 'STORE', 'GET', 'BY']))
    if rng.random() < 0.02:
        opts += ['LIMIT', 'x', '1']
    cmd = ['SORT_RO' if ro else 'SORT', key, *opts]
    if ro and rng.random() < 0.05:
        cmd += ['STORE', 'x']
    items = [['INCRBYFLOAT', ks.private('sort:errno'), '0']]
    items.append(Cmd(cmd, norm='sorted') if unordered else cmd)
    if store:
        items.append(['LRANGE', opts[-1], '0', '-1'])
    return Group(items)


def op_encoding(rng, ks):
    return ['OBJECT', 'ENCODING', ks.private(rng.choice(list(_SRC.values())))]


def generate(rng, ks):
    table = prepare([(4, op_fill), (4, op_weights), (0.6, op_reset), (10, op_sort),
                     (0.5, op_encoding)])
    while True:
        item = weighted(rng, table)(rng, ks)
        if not isinstance(item, (Group, Cmd)) and rng.random() < 0.01:
            item = mangle_arity(rng, item)
        yield item
