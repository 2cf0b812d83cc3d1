/**
 * What a command loads is decided by the bundle's layout, which one import in the wrong place
 * undoes: these tests read the built dist/ (bin/run.js runs it) and check what each kind of
 * command loads before its own work.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const exec = promisify(execFile);
const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const entries: Record<string, string> = JSON.parse(readFileSync(join(dist, "commands.json"), "utf8"));

/** The files `file` loads: its static imports, and (`dynamic`) the dynamic imports it names matching it. */
function loads(files: string[], dynamic: RegExp = /$^/): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(/^import\s[^;]*?from\s*"(\.[^"]+)"|^import\s*"(\.[^"]+)"/gm))
      visit(resolve(dirname(file), (m[1] ?? m[2]) as string));
    for (const m of text.matchAll(/import\("(\.[^"]+)"\)/g))
      if (dynamic.test(m[1] as string)) visit(resolve(dirname(file), m[1] as string));
  };
  for (const f of files) visit(f);
  return seen;
}

/** The npm packages whose code is in the files (esbuild marks each module with its path). */
function packages(files: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const text of files.values())
    for (const m of text.matchAll(/^\/\/ \S*node_modules\/((?:@[^/]+\/)?[^/.][^/]*)\//gm))
      out.add(m[1] as string);
  return out;
}

const entryOf = (id: string) => join(dist, (entries[id] as string).replace(/^\.\/dist\//, ""));

describe("bundle layout", () => {
  it("every command has its own entry, and no entry loads oclif", () => {
    expect(Object.keys(entries).length).toBeGreaterThan(30);
    for (const id of Object.keys(entries)) {
      const files = loads([entryOf(id)]);
      for (const [file, text] of files) expect(text, `${id}: ${file}`).not.toMatch(/from "@oclif\/core"/);
    }
  });

  it("importing every command's entry runs no oclif code (checked at run time, not only in the text)", async () => {
    // @oclif/core is CommonJS: whatever loads it (an import, or createRequire as loadOclif does)
    // leaves its files in the CommonJS cache, which the child reports after importing each entry.
    const script = `
      import { createRequire } from "node:module";
      import { pathToFileURL } from "node:url";
      const cache = createRequire(import.meta.url).cache;
      const found = {};
      for (const [id, file] of JSON.parse(process.argv[1])) {
        await import(pathToFileURL(file).href);
        const oclif = Object.keys(cache).filter((f) => /[\\/]@oclif[\\/]/.test(f));
        if (oclif.length > 0) { found[id] = oclif.length; break; }
      }
      process.stdout.write(JSON.stringify(found));`;
    const list = Object.keys(entries).map((id) => [id, entryOf(id)]);
    const { stdout } = await exec(
      process.execPath,
      ["--input-type=module", "-e", script, JSON.stringify(list)],
      {
        cwd: dist,
      },
    );
    expect(JSON.parse(stdout)).toEqual({});
  });

  it("Node's built-ins come through require(): a command reads only the exports it uses", async () => {
    // An ES import of a built-in would read every export: node:http's WebSocket loads undici,
    // node:crypto's webcrypto all of WebCrypto, and on Node 24 fs.F_OK warns (DEP0176). The SDK
    // services themselves use WebCrypto (globalThis.crypto), so only the commands are held to that.
    const script = `
      import { pathToFileURL } from "node:url";
      const warnings = [];
      process.on("warning", (w) => warnings.push(w.name + ": " + w.message));
      const [commands, services] = JSON.parse(process.argv[1]);
      const heavy = () => process.moduleLoadList.filter((m) => /undici|webcrypto/.test(m));
      for (const file of commands) await import(pathToFileURL(file).href);
      const afterCommands = heavy();
      for (const file of services) await import(pathToFileURL(file).href);
      await new Promise((r) => setTimeout(r, 50));
      const undici = heavy().filter((m) => /undici/.test(m));
      process.stdout.write(JSON.stringify({ afterCommands, undici, warnings }));`;
    const services = readdirSync(dist)
      .filter((f) => /^(s3|ssm|cloudformation|kms|acm-pca|secrets-manager|http\+dynamic)-\w+\.js$/.test(f))
      .map((f) => join(dist, f));
    expect(services.length).toBeGreaterThanOrEqual(7);
    const commands = Object.keys(entries).map(entryOf);
    const { stdout } = await exec(
      process.execPath,
      ["--input-type=module", "-e", script, JSON.stringify([commands, services])],
      { cwd: dist },
    );
    expect(JSON.parse(stdout)).toEqual({ afterCommands: [], undici: [], warnings: [] });
  });

  it("an admin command loads no AWS SDK client and no Kubernetes model before its first AWS call", () => {
    for (const id of ["status", "host:list", "role:list", "k8s:list", "ca:list", "host:onboard"]) {
      // The command, then what every admin command imports before calling AWS: its input checks
      // and the admin ports (SDK services load on first use, from their own chunks).
      const files = loads([entryOf(id)], /^\.\/admin-(input|deps)-/);
      expect(
        [...files.keys()].some((f) => /admin-deps-/.test(f)),
        id,
      ).toBe(true);
      const loaded = [...packages(files)];
      expect(
        loaded.filter((p) => /^@aws-sdk\/client-|kubernetes-models|ajv/.test(p)),
        id,
      ).toEqual([]);
    }
  });

  it("the admin services carry one copy of the SDK's runtime (ACM PCA's older client aside)", () => {
    // Every chunk admin-deps can load, each SDK service with it, but the Private CA client: the
    // registry's newest (3.523.0) predates the current runtime. Roles Anywhere's two reads go
    // through core's own reader: the registry's only client (3.332.0) would bring a second runtime.
    const files = loads([readdirChunk(/^admin-deps-.*\.js$/)], /^\.\/(?!acm-pca-)/);
    expect([...files.keys()].some((f) => /[/\\]s3-\w+\.js$/.test(f))).toBe(true);
    expect([...files.keys()].some((f) => /[/\\]cloudformation-\w+\.js$/.test(f))).toBe(true);
    const versions = new Map<string, Set<string>>();
    for (const text of files.values())
      for (const m of text.matchAll(
        /^\/\/ \S*node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@([^/_]+)[^/]*\/node_modules\//gm,
      )) {
        const name = (m[1] as string).replace("+", "/");
        versions.set(name, (versions.get(name) ?? new Set()).add(m[2] as string));
      }
    expect(versions.get("@aws-sdk/core")?.size).toBe(1);
    expect(versions.has("@aws-sdk/client-rolesanywhere")).toBe(false);
    expect(
      [...versions]
        .filter(([name, v]) => /^@(aws-sdk|smithy)\//.test(name) && v.size > 1)
        .map(([name, v]) => `${name} ${[...v].join(" ")}`),
    ).toEqual([]);
  });

  it("the SDK comes as its ES modules, not its CommonJS build wrapped at every start", () => {
    // esbuild's path comment names each bundled module's file: dist-cjs is the CommonJS build.
    const cjs = readdirSync(dist)
      .filter((f) => f.endsWith(".js"))
      .flatMap((f) =>
        [
          ...readFileSync(join(dist, f), "utf8").matchAll(
            /^\/\/ \S*node_modules\/(@(?:aws-sdk|smithy)\/[^/]+)\/dist-cjs\//gm,
          ),
        ].map((m) => `${f}: ${m[1]}`),
      );
    expect(cjs).toEqual([]);
  });

  it("an SDK service, once loaded, brings its client and the commands iam-ra sends, not the whole package", () => {
    const ssm = readdirChunk(/^ssm-.*\.js$/);
    const text = [...loads([ssm]).values()].join("\n");
    expect(text).toMatch(/GetParameterCommand/);
    // SSM has ~150 operations; a command it does not send stays out.
    expect(text).not.toMatch(/PutParameterCommand/);
  });
});

function readdirChunk(name: RegExp): string {
  const found = readdirSync(dist).filter((f) => name.test(f));
  expect(found).toHaveLength(1);
  return join(dist, found[0] as string);
}
