"""Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HGETALL, HDEL, HEXISTS,
HLEN, HSTRLEN, HKEYS, HVALS, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN, and
OBJECT ENCODING of hashes (listpack until a field/value passes 64 bytes or
the hash passes 512 fields, then hashtable for good).

Fields come from a small pool (so that overwrites, HSETNX refusals and HDEL
hits happen), plus empty, binary, numeric, 65-byte (listpack -> hashtable)
and 600+-byte fields (lodis's hashed long-member form; several share their
first 400 bytes). Now and then a shared key grows to about 512 fields, so HSCAN
pages through a "hashtable" hash and HRANDFIELD takes its other paths.

Normalizers (defined here, used through gen.Cmd):
  HGETALL          unordered pairs (RESP2 flat array or RESP3 map)
  HKEYS, HVALS     sorted multiset ('sorted')
  HRANDFIELD       compound: the reply is checked against the hash's content
                   on the same server (membership, distinctness, length,
                   field/value pairing, reply shape); only the verdict and
                   the shape are compared between servers
  HSCAN            the shared scan-full normalizer (pairs)
"""

from gen import (Cmd, Group, binary, float_str, int_str, mangle_arity, prepare,
                 randcase, value, weighted, word)
from normalize import Exact

WEIGHT = 3.0

LONG_BASE = 'F' * 420


class UnorderedPairs(Exact):
    """HGETALL: the same set of field/value pairs, the same reply type."""
    name = 'pairs'
    compound = False

    def show(self, v):
        if v[0] == 'map':
            return ('map', tuple(sorted(v[1])))
        if v[0] == 'arr' and len(v[1]) % 2 == 0:
            items = v[1]
            return ('arr', tuple(sorted(zip(items[0::2], items[1::2]))))
        return v

    def equal(self, a, b):
        return self.show(a) == self.show(b)


def _hash_content(client, key):
    """field -> value of the hash at key on this server (HGETALL)."""
    r = client.call(b'HGETALL', key)
    if r[0] == 'map':
        return {k[1]: v[1] for k, v in r[1]}
    if r[0] == 'arr':
        it = r[1]
        return {it[i][1]: it[i + 1][1] for i in range(0, len(it), 2)}
    return None


class HRandField(Exact):
    """HRANDFIELD: random by design. Run it, then read the hash with HGETALL
    on the same server and reduce the reply to properties that any correct
    server shares: reply shape, length, every field (and value) belongs to
    the hash, distinctness for a positive count, the whole hash when count
    >= size."""
    name = 'hrandfield'
    compound = True

    def run(self, client, args):
        r = client.call(*args)
        if r[0] not in ('bulk', 'arr'):
            return r                        # errors, nil: compared exactly
        content = _hash_content(client, args[1]) or {}
        if r[0] == 'bulk':
            return ('one', r[1] in content)
        withvalues = len(args) > 3
        count = int(args[2])
        items = r[1]
        resp3 = bool(items) and items[0][0] == 'arr'
        pairs = []
        shape_ok = True
        if withvalues and resp3:
            for it in items:
                if it[0] != 'arr' or len(it[1]) != 2:
                    shape_ok = False
                    break
                pairs.append((it[1][0][1], it[1][1][1]))
        elif withvalues:
            if len(items) % 2:
                return ('odd', len(items))
            pairs = [(items[i][1], items[i + 1][1]) for i in range(0, len(items), 2)]
        else:
            pairs = [(it[1], None) for it in items]
        if any(it[0] != 'bulk' for it in items if not (withvalues and resp3)):
            shape_ok = False
        fields = [f for f, _ in pairs]
        valid = all(f in content and (v is None or content[f] == v) for f, v in pairs)
        distinct = len(set(fields)) == len(fields)
        whole = count >= len(content) and set(fields) == set(content)
        return ('many', shape_ok, len(pairs), valid,
                distinct if count > 0 else None, whole if count > 0 else None)


PAIRS = UnorderedPairs()
HRAND = HRandField()


