#!/usr/bin/env node
// credential-process runs before every aws CLI call: it skips oclif entirely (see bench/), and
// Node's compile cache (22.1+; absent on 20) spares re-parsing the bundle on each run.
process.getBuiltinModule("node:module").enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv[0] === "credential-process" && !argv.some((a) => a === "--help" || a === "-h")) {
  const { main } = await import("../dist/credential-process.js");
  await main(argv.slice(1));
} else {
  const { execute } = await import("@oclif/core");
  await execute({ dir: import.meta.url });
}
