#!/usr/bin/python3
"""Differential test: one seeded random command stream, sent to a reference
redis-server and to the server under test; every pair of replies must match
(exactly, or as the command's normalizer says: see normalize.py).

    run_diff.py --server ./lodis-server [--reference redis-server] [--seed N]
                [--count N] [--families string,keyspace,...] [--resp 2|3]
                [--keep-going]

The last line printed is always `diff: N passed, M failed`. Exit status: 0
when M is 0, 1 on divergence, 2 when the harness could not run (bad
arguments, a server that does not start).

See README.md in this directory.
"""

import argparse
import collections
import concurrent.futures
import os
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import families  # noqa: E402
import gen  # noqa: E402
import normalize  # noqa: E402
import resp  # noqa: E402

REDIS_ARGS = "--save '' --appendonly no"


def load_command_tokens():
    """From server/commands/*.json: {'XADD': {'MAXLEN', ...}, 'XGROUP CREATE': {...}}
    (the option words each command takes) and the set of container names.
    --stats uses them to name subcommands and count the options a run used."""
    import glob
    import json
    tokens, containers = {}, set()

    def walk(args, out):
        for a in args or ():
            if a.get('token'):
                out.add(a['token'].upper())
            walk(a.get('arguments'), out)

    for path in glob.glob(os.path.join(HERE, '..', '..', 'server', 'commands', '*.json')):
        with open(path) as f:
            for c in json.load(f).get('commands', ()):
                name = c['name'].upper()
                if c.get('container'):
                    containers.add(c['container'].upper())
                    name = c['container'].upper() + ' ' + name
                walk(c.get('arguments'), tokens.setdefault(name, set()))
    return tokens, containers


COMMAND_TOKENS, CONTAINERS = load_command_tokens()
GLOBAL_COMMANDS = {b'SELECT', b'SWAPDB', b'FLUSHDB', b'FLUSHALL', b'HELLO'}


class HarnessError(Exception):
    """The test could not run (as opposed to: the servers disagree)."""


# -- the stream --------------------------------------------------------------

class Stream:
    """The deterministic sequence of operations for (seed, families, count).

    Each family draws from its own Random seeded with "<seed>:<family>", and
    a separate Random ("<seed>:mix") picks which family speaks next, so the
    commands of one family do not depend on which other families run (their
    interleaving does). Iterating yields (index, op): op is a gen.Cmd with its
    command index, or (None, gen.Sleep).
    """

    def __init__(self, seed, family_names, count):
        self.seed, self.count = seed, count
        self.ks = gen.KeySpace()
        self.gens, self.weights = [], []
        for name in family_names:
            mod = families.load(name)
            rng = random.Random('%s:%s' % (seed, name))
            self.gens.append((name, mod.generate(rng, self.ks)))
            self.weights.append(float(getattr(mod, 'WEIGHT', 1.0)))

    def _expand(self, item, family, out):
        if isinstance(item, gen.Group):
            for sub in item.items:
                self._expand(sub, family, out)
        elif isinstance(item, gen.Cmd):
            item.family = item.family or family
            out.append(item)
        elif isinstance(item, gen.Sleep):
            item.family = family
            out.append(item)
        elif isinstance(item, (list, tuple)):
            out.append(gen.Cmd(item, family=family))
        else:
            raise TypeError('family %s yielded %r' % (family, item))

    def __iter__(self):
        mix = random.Random('%s:mix' % self.seed)
        queue = collections.deque()
        index = 0
        while index < self.count:
            if not queue:
                name, g = mix.choices(self.gens, self.weights)[0]
                self._expand(next(g), name, queue)
                continue
            op = queue.popleft()
            if isinstance(op, gen.Sleep):
                yield None, op
            else:
                yield index, op
                index += 1


# -- servers -----------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def resolve_binary(path):
    if os.sep in path:
        full = os.path.abspath(path)
    else:
        full = shutil.which(path)
    if not full or not os.access(full, os.X_OK):
        raise HarnessError('cannot execute %r' % path)
    return full


