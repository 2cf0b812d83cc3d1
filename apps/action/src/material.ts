import { IamRaError } from "@iam-ra/core";
import { type CredentialMaterial, parseCredentialMaterial } from "@iam-ra/core/x509";
import type { MaterialInputs } from "./inputs.ts";

const DAY_MS = 86_400_000;

/** PEM text as it is; anything else must be base64 (DER or PKCS#12, as secrets hold binaries). */
function decode(text: string, input: string): string | Uint8Array {
  if (text.includes("-----BEGIN")) return text;
  const compact = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new IamRaError(
      input === "certificate" ? "certificate-invalid" : "private-key-invalid",
      `The ${input} input is neither PEM text nor base64.`,
      {
        hint: `Set ${input} to PEM text (-----BEGIN …-----) or, for binary DER/PKCS#12, its base64 (base64 -w0 file.p12).`,
      },
    );
  }
  return Buffer.from(compact, "base64");
}

/**
 * Decodes and checks the certificate, key and chain: the pair must match and the key must open.
 * Validity is checked separately by {@link checkCertificateExpiry}, which can warn first.
 */
export async function loadMaterial(inputs: MaterialInputs): Promise<CredentialMaterial> {
  return await parseCredentialMaterial({
    certificate: decode(inputs.certificate, "certificate"),
    privateKey: inputs.privateKey === undefined ? undefined : decode(inputs.privateKey, "private-key"),
    intermediates: inputs.chain,
    passphrase: inputs.passphrase,
  });
}

/** The outcome of the expiry preflight. */
export type ExpiryCheck =
  | { state: "valid"; notAfter: Date; daysLeft: number }
  | { state: "expiring"; notAfter: Date; daysLeft: number };

/**
 * Fails when the certificate is outside its validity window at `now`; reports `expiring` when it
 * ends within `warningDays`.
 */
export function checkCertificateExpiry(
  material: Pick<CredentialMaterial, "certificate">,
  now: Date,
  warningDays: number,
): ExpiryCheck {
  const notBefore = new Date(material.certificate.validFrom);
  const notAfter = new Date(material.certificate.validTo);
  if (now.getTime() > notAfter.getTime()) {
    throw new IamRaError("certificate-expired", `The certificate expired on ${notAfter.toISOString()}.`, {
      hint: "Issue a new certificate and update the secret the certificate input reads.",
    });
  }
  if (now.getTime() < notBefore.getTime()) {
    throw new IamRaError(
      "certificate-not-yet-valid",
      `The certificate is not valid before ${notBefore.toISOString()}.`,
      { hint: "Check the runner's clock, or wait until the certificate's notBefore." },
    );
  }
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  return daysLeft < warningDays
    ? { state: "expiring", notAfter, daysLeft }
    : { state: "valid", notAfter, daysLeft };
}
