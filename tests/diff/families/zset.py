"""Sorted sets: ZADD (NX/XX/GT/LT/CH/INCR), ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT, ZRANGE (BYSCORE/BYLEX/REV/LIMIT/WITHSCORES), ZRANGESTORE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX, ZREVRANGE, ZREMRANGEBY*, ZPOPMIN/MAX, ZMPOP, ZRANDMEMBER, ZUNION/ZINTER/ZDIFF(+STORE), ZINTERCARD, ZSCAN.

Three groups of keys, because Redis itself is only deterministic under some
conditions:
  * the shared keys (ks.key) only ever get short members from a pool of at
    most 100: a zset there stays a listpack in Redis, whose lex ranges are a
    plain linear walk, so ZRANGEBYLEX & co. are well defined even with mixed
    scores;
  * zl0..zl2 hold members with score 0 only (long ones included): lex ranges
    over equal scores are exact in both of Redis's encodings;
  * zb0..zb2 hold up to ~200 members, some of 400-700 bytes sharing their
    first 400 bytes (lodis's hashed member form, and the 494/495 and 502/503
    byte boundaries of its plain form), so Redis uses a skiplist. No lex
    ranges there: Redis's skiplist answers them differently from run to run
    when scores differ.
  * zh0, zh1 are seeded with ZADDs of 2000+ members (so they cross lodis's
    rank-index threshold, TZ_RANK_MIN) drawn from a pool of 6000 short and
    a few long members, with many equal scores; rank reads, rank ranges,
    ZREMRANGEBYRANK, pops, ZRANDMEMBER, STOREs and COPY run on them. No lex
    ranges (skiplist).
STORE destinations follow the same rules (results of shared-key inputs go to
shared keys; anything may go to zb keys; only score-0 results go to zl keys).

SADD puts a few sets on shared keys, which ZUNION/ZINTER/ZDIFF read as inputs
with score 1. ZRANDMEMBER is compared by properties (see ZRandNorm); ZSCAN by
a full iteration (normalize.ScanFull).
"""

import normalize
from gen import Cmd, mangle_arity, prepare, randcase, weighted

WEIGHT = 3.0

_LETTERS = [c for c in 'abcdefgh']
SHORT = ([c.encode() for c in _LETTERS] +
         [b'aa', b'ab', b'abc', b'abd', b'b0', b'ba', b'', b'0', b'1', b'-1', b'10', b'2',
          b'1.5', b'-0', b'007', b'x' * 64, b'y' * 40, b'\x00', b'\xff', b'a\x00b', b'A', b'B',
          b'Z', b'\r\n', b'*', b'?', b'[a]', b'h\\', b'9223372036854775808', b'100', b'inf',
          b' ', b'a ', b'\x00\x00', b'\xff\xfe', b'mm', b'zz', b'zzz'] +
         [b'w%d' % i for i in range(40)])
assert len(set(SHORT)) == len(SHORT) and len(SHORT) <= 100

P400 = b'P' * 400
LONG = [P400 + b'x' * 100, P400 + b'y' * 200, P400 + b'x' * 99 + b'z', P400 + b'x' * 101,
        P400 + b'\x00' * 150, P400 + b'\xff' * 150, b'Q' * 600, b'P' * 399 + b'Q' + b'a' * 200,
        b'P' * 493, b'P' * 494, b'P' * 495, b'P' * 496, b'P' * 501, b'P' * 502, b'P' * 503,
        b'P' * 504, b'P' * 700, P400, b'P' * 401, b'O' * 650, b'R' * 520]
BIG = SHORT + LONG + [b'm%03d' % i for i in range(120)]

SCORES = ['0', '1', '2', '3', '-1', '-2', '1.5', '-1.5', '0.1', '0.2', '0.30000000000000004',
          '-0', '-0.0', '+0', '10', '100', '1e17', '-1e17', '1e308', '-1e308', 'inf', '-inf',
          '+inf', '4.9e-324', '3.14159', '12345678901234567890', '0x10', '1e-5', '.5', '5.']
BAD_SCORES = ['nan', 'NaN', 'abc', '', ' 1', '1 ', '1e400', '--1', '(1', 'infinity', 'Inf']

BOUNDS = ['-inf', '+inf', 'inf', '0', '1', '2', '-1', '1.5', '(1', '(2', '(0', '(-1', '(1.5',
          '(inf', '(-inf', '(+inf', '-0', '(-0', '10', '(10', '1e17', '0.1', '(0.1', '3', '(3',
          '100', '', '(', ' 1', '0x10', '1e999', '-1e999', '1\x001x']
