import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { footprintDrift, MB, parseFootprintTable } from "./footprint.ts";

it("reads docs/development.md's footprint table", () => {
  const table = parseFootprintTable(
    readFileSync(new URL("../../../docs/development.md", import.meta.url), "utf8"),
  );
  expect([...table.keys()]).toEqual([
    "@iam-ra/cli",
    "@iam-ra/core",
    "@iam-ra/sidecar",
    "@iam-ra/emulator + core",
  ]);
  for (const row of table.values()) expect(row.mb).toBeGreaterThan(0);
});

it("a footprint drifts from its row beyond 10% (or 0.3 MB) or 2 packages", () => {
  const row = { mb: 10, packages: 30 };
  expect(footprintDrift(row, { bytes: 10.9 * MB, packages: 32 })).toBeUndefined();
  expect(footprintDrift(row, { bytes: 11.2 * MB, packages: 30 })).toBe(
    "documented 10 MB, 30 packages; measured 11.2 MB, 30 packages",
  );
  expect(footprintDrift(row, { bytes: 10 * MB, packages: 27 })).toMatch(/measured 10\.0 MB, 27 packages/);
  expect(footprintDrift({ mb: 1.8, packages: 1 }, { bytes: 2.05 * MB, packages: 1 })).toBeUndefined();
  expect(footprintDrift(undefined, { bytes: MB, packages: 1 })).toBe(
    "no row in the table; measured 1.0 MB, 1 packages",
  );
});
