// ioredis against the collection types: hashes, lists (blocking pops served
// across two connections), sets, sorted sets (BZPOPMIN across connections),
// HyperLogLog, geo and SORT, the way a Node application uses them.
//   node ioredis_collections.cjs PORT
// Exits 0 when every check passes, 1 on the first mismatch (printed), 2 on a
// timeout. The expected values are what Redis 7.0 answers (the test also runs
// against redis-server: LODIS_SERVER=/usr/bin/redis-server).
"use strict";

const Redis = require("ioredis");

const { port, watchdog, eq, ok, sleep, checks } = require("./ioredis_check.cjs").start(
  "ioredis_collections.cjs");

async function rejects(what, promise, pattern) {
  try {
    await promise;
  } catch (e) {
    ok(`${what} (${e.message})`, pattern.test(e.message));
    return;
  }
  throw new Error(`${what}: did not fail`);
}

function connect(name) {
  const r = new Redis({
    host: "127.0.0.1",
    port,
    connectionName: name,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  r.on("error", (e) => console.error(`${name} connection error:`, e.message));
  return r;
}

// Wait until the server reports `n` blocked clients (a blocking call has
// really reached it before the other connection pushes).
async function blocked(r, n) {
  for (let i = 0; i < 500; i++) {
    const info = await r.info("clients");
    const m = /blocked_clients:(\d+)/.exec(info);
    if (m && Number(m[1]) === n) return;
    await sleep(10);
  }
  throw new Error(`blocked_clients never reached ${n}`);
}

async function hashes(r) {
  eq("hset", await r.hset("user:1", { name: "ada", lang: "en", visits: "1" }), 3);
  eq("hget", await r.hget("user:1", "name"), "ada");
  // field order is unspecified in Redis (insertion order only while small)
  const all = await r.hgetall("user:1");
  eq("hgetall", Object.keys(all).sort().map((k) => [k, all[k]]),
     [["lang", "en"], ["name", "ada"], ["visits", "1"]]);
  eq("hincrby", await r.hincrby("user:1", "visits", 41), 42);
  eq("hincrbyfloat", await r.hincrbyfloat("user:1", "score", "1.5"), "1.5");
  eq("hmget", await r.hmget("user:1", "name", "nope", "visits"), ["ada", null, "42"]);
  eq("hexists", await r.hexists("user:1", "lang"), 1);
  eq("hdel", await r.hdel("user:1", "lang", "nope"), 1);
  eq("hlen", await r.hlen("user:1"), 3);
  eq("hsetnx", await r.hsetnx("user:1", "name", "bob"), 0);
  eq("hstrlen", await r.hstrlen("user:1", "name"), 3);
  eq("hkeys", (await r.hkeys("user:1")).sort(), ["name", "score", "visits"]);
  // a big hash walked with HSCAN: every field exactly once
  const fields = {};
  for (let i = 0; i < 1500; i++) fields["f" + i] = "v" + i;
  await r.hset("big:h", fields);
  const seen = new Set();
  let cursor = "0";
  do {
    const [next, items] = await r.hscan("big:h", cursor, "COUNT", 100);
    for (let i = 0; i < items.length; i += 2) seen.add(items[i]);
    cursor = next;
  } while (cursor !== "0");
  eq("hscan covers the hash", seen.size, 1500);
  const rnd = await r.hrandfield("big:h", 5, "WITHVALUES");
  eq("hrandfield count", rnd.length, 10);
  ok("hrandfield pairs", rnd[1] === "v" + rnd[0].slice(1));
  await r.set("str", "x");
  await rejects("hget on a string", r.hget("str", "f"), /^WRONGTYPE/);
}

async function lists(r, r2) {
  eq("rpush", await r.rpush("q", "a", "b", "c"), 3);
  eq("lpush", await r.lpush("q", "z"), 4);
  eq("lrange", await r.lrange("q", 0, -1), ["z", "a", "b", "c"]);
  eq("lindex", await r.lindex("q", -1), "c");
  eq("linsert", await r.linsert("q", "BEFORE", "b", "ab"), 5);
  eq("lpos", await r.lpos("q", "b"), 3);
  eq("lset", await r.lset("q", 0, "zz"), "OK");
  eq("lrem", await r.lrem("q", 0, "ab"), 1);
  eq("ltrim", await r.ltrim("q", 0, 2), "OK");
  eq("lpop count", await r.lpop("q", 2), ["zz", "a"]);
  eq("lmove", await r.lmove("q", "q2", "LEFT", "RIGHT"), "b");
  eq("emptied list is gone", await r.exists("q"), 0);
  eq("lmpop", await r.lmpop(2, "nolist", "q2", "LEFT", "COUNT", 5), ["q2", ["b"]]);

  // BLPOP on one connection, served by an RPUSH on another
  const waiter = r2.blpop("jobs", 5);
  await blocked(r, 1);
  eq("rpush wakes the waiter", await r.rpush("jobs", "job-1"), 1);
  eq("blpop result", await waiter, ["jobs", "job-1"]);
  eq("the pushed element went to the waiter", await r.llen("jobs"), 0);

  // BLMOVE: the waiter moves what arrives into its own list
  const mover = r2.blmove("inbox", "working", "LEFT", "RIGHT", 5);
  await blocked(r, 1);
  await r.lpush("inbox", "mail");
  eq("blmove result", await mover, "mail");
  eq("blmove destination", await r.lrange("working", 0, -1), ["mail"]);

  // timeout: a null reply after the fractional timeout
  const t0 = Date.now();
  eq("brpop timeout", await r2.brpop("never", 0.2), null);
  ok("brpop waited", Date.now() - t0 >= 150);
}

async function sets(r) {
  eq("sadd", await r.sadd("tags:a", "red", "green", "blue"), 3);
  eq("sadd again", await r.sadd("tags:a", "red"), 0);
  await r.sadd("tags:b", "green", "blue", "black");
  eq("sinter", (await r.sinter("tags:a", "tags:b")).sort(), ["blue", "green"]);
  eq("sunion", (await r.sunion("tags:a", "tags:b")).length, 4);
  eq("sdiff", await r.sdiff("tags:a", "tags:b"), ["red"]);
  eq("sintercard", await r.sintercard(2, "tags:a", "tags:b"), 2);
  eq("sismember", await r.sismember("tags:a", "red"), 1);
  eq("smismember", await r.smismember("tags:a", "red", "pink"), [1, 0]);
  eq("smove", await r.smove("tags:a", "tags:b", "red"), 1);
  eq("scard", await r.scard("tags:b"), 4);
  eq("sunionstore", await r.sunionstore("tags:all", "tags:a", "tags:b"), 4);
  const popped = await r.spop("tags:all", 10);
  eq("spop count takes all", popped.length, 4);
  eq("set gone after spop", await r.exists("tags:all"), 0);
  eq("srandmember negative", (await r.srandmember("tags:b", -6)).length, 6);
  await r.sadd("ints", 1, 2, 3);
  eq("smembers ints", (await r.smembers("ints")).sort(), ["1", "2", "3"]);
}

async function zsets(r, r2) {
  eq("zadd", await r.zadd("board", 10, "ann", 20, "bob", 15, "cy"), 3);
  eq("zadd gt ch", await r.zadd("board", "GT", "CH", 5, "ann", 30, "bob"), 1);
  eq("zrange withscores", await r.zrange("board", 0, -1, "WITHSCORES"),
     ["ann", "10", "cy", "15", "bob", "30"]);
  eq("zrevrank", await r.zrevrank("board", "ann"), 2);
  eq("zrank", await r.zrank("board", "bob"), 2);
  eq("zscore", await r.zscore("board", "cy"), "15");
  eq("zincrby", await r.zincrby("board", 2.5, "cy"), "17.5");
  eq("zrangebyscore", await r.zrangebyscore("board", "(10", "+inf"), ["cy", "bob"]);
  eq("zrange byscore rev limit", await r.zrange("board", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, 1),
     ["bob"]);
  eq("zcount", await r.zcount("board", "-inf", 17.5), 2);
  await r.zadd("board2", 1, "ann", 2, "dee");
  eq("zunionstore weights", await r.zunionstore("u", 2, "board", "board2", "WEIGHTS", 1, 10), 4);
  eq("zscore after union", await r.zscore("u", "ann"), "20");
  eq("zinter", await r.zinter(2, "board", "board2", "WITHSCORES"), ["ann", "11"]);
  eq("zpopmin", await r.zpopmin("board"), ["ann", "10"]);
  eq("zmscore", await r.zmscore("board", "cy", "nobody"), ["17.5", null]);
  await r.zadd("lex", 0, "a", 0, "b", 0, "c", 0, "d");
  eq("zrangebylex", await r.zrangebylex("lex", "[b", "(d"), ["b", "c"]);
  await rejects("zadd nan", r.zadd("board", "nan", "x"), /not a valid float/);

  // BZPOPMIN on one connection, served by a ZADD on another
  const waiter = r2.bzpopmin("tasks", 5);
  await blocked(r, 1);
  await r.zadd("tasks", 3, "later", 1, "first");
  eq("bzpopmin result", await waiter, ["tasks", "first", "1"]);
  eq("the other member stays", await r.zrange("tasks", 0, -1), ["later"]);
}

async function others(r) {
  eq("pfadd", await r.pfadd("visitors", "a", "b", "c", "a"), 1);
  eq("pfcount", await r.pfcount("visitors"), 3);
  await r.pfadd("visitors2", "c", "d");
  eq("pfmerge", await r.pfmerge("v-all", "visitors", "visitors2"), "OK");
  eq("pfcount merged", await r.pfcount("v-all"), 4);

  eq("geoadd", await r.geoadd("places", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"), 2);
  eq("geodist km", await r.geodist("places", "Palermo", "Catania", "km"), "166.2742");
  eq("geosearch", await r.geosearch("places", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "ASC"),
     ["Catania", "Palermo"]);
  eq("geohash", await r.geohash("places", "Palermo"), ["sqc8b49rny0"]);

  await r.rpush("nums", 3, 1, 2);
  eq("sort", await r.sort("nums"), ["1", "2", "3"]);
  eq("sort desc limit", await r.sort("nums", "LIMIT", 0, 2, "DESC"), ["3", "2"]);
  eq("sort store", await r.sort("nums", "STORE", "sorted"), 3);
  eq("sorted list", await r.lrange("sorted", 0, -1), ["1", "2", "3"]);
}

async function main() {
  const r = connect("ioredis-collections");
  const r2 = connect("ioredis-collections-2");
  await r.flushdb();
  await hashes(r);
  await lists(r, r2);
  await sets(r);
  await zsets(r, r2);
  await others(r);
  // a pipeline mixing the types, answered in order
  const res = await r.pipeline().hset("p:h", "f", "v").rpush("p:l", "x").sadd("p:s", "m")
    .zadd("p:z", 1, "m").type("p:h").type("p:l").type("p:s").type("p:z").exec();
  eq("pipeline", res.map(([err, v]) => (err ? err.message : v)),
     [1, 1, 1, 1, "hash", "list", "set", "zset"]);
  await r.set("ioredis:collections", "done");
  r.disconnect();
  r2.disconnect();
  clearTimeout(watchdog);
  console.log(`${checks()} checks passed`);
}

main().catch((e) => {
  console.error("FAIL:", e.message);
  process.exit(1);
});
