"""List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP (with count),
LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS (RANK/COUNT/MAXLEN),
LMOVE, RPOPLPUSH, LMPOP, the blocking BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
BLMPOP (served at once, or timing out after 10 ms, plus every timeout
error), and OBJECT ENCODING of lists.

Elements come from a small pool so that LREM/LPOS/LINSERT find matches:
words, integers, the empty string, binary bytes and 600+-byte elements.
Now and then a shared key gets a long run of pushes so that index
arithmetic, LTRIM and LREM work on lists of a few hundred elements.
Blocking commands are never mangled (a stray "0" could become an infinite
timeout). Everything is compared exactly.
"""

from gen import mangle_arity, prepare, randcase, weighted, word, binary, int_str

WEIGHT = 3.0

LONG = 'E' * 610


def elem(rng):
    r = rng.random()
    if r < 0.35:
        return rng.choice(['a', 'b', 'c', 'x', 'foo', 'bar'])
    if r < 0.5:
        return str(rng.randint(-3, 12))
    if r < 0.6:
        return ''
    if r < 0.7:
        return binary(rng, 1, 6)
    if r < 0.78:
        return LONG + rng.choice(['1', '2'])
    if r < 0.88:
        return word(rng, 1, 6)
    return int_str(rng)


def index(rng):
    r = rng.random()
    if r < 0.7:
        return str(rng.randint(-12, 12))
    if r < 0.85:
        return str(rng.randint(-400, 400))
    if r < 0.95:
        return rng.choice(['9223372036854775807', '-9223372036854775808', '100000'])
    return rng.choice(['abc', '1.5', '', '9223372036854775808'])


def where(rng):
    if rng.random() < 0.03:
        return rng.choice(['MIDDLE', '', 'LEFTX'])
    return randcase(rng, rng.choice(['LEFT', 'RIGHT']))


def timeout_arg(rng):
    r = rng.random()
    if r < 0.85:
        return '0.01'
    return rng.choice(['-1', '-0.5', 'abc', '', 'inf', '-inf', 'nan', '1e300', '1e17',
                       '0x10', '1e', '-1.5'])


def count_arg(rng):
    r = rng.random()
    if r < 0.8:
        return str(rng.randint(0, 6))
    return rng.choice(['-1', 'abc', '9223372036854775807', '-9223372036854775808', '1.5', ''])


def op_push(rng, ks):
    cmd = rng.choice(['LPUSH', 'RPUSH', 'LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'])
    return [cmd, ks.key(rng)] + [elem(rng) for _ in range(rng.randint(1, 5))]


def op_bulk_push(rng, ks):
    n = rng.randint(50, 300)
    return [rng.choice(['RPUSH', 'LPUSH']), ks.key(rng)] + [elem(rng) for _ in range(n)]


def op_pop(rng, ks):
    cmd = [rng.choice(['LPOP', 'RPOP']), ks.key(rng)]
    if rng.random() < 0.5:
        cmd.append(count_arg(rng))
    if rng.random() < 0.02:
        cmd.append('1')
    return cmd


def op_llen(rng, ks):
    return ['LLEN', ks.key(rng)]


def op_lrange(rng, ks):
    return ['LRANGE', ks.key(rng), index(rng), index(rng)]


def op_lindex(rng, ks):
    return ['LINDEX', ks.key(rng), index(rng)]


def op_lset(rng, ks):
    return ['LSET', ks.key(rng), index(rng), elem(rng)]


def op_linsert(rng, ks):
    w = rng.choice(['BEFORE', 'AFTER', 'before', 'After']) if rng.random() < 0.95 else 'MIDDLE'
    return ['LINSERT', ks.key(rng), w, elem(rng), elem(rng)]


def op_lrem(rng, ks):
    return ['LREM', ks.key(rng), rng.choice([str(rng.randint(-3, 3)), index(rng)]), elem(rng)]


def op_ltrim(rng, ks):
    return ['LTRIM', ks.key(rng), index(rng), index(rng)]


