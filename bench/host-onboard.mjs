#!/usr/bin/env node
// Benchmark (not a test): wall time of `iam-ra host onboard` on local AWS (moto with the Roles
// Anywhere launcher + the emulator), target <= 3 s, next to `node -e 0` and `iam-ra --version`
// measured in the same run. Run after `npm test` (needs the builds):  node bench/host-onboard.mjs [runs]
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const load = (p) =>
  import(join(root, p)).catch(() => {
    console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
    process.exit(2);
  });
const { startMoto } = await load("packages/emulator/dist/testing/index.js");
const bin = join(root, "apps/cli/bin/run.js");

const probe = createServer().listen(0, "127.0.0.1");
await once(probe, "listening");
const { port } = probe.address();
await new Promise((r) => probe.close(r));
const moto = await startMoto({ rolesAnywhereEndpoint: `http://127.0.0.1:${port}` });
// The emulator runs in its own process: this one blocks in execFileSync while the CLI works.
const { spawn } = await import("node:child_process");
const emulator = spawn(
  process.execPath,
  [
    join(root, "packages/emulator/bin/iam-ra-emulator.js"),
    "--port",
    String(port),
    "--iam-endpoint",
    moto.url,
  ],
  { stdio: ["ignore", "pipe", "ignore"] },
);
await once(emulator.stdout, "data");
const emu = { url: `http://127.0.0.1:${port}`, close: async () => emulator.kill("SIGTERM") };
const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-onboard-"));
const env = {
  PATH: process.env.PATH,
  HOME: dir,
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_ENDPOINT_URL: moto.url,
  AWS_ENDPOINT_URL_ROLESANYWHERE: emu.url,
  AWS_CONFIG_FILE: "/nonexistent",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  NODE_NO_WARNINGS: "1",
};
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
  await emu.close();
  await moto.close();
  rmSync(dir, { recursive: true, force: true });
}
