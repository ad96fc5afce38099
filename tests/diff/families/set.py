"""Set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SPOP,
SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE,
SDIFF, SDIFFSTORE, SSCAN, and OBJECT ENCODING of sets (intset while every
member is a canonical integer and there are at most 512, then hashtable for
good; a *STORE result or an SPOP remainder is judged afresh).

Members come from a small pool so that sets overlap: integers (including
the int64 limits and non-canonical forms such as "007", "-0", "+1" that are
not integers for Redis), words, the empty string, binary strings, and
600+-byte members sharing their first 400 bytes (lodis's hashed long-member
form). Now and then a shared key grows to about 512 integers, across the
intset limit, so SSCAN pages and the random commands take their other paths.

Normalizers (defined here, used through gen.Cmd):
  SMEMBERS, SINTER, SUNION, SDIFF   sorted multiset ('sorted')
  SRANDMEMBER   compound: the reply is checked against SMEMBERS on the same
                server (membership, distinctness, length, shape); only the
                verdict is compared
  SPOP          compound: SMEMBERS before, SPOP, checks (popped members were
                members, are distinct, are gone, the rest is intact), then
                the popped members are added back so that both servers keep
                the same set; the verdict, OBJECT ENCODING after the pop
                when Redis's outcome is deterministic, and OBJECT ENCODING
                after the restore are compared
  SSCAN         the shared scan-full normalizer
"""

from gen import (Cmd, Group, binary, int_str, mangle_arity, prepare, randcase, weighted,
                 word)
from normalize import Exact

WEIGHT = 3.0

LONG_BASE = 'M' * 420
MAX_INTSET = 512


def _members(client, key):
    r = client.call(b'SMEMBERS', key)
    if r[0] in ('set', 'arr'):
        return [x[1] for x in r[1]]
    return None


def _is_int(b):
    """Redis's string2ll: canonical signed 64-bit decimal."""
    try:
        s = b.decode('ascii')
    except UnicodeDecodeError:
        return False
    if not s or len(s) > 20:
        return False
    if s == '0':
        return True
    body = s[1:] if s[0] == '-' else s
    if not body or not body.isdigit() or body[0] == '0' or not body.isascii():
        return False
    v = int(s)
    return -2 ** 63 <= v < 2 ** 63


def _encoding(client, key):
    r = client.call(b'OBJECT', b'ENCODING', key)
    return r[1] if r[0] == 'bulk' else r[0]


class SRandMember(Exact):
    name = 'srandmember'
    compound = True

    def run(self, client, args):
        r = client.call(*args)
        if r[0] not in ('bulk', 'arr') or len(args) < 2:
            return r
        content = set(_members(client, args[1]) or [])
        if r[0] == 'bulk':
            return ('one', r[1] in content)
        count = int(args[2])
        items = r[1]
        shape_ok = all(x[0] == 'bulk' for x in items)
        got = [x[1] for x in items]
        valid = all(m in content for m in got)
        res = ('many', shape_ok, len(got), valid)
        if count > 0:
            res += (len(set(got)) == len(got), count < len(content) or set(got) == content)
        return res


class SPop(Exact):
    name = 'spop'
    compound = True

    def run(self, client, args):
        if len(args) < 2:
            return client.call(*args)
        key = args[1]
        before = _members(client, key)
        enc_before = _encoding(client, key)
        r = client.call(*args)
        if r[0] == 'bulk':
            popped = [r[1]]
        elif r[0] in ('set', 'arr') and len(args) > 2:
            popped = [x[1] for x in r[1]]
            if not all(x[0] == 'bulk' for x in r[1]):
                return ('bad-shape', r)
        else:
            return r                          # nil, errors: compared exactly
        before = before or []
        after = _members(client, key) or []
        size = len(before)
        count = int(args[2]) if len(args) > 2 else 1
        valid = (set(popped) <= set(before) and len(set(popped)) == len(popped)
                 and len(popped) == min(count, size)
                 and sorted(after) == sorted(set(before) - set(popped)))
        # Encoding after the pop, where Redis's outcome does not depend on
        # which members were drawn.
        remaining = size - len(popped)
        enc_pop = None
        if remaining == 0:
            enc_pop = _encoding(client, key)        # key gone: nil
        elif len(args) == 2 or remaining * 5 > count:
            enc_pop = _encoding(client, key)        # members removed one by one
        else:
            ints = [_is_int(m) for m in before]
            if all(ints) or not any(ints):
                enc_pop = _encoding(client, key)    # rebuilt from the remainder
        if popped:
            client.call(b'SADD', key, *popped)
        return ('spop', r[0], len(popped), valid, enc_before, enc_pop, _encoding(client, key))


