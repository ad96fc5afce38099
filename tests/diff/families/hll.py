"""HyperLogLog commands: PFADD, PFCOUNT (one key and unions), PFMERGE, and GET
of the sketches (compared byte for byte: sparse and dense encodings, cached
cardinality), plus corrupted sketches written with SET (INVALIDOBJ).

Shared keys meet every other type (WRONGTYPE) and plain strings ("not a valid
HyperLogLog"). Five private keys grow large enough to be promoted to the
dense encoding and are sometimes reset.
"""

import struct

from gen import Group, binary, mangle_arity, prepare, randcase, value, weighted, word

WEIGHT = 2.0

_PRIVATE = ['hll:a', 'hll:b', 'hll:c', 'hll:d', 'hll:e']


def _key(rng, ks):
    if rng.random() < 0.7:
        return ks.private(rng.choice(_PRIVATE))
    return ks.key(rng)


def _elements(rng, lo=0, hi=6):
    r = rng.random()
    if r < 0.6:
        return [word(rng, 1, 6) for _ in range(rng.randint(lo, hi))]
    if r < 0.8:
        return [binary(rng, 0, 10) for _ in range(rng.randint(max(lo, 1), hi))]
    if r < 0.9:
        return [value(rng) for _ in range(rng.randint(max(lo, 1), hi))]
    # many distinct elements at once: sparse sketches fill up and turn dense
    base = rng.randint(0, 10_000_000)
    return [str(base + i) for i in range(rng.randint(50, 400))]


def op_pfadd(rng, ks):
    return ['PFADD', _key(rng, ks), *_elements(rng)]


def op_pfcount(rng, ks):
    n = 1 if rng.random() < 0.6 else rng.randint(2, 4)
    return ['PFCOUNT', *[_key(rng, ks) for _ in range(n)]]


def op_pfmerge(rng, ks):
    return ['PFMERGE', _key(rng, ks), *[_key(rng, ks) for _ in range(rng.randint(0, 3))]]


def op_get(rng, ks):
    return ['GET', _key(rng, ks)]


def op_reset(rng, ks):
    return [randcase(rng, 'DEL'), ks.private(rng.choice(_PRIVATE))]


def _sparse_stream(rng):
    """Opcode streams that are byte-wise complete (an XZERO always has its
    second byte) but whose register total may be wrong."""
    out = bytearray()
    total = 0
    target = 16384 if rng.random() < 0.5 else rng.choice([16383, 16385, 100, 20000])
    while total < target and len(out) < 200:
        r = rng.random()
        left = target - total
        if r < 0.3:
            n = rng.randint(1, min(64, left))
            out.append(n - 1)
        elif r < 0.6:
            n = rng.randint(1, min(16384, left))
            out += bytes([0x40 | ((n - 1) >> 8), (n - 1) & 0xff])
        else:
            n = rng.randint(1, min(4, left))
            out.append(0x80 | (rng.randint(0, 31) << 2) | (n - 1))
        total += n
    if total < target:
        n = min(16384, target - total)
        out += bytes([0x40 | ((n - 1) >> 8), (n - 1) & 0xff])
    return bytes(out)


def op_set_crafted(rng, ks):
    k = _key(rng, ks)
    r = rng.random()
    card = struct.pack('<Q', rng.choice([0, 5, 1 << 63, 12345 | (1 << 63)]))
    if r < 0.5:
        v = b'HYLL\x01\x00\x00\x00' + card + _sparse_stream(rng)
    elif r < 0.65:
        n = rng.choice([12288, 12287, 100])
        v = b'HYLL\x00\x00\x00\x00' + card + bytes(rng.randint(0, 255) for _ in range(n))
    elif r < 0.8:
        v = rng.choice([b'HYLL', b'HYLL\x02\x00\x00\x00' + card + b'\x7f\xff',
                        b'HYLX\x01\x00\x00\x00' + card + b'\x7f\xff', b'HYLL\x01\x00\x00'])
    else:
        v = b'HYLL\x01\x00\x00\x00' + card + b'\x7f\xff'
    return ['SET', k, v]


def op_copy_private(rng, ks):
    # copy a (possibly dense) private sketch onto a shared key
    return ['COPY', ks.private(rng.choice(_PRIVATE)), ks.key(rng), 'REPLACE']


def op_grow(rng, ks):
    k = ks.private(rng.choice(_PRIVATE))
    base = rng.randint(0, 10_000_000)
    items = [['PFADD', k, *[str(base + j * 7 + i) for i in range(300)]] for j in range(rng.randint(1, 8))]
    items.append(['PFCOUNT', k])
    items.append(['GET', k])
    return Group(items)


def op_wrongarity(rng, ks):
    return mangle_arity(rng, rng.choice([['PFADD', _key(rng, ks)], ['PFCOUNT', _key(rng, ks)],
                                         ['PFMERGE', _key(rng, ks)]]))


def generate(rng, ks):
    table = prepare([(10, op_pfadd), (6, op_pfcount), (4, op_pfmerge), (6, op_get),
                     (1, op_reset), (2, op_set_crafted), (1, op_copy_private), (1, op_grow),
                     (1, op_wrongarity)])
    while True:
        item = weighted(rng, table)(rng, ks)
        if not isinstance(item, Group) and rng.random() < 0.01:
            item = mangle_arity(rng, item)
        yield item
