import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { ACTION_DIR } from "./helpers.ts";

const exec = promisify(execFile);

describe("scripts/release.mjs", () => {
  it("publishes action.yml, README.md and dist as vX.Y.Z and vX of the action repository, once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-action-repo-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const repo = join(dir, "iam-ra-action.git");
    execFileSync("git", ["init", "--quiet", "--bare", repo]);
    const { version } = JSON.parse(readFileSync(join(ACTION_DIR, "package.json"), "utf8"));
    const script = join(ACTION_DIR, "scripts/release.mjs");

    const first = await exec(process.execPath, [script, "--repo", repo, "--push", "--no-build"]);
    expect(first.stdout).toMatch(
      new RegExp(`^release: pushed v${version} and moved v${version.split(".")[0]} to [0-9a-f]{40}\\n$`),
    );
    const git = (...args: string[]) =>
      execFileSync("git", ["--git-dir", repo, ...args], { encoding: "utf8" }).trim();
    expect(git("ls-tree", "-r", "--name-only", `v${version}`).split("\n").sort()).toEqual([
      ".gitattributes",
      "README.md",
      "action.yml",
      "dist/failure.js",
      "dist/failure.js.map",
      "dist/forge.js",
      "dist/index.js",
      "dist/index.js.map",
      "dist/licenses.txt",
      "dist/package.json",
      "dist/pkcs11.js",
      "dist/pkcs11.js.map",
      "dist/pkcs12.js",
      "dist/pkcs12.js.map",
      "dist/post.js",
      "dist/post.js.map",
      "dist/profile.js",
      "dist/profile.js.map",
      "dist/proxy.js",
    ]);
    expect(git("rev-parse", `v${version}^{commit}`)).toBe(
      git("rev-parse", `v${version.split(".")[0]}^{commit}`),
    );
    expect(git("rev-parse", `v${version}^{commit}`)).toBe(git("rev-parse", "main"));
    // A checkout never rewrites the bundles' line ends.
    expect(git("show", `v${version}:.gitattributes`)).toBe("dist/** -text");
    expect(git("show", `v${version}:dist/index.js`)).toBe(
      readFileSync(join(ACTION_DIR, "dist/index.js"), "utf8").trim(),
    );

    const again = await exec(process.execPath, [script, "--repo", repo, "--push", "--no-build"]).catch(
      (e) => e,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`release: v${version} already exists in ${repo}; nothing to do.\n`);
  });
});
