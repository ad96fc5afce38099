"""Geo commands: GEOADD (NX/XX/CH), GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms (WITHDIST,
WITHHASH, WITHCOORD, COUNT [ANY], ASC/DESC, STORE/STOREDIST, BYBOX, all
units), with invalid coordinates, radii, units and option mixes.

Members live mostly on private keys around three clusters (so searches find
something at every scale, from metres to thousands of km, near the poles and
the antimeridian too), with distinct random coordinates so that distance ties
(whose order under COUNT is unspecified) do not arise. ZADD sometimes puts
arbitrary scores (negative, fractional, beyond 52 bits) on a geo key; results
are read back with ZRANGE ... WITHSCORES.
"""

from gen import mangle_arity, prepare, randcase, weighted

WEIGHT = 2.0

_PRIVATE = ['geo:a', 'geo:b', 'geo:c']
_CENTRES = [(13.36, 38.11), (-73.98, 40.75), (179.9, -16.5), (0.0, 84.9), (-120.0, -80.5)]
_MEMBERS = ([b'm%d' % i for i in range(40)] + [b'', b'\x00bin\xff', b'12', b'-1.5'] +
            [b'L' * 600, b'L' * 599 + b'x', b'M' * 450])


def _key(rng, ks):
    """Any key, for reads (shared keys give WRONGTYPE and empty results)."""
    return ks.private(rng.choice(_PRIVATE)) if rng.random() < 0.85 else ks.key(rng)


def _pkey(rng, ks):
    """A private key, for writes: the zset family expects the shared keys to
    hold only its own short members (listpack-encoded in Redis)."""
    return ks.private(rng.choice(_PRIVATE))


def _coord(rng):
    if rng.random() < 0.04:
        return rng.choice([('180', '85.05112878'), ('-180', '-85.05112878'), ('181', '0'),
                           ('0', '85.06'), ('0', '-90'), ('abc', '0'), ('0', ''), ('nan', '0'),
                           ('inf', '0'), ('1e3', '1'), ('0x10', '1'), (' 1', '2')])
    lon, lat = rng.choice(_CENTRES)
    spread = rng.choice([0.001, 0.05, 1.0, 10.0])
    lon = max(-180.0, min(180.0, lon + rng.uniform(-spread, spread)))
    lat = max(-85.05, min(85.05, lat + rng.uniform(-spread, spread)))
    return ('%.6f' % lon, '%.6f' % lat)


def _member(rng):
    return rng.choice(_MEMBERS)


def _unit(rng):
    if rng.random() < 0.03:
        return rng.choice(['meters', 'k', '', 'KMS'])
    return randcase(rng, rng.choice(['m', 'km', 'ft', 'mi']))


def _radius(rng):
    r = rng.random()
    if r < 0.05:
        return rng.choice(['-1', 'abc', '', 'nan'])
    if r < 0.1:
        return rng.choice(['0', 'inf', '20000000', '6000000'])
    return '%.3f' % rng.choice([rng.uniform(0, 500), rng.uniform(0, 50000), rng.uniform(0, 3e6)])


def op_geoadd(rng, ks):
    opts = []
    for o in ('NX', 'XX', 'CH'):
        if rng.random() < 0.12:
            opts.append(randcase(rng, o))
    triplets = []
    for _ in range(rng.randint(1, 5)):
        triplets += [*_coord(rng), _member(rng)]
    if rng.random() < 0.03:
        triplets = triplets[:-1]
    if rng.random() < 0.1:
        # shared key: only members the zset family also uses
        triplets = [*_coord(rng), rng.choice([b'a', b'b', b'c', b'aa'])]
        return ['GEOADD', ks.key(rng), *opts, *triplets]
    return ['GEOADD', _pkey(rng, ks), *opts, *triplets]


def op_zadd_raw(rng, ks):
    score = rng.choice([str(rng.randint(0, (1 << 52) - 1)), str(rng.randint(0, (1 << 52) - 1)),
                        '-%d' % rng.randint(1, 1 << 40), '%d.5' % rng.randint(0, 1 << 40),
                        str(rng.randint(1 << 52, 1 << 62)), '1e300', '-inf', 'inf'])
    return ['ZADD', _pkey(rng, ks), score, _member(rng)]


def op_zrange(rng, ks):
    return ['ZRANGE', _key(rng, ks), '0', '-1', 'WITHSCORES']


def op_geopos(rng, ks):
    return ['GEOPOS', _key(rng, ks), *[_member(rng) for _ in range(rng.randint(0, 4))]]


