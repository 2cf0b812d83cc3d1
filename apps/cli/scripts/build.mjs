// Bundles the CLI. Workspace packages are read from source through the "@iam-ra/source" condition
// and bundled in, and so is every published dependency but @oclif/core and pkcs11js.
// - dist/index.js (+ chunks): the oclif commands.
// - dist/credential-process-miss.js (+ its own chunks): the credential-process work after a miss.
// - dist/credential-process.cjs: the fast path, ONE self-contained CommonJS module (flags, cache
//   lookup), so a cache hit loads a single file without the ES module loader; a miss imports
//   credential-process-miss.js.
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
const common = {
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@iam-ra/source"],
  // Everything is bundled but oclif (loaded by its own rules) and the optional native PKCS#11
  // binding: an install is the CLI and oclif, not the AWS SDK's ~200 MB of per-client packages.
  external: ["@oclif/core", "pkcs11js"],
  banner: {
    js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
};
await build({ ...common, entryPoints: { index: "src/index.ts" }, splitting: true });
// The miss path is built on its own: chunks shared with the oclif commands would make every
// cache miss load (and compile) admin code it never runs.
await build({
  ...common,
  entryPoints: { "credential-process-miss": "src/services/credential-process.ts" },
  splitting: true,
});
await build({
  ...common,
  // CommonJS, required by the CommonJS bin/run.js: a cache hit never starts the ES module loader.
  format: "cjs",
  banner: {},
  entryPoints: { "credential-process": "src/fast/credential-process.ts" },
  outExtension: { ".js": ".cjs" },
  // The miss path's import.meta is in modules tree-shaking drops from this bundle.
  logOverride: { "empty-import-meta": "silent" },
  plugins: [
    {
      name: "miss-path-stays-out",
      setup(b) {
        b.onResolve({ filter: /\/services\/credential-process\.ts$/ }, () => ({
          path: "./credential-process-miss.js",
          external: true,
        }));
      },
    },
  ],
});
// Pre-rendered help, so `--help` answers without loading oclif.
await import("./help-snapshot.mjs");
