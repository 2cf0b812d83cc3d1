/**
 * The admin plane's ports over AWS SDK v3 clients.
 * @module
 */
import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { ListObjectVersionsCommandOutput, S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { fromCloudFormationClient } from "../cloudformation/aws.ts";
import { IamRaError } from "../errors.ts";
import { awsSdk } from "../sdk/index.ts";
import { abortableSleep } from "../sleep.ts";
import { fromS3Client } from "../state/aws.ts";
import type { AdminDeps, BucketPort, PcaPort, RolesAnywhereReadPort, SecretsPort } from "./ports.ts";

type Sender<C> = Pick<C, Extract<keyof C, "send">>;

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const named = (e: unknown, ...names: string[]) => e instanceof Error && names.includes(e.name);

/**
 * The SDK clients the admin plane uses, and its Roles Anywhere reads; the app builds them (region,
 * credentials, endpoint). The reads are two GETs, made by {@link createRolesAnywhereReader} without
 * an SDK client.
 * @public
 */
export interface AwsAdminClients {
  cloudFormation: Sender<CloudFormationClient>;
  s3: Sender<S3Client>;
  ssm: Sender<SSMClient>;
  kms: Sender<KMSClient>;
  secretsManager: Sender<SecretsManagerClient>;
  acmPca: Sender<ACMPCAClient>;
  rolesAnywhere: RolesAnywhereReadPort;
}

function bucketPort(s3: Sender<S3Client>, bucket: string, kmsKeyArn: string | undefined): BucketPort {
  const objects = fromS3Client(s3 as S3Client, bucket, kmsKeyArn);
  const sse = kmsKeyArn ? ({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKeyArn } as const) : {};
  const empty = async (): Promise<void> => {
    for (;;) {
      let listed: ListObjectVersionsCommandOutput;
      try {
        listed = await s3.send(new (await awsSdk.s3()).ListObjectVersionsCommand({ Bucket: bucket }));
      } catch (e) {
        if (status(e) === 404 || named(e, "NoSuchBucket")) return;
        throw e;
      }
      const all = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])];
      if (all.length === 0) break;
      const out = await s3.send(
        new (await awsSdk.s3()).DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: all.map((o) => ({ Key: o.Key!, VersionId: o.VersionId })), Quiet: true },
        }),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        // Re-listing would find the same objects again, forever.
        throw new IamRaError(
          "access-denied",
          `Emptying bucket ${bucket} failed for ${failed.length} object(s): ${failed[0]?.Code ?? "error"} ${failed[0]?.Message ?? ""}`.trim(),
          { hint: "The admin needs s3:DeleteObject and s3:DeleteObjectVersion on that bucket." },
        );
      }
    }
  };
  return {
    ...objects,
    async write(key, body, contentType) {
      await s3.send(
        new (await awsSdk.s3()).PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...sse,
        }),
      );
    },
    async read(key) {
      try {
        const out = await s3.send(new (await awsSdk.s3()).GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await out.Body?.transformToString("utf8")) ?? "";
      } catch (e) {
        if (status(e) === 404 || named(e, "NoSuchKey")) return undefined;
        throw e;
      }
    },
    async remove(key) {
      await s3.send(new (await awsSdk.s3()).DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    empty,
    async destroy() {
      await empty();
      try {
        await s3.send(new (await awsSdk.s3()).DeleteBucketCommand({ Bucket: bucket }));
      } catch (e) {
        if (!(status(e) === 404 || named(e, "NoSuchBucket"))) throw e;
      }
    },
  };
}

