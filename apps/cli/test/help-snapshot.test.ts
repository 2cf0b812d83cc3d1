import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { BIN } from "./helpers/setup.ts";

// `--help` and `--version` answer without loading oclif (bin/run.js, dist/help.json): every page
// must be what oclif itself prints.
const exec = promisify(execFile);
const { pages } = JSON.parse(readFileSync(new URL("../dist/help.json", import.meta.url), "utf8")) as {
  pages: Record<string, string>;
};
const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  (await exec(process.execPath, [BIN, ...argv], { env: { ...process.env, ...env } })).stdout;

describe("help and version without oclif", () => {
  it("holds the root, every topic and every command", () => {
    expect(Object.keys(pages)).toEqual(
      expect.arrayContaining(["", "host", "host:onboard", "k8s:webhook:install"]),
    );
    expect(Object.keys(pages).length).toBeGreaterThan(40);
  });

  it.concurrent.each(Object.keys(pages))("%s --help is oclif's page", async (key) => {
    const argv = [...(key ? key.split(":") : []), "--help"];
    // OCLIF_COLUMNS sends the call through oclif (the snapshot is only used at its own width).
    const fromOclif = await run(argv, { OCLIF_COLUMNS: "80", NO_COLOR: "1" });
    expect(await run(argv)).toBe(fromOclif);
  });

  it("-h is --help everywhere: after a topic, a command, or a command's arguments and flags", async () => {
    const hostList = pages["host:list"]!;
    expect(await run(["host", "list", "-h"])).toBe(hostList);
    expect(await run(["host", "list", "-h"], { OCLIF_COLUMNS: "80", NO_COLOR: "1" })).toBe(hostList);
    // An argument in front: oclif answers (the snapshot only holds bare pages), with the same page.
    expect(await run(["host", "onboard", "web-1", "-h"], { NO_COLOR: "1" })).toBe(pages["host:onboard"]);
    expect(await run(["host", "onboard", "web-1", "--namespace", "prod", "-h"], { NO_COLOR: "1" })).toBe(
      pages["host:onboard"],
    );
    expect(await run(["host", "-h"])).toBe(pages.host);
  });

  it("--version is oclif's line", async () => {
    const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
    expect(await run(["--version"])).toBe(
      `@iam-ra/cli/${version} ${process.platform}-${process.arch} node-${process.version}\n`,
    );
  });
});