BAD_BOUNDS = ['nan', '(nan', 'abc', '((1', '1 ', '1a', '[1', 'x']

LEX = ['-', '+', '[a', '(a', '[b', '(b', '[c', '(c', '[aa', '(ab', '[abc', '[', '(', '[z',
       '(zz', '[w1', '(w2', '[0', '(1', '[\x00', '(\xff', '+\x00', '-\x00', '[P', '(' + 'P' * 400,
       '[' + 'P' * 495, '(' + 'P' * 494, '[' + 'P' * 400 + 'x' * 100, '(' + 'P' * 400 + 'y',
       '[Q', '[O']
BAD_LEX = ['a', '', '+a', '-a', '{a', '1', 'b']

INTS = ['0', '1', '2', '3', '-1', '-2', '-3', '5', '10', '-10', '100', '-100',
        '9223372036854775807', '-9223372036854775808']
BAD_INTS = ['abc', '', '1.5', '9223372036854775808', ' 1', '+1']


class ZRandNorm(normalize.Exact):
    """ZRANDMEMBER: the picks are random. Compare the reply's shape and, on
    each server, that every pick is a member (with its score, when asked)
    and, for a positive count, that picks are distinct and as many as
    min(count, ZCARD)."""
    compound = True
    name = 'zrandmember'

    def run(self, client, args):
        r = client.call(*args)
        if r[0] in ('err', 'nil', 'null', 'nil_arr'):
            return r
        key = args[1]
        if r[0] == 'bulk':
            s = client.call(b'ZSCORE', key, r[1])
            return ('zrand1', s[0] in ('bulk', 'double'))
        if r[0] != 'arr':
            return ('zrand-bad', r)
        withscores = len(args) >= 4
        items = r[1]
        pairs = []
        if withscores:
            for it in items:
                if it[0] == 'arr':                      # RESP3: [member, score]
                    pairs.append((it[1][0][1], it[1][1]))
            if not pairs:
                pairs = [(items[i][1], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        else:
            pairs = [(it[1], None) for it in items]
        count = int(args[2])
        card = client.call(b'ZCARD', key)
        ok = True
        for m, s in pairs:
            got = client.call(b'ZSCORE', key, m)
            if got[0] not in ('bulk', 'double'):
                ok = False
            elif s is not None and got != s:
                ok = False
        members = [m for m, _ in pairs]
        distinct = len(set(members)) == len(members)
        if count >= 0:
            want = min(count, card[1]) if card[0] == 'int' else None
            return ('zrand', len(items), ok, distinct, len(pairs) == want,
                    tuple(sorted(members)) if want == card[1] else None)
        return ('zrand', len(items), ok, len(pairs) == -count)


ZRAND = ZRandNorm()
normalize.BY_COMMAND[b'ZRANDMEMBER'] = ZRAND


class Keys:
    def __init__(self, ks):
        self.ks = ks
        self.zl = [ks.private('zl%d' % i) for i in range(3)]
        self.zb = [ks.private('zb%d' % i) for i in range(3)]
        self.zh = [ks.private('zh%d' % i) for i in range(2)]

    def shared(self, rng):
        return self.ks.key(rng)

    def any(self, rng):
        r = rng.random()
        if r < 0.55:
            return self.ks.key(rng)
        if r < 0.75:
            return rng.choice(self.zl)
        return rng.choice(self.zb)

    def nonlex(self, rng):
        """A key for score/rank reads: any group."""
        return self.any(rng)

    def lexkey(self, rng):
        return self.ks.key(rng) if rng.random() < 0.6 else rng.choice(self.zl)


def score(rng):
    r = rng.random()
    if r < 0.5:
        return rng.choice(SCORES)
    if r < 0.8:
        return str(rng.randint(-5, 5))
    if r < 0.96:
        return repr(rng.uniform(-100, 100))
    return rng.choice(BAD_SCORES)


def bound(rng):
    return rng.choice(BOUNDS) if rng.random() < 0.95 else rng.choice(BAD_BOUNDS)


def lexb(rng):
    return rng.choice(LEX) if rng.random() < 0.94 else rng.choice(BAD_LEX)


def int_arg(rng):
    return rng.choice(INTS) if rng.random() < 0.95 else rng.choice(BAD_INTS)


HOT_SHORT = SHORT[:14] + [b'', b'0', b'-1', b'\x00', b'x' * 64]
HOT_BIG = HOT_SHORT[:8] + LONG[:10] + [b'm000', b'm001', b'm002', b'm050', b'm119']


def member_for(rng, key, keys):
    """Members from a small hot set most of the time, so that reads hit."""
    hot = rng.random() < 0.8
    if key in keys.zl:
        return rng.choice(HOT_BIG if hot else SHORT + LONG)
    if key in keys.zb:
        return rng.choice(HOT_BIG if hot else BIG)
    return rng.choice(HOT_SHORT if hot else SHORT)


NUM_BOUNDS = ['-inf', '-5', '-3', '-2', '-1.5', '-1', '-0', '0', '0.1', '1', '1.5', '2', '3',
              '5', '10', '100', '1e17', '+inf']


def score_pair(rng, rev=False):
    """(min, max) in command order: mostly an ordered pair, open or closed."""
    if rng.random() < 0.3:
        a, b = bound(rng), bound(rng)
    else:
        i, j = sorted(rng.randrange(len(NUM_BOUNDS)) for _ in range(2))
        a, b = NUM_BOUNDS[i], NUM_BOUNDS[j]
        if rng.random() < 0.3:
            a = '(' + a
        if rng.random() < 0.3:
            b = '(' + b
    return (b, a) if rev else (a, b)


def lex_pair(rng, rev=False):
    if rng.random() < 0.3:
        a, b = lexb(rng), lexb(rng)
    else:
        pool = HOT_BIG + HOT_SHORT
        x, y = sorted([rng.choice(pool), rng.choice(pool)])
        a = (b'(' if rng.random() < 0.3 else b'[') + x
        b = (b'(' if rng.random() < 0.3 else b'[') + y
        if rng.random() < 0.15:
            a = b'-'
        if rng.random() < 0.15:
            b = b'+'
    return (b, a) if rev else (a, b)


def op_zadd(rng, keys):
    key = keys.any(rng)
    zl = key in keys.zl
    opts = []
    r = rng.random()
    if r < 0.5:
        pass
    else:
        for o in ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']:
            if rng.random() < 0.22:
                opts.append(randcase(rng, o))
        rng.shuffle(opts)
    if zl:
        # keep every score at 0: only plain adds (NX/XX/CH) with score 0
        opts = [o for o in opts if o.upper() in ('NX', 'XX', 'CH')]
    n = 1 if any(o.upper() == 'INCR' for o in opts) and rng.random() < 0.8 else rng.randint(1, 5)
    cmd = ['ZADD', key] + opts
    for _ in range(n):
        cmd += ['0' if zl else score(rng), member_for(rng, key, keys)]
    if not zl and rng.random() < 0.03:
        cmd = cmd[:-1]                          # odd number of arguments
    return cmd


def op_zadd_many(rng, keys):
    """Bulk-fill a zb key past the listpack limit."""
    key = rng.choice(keys.zb)
    cmd = ['ZADD', key]
    for _ in range(rng.randint(20, 60)):
        cmd += [rng.choice(SCORES[:12]) if rng.random() < 0.6 else str(rng.randint(-3, 3)),
                rng.choice(BIG)]
    return cmd


def op_zincrby(rng, keys):
    key = keys.any(rng)
    if key in keys.zl:
        key = keys.shared(rng)
    return ['ZINCRBY', key, score(rng), member_for(rng, key, keys)]


def op_zrem(rng, keys):
    key = keys.any(rng)
    return ['ZREM', key] + [member_for(rng, key, keys) for _ in range(rng.randint(1, 4))]


def op_reads(rng, keys):
    key = keys.any(rng)
    r = rng.random()
    if r < 0.15:
        return ['ZCARD', key]
    if r < 0.4:
        return ['ZSCORE', key, member_for(rng, key, keys)]
    if r < 0.55:
        return ['ZMSCORE', key] + [member_for(rng, key, keys) for _ in range(rng.randint(1, 4))]
    return [rng.choice(['ZRANK', 'ZREVRANK']), key, member_for(rng, key, keys)]


def op_zcount(rng, keys):
    return ['ZCOUNT', keys.nonlex(rng), *score_pair(rng)]


def op_zlexcount(rng, keys):
    return ['ZLEXCOUNT', keys.lexkey(rng), *lex_pair(rng)]


def _limit(rng):
    if rng.random() < 0.8:
        return [randcase(rng, 'LIMIT'), rng.choice(['0', '0', '1', '2', '3', '-1', '5', '100']),
                rng.choice(['1', '2', '3', '5', '-1', '0', '10', '-5'])]
    return [randcase(rng, 'LIMIT'), int_arg(rng), int_arg(rng)]


def op_zrange(rng, keys, store=False):
    kind = rng.choice(['rank', 'rank', 'score', 'score', 'lex'])
    src = keys.lexkey(rng) if kind == 'lex' else keys.any(rng)
    rev = rng.random() < 0.4
    if kind == 'rank':
        a, b = int_arg(rng), int_arg(rng)
    elif kind == 'score':
        a, b = score_pair(rng, rev)
    else:
        a, b = lex_pair(rng, rev)
    opts = []
    if kind == 'score':
        opts.append([randcase(rng, 'BYSCORE')])
    elif kind == 'lex':
        opts.append([randcase(rng, 'BYLEX')])
    if rev:
        opts.append([randcase(rng, 'REV')])
    if rng.random() < (0.4 if kind != 'rank' else 0.05):
        opts.append(_limit(rng))
    if not store and rng.random() < (0.5 if kind != 'lex' else 0.03):
        opts.append([randcase(rng, 'WITHSCORES')])
    if rng.random() < 0.03:
        opts.append([rng.choice(['BYSCORE', 'BYLEX', 'REV', 'LIMIT', 'bogus', 'WITHSCORES'])])
    rng.shuffle(opts)
    flat = [x for o in opts for x in o]
    if store:
        if src in keys.zl:
            dst = rng.choice(keys.zl + keys.zb)
        elif src in keys.zb:
            dst = rng.choice(keys.zb)
        else:
            dst = keys.shared(rng) if rng.random() < 0.8 else rng.choice(keys.zb)
        return ['ZRANGESTORE', dst, src, a, b] + flat
    return ['ZRANGE', src, a, b] + flat


def op_zrangestore(rng, keys):
    return op_zrange(rng, keys, store=True)


def op_old_ranges(rng, keys):
    r = rng.random()
    if r < 0.3:
        name = rng.choice(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE'])
        cmd = [name, keys.any(rng), *score_pair(rng, name.startswith('ZREV'))]
        if rng.random() < 0.5:
            cmd.append(randcase(rng, 'WITHSCORES'))
        if rng.random() < 0.4:
            cmd += _limit(rng)
    elif r < 0.6:
        name = rng.choice(['ZRANGEBYLEX', 'ZREVRANGEBYLEX'])
        cmd = [name, keys.lexkey(rng), *lex_pair(rng, name.startswith('ZREV'))]
        if rng.random() < 0.4:
            cmd += _limit(rng)
        if rng.random() < 0.04:
            cmd.append('WITHSCORES')
    else:
        cmd = ['ZREVRANGE', keys.any(rng), int_arg(rng), int_arg(rng)]
        if rng.random() < 0.5:
            cmd.append(randcase(rng, 'WITHSCORES'))
        if rng.random() < 0.05:
            cmd += _limit(rng)
    if rng.random() < 0.03:
        cmd.append(rng.choice(['REV', 'BYSCORE', 'BYLEX', 'junk']))
    return cmd


def op_zremrange(rng, keys):
    r = rng.random()
    if r < 0.35:
        return ['ZREMRANGEBYRANK', keys.any(rng), int_arg(rng), int_arg(rng)]
    if r < 0.7:
        return ['ZREMRANGEBYSCORE', keys.any(rng), *score_pair(rng)]
    return ['ZREMRANGEBYLEX', keys.lexkey(rng), *lex_pair(rng)]


def op_pop(rng, keys):
    r = rng.random()
    if r < 0.6:
        cmd = [rng.choice(['ZPOPMIN', 'ZPOPMAX']), keys.any(rng)]
        if rng.random() < 0.6:
            cmd.append(rng.choice(['0', '1', '2', '3', '10', '-1', 'abc', '200']))
        if rng.random() < 0.03:
            cmd.append('1')
        return cmd
    n = rng.randint(1, 3)
    ks_ = [keys.any(rng) for _ in range(n)]
    cmd = ['ZMPOP', str(n) if rng.random() < 0.93 else rng.choice(['0', '-1', 'x', '5', '9223372036854775807'])]
    cmd += ks_
    cmd.append(randcase(rng, rng.choice(['MIN', 'MAX'])) if rng.random() < 0.95 else 'MID')
    if rng.random() < 0.5:
        cmd += [randcase(rng, 'COUNT'), rng.choice(['1', '2', '5', '100', '0', '-1', 'x'])]
    if rng.random() < 0.03:
        cmd += ['COUNT', '1']
    return cmd


def op_zrandmember(rng, keys):
    key = keys.any(rng)
    r = rng.random()
    if r < 0.25:
        return Cmd(['ZRANDMEMBER', key], norm=ZRAND)
    cnt = rng.choice(['0', '1', '2', '3', '5', '-1', '-3', '-10', '50', '300', '-300', 'x',
                      '-9223372036854775808', '9223372036854775807', '4611686018427387904'])
    cmd = ['ZRANDMEMBER', key, cnt]
    if rng.random() < 0.5:
        cmd.append(randcase(rng, 'WITHSCORES'))
    if rng.random() < 0.03:
        cmd.append('junk')
    return Cmd(cmd, norm=ZRAND)


def op_setop(rng, keys):
    name = rng.choice(['ZUNION', 'ZINTER', 'ZDIFF', 'ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE',
                       'ZINTERCARD'])
    n = rng.randint(1, 3)
    group = rng.random()
    if group < 0.6:
        srcs = [keys.shared(rng) for _ in range(n)]
    else:
        srcs = [keys.any(rng) for _ in range(n)]
    store = name.endswith('STORE')
    cmd = [name]
    if store:
        if all(s not in keys.zl and s not in keys.zb for s in srcs):
            dst = keys.shared(rng) if rng.random() < 0.85 else rng.choice(keys.zb)
        else:
            dst = rng.choice(keys.zb)
        cmd.append(dst)
    nk = str(n)
    if rng.random() < 0.05:
        nk = rng.choice(['0', '-1', 'x', str(n + 2)])
    cmd += [nk] + srcs
    opts = []
    if name in ('ZUNION', 'ZINTER', 'ZUNIONSTORE', 'ZINTERSTORE'):
        if rng.random() < 0.4:
            w = [rng.choice(['1', '2', '0', '-1', '0.5', 'inf', '-inf', '-0', '1e308'])
                 for _ in range(n)]
            if rng.random() < 0.05:
                w[-1] = rng.choice(['nan', 'x', ''])
            if rng.random() < 0.03:
                w = w[:-1]
            opts.append([randcase(rng, 'WEIGHTS')] + w)
        if rng.random() < 0.4:
            opts.append([randcase(rng, 'AGGREGATE'),
                         randcase(rng, rng.choice(['SUM', 'MIN', 'MAX', 'AVG']))])
    if name in ('ZUNION', 'ZINTER', 'ZDIFF') and rng.random() < 0.5:
        opts.append([randcase(rng, 'WITHSCORES')])
    if name == 'ZINTERCARD' and rng.random() < 0.5:
        opts.append([randcase(rng, 'LIMIT'), rng.choice(['0', '1', '2', '5', '-1', 'x'])])
    if rng.random() < 0.03:
        opts.append([rng.choice(['WITHSCORES', 'LIMIT', 'WEIGHTS', 'AGGREGATE', 'junk'])])
    rng.shuffle(opts)
    return cmd + [x for o in opts for x in o]


def op_zscan(rng, keys):
    key = keys.any(rng)
    cur = '0' if rng.random() < 0.93 else rng.choice(['x', '-', ' 0', '1.5', ''])
    cmd = ['ZSCAN', key, cur]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'MATCH'), rng.choice(['*', 'a*', '*b*', 'w1?', '[a-c]', 'P*', '\\*', ''])]
    if rng.random() < 0.4:
        cmd += [randcase(rng, 'COUNT'), rng.choice(['1', '2', '10', '1000', '0', '-1', 'x'])]
    if rng.random() < 0.03:
        cmd += [rng.choice(['TYPE', 'junk'])]
    return cmd


def op_check(rng, keys):
    """Read a whole key back in order (catches silent state differences)."""
    key = keys.any(rng)
    if rng.random() < 0.5:
        return ['ZRANGE', key, '0', '-1', 'WITHSCORES']
    return ['OBJECT', 'ENCODING', key]


def op_sadd(rng, keys):
    """A set on a shared key: ZUNION/ZINTER/ZDIFF take sets as inputs (score 1)."""
    return ['SADD', keys.shared(rng)] + [rng.choice(HOT_SHORT + [b'5', b'-3', b'100'])
                                         for _ in range(rng.randint(1, 4))]


def op_del(rng, keys):
    r = rng.random()
    if r < 0.5:
        return ['DEL', rng.choice(keys.zl + keys.zb)]
    return ['DEL', keys.shared(rng)]


HUGE_POOL = 6000


def huge_member(rng):
    if rng.random() < 0.03:
        return rng.choice(LONG)
    return b'h%05d' % rng.randrange(HUGE_POOL)


def huge_score(rng):
    r = rng.random()
    if r < 0.5:
        return str(rng.randint(-3, 3))             # long runs of equal scores
    if r < 0.6:
        return rng.choice(['0', '-0', '-0.0', '+0', 'inf', '-inf', '1.5', '-1.5'])
    return repr(rng.uniform(-1000, 1000))


def huge_rank(rng):
    r = rng.random()
    if r < 0.45:
        return rng.randint(0, 3000)
    if r < 0.9:
        return -rng.randint(1, 3000)
    return rng.choice([0, -1, 1, 2, -2, 5000, -5000])


def op_huge_seed(rng, keys):
    """Fill a zh key with 2000-3000 members (new ones and updates)."""
    cmd = ['ZADD', rng.choice(keys.zh)]
    for _ in range(rng.randint(2000, 3000)):
        cmd += [huge_score(rng), huge_member(rng)]
    return cmd


def op_huge(rng, keys):
    """Rank reads and rank-driven writes on a key of thousands of members."""
    key = rng.choice(keys.zh)
    other = keys.zh[1] if key == keys.zh[0] else keys.zh[0]
    r = rng.random()
    if r < 0.22:
        return [rng.choice(['ZRANK', 'ZREVRANK']), key, huge_member(rng)]
    if r < 0.42:
        a = huge_rank(rng)
        b = a + rng.randint(0, 20) if rng.random() < 0.8 else huge_rank(rng)
        cmd = [rng.choice(['ZRANGE', 'ZREVRANGE']), key, str(a), str(b)]
        if cmd[0] == 'ZRANGE' and rng.random() < 0.4:
            cmd.append('REV')
        if rng.random() < 0.5:
            cmd.append('WITHSCORES')
        return cmd
    if r < 0.5:
        a = huge_rank(rng)
        return ['ZREMRANGEBYRANK', key, str(a), str(a + rng.randint(0, 40))]
    if r < 0.64:
        cmd = ['ZADD', key]
        for _ in range(rng.randint(1, 8)):
            cmd += [huge_score(rng), huge_member(rng)]
        return cmd
    if r < 0.7:
        return ['ZINCRBY', key, huge_score(rng), huge_member(rng)]
    if r < 0.78:
        return ['ZREM', key] + [huge_member(rng) for _ in range(rng.randint(1, 8))]
    if r < 0.83:
        return [rng.choice(['ZPOPMIN', 'ZPOPMAX']), key, str(rng.randint(1, 60))]
    if r < 0.87:
        cnt = rng.choice(['1', '5', '300', '-300', '-2000', '2000', '100000'])
        cmd = ['ZRANDMEMBER', key, cnt] + (['WITHSCORES'] if rng.random() < 0.5 else [])
        return Cmd(cmd, norm=ZRAND)
    if r < 0.9:
        a = rng.randint(0, 500)
        return ['ZRANGESTORE', other, key, str(a), str(a + rng.randint(300, 2500))]
    if r < 0.92:
        return ['ZUNIONSTORE', other, '2', key, rng.choice(keys.zb)]
    if r < 0.94:
        return ['COPY', key, other, 'REPLACE']
    if r < 0.97:
        return ['ZCOUNT', key, *score_pair(rng)]
    if r < 0.995:
        return ['ZRANGE', key, '0', '-1', 'WITHSCORES']
    return ['DEL', key]


def generate(rng, ks):
    keys = Keys(ks)
    table = prepare([
        (14, op_zadd), (1.2, op_zadd_many), (2, op_zincrby), (3, op_zrem), (6, op_reads),
        (3, op_zcount), (3, op_zlexcount), (8, op_zrange), (2.5, op_zrangestore),
        (4, op_old_ranges), (3, op_zremrange), (3, op_pop), (2, op_zrandmember),
        (4, op_setop), (1.5, op_zscan), (3, op_check), (0.6, op_del), (0.8, op_sadd),
        (0.25, op_huge_seed), (7, op_huge),
    ])
    while True:
        fn = weighted(rng, table)
        item = fn(rng, keys)
        if rng.random() < 0.02 and not isinstance(item, Cmd):
            item = mangle_arity(rng, item)
        yield item