function secretsPort(sm: Sender<SecretsManagerClient>): SecretsPort {
  return {
    async put(name, value, kmsKeyArn, tags) {
      try {
        const out = await sm.send(
          new (await awsSdk.secretsManager()).CreateSecretCommand({
            Name: name,
            SecretString: value,
            KmsKeyId: kmsKeyArn,
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        return out.ARN ?? name;
      } catch (e) {
        if (!named(e, "ResourceExistsException")) throw e;
        const out = await sm.send(
          new (await awsSdk.secretsManager()).PutSecretValueCommand({ SecretId: name, SecretString: value }),
        );
        return out.ARN ?? name;
      }
    },
    async get(id) {
      try {
        return (await sm.send(new (await awsSdk.secretsManager()).GetSecretValueCommand({ SecretId: id })))
          .SecretString;
      } catch (e) {
        if (named(e, "ResourceNotFoundException")) return undefined;
        throw e;
      }
    },
    async remove(id) {
      try {
        await sm.send(
          new (await awsSdk.secretsManager()).DeleteSecretCommand({
            SecretId: id,
            ForceDeleteWithoutRecovery: true,
          }),
        );
      } catch (e) {
        if (!named(e, "ResourceNotFoundException")) throw e;
      }
    },
  };
}

function pcaPort(
  pca: Sender<ACMPCAClient>,
  s3: Sender<S3Client>,
  sleep: (ms: number) => Promise<void>,
): PcaPort {
  const crlConfiguration = async (caArn: string) => {
    const out = await pca.send(
      new (await awsSdk.acmPca()).DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }),
    );
    const crl = out.CertificateAuthority?.RevocationConfiguration?.CrlConfiguration;
    return crl?.Enabled && crl.S3BucketName ? { S3BucketName: crl.S3BucketName } : undefined;
  };
  return {
    async describe(caArn) {
      const out = await pca.send(
        new (await awsSdk.acmPca()).DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }),
      );
      const ca = out.CertificateAuthority;
      return {
        status: ca?.Status ?? "UNKNOWN",
        keyAlgorithm: ca?.CertificateAuthorityConfiguration?.KeyAlgorithm ?? "",
        signingAlgorithm: ca?.CertificateAuthorityConfiguration?.SigningAlgorithm ?? "",
      };
    },
    async issue(caArn, csrPem, validityDays, signingAlgorithm) {
      const { CertificateArn } = await pca.send(
        new (await awsSdk.acmPca()).IssueCertificateCommand({
          CertificateAuthorityArn: caArn,
          Csr: Buffer.from(csrPem),
          SigningAlgorithm: signingAlgorithm as never,
          // Passes the CSR's subject through and adds clientAuth, which Roles Anywhere needs.
          TemplateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1",
          Validity: { Type: "DAYS", Value: validityDays },
        }),
      );
      for (let i = 0; i < 60; i++) {
        try {
          const out = await pca.send(
            new (await awsSdk.acmPca()).GetCertificateCommand({
              CertificateAuthorityArn: caArn,
              CertificateArn: CertificateArn!,
            }),
          );
          return { certificatePem: out.Certificate ?? "", chainPem: out.CertificateChain ?? "" };
        } catch (e) {
          if (!named(e, "RequestInProgressException")) throw e;
          await sleep(Math.min(500 * 1.5 ** i, 5000));
        }
      }
      throw new Error("AWS Private CA did not issue the certificate in time.");
    },
    async revoke(caArn, serialHex) {
      try {
        await pca.send(
          new (await awsSdk.acmPca()).RevokeCertificateCommand({
            CertificateAuthorityArn: caArn,
            CertificateSerial: serialHex.match(/../g)!.join(":").toLowerCase(),
            RevocationReason: "CESSATION_OF_OPERATION",
          }),
        );
      } catch (e) {
        // Revoked before (a re-run after a failure half-way): what was asked is true.
        if (!named(e, "RequestAlreadyProcessedException")) throw e;
      }
    },
    async caCertificate(caArn) {
      const out = await pca.send(
        new (await awsSdk.acmPca()).GetCertificateAuthorityCertificateCommand({
          CertificateAuthorityArn: caArn,
        }),
      );
      return [out.Certificate, out.CertificateChain].filter(Boolean).join("\n");
    },
    async publishedCrl(caArn) {
      const crl = await crlConfiguration(caArn);
      if (!crl) return undefined;
      // A complete (not partitioned) CRL at the default path; AWS names it by the CA's id.
      const key = `crl/${caArn.split("/").pop()}.crl`;
      const location = `s3://${crl.S3BucketName}/${key}`;
      try {
        const object = await s3.send(
          new (await awsSdk.s3()).GetObjectCommand({ Bucket: crl.S3BucketName, Key: key }),
        );
        return { location, der: await object.Body?.transformToByteArray() };
      } catch (e) {
        if (status(e) === 404 || named(e, "NoSuchKey")) return { location, der: undefined };
        if (status(e) === 403 || status(e) === 301 || named(e, "AccessDenied", "PermanentRedirect")) {
          throw new IamRaError(
            "access-denied",
            `Cannot read the Private CA's CRL at ${location} (${named(e, "PermanentRedirect") || status(e) === 301 ? "the bucket is in another region" : "access denied"}).`,
            {
              cause: e,
              hint: "The admin needs s3:GetObject (and s3:ListBucket, so a missing CRL reads as missing) on that bucket, in its own region.",
            },
          );
        }
        throw e;
      }
    },
    async publishesCrl(caArn) {
      return (await crlConfiguration(caArn)) !== undefined;
    },
  };
}

