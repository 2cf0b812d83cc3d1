#!/usr/bin/env node
// The two README commands (`npm run demo`, `npm test`) land here. A fresh machine has only Node and
// npm, so this installs the pinned pnpm (through npx) and the workspace, then runs the task.
// It lives at the root only because it must run before any workspace package is installed.
import { spawnSync } from "node:child_process";

const PNPM = ["-y", "pnpm@10.34.9"];
const task = process.argv[2];
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
  // Part of turbo's cache key (turbo.json globalEnv), so a run on another Node is not a cache hit.
  IAM_RA_NODE_VERSION: process.version,
};

function run(args) {
  const result = spawnSync("npx", [...PNPM, ...args], { stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (task !== "demo" && task !== "test") {
  console.error("usage: node tools/bootstrap.mjs demo|test");
  process.exit(2);
}
run(["install", "--frozen-lockfile", "--reporter=append-only"]);
if (task === "demo") run(["--filter", "@iam-ra/cli", "run", "demo"]);
else run(["exec", "turbo", "run", "typecheck", "lint", "test", "--concurrency=2"]);
