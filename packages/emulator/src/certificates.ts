export type { ParsedCertificate } from "@iam-ra/core/x509";
export { isValidTagValue, parseCertificate } from "@iam-ra/core/x509";

/** Every CERTIFICATE block of a PEM bundle, as DER. */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) =>
    Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"),
  );
}
