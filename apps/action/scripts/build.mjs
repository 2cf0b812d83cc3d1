// Bundles the action into dist/: index.js (runs.main) and post.js (runs.post), plus the files the
// steps require only when a run needs them (MODULE_FILES and PACKAGE_FILES in dist-files.mjs).
// Workspace packages are read from source through the "@iam-ra/source" condition. dist/package.json
// marks the files as CommonJS, so the published action folder works without the workspace's
// package.json, and dist/licenses.txt carries the license of every package bundled in.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { BUNDLES, MODULE_FILES, PACKAGE_FILES } from "./dist-files.mjs";

const here = fileURLToPath(new URL("..", import.meta.url));

const fromHere = createRequire(import.meta.url);
// Both are dependencies of @iam-ra/core, resolved from there.
const corePackageJson = createRequire(join(here, "package.json")).resolve("@iam-ra/core/package.json");
const fromCore = createRequire(corePackageJson);
const coreDir = join(dirname(corePackageJson), "src");
/** Each lazily imported module's absolute path, with its file's name in dist/ (no extension). */
const moduleFileOf = new Map(
  Object.entries(MODULE_FILES).map(([path, file]) => [
    path.startsWith("core:") ? join(coreDir, path.slice(5)) : join(here, path),
    file,
  ]),
);
const lazyFiles = {
  name: "lazy-files",
  setup(b) {
    b.onResolve({ filter: /^(node-forge|https-proxy-agent)$/ }, (args) => ({
      // Relative to the requiring bundle, which sits next to it in dist/.
      path: `./${PACKAGE_FILES[args.path]}.js`,
      external: true,
    }));
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const file =
        args.kind === "dynamic-import" ? moduleFileOf.get(join(args.resolveDir, args.path)) : undefined;
      return file ? { path: `./${file}.js`, external: true } : undefined;
    });
  },
};
// @actions/core re-exports modules this action never calls (job summary, platform details, OIDC
// tokens), whose imports reach @actions/exec, @actions/http-client and undici. The package does
// not declare its modules free of side effects, so esbuild keeps them all (about 550 KiB more to
// parse at every start); this says so for what @actions/* imports, and esbuild drops what is
// unused. Measured with bench/action.mjs, A/B interleaved, 40 runs, Node 24: without it the step
// takes 37.7 ms longer to its credentials exported (median of the paired differences).
const actionsToolkitSideEffectFree = {
  name: "actions-toolkit-side-effect-free",
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.plain || !/[\\/]node_modules[\\/]@actions[\\/]/.test(args.importer))
        return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { plain: true },
      });
      return resolved.errors.length > 0 || resolved.external ? resolved : { ...resolved, sideEffects: false };
    });
  },
};
// @actions/core imports Node built-ins as namespaces (`import * as fs from "fs"`). Bundled into
// CommonJS, each such import becomes a copy of the built-in's exports, one getter per name, at
// every start: fs, crypto and os three times, and copying fs loads its directory module besides.
// This points those imports at a module that re-exports the built-in's names one by one, so each
// use (`fs.existsSync`, `os.EOL`) reads the built-in itself, as a named import does. A name that
// does not exist fails the build ("no matching export"). Measured with bench/action.mjs, A/B
// interleaved, 80–100 runs, Node 24: the step reaches its credentials exported 1–3 ms sooner (the
// spread: the ~1 ms scavenge that the smaller heap often spares).
const actionsToolkitNamedBuiltins = {
  name: "actions-toolkit-named-builtins",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      isBuiltin(args.path) && /[\\/]node_modules[\\/]@actions[\\/]/.test(args.importer)
        ? { path: args.path.replace(/^node:/, ""), namespace: "actions-builtin", sideEffects: false }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "actions-builtin" }, (args) => ({
      // The default export (which a module of @actions/core that this action drops imports) as a
      // plain require: re-exported, it would bring the copy back.
      contents: `export { ${Object.keys(fromHere(`node:${args.path}`))
        .filter((name) => name !== "default")
        .join(", ")} } from "node:${args.path}";\nexport default require("node:${args.path}");`,
      loader: "js",
    }));
  },
};