def op_geohash(rng, ks):
    return ['GEOHASH', _key(rng, ks), *[_member(rng) for _ in range(rng.randint(0, 4))]]


def op_geodist(rng, ks):
    cmd = ['GEODIST', _key(rng, ks), _member(rng), _member(rng)]
    if rng.random() < 0.7:
        cmd.append(_unit(rng))
    if rng.random() < 0.03:
        cmd.append('x')
    return cmd


def _common_opts(rng, store_ok, search):
    opts = []
    for o in ('WITHDIST', 'WITHHASH', 'WITHCOORD'):
        if rng.random() < (0.05 if store_ok else 0.3):
            opts.append(randcase(rng, o))
    if rng.random() < 0.4:
        opts += [randcase(rng, 'COUNT'), rng.choice(['1', '2', '3', '5', '10', '0', '-1', 'x'])]
        if rng.random() < 0.3:
            opts.append(randcase(rng, 'ANY'))
    elif rng.random() < 0.03:
        opts.append('ANY')
    if rng.random() < 0.5:
        opts.append(randcase(rng, rng.choice(['ASC', 'DESC'])))
    if store_ok and rng.random() < 0.3:
        opts += [randcase(rng, rng.choice(['STORE', 'STOREDIST'])), rng.choice(_PRIVATE + ['geo:dst'])]
    if rng.random() < 0.02:
        opts.append(rng.choice(['BOGUS', 'STORE', 'COUNT']))
    rng.shuffle(opts) if rng.random() < 0.2 else None
    return opts


def op_georadius(rng, ks):
    ro = rng.random() < 0.3
    name = 'GEORADIUS_RO' if ro else 'GEORADIUS'
    return [name, _key(rng, ks), *_coord(rng), _radius(rng), _unit(rng),
            *_common_opts(rng, not ro, False)]


def op_georadiusbymember(rng, ks):
    ro = rng.random() < 0.3
    name = 'GEORADIUSBYMEMBER_RO' if ro else 'GEORADIUSBYMEMBER'
    return [name, _key(rng, ks), _member(rng), _radius(rng), _unit(rng),
            *_common_opts(rng, not ro, False)]


def _search_args(rng):
    args = []
    r = rng.random()
    if r < 0.45:
        args += [randcase(rng, 'FROMMEMBER'), _member(rng)]
    elif r < 0.95:
        args += [randcase(rng, 'FROMLONLAT'), *_coord(rng)]
    r = rng.random()
    if r < 0.5:
        args += [randcase(rng, 'BYRADIUS'), _radius(rng), _unit(rng)]
    elif r < 0.97:
        w = _radius(rng) if rng.random() < 0.1 else '%.3f' % rng.uniform(0, 4e6)
        args += [randcase(rng, 'BYBOX'), w, '%.3f' % rng.uniform(0, 4e6), _unit(rng)]
    if rng.random() < 0.02:
        args += [randcase(rng, 'FROMLONLAT'), '1', '2']
    if rng.random() < 0.02:
        args += [randcase(rng, 'BYBOX'), '1', '2', 'km']
    return args


def op_geosearch(rng, ks):
    opts = _common_opts(rng, False, True)
    if rng.random() < 0.03:
        opts += ['STORE', 'x']
    return ['GEOSEARCH', _key(rng, ks), *_search_args(rng), *opts]


def op_geosearchstore(rng, ks):
    opts = [o for o in _common_opts(rng, False, True) if not o.upper().startswith('WITH') or rng.random() < 0.1]
    if rng.random() < 0.4:
        opts.append(randcase(rng, 'STOREDIST'))
    dst = ks.private(rng.choice(_PRIVATE + ['geo:dst']))
    return ['GEOSEARCHSTORE', dst, _key(rng, ks), *_search_args(rng), *opts]


def op_read_dst(rng, ks):
    return ['ZRANGE', ks.private('geo:dst'), '0', '-1', 'WITHSCORES']


def op_del(rng, ks):
    return ['DEL', ks.private(rng.choice(_PRIVATE))]


def generate(rng, ks):
    table = prepare([(8, op_geoadd), (1, op_zadd_raw), (2, op_zrange), (3, op_geopos),
                     (3, op_geohash), (3, op_geodist), (4, op_georadius),
                     (3, op_georadiusbymember), (6, op_geosearch), (3, op_geosearchstore),
                     (2, op_read_dst), (0.3, op_del)])
    while True:
        item = weighted(rng, table)(rng, ks)
        if rng.random() < 0.01:
            item = mangle_arity(rng, item)
        yield item