def field(rng):
    r = rng.random()
    if r < 0.55:
        return rng.choice(['a', 'b', 'c', 'd', 'e', 'f', 'name', 'age', 'x', 'y'])
    if r < 0.68:
        return str(rng.randint(-5, 30))
    if r < 0.76:
        return word(rng, 1, 6)
    if r < 0.80:
        return ''
    if r < 0.86:
        return binary(rng, 1, 10)
    if r < 0.91:
        return 'm' * rng.choice([63, 64, 65, 66])     # around hash-max-listpack-value
    if r < 0.96:
        return LONG_BASE + rng.choice(['', 'x', 'y' * 200, 'z' * 300])  # hashed long form
    return rng.choice(['1.5', '007', '-0', ' 1', '9223372036854775808'])


def hvalue(rng):
    r = rng.random()
    if r < 0.25:
        return int_str(rng)
    if r < 0.35:
        return float_str(rng)
    if r < 0.42:
        return 'v' * rng.choice([63, 64, 65])
    return value(rng)


def op_hset(rng, ks):
    name = rng.choice(['HSET'] * 4 + ['HMSET'])
    cmd = [randcase(rng, name), ks.key(rng)]
    for _ in range(rng.randint(1, 4)):
        cmd += [field(rng), hvalue(rng)]
    if rng.random() < 0.04:
        cmd.append(field(rng))                       # odd number: arity error
    return cmd


def op_hsetnx(rng, ks):
    return [randcase(rng, 'HSETNX'), ks.key(rng), field(rng), hvalue(rng)]


def op_hget(rng, ks):
    return [randcase(rng, 'HGET'), ks.key(rng), field(rng)]


def op_hmget(rng, ks):
    return [randcase(rng, 'HMGET'), ks.key(rng)] + [field(rng) for _ in range(rng.randint(1, 5))]


def op_hgetall(rng, ks):
    return Cmd([randcase(rng, 'HGETALL'), ks.key(rng)], norm=PAIRS)


def op_hkeys_hvals(rng, ks):
    return Cmd([randcase(rng, rng.choice(['HKEYS', 'HVALS'])), ks.key(rng)], norm='sorted')


def op_hdel(rng, ks):
    return [randcase(rng, 'HDEL'), ks.key(rng)] + [field(rng) for _ in range(rng.randint(1, 4))]


def op_small_read(rng, ks):
    name = rng.choice(['HEXISTS', 'HSTRLEN', 'HLEN'])
    if name == 'HLEN':
        return [randcase(rng, name), ks.key(rng)]
    return [randcase(rng, name), ks.key(rng), field(rng)]


def op_hincrby(rng, ks):
    incr = int_str(rng) if rng.random() < 0.4 else str(rng.randint(-100, 100))
    return [randcase(rng, 'HINCRBY'), ks.key(rng), field(rng), incr]


def op_hincrbyfloat(rng, ks):
    r = rng.random()
    if r < 0.5:
        incr = str(rng.choice([0.5, -1.25, 3, 10.1, 1e10, -2e-5, 100]))
    else:
        incr = float_str(rng)
    return [randcase(rng, 'HINCRBYFLOAT'), ks.key(rng), field(rng), incr]


HRAND_COUNTS = ['0', '1', '2', '3', '5', '10', '-1', '-2', '-5', '-20', '100', '200',
                '-9223372036854775808', '-9223372036854775807', '9223372036854775807',
                '4611686018427387904', '-4611686018427387904', '4611686018427387903',
                'abc', '1.5', '']


def op_hrandfield(rng, ks):
    cmd = [randcase(rng, 'HRANDFIELD'), ks.key(rng)]
    r = rng.random()
    if r < 0.2:
        return Cmd(cmd, norm=HRAND)
    c = rng.choice(HRAND_COUNTS) if rng.random() < 0.3 else str(rng.randint(-12, 12))
    if c.startswith('-') and len(c) > 10 and c != '-9223372036854775808':
        # A huge negative count is valid without WITHVALUES and would build
        # a reply of billions of elements; with it, it is an error.
        return Cmd(cmd + [c, randcase(rng, 'WITHVALUES')], norm=HRAND)
    cmd.append(c)
    r = rng.random()
    if r < 0.45:
        cmd.append(randcase(rng, 'WITHVALUES'))
    elif r < 0.5:
        cmd.append(rng.choice(['WITHSCORES', 'x', '']))
    elif r < 0.53:
        cmd += ['WITHVALUES', 'WITHVALUES']
    return Cmd(cmd, norm=HRAND)