class ManagedServer:
    """A server process started by the harness, in a fresh temp dir."""

    def __init__(self, label, path, extra_args, startup_timeout=20.0, keep_dir=False):
        self.label = label
        self.path = resolve_binary(path)
        self.extra = list(extra_args)
        self.startup_timeout = startup_timeout
        self.keep_dir = keep_dir
        self.proc = None
        self.port = None
        self.dir = None
        self.host = '127.0.0.1'

    def argv(self, port):
        return [self.path, '--port', str(port), '--bind', '127.0.0.1', '--dir', self.dir] + self.extra

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='diff-%s-' % self.label)
        self.log_path = os.path.join(self.dir, 'server.log')
        for _attempt in range(3):
            port = free_port()
            with open(self.log_path, 'ab') as log:
                self.proc = subprocess.Popen(self.argv(port), stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.dir,
                                             start_new_session=True)
            if self._wait_ready(port):
                self.port = port
                return self
            self._terminate()
        status = self.proc.returncode
        msg = '%s did not start (%s): %s\n%s' % (
            self.label, 'no reply within %.0fs' % self.startup_timeout if status in (None, -15)
            else 'exit status %s' % status,
            ' '.join(shlex.quote(a) for a in self.argv(port)), self.log_tail())
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        raise HarnessError(msg)

    def _wait_ready(self, port):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with resp.Client('127.0.0.1', port, timeout=2.0) as c:
                    # any well-formed reply will do (even an error: a server
                    # without PING yet must still be testable), except LOADING
                    r = c.call('PING')
                    if not (r[0] == 'err' and r[1].startswith((b'LOADING', b'BUSY'))):
                        return True
            except (OSError, ConnectionError, resp.ProtocolError):
                pass
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, 'rb') as f:
                data = f.read()[-20000:]
        except OSError:
            return '(no log)'
        tail = data.decode('utf-8', 'replace').splitlines()[-lines:]
        return '\n'.join('    | ' + line for line in tail)

    def _terminate(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self):
        if self.alive() and self.port:
            try:
                with resp.Client('127.0.0.1', self.port, timeout=2.0) as c:
                    c.sock.sendall(resp.encode_command(['SHUTDOWN', 'NOSAVE']))
                    answer = c.sock.recv(4096)  # EOF once it shut down, or an error reply
                if not answer.startswith(b'-'):
                    self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._terminate()
        if self.dir and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def describe(self):
        return '%s (pid %d, port %d, dir %s)' % (self.path, self.proc.pid, self.port, self.dir)


class AttachedServer:
    def __init__(self, label, host, port):
        self.label, self.host, self.port = label, host, port

    def start(self):
        return self

    def alive(self):
        return True

    def log_tail(self, lines=40):
        return ''

    def stop(self):
        pass

    def describe(self):
        return 'attached %s:%d' % (self.host, self.port)


# -- formatting ----------------------------------------------------------------

def fmt_args(args, limit=80):
    out = []
    for a in args:
        s = resp._q(a, limit)
        out.append(s)
    return ' '.join(out)


def fmt_value(v):
    if isinstance(v, tuple) and v and v[0] in ('scan', 'randomkey', 'scan-partial'):
        if v[0] == 'scan':
            return 'scan{%s}' % ', '.join(resp.format_reply(x) if isinstance(x[0], str)
                                          else '(%s, %s)' % (resp.format_reply(x[0]), resp.format_reply(x[1]))
                                          for x in v[1])
        return repr(v)
    return resp.format_reply(v)


def first_difference(a, b):
    if a[0] == b[0] == 'bulk':
        x, y = a[1], b[1]
        for i in range(min(len(x), len(y))):
            if x[i] != y[i]:
                return 'bulk strings differ first at byte %d (lengths %d and %d)' % (i, len(x), len(y))
        return 'one bulk string is a prefix of the other (lengths %d and %d)' % (len(x), len(y))
    if a[0] != b[0]:
        return 'reply types differ: %s vs %s' % (a[0], b[0])
    return None


# -- the run -----------------------------------------------------------------

