import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  createSoftHsm,
  createTestPki,
  hasSoftHsm,
  hasSoftwareTpm,
  type SoftHsm,
  type SoftwareTpm,
  startSoftwareTpm,
  type TestPki,
} from "@iam-ra/core/testing";
import { issueCertificateForKey } from "@iam-ra/core/x509";
import { type Emulator, startEmulator } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

// Keys generated inside SoftHSM2 tokens by OpenSC's pkcs11-tool; `iam-ra` signs CreateSession on the
// token and the emulator (which checks every signature) issues credentials.
const available = hasSoftHsm();
if (!available && process.env.CI)
  throw new Error("CI needs softhsm2 and opensc (apt-get install softhsm2 opensc)");

const tpmAvailable = hasSoftwareTpm();
if (!tpmAvailable && process.env.CI) {
  throw new Error("CI needs swtpm, tpm2-abrmd, dbus and tpm2-pkcs11 (see .ci/run)");
}

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const ROLE = "arn:aws:iam::123456789012:role/hsm-reader";
const PIN = "246810";
const KEYS = [
  { keyType: "rsa:2048", label: "rsa", id: "01" },
  { keyType: "EC:prime256v1", label: "p256", id: "02" },
  { keyType: "EC:secp384r1", label: "p384", id: "03" },
  { keyType: "EC:secp521r1", label: "p521", id: "04" },
];

let emu: Emulator;
let hsm: SoftHsm;
let dir: string;
let common: string[];
let env: NodeJS.ProcessEnv;

/** A trust anchor for the PKI's root and a profile whose role OU=hsm certificates may take; their flags. */
async function trustWorld(pki: TestPki): Promise<string[]> {
  const call = async (path: string, body: unknown) =>
    (await (
      await fetch(`${emu.url}${path}`, {
        method: "POST",
        headers: {
          authorization:
            "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: JSON.stringify(body),
      })
    ).json()) as Record<string, Record<string, string>>;
  const ta = (
    await call("/trustanchors", {
      name: "hsm",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    })
  ).trustAnchor!;
  const profile = (await call("/profiles", { name: "hsm", enabled: true, roleArns: [ROLE] })).profile!;
  emu.putRole(ROLE, {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        Condition: { StringEquals: { "aws:PrincipalTag/x509Subject/OU": "hsm" } },
      },
    ],
  });
  return [
    "--trust-anchor-arn",
    ta.trustAnchorArn!,
    "--profile-arn",
    profile.profileArn!,
    "--role-arn",
    ROLE,
    "--endpoint",
    emu.url,
  ];
}

async function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return await exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, ...extraEnv } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.close();
});

