#!/usr/bin/env node
// The two README commands (`npm run demo`, `npm test`) land here. A fresh machine has only Node and
// npm, so this installs the pinned pnpm (through npx) and the workspace, then runs the task.
// iam-ra supports the maintained Node lines (22 and 24). On an older Node (20 is end of life) it
// fetches the pinned Node 22 from the npm registry once (Linux x64/arm64, the only platforms the
// registry carries current Node builds for), and runs everything on it.
// It lives at the root only because it must run before any workspace package is installed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PNPM = ["-y", "pnpm@10.34.9"];
/** The Node fetched when the local one is older than 22 (kept in .cache/node, git-ignored). */
const PINNED_NODE = "22.23.5";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const task = process.argv[2];

if (task !== "demo" && task !== "test") {
  console.error("usage: node tools/bootstrap.mjs demo|test");
  process.exit(2);
}

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  const node = pinnedNode();
  console.error(
    `iam-ra: Node ${process.version} is older than the supported 22 and 24; running on Node ${PINNED_NODE}.`,
  );
  const result = spawnSync(node, [fileURLToPath(import.meta.url), task], {
    stdio: "inherit",
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ""}` },
  });
  process.exit(result.status ?? 1);
}

/** The pinned Node's binary, fetched with `npm pack` from the registry when not cached yet. */
function pinnedNode() {
  const arch = process.arch === "x64" || process.arch === "arm64" ? process.arch : undefined;
  if (process.platform !== "linux" || !arch) {
    console.error(
      `iam-ra: Node ${process.version} is too old (22 or 24 needed), and the npm registry has no current Node for ${process.platform}-${process.arch}.\n  hint: install Node 22 or 24 (https://nodejs.org), then run this again.`,
    );
    process.exit(1);
  }
  const dir = join(root, ".cache", "node", `${PINNED_NODE}-linux-${arch}`);
  const bin = join(dir, "package", "bin", "node");
  if (existsSync(bin)) return bin;
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const pack = spawnSync("npm", ["pack", "--silent", `node-linux-${arch}@${PINNED_NODE}`], {
    cwd: partial,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const tarball = pack.stdout?.trim().split("\n").at(-1);
  if (pack.status !== 0 || !tarball) {
    console.error(`iam-ra: could not fetch node-linux-${arch}@${PINNED_NODE} from the npm registry.`);
    process.exit(1);
  }
  const untar = spawnSync("tar", ["-xzf", tarball], { cwd: partial, stdio: "inherit" });
  if (untar.status !== 0 || !existsSync(join(partial, "package", "bin", "node"))) {
    console.error(`iam-ra: the node-linux-${arch}@${PINNED_NODE} package did not unpack.`);
    process.exit(1);
  }
  rmSync(join(partial, tarball), { force: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return bin;
}

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

run(["install", "--frozen-lockfile", "--reporter=append-only"]);
if (task === "demo") run(["--filter", "@iam-ra/cli", "run", "demo"]);
else run(["exec", "turbo", "run", "typecheck", "lint", "test", "--concurrency=2"]);
