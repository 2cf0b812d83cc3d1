#!/usr/bin/env node
// CommonJS (bin/package.json), so a credential-process cache hit never starts Node's ES module
// loader: credential_process runs before every aws CLI call (see bench/). It skips oclif entirely,
// and Node's compile cache (22.1+; absent on 20) spares re-parsing bundles on each run.
"use strict";
require("node:module").enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv[0] === "credential-process" && !argv.some((a) => a === "--help" || a === "-h")) {
  require("../dist/credential-process.cjs").main(argv.slice(1));
} else {
  // The package root (one up from bin/), where oclif reads package.json.
  require("@oclif/core").execute({ dir: require("node:path").join(__dirname, "..", "package.json") });
}
