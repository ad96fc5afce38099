"""Command families for the differential test.

Every module in this package whose name does not start with '_' is a family.
It must define

    def generate(rng, ks):  # rng: random.Random, ks: gen.KeySpace
        while True:
            yield [...]       # see gen.py for what may be yielded

and may define WEIGHT (default 1.0): how often the runner draws from it
relative to the other families selected.
"""

import importlib
import os
import pkgutil

_DIR = os.path.dirname(__file__)


def available():
    return sorted(m.name for m in pkgutil.iter_modules([_DIR]) if not m.name.startswith('_'))


def load(name):
    if name not in available():
        raise SystemExit('unknown family %r (available: %s)' % (name, ', '.join(available())))
    mod = importlib.import_module('families.' + name)
    if not callable(getattr(mod, 'generate', None)):
        raise SystemExit('family %r has no generate(rng, ks)' % name)
    return mod
