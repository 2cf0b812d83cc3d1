// The esbuild options of the sidecar's bundles, shared by the package build (scripts/build.mjs) and
// the image (scripts/image.mjs), so the image holds exactly what the package ships.
import { builtinsThroughRequire } from "../../../tools/esbuild-builtins.mjs";

export const bundleOptions = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  conditions: ["@iam-ra/source"],
  // The optional PKCS#11 binding is a native addon, loaded from node_modules only when asked for.
  external: ["pkcs11js"],
  // Built-ins through the banner's require(), reading only the exports used (tools/esbuild-builtins.mjs).
  plugins: [builtinsThroughRequire],
  banner: {
    js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
  },
  legalComments: "linked",
  logLevel: "warning",
};
