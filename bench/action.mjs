#!/usr/bin/env node
// Benchmark (not a test): the GitHub Action's main step, `node dist/index.js` run the way the runner
// runs it (INPUT_* variables, GITHUB_ENV/GITHUB_OUTPUT/GITHUB_STATE files): CreateSession,
// GetCallerIdentity, file commands. Timed from process start to the credentials exported (the last
// write to GITHUB_ENV, seen through a file watch) and to exit, each compared with a whole
// `node -e 0` run (the floor) in the same run, samples interleaved, medians (target <= 2x, for the
// former). Two yardsticks run alongside: a bare script (crypto, http, one signature, two POSTs) and a
// flat reference that does the step's protocol work without its checks (action-flat-reference.cjs).
// Also times the post step and prints the bundle sizes. The emulator runs in another process; this
// one only waits while a child runs.
// Run after the builds (`npx -y pnpm@10.34.9 -r run build`):  node bench/action.mjs [runs]
// IAM_RA_BENCH_ACTION_DIST=<dir> times another build of the action instead of apps/action/dist.
// IAM_RA_BENCH_ACTION_COMPARE=<dir> also times a second build (B) interleaved with the first (A),
// alternating which goes first, and prints the median of the paired differences B - A: the way to
// tell a 1-2 ms change from the machine's noise (use 40 runs or more).
// BENCH_INSTRUCTIONS=<runs> counts the instructions each program executes instead (valgrind):
// deterministic where wall time is not, for comparing builds.
// BENCH_PROFILE=<dir> writes a CPU profile of one main step there instead (50 µs samples; extra node
// flags for that run in BENCH_PROFILE_ARGS).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const runs = Number(process.argv[2] ?? 20);
// IAM_RA_BENCH_ACTION_DIST: another build of the action to time (comparing builds).
const distDir = process.env.IAM_RA_BENCH_ACTION_DIST ?? join(root, "apps/action/dist");
const compareDir = process.env.IAM_RA_BENCH_ACTION_COMPARE || undefined;
for (const [file, build] of [
  ["packages/emulator/dist/index.js", "npx -y pnpm@10.34.9 -r run build"],
  ["apps/action/dist/index.js", "npx -y pnpm@10.34.9 --filter @iam-ra/action run build"],
]) {
  try {
    statSync(join(root, file));
  } catch {
    console.error(`bench: build first: ${build}`);
    process.exit(2);
  }
}

