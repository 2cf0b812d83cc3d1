import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "./files.ts";

/**
 * The manifest builders and renderer, loaded on use: the Kubernetes models they bring would
 * otherwise slow down the start of every command.
 */
export const loadK8s = () => import("@iam-ra/core/k8s");

/**
 * Writes one YAML file per object into `dir` (created 0700), atomically; objects holding key
 * material (the issuer's Secret) are 0600, the others 0644. Returns the paths in apply order.
 */
export async function writeManifestFiles(
  dir: string,
  manifests: ReadonlyArray<{ part: string; object: { toJSON(): unknown }; sensitive: boolean }>,
): Promise<string[]> {
  const { manifestFileName, renderK8sYaml } = await loadK8s();
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const files: string[] = [];
  for (const [i, manifest] of manifests.entries()) {
    const path = join(abs, manifestFileName(i, manifest));
    const mode = manifest.sensitive ? 0o600 : 0o644;
    await writeFileAtomic(path, renderK8sYaml([manifest.object]), mode);
    files.push(path);
  }
  return files;
}
