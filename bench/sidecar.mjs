#!/usr/bin/env node
// Benchmark (not a test): the sidecar's container-credentials route under loopback load, against
// a bare node:http server returning the same JSON (the floor), measured in the same run with
// autocannon. Prints throughput ratio (target >= 0.8), p99 latency and the sidecar's RSS.
// Run after `npm test` (needs the builds):  node bench/sidecar.mjs [seconds]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { root, startWorld } from "./lib/world.mjs";

const seconds = Number(process.argv[2] ?? 10);
const world = await startWorld("sidecar");
const { dir } = world;
const children = [];
try {
  const sidecar = spawn(process.execPath, [join(root, "apps/sidecar/dist/main.js")], {
    env: world.serverEnv("warn"),
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(sidecar);
  // Port 0 and log level warn: find the port from /proc instead of the "serving" log line.
  sidecar.stderr.on("data", (d) => process.stderr.write(d));
  const sidecarUrl = await waitForListening(sidecar.pid);
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${sidecarUrl}/readyz`)).ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const token = readFileSync(join(dir, "token"), "utf8");
  const body = await (
    await fetch(`${sidecarUrl}/v1/credentials`, { headers: { authorization: token } })
  ).text();

  // The floor: node:http answering the same bytes, no routing, no token check.
  const floor = spawn(
    process.execPath,
    [
      "-e",
      `const b=process.argv[1];require("node:http").createServer((q,s)=>{s.writeHead(200,{"content-type":"application/json","content-length":Buffer.byteLength(b)});s.end(b)}).listen(0,"127.0.0.1",function(){console.log(this.address().port)})`,
      body,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(floor);
  const [portLine] = await once(floor.stdout, "data");
  const floorUrl = `http://127.0.0.1:${String(portLine).trim()}`;

  const load = async (url) => {
    // Warm up, then measure.
    await autocannon({ url, connections: 10, duration: 1, headers: { authorization: token } });
    return autocannon({ url, connections: 10, duration: seconds, headers: { authorization: token } });
  };
  // Alternate rounds, so a change in machine load hits the floor and the sidecar alike.
  const rounds = 3;
  const bases = [];
  const sides = [];
  for (let r = 0; r < rounds; r++) {
    bases.push(await load(`${floorUrl}/v1/credentials`));
    sides.push(await load(`${sidecarUrl}/v1/credentials`));
  }
  const mid = (xs) =>
    [...xs].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(xs.length / 2)];
  const base = mid(bases);
  const side = mid(sides);
  if (sides.some((x) => x.non2xx > 0)) throw new Error("the sidecar answered non-2xx responses under load");
  const rss =
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${sidecar.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  const floorRss =
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${floor.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  const ratio = side.requests.average / base.requests.average;
  console.log(
    `node ${process.version}, ${rounds} alternating rounds of ${seconds} s, medians, 10 connections, loopback`,
  );
  console.log(
    `bare node:http (floor)   ${base.requests.average.toFixed(0).padStart(7)} req/s  p99 ${base.latency.p99} ms  RSS ${floorRss.toFixed(0)} MB`,
  );
  console.log(
    `sidecar /v1/credentials  ${side.requests.average.toFixed(0).padStart(7)} req/s  p99 ${side.latency.p99} ms  RSS ${rss.toFixed(0)} MB`,
  );
  console.log(`throughput ratio         ${ratio.toFixed(2)}x floor (target >= 0.8x)`);
} finally {
  for (const c of children) c.kill("SIGTERM");
  await world.close();
}

/** The loopback port a process listens on, from /proc/net/tcp (Linux). */
async function waitForListening(pid) {
  for (let i = 0; i < 200; i++) {
    try {
      const inodes = new Set();
      const { readdirSync, readlinkSync } = await import("node:fs");
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      }
      for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] === "0A" && inodes.has(f[9]))
          return `http://127.0.0.1:${Number.parseInt(f[1].split(":")[1], 16)}`;
      }
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the sidecar did not start listening");
}