def op_lpos(rng, ks):
    cmd = ['LPOS', ks.key(rng), elem(rng)]
    opts = []
    if rng.random() < 0.5:
        opts += [randcase(rng, 'RANK'), rng.choice([str(rng.randint(-4, 4)), '0', 'x',
                                                    '-9223372036854775808',
                                                    '9223372036854775807'])]
    if rng.random() < 0.5:
        opts += [randcase(rng, 'COUNT'), rng.choice([str(rng.randint(0, 4)), '-1', 'x'])]
    if rng.random() < 0.4:
        opts += [randcase(rng, 'MAXLEN'), rng.choice([str(rng.randint(0, 20)), '-1', 'x'])]
    if rng.random() < 0.05:
        opts += [rng.choice(['RANK', 'BOGUS', 'COUNT'])]
    return cmd + opts


def op_lmove(rng, ks):
    if rng.random() < 0.3:
        return ['RPOPLPUSH', ks.key(rng), ks.key(rng)]
    return ['LMOVE', ks.key(rng), ks.key(rng), where(rng), where(rng)]


def mpop_tail(rng, ks):
    keys = ks.some(rng, 1, 3)
    n = str(len(keys))
    r = rng.random()
    if r < 0.05:
        n = rng.choice(['0', '-1', 'abc', '10'])
    tail = [n] + keys + [where(rng)]
    if rng.random() < 0.5:
        tail += [randcase(rng, 'COUNT'), rng.choice([str(rng.randint(1, 5)), '0', '-1', 'x'])]
    if rng.random() < 0.03:
        tail += ['COUNT', '2']
    return tail


def op_lmpop(rng, ks):
    return ['LMPOP'] + mpop_tail(rng, ks)


def op_blocking(rng, ks):
    r = rng.random()
    if r < 0.3:
        return [rng.choice(['BLPOP', 'BRPOP'])] + ks.some(rng, 1, 3) + [timeout_arg(rng)]
    if r < 0.55:
        return ['BLMOVE', ks.key(rng), ks.key(rng), where(rng), where(rng), timeout_arg(rng)]
    if r < 0.7:
        return ['BRPOPLPUSH', ks.key(rng), ks.key(rng), timeout_arg(rng)]
    return ['BLMPOP', timeout_arg(rng)] + mpop_tail(rng, ks)


def op_blocking_served(rng, ks):
    k = ks.key(rng)
    return [['RPUSH', k, elem(rng), elem(rng)], op_blocking_on(rng, ks, k)]


def op_blocking_on(rng, ks, k):
    r = rng.random()
    if r < 0.4:
        return [rng.choice(['BLPOP', 'BRPOP']), k] + ks.some(rng, 0, 2) + ['0.01']
    if r < 0.7:
        return ['BLMOVE', k, ks.key(rng), where(rng), where(rng), '0.01']
    return ['BLMPOP', '0.01', '1', k, where(rng), 'COUNT', str(rng.randint(1, 4))]


def op_encoding(rng, ks):
    return ['OBJECT', 'ENCODING', ks.key(rng)]


def op_type(rng, ks):
    return ['TYPE', ks.key(rng)]


BLOCKING = {'BLPOP', 'BRPOP', 'BLMOVE', 'BRPOPLPUSH', 'BLMPOP'}


def generate(rng, ks):
    table = prepare([(12, op_push), (0.6, op_bulk_push), (6, op_pop), (3, op_llen),
                     (6, op_lrange), (4, op_lindex), (3, op_lset), (3, op_linsert),
                     (3, op_lrem), (2, op_ltrim), (4, op_lpos), (4, op_lmove), (2, op_lmpop),
                     (1, op_blocking), (2, op_blocking_served), (1, op_encoding),
                     (1, op_type)])
    while True:
        item = weighted(rng, table)(rng, ks)
        if item and isinstance(item[0], list):
            for sub in item:
                yield sub
            continue
        if rng.random() < 0.02 and item[0] not in BLOCKING:
            item = mangle_arity(rng, item)
        yield item
