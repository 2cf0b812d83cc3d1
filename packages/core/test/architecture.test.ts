/**
 * The shape of the code, checked: no import cycle in any workspace package's sources, and no core
 * source file past ~400 lines (each concern its own module). Static imports only (`import`,
 * `import type`, `export … from`); a lazy `await import()` is how a rarely used part stays out of
 * the start-up path and is not an edge here.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SOURCES = [
  "packages/core/src",
  "packages/emulator/src",
  "apps/cli/src",
  "apps/action/src",
  "apps/sidecar/src",
];
const MAX_LINES = 470;

function files(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (/\.ts$/.test(name) && !/\.d\.ts$/.test(name)) out.push(path);
  }
  return out;
}

const STATIC_IMPORT = /^(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms;

/** Relative static imports of each file, resolved to absolute paths. */
function graph(dir: string): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files(dir)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(STATIC_IMPORT)].map((m) => resolve(dirname(file), m[1]!));
    edges.set(
      file,
      targets.filter((t) => t.endsWith(".ts")),
    );
  }
  return edges;
}

/** Every cycle found by depth-first search, each as a path of files. */
function findCycles(edges: Map<string, string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("architecture", () => {
  it("the cycle finder finds a cycle (so a pass means something)", () => {
    const edges = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(findCycles(edges)).toEqual([["a", "b", "c", "a"]]);
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });

  it.each(SOURCES)("%s has no import cycle", (dir) => {
    const cycles = findCycles(graph(join(ROOT, dir))).map((c) => c.map((f) => relative(ROOT, f)).join(" → "));
    expect(cycles).toEqual([]);
  });

  it("no core source file is longer than ~400 lines", () => {
    const long = files(join(ROOT, "packages/core/src"))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, "utf8").split("\n").length }))
      .filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
