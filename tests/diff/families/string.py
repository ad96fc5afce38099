"""String commands: SET and its options, GET/GETEX/GETDEL/GETSET, SETNX,
SETEX, PSETEX, MSET/MSETNX/MGET, APPEND, STRLEN, GETRANGE/SETRANGE/SUBSTR,
INCR/DECR/INCRBY/DECRBY/INCRBYFLOAT, LCS; plus malformed variants (wrong
arity, syntax errors, out-of-range numbers).

Nothing here creates a non-string key: WRONGTYPE cases arise when the
'collections_seed' family runs alongside.

Size limits (so that no command allocates hundreds of MB): SETRANGE offsets
are small, or beyond 512 MB together with a non-empty value (an error), or
exactly 512 MB - 1 with an empty value (a no-op). LCS always has one operand
among the family's private keys, which hold at most 64 bytes.
"""

from gen import (FAR, REL_MAX, REL_MIN, Group, big_value, binary, float_str,
                 int_str, mangle_arity, prepare, randcase, value, weighted, word)

WEIGHT = 4.0

PROTO_MAX = 512 * 1024 * 1024


def _rel(rng, ms=False):
    v = rng.randint(REL_MIN, REL_MAX)
    return str(v * 1000 + rng.randint(0, 999) if ms else v)


def _abs(rng, ms=False):
    if rng.random() < 0.85:
        v = FAR + rng.randint(0, 10_000_000)
    else:
        v = rng.randint(1, 1_000_000_000)       # in the past: key expires at once
    return str(v * 1000 + rng.randint(0, 999) if ms else v)


BAD_TIMES = ['0', '-1', '-100', 'abc', '1.5', '', '9223372036854775807',
             '9223372036854775', '9223372036854776', '-9223372036854775808',
             '9223372036854775808']


def _expiry(rng, valid=True):
    """One expiry option with its argument, e.g. ['EX', '3600']."""
    kind = rng.choice(['EX', 'PX', 'EXAT', 'PXAT'])
    if not valid or rng.random() < 0.08:
        arg = rng.choice(BAD_TIMES)
    elif kind in ('EX', 'PX'):
        arg = _rel(rng, kind == 'PX')
    else:
        arg = _abs(rng, kind == 'PXAT')
    return [randcase(rng, kind), arg]


def op_set(rng, ks):
    cmd = [randcase(rng, 'SET'), ks.key(rng), value(rng)]
    if rng.random() < 0.35:
        return cmd
    if rng.random() < 0.8:
        # well-formed combination, in random order
        parts = []
        r = rng.random()
        if r < 0.45:
            parts.append(_expiry(rng))
        elif r < 0.55:
            parts.append([randcase(rng, 'KEEPTTL')])
        if rng.random() < 0.35:
            parts.append([randcase(rng, rng.choice(['NX', 'XX']))])
        if rng.random() < 0.35:
            parts.append([randcase(rng, 'GET')])
        rng.shuffle(parts)
        for p in parts:
            cmd += p
        return cmd
    # anything goes: conflicting / repeated / unknown / missing arguments
    for _ in range(rng.randint(1, 4)):
        t = rng.choice(['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'KEEPTTL', 'GET',
                        'BOGUS', 'EX'])
        if t in ('EX', 'PX', 'EXAT', 'PXAT'):
            cmd += _expiry(rng, valid=rng.random() < 0.7)[:rng.choice([1, 2, 2, 2])]
        else:
            cmd.append(randcase(rng, t))
    return cmd


def op_get(rng, ks):
    return ['GET', ks.key(rng)]


def op_getex(rng, ks):
    cmd = [randcase(rng, 'GETEX'), ks.key(rng)]
    r = rng.random()
    if r < 0.25:
        return cmd
    if r < 0.7:
        return cmd + _expiry(rng)
    if r < 0.8:
        return cmd + [randcase(rng, 'PERSIST')]
    bad = rng.choice([
        _expiry(rng) + _expiry(rng), _expiry(rng) + ['PERSIST'], ['PERSIST', 'PERSIST'],
        ['KEEPTTL'], ['NX'], ['GET'], _expiry(rng)[:1], _expiry(rng, valid=False), ['EX', '10', 'bogus'],
    ])
    return cmd + bad


