#!/usr/bin/env node
// Benchmark (not a test): admin commands' wall time on local AWS (moto with the Roles Anywhere
// launcher + the emulator). After one `init`, `role create` and `host onboard`, each row is a median
// over interleaved rounds next to two floors measured in the same rounds: `node -e 0`, and a script
// making one bare SDK call (S3 ListBuckets) to the same moto. Targets (issue 17): the commands that
// read state (status, host list, role list, k8s list, ca list) <= 300 ms on Node 24; host onboard
// <= 600 ms. Run after the builds (packages/emulator, apps/cli):
//   node bench/admin-commands.mjs [rounds]
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const rounds = Number(process.argv[2] ?? 7);
const { startMoto } = await import(join(root, "packages/emulator/dist/testing/index.js")).catch(() => {
  console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
  process.exit(2);
});
const bin = join(root, "apps/cli/bin/run.js");

const probe = createServer().listen(0, "127.0.0.1");
await once(probe, "listening");
const { port } = probe.address();
await new Promise((r) => probe.close(r));
const moto = await startMoto({ rolesAnywhereEndpoint: `http://127.0.0.1:${port}` });
// Commands run asynchronously: this process must keep draining moto's log pipe.
const exec = promisify(execFile);
const emulator = spawn(
  process.execPath,
  [join(root, "packages/emulator/bin/iam-ra-emulator.js"), "--port", String(port), "--iam-endpoint", moto.url],
  { stdio: ["ignore", "pipe", "ignore"] },
);
await once(emulator.stdout, "data");
emulator.stdout.resume();
const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-admin-"));
const env = {
  PATH: process.env.PATH,
  HOME: dir,
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_ENDPOINT_URL: moto.url,
  AWS_ENDPOINT_URL_ROLESANYWHERE: `http://127.0.0.1:${port}`,
  AWS_CONFIG_FILE: "/nonexistent",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  NODE_NO_WARNINGS: "1",
};
// The SDK floor: the CLI's own bundled S3 client would flatter it; a stock client from the store.
const sdkFloor = join(dir, "sdk-floor.mjs");
writeFileSync(
  sdkFloor,
  `import { S3Client, ListBucketsCommand } from ${JSON.stringify(pathToFileURL(createRequire(join(root, "apps/cli/package.json")).resolve("@aws-sdk/client-s3")).href)};
await new S3Client({ forcePathStyle: true }).send(new ListBucketsCommand({}));\n`,
);
const run = async (args) => {
  try {
    return await exec(process.execPath, [bin, ...args, "--json", "-n", "bench"], { env });
  } catch (e) {
    throw new Error(`iam-ra ${args.join(" ")} failed: ${e.stdout}${e.stderr}`);
  }
};
const rows = [
  ["node -e 0 (floor)", () => exec(process.execPath, ["-e", "0"], { env })],
  ["one bare SDK call (floor)", () => exec(process.execPath, [sdkFloor], { env })],
  ["iam-ra status", () => run(["status"])],
  ["iam-ra host list", () => run(["host", "list"])],
  ["iam-ra role list", () => run(["role", "list"])],
  ["iam-ra k8s list", () => run(["k8s", "list"])],
  ["iam-ra ca list", () => run(["ca", "list"])],
  [
    "iam-ra host onboard",
    (r) => run(["host", "onboard", `h${r}.example.com`, "--role", "app", "--output-dir", join(dir, `h${r}`)]),
  ],
];
const targets = { "iam-ra host onboard": 600 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await run(["init"]);
  await run(["role", "create", "app"]);
  await run(["host", "onboard", "first.example.com", "--role", "app", "--output-dir", join(dir, "first")]);
  if (process.env.BENCH_PROFILE) {
    // Profiling aid: one run of the named command under --cpu-prof into BENCH_PROFILE (a directory).
    await exec(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, bin, ...process.argv.slice(3), "--json", "-n", "bench"], { env });
    process.exit(0);
  }
  const times = rows.map(() => []);
  for (let r = 0; r < rounds + 1; r++) {
    for (const [i, [, fn]] of rows.entries()) {
      const t = performance.now();
      await fn(r);
      if (r > 0) times[i].push(performance.now() - t); // one warm-up round
    }
  }
  const floor = median(times[0]);
  const sdk = median(times[1]);
  console.log(
    `node ${process.version}, ${rounds} interleaved rounds, medians, local AWS (moto + emulator); load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  rows.forEach(([label], i) => {
    const m = median(times[i]);
    const target = targets[label] ?? (i > 1 ? 300 : undefined);
    console.log(
      `${label.padEnd(28)} ${m.toFixed(0).padStart(6)} ms  ${(m / floor).toFixed(2)}x node  ${(m / sdk).toFixed(2)}x SDK call${target ? `  (target <= ${target} ms) ${m <= target ? "ok" : "MISSED"}` : ""}`,
    );
  });
} finally {
  emulator.kill("SIGTERM");
  await moto.close();
  rmSync(dir, { recursive: true, force: true });
}
