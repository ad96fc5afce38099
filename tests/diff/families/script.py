"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH.

Scripts come from a fixed pool of deterministic bodies: conversions both
ways (integers, bulk strings, nil/false, nested tables, {ok=}, {err=}),
redis.call/pcall errors, global protection, shebang flags, cjson round trips
(arrays and single-key objects only: multi-key objects encode in hash order),
cmsgpack packing and unpacking (the bytes of every int width, float vs
double, string length class, array vs map, nesting, stream offsets; a key's
value goes through pack and back), struct pack / unpack / size and bit
operations. No script uses math.random (its state is shared by every
script of a server) or returns maps/sets whose order is the store's.
Keys come from the shared key space, so scripts meet every type.
"""

from gen import mangle_arity, prepare, randcase, value, weighted

WEIGHT = 1.5

SCRIPTS = [
    "return 1",
    "return {1, 2, 3, 'x', {4, 5, {6}}}",
    "return {1, 2, nil, 4}",
    "return -3.7",
    "return {1e20, 0.5, -0.5}",
    "return true",
    "return false",
    "return nil",
    "return {ok='FINE'}",
    "return {err='My Error'}",
    "return redis.status_reply('DONE')",
    "return redis.error_reply('-CODE text')",
    "return {1, {err='inner'}, {ok='fine'}}",
    "return redis.call('GET', KEYS[1])",
    "return redis.call('SET', KEYS[1], ARGV[1])",
    "return redis.call('INCR', KEYS[1])",
    "return redis.pcall('INCR', KEYS[1])",
    "return redis.call('TYPE', KEYS[1])",
    "return redis.call('EXISTS', unpack(KEYS))",
    "return redis.call('DEL', KEYS[1])",
    "return redis.call('STRLEN', KEYS[1])",
    "return redis.call('LPUSH', KEYS[1], ARGV[1])",
    "return redis.call('SADD', KEYS[1], ARGV[1])",
    "return redis.call('ZADD', KEYS[1], 1, ARGV[1])",
    "return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')",
    "return redis.call('HSET', KEYS[1], 'f', ARGV[1])",
    "return redis.call('HGET', KEYS[1], 'f')",
    "return redis.call('nosuch')",
    "return redis.pcall('nosuch')",
    "return redis.call('GET')",
    "return redis.call('EVAL', 'return 1', 0)",
    "return redis.call()",
    "return redis.call('GET', {})",
    "local t = redis.pcall('INCR', KEYS[1]); return {type(t), t.err or 'none'}",
    "local ok, e = pcall(redis.call, 'nosuch'); return {tostring(ok), e}",
    "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
    "x = 1",
    "return undefined_global",
    "error('boom')",
    "error({err='TABLE error'})",
    "local a = nil; return a.b",
    "syntax error here",
    "return redis.sha1hex(ARGV[1] or '')",
    "return cjson.encode({1, 2, 'three', {4, true, false}})",
    "return cjson.encode({key = ARGV[1] or 'v'})",
    "return cjson.encode(cjson.decode('[1,2.5,\"x\",null,[true]]'))",
    "local t = cjson.decode('{\"a\":{\"b\":[1,2,3]}}'); return t.a.b",
    "return cjson.encode({1, nil, 3})",
    "return cjson.encode('a/b\"c\\n')",
    "return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0),"
    " bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tohex(255)}",
    "redis.setresp(3); return redis.call('GET', KEYS[1])",
    "redis.setresp(3); return true",
    "return redis.setresp(4)",
    "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'x')",
    "#!lua flags=bogus\nreturn 1",
    "local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('EXPIRE', KEYS[1], 3600) end "
    "return c",
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end",
    "return string.format('%d %s %5.2f', 3, 'x', 1.5)",
    "return cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53)",
    "return cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31 - 1, -2^63)",
    "return cmsgpack.pack(1.5, 0.1, -0.0, 1/0, -1/0, 3.4e38, 3.5e38, 2^63, 1e-300)",
    "return cmsgpack.pack('', string.rep('a', 31), string.rep('b', 32), string.rep('c', 256))",
    "return cmsgpack.pack({}, {1, 2, 3}, {x = 'y'}, {1, nil, 3}, {[2] = 1}, {true, false})",
    "local t = {} for i = 1, 20 do t[i] = i * 1000 end return cmsgpack.pack(t, {t})",
    "local t = {} t.self = t return cmsgpack.pack(t)",
    "return cmsgpack.pack(KEYS[1], ARGV[1], redis.call('GET', KEYS[1]))",
    "local v = redis.call('GET', KEYS[1]) if not v then return 'nil' end "
    "local ok, r = pcall(cmsgpack.unpack, v) return {tostring(ok), type(r)}",
    "return redis.call('SET', KEYS[1], cmsgpack.pack({ARGV[1] or 'x', 42, {n = -7}}))",
    "local s = cmsgpack.pack(1, 'two', {3}) local a, b, c = cmsgpack.unpack(s) "
    "return {a, b, c[1]}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1), 5)}",
    "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))",
    "return cmsgpack.unpack('\\196\\1a')",
    "return cmsgpack.unpack('\\147\\1')",
    "return cmsgpack.pack()",
    "return {struct.pack('bBhHlLTiI', -1, 255, -2, 65535, -3, 2^40, 7, -4, 4000000000)}",
    "return {struct.pack('>i3I5i16', -5, 2^33, -1), struct.pack('<fd', 1.5, 0.1)}",
    "return struct.pack('!4 b i b d', 1, 2, 3, 4.5)",
    "return {struct.unpack('c3 s b c0', 'abchello\\0' .. string.char(2) .. 'xyz')}",
    "local r = {struct.unpack('<i9', string.rep('\\255', 9))} return tostring(r[1])",
    "return {struct.unpack('b', ARGV[1] or '', 2)}",
    "return {struct.size('bhi'), struct.size('!8 b d'), struct.size('z')}",
    "return struct.pack('c10', ARGV[1] or 'abc')",
    "return struct.pack('z', 1)",
    "redis.call('SET', KEYS[1] or 'k', 9007199254740991) return redis.call('GET', KEYS[1] or 'k')",
    "return {redis.call('ECHO', 0.1), redis.call('ECHO', -0.0), redis.call('ECHO', 2^70)}",
    "return redis.error_reply('')",
    "return {redis.acl_check_cmd('set', KEYS[1] or 'k', 'v'), redis.acl_check_cmd('config', 'get')}",
    "return redis.acl_check_cmd('config', 'nosuch')",
    "cjson.encode_max_depth(1) local ok, e = pcall(cjson.encode, {a = {1}}) "
    "cjson.encode_max_depth(1000) return {tostring(ok), e}",
    "cjson.encode_invalid_numbers('null') local e = cjson.encode({0/0, 1/0}) "
    "cjson.encode_invalid_numbers(false) return e",
    "cjson.encode_number_precision(3) local e = cjson.encode({3.14159}) "
    "cjson.encode_number_precision(14) return e",
    "return {cjson.encode_sparse_array()}",
    "return cjson.encode_max_depth(0)",
    "local t = redis.error_reply('-x') return t.err",
    "return redis.error_reply('\\nMYCODE text\\r\\n')",
    "return tostring(1e15) .. ' ' .. tostring(0.1)",
]


def _sha1(s):
    import hashlib
    return hashlib.sha1(s.encode()).hexdigest()


def _eval_args(rng, ks):
    nkeys = rng.randint(0, 2)
    keys = [ks.key(rng) for _ in range(nkeys)]
    args = [value(rng) for _ in range(rng.randint(0, 2))]
    return [str(nkeys), *keys, *args]


def op_eval(rng, ks):
    cmd = rng.choice(['EVAL', 'EVAL', 'EVAL_RO'])
    return [randcase(rng, cmd), rng.choice(SCRIPTS), *_eval_args(rng, ks)]


def op_evalsha(rng, ks):
    s = rng.choice(SCRIPTS)
    sha = _sha1(s)
    if rng.random() < 0.2:
        sha = sha.upper()
    if rng.random() < 0.1:
        sha = rng.choice(['0123', 'f' * 40, ''])
    return [rng.choice(['EVALSHA', 'EVALSHA_RO']), sha, *_eval_args(rng, ks)]


def op_script(rng, ks):
    r = rng.random()
    if r < 0.5:
        return ['SCRIPT', 'LOAD', rng.choice(SCRIPTS)]
    if r < 0.8:
        return ['SCRIPT', 'EXISTS', *[_sha1(rng.choice(SCRIPTS)) for _ in range(rng.randint(1, 3))]]
    if r < 0.9:
        return ['SCRIPT', 'FLUSH', *rng.choice([[], ['ASYNC'], ['SYNC'], ['bogus']])]
    return ['SCRIPT', 'KILL']


def op_badnumkeys(rng, ks):
    return ['EVAL', 'return 1', rng.choice(['-1', 'x', '5', '1.5', ''])]


def generate(rng, ks):
    table = prepare([(10, op_eval), (5, op_evalsha), (3, op_script), (0.5, op_badnumkeys)])
    while True:
        item = weighted(rng, table)(rng, ks)
        if rng.random() < 0.01:
            item = mangle_arity(rng, item)
        yield item
