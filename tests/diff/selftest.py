"""`run_diff.py --selftest`: checks that the harness itself works.

1. the RESP parser decodes every RESP2/RESP3 type (test_resp.py);
2. every family generates commands, deterministically for a seed;
3. a clean run, the server under test being a redis-server too (by default
   the reference binary), reports 0 divergences, in RESP2 and in RESP3;
4. a run where the server under test receives `ECHO tampered` instead of one
   command reports exactly that divergence, stops there, exits 1;
5. a run where the shared keys are silently deleted on the server under test
   only (no reply differs at that point) is caught later with --keep-going;
6. attaching to running servers (--reference-port/--server-port) works.

Each run is a subprocess of run_diff.py, so the command line, the final
`diff: N passed, M failed` line and the exit status are what is tested.
"""

import os
import random
import re
import subprocess
import sys
import traceback

import families
import gen
import test_resp

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, 'run_diff.py')
FINAL = re.compile(r'^diff: (\d+) passed, (\d+) failed$')


def _run(argv, timeout=300):
    p = subprocess.run([sys.executable, RUN] + argv, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode('utf-8', 'replace')
    lines = out.rstrip('\n').split('\n')
    m = FINAL.match(lines[-1]) if lines else None
    counts = (int(m.group(1)), int(m.group(2))) if m else None
    return p.returncode, counts, out


def main(o):
    server = o.server or o.reference
    base = ['--reference', o.reference, '--reference-args', o.reference_args,
            '--server', server]
    if o.server_args is not None:
        base += ['--server-args', o.server_args]
    seed = str(o.seed)
    n = 4000
    checks = []

    def check(name, fn):
        try:
            fn()
            checks.append((name, None))
            print('selftest: ok    %s' % name)
        except Exception as e:  # noqa: BLE001 - report any failure of a check
            detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
            checks.append((name, detail))
            print('selftest: FAIL  %s\n%s' % (name, detail))
        sys.stdout.flush()

    def parser():
        test_resp.run_all()

    def generators():
        for name in families.available():
            mod = families.load(name)
            a = _take(mod, 3000, 7)
            b = _take(mod, 3000, 7)
            assert a == b, 'family %s is not deterministic for a seed' % name
            assert len(set(x[0].upper() for x in a)) > 1 or name == 'server', name

    def clean(resp_version):
        def fn():
            rc, counts, out = _run(base + ['--seed', seed, '--count', str(n), '--resp', resp_version])
            assert rc == 0 and counts == (n, 0), 'expected rc 0 and (%d, 0), got %s %s:\n%s' % (
                n, rc, counts, out)
        return fn

    def reply_tamper():
        t = n // 2
        rc, counts, out = _run(base + ['--seed', seed, '--count', str(n), '--tamper-index', str(t)])
        assert rc == 1 and counts == (t, 1), 'expected rc 1 and (%d, 1), got %s %s:\n%s' % (
            t, rc, counts, out)
        assert 'DIVERGENCE at command #%d ' % t in out, out
        assert 'reproduce: ' in out and '--count %d' % (t + 1) in out, out
        assert '"tampered"' in out, out      # the server's reply is shown

    def state_tamper():
        t = n // 4
        rc, counts, out = _run(base + ['--seed', seed, '--count', str(n), '--keep-going',
                                       '--tamper-state-index', str(t)])
        assert rc == 1 and counts is not None and counts[1] >= 1 and sum(counts) == n, \
            'expected rc 1 and divergences, got %s %s:\n%s' % (rc, counts, out)
        first = re.search(r'DIVERGENCE at command #(\d+)', out)
        assert first and int(first.group(1)) >= t, out

    def attached():
        import run_diff
        servers = []
        try:
            for label in ('reference', 'server'):
                s = run_diff.ManagedServer('selftest-' + label, o.reference,
                                           run_diff.shlex.split(o.reference_args))
                servers.append(s.start())
            # leave garbage behind: the harness must FLUSHALL attached servers
            for s in servers:
                import resp
                with resp.Client('127.0.0.1', s.port) as c:
                    c.call('SET', 'k1', 'left over from before' if s is servers[0] else 'other')
            rc, counts, out = _run(['--reference-port', str(servers[0].port),
                                    '--server-port', str(servers[1].port),
                                    '--seed', seed, '--count', '2000', '--resp', '3'])
            assert rc == 0 and counts == (2000, 0), 'got %s %s:\n%s' % (rc, counts, out)
        finally:
            for s in servers:
                s.stop()

    check('RESP parser', parser)
    check('family generators are deterministic', generators)
    check('clean run, RESP2, %d commands' % n, clean('2'))
    check('clean run, RESP3, %d commands' % n, clean('3'))
    check('reply tamper detected at its index', reply_tamper)
    check('silent state tamper detected later', state_tamper)
    check('attach to running servers', attached)
    bad = [c for c in checks if c[1]]
    print('selftest: %d checks passed, %d failed' % (len(checks) - len(bad), len(bad)))
    return 1 if bad else 0


def _take(mod, n, seed):
    """The first n commands of a family, flattened (groups expanded)."""
    ks = gen.KeySpace()
    g = mod.generate(random.Random(seed), ks)
    out = []

    def add(item):
        if isinstance(item, gen.Group):
            for x in item.items:
                add(x)
        elif isinstance(item, gen.Cmd):
            out.append(item.args)
        elif isinstance(item, (list, tuple)):
            out.append(gen.Cmd(item).args)

    while len(out) < n:
        add(next(g))
    return out
