import {
  ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  RevokeCertificateCommand,
} from "@aws-sdk/client-acm-pca";
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
} from "@aws-sdk/client-cloudformation";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createCsr, loadX509 } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MotoServer } from "../src/testing/index.ts";
import { startMoto } from "../src/testing/index.ts";
import { motoClientConfig } from "./moto-harness.ts";

// The plugin's AWS::ACMPCA::* models (iam_ra_moto/pca.py) and its CRL publication on RevokeCertificate.
let moto: MotoServer;
let cfn: CloudFormationClient;
let pca: ACMPCAClient;
let s3: S3Client;
beforeAll(async () => {
  moto = await startMoto({ cloudFormationFixes: true });
  cfn = new CloudFormationClient(motoClientConfig(moto));
  pca = new ACMPCAClient(motoClientConfig(moto));
  s3 = new S3Client({ ...motoClientConfig(moto), forcePathStyle: true });
}, 60_000);
afterAll(async () => {
  for (const client of [cfn, pca, s3]) client?.destroy();
  await moto?.close();
});

/** A root Private CA with its certificate and activation, publishing CRLs to a bucket of the stack. */
function caTemplate(options: { commonName?: string; crlPath?: string; delaySeconds?: number } = {}) {
  return {
    Resources: {
      CrlBucket: { Type: "AWS::S3::Bucket" },
      Authority: {
        Type: "AWS::ACMPCA::CertificateAuthority",
        Properties: {
          Type: "ROOT",
          KeyAlgorithm: "EC_prime256v1",
          SigningAlgorithm: "SHA256WITHECDSA",
          Subject: { CommonName: options.commonName ?? "plugin-root" },
          RevocationConfiguration: {
            CrlConfiguration: {
              Enabled: true,
              ExpirationInDays: 7,
              S3BucketName: { Ref: "CrlBucket" },
              ...(options.crlPath ? { CustomPath: options.crlPath } : {}),
            },
          },
          ...(options.delaySeconds
            ? { Tags: [{ Key: "iam-ra-moto:crl-delay-seconds", Value: String(options.delaySeconds) }] }
            : {}),
        },
      },
      AuthorityCertificate: {
        Type: "AWS::ACMPCA::Certificate",
        Properties: {
          CertificateAuthorityArn: { Ref: "Authority" },
          CertificateSigningRequest: { "Fn::GetAtt": ["Authority", "CertificateSigningRequest"] },
          SigningAlgorithm: "SHA256WITHECDSA",
          TemplateArn: "arn:aws:acm-pca:::template/RootCACertificate/V1",
          Validity: { Type: "YEARS", Value: 1 },
        },
      },
      Activation: {
        Type: "AWS::ACMPCA::CertificateAuthorityActivation",
        Properties: {
          CertificateAuthorityArn: { Ref: "Authority" },
          Certificate: { "Fn::GetAtt": ["AuthorityCertificate", "Certificate"] },
          Status: "ACTIVE",
        },
      },
    },
    Outputs: {
      AuthorityArn: { Value: { Ref: "Authority" } },
      AuthorityArnAtt: { Value: { "Fn::GetAtt": ["Authority", "Arn"] } },
      CertificateArn: { Value: { Ref: "AuthorityCertificate" } },
      ActivationRef: { Value: { Ref: "Activation" } },
      Chain: { Value: { "Fn::GetAtt": ["Activation", "CompleteCertificateChain"] } },
      Bucket: { Value: { Ref: "CrlBucket" } },
    },
  };
}

async function stackOutputs(stackName: string) {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = Stacks![0]!;
  return {
    status: stack.StackStatus,
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!])),
  };
}

async function deploy(stackName: string, template: object, update = false) {
  const input = { StackName: stackName, TemplateBody: JSON.stringify(template) };
  await cfn.send(update ? new UpdateStackCommand(input) : new CreateStackCommand(input));
  return stackOutputs(stackName);
}

const caStatus = async (arn: string) =>
  (await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn })))
    .CertificateAuthority?.Status;

/** Issues a leaf from the CA and returns its serial as AWS writes it (colon-separated hex). */
async function issueLeaf(caArn: string): Promise<string> {
  const { csrPem } = await createCsr("CN=plugin-leaf");
  const { CertificateArn } = await pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: caArn,
      Csr: Buffer.from(csrPem),
      SigningAlgorithm: "SHA256WITHECDSA",
      Validity: { Type: "DAYS", Value: 7 },
    }),
  );
  const { Certificate } = await pca.send(
    new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn }),
  );
  const x509 = await loadX509();
  const serial = new x509.X509Certificate(Certificate!).serialNumber;
  return serial.match(/../g)!.join(":");
}

