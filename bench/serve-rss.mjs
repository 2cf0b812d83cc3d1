#!/usr/bin/env node
// Benchmark (not a test): idle RSS of `iam-ra serve` next to the sidecar (`iam-ra-sidecar`, the same
// server over @iam-ra/core/server), each started with the same configuration against the emulator,
// asked for credentials once, then left idle for a second. Target (issue 17): serve within 10% of
// the sidecar. Interleaved rounds, medians. Run after the builds (packages/*, apps/sidecar, apps/cli):
//   node bench/serve-rss.mjs [rounds]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root, startWorld } from "./lib/world.mjs";

const rounds = Number(process.argv[2] ?? 3);
const world = await startWorld("serve-rss");
const { dir } = world;
const rssOf = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    ...world.serverEnv("info"),
  };
  const rows = [
    ["sidecar (iam-ra-sidecar)", [join(root, "apps/sidecar/dist/main.js")]],
    ["iam-ra serve", [join(root, "apps/cli/bin/run.js"), "serve"]],
  ];
  const rss = rows.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, args]] of rows.entries()) {
      const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      const url = await new Promise((resolve, reject) => {
        const seen = (d) => {
          log += d;
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(log);
          if (m) resolve(m[0]);
        };
        child.stdout.on("data", seen);
        child.stderr.on("data", seen);
        child.once("exit", (code) => reject(new Error(`${rows[i][0]} exited ${code}: ${log}`)));
      });
      for (let t = 0; t < 200 && !(await fetch(`${url}/readyz`)).ok; t++)
        await new Promise((r) => setTimeout(r, 25));
      const token = readFileSync(join(dir, "token"), "utf8");
      const res = await fetch(`${url}/v1/credentials`, { headers: { authorization: token } });
      if (!res.ok) throw new Error(`${rows[i][0]}: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 1000));
      rss[i].push(rssOf(child.pid));
      child.kill("SIGTERM");
    }
  }
  const side = median(rss[0]);
  console.log(
    `node ${process.version}, ${rounds} interleaved rounds, idle RSS after one credentials request, medians`,
  );
  rows.forEach(([label], i) => {
    const m = median(rss[i]);
    console.log(
      `${label.padEnd(26)} ${m.toFixed(1).padStart(6)} MB  ${(m / side).toFixed(2)}x sidecar${i ? `  (target <= 1.10x) ${m / side <= 1.1 ? "ok" : "MISSED"}` : ""}`,
    );
  });
} finally {
  await world.close();
}
