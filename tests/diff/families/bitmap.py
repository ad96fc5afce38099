"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
BITFIELD_RO.

Valid bit offsets stay below 40 000 (a bitmap of at most 5 KB): a valid but
large offset (up to 2^32-1) would make both servers allocate up to 512 MB.
Out-of-range offsets (2^32, negative, garbage) are generated: they are errors.
"""

from gen import (binary, mangle_arity, prepare, randcase, value, weighted)

WEIGHT = 2.5

BAD_OFFSETS = ['4294967296', '-1', 'abc', '', '1.5', '9223372036854775807',
               '18446744073709551616', '-9223372036854775808']


def _bit_offset(rng):
    r = rng.random()
    if r < 0.7:
        return str(rng.randint(0, 200))
    if r < 0.93:
        return str(rng.randint(0, 40000))
    return rng.choice(BAD_OFFSETS)


def _index(rng):
    r = rng.random()
    if r < 0.7:
        return str(rng.randint(-40, 40))
    if r < 0.85:
        return rng.choice(['0', '-1', '9223372036854775807', '-9223372036854775808', '100000'])
    return rng.choice(['abc', '', '1.5', '9223372036854775808'])


def op_set(rng, ks):
    r = rng.random()
    if r < 0.5:
        v = binary(rng, 0, 12)
    elif r < 0.7:
        v = bytes(rng.choice([0x00, 0xff, 0x80, 0x01, 0xf0, 0x0f, 0xaa]) for _ in range(rng.randint(1, 8)))
    else:
        v = value(rng)
    return ['SET', ks.key(rng), v]


def op_get(rng, ks):
    return ['GET', ks.key(rng)]


def op_setbit(rng, ks):
    bit = rng.choice(['0', '1', '1']) if rng.random() < 0.93 else rng.choice(['2', '-1', 'a', '', '01'])
    return ['SETBIT', ks.key(rng), _bit_offset(rng), bit]


def op_getbit(rng, ks):
    return ['GETBIT', ks.key(rng), _bit_offset(rng)]


def _unit(rng):
    return [randcase(rng, rng.choice(['BYTE', 'BIT']))] if rng.random() < 0.97 else ['NIBBLE']


def op_bitcount(rng, ks):
    cmd = [randcase(rng, 'BITCOUNT'), ks.key(rng)]
    r = rng.random()
    if r < 0.25:
        return cmd
    if r < 0.6:
        return cmd + [_index(rng), _index(rng)]
    if r < 0.93:
        return cmd + [_index(rng), _index(rng)] + _unit(rng)
    return cmd + rng.choice([[_index(rng)], ['0', '1', 'BIT', 'x'], ['0', '-1', 'bit']])


def op_bitpos(rng, ks):
    bit = rng.choice(['0', '1']) if rng.random() < 0.95 else rng.choice(['2', '-1', 'x'])
    cmd = [randcase(rng, 'BITPOS'), ks.key(rng), bit]
    r = rng.random()
    if r < 0.25:
        return cmd
    if r < 0.45:
        return cmd + [_index(rng)]
    if r < 0.7:
        return cmd + [_index(rng), _index(rng)]
    if r < 0.95:
        return cmd + [_index(rng), _index(rng)] + _unit(rng)
    return cmd + ['0', '1', 'BIT', 'x']


def op_bitop(rng, ks):
    op = rng.choice(['AND', 'OR', 'XOR', 'NOT', 'and', 'Or', 'NOT'])
    if rng.random() < 0.03:
        op = rng.choice(['NAND', 'DIFF', ''])
    if op.upper() == 'NOT' and rng.random() < 0.9:
        srcs = [ks.key(rng)]
    else:
        srcs = ks.some(rng, 1, 4)
    return ['BITOP', op, ks.key(rng), *srcs]


TYPES = ['u1', 'u2', 'u3', 'u4', 'u7', 'u8', 'u15', 'u16', 'u31', 'u32', 'u33', 'u63',
         'i1', 'i2', 'i4', 'i5', 'i8', 'i16', 'i17', 'i32', 'i63', 'i64', 'i8', 'u8', 'i64']
BAD_TYPES = ['u64', 'i65', 'u0', 'i0', 'x8', 'u', 'i', '8', 'U8', 'I8', 'u-1', '', 'i64x']


def _bf_type(rng):
    return rng.choice(TYPES) if rng.random() < 0.96 else rng.choice(BAD_TYPES)


def _bf_offset(rng):
    r = rng.random()
    if r < 0.5:
        return str(rng.randint(0, 200))
    if r < 0.93:
        return '#%d' % rng.randint(0, 20)
    return rng.choice(['#-1', '-1', '4294967296', '#', '##1', 'abc', '#4294967296', '#4294967297'])


def _bf_value(rng, t):
    r = rng.random()
    if r < 0.4:
        return str(rng.randint(-300, 300))
    try:
        bits = int(t[1:])
    except ValueError:
        bits = 8
    if r < 0.85 and 0 < bits <= 64:
        lim = 1 << bits
        return str(rng.choice([lim - 1, lim, lim + 1, lim // 2, lim // 2 - 1, -(lim // 2),
                               -(lim // 2) - 1, -lim, rng.randint(-lim, lim)]))
    return rng.choice(['9223372036854775807', '-9223372036854775808', '9223372036854775808',
                       'abc', '', '1.5'])


def _bf_ops(rng, read_only):
    ops = []
    for _ in range(rng.randint(0, 5) if rng.random() < 0.95 else 0):
        r = rng.random()
        if read_only and r < 0.9:
            r = 0
        if r < 0.35:
            ops += [randcase(rng, 'GET'), _bf_type(rng), _bf_offset(rng)]
        elif r < 0.6:
            t = _bf_type(rng)
            ops += [randcase(rng, 'SET'), t, _bf_offset(rng), _bf_value(rng, t)]
        elif r < 0.85:
            t = _bf_type(rng)
            ops += [randcase(rng, 'INCRBY'), t, _bf_offset(rng), _bf_value(rng, t)]
        elif r < 0.97:
            ops += [randcase(rng, 'OVERFLOW'), randcase(rng, rng.choice(['WRAP', 'SAT', 'FAIL']))]
        else:
            ops += rng.choice([['OVERFLOW', 'BOGUS'], ['OVERFLOW'], ['GET', 'u8'], ['SET', 'u8', '0'],
                               ['BOGUS'], ['INCRBY', 'u8', '0']])
    return ops


def op_bitfield(rng, ks):
    if rng.random() < 0.8:
        return ['BITFIELD', ks.key(rng), *_bf_ops(rng, False)]
    return ['BITFIELD_RO', ks.key(rng), *_bf_ops(rng, True)]


def op_wrongarity(rng, ks):
    return rng.choice([
        ['SETBIT', 'a', '1'], ['SETBIT'], ['GETBIT', 'a'], ['GETBIT', 'a', '1', '2'],
        ['BITCOUNT'], ['BITPOS', 'a'], ['BITOP', 'AND', 'd'], ['BITOP', 'NOT', 'd', 'a', 'b'],
        ['BITOP'], ['BITFIELD'], ['BITFIELD_RO'],
    ])


def generate(rng, ks):
    table = prepare([
        (6, op_set), (2, op_get), (10, op_setbit), (6, op_getbit), (6, op_bitcount),
        (6, op_bitpos), (4, op_bitop), (10, op_bitfield), (0.8, op_wrongarity),
    ])
    while True:
        item = weighted(rng, table)(rng, ks)
        if rng.random() < 0.01:
            item = mangle_arity(rng, item)
        yield item