def op_getdel(rng, ks):
    return ['GETDEL', ks.key(rng)]


def op_getset(rng, ks):
    return ['GETSET', ks.key(rng), value(rng)]


def op_setnx(rng, ks):
    return ['SETNX', ks.key(rng), value(rng)]


def op_setex(rng, ks):
    name = rng.choice(['SETEX', 'PSETEX'])
    if rng.random() < 0.85:
        t = _rel(rng, name == 'PSETEX')
    else:
        t = rng.choice(BAD_TIMES)
    return [name, ks.key(rng), t, value(rng)]


def op_mset(rng, ks):
    name = rng.choice(['MSET', 'MSET', 'MSETNX'])
    cmd = [name]
    for _ in range(rng.randint(1, 4)):
        cmd += [ks.key(rng), value(rng)]
    return cmd


def op_mget(rng, ks):
    return ['MGET'] + ks.some(rng, 1, 6)


def op_append(rng, ks):
    r = rng.random()
    if r < 0.05:
        v = big_value(rng, 500, 3000)
    elif r < 0.3:
        v = binary(rng)
    elif r < 0.5:
        v = int_str(rng)
    elif r < 0.55:
        v = ''
    else:
        v = word(rng)
    return ['APPEND', ks.key(rng), v]


def op_strlen(rng, ks):
    return ['STRLEN', ks.key(rng)]


def _index(rng):
    r = rng.random()
    if r < 0.55:
        return str(rng.randint(-60, 60))
    if r < 0.75:
        return rng.choice(['0', '-1', '1', '-2'])
    if r < 0.9:
        return rng.choice(['9223372036854775807', '-9223372036854775808',
                           '4294967296', '-4294967296', '100000', '-100000'])
    return rng.choice(['abc', '1.5', '', '9223372036854775808', '+3'])


def op_getrange(rng, ks):
    return [rng.choice(['GETRANGE', 'GETRANGE', 'SUBSTR']), ks.key(rng), _index(rng), _index(rng)]


def op_setrange(rng, ks):
    r = rng.random()
    v = rng.choice([word(rng), binary(rng), '', int_str(rng)])
    if r < 0.6:
        off = str(rng.randint(0, 64))
    elif r < 0.75:
        off = str(rng.randint(65, 5000))
    elif r < 0.85:
        off = str(PROTO_MAX + rng.choice([0, 1, 1000, 2 ** 31, 2 ** 40]))
        v = v or 'x'
    elif r < 0.9:
        off = str(PROTO_MAX - 1)            # 512 MB - 1 with an empty value: no-op
        v = ''
    else:
        off = rng.choice(['-1', '-100', 'abc', '', '1.5', '9223372036854775807',
                          '9223372036854775808'])
        if off in ('9223372036854775807',):
            v = v or 'x'
    return ['SETRANGE', ks.key(rng), off, v]


def op_incr(rng, ks):
    k = ks.key(rng)
    r = rng.random()
    if r < 0.3:
        cmd = [rng.choice(['INCR', 'DECR']), k]
    elif r < 0.7:
        cmd = [rng.choice(['INCRBY', 'DECRBY']), k, int_str(rng)]
    else:
        cmd = ['INCRBYFLOAT', k, float_str(rng)]
    if rng.random() < 0.35:
        # most shared values are not numbers: make sure the arithmetic runs often
        start = int_str(rng) if cmd[0] != 'INCRBYFLOAT' or rng.random() < 0.4 else float_str(rng)
        return Group([['SET', k, start], cmd])
    return cmd


def op_set_number(rng, ks):
    """Numbers (near int64 limits, floats) so that INCR* meet them often."""
    v = int_str(rng) if rng.random() < 0.7 else float_str(rng)
    return ['SET', ks.key(rng), v]


def op_big(rng, ks):
    return ['SET', ks.key(rng), big_value(rng)]


def _dna(rng, hi=64):
    return ''.join(rng.choice('ACGT') for _ in range(rng.randint(0, hi)))


