// Bundles the sidecar into single files (no node_modules at run time): dist/main.js is the
// process the Docker image runs; dist/index.js is the library `iam-ra serve` and tests import.
// Workspace packages are read from source through the "@iam-ra/source" condition.
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@iam-ra/source"],
  // The optional PKCS#11 binding is a native addon, loaded from node_modules only when asked for.
  external: ["pkcs11js"],
  banner: {
    js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
  },
  legalComments: "linked",
  logLevel: "warning",
};
await build({ ...common, entryPoints: { main: "src/main.ts" }, outdir: "dist", metafile: false });
await build({ ...common, entryPoints: { webhook: "src/webhook.ts" }, outdir: "dist" });
await build({ ...common, entryPoints: { index: "src/index.ts" }, outdir: "dist" });
chmodSync(new URL("../dist/main.js", import.meta.url), 0o755);
