import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ACTION_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Bundles an entry that uses src/exit.ts and runs it in a child Node, stdout a pipe as on a runner. */
async function runEntry(entry: string) {
  const bundled = await build({
    stdin: { contents: entry, resolveDir: ACTION_DIR, loader: "ts" },
    bundle: true,
    platform: "node",
    format: "cjs",
    write: false,
    logLevel: "silent",
  });
  const result = spawnSync(process.execPath, ["-e", bundled.outputFiles[0]!.text], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return { code: result.status, stdout: result.stdout };
}

describe("runStep", () => {
  it("exits 0 after a step that succeeds, with all of its output", async () => {
    const { code, stdout } = await runEntry(`
      import { runStep } from "./src/exit.ts";
      runStep(async () => { process.stdout.write("x".repeat(1 << 20) + "\\nend\\n"); }, () => {});`);
    expect(code).toBe(0);
    expect(stdout.endsWith("\nend\n")).toBe(true);
    expect(stdout.length).toBe((1 << 20) + 5);
  });

  it("exits with the code the failure report set", async () => {
    const { code, stdout } = await runEntry(`
      import { runStep } from "./src/exit.ts";
      runStep(async () => { throw new Error("boom"); }, (error) => {
        process.stdout.write("::error::" + error.message + "\\n");
        process.exitCode = 1;
      });`);
    expect(code).toBe(1);
    expect(stdout).toBe("::error::boom\n");
  });

  it("still fails the step when reporting the failure throws", async () => {
    const { code, stdout } = await runEntry(`
      import { runStep } from "./src/exit.ts";
      runStep(async () => { throw Object.create(null); }, (error) => { String(error); });`);
    expect(code).toBe(1);
    expect(stdout).toBe("::error::The step failed, and reporting the failure failed too.\n");
  });
});
