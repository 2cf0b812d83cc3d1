import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudFormationClient, CreateStackCommand, ListStacksCommand } from "@aws-sdk/client-cloudformation";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { createSelfSignedCa, issueCertificate } from "@iam-ra/core/x509";
import { setUpRolesAnywhere } from "@iam-ra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialProcess, createIamRa } from "./helpers/cli.ts";
import { type LocalAws, startLocalAws } from "./helpers/local-aws.ts";

let aws: LocalAws;
let dir: string;

const iamRa = createIamRa(() => aws.env);
const credentials = createCredentialProcess(() => ({ env: aws.env, endpoint: aws.emu.url }));

beforeAll(async () => {
  aws = await startLocalAws();
  dir = mkdtempSync(join(tmpdir(), "iam-ra-migrate-"));
}, 60_000);
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("iam-ra migrate: a namespace set up by the Python iam-ra", () => {
  it("imports its state.json and its laptop-held CA key; hosts can then be onboarded", async () => {
    const cfg = {
      endpoint: aws.moto.url,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      forcePathStyle: true,
    };
    // What the Python tool's init left: a bucket, a KMS key, SSM pointers, the CA certificate in S3,
    // the CA key on the admin's disk (SEC1 PEM), a trust anchor, a role trusting only the anchor.
    const s3 = new S3Client(cfg);
    await s3.send(new CreateBucketCommand({ Bucket: "py-bucket" }));
    const keyArn = (await new KMSClient(cfg).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const ssm = new SSMClient(cfg);
    await ssm.send(
      new PutParameterCommand({
        Name: "/iam-ra/py/state-location",
        Value: "s3://py-bucket/py/state.json",
        Type: "String",
      }),
    );
    await ssm.send(
      new PutParameterCommand({ Name: "/iam-ra/py/kms-key-arn", Value: keyArn, Type: "String" }),
    );
    const now = new Date();
    // (The Python tool names its CA "IAM Roles Anywhere CA (<ns>/<scope>)": the parentheses make AWS
    // refuse every certificate it issues; a second namespace below checks migrate says so.)
    const ca = await createSelfSignedCa({
      subject: "CN=IAM Roles Anywhere CA py-default",
      notBefore: now,
      notAfter: new Date(now.getTime() + 86_400_000 * 365),
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: "py-bucket",
        Key: "py/scopes/default/ca/certificate.pem",
        Body: ca.certificatePem,
      }),
    );
    const keyFile = join(dir, "ca-private-key.pem");
    writeFileSync(keyFile, createPrivateKey(ca.privateKeyPem).export({ format: "pem", type: "sec1" }), {
      mode: 0o600,
    });
    const roleArn = (
      await new IAMClient(cfg).send(
        new CreateRoleCommand({
          RoleName: "iam-ra-py-web",
          AssumeRolePolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "rolesanywhere.amazonaws.com" },
                Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
              },
            ],
          }),
        }),
      )
    ).Role!.Arn!;
    const ra = await setUpRolesAnywhere(
      { url: aws.emu.url, putRole: () => {} },
      { caCertificatePem: ca.certificatePem, roles: [{ roleArn, trustPolicy: null }] },
    );
    // A host the Python tool onboarded: its certificate in a secret, and its host stack.
    const oldLeaf = await issueCertificate({
      issuer: { certificatePem: ca.certificatePem, privateKey: ca.privateKey },
      subject: "CN=old-host",
      notBefore: now,
      notAfter: new Date(now.getTime() + 86_400_000 * 30),
    });
    const legacySecretArn = (
      await new SecretsManagerClient(cfg).send(
        new CreateSecretCommand({
          Name: "iam-ra/py/old-host/certificate",
          SecretString: oldLeaf.certificatePem,
        }),
      )
    ).ARN!;
    const cfn = new CloudFormationClient({ ...cfg, maxAttempts: 1 });
    await cfn.send(
      new CreateStackCommand({
        StackName: "iam-ra-py-host-old-host",
        TemplateBody: JSON.stringify({
          Resources: {
            P: {
              Type: "AWS::SSM::Parameter",
              Properties: { Name: "/py/old-host", Type: "String", Value: "x" },
            },
          },
        }),
      }),
    );
    const python = {
      namespace: "py",
      region: "us-east-1",
      version: "2.4.1",
      init: { stack_name: "iam-ra-py-init", bucket_arn: "arn:aws:s3:::py-bucket", kms_key_arn: keyArn },
      cas: {
        default: {
          stack_name: "iam-ra-py-ca-default",
          mode: "self-signed",
          trust_anchor_arn: ra.trustAnchorArn,
          pca_arn: null,
        },
      },
      roles: {
        web: {
          stack_name: "iam-ra-py-role-web",
          role_arn: roleArn,
          profile_arn: ra.profileArn,
          policies: [],
          scope: "default",
        },
      },
      hosts: {
        "old-host": {
          stack_name: "iam-ra-py-host-old-host",
          hostname: "old-host",
          role_name: "web",
          certificate_secret_arn: legacySecretArn,
          private_key_secret_arn:
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:iam-ra/py/old-host/private-key-abc",
        },
      },
      k8s_clusters: {},
      k8s_workloads: {},
    };
    await s3.send(
      new PutObjectCommand({
        Bucket: "py-bucket",
        Key: "py/state.json",
        Body: JSON.stringify(python, null, 2),
      }),
    );

    const dry = await iamRa(["migrate", "-n", "py", "--ca-key-file", `default=${keyFile}`, "--dry-run"]);
    expect(dry.json).toMatchObject({ migratedFrom: "python-iam-ra 2.4.1", written: false });

    const wrongKey = join(dir, "wrong.pem");
    writeFileSync(
      wrongKey,
      (
        await createSelfSignedCa({
          subject: "CN=x",
          notBefore: now,
          notAfter: new Date(now.getTime() + 86_400_000),
        })
      ).privateKeyPem,
    );
    const refused = await iamRa(["migrate", "-n", "py", "--ca-key-file", `default=${wrongKey}`]);
    expect(refused).toMatchObject({ code: 1, json: { error: { code: "key-certificate-mismatch" } } });

    const done = await iamRa(["migrate", "-n", "py", "--ca-key-file", `default=${keyFile}`]);
    expect(done.json).toEqual({
      namespace: "py",
      migratedFrom: "python-iam-ra 2.4.1",
      written: true,
      scopes: [
        {
          scope: "default",
          mode: "self-signed",
          keyInBucket: true,
          keyImported: true,
          issuerTagProblem: null,
        },
      ],
      unboundRoles: ["web"],
      legacyHosts: ["old-host"],
    });
    const again = await iamRa(["migrate", "-n", "py"]);
    expect(again.json).toMatchObject({ migratedFrom: null, written: false });

    // The imported CA key issues a working certificate.
    const out = join(dir, "new-host");
    const host = await iamRa([
      "host",
      "onboard",
      "new-host",
      "--role",
      "web",
      "-n",
      "py",
      "--output-dir",
      out,
    ]);
    expect(host.code).toBe(0);
    const creds = await credentials(
      { certificate: host.json.files.certificate, privateKey: host.json.files.privateKey },
      { trustAnchorArn: ra.trustAnchorArn, profileArn: ra.profileArn, roleArn },
    );
    expect(creds).toMatchObject({ ok: true, doc: { Version: 1 } });

    // Offboarding the Python tool's host revokes its certificate (CRL) and deletes its host stack.
    const off = await iamRa(["host", "offboard", "old-host", "-n", "py", "--yes"]);
    expect(off.json).toMatchObject({
      revoked: [BigInt(`0x${oldLeaf.certificate.serialNumber}`).toString()],
      secretDeleted: true,
    });
    const stacks = (await cfn.send(new ListStacksCommand({}))).StackSummaries ?? [];
    expect(stacks.find((st) => st.StackName === "iam-ra-py-host-old-host")?.StackStatus).toBe(
      "DELETE_COMPLETE",
    );

    // The Python tool's own CA name: migrate warns that AWS refuses its certificates.
    const paren = await createSelfSignedCa({
      subject: "CN=IAM Roles Anywhere CA (py2/default)",
      notBefore: now,
      notAfter: new Date(now.getTime() + 86_400_000),
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: "py-bucket",
        Key: "py2/scopes/default/ca/certificate.pem",
        Body: paren.certificatePem,
      }),
    );
    await ssm.send(
      new PutParameterCommand({
        Name: "/iam-ra/py2/state-location",
        Value: "s3://py-bucket/py2/state.json",
        Type: "String",
      }),
    );
    await ssm.send(
      new PutParameterCommand({ Name: "/iam-ra/py2/kms-key-arn", Value: keyArn, Type: "String" }),
    );
    const py2 = { ...python, namespace: "py2", roles: {}, hosts: {} };
    await s3.send(
      new PutObjectCommand({ Bucket: "py-bucket", Key: "py2/state.json", Body: JSON.stringify(py2) }),
    );
    const warned = await iamRa(["migrate", "-n", "py2"]);
    expect(warned.json.scopes[0].issuerTagProblem).toMatch(
      /CN="IAM Roles Anywhere CA \(py2\/default\)".*new scope/,
    );
  }, 120_000);
});
