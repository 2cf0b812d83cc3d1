// Injected into the CommonJS bundles (see build.mjs): what `import.meta.url` means in a module,
// for the code that asks (createRequire in the HTTP transport and the lazily compiled node-forge).
export const __iamRaModuleUrl = require("node:url").pathToFileURL(__filename).href;