const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
const common = {
  absWorkingDir: here,
  outdir: "dist",
  bundle: true,
  // CommonJS: Node starts it without its ES module loader, and built-ins come through require()
  // (an ES import of one builds a facade that reads every export: all of WebCrypto for
  // node:crypto, fs/promises and readline for node:fs). About 4 ms less per start on Node 24.
  format: "cjs",
  platform: "node",
  // The runner uses Node 24 (runs.using); node20 keeps the bundle runnable by the tests on Node 20.
  target: "node20",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
};
// The steps and our lazily imported modules, bundled alike.
const ours = {
  ...common,
  conditions: ["@iam-ra/source"],
  plugins: [actionsToolkitNamedBuiltins, actionsToolkitSideEffectFree, lazyFiles],
  // A dynamic import() becomes a require() (in a promise): the lazy files are CommonJS, and an
  // import() would start the ES module loader for them.
  supported: { "dynamic-import": false },
  // PKCS#11 keys need a native addon a runner does not have: the action does not ship it, and a
  // pkcs11: URI fails with the "not installed" message.
  external: ["pkcs11js"],
  // V8 pre-parses the whole file at every start. Whitespace and syntax: ~30% fewer bytes (about
  // 1 ms on Node 24). Identifiers too: 68 -> 51 KiB for the main step, 2.7% fewer instructions
  // for a sign-in (BENCH_INSTRUCTIONS=5, Node 24: 212.3 -> 206.6 M) and 2.3 ms less to the
  // credentials exported (40 paired runs). The names come back from the source maps next to each
  // file (NODE_OPTIONS=--enable-source-maps); they map to the sources of the tagged version.
  minify: true,
  sourcemap: "linked",
  sourcesContent: false,
};
const steps = await build({ ...ours, entryPoints: { index: "src/index.ts", post: "src/post.ts" } });
const modules = await build({
  ...ours,
  entryPoints: Object.fromEntries([...moduleFileOf].map(([path, file]) => [file, path])),
});
const bundledPackages = await build({
  ...common,
  entryPoints: Object.fromEntries(
    Object.entries(PACKAGE_FILES).map(([name, file]) => [file, fromCore.resolve(name)]),
  ),
  minify: true,
});
// A warning here is a bundle that may misbehave at run time (import.meta used in CommonJS, an
// import that resolves to undefined): refuse to ship it. Nor may a lazily imported module end up
// inside another bundle (some module imported it statically): it would be parsed at every start
// again, and run as a second copy. Nothing is left in dist/ then, so no half-built action can be
// released.
const results = [steps, modules, bundledPackages];
const warnings = results.reduce((sum, result) => sum + result.warnings.length, 0);
const inlined = Object.entries({ ...steps.metafile.outputs, ...modules.metafile.outputs }).flatMap(
  ([output, { inputs, entryPoint }]) =>
    Object.keys(inputs)
      .map((input) => join(here, input))
      .filter((input) => moduleFileOf.has(input) && input !== (entryPoint && join(here, entryPoint)))
      .map((input) => `${output} includes ${input}`),
);
if (warnings > 0 || inlined.length > 0) {
  rmSync(dist, { recursive: true, force: true });
  for (const line of inlined) console.error(`build: ${line}; import it only dynamically`);
  console.error(
    warnings > 0
      ? `build: ${warnings} warning(s) above; fix them before shipping the action`
      : "build: a lazily loaded module was bundled into another file",
  );
  process.exit(1);
}
writeFileSync(join(dist, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

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
const shipped = new Set(
  results.flatMap((result) =>
    Object.values(result.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, use]) => use.bytesInOutput > 0)
        .map(([file]) => file),
    ),
  ),
);
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
  join(dist, "licenses.txt"),
  `Third-party packages bundled into dist/${BUNDLES.join(", dist/")}.\n\n${[...packages]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, p]) => `${"=".repeat(78)}\n${id} (${p.license})\n${"=".repeat(78)}\n${p.text}\n`)
    .join("\n")}`,
);
console.log(`dist/licenses.txt: ${packages.size} packages`);
for (const file of BUNDLES) {
  console.log(`dist/${file}: ${(statSync(join(dist, file)).size / 1024).toFixed(0)} KiB`);
}
