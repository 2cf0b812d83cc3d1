// The files scripts/build.mjs writes into dist/, in one place: the build bundles them and
// scripts/release.mjs checks that each is there before it publishes.

// Packages only some runs need, each bundled into a file of its own: node-forge (PKCS#12 input
// only; four fifths of the code) and https-proxy-agent (a proxy only). Inlined, V8 would pre-parse
// them at every start (node-forge alone about 10 ms on Node 24). Core imports them lazily (a
// dynamic import, or a static one in a module that is itself imported dynamically), so in the
// bundles each becomes a require() of its file, run on first use.
export const PACKAGE_FILES = { "node-forge": "forge", "https-proxy-agent": "proxy" };
// Our own modules that the steps import dynamically, only for runs that need them, each bundled
// into a file of its own in the same way:
// - the failure report (index.ts and post.ts, only when a step fails);
// - the credentials-file code (aws-profile, role chaining from a profile, the post step's clean-up),
//   with core's INI editor;
// - core's PKCS#12 reader (a PKCS#12 input only);
// - core's PKCS#11 signing (a key on a device, which the action never has: its key comes from an
//   input, and the pkcs11js addon is not shipped).
// V8 pre-parses all of a file at every start: with the first three inlined, the main bundle was
// 83 KiB instead of 68 (before names were minified) and a sign-in ran about 3 M more instructions, 1.5% (BENCH_INSTRUCTIONS=3
// node bench/action.mjs, Node 24; wall-clock A/B runs could not tell it from the noise). A file
// of its own bundles its own copy of what it imports from core; core's error classes recognise
// instances from another copy (IamRaError's instanceof), so a failure raised in one reads the same.
// Paths are relative to this package, or (core:) to core's src/.
export const MODULE_FILES = {
  "src/failure.ts": "failure",
  "src/profile-file.ts": "profile",
  "core:x509/pkcs12.ts": "pkcs12",
  "core:pkcs11/key.ts": "pkcs11",
};
/** The bundles in dist/: the two steps, then the files they require on demand. */
export const BUNDLES = [
  "index.js",
  "post.js",
  ...[...Object.values(MODULE_FILES), ...Object.values(PACKAGE_FILES)].map((file) => `${file}.js`),
];
/**
 * The source maps of our own bundles (minified names and all): a stack trace printed with
 * NODE_OPTIONS=--enable-source-maps names the functions and lines of the sources. Node reads a map
 * only then; the bundled packages (node-forge, the proxy agent) have none.
 */
export const SOURCE_MAPS = ["index", "post", ...Object.values(MODULE_FILES)].map((file) => `${file}.js.map`);
/** Everything the published action's dist/ holds. */
export const DIST_FILES = [...BUNDLES, ...SOURCE_MAPS, "package.json", "licenses.txt"];
