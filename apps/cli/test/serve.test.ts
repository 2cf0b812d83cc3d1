import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPki } from "@iam-ra/core/testing";
import { createBoundTrustPolicy, type Emulator, setUpRolesAnywhere, startEmulator } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const ROLE = "arn:aws:iam::123456789012:role/host-app";

let emu: Emulator;
let dir: string;
let flags: string[];

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), "iam-ra-serve-"));
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ subject: "CN=host,OU=hosts", issuer: "root" });
  const other = await pki.issueLeaf({ subject: "CN=other,OU=hosts", issuer: "root" });
  writeFileSync(join(dir, "cert.pem"), leaf.certificatePem);
  writeFileSync(join(dir, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, "other-key.pem"), other.privateKeyPem, { mode: 0o600 });
  const setUp = await setUpRolesAnywhere(emu, {
    caCertificatePem: pki.root.certificatePem,
    roles: [{ roleArn: ROLE, trustPolicy: createBoundTrustPolicy("hosts") }],
  });
  flags = [
    "--certificate",
    join(dir, "cert.pem"),
    "--private-key",
    join(dir, "key.pem"),
    "--trust-anchor-arn",
    setUp.trustAnchorArn,
    "--profile-arn",
    setUp.profileArn,
    "--role-arn",
    ROLE,
    "--endpoint",
    emu.url,
  ];
});
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("iam-ra serve and credentials status", () => {
  it("serve: the sidecar's server from the CLI; status reads it; SIGTERM stops it", async () => {
    const tokenFile = join(dir, "token");
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--json", ...flags, "--port", "0", "--token-file", tokenFile, "--imds"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const [line] = (await once(child.stdout, "data")) as [Buffer];
      const started = JSON.parse(line.toString());
      expect(started).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        credentialsUri: `${started.url}/v1/credentials`,
        imds: true,
      });
      // The first refresh is in flight or done; status waits for nothing, so poll readiness.
      for (let i = 0; i < 100 && !(await fetch(`${started.url}/readyz`)).ok; i++)
        await new Promise((r) => setTimeout(r, 50));
      const { stdout } = await exec(process.execPath, [
        BIN,
        "credentials",
        "status",
        "--json",
        ...flags.slice(0, 4),
        "--server",
        started.url,
      ]);
      const status = JSON.parse(stdout);
      expect(status.certificate).toMatchObject({
        subject: "CN=host, OU=hosts",
        state: "valid",
        keyMatches: true,
      });
      expect(status.server).toMatchObject({ url: started.url, ready: true, lastRefresh: { ok: true } });
      expect(Date.parse(status.server.expiration)).toBeGreaterThan(Date.now());
      expect(stdout).not.toMatch(/SecretAccessKey|Token/);
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });

  it("credentials status: a key that does not match, a cache entry, human output", async () => {
    const { stdout } = await exec(process.execPath, [
      BIN,
      "credentials",
      "status",
      "--json",
      "--certificate",
      join(dir, "cert.pem"),
      "--private-key",
      join(dir, "other-key.pem"),
    ]);
    const status = JSON.parse(stdout);
    expect(status.certificate.keyMatches).toBe(false);
    expect(status.certificate.keyProblem).toMatch(/does not belong to/i);
    expect(status.cache).toBeNull();

    const cacheDir = join(dir, "cache");
    await exec(process.execPath, [BIN, "credential-process", ...flags, "--cache", "--cache-dir", cacheDir]);
    const human = await exec(process.execPath, [
      BIN,
      "credentials",
      "status",
      ...flags,
      "--cache-dir",
      cacheDir,
    ]);
    expect(human.stdout).toMatch(/^certificate {2}.*cert\.pem$/m);
    expect(human.stdout).toMatch(/^ {2}key {8}matches$/m);
    expect(human.stdout).toMatch(/^cache {8}expires \d{4}-/m);
  });

  it("serve reads its switches' variables as the sidecar does (IAM_RA_IMDS=on)", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--json", ...flags, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, IAM_RA_IMDS: "on" },
    });
    try {
      const [line] = (await once(child.stdout, "data")) as [Buffer];
      const started = JSON.parse(line.toString());
      expect(started).toMatchObject({ imds: true, credentialsUri: null });
      for (let i = 0; i < 100 && !(await fetch(`${started.url}/readyz`)).ok; i++)
        await new Promise((r) => setTimeout(r, 50));
      const token = await fetch(`${started.url}/latest/api/token`, {
        method: "PUT",
        headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
      });
      expect(token.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });

  it("serve refuses an unsafe bind before starting", async () => {
    const r = await exec(process.execPath, [BIN, "serve", ...flags, "--host", "0.0.0.0", "--imds"]).catch(
      (e) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/beyond this machine/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
