// Bundles the action into two self-contained files, as a JavaScript action must ship: dist/index.js
// (runs.main) and dist/post.js (runs.post). Every dependency is inside; workspace packages are read
// from source through the "@iam-ra/source" condition. dist/package.json marks the bundles as
// CommonJS, so the published action folder works without the workspace's package.json, and
// dist/licenses.txt carries the license of every package bundled in.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = fileURLToPath(new URL("..", import.meta.url));

// node-forge (PKCS#12 support) was four fifths of the bundle but only runs for a .p12 input.
// Inlined as code, V8 parses all of it at every start (about 10 ms on Node 24; even as a plain
// template literal, about 4 ms). So it is bundled on its own as minified CommonJS, gzipped into a
// base64 string literal (a scan of ~100 KiB), and unpacked and compiled only when the PKCS#12
// module first loads (reached through a dynamic import, so esbuild initialises it lazily). Each
// step stays a single file.
const lazyForge = {
  name: "lazy-node-forge",
  setup(b) {
    b.onResolve({ filter: /^node-forge$/ }, async (args) => {
      if (args.pluginData?.plain) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: { plain: true },
      });
      // Relative, so no path of the build machine ends up in the bundle.
      return { path: relative(here, resolved.path), namespace: "lazy-node-forge" };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-node-forge" }, async (args) => {
      const inner = await build({
        absWorkingDir: here,
        entryPoints: [join(here, args.path)],
        bundle: true,
        write: false,
        format: "cjs",
        platform: "node",
        target: "node20",
        minify: true,
        legalComments: "none",
        metafile: true,
        logLevel: "warning",
      });
      lazyInputs.push(...Object.keys(inner.metafile.inputs));
      // Gzipped and base64: a plain string literal a fifth of the size, which V8 scans in no time.
      const packed = gzipSync(inner.outputFiles[0].contents, { level: 9 }).toString("base64");
      return {
        loader: "js",
        resolveDir: here,
        contents: `import { compileFunction } from "node:vm";
import { createRequire } from "node:module";
import { gunzipSync } from "node:zlib";
const source = gunzipSync(Buffer.from(${JSON.stringify(packed)}, "base64")).toString("utf8");
const module = { exports: {} };
compileFunction(source, ["module", "exports", "require"], { filename: "node-forge.cjs" })(
  module, module.exports, createRequire(import.meta.url));
export default module.exports;`,
      };
    });
  },
};
/** Files bundled into the lazily compiled node-forge (for the license list). */
const lazyInputs = [];

// @actions/core re-exports its job-summary, platform and OIDC modules, whose top-level code loads
// fs/promises (and with it readline), child_process and assert; this action uses none of them. Each
// is replaced by a module that says so if ever called.
const withoutUnusedCoreParts = {
  name: "without-unused-actions-core-parts",
  setup(b) {
    b.onResolve({ filter: /^\.\/(summary|platform|oidc-utils)\.js$/ }, (args) =>
      /@actions[/\\]core[/\\]/.test(args.importer)
        ? { path: args.path, namespace: "core-part-stub" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "core-part-stub" }, (args) => {
      const unavailable = `() => { throw new Error("${args.path} of @actions/core is not bundled into iam-ra-action"); }`;
      const contents = {
        "./summary.js": `const summary = new Proxy({}, { get: ${unavailable} });\nexport { summary, summary as markdownSummary };`,
        "./platform.js": `export const getDetails = ${unavailable};`,
        "./oidc-utils.js": `export class OidcClient { static getIDToken = ${unavailable}; }`,
      }[args.path];
      return { loader: "js", contents };
    });
  },
};

const dist = new URL("../dist/", import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
const result = await build({
  absWorkingDir: here,
  entryPoints: { index: "src/index.ts", post: "src/post.ts" },
  outdir: "dist",
  bundle: true,
  // CommonJS: Node starts it without its ES module loader, and built-ins come through require()
  // (an ES import of one builds a facade that reads every export: all of WebCrypto for
  // node:crypto, fs/promises and readline for node:fs). About 4 ms less per start on Node 24.
  format: "cjs",
  // What the bundled ES modules ask of import.meta (createRequire), from __filename.
  define: { "import.meta.url": "__iamRaModuleUrl" },
  inject: [join(here, "scripts/module-url.js")],
  platform: "node",
  // The runner uses Node 24 (runs.using); node20 keeps the bundle runnable by the tests on Node 20.
  target: "node20",
  conditions: ["@iam-ra/source"],
  plugins: [withoutUnusedCoreParts, lazyForge],
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
writeFileSync(new URL("package.json", dist), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

/** The package.json directory of a bundled file under node_modules. */
function packageDirOf(file) {
  for (let dir = dirname(join(here, file)); dir.includes("node_modules"); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) {
      const { name } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (name) return dir;
    }
  }
  return undefined;
}
const packages = new Map();
// Only what made it into an output: inputs that tree-shaking dropped are not shipped.
const shipped = new Set([
  ...Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, use]) => use.bytesInOutput > 0)
      .map(([file]) => file),
  ),
  ...lazyInputs,
]);
for (const file of shipped) {
  const dir = packageDirOf(file);
  if (!dir) continue;
  const { name, version, license } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const licenseFile = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  packages.set(`${name}@${version}`, {
    license: typeof license === "string" ? license : "see the license text",
    text: licenseFile
      ? readFileSync(join(dir, licenseFile), "utf8").trim()
      : "(no license file in the package)",
  });
}
writeFileSync(
  new URL("licenses.txt", dist),
  `Third-party packages bundled into dist/index.js and dist/post.js.\n\n${[...packages]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, p]) => `${"=".repeat(78)}\n${id} (${p.license})\n${"=".repeat(78)}\n${p.text}\n`)
    .join("\n")}`,
);
console.log(`dist/licenses.txt: ${packages.size} packages`);
for (const file of ["index.js", "post.js"]) {
  const kib = (statSync(new URL(file, dist)).size / 1024).toFixed(0);
  console.log(`dist/${file}: ${kib} KiB`);
}
