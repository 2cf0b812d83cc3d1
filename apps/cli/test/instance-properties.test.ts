import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPki } from "@iam-ra/core/testing";
import { type Emulator, startEmulator } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Each channel of iam-ra sends instance properties; the emulator records the latest on the subject.
const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const ROLE = "arn:aws:iam::123456789012:role/ci-reader";
const AUTH =
  "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=0";

let emu: Emulator;
let dir: string;
let flags: string[];
let strictFlags: string[];

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emu.url}${path}`, {
    method,
    headers: { authorization: AUTH },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the control plane's JSON, asserted on field by field
  return (await response.json()) as Record<string, any>;
}

async function latestProperties(): Promise<Record<string, string> | undefined> {
  const { subjects } = await api("GET", "/subjects");
  const { subject } = await api("GET", `/subject/${subjects[0].subjectId}`);
  return subject.instanceProperties[0]?.properties;
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), "iam-ra-ip-"));
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ subject: "CN=ci-host,OU=ci,O=tests", issuer: "root" });
  writeFileSync(join(dir, "cert.pem"), leaf.certificatePem);
  writeFileSync(join(dir, "key.pem"), leaf.privateKeyPem, { mode: 0o600 });
  const { trustAnchor } = await api("POST", "/trustanchors", {
    name: "ci",
    enabled: true,
    source: {
      sourceType: "CERTIFICATE_BUNDLE",
      sourceData: { x509CertificateData: pki.root.certificatePem },
    },
  });
  const { profile } = await api("POST", "/profiles", { name: "ci", enabled: true, roleArns: [ROLE] });
  const { profile: strict } = await api("POST", "/profiles", {
    name: "strict",
    enabled: true,
    roleArns: [ROLE],
    requireInstanceProperties: true,
  });
  emu.putRole(ROLE, {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      },
    ],
  });
  const common = [
    "--certificate",
    join(dir, "cert.pem"),
    "--private-key",
    join(dir, "key.pem"),
    "--trust-anchor-arn",
    trustAnchor.trustAnchorArn,
    "--role-arn",
    ROLE,
    "--endpoint",
    emu.url,
  ];
  flags = [...common, "--profile-arn", profile.profileArn];
  strictFlags = [...common, "--profile-arn", strict.profileArn];
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("instance properties reach GetSubject from every channel", () => {
  it("credential-process: a repeated flag", async () => {
    await run([
      "credential-process",
      ...flags,
      "--instance-properties",
      "host=web-1",
      "--instance-properties",
      "rack=r2",
    ]);
    expect(await latestProperties()).toEqual({ host: "web-1", rack: "r2" });
  });

  it("credential-process: IAM_RA_INSTANCE_PROPERTIES; a profile that requires them refuses none", async () => {
    await run(["credential-process", ...strictFlags], { IAM_RA_INSTANCE_PROPERTIES: "host=env-1,team=a" });
    expect(await latestProperties()).toEqual({ host: "env-1", team: "a" });
    const refused = await run(["credential-process", ...strictFlags]).catch((e: { stderr: string }) => e);
    expect((refused as { stderr: string }).stderr).toMatch(/instance properties/);
  });

  it("credential-process: a malformed pair is refused with the fix", async () => {
    const refused = await run(["credential-process", ...flags, "--instance-properties", "host"]).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect((refused as { stderr: string }).stderr).toMatch(/not key=value/);
  });

  it("update --once", async () => {
    await run([
      "update",
      "--once",
      "--profile",
      "ip",
      "--credentials-file",
      join(dir, "credentials"),
      ...flags,
      "--instance-properties",
      "host=updater",
    ]);
    expect(await latestProperties()).toEqual({ host: "updater" });
  });

  it("serve (the sidecar's server), from the variable", async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, "serve", "--json", ...flags, "--port", "0", "--token-file", join(dir, "token")],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, IAM_RA_INSTANCE_PROPERTIES: "host=served" },
      },
    );
    try {
      const [line] = (await once(child.stdout!, "data")) as [Buffer];
      const { url } = JSON.parse(line.toString()) as { url: string };
      for (let i = 0; i < 100 && !(await fetch(`${url}/readyz`)).ok; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await latestProperties()).toEqual({ host: "served" });
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });
});
