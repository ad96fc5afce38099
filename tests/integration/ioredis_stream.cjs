// Consumer-group workers with ioredis (test_stream_workers.py runs it).
//   node ioredis_stream.cjs PORT
// Two consumers of group "workers" on stream "njobs" (200 entries). Worker A
// acks 30 entries, reads 10 more and is killed (disconnect, no acks). Worker
// B, a separate connection blocking in XREADGROUP, does the rest while two of
// A's entries are deleted; then B finds A's entries with XPENDING (IDLE,
// consumer), claims three with XCLAIM and the others with XAUTOCLAIM, which
// reports the deleted ones. Every surviving entry must be acked exactly once.
// Exits 0 when every check passes, 1 on the first mismatch, 2 on a timeout.
"use strict";

const Redis = require("ioredis");

const { port, watchdog, eq, ok, sleep, checks } = require("./ioredis_check.cjs").start(
  "ioredis_stream.cjs");
const KEY = "njobs";
const N = 200;

function connect(name) {
  return new Redis({ host: "127.0.0.1", port, connectionName: name, maxRetriesPerRequest: 0,
                     retryStrategy: () => null, lazyConnect: false });
}

async function main() {
  const main = connect("main");
  await main.del(KEY, KEY + ":acked");
  await main.xgroup("CREATE", KEY, "workers", "$", "MKSTREAM");
  const p = main.pipeline();
  for (let i = 0; i < N; i++) p.xadd(KEY, "*", "job", String(i));
  const ids = (await p.exec()).map(([err, id]) => {
    if (err) throw err;
    return id;
  });
  eq("ids are distinct", new Set(ids).size, N);

  const acks = new Map(); // id -> successful XACK count
  async function ack(conn, id) {
    const n = await conn.xack(KEY, "workers", id);
    acks.set(id, (acks.get(id) || 0) + n);
    if (n) await conn.incr(KEY + ":acked");
  }

  // worker A
  const a = connect("worker-A");
  let doneA = 0;
  while (doneA < 30) {
    const got = await a.xreadgroup("GROUP", "workers", "A", "COUNT", 5, "STREAMS", KEY, ">");
    for (const [id, fields] of got[0][1]) {
      eq("fields of " + id, fields, ["job", String(ids.indexOf(id))]);
      await ack(a, id);
      doneA++;
    }
  }
  const orphans = (await a.xreadgroup("GROUP", "workers", "A", "COUNT", 10, "STREAMS", KEY, ">"))[0][1]
    .map(([id]) => id);
  eq("A read 10 more", orphans.length, 10);
  a.disconnect(); // killed mid-work

  // worker B, while the main connection deletes two of A's entries
  const b = connect("worker-B");
  const workerB = (async () => {
    for (;;) {
      const got = await b.xreadgroup("GROUP", "workers", "B", "COUNT", 7, "BLOCK", 200,
                                     "STREAMS", KEY, ">");
      if (!got) break;
      for (const [id] of got[0][1]) await ack(b, id);
    }
  })();
  await main.xdel(KEY, orphans[3], orphans[7]);
  await workerB;

  const summary = await main.xpending(KEY, "workers");
  eq("pending summary", summary, [10, orphans[0], orphans[9], [["A", "10"]]]);
  await sleep(120);
  const rows = await main.xpending(KEY, "workers", "IDLE", 100, "-", "+", 100, "A");
  eq("A's entries", rows.map((r) => r[0]), orphans);
  eq("delivered once", rows.map((r) => r[3]), orphans.map(() => 1));

  const claimed = await b.xclaim(KEY, "workers", "B", 100, ...orphans.slice(0, 3));
  eq("XCLAIM", claimed.map((e) => e[0]), orphans.slice(0, 3));
  for (const [id] of claimed) await ack(b, id);

  let cursor = "0-0";
  const deleted = [];
  const auto = [];
  do {
    const [next, got, del] = await b.xautoclaim(KEY, "workers", "B", 100, cursor, "COUNT", 3);
    cursor = next;
    deleted.push(...del);
    for (const [id] of got) {
      auto.push(id);
      await ack(b, id);
    }
  } while (cursor !== "0-0");
  eq("deleted reported", deleted.slice().sort(), [orphans[3], orphans[7]].sort());
  eq("auto-claimed", auto, orphans.slice(3).filter((id) => !deleted.includes(id)));

  const survivors = ids.filter((id) => !deleted.includes(id));
  eq("every survivor acked", survivors.filter((id) => acks.get(id) !== 1), []);
  eq("nothing else acked", [...acks.keys()].filter((id) => !survivors.includes(id)), []);
  eq("XLEN", await main.xlen(KEY), N - 2);
  eq("pending after", (await main.xpending(KEY, "workers"))[0], 0);
  const groups = await main.xinfo("GROUPS", KEY);
  const g = {};
  for (let i = 0; i < groups[0].length; i += 2) g[groups[0][i]] = groups[0][i + 1];
  eq("group", [g.pending, g["entries-read"], g.lag, g["last-delivered-id"]], [0, N, 0, ids[N - 1]]);

  // a blocked XREADGROUP woken by an XADD inside MULTI
  const waiter = b.xreadgroup("GROUP", "workers", "B", "BLOCK", 5000, "STREAMS", KEY, ">");
  await sleep(100);
  const res = await main.multi().xadd(KEY, "*", "job", "late").xlen(KEY).exec();
  eq("XLEN in MULTI", res[1][1], N - 1);
  const late = res[0][1];
  const woke = await waiter;
  eq("woken by MULTI", woke[0][1].map((e) => e[0]), [late]);
  await ack(b, late);
  await main.xdel(KEY, late);

  b.disconnect();
  main.disconnect();
  console.log(`stream workers: all checks passed (${checks()})`);
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (e) => {
    console.error("FAIL:", e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
