"""Building blocks shared by the command families.

A family generator yields *items*; each item is one of
  - a list/tuple of arguments (bytes, str or int): one command, compared with
    the normalizer registered for its name (normalize.py), exact by default;
  - Cmd(args, norm='name'): one command with an explicit normalizer;
  - Sleep(seconds): flush the pipeline and sleep (both servers see the same
    wall-clock gap); not a command, not counted;
  - Group([item, ...]): items that must run back to back, without commands of
    other families interleaved.
"""

from resp import to_bytes


class Cmd:
    __slots__ = ('args', 'norm', 'family')

    def __init__(self, args, norm=None, family=None):
        self.args = tuple(to_bytes(a) for a in args)
        self.norm = norm
        self.family = family

    def __repr__(self):
        return 'Cmd(%r, norm=%r)' % (self.args, self.norm)


class Sleep:
    __slots__ = ('seconds', 'family')

    def __init__(self, seconds):
        self.seconds = seconds
        self.family = None


class Group:
    __slots__ = ('items',)

    def __init__(self, items):
        self.items = list(items)


# -- key space ---------------------------------------------------------------

class KeySpace:
    """The small set of keys shared by every family.

    Families share it so that commands of one family meet the values left by
    another (WRONGTYPE, bit operations on strings, RENAME over a bitmap...).
    `universe` is every key name the stream can touch; the runner uses it to
    find the keys of a command when it prints the history of a divergence.
    """

    def __init__(self, n=14):
        self.plain = [b'k%d' % i for i in range(n)]
        self.long_key = b'long:' + b'L' * 640           # 645 bytes
        self.bin_key = b'bin\x00\xff\r\n key'
        self.empty_key = b''
        self.keys = self.plain + [self.long_key, self.bin_key, self.empty_key]
        self.universe = set(self.keys)

    def key(self, rng):
        r = rng.random()
        if r < 0.015:
            return self.long_key
        if r < 0.03:
            return self.bin_key
        if r < 0.04:
            return self.empty_key
        return rng.choice(self.plain)

    def some(self, rng, lo=1, hi=4):
        return [self.key(rng) for _ in range(rng.randint(lo, hi))]

    def private(self, name):
        """A key reserved for one family (not picked by key()); registered in
        the universe so that it shows up in divergence histories."""
        k = to_bytes(name)
        self.universe.add(k)
        return k


# -- values ------------------------------------------------------------------

INT64_MAX = 9223372036854775807
INT64_MIN = -9223372036854775808

EDGE_INTS = [
    '0', '1', '-1', '2', '10', '-10', '100', '255', '256', '1000', '10000',
    '9223372036854775807', '-9223372036854775808', '9223372036854775806',
    '-9223372036854775807', '9223372036854775808', '-9223372036854775809',
    '4294967295', '4294967296', '2147483647', '-2147483648',
    '18446744073709551615', '99999999999999999999',
]
ODD_INTS = ['007', '+5', ' 5', '5 ', '0x10', '1e3', '1.0', '-0', '', 'abc', '--1', '١']
FLOATS = [
    '0.1', '1.5', '-1.5', '3.14159', '-0.0', '0.0', '1e10', '1e-10', '1.5e-7',
    '2.5e+5', '.5', '5.', '1.7976931348623157e308', '-1.7976931348623157e308',
    '4.9e-324', '1e308', '123456789.123456789', '0.30000000000000004',
    '10.50', '1e17', '1e18', '12345678901234567890.5',
]
ODD_FLOATS = ['inf', '-inf', '+inf', 'nan', 'NaN', 'infinity', '1e400', '0x1p3',
              '0x10', '1.5.5', '1,5', ' 1.5', '1.5 ', 'e5', '']


def small_int(rng, lo=-100, hi=1000):
    return str(rng.randint(lo, hi))


def int_str(rng):
    r = rng.random()
    if r < 0.45:
        return small_int(rng)
    if r < 0.8:
        return rng.choice(EDGE_INTS)
    if r < 0.9:
        return str(rng.randint(INT64_MIN, INT64_MAX))
    return rng.choice(ODD_INTS)


def float_str(rng):
    r = rng.random()
    if r < 0.5:
        return rng.choice(FLOATS)
    if r < 0.75:
        return repr(rng.uniform(-1e6, 1e6))
    if r < 0.85:
        return int_str(rng)
    return rng.choice(ODD_FLOATS)


def word(rng, lo=1, hi=12):
    return ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(lo, hi)))


def binary(rng, lo=1, hi=24):
    special = b'\x00\xff\r\n\t "\'\\*?[]'
    n = rng.randint(lo, hi)
    return bytes(rng.choice(special) if rng.random() < 0.3 else rng.randrange(256)
                 for _ in range(n))


def big_value(rng, lo=1000, hi=6000):
    n = rng.randint(lo, hi)
    if rng.random() < 0.5:
        unit = word(rng, 1, 9).encode()
        return (unit * (n // len(unit) + 1))[:n]
    return rng.randbytes(n)


def value(rng):
    """Any string value: empty, text, binary, numbers, sizes around the
    44-byte embstr boundary, a few KB."""
    r = rng.random()
    if r < 0.05:
        return b''
    if r < 0.30:
        return word(rng)
    if r < 0.45:
        return int_str(rng)
    if r < 0.55:
        return float_str(rng)
    if r < 0.68:
        return binary(rng)
    if r < 0.78:
        n = rng.choice([20, 39, 43, 44, 45, 46, 64, 100])
        return 'v' * n
    if r < 0.81:
        return big_value(rng)
    return '%s:%d' % (word(rng, 1, 5), rng.randint(0, 99))


def randcase(rng, s):
    """Upper case mostly; sometimes lower or mixed (commands and options are
    case-insensitive)."""
    r = rng.random()
    if r < 0.8:
        return s
    if r < 0.9:
        return s.lower()
    return ''.join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)


def mangle_arity(rng, cmd):
    """Make a command malformed: drop its last argument, add a stray one, or
    keep only its name."""
    cmd = list(cmd)
    r = rng.random()
    if r < 0.45 and len(cmd) > 1:
        return cmd[:-1]
    if r < 0.85:
        return cmd + [rng.choice(['extra', '0', '', 'EX', 'NX'])]
    return cmd[:1]


def weighted(rng, table):
    """table: [(weight, fn), ...] prepared by prepare(); returns fn."""
    return rng.choices(table[1], cum_weights=table[0])[0]


def prepare(pairs):
    total = 0
    cum, fns = [], []
    for w, fn in pairs:
        total += w
        cum.append(total)
        fns.append(fn)
    return (cum, fns)


# Absolute times, chosen so that a run never crosses them: FAR is
# 2100-01-01T00:00:00Z, relative TTLs stay below ~4 months.
FAR = 4102444800
REL_MIN = 3600          # seconds: nothing expires during a run
REL_MAX = 10_000_000
