// ioredis smoke test against a running server.
//   node ioredis_smoke.cjs PORT
// Exits 0 when every check passes, 1 on the first mismatch (printed), 2 on a
// timeout. CommonJS (.cjs) so that NODE_PATH works and the file stays valid
// whatever "type" tests/integration/package.json declares.
"use strict";

const Redis = require("ioredis");

const { port, watchdog, eq, ok, sleep, checks } = require("./ioredis_check.cjs").start(
  "ioredis_smoke.cjs");

async function main() {
  const redis = new Redis({
    host: "127.0.0.1",
    port,
    connectionName: "ioredis-smoke",
    maxRetriesPerRequest: 1,
    retryStrategy: () => null, // do not reconnect: a dropped connection is a failure
  });
  redis.on("error", (e) => console.error("connection error:", e.message));

  // connection: ready check (INFO), CLIENT SETNAME, PING
  eq("ping", await redis.ping(), "PONG");
  eq("client getname", await redis.client("GETNAME"), "ioredis-smoke");

  // set / get / options
  eq("set", await redis.set("greeting", "hello"), "OK");
  eq("get", await redis.get("greeting"), "hello");
  eq("get missing", await redis.get("missing"), null);
  eq("set nx on existing", await redis.set("greeting", "x", "NX"), null);
  eq("set xx", await redis.set("greeting", "hi", "XX"), "OK");
  eq("set get", await redis.set("greeting", "hey", "GET"), "hi");
  eq("utf8 value", await redis.set("utf8", "żółć ✓ 日本"), "OK");
  eq("utf8 get", await redis.get("utf8"), "żółć ✓ 日本");

  // counters
  eq("incr", await redis.incr("ctr"), 1);
  eq("incrby", await redis.incrby("ctr", 41), 42);
  eq("decr", await redis.decr("ctr"), 41);
  eq("incrbyfloat", await redis.incrbyfloat("fl", "1.5"), "1.5");
  let err = null;
  try {
    await redis.incr("greeting");
  } catch (e) {
    err = e;
  }
  ok("incr on text rejects", err !== null);
  eq("incr error text", err.message, "ERR value is not an integer or out of range");

  // expire / ttl
  eq("set ex", await redis.set("sess", "data", "EX", 100), "OK");
  const ttl = await redis.ttl("sess");
  ok(`ttl in range (${ttl})`, ttl > 95 && ttl <= 100);
  eq("expire", await redis.expire("greeting", 50), 1);
  eq("persist", await redis.persist("greeting"), 1);
  eq("ttl after persist", await redis.ttl("greeting"), -1);
  eq("short ttl", await redis.set("short", "x", "PX", 100), "OK");
  await sleep(300);
  eq("expired get", await redis.get("short"), null);
  eq("expired exists", await redis.exists("short"), 0);

  // mset / mget / del / exists
  eq("mset", await redis.mset({ a: "1", b: "2", c: "3" }), "OK");
  eq("mget", await redis.mget("a", "nope", "b", "c"), ["1", null, "2", "3"]);
  eq("mget array", await redis.mget(["c", "a"]), ["3", "1"]);
  eq("exists", await redis.exists("a", "b", "nope"), 2);
  eq("del", await redis.del("a", "nope"), 1);

  // binary Buffers
  const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0, 0x80, 0x7f]);
  const binKey = Buffer.from([0x6b, 0, 0xff, 0x0a]);
  eq("set buffer", await redis.set(binKey, bin), "OK");
  eq("getBuffer", await redis.getBuffer(binKey), bin);
  eq("strlen buffer", await redis.strlen(binKey), bin.length);
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 8)) & 0xff;
  eq("set 1MB buffer", await redis.set("bigbuf", big), "OK");
  const bigBack = await redis.getBuffer("bigbuf");
  ok("1MB buffer round trip", Buffer.isBuffer(bigBack) && bigBack.equals(big));
  eq("mgetBuffer", await redis.mgetBuffer(binKey, "missing"), [bin, null]);
  eq("append buffer", await redis.append(binKey, Buffer.from([0])), bin.length + 1);

  // pipeline (no MULTI): results in order, errors per command
  const p = redis.pipeline();
  for (let i = 0; i < 1000; i++) p.set(`pipe:${i}`, `v${i}`);
  for (let i = 0; i < 1000; i++) p.incr("pipe:ctr");
  p.get("pipe:999");
  p.incr("greeting"); // error inside a pipeline
  p.get("pipe:0");
  const res = await p.exec();
  eq("pipeline length", res.length, 2003);
  for (let i = 0; i < 1000; i++) {
    if (res[i][0] !== null || res[i][1] !== "OK") eq(`pipeline set ${i}`, res[i], [null, "OK"]);
    if (res[1000 + i][1] !== i + 1) eq(`pipeline incr ${i}`, res[1000 + i][1], i + 1);
  }
  eq("pipeline get", res[2000], [null, "v999"]);
  ok("pipeline error entry", res[2001][0] instanceof Error &&
     res[2001][0].message === "ERR value is not an integer or out of range");
  eq("pipeline after error", res[2002], [null, "v0"]);
  // chained pipeline with expire
  const res2 = await redis.pipeline().set("pk", "pv").expire("pk", 500).ttl("pk").get("pk").exec();
  eq("chained pipeline", res2, [[null, "OK"], [null, 1], [null, 500], [null, "pv"]]);
  // auto-pipelining style: many concurrent commands
  const many = await Promise.all(Array.from({ length: 500 }, (_, i) => redis.incr("concurrent")));
  eq("concurrent incr last", Math.max(...many), 500);
  eq("concurrent incr distinct", new Set(many).size, 500);

  // scanStream collects every key exactly (as a set)
  const expected = new Set();
  const sp = redis.pipeline();
  for (let i = 0; i < 1500; i++) {
    const k = `scan:${i}`;
    expected.add(k);
    sp.set(k, "x");
  }
  await sp.exec();
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const s = redis.scanStream({ match: "scan:*", count: 37 });
    s.on("data", (keys) => keys.forEach((k) => seen.add(k)));
    s.on("end", resolve);
    s.on("error", reject);
  });
  eq("scanStream size", seen.size, expected.size);
  for (const k of expected) if (!seen.has(k)) eq("scanStream missing", k, null);
  const all = new Set();
  await new Promise((resolve, reject) => {
    const s = redis.scanStream({ count: 100 });
    s.on("data", (keys) => keys.forEach((k) => all.add(k)));
    s.on("end", resolve);
    s.on("error", reject);
  });
  eq("scanStream all keys == dbsize", all.size, await redis.dbsize());

  // rename / type / keys
  eq("rename", await redis.rename("pipe:0", "renamed"), "OK");
  eq("type", await redis.type("renamed"), "string");
  eq("keys", (await redis.keys("renam*")).sort(), ["renamed"]);

  // a second connection on another db
  const db3 = new Redis({ host: "127.0.0.1", port, db: 3, retryStrategy: () => null });
  eq("db3 set", await db3.set("only-in-3", "yes"), "OK");
  eq("db0 does not see db3", await redis.get("only-in-3"), null);
  eq("db3 dbsize", await db3.dbsize(), 1);
  await db3.quit();

  eq("done marker", await redis.set("ioredis:done", "yes"), "OK");
  eq("quit", await redis.quit(), "OK");
}

main().then(
  () => {
    clearTimeout(watchdog);
    console.log(`ioredis smoke: ${checks()} checks passed`);
    process.exit(0);
  },
  (e) => {
    console.error("FAIL:", e && e.stack ? e.stack : e);
    process.exit(1);
  }
);
