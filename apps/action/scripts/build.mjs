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

// Packages that only some runs need: node-forge (PKCS#12 input only; four fifths of the bundle)
// and https-proxy-agent with debug and its other dependencies (a proxy only). Inlined as code, V8
// pre-parses all of it at every start (node-forge alone about 10 ms on Node 24; the proxy agent
// about 1 ms of a ~60 ms step). So each is bundled on its own as minified CommonJS, gzipped, and
// appended to the output file as one base64 line comment, which V8 skips far faster than it
// scans a string literal. When first imported (through a dynamic import, so esbuild initialises
// it lazily), the module reads that line back from its own file and compiles it. Each step stays
// a single file.
const LAZY_PACKAGES = /^(node-forge|https-proxy-agent)$/;
const lazyPackages = {
  name: "lazy-packages",
  setup(b) {
    b.onResolve({ filter: LAZY_PACKAGES }, async (args) => {
      if (args.pluginData?.plain) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: { plain: true },
      });
      // Relative, so no path of the build machine ends up in the bundle.
      return { path: relative(here, resolved.path), namespace: "lazy-package", pluginData: args.path };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-package" }, async (args) => {
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
      if (inner.warnings.length > 0) throw new Error(`packing ${args.pluginData} gave warnings (above)`);
      lazyInputs.push(...Object.keys(inner.metafile.inputs));
      packedPackages.set(
        args.pluginData,
        gzipSync(inner.outputFiles[0].contents, { level: 9 }).toString("base64"),
      );
      // CommonJS, so importers get its named exports as well as the default one. The last line
      // starting with the marker is the appended one (the code holds the marker too, earlier).
      return {
        loader: "js",
        resolveDir: here,
        contents: `const { readFileSync } = require("node:fs");
const { compileFunction } = require("node:vm");
const { gunzipSync } = require("node:zlib");
const marker = ${JSON.stringify(`\n//${LAZY_MARKER}${args.pluginData}:`)};
const text = readFileSync(__filename, "latin1");
const at = text.lastIndexOf(marker) + marker.length;
// A checkout that turned the file's line ends into CRLF leaves a "\\r" before the "\\n".
const packed = text.slice(at, text.indexOf("\\n", at)).replace(/\\r$/, "");
if (!/^[A-Za-z0-9+/]+=*$/.test(packed)) {
  throw new Error("${args.pluginData} is missing from " + __filename + "; download the action again");
}
const source = gunzipSync(Buffer.from(packed, "base64")).toString("utf8");
compileFunction(source, ["module", "exports", "require"], { filename: ${JSON.stringify(`${args.pluginData}.cjs`)} })(
  module, module.exports, require);`,
      };
    });
  },
};
/** Starts each appended line, after "//": the marker, the package name and a colon. */
const LAZY_MARKER = "@iam-ra-lazy-package:";
/** The packed source of each lazy package, by name. */
const packedPackages = new Map();
/** Files bundled into the lazily compiled packages (for the license list). */
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

// @actions/core imports built-ins whole (`import * as fs from "fs"`), which a CommonJS bundle turns
// into a copy of every export, and for fs that loads fs/promises' directory support. It uses a
// handful of members, so it gets just those; os.EOL is the same constant without loading node:os.
// Each importing file is checked: a member it uses that its subset lacks fails the build.
const BUILTIN_SUBSETS = {
  os: { names: ["EOL"], contents: 'export const EOL = process.platform === "win32" ? "\\r\\n" : "\\n";' },
  fs: { names: ["appendFileSync", "existsSync"] },
  crypto: { names: ["randomUUID"] },
  path: { names: ["delimiter", "sep"] },
};
const actionsCoreBuiltins = {
  name: "actions-core-builtin-subsets",
  setup(b) {
    b.onResolve({ filter: /^(os|fs|crypto|path)$/ }, (args) => {
      if (!/@actions[/\\]core[/\\]/.test(args.importer)) return undefined;
      const { names } = BUILTIN_SUBSETS[args.path];
      const source = readFileSync(args.importer, "utf8");
      const alias = new RegExp(`import \\* as (\\w+) from ['"]${args.path}['"]`).exec(source)?.[1];
      const used = alias
        ? [...source.matchAll(new RegExp(`\\b${alias}\\.(\\w+)`, "g"))].map((m) => m[1])
        : [];
      const missing = [...new Set(used.filter((name) => !names.includes(name)))];
      if (!alias || missing.length > 0) {
        const what = alias
          ? `uses ${missing.join(", ")} of ${args.path}`
          : `imports ${args.path} in another form`;
        return { errors: [{ text: `${relative(here, args.importer)} ${what}: update BUILTIN_SUBSETS` }] };
      }
      return { path: args.path, namespace: "builtin-subset" };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-subset" }, (args) => {
      const { names, contents } = BUILTIN_SUBSETS[args.path];
      return {
        loader: "js",
        contents: contents ?? `export { ${names.join(", ")} } from "node:${args.path}";`,
      };
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
  platform: "node",
  // The runner uses Node 24 (runs.using); node20 keeps the bundle runnable by the tests on Node 20.
  target: "node20",
  conditions: ["@iam-ra/source"],
  // PKCS#11 keys need a native addon a runner does not have: the action does not ship it, and a
  // pkcs11: URI fails with the "not installed" message.
  external: ["pkcs11js"],
  plugins: [withoutUnusedCoreParts, actionsCoreBuiltins, lazyPackages],
  // Whitespace and syntax only: V8 pre-parses the whole file at every start, and this is ~30%
  // fewer bytes (about 1 ms on Node 24), while every name stays as written for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
// A warning here is a bundle that may misbehave at run time (import.meta used in CommonJS, an
// import that resolves to undefined): refuse to ship it.
// Nothing is left in dist/ then, so no half-built action can be released.
const refuse = (message) => {
  rmSync(dist, { recursive: true, force: true });
  console.error(`build: ${message}`);
  process.exit(1);
};
if (result.warnings.length > 0)
  refuse(`${result.warnings.length} warning(s) above; fix them before shipping the action`);
// Each packed package goes at the end of the bundles that load it.
const appended = new Set();
for (const file of ["index.js", "post.js"]) {
  const bundle = readFileSync(new URL(file, dist), "utf8");
  const loaded = [...packedPackages].filter(([name]) => bundle.includes(`${LAZY_MARKER}${name}:`));
  if (loaded.length === 0) continue;
  const lines = loaded.map(([name, packed]) => `//${LAZY_MARKER}${name}:${packed}\n`);
  writeFileSync(new URL(file, dist), `${bundle}${lines.join("")}`);
  for (const [name] of loaded) appended.add(name);
}
const unplaced = [...packedPackages.keys()].filter((name) => !appended.has(name));
if (unplaced.length > 0) refuse(`packed ${unplaced.join(", ")} but appended it to no bundle`);
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
