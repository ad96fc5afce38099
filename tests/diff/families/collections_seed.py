"""Creates non-string values (list, set, hash, sorted set) on the shared keys
so that the other families meet WRONGTYPE, TYPE/OBJECT ENCODING of other
types, RENAME/COPY/MOVE of non-strings... Kept apart so that the string
family can run alone against a server without collection types.
"""

from gen import prepare, value, weighted, word

WEIGHT = 0.6


def op_list(rng, ks):
    return [rng.choice(['LPUSH', 'RPUSH']), ks.key(rng), *[value(rng) for _ in range(rng.randint(1, 4))]]


def op_set(rng, ks):
    return ['SADD', ks.key(rng), *[rng.choice([word(rng), str(rng.randint(0, 50))])
                                   for _ in range(rng.randint(1, 4))]]


def op_hash(rng, ks):
    cmd = ['HSET', ks.key(rng)]
    for _ in range(rng.randint(1, 3)):
        cmd += [word(rng, 1, 4), value(rng)]
    return cmd


def op_zset(rng, ks):
    cmd = ['ZADD', ks.key(rng)]
    for _ in range(rng.randint(1, 3)):
        cmd += [str(rng.randint(-10, 10)), word(rng, 1, 4)]
    return cmd


def op_del(rng, ks):
    return ['DEL', ks.key(rng)]


def generate(rng, ks):
    table = prepare([(3, op_list), (2, op_set), (2, op_hash), (2, op_zset), (2, op_del)])
    while True:
        yield weighted(rng, table)(rng, ks)
