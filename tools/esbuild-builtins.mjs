// An esbuild plugin for our ES module bundles (the CLI, the sidecar and webhook): Node's built-ins
// through require(). Used by apps/cli/scripts/build.mjs and apps/sidecar/scripts/bundle-options.mjs;
// it lives here because both build scripts use it and neither package ships it.
import { builtinModules, createRequire } from "node:module";

/**
 * Node built-ins through require() instead of ES imports. An ES import of a built-in builds a
 * facade that reads every export, getters included: `node:http` then loads undici (its WebSocket),
 * `node:crypto` all of WebCrypto, `node:fs` its streams and watchers. For the 16 built-ins an admin
 * command uses that is ~30 ms of a start on Node 24 (~35 ms less for `host list` on local AWS), and
 * memory in a long-running server. So each built-in becomes a module that requires it (the
 * bundle's banner must define `require` with createRequire), and each of its exports a module of
 * its own, marked free of side effects, which the bundler leaves out unless something imports that
 * name: only what is used is read. An export is read as Node's own facade would: not when it is
 * not enumerable where the bundle runs (Node 24 turned fs.F_OK and its kin into deprecated getters,
 * which warn when read; Node 22, which may have run the build, lists them). A dynamic import()
 * takes every export; there node:http's web classes (WebSocket, CloseEvent, MessageEvent: undici,
 * ~35 modules) are left out, as they are globals too. The AWS SDK imports node:http that way for an
 * http:// endpoint (local AWS). A require() in a CommonJS dependency stays as it is, and so does
 * `punycode` (the CLI aliases it to the userland package).
 */
const DYNAMIC_IMPORT_OMITS = { http: new Set(["WebSocket", "CloseEvent", "MessageEvent"]) };
export const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(b) {
    const builtins = new Set(builtinModules);
    const hostRequire = createRequire(import.meta.url);
    b.onResolve({ filter: /^(node:)?[a-z_][a-z0-9_/]*$/ }, (a) => {
      const name = a.path.replace(/^node:/, "");
      if (!builtins.has(name) || name === "punycode" || a.kind.startsWith("require")) return undefined;
      const dynamic = a.kind === "dynamic-import" && DYNAMIC_IMPORT_OMITS[name];
      return { path: dynamic ? `${name}+dynamic` : name, namespace: "builtin-require" };
    });
    b.onResolve({ filter: /^builtin-export:/ }, (a) => ({
      path: a.path.slice("builtin-export:".length),
      namespace: "builtin-export",
      sideEffects: false,
    }));
    b.onLoad({ filter: /.*/, namespace: "builtin-require" }, (a) => {
      const [name, dynamic] = a.path.split("+");
      const omit = dynamic ? DYNAMIC_IMPORT_OMITS[name] : new Set();
      const keys = Object.keys(hostRequire(`node:${name}`)).filter(
        (key) => key !== "default" && !omit.has(key),
      );
      return {
        contents: [
          `export default require(${JSON.stringify(`node:${name}`)});`,
          ...keys.map(
            (key) =>
              `export { default as ${JSON.stringify(key)} } from ${JSON.stringify(`builtin-export:${name}+${key}`)};`,
          ),
        ].join("\n"),
        loader: "js",
      };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-export" }, (a) => {
      const [name, key] = a.path.split("+");
      const k = JSON.stringify(key);
      return {
        contents: `const m = require(${JSON.stringify(`node:${name}`)});\nexport default Object.getOwnPropertyDescriptor(m, ${k})?.enumerable ? m[${k}] : undefined;`,
        loader: "js",
      };
    });
  },
};
