import { execFile } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from "@aws-sdk/client-acm-pca";
import { CreateRoleCommand, DeleteRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { createCrl, createSelfSignedCa } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, createCredentialProcess, createIamRa } from "./helpers/cli.ts";
import { type LocalAws, startLocalAws } from "./helpers/local-aws.ts";

const exec = promisify(execFile);
let aws: LocalAws;
let dir: string;

const iamRa = createIamRa(() => aws.env);
const credentials = createCredentialProcess(() => ({ env: aws.env, endpoint: aws.emu.url }));

const client = { region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } };

/**
 * An ACTIVE root AWS Private CA in moto, set up the way AWS requires; with `crlBucket`, it
 * publishes its CRL there (the launcher makes moto do so on every revocation, as AWS does).
 */
async function createPrivateCa(
  options: { crlBucket?: string; crlDelaySeconds?: number } = {},
): Promise<string> {
  const pca = new ACMPCAClient({ ...client, endpoint: aws.moto.url });
  if (options.crlBucket)
    await new S3Client({ ...client, endpoint: aws.moto.url, forcePathStyle: true }).send(
      new CreateBucketCommand({ Bucket: options.crlBucket }),
    );
  const { CertificateAuthorityArn: arn } = await pca.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: "ROOT",
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: "EC_prime256v1",
        SigningAlgorithm: "SHA256WITHECDSA",
        Subject: { CommonName: `moto private root ${options.crlBucket ?? ""}`.trim() },
      },
      ...(options.crlBucket
        ? {
            RevocationConfiguration: {
              CrlConfiguration: {
                Enabled: true,
                ExpirationInDays: 7,
                S3BucketName: options.crlBucket,
                S3ObjectAcl: "BUCKET_OWNER_FULL_CONTROL",
              },
            },
          }
        : {}),
      // The launcher's knob: publish CRLs this late, as AWS does (within about 30 minutes).
      ...(options.crlDelaySeconds
        ? { Tags: [{ Key: "iam-ra-moto:crl-delay-seconds", Value: String(options.crlDelaySeconds) }] }
        : {}),
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
    expect(init.json).toMatchObject({
      outcome: "created",
      ca: { mode: "pca-existing", pcaArn, pcaPublishesCrl: false },
    });
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
    // This CA publishes no CRL: revoked in the CA, but Roles Anywhere cannot know, and says so.
    expect(revoked.json).toMatchObject({
      revoked: [host.json.certificate.serialNumber],
      crlStackName: null,
      pcaCrl: "no-crl",
      refusedByRolesAnywhere: false,
    });
    expect((await iamRa(["host", "list", "-n", "pca"])).json.items[0]).toMatchObject({ status: "revoked" });
    // Without --json, the warning names the next step.
    const human = await exec(
      process.execPath,
      [BIN, "host", "revoke", "h1", "-n", "pca", "--yes", "--serial", host.json.certificate.serialNumber],
      { env: aws.env },
    );
    // oclif wraps warnings at the terminal width behind " ›".
    expect(human.stderr.replace(/\s*›\s*/g, " ")).toMatch(
      /publishes no CRL.*iam-ra ca sync-crl --scope default/,
    );
    const sync = await iamRa(["ca", "sync-crl", "-n", "pca", "--scope", "default"]);
    expect(sync.json).toMatchObject({ state: "no-crl", location: null });
  }, 120_000);

  it("pca-existing with a CRL: revoke imports the CA's published CRL, so CreateSession is refused", async () => {
    const pcaArn = await createPrivateCa({ crlBucket: "pca-crls" });
    const init = await iamRa(["init", "-n", "pcacrl", "--ca-mode", "pca-existing", "--pca-arn", pcaArn]);
    expect(init.json).toMatchObject({ ca: { pcaPublishesCrl: true } });
    expect((await iamRa(["role", "create", "app", "-n", "pcacrl"])).code).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: host onboard --json documents
    const hosts: any[] = [];
    for (const name of ["a1", "a2"]) {
      const out = join(dir, `pcacrl-${name}`);
      const host = await iamRa([
        "host",
        "onboard",
        name,
        "--role",
        "app",
        "-n",
        "pcacrl",
        "--output-dir",
        out,
      ]);
      expect(host.code).toBe(0);
      hosts.push(host.json);
    }
    const files = (h: (typeof hosts)[number]) => ({
      certificate: h.files.certificate,
      privateKey: h.files.privateKey,
    });
    expect(await credentials(files(hosts[0]), hosts[0])).toMatchObject({ ok: true });

    const revoked = await iamRa(["host", "revoke", "a1", "-n", "pcacrl", "--yes"]);
    expect(revoked.json).toMatchObject({
      scope: "default",
      revoked: [hosts[0].certificate.serialNumber],
      pcaCrl: "imported",
      refusedByRolesAnywhere: true,
      crlStackName: "iam-ra-pcacrl-crl-default",
    });
    expect(await credentials(files(hosts[0]), hosts[0])).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });
    // The other host's certificate is not on the CRL.
    expect(await credentials(files(hosts[1]), hosts[1])).toMatchObject({ ok: true });

    // sync-crl finds nothing new: no redeploy, same answer.
    const sync = await iamRa(["ca", "sync-crl", "-n", "pcacrl", "--scope", "default", "--wait", "1m"]);
    expect(sync.json).toMatchObject({
      state: "imported",
      location: expect.stringMatching(/^s3:\/\/pca-crls\/crl\/[0-9a-f-]+\.crl$/),
      revokedSerials: [hosts[0].certificate.serialNumber],
      missingSerials: [],
    });
    const bad = await iamRa(["ca", "sync-crl", "-n", "pcacrl", "--scope", "default", "--wait", "soon"]);
    // A bad flag value is a usage error (exit 2), with the flag's own hint.
    expect(bad).toMatchObject({
      code: 2,
      json: { error: { code: "invalid-input", hint: expect.stringMatching(/90s/) } },
    });
    expect(bad.json.error.message).toMatch(/--wait soon is not a duration/);

    // An older CRL (signed by the CA, so genuine) put back into the bucket never replaces the newer
    // one Roles Anywhere has: revoke a2, then replay the CRL from before.
    const s3 = new S3Client({ ...client, endpoint: aws.moto.url, forcePathStyle: true });
    const key = `crl/${pcaArn.split("/").pop()}.crl`;
    const older = await (
      await s3.send(new GetObjectCommand({ Bucket: "pca-crls", Key: key }))
    ).Body!.transformToByteArray();
    const second = await iamRa(["host", "revoke", "a2", "-n", "pcacrl", "--yes"]);
    expect(second.json).toMatchObject({ pcaCrl: "imported", refusedByRolesAnywhere: true });
    await s3.send(new PutObjectCommand({ Bucket: "pca-crls", Key: key, Body: older }));
    const replayed = await iamRa(["ca", "sync-crl", "-n", "pcacrl", "--scope", "default"]);
    expect(replayed.json).toMatchObject({
      state: "pending",
      missingSerials: [hosts[1].certificate.serialNumber],
    });
    expect(await credentials(files(hosts[1]), hosts[1])).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });
    expect((await iamRa(["ca", "list", "-n", "pcacrl"])).json.items[0]).toMatchObject({ revoked: 2 });
    // A serial that is not the host's is refused before anything is revoked.
    const stranger = await iamRa(["host", "revoke", "a2", "-n", "pcacrl", "--yes", "--serial", "0x1f"]);
    expect(stranger).toMatchObject({ code: 1, json: { error: { code: "invalid-input" } } });
  }, 180_000);

  it("a CRL in the CA's bucket that the CA did not sign is refused, and nothing is imported", async () => {
    const pcaArn = await createPrivateCa({ crlBucket: "pca-forged-crls" });
    expect(
      (await iamRa(["init", "-n", "pcaforged", "--ca-mode", "pca-existing", "--pca-arn", pcaArn])).code,
    ).toBe(0);
    // Someone who can write to the bucket plants a CRL of their own making.
    const stranger = await createSelfSignedCa({
      subject: "CN=moto private root pca-forged-crls",
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
    });
    const forged = await createCrl({
      issuer: {
        certificatePem: stranger.certificatePem,
        privateKey: createPrivateKey(stranger.privateKeyPem),
      },
      revoked: [{ serialNumber: "01", revocationDate: new Date() }],
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 86_400_000),
    });
    await new S3Client({ ...client, endpoint: aws.moto.url, forcePathStyle: true }).send(
      new PutObjectCommand({
        Bucket: "pca-forged-crls",
        Key: `crl/${pcaArn.split("/").pop()}.crl`,
        Body: forged,
      }),
    );
    const sync = await iamRa(["ca", "sync-crl", "-n", "pcaforged", "--scope", "default"]);
    expect(sync).toMatchObject({ code: 1, json: { error: { code: "untrusted-certificate" } } });
    expect(sync.json.error.message).toMatch(/not signed by the Private CA/);
    const list = await iamRa(["ca", "list", "-n", "pcaforged"]);
    expect(list.json.items[0]).toMatchObject({ scope: "default", revoked: 0 });
  }, 120_000);

  it("a CRL the CA has not published yet: offboard reports pending; sync-crl --wait still knows the serial and imports it", async () => {
    const pcaArn = await createPrivateCa({ crlBucket: "pca-slow-crls", crlDelaySeconds: 3 });
    expect(
      (await iamRa(["init", "-n", "pcaslow", "--ca-mode", "pca-existing", "--pca-arn", pcaArn])).code,
    ).toBe(0);
    expect((await iamRa(["role", "create", "app", "-n", "pcaslow"])).code).toBe(0);
    const out = join(dir, "pcaslow-h1");
    const host = await iamRa([
      "host",
      "onboard",
      "h1",
      "--role",
      "app",
      "-n",
      "pcaslow",
      "--output-dir",
      out,
    ]);
    const files = { certificate: host.json.files.certificate, privateKey: host.json.files.privateKey };
    // Offboarding forgets the host at once; the pending revocation must not be forgotten with it.
    const revoked = await iamRa(["host", "offboard", "h1", "-n", "pcaslow", "--yes"]);
    expect(revoked.json).toMatchObject({ scope: "default", refusedByRolesAnywhere: false });
    expect((await iamRa(["host", "list", "-n", "pcaslow"])).json.items).toEqual([]);
    // Honest: until the CRL is imported, Roles Anywhere still accepts the certificate.
    expect(await credentials(files, host.json)).toMatchObject({ ok: true });
    const sync = await iamRa(["ca", "sync-crl", "-n", "pcaslow", "--scope", "default", "--wait", "2m"]);
    expect(sync.json).toMatchObject({
      state: "imported",
      revokedSerials: [host.json.certificate.serialNumber],
      missingSerials: [],
      crlStackName: "iam-ra-pcaslow-crl-default",
    });
    expect(await credentials(files, host.json)).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });
  }, 180_000);

  it("pca-new: the stack makes and activates the CA with a CRL bucket; revoke is refused; ca delete and destroy leave nothing", async () => {
    const init = await iamRa(["init", "-n", "pcanew", "--ca-mode", "pca-new"]);
    expect(init.code).toBe(0);
    expect(init.json).toMatchObject({ ca: { mode: "pca-new", pcaPublishesCrl: true } });
    const pcaArn: string = init.json.ca.pcaArn;
    expect(pcaArn).toMatch(/^arn:aws:acm-pca:us-east-1:\d{12}:certificate-authority\//);
    const scope = await iamRa(["ca", "setup", "-n", "pcanew", "--scope", "extra", "--ca-mode", "pca-new"]);
    expect(scope.code).toBe(0);
    expect((await iamRa(["role", "create", "app", "-n", "pcanew", "--scope", "extra"])).code).toBe(0);
    const out = join(dir, "pcanew-h1");
    const host = await iamRa(["host", "onboard", "h1", "--role", "app", "-n", "pcanew", "--output-dir", out]);
    expect(host.code).toBe(0);
    const files = { certificate: host.json.files.certificate, privateKey: host.json.files.privateKey };
    expect(await credentials(files, host.json)).toMatchObject({ ok: true });
    const revoked = await iamRa(["host", "offboard", "h1", "-n", "pcanew", "--yes"]);
    expect(revoked.json).toMatchObject({
      revoked: [host.json.certificate.serialNumber],
      refusedByRolesAnywhere: true,
    });
    expect(await credentials(files, host.json)).toMatchObject({
      ok: false,
      stderr: expect.stringMatching(/revoked/i),
    });

    // The scope's CRL bucket holds a CRL; ca delete empties it, and the stack takes bucket and CA.
    const pca = new ACMPCAClient({ ...client, endpoint: aws.moto.url });
    const s3 = new S3Client({ ...client, endpoint: aws.moto.url, forcePathStyle: true });
    const extraArn: string = scope.json.pcaArn;
    const { CertificateAuthority } = await pca.send(
      new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: extraArn }),
    );
    const crlBucket = CertificateAuthority!.RevocationConfiguration!.CrlConfiguration!.S3BucketName!;
    expect((await s3.send(new ListObjectsV2Command({ Bucket: crlBucket }))).KeyCount).toBe(1);
    expect((await iamRa(["role", "delete", "app", "-n", "pcanew", "--yes"])).code).toBe(0);
    const deleted = await iamRa(["ca", "delete", "-n", "pcanew", "--scope", "extra", "--yes"]);
    expect(deleted.json).toMatchObject({ deleted: ["iam-ra-pcanew-crl-extra", "iam-ra-pcanew-ca-extra"] });
    await expect(s3.send(new HeadBucketCommand({ Bucket: crlBucket }))).rejects.toThrow();
    const after = await pca.send(
      new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: extraArn }),
    );
    expect(after.CertificateAuthority!.Status).toBe("DELETED");

    // destroy does the same for the default scope: its CRL bucket (holding a CRL) and CA go too.
    expect((await iamRa(["role", "create", "app2", "-n", "pcanew"])).code).toBe(0);
    const out2 = join(dir, "pcanew-h2");
    expect(
      (await iamRa(["host", "onboard", "h2", "--role", "app2", "-n", "pcanew", "--output-dir", out2])).code,
    ).toBe(0);
    expect((await iamRa(["host", "revoke", "h2", "-n", "pcanew", "--yes"])).json).toMatchObject({
      pcaCrl: "imported",
    });
    const defaultCa = await pca.send(
      new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: pcaArn }),
    );
    const defaultBucket =
      defaultCa.CertificateAuthority!.RevocationConfiguration!.CrlConfiguration!.S3BucketName!;
    expect((await s3.send(new ListObjectsV2Command({ Bucket: defaultBucket }))).KeyCount).toBe(1);
    const destroyed = await iamRa(["destroy", "-n", "pcanew", "--yes"]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    await expect(s3.send(new HeadBucketCommand({ Bucket: defaultBucket }))).rejects.toThrow();
    const gone = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: pcaArn }));
    expect(gone.CertificateAuthority!.Status).toBe("DELETED");
  }, 240_000);

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
