import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IamRaError, ServiceError } from "@iam-ra/core";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki } from "@iam-ra/core/testing";
import { type CredentialMaterial, createCrl } from "@iam-ra/core/x509";
import { describe, expect, it, onTestFinished } from "vitest";
import { controlPlane, createWorld, OTHER_ROLE_ARN, ROLE_ARN, trustPolicyWhere } from "./harness.ts";

const expectRejection = async (promise: Promise<unknown>, code: string, status: number, message?: RegExp) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the call should have been rejected").toBeInstanceOf(IamRaError);
  expect((error as IamRaError).code).toBe(code);
  if (error instanceof ServiceError) expect(error.statusCode).toBe(status);
  if (message) expect((error as Error).message).toMatch(message);
  return error as ServiceError;
};

describe("CreateSession accepts valid requests", () => {
  it.each(["EC_P256", "EC_P384", "EC_P521", "RSA_2048"] as const)(
    "%s leaf through an intermediate",
    async (keyAlgorithm) => {
      const w = await createWorld();
      const leaf = await w.pki.issueLeaf({ keyAlgorithm });
      const result = await w.call(leaf);
      expect(result.credentials.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(result.credentials.expiration.getTime() - w.clock.now().getTime()).toBe(3600_000);
      expect(result.credentials.expirationText).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(result.assumedRoleArn).toBe(
        `arn:aws:sts::123456789012:assumed-role/app-reader/${leaf.certificate.serialNumber.toLowerCase()}`,
      );
      expect(result.sourceIdentity).toBe("workload-1");
      expect(result.subjectArn).toMatch(/^arn:aws:rolesanywhere:us-east-1:123456789012:subject\//);
    },
  );

  it("a leaf issued directly by the anchor needs no chain", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf({ issuer: "root" });
    await expect(w.call(leaf, {}, { chain: false })).resolves.toBeDefined();
  });

  it("a base path on the endpoint is signed and verified", async () => {
    const w = await createWorld({ basePath: "/prefix/ra" });
    expect(w.emu.url).toMatch(/\/prefix\/ra$/);
    const leaf = await w.pki.issueLeaf();
    await expect(w.call(leaf)).resolves.toBeDefined();
  });

  it("a role session name when the profile accepts it", async () => {
    const w = await createWorld({ acceptRoleSessionName: true });
    const leaf = await w.pki.issueLeaf();
    const result = await w.call(leaf, { roleSessionName: "build-42" });
    expect(result.assumedRoleArn).toBe("arn:aws:sts::123456789012:assumed-role/app-reader/build-42");
  });

  it("records the subject, as ListSubjects/GetSubject show", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await w.call(leaf);
    const { subjects } = await controlPlane(w.emu, "GET", "/subjects");
    expect(subjects).toHaveLength(1);
    const { subject } = await controlPlane(w.emu, "GET", `/subject/${subjects[0].subjectId}`);
    expect(subject.x509Subject).toContain("CN=workload-1");
    expect(subject.credentials[0].serialNumber).toBe(BigInt(`0x${leaf.certificate.serialNumber}`).toString());
  });
});