SORTED = 'sorted'
SRAND = SRandMember()
SPOP = SPop()


def member(rng):
    r = rng.random()
    if r < 0.35:
        return str(rng.randint(-3, 25))
    if r < 0.62:
        return rng.choice(['a', 'b', 'c', 'd', 'e', 'x', 'y', 'z', 'apple', 'kiwi'])
    if r < 0.68:
        return int_str(rng)
    if r < 0.74:
        return rng.choice(['007', '-0', '+1', ' 1', '1.0', '0x10', '9223372036854775807',
                           '-9223372036854775808', '9223372036854775808', '00'])
    if r < 0.78:
        return ''
    if r < 0.84:
        return binary(rng, 1, 8)
    if r < 0.90:
        return word(rng, 1, 8)
    return LONG_BASE + rng.choice(['', 'p', 'q' * 150, 'r' * 300])


def op_sadd(rng, ks):
    return [randcase(rng, 'SADD'), ks.key(rng)] + [member(rng) for _ in range(rng.randint(1, 5))]


def op_srem(rng, ks):
    return [randcase(rng, 'SREM'), ks.key(rng)] + [member(rng) for _ in range(rng.randint(1, 4))]


def op_point(rng, ks):
    name = rng.choice(['SISMEMBER', 'SMISMEMBER', 'SCARD'])
    if name == 'SCARD':
        return [randcase(rng, name), ks.key(rng)]
    if name == 'SMISMEMBER':
        return [randcase(rng, name), ks.key(rng)] + [member(rng) for _ in range(rng.randint(1, 4))]
    return [randcase(rng, name), ks.key(rng), member(rng)]


def op_smembers(rng, ks):
    return Cmd([randcase(rng, 'SMEMBERS'), ks.key(rng)], norm=SORTED)


def op_algebra(rng, ks):
    name = rng.choice(['SINTER', 'SUNION', 'SDIFF'])
    keys = ks.some(rng, 1, 4)
    if rng.random() < 0.15 and len(keys) > 1:
        keys[-1] = keys[0]                     # the same set twice
    return Cmd([randcase(rng, name)] + keys, norm=SORTED)


def op_store(rng, ks):
    name = rng.choice(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE'])
    keys = ks.some(rng, 1, 3)
    dst = keys[0] if rng.random() < 0.2 else ks.key(rng)   # destination among the sources
    return Group([[randcase(rng, name), dst] + keys,
                  Cmd(['SMEMBERS', dst], norm=SORTED), ['OBJECT', 'ENCODING', dst]])


def op_sintercard(rng, ks):
    keys = ks.some(rng, 1, 4)
    r = rng.random()
    if r < 0.8:
        numkeys = str(len(keys))
    else:
        numkeys = rng.choice(['0', '-1', 'x', str(len(keys) + 1), str(len(keys) + 3),
                              '9223372036854775808'])
    cmd = [randcase(rng, 'SINTERCARD'), numkeys] + keys
    r = rng.random()
    if r < 0.4:
        cmd += [randcase(rng, 'LIMIT'), rng.choice(['0', '1', '2', '3', '100'])]
    elif r < 0.5:
        cmd += rng.choice([['LIMIT', '-1'], ['LIMIT', 'x'], ['LIMIT'], ['NOPE'],
                           ['LIMIT', '1', 'LIMIT', '2']])
    return cmd


def op_smove(rng, ks):
    src = ks.key(rng)
    dst = src if rng.random() < 0.1 else ks.key(rng)
    return [randcase(rng, 'SMOVE'), src, dst, member(rng)]


SRAND_COUNTS = ['0', '1', '2', '3', '5', '-1', '-3', '-7', '20', '600', '-20',
                '9223372036854775807', '-9223372036854775808', 'x', '1.5', '']


def op_srandmember(rng, ks):
    cmd = [randcase(rng, 'SRANDMEMBER'), ks.key(rng)]
    r = rng.random()
    if r < 0.25:
        return Cmd(cmd, norm=SRAND)
    cmd.append(rng.choice(SRAND_COUNTS) if rng.random() < 0.3 else str(rng.randint(-10, 10)))
    if rng.random() < 0.03:
        cmd.append('extra')
    return Cmd(cmd, norm=SRAND)


SPOP_COUNTS = ['0', '1', '2', '3', '5', '8', '20', '600', '-1', 'x', '1.5', '',
               '9223372036854775807', '9223372036854775808']


def op_spop(rng, ks):
    cmd = [randcase(rng, 'SPOP'), ks.key(rng)]
    if rng.random() < 0.4:
        return Cmd(cmd, norm=SPOP)
    cmd.append(rng.choice(SPOP_COUNTS) if rng.random() < 0.5 else str(rng.randint(1, 12)))
    if rng.random() < 0.03:
        cmd.append('extra')
    return Cmd(cmd, norm=SPOP)


def op_sscan(rng, ks):
    cursor = '0' if rng.random() < 0.85 else rng.choice(
        ['', '00', '-0', '+0', 'abc', '1x', ' 1', '-', '18446744073709551616', '1.5'])
    cmd = [randcase(rng, 'SSCAN'), ks.key(rng), cursor]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'MATCH'), rng.choice(['*', '1*', '?', '[a-c]*', '*1*', '-*',
                                                    'M*r', '', '\\*', 'apple'])]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'COUNT'), rng.choice(['1', '2', '5', '10', '100', '1000'])]
    if rng.random() < 0.06:
        cmd += rng.choice([['COUNT', '0'], ['COUNT', '-1'], ['COUNT', 'x'], ['TYPE', 'set'],
                           ['MATCH'], ['NOPE', '1']])
    return cmd


