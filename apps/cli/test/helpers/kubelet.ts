import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSecretVolume as createTestingSecretVolume } from "@iam-ra/core/testing";
import { build } from "esbuild";

/** A Kubernetes object as parsed from the emitted YAML. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are walked as plain data
export type Obj = Record<string, any>;

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

/**
 * Bundles the sidecar and the webhook exactly as the image holds them (one file each, no
 * node_modules) into `dir/app/main.js` and `dir/app/webhook.js`, with the options of
 * apps/sidecar/scripts/build.mjs, so the test does not race the sidecar's own test script
 * rebuilding apps/sidecar/dist. Returns the sidecar's path.
 */
export async function buildSidecarImage(dir: string): Promise<string> {
  const common = {
    bundle: true,
    format: "esm" as const,
    platform: "node" as const,
    target: "node20",
    conditions: ["@iam-ra/source"],
    external: ["pkcs11js"],
    banner: {
      js: "import { createRequire as __iamRaCreateRequire } from 'node:module'; const require = __iamRaCreateRequire(import.meta.url);",
    },
    logLevel: "warning" as const,
  };
  const main = join(dir, "app", "main.js");
  await Promise.all([
    build({ ...common, entryPoints: [join(REPO, "apps/sidecar/src/main.ts")], outfile: main }),
    build({
      ...common,
      entryPoints: [join(REPO, "apps/sidecar/src/webhook.ts")],
      outfile: join(dir, "app", "webhook.js"),
    }),
  ]);
  return main;
}

/** The sidecar image's ENTRYPOINT, read from its Containerfile (what runs when a container sets no command). */
export function imageEntrypoint(): string[] {
  const dockerfile = readFileSync(join(REPO, "docker/sidecar.Containerfile"), "utf8");
  const line = dockerfile.split("\n").findLast((l) => l.startsWith("ENTRYPOINT "));
  return JSON.parse(line!.slice("ENTRYPOINT ".length)) as string[];
}

/** A mounted Secret volume as the kubelet lays it out, files mode 0440 (defaultMode with fsGroup). */
export const createSecretVolume = () => createTestingSecretVolume({ mode: 0o440 });

/** How the test stands in for the node: where each volume is, and where the image's files are. */
export interface Node {
  /** Volume name → host directory. */
  volumes: Record<string, string>;
  /** Path in the image → host path (e.g. /app/main.js). */
  imageFiles: Record<string, string>;
  configMaps: Obj[];
}

/** Rewrites a container path to the host: a volume's mount path or a file of the image. */
function toHost(node: Node, container: Obj, path: string): string {
  for (const m of container.volumeMounts ?? []) {
    if (m.subPath) throw new Error(`volume ${m.name} is mounted with subPath: rotation would not reach it`);
    const host = node.volumes[m.name];
    if (!host) throw new Error(`no volume ${m.name}`);
    if (path === m.mountPath || path.startsWith(`${m.mountPath}/`))
      return host + path.slice(m.mountPath.length);
  }
  return node.imageFiles[path] ?? path;
}

/** The environment the kubelet gives a container: values, and configMapKeyRefs resolved (paths rewritten). */
export function containerEnv(node: Node, container: Obj, namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined)
      env[e.name] = e.value.startsWith("/") ? toHost(node, container, e.value) : e.value;
    else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      const cm = node.configMaps.find(
        (c) => c.metadata.name === ref.name && c.metadata.namespace === namespace,
      );
      const value = cm?.data?.[ref.key];
      if (value === undefined) throw new Error(`${e.name}: no key ${ref.key} in ConfigMap ${ref.name}`);
      env[e.name] = value;
    } else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = namespace;
    else throw new Error(`${e.name}: unsupported env source`);
  }
  return env;
}

/** The argv the container runtime runs: `command` (else the image's ENTRYPOINT) then `args`, paths rewritten. */
export function containerArgv(node: Node, container: Obj, entrypoint: string[]): string[] {
  const argv = [...(container.command ?? entrypoint), ...(container.args ?? [])];
  return argv.map((a) => (a.startsWith("/") ? toHost(node, container, a) : a));
}

/** An exec probe's argv on the host. */
export function probeArgv(
  node: Node,
  container: Obj,
  probe: "startupProbe" | "readinessProbe" | "livenessProbe",
) {
  const command = container[probe]?.exec?.command as string[] | undefined;
  if (!command) throw new Error(`${container.name} has no exec ${probe}`);
  return command.map((a) => (a.startsWith("/") ? toHost(node, container, a) : a));
}
