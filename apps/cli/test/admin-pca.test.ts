import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from "@aws-sdk/client-acm-pca";
import { CreateRoleCommand, DeleteRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialProcess, createIamRa } from "./helpers/cli.ts";
import { type LocalAws, startLocalAws } from "./helpers/local-aws.ts";

let aws: LocalAws;
let dir: string;

const iamRa = createIamRa(() => aws.env);
const credentials = createCredentialProcess(() => ({ env: aws.env, endpoint: aws.emu.url }));

/** An ACTIVE root AWS Private CA in moto, set up the way AWS requires. */
async function createPrivateCa(): Promise<string> {
  const pca = new ACMPCAClient({
    endpoint: aws.moto.url,
    region: "us-east-1",
    credentials: { accessKeyId: "t", secretAccessKey: "t" },
  });
  const { CertificateAuthorityArn: arn } = await pca.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: "ROOT",
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: "EC_prime256v1",
        SigningAlgorithm: "SHA256WITHECDSA",
        Subject: { CommonName: "moto private root" },
      },
    }),
  );
  const { Csr } = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: arn }));
  const { CertificateArn } = await pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: arn,
      Csr: Buffer.from(Csr!),
      SigningAlgorithm: "SHA256WITHECDSA",
      TemplateArn: "arn:aws:acm-pca:::template/RootCACertificate/V1",
      Validity: { Type: "DAYS", Value: 365 },
    }),
  );
  const { Certificate } = await pca.send(
    new GetCertificateCommand({ CertificateAuthorityArn: arn, CertificateArn }),
  );
  await pca.send(
    new ImportCertificateAuthorityCertificateCommand({
      CertificateAuthorityArn: arn,
      Certificate: Buffer.from(Certificate!),
    }),
  );
  return arn!;
}

beforeAll(async () => {
  aws = await startLocalAws();
  dir = mkdtempSync(join(tmpdir(), "iam-ra-admin-pca-"));
}, 60_000);
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("admin plane with an existing AWS Private CA", () => {
  it("init --ca-mode pca-existing → role → host onboard (PCA-issued) → credentials; revoke marks it revoked", async () => {
    const pcaArn = await createPrivateCa();
    const init = await iamRa(["init", "-n", "pca", "--ca-mode", "pca-existing", "--pca-arn", pcaArn]);
    expect(init.json).toMatchObject({ outcome: "created", ca: { mode: "pca-existing", pcaArn } });
    expect((await iamRa(["role", "create", "app", "-n", "pca"])).code).toBe(0);
    const out = join(dir, "h1");
    const host = await iamRa(["host", "onboard", "h1", "--role", "app", "-n", "pca", "--output-dir", out]);
    expect(host.code).toBe(0);
    expect(host.json.certificate).toMatchObject({ subject: "CN=h1,OU=app", keySource: "generated" });
    const creds = await credentials(
      { certificate: host.json.files.certificate, privateKey: host.json.files.privateKey },
      host.json,
    );
    expect(creds).toMatchObject({ ok: true, doc: { Version: 1 } });
    const revoked = await iamRa(["host", "revoke", "h1", "-n", "pca", "--yes"]);
    expect(revoked.json).toMatchObject({ revoked: [host.json.certificate.serialNumber], crlStackName: null });
    expect((await iamRa(["host", "list", "-n", "pca"])).json.items[0]).toMatchObject({ status: "revoked" });
  }, 120_000);

  it("a pca-existing scope whose CA is not ACTIVE is refused before any stack", async () => {
    const r = await iamRa([
      "ca",
      "setup",
      "-n",
      "pca",
      "--scope",
      "ghost",
      "--ca-mode",
      "pca-existing",
      "--pca-arn",
      "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000",
    ]);
    expect(r.code).toBe(1);
    expect(
      (await iamRa(["ca", "list", "-n", "pca"])).json.items.map((i: { scope: string }) => i.scope),
    ).toEqual(["default"]);
  }, 60_000);

  it("a failing stack: the cause from its events, state unchanged, the corrected re-run succeeds", async () => {
    // Someone already made an IAM role with the name the stack wants.
    const iam = new IAMClient({
      endpoint: aws.moto.url,
      region: "us-east-1",
      credentials: { accessKeyId: "t", secretAccessKey: "t" },
    });
    await iam.send(new CreateRoleCommand({ RoleName: "iam-ra-pca-broken", AssumeRolePolicyDocument: "{}" }));
    const bad = await iamRa(["role", "create", "broken", "-n", "pca"]);
    expect(bad.code).toBe(1);
    expect(bad.json.error).toMatchObject({
      code: "stack-failed",
      message: expect.stringMatching(/iam-ra-pca-role-broken.*already exists/i),
    });
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    await iam.send(new DeleteRoleCommand({ RoleName: "iam-ra-pca-broken" }));
    const roles = (await iamRa(["role", "list", "-n", "pca"])).json.items.map(
      (i: { name: string }) => i.name,
    );
    expect(roles).not.toContain("broken");
    const again = await iamRa(["role", "create", "broken", "-n", "pca"]);
    expect(again.json).toMatchObject({ outcome: "created", name: "broken" });
  }, 120_000);
});
