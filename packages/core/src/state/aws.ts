import type { S3Client } from "@aws-sdk/client-s3";
import { awsSdk } from "../sdk/index.ts";
import type { StateObjectPort } from "./store.ts";

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * The state store's {@link StateObjectPort} over an AWS SDK v3 S3 client: conditional writes with
 * `If-Match`/`If-None-Match`, objects encrypted with the namespace's KMS key.
 * @public
 */
export function fromS3Client(
  client: Pick<S3Client, "send">,
  bucket: string,
  kmsKeyArn?: string | undefined,
): StateObjectPort {
  return {
    async get(key) {
      try {
        const out = await client.send(new (await awsSdk.s3()).GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: (await out.Body?.transformToString("utf8")) ?? "", etag: out.ETag ?? "" };
      } catch (e) {
        if (status(e) === 404 || (e as Error).name === "NoSuchKey") return undefined;
        throw e;
      }
    },
    async put(key, body, condition) {
      try {
        const out = await client.send(
          new (await awsSdk.s3()).PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: "application/json",
            ...("ifMatch" in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: "*" }),
            ...(kmsKeyArn ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKeyArn } : {}),
          }),
        );
        return { etag: out.ETag ?? "" };
      } catch (e) {
        // 412: the condition failed; 409: a concurrent conditional write is in flight.
        if (status(e) === 412 || status(e) === 409) return "conflict";
        throw e;
      }
    },
  };
}
