#!/usr/bin/env node
// Benchmark (not a test): admin commands' wall time on local AWS (moto with the Roles Anywhere
// launcher + the emulator). After one `init`, `role create` and `host onboard`, each row is a median
// over interleaved rounds next to two floors measured in the same rounds: `node -e 0`, and a script
// making one bare SDK call (S3 ListBuckets) to the same moto. Targets (issue 17): the commands that
// read state (status, host list, role list, k8s list, ca list) <= 300 ms on Node 24; host onboard
// <= 600 ms. Run after the builds (packages/emulator, apps/cli):
//   node bench/admin-commands.mjs [rounds]
// IAM_RA_BENCH_CLI_COMPARE=<dir> also runs the read commands with another build of the CLI (a copy
// of apps/cli inside the workspace, so it finds its dependencies), interleaved: rows "B: ...".
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { startLocalAws } from "./lib/local-aws.mjs";
import { root } from "./lib/world.mjs";

const rounds = Number(process.argv[2] ?? 7);
const bin = join(root, "apps/cli/bin/run.js");
// Commands run asynchronously: this process keeps draining moto's log pipe.
const exec = promisify(execFile);
const aws = await startLocalAws("admin");
const { dir, env } = aws;
// The SDK floor: the CLI's own bundled S3 client would flatter it; a stock client from the store.
const sdkFloor = join(dir, "sdk-floor.mjs");
writeFileSync(
  sdkFloor,
  `import { S3Client, ListBucketsCommand } from ${JSON.stringify(pathToFileURL(createRequire(join(root, "apps/cli/package.json")).resolve("@aws-sdk/client-s3")).href)};
await new S3Client({ forcePathStyle: true }).send(new ListBucketsCommand({}));\n`,
);
const compareBin = process.env.IAM_RA_BENCH_CLI_COMPARE
  ? join(process.env.IAM_RA_BENCH_CLI_COMPARE, "bin/run.js")
  : undefined;
const run = async (args, cli = bin) => {
  try {
    return await exec(process.execPath, [cli, ...args, "--json", "-n", "bench"], { env });
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
  ...(compareBin
    ? ["status", "host list", "role list", "ca list"].map((command) => [
        `B: iam-ra ${command}`,
        () => run(command.split(" "), compareBin),
      ])
    : []),
];
const targets = { "iam-ra host onboard": 600 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await run(["init"]);
  await run(["role", "create", "app"]);
  await run(["host", "onboard", "first.example.com", "--role", "app", "--output-dir", join(dir, "first")]);
  if (process.env.BENCH_PROFILE) {
    // Profiling aid: one run of the named command under --cpu-prof into BENCH_PROFILE (a directory).
    await exec(
      process.execPath,
      [
        "--cpu-prof",
        `--cpu-prof-dir=${process.env.BENCH_PROFILE}`,
        bin,
        ...process.argv.slice(3),
        "--json",
        "-n",
        "bench",
      ],
      { env },
    );
    // process.exit skips the finally below: stop moto and the emulator first.
    await aws.close();
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
  await aws.close();
}
