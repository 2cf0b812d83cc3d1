// The esbuild options of the sidecar's bundles, shared by the package build (scripts/build.mjs) and
// the image (scripts/image.mjs), so the image holds exactly what the package ships.
export const bundleOptions = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  conditions: ["@iam-ra/source"],
  // The optional PKCS#11 binding is a native addon, loaded from node_modules only when asked for.
  external: ["pkcs11js"],
  banner: {
    js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
  },
  legalComments: "linked",
  logLevel: "warning",
};
