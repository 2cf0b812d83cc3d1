#!/usr/bin/env node
// Benchmark (not a test): the CLI's start-up, each row a median wall time over interleaved rounds and
// its ratio to `node -e 0` measured in the same rounds (the floor). Targets (issue 17): --version and
// --help <= 2x; a command's parse and dispatch before its own work <= 2.5x (the admin rows add the
// command's input checks, its first work).
// Run after a build of the CLI:  node bench/cli-startup.mjs [rounds]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "apps/cli/bin/run.js");
const rounds = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), "iam-ra-bench-startup-"));
const env = { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1" };
const rows = [
  ["node -e 0 (floor)", ["-e", "0"]],
  ["iam-ra --version", [bin, "--version"]],
  ["iam-ra --help", [bin, "--help"]],
  ["iam-ra host onboard --help", [bin, "host", "onboard", "--help"]],
  ["iam-ra --help through oclif", [bin, "--help"], { OCLIF_COLUMNS: "80" }],
  ["iam-ra profile list (parse + dispatch)", [bin, "profile", "list", "--config-file", join(dir, "none")]],
  // Admin commands up to their input checks, which refuse these before any AWS call (exit 1).
  ["iam-ra host list (… + input check)", [bin, "host", "list", "-n", "Bad_NS"], {}, 1],
  ["iam-ra k8s onboard (… + input check)", [bin, "k8s", "onboard", "Bad_Name", "-c", "x", "-k", "y"], {}, 1],
];
const times = rows.map(() => []);
try {
  for (let r = 0; r < rounds + 2; r++) {
    rows.forEach(([, args, extra, status = 0], i) => {
      const started = process.hrtime.bigint();
      const result = spawnSync(process.execPath, args, { env: { ...env, ...extra }, stdio: "ignore" });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== status) throw new Error(`${rows[i][0]} exited ${result.status}`);
      if (r >= 2) times[i].push(ms); // two warm-up rounds
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = median(times[0]);
console.log(
  `node ${process.version}, ${rounds} interleaved rounds, medians; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
rows.forEach(([label], i) => {
  const m = median(times[i]);
  console.log(`${label.padEnd(40)} ${m.toFixed(0).padStart(5)} ms  ${(m / floor).toFixed(2)}x`);
});