describe("instance properties", () => {
  it("core sends them and GetSubject shows the latest; ListSubjects leaves them out", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await w.call(leaf, { instanceProperties: { host: "build-1", env: "ci" } });
    const { subjects } = await controlPlane(w.emu, "GET", "/subjects");
    expect(subjects[0].instanceProperties).toBeUndefined();
    const first = await controlPlane(w.emu, "GET", `/subject/${subjects[0].subjectId}`);
    expect(first.subject.instanceProperties).toEqual([
      { failed: false, properties: { host: "build-1", env: "ci" }, seenAt: expect.any(String) },
    ]);
    await w.call(leaf, { instanceProperties: { host: "build-2" } });
    const second = await controlPlane(w.emu, "GET", `/subject/${subjects[0].subjectId}`);
    expect(second.subject.instanceProperties.map((p: { properties: unknown }) => p.properties)).toEqual([
      { host: "build-2" },
    ]);
  });

  it("a refusal after the certificate is authenticated is recorded as failed, as AWS shows it", async () => {
    const w = await createWorld();
    const reader = await w.pki.issueLeaf({ subject: "CN=r1,OU=readers,O=x" });
    await expectRejection(
      w.call(reader, { roleArn: OTHER_ROLE_ARN, instanceProperties: { host: "denied-1" } }),
      "access-denied",
      403,
      /trust policy/,
    );
    const { subjects } = await controlPlane(w.emu, "GET", "/subjects");
    expect(subjects).toHaveLength(1);
    const denied = (await controlPlane(w.emu, "GET", `/subject/${subjects[0].subjectId}`)).subject;
    expect(denied.credentials.map((c: { failed: boolean }) => c.failed)).toEqual([true]);
    expect(denied.instanceProperties).toEqual([
      { failed: true, properties: { host: "denied-1" }, seenAt: expect.any(String) },
    ]);
    // The same certificate then succeeds: the subject shows that instead.
    await w.call(reader, { roleArn: ROLE_ARN, instanceProperties: { host: "ok-1" } });
    const ok = (await controlPlane(w.emu, "GET", `/subject/${subjects[0].subjectId}`)).subject;
    expect(ok.credentials.map((c: { failed: boolean }) => c.failed)).toEqual([false]);
    expect(ok.instanceProperties[0]).toMatchObject({ failed: false, properties: { host: "ok-1" } });
  });

  it("a profile that requires them refuses a request without any", async () => {
    const w = await createWorld();
    const { profile } = await controlPlane(w.emu, "POST", "/profiles", {
      name: "strict",
      enabled: true,
      roleArns: [ROLE_ARN],
      requireInstanceProperties: true,
    });
    const leaf = await w.pki.issueLeaf();
    await expectRejection(
      w.call(leaf, { profileArn: profile.profileArn }),
      "access-denied",
      403,
      /instance properties/,
    );
    await expect(
      w.call(leaf, { profileArn: profile.profileArn, instanceProperties: { host: "a" } }),
    ).resolves.toBeDefined();
  });

  it.each([
    ["51 entries", Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]))],
    ["a 201-character value", { k: "v".repeat(201) }],
    ["a 201-character key", { ["k".repeat(201)]: "v" }],
    ["an empty value", { k: "" }],
  ])("%s is a ValidationException", async (_name, instanceProperties) => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(w.call(leaf, { instanceProperties }), "invalid-input", 400, /instanceProperties/);
  });
});

