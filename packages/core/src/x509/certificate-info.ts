import { X509Certificate as NodeX509 } from "node:crypto";
import { loadX509 } from "./ca.ts";

/**
 * A certificate with the facts Roles Anywhere reasons about: subject/issuer attributes, SANs,
 * CA flag, key usage, signature hash.
 * @public
 */
export interface ParsedCertificate {
  node: NodeX509;
  der: Buffer;
  subject: string;
  issuer: string;
  /** First value of each subject / issuer attribute, by short name (CN, OU, O, C, ST, L, …). */
  subjectFields: Map<string, string>;
  issuerFields: Map<string, string>;
  san: { DNS: string[]; URI: string[]; Name: string[]; Email: string[]; IP: string[] };
  /** The attributes of the SAN's first directory name (`CN`, `OU`, …; the first value of each). */
  sanNameFields: Map<string, string>;
  isCa: boolean;
  /** basicConstraints pathLenConstraint of a CA certificate; undefined when it sets none. */
  pathLength: number | undefined;
  /** undefined when the certificate has no keyUsage extension. */
  keyUsageDigitalSignature: boolean | undefined;
  signatureHash: string;
  version: number;
}

const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.11": "OU",
  "2.5.4.10": "O",
  "2.5.4.6": "C",
  "2.5.4.8": "ST",
  "2.5.4.7": "L",
  "2.5.4.5": "serialNumber",
  "2.5.4.12": "title",
  "2.5.4.42": "givenName",
  "2.5.4.4": "surname",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
  "0.9.2342.19200300.100.1.1": "UID",
};

function fieldsOf(name: { toJSON(): Array<Record<string, string[]>> }): Map<string, string> {
  const out = new Map<string, string>();
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      const short = SHORT_NAMES[type] ?? type;
      if (!out.has(short) && values[0] !== undefined) out.set(short, values[0]);
    }
  }
  return out;
}

/** Parses a DER certificate, or returns undefined when it is not one. @public */
export async function parseCertificate(der: Buffer): Promise<ParsedCertificate | undefined> {
  let node: NodeX509;
  try {
    node = new NodeX509(der);
  } catch {
    return undefined;
  }
  const x509 = await loadX509();
  const cert = new x509.X509Certificate(new Uint8Array(der));
  const san = {
    DNS: [] as string[],
    URI: [] as string[],
    Name: [] as string[],
    Email: [] as string[],
    IP: [] as string[],
  };
  const sanExt = cert.getExtension(x509.SubjectAlternativeNameExtension);
  for (const item of sanExt?.names.items ?? []) {
    if (item.type === "dns") san.DNS.push(item.value);
    else if (item.type === "url") san.URI.push(item.value);
    else if (item.type === "dn") san.Name.push(item.value);
    else if (item.type === "email") san.Email.push(item.value);
    else if (item.type === "ip") san.IP.push(item.value);
  }
  let sanNameFields = new Map<string, string>();
  if (san.Name[0] !== undefined) {
    try {
      sanNameFields = fieldsOf(new x509.Name(san.Name[0]) as never);
    } catch {
      // A directory name @peculiar/x509 cannot read back maps to no tag.
    }
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const hash = (cert.signatureAlgorithm as { hash?: { name?: string } }).hash?.name ?? "unknown";
  return {
    node,
    der,
    subject: cert.subject,
    issuer: cert.issuer,
    subjectFields: fieldsOf(cert.subjectName as never),
    issuerFields: fieldsOf(cert.issuerName as never),
    san,
    sanNameFields,
    isCa: bc?.ca ?? false,
    pathLength: bc?.ca ? bc.pathLength : undefined,
    keyUsageDigitalSignature: ku ? (ku.usages & x509.KeyUsageFlags.digitalSignature) !== 0 : undefined,
    signatureHash: hash.toUpperCase(),
    // tbsCertificate.version is 2 for v3; @peculiar/x509 does not expose it, so infer from extensions.
    version: cert.extensions.length > 0 ? 3 : 1,
  };
}

/**
 * The principal tags Roles Anywhere derives from a certificate (`x509Subject/<attr>`,
 * `x509Issuer/<attr>`, `x509SAN/DNS`, `x509SAN/URI` and `x509SAN/Name/<attr>` for the attributes of
 * the SAN's first directory name; the first value of each), and the ones that cannot become session
 * tags (AWS then refuses CreateSession).
 * @public
 */
export function derivePrincipalTags(cert: ParsedCertificate): {
  tags: Map<string, string>;
  invalid: string[];
} {
  const tags = new Map<string, string>();
  for (const [field, value] of cert.subjectFields) tags.set(`x509Subject/${field}`, value);
  for (const [field, value] of cert.issuerFields) tags.set(`x509Issuer/${field}`, value);
  if (cert.san.DNS[0] !== undefined) tags.set("x509SAN/DNS", cert.san.DNS[0]);
  if (cert.san.URI[0] !== undefined) tags.set("x509SAN/URI", cert.san.URI[0]);
  for (const [field, value] of cert.sanNameFields) tags.set(`x509SAN/Name/${field}`, value);
  const invalid = [...tags].filter(([, v]) => !isValidTagValue(v)).map(([k]) => k);
  return { tags, invalid };
}

/** STS session-tag charset: letters, digits, spaces and `_ . : / = + - @`, at most 256. @public */
export function isValidTagValue(value: string): boolean {
  return value.length <= 256 && /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(value);
}
