/**
 * The bundles the package and the image ship (dist/main.js, dist/webhook.js): Node's built-ins come
 * through require() (tools/esbuild-builtins.mjs), so a start reads only the exports it uses. An ES
 * import of one would read them all: undici for node:http's WebSocket, all of WebCrypto for
 * node:crypto, ~4 MB more in every pod.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("the sidecar's bundles", () => {
  it.each(["main.js", "webhook.js"])(
    "%s imports no built-in as an ES module (but node:module, for require)",
    (file) => {
      const text = readFileSync(new URL(`../dist/${file}`, import.meta.url), "utf8");
      const esImports = [
        ...text.matchAll(/\bfrom\s*["'](node:[\w/]+)["']|\bimport\(\s*["'](node:[\w/]+)["']\s*\)/g),
      ]
        .map((m) => m[1] ?? m[2])
        .filter((name) => name !== "node:module");
      expect(esImports).toEqual([]);
      expect(text).toMatch(/__require\("node:http"\)|__require\("node:https"\)/);
    },
  );
});
