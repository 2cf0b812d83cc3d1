#!/usr/bin/env node
// Publishes the action folder to the `iam-ra-action` repository, which is what `uses:` points at:
// one commit per release holding action.yml, README.md and the built dist/, tagged `vX.Y.Z`, with
// the major tag `vX` moved to it (the convention of GitHub Actions). The version is the one
// `changeset version` wrote into this package.json. Run from the changesets release job, after the
// build:
//
//   node scripts/release.mjs --repo https://x-access-token:${TOKEN}@github.com/iam-ra/iam-ra-action.git --push
//
// Without --push it prepares the commit and tags in a temporary clone and prints what it would push.
// --no-build uses the dist/ already there (the tests do, so as not to rebuild under other tests).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DIST_FILES } from "./dist-files.mjs";

const here = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    repo: { type: "string" },
    push: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    branch: { type: "string", default: "main" },
  },
});
if (!values.repo) {
  console.error(
    "usage: node scripts/release.mjs --repo <git url or path> [--push] [--no-build] [--branch main]",
  );
  process.exit(2);
}
const { version } = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
if (!/^\d+\.\d+\.\d+$/.test(version)) {
  console.error(`release: version "${version}" is not X.Y.Z; run \`changeset version\` first.`);
  process.exit(2);
}
const tag = `v${version}`;
const major = `v${version.split(".")[0]}`;

if (!values["no-build"])
  execFileSync(process.execPath, [join(here, "scripts/build.mjs")], { stdio: "inherit" });
for (const file of DIST_FILES.map((name) => `dist/${name}`)) {
  if (!existsSync(join(here, file))) {
    console.error(`release: ${file} is missing; build first (node scripts/build.mjs).`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), "iam-ra-action-release-"));
const git = (...args) =>
  execFileSync(
    "git",
    [
      "-c",
      `user.name=${process.env.GIT_AUTHOR_NAME ?? "iam-ra release"}`,
      "-c",
      `user.email=${process.env.GIT_AUTHOR_EMAIL ?? "release@iam-ra.invalid"}`,
      ...args,
    ],
    { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
try {
  git("init", "--quiet", "--initial-branch", values.branch);
  git("remote", "add", "origin", values.repo);
  git("fetch", "--quiet", "--tags", "origin");
  if (git("tag", "--list", tag) !== "")
    throw new Error(`${tag} already exists in ${values.repo}; nothing to do.`);
  // Continue the branch's history when there is one (the first release starts it).
  try {
    git("fetch", "--quiet", "origin", values.branch);
    git("reset", "--quiet", "--soft", "FETCH_HEAD");
  } catch {
    // an empty repository
  }
  for (const entry of readdirSync(work)) if (entry !== ".git") rmSync(join(work, entry), { recursive: true });
  for (const entry of ["action.yml", "README.md", "dist"])
    cpSync(join(here, entry), join(work, entry), { recursive: true });
  // Built files, shipped byte for byte: no checkout rewrites their line ends (nor diffs them).
  writeFileSync(join(work, ".gitattributes"), "dist/** -text\n");
  git("add", "--all");
  const source = (() => {
    try {
      return execFileSync("git", ["rev-parse", "HEAD"], {
        cwd: here,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return "unknown";
    }
  })();
  git(
    "commit",
    "--quiet",
    "--allow-empty",
    "-m",
    `iam-ra-action ${tag}`,
    "-m",
    `Built from iam-ra ${source}.`,
  );
  git("tag", "--annotate", tag, "-m", `iam-ra-action ${tag}`);
  git("tag", "--force", "--annotate", major, "-m", `iam-ra-action ${tag}`);
  const commit = git("rev-parse", "HEAD");
  if (values.push) {
    git("push", "--quiet", "origin", `HEAD:refs/heads/${values.branch}`, `refs/tags/${tag}`);
    git("push", "--quiet", "--force", "origin", `refs/tags/${major}`);
    console.log(`release: pushed ${tag} and moved ${major} to ${commit}`);
  } else {
    console.log(
      `release: prepared ${tag} (and ${major}) at ${commit} in ${work}; run with --push to publish.`,
    );
  }
} catch (error) {
  console.error(
    `release: ${error instanceof Error ? error.stderr?.toString().trim() || error.message : error}`,
  );
  process.exitCode = 1;
} finally {
  if (values.push) rmSync(work, { recursive: true, force: true });
}
