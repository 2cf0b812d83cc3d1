#!/usr/bin/env node
// Benchmark (not a test): wall time of `iam-ra host onboard` on local AWS (moto with the Roles
// Anywhere launcher + the emulator), target <= 3 s, next to `node -e 0` and `iam-ra --version`
// measured in the same run. Run after `npm test` (needs the builds):  node bench/host-onboard.mjs [runs]
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startLocalAws } from "./lib/local-aws.mjs";
import { root } from "./lib/world.mjs";

const runs = Number(process.argv[2] ?? 5);
const bin = join(root, "apps/cli/bin/run.js");
const aws = await startLocalAws("onboard");
const { dir, env } = aws;
const run = (args) => {
  try {
    return execFileSync(process.execPath, [bin, ...args, "--json"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    throw new Error(`iam-ra ${args.join(" ")} failed: ${e.stdout}`);
  }
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  run(["init", "-n", "bench"]);
  run(["role", "create", "app", "-n", "bench"]);
  const samples = { floor: [], version: [], onboard: [] };
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    // Same environment as the CLI: an inherited NODE_EXTRA_CA_CERTS alone adds ~50 ms to a
    // Node 20 start, which would flatter the ratio.
    execFileSync(process.execPath, ["-e", "0"], { env });
    samples.floor.push(performance.now() - t);
    t = performance.now();
    execFileSync(process.execPath, [bin, "--version"], { env, stdio: "ignore" });
    samples.version.push(performance.now() - t);
    t = performance.now();
    run([
      "host",
      "onboard",
      `host-${i}.example.com`,
      "--role",
      "app",
      "-n",
      "bench",
      "--output-dir",
      join(dir, `h${i}`),
    ]);
    samples.onboard.push(performance.now() - t);
  }
  const onboard = median(samples.onboard);
  console.log(`node ${process.version}, ${runs} runs each, medians, local AWS (moto + emulator)`);
  console.log(`node -e 0 (floor)          ${median(samples.floor).toFixed(0).padStart(6)} ms`);
  console.log(`iam-ra --version           ${median(samples.version).toFixed(0).padStart(6)} ms`);
  console.log(
    `iam-ra host onboard        ${onboard.toFixed(0).padStart(6)} ms  (target <= 3000 ms) ${onboard <= 3000 ? "ok" : "MISSED"}`,
  );
} finally {
  await aws.close();
}