class Runner:
    def __init__(self, opts, stream, ref, sut):
        self.o = opts
        self.stream = stream
        self.ref, self.sut = ref, sut
        self.passed = 0
        self.failed = 0
        self.stop = False
        self.history = collections.deque(maxlen=100000)
        self.reports = 0
        self.normalized = collections.Counter()
        self.diverged = collections.Counter()
        self.pool = concurrent.futures.ThreadPoolExecutor(1)
        self.stats = collections.defaultdict(collections.Counter) if opts.stats else None
        self.options = collections.defaultdict(collections.Counter)

    # connection setup
    def connect(self):
        self.rc = resp.Client(self.ref.host, self.ref.port, timeout=self.o.timeout, name='reference')
        self.sc = resp.Client(self.sut.host, self.sut.port, timeout=self.o.timeout, name='server')
        for label, c in (('reference', self.rc), ('server under test', self.sc)):
            if self.o.attached and not self.o.no_flush:
                r = c.call('FLUSHALL')
                if r != ('simple', b'OK'):
                    raise HarnessError('%s: FLUSHALL failed: %s' % (label, resp.format_reply(r)))
            if self.o.resp == 3:
                r = c.call('HELLO', '3')
                if r[0] != 'map':
                    raise HarnessError('%s: HELLO 3 failed: %s' % (label, resp.format_reply(r)))

    def close(self):
        self.pool.shutdown()
        for c in (getattr(self, 'rc', None), getattr(self, 'sc', None)):
            if c:
                c.close()

    def run(self):
        batch = []
        for index, op in self.stream:
            if self.stop:
                break
            if index is None:                       # Sleep
                self.flush(batch)
                batch = []
                time.sleep(op.seconds)
                continue
            if index == self.o.tamper_state_index:
                self.flush(batch)
                batch = []
                self.sc.call('DEL', *self.stream.ks.keys)   # out of band, server under test only
            norm = normalize.for_command(op.args, op.norm)
            if norm.compound:
                self.flush(batch)
                batch = []
                if not self.stop:
                    self.run_compound(index, op, norm)
                continue
            batch.append((index, op, norm))
            if len(batch) >= self.o.batch:
                self.flush(batch)
                batch = []
        if not self.stop:
            self.flush(batch)

    def flush(self, batch):
        if not batch or self.stop:
            return
        cmds = [op.args for _, op, _ in batch]
        payload = resp.encode_commands(cmds)
        sut_payload = payload
        t = self.o.tamper_index
        if t is not None and batch[0][0] <= t <= batch[-1][0]:
            sut_cmds = [(b'ECHO', b'tampered') if i == t else op.args for i, op, _ in batch]
            sut_payload = resp.encode_commands(sut_cmds)
        (ra, ea), (rb, eb) = resp.pipeline_multi(
            [(self.rc, payload, len(cmds)), (self.sc, sut_payload, len(cmds))], self.o.timeout)
        for i, (index, op, norm) in enumerate(batch):
            self.history.append((index, op))
            if i >= len(ra) or i >= len(rb):
                self.fatal(index, op, ra[i] if i < len(ra) else None, ea,
                           rb[i] if i < len(rb) else None, eb)
                return
            if self.stats is not None:
                self.count_stats(op, ra[i])
            if norm.equal(ra[i], rb[i]):
                self.passed += 1
                if ra[i] != rb[i]:
                    self.normalized[norm.name] += 1
            else:
                self.divergence(index, op, norm, ra[i], rb[i])
                if self.stop:
                    return

    def run_compound(self, index, op, norm):
        self.history.append((index, op))

        def one(c, args):
            try:
                return norm.run(c, args), None
            except (OSError, ConnectionError, resp.ProtocolError) as e:
                return None, str(e)

        sut_args = (b'ECHO', b'tampered') if index == self.o.tamper_index else op.args
        # both conversations at once: a full SCAN is many round trips
        fut = self.pool.submit(one, self.sc, sut_args)
        a, ea = one(self.rc, op.args)
        b, eb = fut.result()
        if self.stats is not None and a is not None:
            self.count_stats(op, a)
        if ea or eb:
            self.fatal(index, op, a, ea, b, eb)
        elif norm.equal(a, b):
            self.passed += 1
            if a != b:
                self.normalized[norm.name] += 1
        else:
            self.divergence(index, op, norm, a, b)

    @staticmethod
    def command_name(args, reply=None):
        """The command (with its subcommand for containers) for --stats and
        the divergence counts; '(unknown command)' when the reference did
        not know it or the name is garbage."""
        if reply and reply[0] in ('err', 'bloberr') and reply[1].startswith(b'ERR unknown command'):
            return '(unknown command)'
        name = args[0].upper().decode('latin-1')
        if name in CONTAINERS and len(args) > 1:
            name += ' ' + args[1].upper().decode('latin-1')
        if not re.fullmatch(r'[A-Z_|]+( [A-Z_|-]+)?', name):
            return '(unknown command)'
        return name

    def count_stats(self, op, reply):
        if not isinstance(reply, tuple):
            reply = (str(reply), b'')
        name = self.command_name(op.args, reply)
        kind = reply[0]
        if kind in ('err', 'bloberr'):
            msg = re.sub(r"'.*'", "'..'", reply[1].decode('latin-1'))
            kind = 'err ' + (msg if len(msg) <= 60 else msg[:57] + '...')
        self.stats[name][kind] += 1
        # the command's option words in this call, by whether the reply was an error
        words = COMMAND_TOKENS.get(name)
        if words:
            ok = 'err' if kind.startswith('err') else 'ok'
            skip = 2 if ' ' in name else 1
            for a in set(a.upper().decode('latin-1') for a in op.args[skip:]):
                if a in words:
                    self.options[name][(a, ok)] += 1

    def print_stats(self):
        print('reply kinds per command (reference side):')
        for name in sorted(self.stats):
            c = self.stats[name]
            print('  %-16s %6d  %s' % (name, sum(c.values()), '\n                          '.join(
                '%6d %s' % (n, k) for k, n in c.most_common())))
            words = COMMAND_TOKENS.get(name)
            if words:
                o = self.options[name]
                print('  %-16s options (ok/err): %s' % ('', ' '.join(
                    '%s %d/%d' % (w, o[(w, 'ok')], o[(w, 'err')]) for w in sorted(words))))
        if self.normalized:
            print('equal only after normalization: %s' % ', '.join(
                '%s=%d' % kv for kv in sorted(self.normalized.items())))

    # reporting
    def keys_of(self, args):
        uni = self.stream.ks.universe
        # the empty key is also a common value: count it only as the first argument
        return [a for i, a in enumerate(args) if i and a in uni and (a or i == 1)]

    def print_history(self, index, args):
        keys = set(self.keys_of(args))
        past = [(i, op) for i, op in self.history if i < index]
        if keys:
            rel = [(i, op) for i, op in past
                   if op.args[0].upper() in GLOBAL_COMMANDS or keys.intersection(self.keys_of(op.args))]
            what = 'touching %s (and SELECT/SWAPDB/FLUSH*)' % ', '.join(
                resp._q(k, 40) for k in sorted(keys))
        else:
            rel = past
            what = 'overall (the command names no key)'
        rel = rel[-self.o.history:]
        print('  last %d commands %s:' % (len(rel), what))
        for i, op in rel:
            print('    #%-7d [%s] %s' % (i, op.family, fmt_args(op.args)))

    def repro(self, index):
        o = self.o
        argv = [sys.executable, os.path.relpath(os.path.abspath(__file__))]
        if o.server_port:
            argv += ['--server-port', str(o.server_port), '--server-host', o.server_host]
        else:
            argv += ['--server', o.server]
            if o.server_args is not None:
                argv += ['--server-args', o.server_args]
        if o.reference_port:
            argv += ['--reference-port', str(o.reference_port), '--reference-host', o.reference_host]
        else:
            if o.reference != 'redis-server':
                argv += ['--reference', o.reference]
            if o.reference_args != REDIS_ARGS:
                argv += ['--reference-args', o.reference_args]
        argv += ['--seed', str(o.seed), '--count', str(index + 1),
                 '--families', ','.join(o.families), '--resp', str(o.resp)]
        if o.tamper_index is not None:
            argv += ['--tamper-index', str(o.tamper_index)]
        if o.tamper_state_index is not None:
            argv += ['--tamper-state-index', str(o.tamper_state_index)]
        return ' '.join(shlex.quote(a) for a in argv)

    def divergence(self, index, op, norm, a, b):
        self.failed += 1
        self.diverged[self.command_name(op.args)] += 1
        if not self.o.keep_going:
            self.stop = True
        self.reports += 1
        if self.reports > self.o.max_reports:
            if self.reports == self.o.max_reports + 1:
                print('(further divergences are not printed; --max-reports to see more)')
            return
        print()
        print('DIVERGENCE at command #%d (family %s, seed %s, resp %d)'
              % (index, op.family, self.o.seed, self.o.resp))
        print('  command:   %s' % fmt_args(op.args, 200))
        print('  reference: %s' % fmt_value(a))
        print('  server:    %s' % fmt_value(b))
        print('  compared:  %s' % norm.name)
        d = first_difference(a, b) if isinstance(a, tuple) and isinstance(b, tuple) else None
        if d:
            print('  note:      %s' % d)
        self.print_history(index, op.args)
        print('  reproduce: %s' % self.repro(index))
        sys.stdout.flush()

    def fatal(self, index, op, a, ea, b, eb):
        self.failed += 1
        self.diverged[self.command_name(op.args) + ' (no reply)'] += 1
        self.stop = True
        print()
        print('FAILURE at command #%d (family %s, seed %s, resp %d): no usable reply'
              % (index, op.family, self.o.seed, self.o.resp))
        print('  command:   %s' % fmt_args(op.args, 200))
        print('  reference: %s' % (fmt_value(a) if a is not None else 'ERROR: %s' % ea))
        print('  server:    %s' % (fmt_value(b) if b is not None else 'ERROR: %s' % eb))
        for label, srv, err in (('reference', self.ref, ea), ('server under test', self.sut, eb)):
            if err:
                state = 'running' if srv.alive() else 'NOT RUNNING (crashed or exited)'
                print('  %s is %s; its log ends with:' % (label, state))
                print(srv.log_tail() or '    (attached: no log)')
        self.print_history(index, op.args)
        print('  reproduce: %s' % self.repro(index))
        sys.stdout.flush()