/**
 * {@link AdminDeps} over AWS SDK v3 clients.
 * @public
 */
export function createAwsAdminDeps(
  clients: AwsAdminClients,
  context: Pick<
    AdminDeps,
    "namespace" | "region" | "accountId" | "clock" | "progress" | "onStackEvent" | "signal"
  > & {
    sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  },
): AdminDeps {
  // Abortable: a long wait (a Private CA's CRL) ends at once on Ctrl-C.
  const sleep = context.sleep ?? abortableSleep;
  return {
    ...context,
    sleep,
    cfn: fromCloudFormationClient(clients.cloudFormation as CloudFormationClient),
    bucket: (name, kmsKeyArn) => bucketPort(clients.s3, name, kmsKeyArn),
    async parameter(name) {
      try {
        return (await clients.ssm.send(new (await awsSdk.ssm()).GetParameterCommand({ Name: name })))
          .Parameter?.Value;
      } catch (e) {
        if (named(e, "ParameterNotFound")) return undefined;
        throw e;
      }
    },
    kms: {
      async generateDataKey(keyArn, ctx) {
        const out = await clients.kms.send(
          new (await awsSdk.kms()).GenerateDataKeyCommand({
            KeyId: keyArn,
            KeySpec: "AES_256",
            EncryptionContext: ctx,
          }),
        );
        return { plaintext: out.Plaintext!, ciphertext: out.CiphertextBlob! };
      },
      async decrypt(ciphertext, ctx) {
        const out = await clients.kms.send(
          new (await awsSdk.kms()).DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: ctx }),
        );
        return out.Plaintext!;
      },
    },
    async retireKey(keyArn, pendingWindowDays) {
      try {
        // The key id, not the ARN: AWS takes either, moto only the id.
        const keyId = keyArn.split("/").at(-1)!;
        await clients.kms.send(
          new (await awsSdk.kms()).ScheduleKeyDeletionCommand({
            KeyId: keyId,
            PendingWindowInDays: pendingWindowDays,
          }),
        );
      } catch (e) {
        // Already pending deletion, or gone: nothing left to do.
        if (!named(e, "KMSInvalidStateException", "NotFoundException")) throw e;
      }
    },
    secrets: secretsPort(clients.secretsManager),
    pca: pcaPort(clients.acmPca, clients.s3, sleep),
    rolesAnywhere: clients.rolesAnywhere,
  };
}

export { awsSdk, lazySdk } from "../sdk/index.ts";
export type { RolesAnywhereReaderOptions } from "./rolesanywhere-reads.ts";
export { createRolesAnywhereReader } from "./rolesanywhere-reads.ts";