// The emulator process: sets up a trust anchor, profile and role, prints them with a leaf
// certificate as one JSON line, then serves and logs each request's duration to a file (written
// synchronously, so this process can read it between its blocking child runs).
const EMULATOR = `
  import { appendFileSync } from "node:fs";
  const [emulatorDist, testingDist, logFile] = process.argv.slice(1);
  const { startEmulator, setUpRolesAnywhere, createBoundTrustPolicy } = await import(emulatorDist);
  const { createTestPki } = await import(testingDist);
  const emu = await startEmulator({ logger: (e) => appendFileSync(logFile, JSON.stringify(e) + "\\n") });
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({
    subject: "CN=bench,OU=bench", issuer: "root", notAfter: new Date(Date.now() + 90 * 86_400_000),
  });
  const roleArn = "arn:aws:iam::123456789012:role/bench";
  const setUp = await setUpRolesAnywhere(emu, {
    caCertificatePem: pki.root.certificatePem,
    roles: [{ roleArn, trustPolicy: createBoundTrustPolicy("bench") }],
  });
  process.stdout.write(JSON.stringify({ url: emu.url, roleArn, ...setUp, certificatePem: leaf.certificatePem,
    privateKeyPem: leaf.privateKeyPem }) + "\\n");
  process.on("SIGTERM", () => emu.close().then(() => process.exit(0)));`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * BENCH_INSTRUCTIONS=<runs>: instead of wall time, the instructions each program executes in user
 * space (valgrind's callgrind), medians of <runs> runs: the floor, the bare script, the flat
 * reference and the step (and the second build). Deterministic to about 2%, where wall-clock
 * medians on a shared machine move by more than the 1-2 ms a change makes; it counts CPU work
 * only (no waiting, no contention). Needs valgrind; Debian's `valgrind` is a shell script that
 * drops the runner's `INPUT_PRIVATE-KEY`-style variables, so its `valgrind.bin` runs directly.
 */
function instructionTable({ env, bareEnv, bare, flat, reset, exportedTo }) {
  const k = Math.max(1, Number(process.env.BENCH_INSTRUCTIONS) || 3);
  const valgrind =
    ["/usr/bin/valgrind.bin", "/usr/lib/valgrind/valgrind.bin"].find((p) => existsSync(p)) ?? "valgrind";
  const count = (args, runEnv, mustExport) => {
    reset();
    const r = spawnSync(
      valgrind,
      ["--tool=callgrind", "--callgrind-out-file=/dev/null", process.execPath, ...args],
      {
        env: runEnv,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const collected = /Collected : (\d+)/.exec(r.stderr ?? "")?.[1];
    if (r.error || r.status !== 0 || !collected) {
      throw new Error(
        `valgrind ${args.at(-1)}: ${r.error?.message ?? `exit ${r.status}`}\n${(r.stderr ?? "").slice(-800)}`,
      );
    }
    if (mustExport && !/^AWS_SECRET_ACCESS_KEY<</m.test(readFileSync(exportedTo, "utf8"))) {
      throw new Error(`${args.at(-1)} exported no credentials under valgrind`);
    }
    return Number(collected) / 1e6;
  };
  const programs = [
    ["node -e 0 (floor)", ["-e", "0"], env, false],
    ["bare floor (crypto, http, sign, 2 POSTs)", ["-e", bare], bareEnv, false],
    ["flat reference (same work, no checks)", [flat], env, true],
    ["main step", [join(distDir, "index.js")], env, true],
    ...(compareDir ? [["B: main step", [join(compareDir, "index.js")], env, true]] : []),
  ];
  const counts = programs.map(() => []);
  // Interleaved like the timed runs, so anything that drifts hits every program alike.
  for (let i = 0; i < k; i++) {
    for (const [j, [, args, runEnv, mustExport]] of programs.entries()) {
      counts[j].push(count(args, runEnv, mustExport));
    }
  }
  const floor = median(counts[0]);
  console.log(`node ${process.version}, instructions (callgrind), ${k} runs each, interleaved, medians`);
  programs.forEach(([label], j) => {
    const m = median(counts[j]);
    const spread = `${Math.min(...counts[j]).toFixed(1)}-${Math.max(...counts[j]).toFixed(1)}`;
    console.log(
      `${label.padEnd(44)}${m.toFixed(1).padStart(7)} M  ${(m / floor).toFixed(2)}x floor  (${spread})`,
    );
  });
}

/**
 * Runs `node ...args` and resolves with the milliseconds to its end (exited, stdio closed) and,
 * with `watched`, to the last change of that file. Fails on a non-zero exit, and when the watch
 * missed the file's last write (its size at the last event must be its final size).
 */
function timed(args, options, watched) {
  return new Promise((resolve, reject) => {
    let changed;
    let seenSize = -1;
    const watcher = watched
      ? watch(watched, () => {
          changed = performance.now();
          seenSize = statSync(watched).size;
        }).on("error", reject)
      : undefined;
    const start = performance.now();
    const child = spawn(process.execPath, args, options);
    child.stdout?.resume();
    child.on("error", reject);
    child.on("close", (code) => {
      const end = performance.now();
      if (code !== 0) {
        watcher?.close();
        reject(new Error(`node ${args.join(" ").slice(0, 60)} exited with ${code}`));
        return;
      }
      if (!watcher) return resolve({ wall: end - start });
      // Events already queued are delivered before this timer fires.
      setTimeout(() => {
        watcher.close();
        if (seenSize !== statSync(watched).size) reject(new Error(`the watch missed a write to ${watched}`));
        else resolve({ wall: end - start, changed: changed - start });
      }, 20);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-action-"));
const logFile = join(dir, "emulator.log");
writeFileSync(logFile, "");
const emulator = spawn(
  process.execPath,
  [
    "--input-type=module",
    "-e",
    EMULATOR,
    join(root, "packages/emulator/dist/index.js"),
    join(root, "packages/core/dist/testing/index.js"),
    logFile,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
/** Stops the emulator and removes the run's files: at the end, and before an early exit. */
const cleanUp = () => {
  emulator.kill();
  rmSync(dir, { recursive: true, force: true });
};
try {
  const world = await new Promise((resolve, reject) => {
    let out = "";
    emulator.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out));
    });
    emulator.once("exit", (code) => reject(new Error(`the emulator exited (${code})`)));
  });
  const files = {
    GITHUB_ENV: join(dir, "env"),
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STATE: join(dir, "state"),
  };
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    RUNNER_TEMP: dir,
    ...files,
    INPUT_CERTIFICATE: world.certificatePem,
    "INPUT_PRIVATE-KEY": world.privateKeyPem,
    "INPUT_TRUST-ANCHOR-ARN": world.trustAnchorArn,
    "INPUT_PROFILE-ARN": world.profileArn,
    "INPUT_ROLE-TO-ASSUME": world.roleArn,
    INPUT_ENDPOINT: world.url,
    "INPUT_STS-ENDPOINT": world.url,
    "INPUT_ROLE-DURATION-SECONDS": "3600",
    "INPUT_RETRY-MAX-ATTEMPTS": "12",
  };
  const resetFiles = () => {
    for (const file of Object.values(files)) writeFileSync(file, "");
  };
  let logOffset = 0;
  /** Milliseconds the emulator spent serving the requests logged since the last call. */
  const serverMs = () => {
    const text = readFileSync(logFile, "utf8");
    const lines = text.slice(logOffset).split("\n").filter(Boolean);
    logOffset = text.length;
    return lines.reduce((sum, line) => sum + (JSON.parse(line).durationMs ?? 0), 0);
  };
  const main = (dist = distDir) => {
    resetFiles();
    return timed(
      [join(dist, "index.js")],
      // stdout a pipe, as on a runner (which reads the workflow commands from it).
      { env, stdio: ["ignore", "pipe", "inherit"] },
      files.GITHUB_ENV,
    );
  };

  // Warm-up, and a check that the step really exported credentials.
  for (const dist of compareDir ? [compareDir, distDir] : [distDir]) {
    await main(dist);
    if (!/^AWS_SECRET_ACCESS_KEY<</m.test(readFileSync(files.GITHUB_ENV, "utf8"))) {
      throw new Error(`the action in ${dist} exported no credentials`);
    }
  }
  if (process.env.BENCH_PROFILE) {
    // Profiling aid: one run of the main step under --cpu-prof (50 µs samples) into BENCH_PROFILE.
    resetFiles();
    await timed(
      [
        ...(process.env.BENCH_PROFILE_ARGS ?? "").split(" ").filter(Boolean),
        "--cpu-prof",
        `--cpu-prof-dir=${process.env.BENCH_PROFILE}`,
        "--cpu-prof-interval=50",
        join(distDir, "index.js"),
      ],
      { env, stdio: ["ignore", "pipe", "inherit"] },
    );
    cleanUp();
    process.exit(0);
  }
  // The runner hands the main step's saved state to the post step as STATE_<name>.
  const saved = /^exported<<(\S+)\n(.*)\n\1$/m.exec(readFileSync(files.GITHUB_STATE, "utf8"))?.[2];
  if (!saved) throw new Error("the action saved no state for its post step");
  const postEnv = { PATH: process.env.PATH, ...files, STATE_exported: saved };
  const post = () => {
    resetFiles();
    return timed([join(distDir, "post.js")], { env: postEnv, stdio: "ignore" });
  };
  serverMs();

  // Interleaved, so drift in machine load hits the floor and the steps alike.
  // What no implementation can avoid: a bare CommonJS script that loads crypto and http, parses the
  // key, signs once and makes two POSTs to the emulator on one connection (no protocol, no checks,
  // no output files). The distance between it and the step is what the action's own code costs.
  const BARE = `
    const crypto = require("node:crypto"), http = require("node:http");
    const key = crypto.createPrivateKey(process.env.BENCH_KEY);
    const signature = crypto.sign("sha256", Buffer.from("string to sign"), key).toString("hex");
    const post = () => new Promise((resolve, reject) => {
      const req = http.request(process.env.BENCH_URL + "/sessions", { method: "POST",
        headers: { "content-type": "application/json", "x-bench": signature } }, (res) => {
        res.resume(); res.on("end", resolve); });
      req.on("error", reject); req.end("{}");
    });
    post().then(post);`;
  const bareEnv = { ...env, BENCH_KEY: world.privateKeyPem, BENCH_URL: world.url };
  const bare = [];
  // The same protocol work as the step, written flat without checks (bench/action-flat-reference.cjs):
  // checked once here to really export credentials, then timed with the others.
  const FLAT = join(root, "bench/action-flat-reference.cjs");
  const flatRun = () => {
    resetFiles();
    return timed([FLAT], { env, stdio: ["ignore", "pipe", "inherit"] });
  };
  await flatRun();
  if (!/^AWS_SECRET_ACCESS_KEY<</m.test(readFileSync(files.GITHUB_ENV, "utf8"))) {
    throw new Error("the flat reference exported no credentials");
  }
  serverMs();
  if (process.env.BENCH_INSTRUCTIONS) {
    instructionTable({
      env,
      bareEnv,
      bare: BARE,
      flat: FLAT,
      reset: resetFiles,
      exportedTo: files.GITHUB_ENV,
    });
    cleanUp();
    process.exit(0);
  }
  const flat = [];
  const floor = [];
  const exported = [];
  const wall = [];
  const own = [];
  const server = [];
  const postWall = [];
  // With a second build: its times and the paired differences B - A.
  const b = { exported: [], wall: [], diffExported: [], diffWall: [] };
  const runB = async () => {
    const step = await main(compareDir);
    serverMs(); // B's requests are not A's
    b.exported.push(step.changed);
    b.wall.push(step.wall);
    return step;
  };
  for (let i = 0; i < runs; i++) {
    // Same environment as the step: an inherited NODE_EXTRA_CA_CERTS alone adds ~50 ms to a
    // Node 20 start, which would flatter the ratio.
    floor.push((await timed(["-e", "0"], { env, stdio: "ignore" })).wall);
    bare.push((await timed(["-e", BARE], { env: bareEnv, stdio: "ignore" })).wall);
    serverMs(); // the bare script's requests are not the step's
    flat.push((await flatRun()).wall);
    serverMs(); // nor are the flat reference's
    const before = compareDir && i % 2 === 1 ? await runB() : undefined;
    const step = await main();
    const served = serverMs();
    const other = compareDir ? (before ?? (await runB())) : undefined;
    if (other) {
      b.diffExported.push(other.changed - step.changed);
      b.diffWall.push(other.wall - step.wall);
    }
    exported.push(step.changed);
    wall.push(step.wall);
    server.push(served);
    own.push(step.wall - served);
    postWall.push((await post()).wall);
  }
  const f = median(floor);
  const size = (file) => {
    const bytes = readFileSync(join(distDir, file));
    return `${(bytes.length / 1024).toFixed(0)} KiB (${(gzipSync(bytes).length / 1024).toFixed(0)} KiB gzip)`;
  };
  const row = (label, ms, note = "") =>
    console.log(`${label.padEnd(44)}${ms.toFixed(1).padStart(6)} ms  ${(ms / f).toFixed(2)}x floor${note}`);

  console.log(`node ${process.version}, ${runs} runs each, interleaved, medians`);
  console.log(`${"node -e 0 (floor)".padEnd(44)}${f.toFixed(1).padStart(6)} ms`);
  // The target compares the step up to its export with a whole `node -e 0` run, exit included.
  row("main step, start to credentials exported", median(exported), " (target <= 2x)");
  row("main step, start to exit", median(wall));
  console.log(
    `${"  of which the emulator serving 2 calls".padEnd(44)}${median(server).toFixed(1).padStart(6)} ms`,
  );
  row("  the action's own time (exit - emulator)", median(own));
  if (compareDir) {
    const diff = (label, xs) =>
      console.log(
        `${label.padEnd(44)}${median(xs).toFixed(1).padStart(6)} ms  (${(median(xs) / f).toFixed(3)}x floor)`,
      );
    console.log(`B = ${compareDir}`);
    row("B: main step, start to credentials exported", median(b.exported));
    row("B: main step, start to exit", median(b.wall));
    diff("B - A paired, to credentials exported", b.diffExported);
    diff("B - A paired, to exit", b.diffWall);
  }
  row("bare floor (crypto, http, sign, 2 POSTs)", median(bare));
  row("flat reference (same work, no checks)", median(flat));
  row("post step, variables cleared", median(postWall));
  console.log(`bundle: dist/index.js ${size("index.js")}, dist/post.js ${size("post.js")}`);
} finally {
  cleanUp();
}
