// ioredis_check.cjs — what every ioredis test script here shares: the PORT
// argument, a watchdog that fails a hung run, and counted checks.
//   const { port, watchdog, eq, ok, sleep, checks } = require("./ioredis_check.cjs").start("name.cjs");
// Exit codes: 64 usage, 2 timeout (60 s); a failed check throws.
"use strict";

let count = 0;

function show(v) {
  return Buffer.isBuffer(v) ? "Buffer:" + v.toString("hex") : JSON.stringify(v);
}

function eq(what, got, want) {
  const g = show(got);
  const w = show(want);
  if (g !== w) throw new Error(`${what}: got ${g.slice(0, 300)}, want ${w.slice(0, 300)}`);
  count++;
}

function ok(what, cond) {
  if (!cond) throw new Error(`${what}: condition is false`);
  count++;
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function start(script) {
  const port = Number(process.argv[2]);
  if (!port) {
    console.error(`usage: node ${script} PORT`);
    process.exit(64);
  }
  const watchdog = setTimeout(() => {
    console.error("FAIL: timed out after 60 s");
    process.exit(2);
  }, 60000);
  return { port, watchdog, eq, ok, sleep, checks: () => count };
}

module.exports = { start };
