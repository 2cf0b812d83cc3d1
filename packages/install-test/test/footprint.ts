import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const MB = 1024 * 1024;

/** An install's size: the bytes of the files under node_modules and how many packages it holds. */
export interface Footprint {
  bytes: number;
  packages: number;
}

/** Bytes and package count of an install's node_modules. */
export function measureInstall(root: string): Footprint {
  let bytes = 0;
  let packages = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        bytes += statSync(path).size;
        if (entry.name === "package.json" && /node_modules\/(@[^/]+\/)?[^/@]+$/.test(d)) packages++;
      }
    }
  };
  walk(join(root, "node_modules"));
  return { bytes, packages };
}

/** A footprint as docs/development.md's table prints it. */
export function formatFootprint({ bytes, packages }: Footprint): string {
  return `${(bytes / MB).toFixed(1)} MB, ${packages} packages`;
}

/**
 * The rows of docs/development.md's footprint table (`| \`@iam-ra/cli\` | 11.2 MB | 39 |`), keyed by
 * the install's label (`@iam-ra/cli`, `@iam-ra/emulator` + core).
 */
export function parseFootprintTable(markdown: string): Map<string, { mb: number; packages: number }> {
  const rows = new Map<string, { mb: number; packages: number }>();
  for (const match of markdown.matchAll(/^\| (`@iam-ra\/[^`]+`[^|]*?) \| ([\d.]+) MB \| (\d+) \|$/gm)) {
    const label = match[1]!.replace(/ \(.*\)$/, "").replaceAll("`", "");
    rows.set(label, { mb: Number(match[2]), packages: Number(match[3]) });
  }
  return rows;
}

/**
 * Why a measured footprint no longer matches the documented one, or undefined when it does: sizes
 * within 10% (or 0.3 MB) and package counts within 2, so a patch release of a transitive dependency
 * does not fail the suite, while a new dependency or a bundle that doubles does.
 */
export function footprintDrift(
  documented: { mb: number; packages: number } | undefined,
  measured: Footprint,
): string | undefined {
  const mb = measured.bytes / MB;
  if (!documented) return `no row in the table; measured ${formatFootprint(measured)}`;
  const sizeOff = Math.abs(mb - documented.mb) > Math.max(0.1 * documented.mb, 0.3);
  const countOff = Math.abs(measured.packages - documented.packages) > 2;
  if (!sizeOff && !countOff) return undefined;
  return `documented ${documented.mb} MB, ${documented.packages} packages; measured ${formatFootprint(measured)}`;
}