describe.skipIf(!available)("hardware keys through PKCS#11 (SoftHSM2)", () => {
  beforeAll(async () => {
    hsm = createSoftHsm();
    dir = mkdtempSync(join(tmpdir(), "iam-ra-cli-p11-"));
    hsm.initToken("ci", PIN);
    const pki = await createTestPki();
    for (const key of KEYS) {
      const publicKey = hsm.generateKey("ci", PIN, key);
      const { certificatePem, certificate } = await issueCertificateForKey(
        {
          subject: `CN=${key.label},OU=hsm,O=tests`,
          issuer: pki.root,
          notBefore: new Date(Date.now() - 86_400_000),
          notAfter: new Date(Date.now() + 86_400_000),
        },
        publicKey,
      );
      writeFileSync(join(dir, `${key.label}.pem`), certificatePem);
      hsm.writeCertificate("ci", PIN, certificate.raw, { label: key.label, id: key.id });
    }
    writeFileSync(join(dir, "pin"), `${PIN}\n`, { mode: 0o600 });
    common = [...(await trustWorld(pki)), "--pkcs11-lib", hsm.module];
    env = { ...process.env, SOFTHSM2_CONF: hsm.conf };
  });
  afterAll(async () => {
    hsm?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(KEYS)("credential-process signs with a $keyType key that never leaves the token", async (key) => {
    const r = await run(
      [
        "credential-process",
        "--certificate",
        join(dir, `${key.label}.pem`),
        "--private-key",
        `pkcs11:token=ci;object=${key.label};type=private`,
        ...common,
      ],
      { IAM_RA_PKCS11_PIN: PIN },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { AccessKeyId: string; Version: number };
    expect(doc.Version).toBe(1);
    expect(doc.AccessKeyId).toMatch(/^ASIA/);
  });

  it("the certificate comes from the token, the PIN from a file; nothing secret is printed", async () => {
    const r = await run([
      "credential-process",
      "--certificate",
      "pkcs11:token=ci;object=p256;type=cert",
      "--private-key",
      "pkcs11:token=ci;object=p256;type=private",
      "--pkcs11-pin-file",
      join(dir, "pin"),
      ...common,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).AccessKeyId).toMatch(/^ASIA/);
  });

  it("read-certificate-data reads the certificate from the token (the same as the file)", async () => {
    const fromToken = await run([
      "read-certificate-data",
      "--certificate",
      "pkcs11:token=ci;object=p256;type=cert",
      "--pkcs11-lib",
      hsm.module,
      "--pkcs11-pin-file",
      join(dir, "pin"),
      "--json",
    ]);
    expect(fromToken.stderr).toBe("");
    expect(fromToken.code).toBe(0);
    const fromFile = await run(["read-certificate-data", "--certificate", join(dir, "p256.pem"), "--json"]);
    expect(JSON.parse(fromToken.stdout)).toEqual(JSON.parse(fromFile.stdout));
    expect(JSON.parse(fromToken.stdout).subject).toContain("p256");
    const missing = await run([
      "read-certificate-data",
      "--certificate",
      "pkcs11:token=ci;object=nope;type=cert",
      "--pkcs11-lib",
      hsm.module,
      "--pkcs11-pin-file",
      join(dir, "pin"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it("a wrong PIN is one clear line, without the PIN and without a stack", async () => {
    const r = await run(
      [
        "credential-process",
        "--certificate",
        join(dir, "rsa.pem"),
        "--private-key",
        "pkcs11:token=ci;object=rsa",
        ...common,
      ],
      { IAM_RA_PKCS11_PIN: "999999" },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The token "ci" refused the user PIN.');
    expect(r.stderr).not.toContain("999999");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("doctor checks the token (module, token, PIN, key) and never prints the PIN", async () => {
    const aws = {
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "doctor-reads",
      AWS_ENDPOINT_URL: emu.url,
    };
    const args = [
      "doctor",
      "--certificate",
      join(dir, "p256.pem"),
      "--private-key",
      "pkcs11:token=ci;object=p256;type=private",
      ...common,
      "--json",
    ];
    type Doctor = { ok: boolean; checks: Array<{ id: string; ok: boolean | null; message: string }> };
    const good = await run(args, { ...aws, IAM_RA_PKCS11_PIN: PIN });
    const report = JSON.parse(good.stdout) as Doctor;
    const check = (r: Doctor, id: string) => r.checks.find((c) => c.id === id);
    expect(check(report, "hardware-key")).toMatchObject({ ok: true });
    expect(check(report, "hardware-key")?.message).toContain("pkcs11:token=ci;object=p256;type=private");
    expect(check(report, "key-matches-certificate")).toMatchObject({ ok: true });
    expect(check(report, "create-session")).toMatchObject({ ok: true });
    expect(good.stdout + good.stderr).not.toContain(PIN);

    const bad = await run(args, { ...aws, IAM_RA_PKCS11_PIN: "13579111" });
    expect(bad.code).toBe(1);
    const failed = JSON.parse(bad.stdout) as Doctor;
    expect(check(failed, "hardware-key")).toMatchObject({ ok: false });
    expect(check(failed, "hardware-key")?.message).toContain('The token "ci" refused the user PIN.');
    expect(check(failed, "key-matches-certificate")?.ok).toBeNull();
    expect(bad.stdout + bad.stderr).not.toContain("13579111");
  });

  it("sign-string signs on the token (the helper's key check)", async () => {
    const r = await run(
      [
        "sign-string",
        "--certificate",
        join(dir, "p384.pem"),
        "--private-key",
        "pkcs11:token=ci;object=p384",
        "--pkcs11-lib",
        hsm.module,
        "--format",
        "text",
      ],
      { IAM_RA_PKCS11_PIN: PIN },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toMatch(/^30[0-9a-f]+$/);
  });
});

describe.skipIf(!tpmAvailable)("keys in a TPM 2.0 (swtpm + tpm2-pkcs11)", () => {
  let tpm: SoftwareTpm;
  let tpmDir: string;
  let flags: string[];
  beforeAll(async () => {
    tpm = await startSoftwareTpm({ token: "tpm", pin: PIN });
    tpmDir = mkdtempSync(join(tmpdir(), "iam-ra-cli-tpm-"));
    const pki = await createTestPki();
    for (const algorithm of ["ecc256", "rsa2048"] as const) {
      const { certificatePem } = await issueCertificateForKey(
        {
          subject: `CN=tpm-${algorithm},OU=hsm,O=tests`,
          issuer: pki.root,
          notBefore: new Date(Date.now() - 86_400_000),
          notAfter: new Date(Date.now() + 86_400_000),
        },
        tpm.addKey(algorithm, algorithm),
      );
      writeFileSync(join(tpmDir, `${algorithm}.pem`), certificatePem);
    }
    writeFileSync(join(tpmDir, "pin"), PIN, { mode: 0o600 });
    flags = [
      ...(await trustWorld(pki)),
      "--pkcs11-lib",
      tpm.module,
      "--pkcs11-pin-file",
      join(tpmDir, "pin"),
    ];
  }, 120_000);
  afterAll(async () => {
    await tpm?.stop();
    if (tpmDir) rmSync(tpmDir, { recursive: true, force: true });
  });

  it.each(["ecc256", "rsa2048"])(
    "credential-process signs with a %s key held in the TPM",
    async (algorithm) => {
      const r = await run(
        [
          "credential-process",
          "--certificate",
          join(tpmDir, `${algorithm}.pem`),
          "--private-key",
          `pkcs11:token=tpm;object=${algorithm};type=private`,
          ...flags,
        ],
        tpm.env,
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).AccessKeyId).toMatch(/^ASIA/);
    },
  );

  it("a TPM whose owner hierarchy has a password: set up once by the admin, iam-ra needs only the key's PIN file", async () => {
    const owned = await startSoftwareTpm({ token: "owned", pin: PIN, ownerAuth: "owner-secret-7" });
    onTestFinished(() => owned.stop());
    const pki = await createTestPki();
    const { certificatePem } = await issueCertificateForKey(
      {
        subject: "CN=owned,OU=hsm,O=tests",
        issuer: pki.root,
        notBefore: new Date(Date.now() - 86_400_000),
        notAfter: new Date(Date.now() + 86_400_000),
      },
      owned.addKey("ecc256", "owned"),
    );
    writeFileSync(join(tpmDir, "owned.pem"), certificatePem);
    const r = await run(
      [
        "credential-process",
        "--certificate",
        join(tpmDir, "owned.pem"),
        "--private-key",
        "pkcs11:token=owned;object=owned;type=private",
        ...(await trustWorld(pki)),
        "--pkcs11-lib",
        owned.module,
        "--pkcs11-pin-file",
        join(tpmDir, "pin"),
      ],
      owned.env,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).AccessKeyId).toMatch(/^ASIA/);
  }, 120_000);

  it("a wrong TPM user PIN (the key's authorization) is one clear line", async () => {
    writeFileSync(join(tpmDir, "bad-pin"), "000000", { mode: 0o600 });
    const r = await run(
      [
        "credential-process",
        "--certificate",
        join(tpmDir, "ecc256.pem"),
        "--private-key",
        "pkcs11:token=tpm;object=ecc256",
        ...flags,
        "--pkcs11-pin-file",
        join(tpmDir, "bad-pin"),
      ],
      tpm.env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The token "tpm" refused the user PIN.');
    expect(r.stderr).not.toContain("000000");
  });
});