const revoke = (caArn: string, serial: string) =>
  pca.send(
    new RevokeCertificateCommand({
      CertificateAuthorityArn: caArn,
      CertificateSerial: serial,
      RevocationReason: "KEY_COMPROMISE",
    }),
  );

async function readCrl(bucket: string, key: string) {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const x509 = await loadX509();
  return new x509.X509Crl(Buffer.from(await Body!.transformToByteArray()));
}

const serialValue = (hex: string) => BigInt(`0x${hex.replaceAll(":", "")}`);

describe("AWS::ACMPCA::* in moto's CloudFormation", () => {
  it("creates, activates and publishes the CRL of each revocation; DeleteStack deletes the CA", async () => {
    const { status, outputs } = await deploy("pca-root", caTemplate());
    expect(status).toBe("CREATE_COMPLETE");
    const caArn = outputs.AuthorityArn!;
    expect(caArn).toMatch(/^arn:aws:acm-pca:us-east-1:123456789012:certificate-authority\/[0-9a-f-]{36}$/);
    expect(outputs.AuthorityArnAtt).toBe(caArn);
    expect(outputs.ActivationRef).toBe(caArn);
    expect(outputs.CertificateArn).toMatch(new RegExp(`^${caArn}/certificate/`));
    expect(await caStatus(caArn)).toBe("ACTIVE");
    const { Certificate } = await pca.send(
      new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn }),
    );
    expect(outputs.Chain).toBe(Certificate);

    const x509 = await loadX509();
    const caCertificate = new x509.X509Certificate(Certificate!);
    const key = `crl/${caArn.split("/").at(-1)}.crl`;
    const first = await issueLeaf(caArn);
    await revoke(caArn, first);
    const crl = await readCrl(outputs.Bucket!, key);
    expect(crl.issuer).toBe(caCertificate.subject);
    expect(await crl.verify({ publicKey: caCertificate.publicKey })).toBe(true);
    expect(crl.entries.map((e) => serialValue(e.serialNumber))).toEqual([serialValue(first)]);

    // Each revocation publishes the complete list again.
    const second = await issueLeaf(caArn);
    await revoke(caArn, second);
    const again = await readCrl(outputs.Bucket!, key);
    expect(again.entries.map((e) => serialValue(e.serialNumber)).sort()).toEqual(
      [serialValue(first), serialValue(second)].sort(),
    );

    await cfn.send(new DeleteStackCommand({ StackName: "pca-root" }));
    expect(await caStatus(caArn)).toBe("DELETED");
  });

  it("RevocationConfiguration updates in place; a new Subject replaces the CA", async () => {
    const { outputs } = await deploy("pca-update", caTemplate());
    const caArn = outputs.AuthorityArn!;
    const moved = await deploy("pca-update", caTemplate({ crlPath: "revocations" }), true);
    expect(moved.status).toBe("UPDATE_COMPLETE");
    expect(moved.outputs.AuthorityArn).toBe(caArn);
    await revoke(caArn, await issueLeaf(caArn));
    const crl = await readCrl(outputs.Bucket!, `revocations/${caArn.split("/").at(-1)}.crl`);
    expect(crl.entries).toHaveLength(1);

    // A CA alone (an activation is not re-run for a replaced CA within one update).
    const { Resources, Outputs } = caTemplate({ commonName: "plugin-root-2" });
    const authorityOnly = {
      Resources: { CrlBucket: Resources.CrlBucket, Authority: Resources.Authority },
      Outputs: { AuthorityArn: Outputs.AuthorityArn },
    };
    const { outputs: replaced } = await deploy("pca-update", authorityOnly, true);
    expect(replaced.AuthorityArn).toMatch(/certificate-authority\//);
    expect(replaced.AuthorityArn).not.toBe(caArn);
    expect(await caStatus(caArn)).toBe("DELETED");
    expect(await caStatus(replaced.AuthorityArn!)).toBe("PENDING_CERTIFICATE");
    await cfn.send(new DeleteStackCommand({ StackName: "pca-update" }));
  });

  it("the CA's tag iam-ra-moto:crl-delay-seconds holds the CRL back", async () => {
    const { outputs } = await deploy("pca-delayed", caTemplate({ delaySeconds: 3600 }));
    const caArn = outputs.AuthorityArn!;
    await revoke(caArn, await issueLeaf(caArn));
    await expect(
      s3.send(new GetObjectCommand({ Bucket: outputs.Bucket!, Key: `crl/${caArn.split("/").at(-1)}.crl` })),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
  });
});
