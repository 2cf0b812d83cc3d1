import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPki } from "@iam-ra/core/testing";
import { createBoundTrustPolicy, setUpRolesAnywhere } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// What a user gets: every public package packed as it would be published (prepack builds it and adds
// the LICENSE), each installed from its tarball into an empty folder with npm (dependencies from the
// registry), then run. The install footprints are measured here and written in docs/development.md.

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const PACKAGES = {
  core: "packages/core",
  emulator: "packages/emulator",
  cli: "apps/cli",
  sidecar: "apps/sidecar",
} as const;
type Name = keyof typeof PACKAGES;
const MB = 1024 * 1024;

let dir: string;
const tarballs = {} as Record<Name, string>;
const footprint: string[] = [];

/** Bytes and package count of an install's node_modules. */
function measure(root: string): { bytes: number; packages: number } {
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

/**
 * The environment of a user's shell: without the npm_config_* / pnpm settings a `pnpm run test`
 * exports (pnpm-workspace.yaml's minimumReleaseAge and the like would reach npm and slow it down).
 */
const userEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_)/i.test(k)));

/** npm-installs tarballs into a fresh folder; returns the folder. */
async function install(name: string, ...names: Name[]): Promise<string> {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, "package.json"), `${JSON.stringify({ name: `try-${name}`, private: true })}\n`);
  await exec(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...names.map((n) => tarballs[n])],
    {
      cwd: root,
      env: userEnv(),
      maxBuffer: 16 * MB,
      timeout: 540_000,
    },
  );
  const { bytes, packages } = measure(root);
  footprint.push(`${names.join(" + ")}: ${(bytes / MB).toFixed(1)} MB, ${packages} packages`);
  return root;
}

beforeAll(async () => {
  if (!enabled) return;
  dir = mkdtempSync(join(tmpdir(), "iam-ra-install-"));
  mkdirSync(join(dir, "packs"));
  await Promise.all(
    (Object.entries(PACKAGES) as Array<[Name, string]>).map(async ([name, path]) => {
      // pnpm pack runs prepack (build + LICENSE) and turns workspace: ranges into versions.
      const { stdout } = await exec(
        "npx",
        ["-y", "pnpm@10.34.9", "pack", "--pack-destination", join(dir, "packs")],
        { cwd: join(REPO, path), maxBuffer: 16 * MB, timeout: 540_000 },
      );
      const tgz = stdout
        .trim()
        .split("\n")
        .findLast((l) => l.endsWith(".tgz"));
      if (!tgz) throw new Error(`pnpm pack printed no tarball for ${name}:\n${stdout}`);
      tarballs[name] = tgz.trim();
    }),
  );
}, 600_000);

