import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { IamRaError } from "../errors.ts";

/**
 * The KMS calls envelope encryption needs; the app implements it with the AWS SDK.
 * @public
 */
export interface KmsPort {
  /** A fresh 256-bit data key: plaintext and its KMS-encrypted form. */
  generateDataKey(
    keyArn: string,
    context: Record<string, string>,
  ): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array }>;
  /** Decrypts with exactly this key (a blob from any other key is refused by KMS). */
  decrypt(ciphertext: Uint8Array, context: Record<string, string>, keyArn: string): Promise<Uint8Array>;
}

/**
 * A private key encrypted under a KMS data key (AES-256-GCM): safe to keep in the namespace bucket,
 * usable by any admin allowed to call kms:Decrypt with the same encryption context.
 * @public
 */
export interface EncryptedKeyEnvelope {
  format: "iam-ra-envelope-v1";
  algorithm: "AES-256-GCM";
  kmsKeyArn: string;
  /** Bound both as the KMS encryption context and as the GCM additional data. */
  context: Record<string, string>;
  encryptedDataKey: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

const aad = (context: Record<string, string>) =>
  Buffer.from(
    JSON.stringify(
      Object.keys(context)
        .sort()
        .map((k) => [k, context[k]]),
    ),
  );

/** Encrypts `plaintext` (e.g. a CA key PEM) under a new data key of `kmsKeyArn`. @public */
export async function sealKeyEnvelope(
  kms: KmsPort,
  kmsKeyArn: string,
  context: Record<string, string>,
  plaintext: string,
): Promise<EncryptedKeyEnvelope> {
  const dataKey = await kms.generateDataKey(kmsKeyArn, context);
  const key = Buffer.from(dataKey.plaintext);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(aad(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return {
      format: "iam-ra-envelope-v1",
      algorithm: "AES-256-GCM",
      kmsKeyArn,
      context,
      encryptedDataKey: Buffer.from(dataKey.ciphertext).toString("base64"),
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      ciphertext: ciphertext.toString("base64"),
    };
  } finally {
    key.fill(0);
  }
}

/**
 * Decrypts an {@link EncryptedKeyEnvelope}; a tampered envelope or a wrong context fails. With
 * `expected` (the key, and context entries that must match), an envelope sealed under another key or
 * for another namespace/scope is refused before
 * KMS is asked (someone able to write the bucket cannot swap keys between scopes).
 * @public
 */
export async function openKeyEnvelope(
  kms: KmsPort,
  envelope: EncryptedKeyEnvelope,
  expected?: { kmsKeyArn: string; context: Record<string, string> },
): Promise<string> {
  if (envelope.format !== "iam-ra-envelope-v1" || envelope.algorithm !== "AES-256-GCM") {
    throw new IamRaError("invalid-input", "The CA key envelope has an unknown format.", {
      hint: "It was written by a newer iam-ra; upgrade.",
    });
  }
  if (expected) {
    const same =
      envelope.kmsKeyArn === expected.kmsKeyArn &&
      Object.entries(expected.context).every(([k, v]) => envelope.context[k] === v);
    if (!same) {
      throw new IamRaError(
        "invalid-input",
        "The CA key envelope belongs to another key, namespace or scope.",
        {
          hint: "Restore the right key object from the bucket's version history.",
        },
      );
    }
  }
  const key = Buffer.from(
    await kms.decrypt(Buffer.from(envelope.encryptedDataKey, "base64"), envelope.context, envelope.kmsKeyArn),
  );
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "base64"));
    decipher.setAAD(aad(envelope.context));
    decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
    return Buffer.concat([
      decipher.update(Buffer.from(envelope.ciphertext, "base64")),
      decipher.final(),
    ]).toString("utf8");
  } catch (cause) {
    throw new IamRaError(
      "invalid-input",
      "The CA key envelope does not decrypt: it was altered or belongs elsewhere.",
      {
        cause,
        hint: "Restore the key object from the bucket's version history.",
      },
    );
  } finally {
    key.fill(0);
  }
}
