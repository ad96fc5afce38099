"""Deterministic connection/server commands: PING, ECHO, unknown commands
(whose error text quotes the command and the start of its arguments: Redis
keeps at most ~128 bytes of arguments, and turns CR/LF into spaces) and
wrong-arity errors of known commands, including case variations of names.
"""

from gen import binary, prepare, randcase, weighted, word

WEIGHT = 0.8


def op_ping(rng, ks):
    r = rng.random()
    if r < 0.4:
        return [randcase(rng, 'PING')]
    if r < 0.9:
        return [randcase(rng, 'PING'), rng.choice([word(rng), '', binary(rng), 'x' * 300])]
    return ['PING', 'a', 'b']


def op_echo(rng, ks):
    r = rng.random()
    if r < 0.9:
        return [randcase(rng, 'ECHO'), rng.choice([word(rng), '', binary(rng), 'y' * 2000])]
    return rng.choice([['ECHO'], ['ECHO', 'a', 'b']])


def op_unknown(rng, ks):
    r = rng.random()
    if r < 0.6:
        name = 'nosuch' + word(rng, 1, 6)
    elif r < 0.7:
        name = 'x' * rng.choice([127, 128, 129, 300])
    elif r < 0.8:
        name = rng.choice(['', ' ', 'GET ', 'get\r\n', '\x00', 'set\x00', 'sét', '%s', "'"])
    else:
        name = 'unk' + binary(rng, 1, 8).hex()
    args = []
    for _ in range(rng.randint(0, 6)):
        args.append(rng.choice([word(rng), '', binary(rng, 1, 10), 'z' * rng.choice([60, 126, 127, 128, 200]),
                                'a\r\nb', "it's", '%d%s']))
    return [name, *args]


def op_arity(rng, ks):
    cmd = rng.choice([
        ['GET'], ['SET', 'a'], ['DEL'], ['EXISTS'], ['INCR'], ['APPEND', 'a'], ['TTL'], ['TYPE'],
        ['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'bogus'], ['OBJECT', 'bogus', 'x'],
        ['ECHO'], ['PING', 'a', 'b'], ['SETBIT', 'a'], ['MSET', 'a'], ['GETRANGE', 'a'],
        ['BITFIELD'], ['EXPIRE', 'a'], ['KEYS'], ['SELECT'],
    ])
    return [randcase(rng, cmd[0])] + cmd[1:]


def generate(rng, ks):
    table = prepare([(4, op_ping), (4, op_echo), (5, op_unknown), (3, op_arity)])
    while True:
        yield weighted(rng, table)(rng, ks)