def make_lcs(ks):
    a = ks.private('lcs:a')
    b = ks.private('lcs:b')
    missing = ks.private('lcs:missing')

    def op_lcs(rng, ks):
        k1 = rng.choice([a, b, a, b, missing])
        k2 = rng.choice([a, b, b, missing, ks.key(rng)])
        if rng.random() < 0.5:
            k1, k2 = k2, k1
        cmd = [randcase(rng, 'LCS'), k1, k2]
        r = rng.random()
        if r < 0.25:
            pass
        elif r < 0.4:
            cmd.append(randcase(rng, 'LEN'))
        elif r < 0.85:
            opts = [[randcase(rng, 'IDX')]]
            if rng.random() < 0.5:
                opts.append([randcase(rng, 'MINMATCHLEN'), str(rng.randint(0, 6))])
            if rng.random() < 0.5:
                opts.append([randcase(rng, 'WITHMATCHLEN')])
            rng.shuffle(opts)
            for o in opts:
                cmd += o
        else:
            cmd += rng.choice([
                ['LEN', 'IDX'], ['IDX', 'LEN'], ['MINMATCHLEN'], ['MINMATCHLEN', 'abc'],
                ['MINMATCHLEN', '-1', 'IDX'], ['WITHMATCHLEN'], ['BOGUS'], ['IDX', 'IDX'],
                ['MINMATCHLEN', '9223372036854775807', 'IDX'], ['LEN', 'WITHMATCHLEN'],
            ])
        if rng.random() < 0.3:
            return Group([['SET', rng.choice([a, b]), _dna(rng)], cmd])
        return cmd

    def op_lcs_set(rng, ks):
        return ['SET', rng.choice([a, b]), _dna(rng) if rng.random() < 0.9 else binary(rng, 0, 20)]

    return op_lcs, op_lcs_set


def op_wrongarity(rng, ks):
    return rng.choice([
        ['GET'], ['GET', ks.key(rng), ks.key(rng)], ['SET', ks.key(rng)], ['SET'],
        ['GETEX'], ['GETDEL'], ['GETDEL', 'a', 'b'], ['GETSET', ks.key(rng)], ['SETNX', 'a'],
        ['SETEX', ks.key(rng), '100'], ['PSETEX', 'a'], ['MSET'], ['MSET', 'a'],
        ['MSET', 'a', '1', 'b'], ['MSETNX', 'a'], ['MGET'], ['APPEND', 'a'], ['STRLEN'],
        ['GETRANGE', 'a', '0'], ['SETRANGE', 'a', '0'], ['SUBSTR', 'a'], ['INCR'],
        ['INCR', 'a', 'b'], ['DECR'], ['INCRBY', 'a'], ['DECRBY', 'a', '1', '2'],
        ['INCRBYFLOAT', 'a'], ['LCS', 'a'], ['LCS'],
    ])


def generate(rng, ks):
    op_lcs, op_lcs_set = make_lcs(ks)
    table = prepare([
        (14, op_set), (10, op_get), (4, op_getex), (2, op_getdel), (3, op_getset),
        (2, op_setnx), (3, op_setex), (4, op_mset), (4, op_mget), (5, op_append),
        (3, op_strlen), (5, op_getrange), (4, op_setrange), (10, op_incr),
        (6, op_set_number), (1, op_big), (3, op_lcs), (2, op_lcs_set),
        (1.5, op_wrongarity),
    ])
    while True:
        item = weighted(rng, table)(rng, ks)
        if isinstance(item, list) and rng.random() < 0.02:
            item = mangle_arity(rng, item)
        yield settle_past_expiry(item)


def settle_past_expiry(item):
    """Redis 7.0 stores a key SET with an EXAT/PXAT in the past; it is
    logically gone (GET, EXISTS, KEYS, SCAN do not see it) but DBSIZE counts it
    until the key is looked up or the active expire cycle (background, about
    every 100 ms) deletes it, so DBSIZE would depend on timing. Looking the
    key up right away makes the state deterministic while keeping the case."""
    if (isinstance(item, list) and len(item) > 2 and item[0].upper() == 'SET'
            and any(isinstance(a, str) and a.upper() in ('EXAT', 'PXAT') for a in item[3:])):
        return Group([item, ['EXISTS', item[1]]])
    return item
