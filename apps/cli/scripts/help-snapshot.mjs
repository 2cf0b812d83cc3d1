// Renders `iam-ra --help`, every topic's and every command's help exactly as oclif prints it at 80
// columns without colour (by running the CLI), into dist/help.json. bin/run.js prints from it, so
// `--help` does not load oclif (~125 ms of start-up); anything it does not hold (`iam-ra help …`,
// flags besides --help, OCLIF_COLUMNS) still goes through oclif. Run by scripts/build.mjs.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const bin = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const pjson = JSON.parse(
  await (await import("node:fs/promises")).readFile(new URL("../package.json", import.meta.url), "utf8"),
);
const { COMMANDS } = await import("../dist/index.js");
const keys = new Set([""]);
for (const id of Object.keys(COMMANDS)) {
  if (COMMANDS[id].hidden) continue;
  keys.add(id);
  const parts = id.split(":");
  for (let i = 1; i < parts.length; i++) keys.add(parts.slice(0, i).join(":"));
}
for (const topic of Object.keys(pjson.oclif?.topics ?? {})) keys.add(topic);
const env = {
  ...process.env,
  OCLIF_COLUMNS: "80",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
  IAM_RA_HELP_SNAPSHOT: "1",
};
const pages = {};
const queue = [...keys];
await Promise.all(
  Array.from({ length: 6 }, async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      const argv = [...(key ? key.split(":") : []), "--help"];
      const page = (await exec(process.execPath, [bin, ...argv], { env, maxBuffer: 1 << 20 })).stdout;
      // The root page names the platform and Node that run it: filled in by bin/run.js.
      pages[key] = page.replaceAll(
        `${process.platform}-${process.arch} node-${process.version}`,
        "{{runtime}}",
      );
    }
  }),
);
writeFileSync(
  new URL("../dist/help.json", import.meta.url),
  `${JSON.stringify({ version: pjson.version, pages: Object.fromEntries(Object.entries(pages).sort()) })}\n`,
);
