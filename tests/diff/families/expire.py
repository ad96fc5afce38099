"""Expiry commands: EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT,
TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.

No key set here expires during a run: relative times are at least an hour
(REL_MIN), absolute ones are after 2100-01-01, or in the past (which deletes
the key at once, deterministically), or negative/zero. TTL/PTTL (and
EXPIRETIME/PEXPIRETIME, for expiries set relative to each server's clock)
are compared with a tolerance of 1 s / 1000 ms.

Real expiry is checked by one dedicated, deterministic group (first item,
then rarely): a private key gets a 100 ms TTL on both servers, the runner
sleeps 300 ms, and both must report the key gone.
"""

from gen import (FAR, REL_MAX, REL_MIN, Group, Sleep, mangle_arity, prepare,
                 randcase, value, weighted)

WEIGHT = 2.5

BAD = ['abc', '', '1.5', '9223372036854775807', '-9223372036854775808',
       '9223372036854775808', '9223372036854775', '9223372036854776',
       '-9223372036854775', '-9223372036854776', '922337203685477580']


def _time(rng, cmd):
    ms = cmd.startswith('P')
    absolute = cmd.endswith('AT')
    r = rng.random()
    if r < 0.7:
        if absolute:
            v = FAR + rng.randint(0, 10_000_000)
        else:
            v = rng.randint(REL_MIN, REL_MAX)
        if ms:
            v = v * 1000 + rng.randint(0, 999)
        return str(v)
    if r < 0.85:                        # past / zero / negative: deletes the key
        if absolute:
            v = rng.choice([0, 1, 1000, rng.randint(1, 1_600_000_000)])
            return str(v * 1000 if ms else v)
        return str(rng.choice([0, -1, -100, -rng.randint(1, 10 ** 9)]))
    return rng.choice(BAD)


FLAG_SETS = [[], [], [], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'GT'], ['XX', 'LT'],
             ['GT', 'XX'], ['NX', 'XX'], ['NX', 'GT'], ['GT', 'LT'], ['NX', 'LT'],
             ['NX', 'NX'], ['GT', 'GT'], ['BOGUS'], ['nx'], ['Gt']]


def op_expire(rng, ks):
    cmd = rng.choice(['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT'])
    return [randcase(rng, cmd), ks.key(rng), _time(rng, cmd),
            *[randcase(rng, f) for f in rng.choice(FLAG_SETS)]]


def op_ttl(rng, ks):
    return [rng.choice(['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']), ks.key(rng)]


def op_persist(rng, ks):
    return ['PERSIST', ks.key(rng)]


def op_set(rng, ks):
    k = ks.key(rng)
    r = rng.random()
    if r < 0.6:
        return ['SET', k, value(rng)]
    if r < 0.8:
        return ['SET', k, value(rng), 'EX', str(rng.randint(REL_MIN, REL_MAX))]
    if r < 0.9:
        return ['SET', k, value(rng), 'PXAT', str((FAR + rng.randint(0, 10 ** 6)) * 1000)]
    return ['SET', k, value(rng), 'KEEPTTL']


def op_wrongarity(rng, ks):
    return rng.choice([
        ['EXPIRE', 'a'], ['EXPIRE'], ['PEXPIRE', 'a'], ['EXPIREAT', 'a'], ['PEXPIREAT'],
        ['TTL'], ['TTL', 'a', 'b'], ['PTTL'], ['EXPIRETIME'], ['PEXPIRETIME', 'a', 'b'],
        ['PERSIST'], ['PERSIST', 'a', 'b'],
    ])


def sleep_check(ks):
    k = ks.private('expire:sleepcheck')
    k2 = ks.private('expire:sleepcheck2')
    return Group([
        ['SET', k, 'soon-gone', 'PX', '100'],
        ['SET', k2, 'soon-gone'],
        ['PEXPIRE', k2, '100'],
        ['EXISTS', k, k2],
        Sleep(0.3),
        ['GET', k],
        ['EXISTS', k2],
        ['TTL', k],
        ['PTTL', k2],
        ['EXPIRETIME', k2],
    ])


def generate(rng, ks):
    table = prepare([
        (10, op_set), (12, op_expire), (8, op_ttl), (2, op_persist), (0.7, op_wrongarity),
    ])
    yield sleep_check(ks)
    while True:
        if rng.random() < 1 / 30000:
            yield sleep_check(ks)
            continue
        item = weighted(rng, table)(rng, ks)
        if rng.random() < 0.01:
            item = mangle_arity(rng, item)
        yield item
