// Bundles the sidecar into single files (no node_modules at run time): dist/main.js is the
// process the image runs; dist/webhook.js the admission webhook (same image). The server itself is
// @iam-ra/core/server; workspace packages are read from source through the "@iam-ra/source"
// condition.
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { bundleOptions } from "./bundle-options.mjs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({ ...bundleOptions, entryPoints: { main: "src/main.ts" }, outdir: "dist" });
await build({ ...bundleOptions, entryPoints: { webhook: "src/webhook.ts" }, outdir: "dist" });
chmodSync(new URL("../dist/main.js", import.meta.url), 0o755);
