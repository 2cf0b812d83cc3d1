import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestPki, type TestPki } from "@iam-ra/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/server.ts";
import { createBoundTrustPolicy } from "../src/setup.ts";
import { createEmulatorTls } from "../src/tls.ts";
import { controlPlaneOverTls } from "./harness.ts";

// An independent client over https: Python's ssl + http.client + cryptography, signing by its own
// canonicalisation (no botocore, no iam-ra code), trusting only the CA the emulator wrote, with
// request layouts our Node client never sends.
const CLIENT = fileURLToPath(new URL("./fixtures/https_create_session.py", import.meta.url));
const ROLE = "arn:aws:iam::123456789012:role/independent";

interface ClientAnswer {
  status?: number;
  errorType?: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: CreateSession's JSON, read field by field
  body?: any;
  tlsError?: string;
}

let emu: Emulator;
let pki: TestPki;
let dir: string;
let params: Record<string, string>;

function runClient(input: Record<string, unknown>): Promise<ClientAnswer> {
  return new Promise((resolve, reject) => {
    const child = execFile("python3", [CLIENT], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as ClientAnswer);
    });
    child.stdin?.end(JSON.stringify(input));
  });
}

beforeAll(async () => {
  const tls = await createEmulatorTls();
  emu = await startEmulator({ tls });
  dir = mkdtempSync(join(tmpdir(), "iam-ra-emu-tls-client-"));
  writeFileSync(join(dir, "ca.pem"), tls.caCertificatePem);
  // Another emulator's CA: a client trusting it must refuse this server.
  writeFileSync(join(dir, "other-ca.pem"), (await createEmulatorTls()).caCertificatePem);
  pki = await createTestPki();
  const anchor = await fetchJson("/trustanchors", {
    name: "independent",
    enabled: true,
    source: {
      sourceType: "CERTIFICATE_BUNDLE",
      sourceData: { x509CertificateData: pki.root.certificatePem },
    },
  });
  const profile = await fetchJson("/profiles", { name: "independent", enabled: true, roleArns: [ROLE] });
  emu.putRole(ROLE, createBoundTrustPolicy("readers"));
  params = {
    trustAnchorArn: anchor.trustAnchor.trustAnchorArn,
    profileArn: profile.profile.profileArn,
    roleArn: ROLE,
  };
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The control plane over https, trusting only the emulator's CA. */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers read field by field
function fetchJson(path: string, body: unknown): Promise<any> {
  return controlPlaneOverTls(emu.url, readFileSync(join(dir, "ca.pem"), "utf8"), path, body);
}

describe("an independent Python client over https (--tls)", () => {
  const cases = [
    { variant: "lower-sorted", keyAlgorithm: "EC_P256", chain: true },
    { variant: "mixed-case", keyAlgorithm: "RSA_2048", chain: true },
    { variant: "query-arns", keyAlgorithm: "EC_P384", chain: false },
    { variant: "extra-signed", keyAlgorithm: "RSA_2048", chain: false },
  ] as const;
  for (const { variant, keyAlgorithm, chain } of cases) {
    it(`${variant}, ${keyAlgorithm} key, chain header ${chain ? "sent" : "absent"}: gets credentials`, async () => {
      const leaf = await pki.issueLeaf({
        keyAlgorithm,
        issuer: chain ? "intermediate" : "root",
        subject: `CN=py-${variant},OU=readers,O=iam-ra tests`,
      });
      const answer = await runClient({
        url: emu.url,
        caFile: join(dir, "ca.pem"),
        region: "us-east-1",
        certPem: leaf.certificatePem,
        keyPem: leaf.privateKeyPem,
        chainPems: chain ? [pki.intermediate.certificatePem] : [],
        params,
        variant,
      });
      expect(answer.errorType ?? null).toBeNull();
      expect(answer.status).toBe(201);
      expect(answer.body.credentialSet[0].credentials.accessKeyId).toMatch(/^ASIA/);
      expect(answer.body.credentialSet[0].roleArn).toBe(ROLE);
    });
  }

  it("refuses the server when it trusts another CA (TLS verification is real)", async () => {
    const leaf = await pki.issueLeaf({ issuer: "root" });
    const answer = await runClient({
      url: emu.url,
      caFile: join(dir, "other-ca.pem"),
      region: "us-east-1",
      certPem: leaf.certificatePem,
      keyPem: leaf.privateKeyPem,
      chainPems: [],
      params,
      variant: "lower-sorted",
    });
    expect(answer.tlsError).toMatch(/certificate verify failed/);
  });

  it("is refused when its signature does not cover what it sends (a wrong region scope)", async () => {
    const leaf = await pki.issueLeaf({ issuer: "root" });
    const answer = await runClient({
      url: emu.url,
      caFile: join(dir, "ca.pem"),
      region: "eu-west-1",
      certPem: leaf.certificatePem,
      keyPem: leaf.privateKeyPem,
      chainPems: [],
      params,
      variant: "lower-sorted",
    });
    expect({ status: answer.status, type: answer.errorType }).toEqual({
      status: 403,
      type: "AccessDeniedException",
    });
  });
});
