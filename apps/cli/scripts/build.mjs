// Bundles the CLI. Workspace packages are read from source through the "@iam-ra/source" condition
// and bundled in, and so is every published dependency but @oclif/core and pkcs11js.
// - dist/index.js (+ chunks): the oclif commands (COMMANDS), for oclif's own loading and the scripts.
// - dist/commands/<topic>-<verb>.js: one entry per command exporting COMMANDS with that command only,
//   and dist/commands.json (id -> entry); bin/run.js points oclif at the one entry it runs, so a
//   command loads its own code and never the other commands' (the admin plane, the Kubernetes models).
// - oclif.manifest.json: every command's metadata, so oclif's config load imports no command.
// - dist/credential-process-miss.js (+ its own chunks): the credential-process work after a miss.
// - dist/credential-process.cjs: the fast path, ONE self-contained CommonJS module (flags, cache
//   lookup), so a cache hit loads a single file without the ES module loader; a miss imports
//   credential-process-miss.js.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Config } from "@oclif/core";
import { build } from "esbuild";
import { builtinsThroughRequire } from "../../../tools/esbuild-builtins.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
rmSync(new URL("../oclif.manifest.json", import.meta.url), { force: true });
const common = {
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // The SDK's ES modules (dist-es) rather than its CommonJS (dist-cjs): tree-shaken, a command that
  // sends one S3 call loads that command's code, not the whole client package. `mainFields` picks
  // them for a package without an exports map; `module` for one with it (@smithy/core's subpaths):
  // esbuild drops that condition once any custom condition is set, and then takes `node`, the
  // CommonJS build, wrapped and copied export by export into ES modules at every start (~20 ms of
  // an S3 client's load on Node 24).
  conditions: ["@iam-ra/source", "module"],
  mainFields: ["module", "main"],
  // Everything is bundled but oclif (loaded by its own rules) and the optional native PKCS#11
  // binding: an install is the CLI and oclif, not the AWS SDK's ~200 MB of per-client packages.
  external: ["@oclif/core", "pkcs11js"],
  // A Kubernetes-schema dependency requires Node's deprecated `punycode` built-in (DEP0040, a
  // warning on stderr on Node 22+): the userland package with the same API is bundled instead.
  alias: { punycode: "punycode/" },
  plugins: [builtinsThroughRequire],
  banner: {
    js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
};
// COMMANDS in src/index.ts is the one list of commands: each `id: Class` with the class's import.
const index = readFileSync(new URL("../src/index.ts", import.meta.url), "utf8");
const sources = new Map(
  [...index.matchAll(/^import \{ (\w+) \} from "\.\/(commands\/[\w/-]+\.ts)";$/gm)].map((m) => [m[1], m[2]]),
);
const commandList = [...index.matchAll(/^ {2}"?([\w:-]+)"?: (\w+),$/gm)].map((m) => ({
  id: m[1],
  name: m[2],
  source: sources.get(m[2]),
  entry: `commands/${m[1].replaceAll(":", "-")}`,
}));
if (commandList.length === 0 || commandList.some((c) => !c.source))
  throw new Error("COMMANDS not understood");
await build({
  ...common,
  entryPoints: {
    index: "src/index.ts",
    ...Object.fromEntries(commandList.map((c) => [c.entry, `iam-ra-command:${c.id}`])),
  },
  splitting: true,
  plugins: [
    builtinsThroughRequire,
    {
      name: "one-command-entries",
      setup(b) {
        b.onResolve({ filter: /^iam-ra-command:/ }, (a) => ({ path: a.path, namespace: "iam-ra-command" }));
        b.onLoad({ filter: /.*/, namespace: "iam-ra-command" }, (a) => {
          const c = commandList.find((x) => `iam-ra-command:${x.id}` === a.path);
          return {
            contents: `import { ${c.name} } from "./src/${c.source}";\nexport const COMMANDS = { ${JSON.stringify(c.id)}: ${c.name} };\n`,
            resolveDir: root,
            loader: "ts",
          };
        });
      },
    },
  ],
});
writeFileSync(
  new URL("../dist/commands.json", import.meta.url),
  `${JSON.stringify(Object.fromEntries(commandList.map((c) => [c.id, `./dist/${c.entry}.js`])))}\n`,
);
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
  // No builtinsThroughRequire: a CommonJS bundle requires built-ins already, and reads an export
  // where it is used.
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
// oclif's manifest, as oclif builds it when there is none (from every command of dist/index.js).
const config = await Config.load({ root, ignoreManifest: true });
const manifest = config.getPluginsList().find((p) => p.isRoot).manifest;
writeFileSync(new URL("../oclif.manifest.json", import.meta.url), `${JSON.stringify(manifest)}\n`);
// Pre-rendered help, so `--help` answers without loading oclif.
await import("./help-snapshot.mjs");