afterAll(() => {
  if (!enabled) return;
  console.log(`install footprints (npm, Node ${process.version}):\n  ${footprint.join("\n  ")}`);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Packing and npm-installing takes minutes and the registry: on when IAM_RA_INSTALL_TEST=1 (the
// release workflow runs it before publishing; locally: IAM_RA_INSTALL_TEST=1 npm test). In this
// project's CI npm installs from the registry stalled past any deadline, for reasons not found yet.
const enabled = process.env.IAM_RA_INSTALL_TEST === "1";

describe.runIf(enabled).concurrent("published packages, packed and installed as users do", () => {
  it("each tarball holds README, LICENSE and its build, and nothing of the sources or tests", async () => {
    for (const name of Object.keys(PACKAGES) as Name[]) {
      const { stdout } = await exec("tar", ["-tzf", tarballs[name]]);
      const files = stdout.trim().split("\n");
      expect(files, name).toContain("package/README.md");
      expect(files, name).toContain("package/LICENSE");
      expect(
        files.some((f) => f.startsWith("package/dist/")),
        name,
      ).toBe(true);
      expect(
        files.filter((f) => /\/(src|test)\/|\.test\.|tsconfig/.test(f)),
        name,
      ).toEqual([]);
      const { stdout: manifest } = await exec("tar", ["-xzOf", tarballs[name], "package/package.json"]);
      expect(manifest, name).not.toContain("workspace:");
      expect(JSON.parse(manifest).private, name).toBeUndefined();
    }
    expect(readFileSync(join(REPO, "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0/);
  });

  it("the CLI alone: --version, the emulator, and credential-process against it", async () => {
    const root = await install("cli", "cli");
    expect(measure(root).bytes).toBeLessThan(120 * MB);
    const bin = join(root, "node_modules", ".bin", "iam-ra");
    const { stdout: version } = await exec(bin, ["--version"]);
    const cliVersion = JSON.parse(readFileSync(join(REPO, PACKAGES.cli, "package.json"), "utf8")).version;
    expect(version).toContain(`@iam-ra/cli/${cliVersion}`);
    // The installed `iam-ra emulator`, driven by the control plane of this checkout's emulator package.
    const emulator: ChildProcess = spawn(bin, ["emulator", "--port", "0", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const [line] = (await once(emulator.stdout!, "data")) as [Buffer];
      const { url } = JSON.parse(line.toString()) as { url: string };
      const pki = await createTestPki();
      const leaf = await pki.issueLeaf({ subject: "CN=installed,OU=hosts", issuer: "root" });
      writeFileSync(join(root, "cert.pem"), leaf.certificatePem);
      writeFileSync(join(root, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
      const roleArn = "arn:aws:iam::123456789012:role/installed";
      const trustPolicy = createBoundTrustPolicy("hosts");
      // The role's trust policy goes in over the emulator's admin API (another process's emulator).
      const { trustAnchorArn, profileArn } = await setUpRolesAnywhere(
        { url, putRole: () => {} },
        { caCertificatePem: pki.root.certificatePem, roles: [{ roleArn, trustPolicy }] },
      );
      await putRole(url, roleArn, trustPolicy);
      const { stdout } = await exec(bin, [
        "credential-process",
        "--certificate",
        join(root, "cert.pem"),
        "--private-key",
        join(root, "key.pem"),
        "--trust-anchor-arn",
        trustAnchorArn,
        "--profile-arn",
        profileArn,
        "--role-arn",
        roleArn,
        "--endpoint",
        url,
      ]);
      expect(JSON.parse(stdout)).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });
    } finally {
      emulator.kill("SIGTERM");
      if (emulator.exitCode === null) await once(emulator, "exit");
    }
  }, 600_000);

  it("the library alone: fromRolesAnywhere() imports, and the install stays small", async () => {
    const root = await install("core", "core");
    expect(measure(root).bytes).toBeLessThan(10 * MB);
    const { stdout } = await exec(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const m = await import('@iam-ra/core'); console.log(typeof m.fromRolesAnywhere)",
      ],
      { cwd: root },
    );
    expect(stdout.trim()).toBe("function");
  }, 600_000);

  it("the sidecar alone: iam-ra-sidecar --help", async () => {
    const root = await install("sidecar", "sidecar");
    const { stdout } = await exec(join(root, "node_modules", ".bin", "iam-ra-sidecar"), ["--help"]);
    expect(stdout).toMatch(/IAM_RA_CERTIFICATE/);
  }, 600_000);

  it("the emulator for tests: its bin starts and answers health", async () => {
    const root = await install("emulator", "emulator", "core");
    const emulator = spawn(join(root, "node_modules", ".bin", "iam-ra-emulator"), ["--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      for await (const chunk of emulator.stdout!) {
        out += String(chunk);
        if (/http:\/\/127\.0\.0\.1:\d+/.test(out)) break;
      }
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
      expect((await fetch(`${url}/_emulator/health`)).status).toBe(200);
    } finally {
      emulator.kill("SIGTERM");
      if (emulator.exitCode === null) await once(emulator, "exit");
    }
  }, 600_000);
});

/** Registers a role's trust policy with an emulator over its admin API. */
async function putRole(url: string, roleArn: string, trustPolicy: unknown): Promise<void> {
  const res = await fetch(`${url}/_emulator/roles`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ roleArn, trustPolicy }),
  });
  if (!res.ok) throw new Error(`putRole: ${res.status}`);
}
