// Bundles the CLI: dist/index.js (oclif commands) and dist/credential-process.js (the fast path).
// Workspace packages are read from source through the "@iam-ra/source" condition and bundled in;
// published dependencies stay external.
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { index: "src/index.ts", "credential-process": "src/fast/credential-process.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["@iam-ra/source"],
  external: ["@oclif/core", "@aws-sdk/*", "@smithy/*"],
  banner: {
    js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