# -- command line ------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--server', help='binary of the server under test (started with '
                   '--port P --bind 127.0.0.1 --dir D, plus --server-args)')
    p.add_argument('--server-args', default=None,
                   help="extra arguments for the server under test (shell syntax); default: "
                   "none, or %r when --server is a redis-server" % REDIS_ARGS)
    p.add_argument('--reference', default='redis-server', help='reference binary (default: %(default)s)')
    p.add_argument('--reference-args', default=REDIS_ARGS,
                   help='extra arguments for the reference (default: %(default)s)')
    p.add_argument('--server-port', type=int, help='attach to a running server under test instead')
    p.add_argument('--server-host', default='127.0.0.1')
    p.add_argument('--reference-port', type=int, help='attach to a running reference instead')
    p.add_argument('--reference-host', default='127.0.0.1')
    p.add_argument('--no-flush', action='store_true',
                   help='attached servers: do not FLUSHALL them before the run')
    p.add_argument('--seed', type=int, default=None, help='default: random (printed)')
    p.add_argument('--count', type=int, default=10000, help='commands to send (default: %(default)s)')
    p.add_argument('--families', default=None,
                   help='comma-separated (default: all: %s)' % ','.join(families.available()))
    p.add_argument('--resp', type=int, choices=(2, 3), default=2,
                   help='protocol: 3 sends HELLO 3 on both connections first')
    p.add_argument('--keep-going', action='store_true', help='count every divergence instead of '
                   'stopping at the first')
    p.add_argument('--batch', type=int, default=200, help='commands per pipelined batch')
    p.add_argument('--timeout', type=float, default=30.0, help='seconds to wait for a batch')
    p.add_argument('--history', type=int, default=20, help='commands shown before a divergence')
    p.add_argument('--max-reports', type=int, default=10, help='divergences printed in full')
    p.add_argument('--keep-dirs', action='store_true', help='keep the servers\' temp dirs')
    p.add_argument('--list-families', action='store_true')
    p.add_argument('--stats', action='store_true',
                   help='print, per command, the kinds of replies the reference gave '
                   '(to check what a family really exercises)')
    p.add_argument('--selftest', action='store_true',
                   help='check the harness itself: parser tests, clean runs, and runs where '
                   'the server under test is sent a different command (must be detected)')
    p.add_argument('--tamper-index', type=int, default=None,
                   help='(selftest) send ECHO tampered to the server under test instead of '
                   'command N')
    p.add_argument('--tamper-state-index', type=int, default=None,
                   help='(selftest) before command N, DEL the shared keys on the server under '
                   'test only')
    o = p.parse_args(argv)
    if o.families is None:
        o.families = families.available()
    else:
        o.families = [f.strip() for f in o.families.split(',') if f.strip()]
    if o.list_families:
        return o
    o.seed_given = o.seed is not None
    if o.seed is None:
        o.seed = 1 if o.selftest else random.SystemRandom().randrange(1, 10 ** 9)
    if not o.selftest and not o.server and not o.server_port:
        p.error('--server or --server-port is required')
    o.attached = bool(o.server_port or o.reference_port)
    unknown = [f for f in o.families if f not in families.available()]
    if unknown:
        p.error('unknown families: %s (available: %s)' % (
            ', '.join(unknown), ', '.join(families.available())))
    return o


