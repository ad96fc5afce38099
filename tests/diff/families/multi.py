"""Transactions on one connection: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Every transaction is one Group that always ends with EXEC or DISCARD, so no
command of another family is ever queued by mistake. Covered: queued
commands with runtime errors (WRONGTYPE does not roll the others back),
queue-time errors (unknown command, wrong arity: EXECABORT), nested MULTI,
WATCH inside MULTI, EXEC/DISCARD without MULTI, WATCH invalidated by this
connection's own writes (before MULTI), by FLUSHDB, and by expiry (a watched
key that expires before EXEC), UNWATCH, and WATCH of absent keys. WATCH by
other clients is tested in tests/integration/test_multi.py (the harness uses
one connection per server).
"""

from gen import Group, Sleep, value, weighted, prepare

WEIGHT = 1.5


def q_cmd(rng, ks):
    k = ks.key(rng)
    r = rng.random()
    if r < 0.25:
        return ['SET', k, value(rng)]
    if r < 0.4:
        return ['GET', k]
    if r < 0.5:
        return ['INCR', k]
    if r < 0.58:
        return ['DEL', k]
    if r < 0.65:
        return ['EXISTS', k, ks.key(rng)]
    if r < 0.72:
        return ['SADD', k, value(rng)]
    if r < 0.78:
        return ['APPEND', k, value(rng)]
    if r < 0.84:
        return ['TYPE', k]
    if r < 0.9:
        return ['PING']
    if r < 0.95:
        return ['ECHO', value(rng)]
    return ['DBSIZE']


def q_bad(rng, ks):
    """A command rejected at queue time: the transaction is aborted."""
    return rng.choice([['NOSUCHCMD', ks.key(rng)], ['SET', ks.key(rng)], ['GET'],
                       ['INCR', 'a', 'b'], ['EXISTS']])


def queued(rng, ks, n, bad_rate=0.0):
    out = []
    for _ in range(n):
        out.append(q_bad(rng, ks) if rng.random() < bad_rate else q_cmd(rng, ks))
    return out


def op_plain(rng, ks):
    end = ['EXEC'] if rng.random() < 0.85 else ['DISCARD']
    return Group([['MULTI'], *queued(rng, ks, rng.randint(0, 6)), end])


def op_aborted(rng, ks):
    return Group([['MULTI'], *queued(rng, ks, rng.randint(1, 5), bad_rate=0.4),
                  q_bad(rng, ks), *queued(rng, ks, rng.randint(0, 2)),
                  ['EXEC'] if rng.random() < 0.8 else ['DISCARD']])


def op_nested(rng, ks):
    items = [['MULTI'], *queued(rng, ks, rng.randint(0, 2))]
    items.append(rng.choice([['MULTI'], ['WATCH', ks.key(rng)], ['multi']]))
    items += queued(rng, ks, rng.randint(0, 2))
    items.append(['EXEC'])
    return Group(items)


def op_without(rng, ks):
    return rng.choice([['EXEC'], ['DISCARD'], ['UNWATCH'], ['EXEC', 'x'], ['MULTI', 'x'],
                       ['DISCARD', 'x'], ['WATCH'], ['UNWATCH', 'x']])


def op_watch(rng, ks):
    keys = [ks.key(rng) for _ in range(rng.randint(1, 3))]
    items = [['WATCH', *keys]]
    r = rng.random()
    if r < 0.35:
        items.append(q_cmd(rng, ks))  # may touch a watched key: EXEC then fails
    elif r < 0.45:
        items.append(['SET', keys[0], value(rng)])
    elif r < 0.5:
        items.append(['UNWATCH'])
    elif r < 0.55:
        items.append(['WATCH', ks.key(rng)])
    items += [['MULTI'], *queued(rng, ks, rng.randint(0, 4))]
    items.append(['EXEC'] if rng.random() < 0.85 else ['DISCARD'])
    if rng.random() < 0.3:
        items.append(['EXEC'])  # WATCH state must be gone after EXEC/DISCARD
    return Group(items)


def op_watch_flush(rng, ks):
    k = ks.key(rng)
    return Group([['WATCH', k], ['FLUSHDB'], ['MULTI'], ['GET', k], ['EXEC']])


def op_watch_expire(rng, ks):
    k = ks.private('multi-exp')
    return Group([['SET', k, 'v', 'PX', '50'], ['WATCH', k], Sleep(0.15), ['MULTI'],
                  ['PING'], ['EXEC'],
                  ['SET', k, 'v', 'PX', '50'], Sleep(0.15), ['WATCH', k], ['MULTI'],
                  ['PING'], ['EXEC']])


def generate(rng, ks):
    table = prepare([(10, op_plain), (3, op_aborted), (2, op_nested), (2, op_without),
                     (6, op_watch), (0.2, op_watch_flush)])
    first = True
    while True:
        if first or rng.random() < 0.003:
            first = False
            yield op_watch_expire(rng, ks)
            continue
        yield weighted(rng, table)(rng, ks)
