import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki, FixedClock } from "@iam-ra/core/testing";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startEmulator } from "../src/index.ts";
import { type MotoServer, startMoto } from "../src/testing/index.ts";
import { boundTrustPolicy, controlPlane } from "./harness.ts";

const exec = promisify(execFile);
const SETUP = fileURLToPath(new URL("./fixtures/moto_setup.py", import.meta.url));

/** Drives moto with boto3 (a stock client); returns the script's JSON. */
async function boto3(moto: MotoServer, ...args: string[]) {
  const { stdout } = await exec("python3", [SETUP, moto.url, ...args]);
  return JSON.parse(stdout);
}

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(() => moto?.close());

describe("with moto as ACM PCA and IAM", () => {
  it("an AWS_ACM_PCA trust anchor trusts what the private CA issued, and only that", async () => {
    const pca = await boto3(moto, "pca");
    const emu = await startEmulator({ acmPcaEndpoint: moto.url });
    onTestFinished(() => emu.close());
    const { trustAnchor } = await controlPlane(emu, "POST", "/trustanchors", {
      name: "pca-anchor",
      enabled: true,
      source: { sourceType: "AWS_ACM_PCA", sourceData: { acmPcaArn: pca.caArn } },
    });
    expect(trustAnchor.source).toEqual({ sourceType: "AWS_ACM_PCA", sourceData: { acmPcaArn: pca.caArn } });
    const role = "arn:aws:iam::123456789012:role/pca-reader";
    const { profile } = await controlPlane(emu, "POST", "/profiles", {
      name: "p",
      enabled: true,
      roleArns: [role],
    });
    emu.putRole(role, boundTrustPolicy("pca"));
    const params = {
      trustAnchorArn: trustAnchor.trustAnchorArn,
      profileArn: profile.profileArn,
      roleArn: role,
    };

    const material = await parseCredentialMaterial({
      certificate: pca.certificatePem,
      privateKey: pca.privateKeyPem,
      intermediates: pca.chainPem || undefined,
    });
    const ok = await createSession(material, params, { endpoint: emu.url, maxAttempts: 1 });
    expect(ok.assumedRoleArn).toMatch(/assumed-role\/pca-reader\//);

    // A certificate from another CA is refused by the same anchor.
    const stranger = await (await createTestPki()).issueLeaf({ subject: "CN=x,OU=pca", issuer: "root" });
    const strangerMaterial = await parseCredentialMaterial({
      certificate: stranger.certificatePem,
      privateKey: stranger.privateKeyPem,
    });
    await expect(
      createSession(strangerMaterial, params, { endpoint: emu.url, maxAttempts: 1 }),
    ).rejects.toMatchObject({ code: "untrusted-certificate", statusCode: 403 });
  }, 60_000);

  it("an AWS_ACM_PCA anchor whose CA the endpoint does not know trusts nothing", async () => {
    const pca = await boto3(moto, "pca");
    const emu = await startEmulator({ acmPcaEndpoint: moto.url });
    onTestFinished(() => emu.close());
    const { trustAnchor } = await controlPlane(emu, "POST", "/trustanchors", {
      name: "ghost",
      enabled: true,
      source: {
        sourceType: "AWS_ACM_PCA",
        sourceData: {
          acmPcaArn: pca.caArn.replace(/[0-9a-f-]{36}$/, "00000000-0000-0000-0000-000000000000"),
        },
      },
    });
    const role = "arn:aws:iam::123456789012:role/pca-reader";
    const { profile } = await controlPlane(emu, "POST", "/profiles", {
      name: "p",
      enabled: true,
      roleArns: [role],
    });
    emu.putRole(role, boundTrustPolicy("pca"));
    const material = await parseCredentialMaterial({
      certificate: pca.certificatePem,
      privateKey: pca.privateKeyPem,
    });
    await expect(
      createSession(
        material,
        { trustAnchorArn: trustAnchor.trustAnchorArn, profileArn: profile.profileArn, roleArn: role },
        { endpoint: emu.url, maxAttempts: 1 },
      ),
    ).rejects.toMatchObject({ code: "untrusted-certificate" });
  }, 60_000);

  it("trust policies are read from IAM (moto GetRole) for roles not registered with the emulator", async () => {
    const pki = await createTestPki();
    const emu = await startEmulator({ iamEndpoint: moto.url });
    onTestFinished(() => emu.close());
    const { roleArn } = await boto3(moto, "iam", "moto-bound", JSON.stringify(boundTrustPolicy("moto-team")));
    const { roleArn: openArn } = await boto3(
      moto,
      "iam",
      "moto-not-for-rolesanywhere",
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
    );
    expect(roleArn).toBe("arn:aws:iam::123456789012:role/workloads/moto-bound");
    const { trustAnchor } = await controlPlane(emu, "POST", "/trustanchors", {
      name: "a",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    });
    const unknownArn = "arn:aws:iam::123456789012:role/not-in-iam";
    const { profile } = await controlPlane(emu, "POST", "/profiles", {
      name: "p",
      enabled: true,
      roleArns: [roleArn, openArn, unknownArn],
    });
    const call = async (ou: string, role: string) => {
      const leaf = await pki.issueLeaf({ subject: `CN=w,OU=${ou}`, issuer: "root" });
      const material = await parseCredentialMaterial({
        certificate: leaf.certificatePem,
        privateKey: leaf.privateKeyPem,
      });
      return createSession(
        material,
        { trustAnchorArn: trustAnchor.trustAnchorArn, profileArn: profile.profileArn, roleArn: role },
        { endpoint: emu.url, maxAttempts: 1 },
      );
    };
    await expect(call("moto-team", roleArn)).resolves.toMatchObject({
      assumedRoleArn: expect.stringMatching(/assumed-role\/moto-bound\//),
    });
    // The policy's condition binds the subject OU: another team's certificate is refused.
    await expect(call("other-team", roleArn)).rejects.toMatchObject({ statusCode: 403 });
    // A role that trusts another service, and a role IAM does not know, are refused.
    await expect(call("moto-team", openArn)).rejects.toMatchObject({ statusCode: 403 });
    await expect(call("moto-team", unknownArn)).rejects.toMatchObject({ statusCode: 403 });
  }, 60_000);

  it("a changed trust policy (UpdateAssumeRolePolicy) takes effect: a grant at once, a revocation within the TTL", async () => {
    const clock = new FixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const pki = await createTestPki({ at: clock.now() });
    const emu = await startEmulator({ iamEndpoint: moto.url, clock, trustPolicyTtlMs: 2000 });
    onTestFinished(() => emu.close());
    const { roleArn } = await boto3(moto, "iam", "moto-changing", JSON.stringify(boundTrustPolicy("team-a")));
    const { trustAnchor } = await controlPlane(emu, "POST", "/trustanchors", {
      name: "a",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    });
    const { profile } = await controlPlane(emu, "POST", "/profiles", {
      name: "p",
      enabled: true,
      roleArns: [roleArn],
    });
    const leaves = {
      a: await pki.issueLeaf({ subject: "CN=w,OU=team-a", issuer: "root" }),
      b: await pki.issueLeaf({ subject: "CN=w,OU=team-b", issuer: "root" }),
    };
    const call = async (team: keyof typeof leaves) => {
      const material = await parseCredentialMaterial({
        certificate: leaves[team].certificatePem,
        privateKey: leaves[team].privateKeyPem,
      });
      return createSession(
        material,
        { trustAnchorArn: trustAnchor.trustAnchorArn, profileArn: profile.profileArn, roleArn },
        { endpoint: emu.url, clock, maxAttempts: 1 },
      );
    };
    await expect(call("a")).resolves.toBeDefined();
    await expect(call("b")).rejects.toMatchObject({ statusCode: 403 });

    // Now team-b, not team-a. The grant counts at once: a refusal is checked against IAM again.
    await boto3(moto, "update-trust", "moto-changing", JSON.stringify(boundTrustPolicy("team-b")));
    await expect(call("b")).resolves.toBeDefined();
    await expect(call("a")).rejects.toMatchObject({ statusCode: 403 });

    // Back to team-a; team-b keeps the cached grant until the TTL has passed, then is refused.
    await boto3(moto, "update-trust", "moto-changing", JSON.stringify(boundTrustPolicy("team-a")));
    await expect(call("a")).resolves.toBeDefined();
    clock.advance(1000);
    await expect(call("a")).resolves.toBeDefined();
    await boto3(moto, "update-trust", "moto-changing", JSON.stringify(boundTrustPolicy("team-b")));
    await expect(call("a")).resolves.toBeDefined(); // within the TTL of the policy read above
    clock.advance(2000);
    await expect(call("a")).rejects.toMatchObject({ statusCode: 403 });
    await expect(call("b")).resolves.toBeDefined();
  }, 60_000);
});
