import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPki } from "@iam-ra/core/testing";
import { createBoundTrustPolicy, setUpRolesAnywhere } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Footprint,
  footprintDrift,
  formatFootprint,
  MB,
  measureInstall,
  parseFootprintTable,
} from "./footprint.ts";
import { runProcess, stopProcess, waitForOutput } from "./processes.ts";

// What a user gets: every public package packed as it would be published (prepack builds it and adds
// the LICENSE), each installed from its tarball into an empty folder with npm (dependencies from the
// registry), then run. The install footprints are measured here and checked against docs/development.md.

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const PACKAGES = {
  core: "packages/core",
  emulator: "packages/emulator",
  cli: "apps/cli",
  sidecar: "apps/sidecar",
} as const;
type Name = keyof typeof PACKAGES;

/** pnpm pack builds the package first (prepack); four builds share two CPUs here. */
const PACK_DEADLINE_MS = 300_000;
/** Each npm install: 5–30 s with a warm npm cache, about a minute from a cold one. */
const INSTALL_DEADLINE_MS = 180_000;
/** A test's own deadline: its install plus what it runs. */
const TEST_TIMEOUT_MS = INSTALL_DEADLINE_MS + 60_000;
/** Each run of an installed bin. */
const RUN_DEADLINE_MS = 30_000;

let dir: string;
const tarballs = {} as Record<Name, string>;
const footprints: Array<[string, Footprint]> = [];
const documented = parseFootprintTable(readFileSync(join(REPO, "docs", "development.md"), "utf8"));

/**
 * The environment of a user's shell: without the npm_config_* / pnpm_* settings `pnpm run test` adds
 * (pnpm-workspace.yaml's minimumReleaseAge, pnpm's rc file as npm's globalconfig). A user's own
 * NPM_CONFIG_* stay. The network settings npm needs (NODE_EXTRA_CA_CERTS, proxies) reach this test
 * through turbo.json's passThroughEnv: turbo's strict env mode drops them, and without the machine's
 * CA npm retried every registry request for ~70 s (a stall past any deadline in CI).
 */
const userEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_)/.test(k)));

/** npm-installs tarballs into a fresh folder and records its footprint; returns the folder. */
async function install(name: string, ...names: Name[]): Promise<{ root: string; footprint: Footprint }> {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, "package.json"), `${JSON.stringify({ name: `try-${name}`, private: true })}\n`);
  // --prefer-offline: cached registry metadata is used without a round trip per package (a user's
  // second install does the same); --loglevel=http puts each registry request in a failure's tail.
  await runProcess(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=http",
      ...names.map((n) => tarballs[n]),
    ],
    { cwd: root, env: userEnv(), deadlineMs: INSTALL_DEADLINE_MS },
  );
  const footprint = measureInstall(root);
  const label = names.map((n, i) => (i === 0 ? `@iam-ra/${n}` : n)).join(" + ");
  footprints.push([label, footprint]);
  console.log(`install footprint: ${label}: ${formatFootprint(footprint)}`);
  expect(footprintDrift(documented.get(label), footprint), `docs/development.md's row for ${label}`).toBe(
    undefined,
  );
  return { root, footprint };
}

// Opt out with IAM_RA_SKIP_INSTALL_TEST=1 (it needs the npm registry, or a warm npm cache).
const skipped = process.env.IAM_RA_SKIP_INSTALL_TEST === "1";

beforeAll(async () => {
  if (skipped) return;
  dir = mkdtempSync(join(tmpdir(), "iam-ra-install-"));
  mkdirSync(join(dir, "packs"));
  await Promise.all(
    (Object.entries(PACKAGES) as Array<[Name, string]>).map(async ([name, path]) => {
      // pnpm pack runs prepack (build + LICENSE) and turns workspace: ranges into versions.
      const stdout = await runProcess(
        "npx",
        ["-y", "pnpm@10.34.9", "pack", "--pack-destination", join(dir, "packs")],
        { cwd: join(REPO, path), deadlineMs: PACK_DEADLINE_MS },
      );
      const tgz = stdout
        .trim()
        .split("\n")
        .findLast((l) => l.endsWith(".tgz"));
      if (!tgz) throw new Error(`pnpm pack printed no tarball for ${name}:\n${stdout}`);
      tarballs[name] = tgz.trim();
    }),
  );
}, PACK_DEADLINE_MS + 30_000);

afterAll(() => {
  if (skipped) return;
  console.log(
    `install footprints (npm, Node ${process.version}):\n` +
      footprints.map(([label, f]) => `  ${label}: ${formatFootprint(f)}`).join("\n"),
  );
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skipped).concurrent("published packages, packed and installed as users do", () => {
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

  it(
    "the CLI alone: --version, the emulator, and credential-process against it",
    async () => {
      const { root, footprint } = await install("cli", "cli");
      expect(footprint.bytes).toBeLessThan(120 * MB);
      // The README's install table gives the CLI's size in whole MB.
      const readmeMb = Number(
        /@iam-ra\/cli`[^|]*?(\d+) MB\)/.exec(readFileSync(join(REPO, "README.md"), "utf8"))?.[1],
      );
      expect(
        Math.abs(footprint.bytes / MB - readmeMb),
        `README's CLI size (${readmeMb} MB)`,
      ).toBeLessThanOrEqual(1);
      const bin = join(root, "node_modules", ".bin", "iam-ra");
      const { stdout: version } = await exec(bin, ["--version"], { timeout: RUN_DEADLINE_MS });
      const cliVersion = JSON.parse(readFileSync(join(REPO, PACKAGES.cli, "package.json"), "utf8")).version;
      expect(version).toContain(`@iam-ra/cli/${cliVersion}`);
      // The installed `iam-ra emulator`, driven by the control plane of this checkout's emulator package.
      const emulator: ChildProcess = spawn(bin, ["emulator", "--port", "0", "--json"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const line = await waitForOutput(emulator, /\n/, RUN_DEADLINE_MS);
        const { url } = JSON.parse(line.split("\n")[0]!) as { url: string };
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
        const { stdout } = await exec(
          bin,
          [
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
          ],
          { timeout: RUN_DEADLINE_MS },
        );
        expect(JSON.parse(stdout)).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });
      } finally {
        await stopProcess(emulator);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the library alone: fromRolesAnywhere() imports, and the install stays small",
    async () => {
      const { root, footprint } = await install("core", "core");
      expect(footprint.bytes).toBeLessThan(10 * MB);
      const { stdout } = await exec(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          "const m = await import('@iam-ra/core'); console.log(typeof m.fromRolesAnywhere)",
        ],
        { cwd: root, timeout: RUN_DEADLINE_MS },
      );
      expect(stdout.trim()).toBe("function");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the sidecar alone: iam-ra-sidecar --help",
    async () => {
      const { root } = await install("sidecar", "sidecar");
      const { stdout } = await exec(join(root, "node_modules", ".bin", "iam-ra-sidecar"), ["--help"], {
        timeout: RUN_DEADLINE_MS,
      });
      expect(stdout).toMatch(/IAM_RA_CERTIFICATE/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the emulator for tests: its bin starts and answers health",
    async () => {
      const { root } = await install("emulator", "emulator", "core");
      const emulator = spawn(join(root, "node_modules", ".bin", "iam-ra-emulator"), ["--port", "0"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const out = await waitForOutput(emulator, /http:\/\/127\.0\.0\.1:\d+/, RUN_DEADLINE_MS);
        const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
        expect((await fetch(`${url}/_emulator/health`)).status).toBe(200);
      } finally {
        await stopProcess(emulator);
      }
    },
    TEST_TIMEOUT_MS,
  );
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
