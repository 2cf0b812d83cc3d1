import type { KeyObject } from "node:crypto";

/**
 * A private key that signs somewhere else (a PKCS#11 token, a TPM): iam-ra hands it the data and
 * gets the signature back; the key never leaves its device.
 * @public
 */
export interface ExternalSigningKey {
  readonly kind: "pkcs11";
  readonly keyType: "RSA" | "EC";
  /** The EC curve (`prime256v1`, `secp384r1`, `secp521r1`). */
  readonly namedCurve?: string | undefined;
  /** What the key is, for messages (a PKCS#11 URI without any PIN). */
  readonly description: string;
  /** Signs SHA-256 of `data`: RSA PKCS#1 v1.5, or ECDSA in DER. Synchronous, on the device. */
  signSha256(data: Buffer): Buffer;
}

/** True when a key signs on a device rather than in this process. @public */
export const isExternalSigningKey = (key: KeyObject | ExternalSigningKey): key is ExternalSigningKey =>
  (key as ExternalSigningKey).kind === "pkcs11";