def op_encoding(rng, ks):
    return ['OBJECT', 'ENCODING', ks.key(rng)]


def op_grow(rng, ks):
    """Make one shared key a set of 505-520 integers (across the intset
    limit of 512), sometimes with one other member; then look at it."""
    key = ks.key(rng)
    n = rng.randint(505, 520)
    items = [['DEL', key]] if rng.random() < 0.7 else []
    base = rng.choice([0, 1000, -300])
    for start in range(0, n, 100):
        items.append(['SADD', key] + [str(base + i) for i in range(start, min(n, start + 100))])
    if rng.random() < 0.3:
        items.append(['SADD', key, 'w'])
    items += [['OBJECT', 'ENCODING', key], ['SCARD', key],
              ['SSCAN', key, '0', 'COUNT', str(rng.choice([1, 7, 50]))],
              Cmd(['SRANDMEMBER', key, str(rng.choice([3, 40, 200, 600]))], norm=SRAND),
              Cmd(['SRANDMEMBER', key, str(-rng.randint(1, 30))], norm=SRAND),
              Cmd(['SPOP', key, str(rng.choice([1, 3, 100, 450, 500]))], norm=SPOP),
              Cmd(['SMEMBERS', key], norm=SORTED)]
    return Group(items)


def op_wrongarity(rng, ks):
    name = rng.choice(['SADD', 'SREM', 'SISMEMBER', 'SMISMEMBER', 'SMEMBERS', 'SCARD', 'SPOP',
                       'SRANDMEMBER', 'SMOVE', 'SINTER', 'SINTERCARD', 'SINTERSTORE', 'SUNION',
                       'SUNIONSTORE', 'SDIFF', 'SDIFFSTORE', 'SSCAN'])
    return [name] + [ks.key(rng)][:rng.randint(0, 1)]


NORM_BY_NAME = {'SMEMBERS': SORTED, 'SINTER': SORTED, 'SUNION': SORTED, 'SDIFF': SORTED,
                'SRANDMEMBER': SRAND, 'SPOP': SPOP}


def with_norm(item):
    """Plain command lists (wrong-arity and mangled variants included) get
    this family's normalizer for their command."""
    if isinstance(item, list) and item:
        name = item[0].upper() if isinstance(item[0], str) else item[0].decode().upper()
        if name in NORM_BY_NAME:
            return Cmd(item, norm=NORM_BY_NAME[name])
    return item


def generate(rng, ks):
    table = prepare([
        (12, op_sadd), (5, op_srem), (8, op_point), (4, op_smembers), (5, op_algebra),
        (3, op_store), (2, op_sintercard), (3, op_smove), (3, op_srandmember), (3, op_spop),
        (3, op_sscan), (3, op_encoding), (0.15, op_grow), (1, op_wrongarity),
    ])
    while True:
        item = weighted(rng, table)(rng, ks)
        if isinstance(item, list) and rng.random() < 0.02:
            item = mangle_arity(rng, item)
        yield with_norm(item)