def server_extra_args(o):
    if o.server_args is not None:
        return shlex.split(o.server_args)
    if o.server and os.path.basename(o.server).startswith('redis-server'):
        return shlex.split(REDIS_ARGS)
    return []


def run(o):
    for name in o.families:
        families.load(name)
    stream = Stream(o.seed, o.families, o.count)
    if o.reference_port:
        ref = AttachedServer('reference', o.reference_host, o.reference_port)
    else:
        ref = ManagedServer('reference', o.reference, shlex.split(o.reference_args), keep_dir=o.keep_dirs)
    if o.server_port:
        sut = AttachedServer('server', o.server_host, o.server_port)
    else:
        sut = ManagedServer('server', o.server, server_extra_args(o), keep_dir=o.keep_dirs)
    runner = None
    started = []
    t0 = time.monotonic()
    try:
        for s in (ref, sut):
            s.start()
            started.append(s)
        print('diff: seed %s, %d commands, families %s, resp %d'
              % (o.seed, o.count, ','.join(o.families), o.resp))
        print('diff: reference %s' % ref.describe())
        print('diff: server    %s' % sut.describe())
        sys.stdout.flush()
        runner = Runner(o, stream, ref, sut)
        runner.connect()
        runner.run()
        if o.stats:
            runner.print_stats()
    finally:
        if runner:
            runner.close()
        for s in started:
            s.stop()
    norm = ''
    if runner.normalized:
        norm = ' (%s equal only after normalization)' % ', '.join(
            '%d %s' % (n, k) for k, n in sorted(runner.normalized.items()))
    print('diff: %d commands compared in %.1fs%s' % (runner.passed + runner.failed,
                                                     time.monotonic() - t0, norm))
    if runner.diverged:
        print('diff: divergences per command: %s' % ', '.join(
            '%s=%d' % kv for kv in runner.diverged.most_common()))
    return runner.passed, runner.failed


def main(argv=None):
    o = parse_args(sys.argv[1:] if argv is None else argv)
    if o.list_families:
        for name in families.available():
            mod = families.load(name)
            doc = (mod.__doc__ or '').strip().split('\n')[0]
            print('%-18s weight %-4s %s' % (name, getattr(mod, 'WEIGHT', 1.0), doc))
        return 0
    if o.selftest:
        import selftest
        return selftest.main(o)
    try:
        passed, failed = run(o)
    except (HarnessError, OSError) as e:
        print('diff: ERROR: %s' % e)
        print('diff: 0 passed, 1 failed')
        return 2
    except KeyboardInterrupt:
        print('diff: interrupted')
        print('diff: 0 passed, 1 failed')
        return 2
    print('diff: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