def op_hscan(rng, ks):
    cursor = '0' if rng.random() < 0.85 else rng.choice(
        ['', '00', '-0', '+0', 'abc', '1x', ' 1', '-', '18446744073709551616', '1.5'])
    cmd = [randcase(rng, 'HSCAN'), ks.key(rng), cursor]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'MATCH'), rng.choice(['*', 'a*', '?', '[a-c]*', '*1*', 'm*', 'F*x',
                                                    '', '\\*', 'name'])]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'COUNT'), rng.choice(['1', '2', '5', '10', '100', '1000'])]
    if rng.random() < 0.06:
        cmd += rng.choice([['COUNT', '0'], ['COUNT', '-1'], ['COUNT', 'x'], ['TYPE', 'hash'],
                           ['MATCH'], ['NOPE', '1']])
    return cmd


def op_encoding(rng, ks):
    return ['OBJECT', 'ENCODING', ks.key(rng)]


def op_grow(rng, ks):
    """Make one shared key a hash of 505-520 fields, so it crosses (or stays
    just under) hash-max-listpack-entries (512 in Redis 7.0.15's code,
    whatever its docs say); then look at it."""
    key = ks.key(rng)
    n = rng.randint(505, 520)
    items = [['DEL', key]] if rng.random() < 0.7 else []
    for start in range(0, n, 100):
        cmd = ['HSET', key]
        for i in range(start, min(n, start + 100)):
            cmd += ['g%d' % i, str(i) if rng.random() < 0.5 else word(rng, 1, 8)]
        items.append(cmd)
    items += [['OBJECT', 'ENCODING', key], ['HLEN', key],
              ['HSCAN', key, '0', 'COUNT', str(rng.choice([1, 7, 50]))],
              Cmd(['HRANDFIELD', key, str(rng.choice([3, 40, 150, 200, 600])), 'WITHVALUES'],
                  norm=HRAND),
              Cmd(['HRANDFIELD', key, str(-rng.randint(1, 30))], norm=HRAND),
              Cmd(['HGETALL', key], norm=PAIRS)]
    return Group(items)


def op_wrongarity(rng, ks):
    name = rng.choice(['HSET', 'HSETNX', 'HMSET', 'HGET', 'HMGET', 'HGETALL', 'HDEL', 'HEXISTS',
                       'HLEN', 'HSTRLEN', 'HKEYS', 'HVALS', 'HINCRBY', 'HINCRBYFLOAT',
                       'HRANDFIELD', 'HSCAN'])
    return [name] + [ks.key(rng)][:rng.randint(0, 1)]


def generate(rng, ks):
    table = prepare([
        (12, op_hset), (3, op_hsetnx), (8, op_hget), (3, op_hmget), (4, op_hgetall),
        (3, op_hkeys_hvals), (5, op_hdel), (5, op_small_read), (5, op_hincrby),
        (4, op_hincrbyfloat), (3, op_hrandfield), (3, op_hscan), (3, op_encoding),
        (0.15, op_grow), (1, op_wrongarity),
    ])
    while True:
        item = weighted(rng, table)(rng, ks)
        if isinstance(item, list) and rng.random() < 0.02:
            item = mangle_arity(rng, item)
        yield with_norm(item)


NORM_BY_NAME = {'HGETALL': PAIRS, 'HKEYS': 'sorted', 'HVALS': 'sorted', 'HRANDFIELD': HRAND}


def with_norm(item):
    """Plain command lists (wrong-arity and mangled variants included) get
    this family's normalizer for their command."""
    if isinstance(item, list) and item:
        name = item[0].upper() if isinstance(item[0], str) else item[0].decode().upper()
        if name in NORM_BY_NAME:
            return Cmd(item, norm=NORM_BY_NAME[name])
    return item
