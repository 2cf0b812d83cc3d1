import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const exec = promisify(execFile);

it("docs/cli-reference.md is generated from the current commands (regenerate: node scripts/cli-reference.mjs)", async () => {
  const script = fileURLToPath(new URL("../scripts/cli-reference.mjs", import.meta.url));
  const { stdout } = await exec(process.execPath, [script], { maxBuffer: 10e6 });
  const committed = readFileSync(new URL("../../../docs/cli-reference.md", import.meta.url), "utf8");
  expect(committed).toBe(stdout);
});