describe("logs", () => {
  it("one structured entry per request, and never a secret", async () => {
    const entries: unknown[] = [];
    const w = await createWorld({ logger: (e) => entries.push(e) });
    const leaf = await w.pki.issueLeaf();
    const { credentials } = await w.call(leaf);
    await w.call(leaf, { durationSeconds: 7200 }).catch(() => undefined);
    const text = entries.map((e) => JSON.stringify(e)).join("\n");
    expect(entries.length).toBeGreaterThanOrEqual(4);
    expect(text).toContain('"operation":"CreateSession"');
    for (const secret of [
      credentials.secretAccessKey,
      credentials.sessionToken,
      leaf.privateKeyPem.split("\n")[1]!,
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("CreateSession rejects what AWS rejects", () => {
  it("clock skew over 5 minutes", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const skewed = { now: () => new Date(w.clock.now().getTime() + 6 * 60_000) };
    const e = await expectRejection(
      w.call(leaf, {}, { clock: skewed }),
      "invalid-signature",
      403,
      /Signature expired/,
    );
    expect(e.hint).toMatch(/clock/);
  });

  it("a certificate from another CA (untrusted)", async () => {
    const w = await createWorld();
    const { createTestPki } = await import("@iam-ra/core/testing");
    const stranger = await (await createTestPki()).issueLeaf();
    await expectRejection(
      w.call(stranger, {}, { chain: false }),
      "untrusted-certificate",
      403,
      /Untrusted Signing Certificate/,
    );
  });

  it("a missing intermediate", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(w.call(leaf, {}, { chain: false }), "untrusted-certificate", 403, /does not reach/);
  });

  it("a CA below a path-length-0 intermediate (a sub-CA it was not allowed to make)", async () => {
    const w = await createWorld();
    const { issueCertificate } = await import("@iam-ra/core/x509");
    const now = w.clock.now().getTime();
    const validity = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) };
    // The test PKI's intermediate has pathLenConstraint 0, so this CA must not validate.
    const subCa = await issueCertificate({
      issuer: w.pki.intermediate,
      subject: "CN=Looks Like Another Issuer",
      ca: { pathLength: 0 },
      ...validity,
    });
    const leaf = await issueCertificate({ issuer: subCa, subject: "CN=x,OU=readers", ...validity });
    await expectRejection(
      w.call({
        certificatePem: leaf.certificatePem + subCa.certificatePem,
        privateKeyPem: leaf.privateKeyPem,
      }),
      "untrusted-certificate",
      403,
      /path length/,
    );
  });

  it("an expired certificate", async () => {
    const w = await createWorld();
    const now = w.clock.now().getTime();
    const leaf = await w.pki.issueLeaf({
      notBefore: new Date(now - 10 * 86_400_000),
      notAfter: new Date(now - 86_400_000),
    });
    await expectRejection(w.call(leaf), "certificate-expired", 403, /Certificate expired/);
  });

  it("a certificate not yet valid", async () => {
    const w = await createWorld();
    const now = w.clock.now().getTime();
    const leaf = await w.pki.issueLeaf({
      notBefore: new Date(now + 86_400_000),
      notAfter: new Date(now + 10 * 86_400_000),
    });
    await expectRejection(w.call(leaf), "certificate-expired", 403, /not yet valid/);
  });

  it("a certificate revoked by an enabled CRL, and accepted again when the CRL is disabled", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const crl = await createCrl({
      issuer: w.pki.intermediate,
      revoked: [{ serialNumber: leaf.certificate.serialNumber, revocationDate: w.clock.now() }],
      thisUpdate: w.clock.now(),
      nextUpdate: new Date(w.clock.now().getTime() + 86_400_000),
    });
    const { crl: record } = await controlPlane(w.emu, "POST", "/crls", {
      name: "revocations",
      crlData: crl.toString("base64"),
      trustAnchorArn: w.trustAnchorArn,
      enabled: true,
    });
    await expectRejection(w.call(leaf), "certificate-revoked", 403, /revoked/);
    await controlPlane(w.emu, "POST", `/crl/${record.crlId}/disable`);
    await expect(w.call(leaf)).resolves.toBeDefined();
  });

  it("a CRL with the CA's name but signed by another key is not honoured", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    // Another PKI with the same names: its "intermediate" is a look-alike with an unrelated key.
    const forger = await createTestPki({ at: w.clock.now() });
    expect(forger.intermediate.certificate.subject).toBe(w.pki.intermediate.certificate.subject);
    const forged = await createCrl({
      issuer: forger.intermediate,
      revoked: [{ serialNumber: leaf.certificate.serialNumber, revocationDate: w.clock.now() }],
      thisUpdate: w.clock.now(),
      nextUpdate: new Date(w.clock.now().getTime() + 86_400_000),
    });
    await controlPlane(w.emu, "POST", "/crls", {
      name: "forged",
      crlData: forged.toString("base64"),
      trustAnchorArn: w.trustAnchorArn,
      enabled: true,
    });
    await expect(w.call(leaf)).resolves.toBeDefined();
  });

  it("a disabled trust anchor", async () => {
    const w = await createWorld();
    await controlPlane(w.emu, "POST", `/trustanchor/${w.trustAnchorId}/disable`);
    await expectRejection(w.call(await w.pki.issueLeaf()), "untrusted-certificate", 403, /disabled/);
  });

  it("an unknown trust anchor", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(
      w.call(leaf, { trustAnchorArn: w.trustAnchorArn.replace(/[0-9a-f]{8}-/, "00000000-") }),
      "not-found",
      404,
    );
  });

  it("an unknown profile", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(
      w.call(leaf, { profileArn: w.profileArn.replace(/[0-9a-f]{8}-/, "00000000-") }),
      "not-found",
      404,
    );
  });

  it("a disabled profile", async () => {
    const w = await createWorld();
    await controlPlane(w.emu, "POST", `/profile/${w.profileId}/disable`);
    await expectRejection(w.call(await w.pki.issueLeaf()), "profile-disabled", 403, /Profile is disabled/);
  });

  it("a role the profile does not list", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(
      w.call(leaf, { roleArn: "arn:aws:iam::123456789012:role/not-in-profile" }),
      "role-not-in-profile",
      403,
    );
  });

  it("a duration above the profile's", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(w.call(leaf, { durationSeconds: 7200 }), "duration-invalid", 400, /at most 3600/);
  });

  it("a role session name the profile does not accept", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    await expectRejection(
      w.call(leaf, { roleSessionName: "nope" }),
      "session-name-not-allowed",
      403,
      /roleSessionName/,
    );
  });

  it("a certificate for role A cannot get role B (trust policy binds the subject OU)", async () => {
    const w = await createWorld();
    const reader = await w.pki.issueLeaf({ subject: "CN=r1,OU=readers,O=x" });
    await expect(w.call(reader, { roleArn: ROLE_ARN })).resolves.toBeDefined();
    const e = await expectRejection(
      w.call(reader, { roleArn: OTHER_ROLE_ARN }),
      "access-denied",
      403,
      /trust policy/,
    );
    expect(e.hint).toMatch(/trust policy/);
  });

  it("a role without a trust policy", async () => {
    const w = await createWorld();
    await controlPlane(w.emu, "PATCH", `/profile/${w.profileId}`, {
      roleArns: [ROLE_ARN, "arn:aws:iam::123456789012:role/ghost"],
    });
    await expectRejection(
      w.call(await w.pki.issueLeaf(), { roleArn: "arn:aws:iam::123456789012:role/ghost" }),
      "access-denied",
      403,
      /no trust policy/,
    );
  });

  it("a trust policy that lacks sts:SetSourceIdentity", async () => {
    const w = await createWorld();
    w.emu.putRole(ROLE_ARN, {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "rolesanywhere.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        },
      ],
    });
    await expectRejection(w.call(await w.pki.issueLeaf()), "access-denied", 403, /SetSourceIdentity/);
  });

  it("aws:SourceArn conditions are evaluated", async () => {
    const w = await createWorld();
    w.emu.putRole(
      ROLE_ARN,
      trustPolicyWhere({
        ArnEquals: { "aws:SourceArn": "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/other" },
      }),
    );
    await expectRejection(w.call(await w.pki.issueLeaf()), "access-denied", 403);
    w.emu.putRole(
      ROLE_ARN,
      trustPolicyWhere({
        ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/*" },
        StringLike: {
          "aws:PrincipalTag/x509Issuer/CN": "iam-ra Test Intermediate*",
          "aws:PrincipalTag/x509SAN/DNS": "*.example.com",
        },
      }),
    );
    await expect(w.call(await w.pki.issueLeaf({ san: { dns: ["svc.example.com"] } }))).resolves.toBeDefined();
  });

  it("subject attributes that cannot become session tags", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf({ subject: "CN=bad (name),OU=readers" });
    await expectRejection(w.call(leaf), "access-denied", 403, /session tags/);
  });

  it("a SHA-256 leaf under a SHA-1-signed intermediate", async () => {
    const w = await createWorld();
    // openssl signs an intermediate with SHA-1 under the world's root, then a SHA-256 leaf under it.
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-sha1-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const openssl = (args: string[]) =>
      execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    file("root.pem", w.pki.root.certificatePem);
    file("root.key", w.pki.root.privateKeyPem);
    file("ca.ext", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
    file(
      "leaf.ext",
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    );
    const days = ["-days", "30", "-set_serial", String(Date.now())];
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "inter.key"]);
    openssl(["req", "-new", "-key", "inter.key", "-subj", "/CN=SHA-1 Intermediate", "-out", "inter.csr"]);
    openssl([
      "x509",
      "-req",
      "-in",
      "inter.csr",
      "-CA",
      "root.pem",
      "-CAkey",
      "root.key",
      "-sha1",
      "-extfile",
      "ca.ext",
      ...days,
      "-out",
      "inter.pem",
    ]);
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key"]);
    openssl(["req", "-new", "-key", "leaf.key", "-subj", "/CN=sha1-chain/OU=readers", "-out", "leaf.csr"]);
    openssl([
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "inter.pem",
      "-CAkey",
      "inter.key",
      "-sha256",
      "-extfile",
      "leaf.ext",
      ...days,
      "-out",
      "leaf.pem",
    ]);
    const read = (name: string) => readFileSync(join(dir, name), "utf8");
    expect(new X509Certificate(read("inter.pem")).toLegacyObject()).toBeDefined();
    const key = createPrivateKey(read("leaf.key"));
    const certificate = new X509Certificate(read("leaf.pem"));
    // openssl dates its certificates from the wall clock, which has moved on since the harness fixed
    // its clock: catch up, or the intermediate is "not yet valid" instead of "signed with SHA-1".
    w.clock.set(new Date(Math.max(w.clock.now().getTime(), Date.now() + 1000)));
    // Built without core's checks (which refuse SHA-1 before sending): the emulator must refuse it itself.
    const unchecked: CredentialMaterial = {
      certificate,
      chain: [new X509Certificate(read("inter.pem"))],
      privateKey: key,
      algorithm: "AWS4-X509-ECDSA-SHA256",
      keyType: "EC",
      serialNumber: BigInt(`0x${certificate.serialNumber}`).toString(10),
    };
    await expectRejection(
      createSession(unchecked, w.params, { endpoint: w.emu.url, clock: w.clock, maxAttempts: 1 }),
      "untrusted-certificate",
      403,
      /intermediate certificate is signed with SHA-?1/i,
    );
  });

  it("a CA certificate used as the signing certificate", async () => {
    const w = await createWorld();
    // Core's client refuses a CA certificate before sending it; the emulator must refuse it too,
    // whatever client signs, so this builds the material without core's checks.
    const key = createPrivateKey(w.pki.intermediate.privateKeyPem);
    const certificate = new X509Certificate(w.pki.intermediate.certificatePem);
    const unchecked: CredentialMaterial = {
      certificate,
      chain: [],
      privateKey: key,
      algorithm: key.asymmetricKeyType === "rsa" ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256",
      keyType: key.asymmetricKeyType === "rsa" ? "RSA" : "EC",
      serialNumber: BigInt(`0x${certificate.serialNumber}`).toString(10),
    };
    await expectRejection(
      createSession(unchecked, w.params, { endpoint: w.emu.url, clock: w.clock, maxAttempts: 1 }),
      "untrusted-certificate",
      403,
      /CA certificate/,
    );
  });
});
