/**
 * CreateSession's certificate checks: the path from the signing certificate through
 * `X-Amz-X509-Chain` to a trust anchor's CA (validity, CA flags, path length, signature hashes), and
 * revocation by the anchor's enabled CRLs.
 * @module
 */
import { createHash, verify as verifySignature } from "node:crypto";
import {
  loadX509,
  type ParsedCertificate,
  parseCertificate,
  SIGNATURE_DIGESTS,
  signedDerParts,
} from "@iam-ra/core/x509";
import type { X509Crl } from "@peculiar/x509";
import { ApiError } from "./http.ts";
import type { EmulatorStateData, TrustAnchorRecord } from "./state.ts";

const denied = (message: string) => new ApiError(403, "AccessDeniedException", message);
/** AWS's answer to a certificate it does not trust, with the emulator's reason. */
export const untrusted = (detail: string): ApiError => denied(`Untrusted Signing Certificate: ${detail}`);

/** How many parsed certificates {@link parseCached} keeps: enough for every client of a test suite. */
const PARSED_CACHE_SIZE = 512;
const parsedCache = new Map<string, Promise<ParsedCertificate | undefined>>();
/** Parsed CRLs by their base64 DER (`null`: not a CRL), so a request does not re-parse them. */
const parsedCrls = new Map<string, X509Crl | null>();

/**
 * {@link parseCertificate}, remembered by DER: every CreateSession re-presents the same leaf and the
 * same anchors, and full ASN.1 parsing was most of the emulator's time per request. A certificate's
 * parse depends on its bytes alone, so the cache cannot go stale; the oldest entry goes first.
 */
export function parseCached(der: Buffer): Promise<ParsedCertificate | undefined> {
  const key = der.toString("base64");
  let parsed = parsedCache.get(key);
  if (parsed) {
    parsedCache.delete(key);
  } else {
    parsed = parseCertificate(der);
    if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value!);
  }
  parsedCache.set(key, parsed);
  return parsed;
}

const issues = (child: ParsedCertificate, parent: ParsedCertificate) =>
  child.node.checkIssued(parent.node) && child.node.verify(parent.node.publicKey);

const validAt = (c: ParsedCertificate, at: Date) =>
  at.getTime() >= new Date(c.node.validFrom).getTime() && at.getTime() <= new Date(c.node.validTo).getTime();

/** The path from the leaf to one of the anchor's CAs, or AWS's refusal; the leaf's own dates are checked by the caller. */
export async function checkChain(
  leaf: ParsedCertificate,
  chainHeader: string | undefined,
  anchorDers: Buffer[],
  now: Date,
): Promise<ParsedCertificate[]> {
  if (leaf.isCa)
    throw untrusted("the signing certificate is a CA certificate, not an end-entity certificate.");
  if (leaf.keyUsageDigitalSignature === false)
    throw untrusted("the signing certificate's key usage lacks digitalSignature.");
  if (/MD5|SHA-1|SHA1/.test(leaf.signatureHash))
    throw untrusted(`certificates signed with ${leaf.signatureHash} are not accepted.`);
  const intermediates: ParsedCertificate[] = [];
  for (const part of (chainHeader ?? "").split(",").filter((p) => p.trim() !== "")) {
    const parsed = await parseCached(Buffer.from(part.trim(), "base64"));
    if (!parsed) throw untrusted("X-Amz-X509-Chain holds a value that is not a certificate.");
    intermediates.push(parsed);
  }
  const anchors = (await Promise.all(anchorDers.map((d) => parseCached(d)))).filter(
    (a): a is ParsedCertificate => a !== undefined,
  );
  const path: ParsedCertificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const anchor = anchors.find((a) => issues(current, a));
    if (anchor) {
      if (!validAt(anchor, now))
        throw untrusted("the trust anchor's CA certificate is outside its validity period.");
      // RFC 5280 6.1.4 (m): a CA with pathLenConstraint n may have at most n CAs below it in the path.
      for (const [i, ca] of path.entries())
        if (i > 0 && ca.pathLength !== undefined && i - 1 > ca.pathLength)
          throw untrusted("an intermediate CA exceeds its path length constraint.");
      for (const c of path.slice(1)) {
        if (!validAt(c, now)) throw untrusted("an intermediate certificate is outside its validity period.");
        // The leaf's rule holds for every certificate of the path below the anchor: a SHA-256 leaf
        // under a SHA-1-signed intermediate rests on SHA-1.
        if (/MD5|SHA-1|SHA1/.test(c.signatureHash))
          throw untrusted(
            `an intermediate certificate is signed with ${c.signatureHash}, which is not accepted.`,
          );
      }
      path.push(anchor);
      return path;
    }
    const next = intermediates.find((i) => !path.includes(i) && i.isCa && issues(current, i));
    if (!next) break;
    path.push(next);
    current = next;
  }
  throw untrusted("the certificate chain does not reach the trust anchor's CA.");
}

/**
 * Whether a CRL is signed by the CA whose name it carries (a certificate of the path, the anchor
 * included), checked with node:crypto over the CRL's exact to-be-signed bytes. A CRL naming the CA
 * but signed by another key is not the CA's word: it is not honoured.
 */
const crlSigners = new Map<string, boolean>();
function crlSignedByIssuer(der: Buffer, issuerName: string, path: ParsedCertificate[]): boolean {
  const parts = signedDerParts(der);
  const digest = parts ? SIGNATURE_DIGESTS[parts.signatureOid] : undefined;
  if (!parts || digest === undefined) return false;
  for (const issuer of path.filter((c) => c.subject === issuerName)) {
    const key = `${issuer.node.fingerprint256}:${createHash("sha256").update(der).digest("hex")}`;
    let verified = crlSigners.get(key);
    if (verified === undefined) {
      try {
        verified = verifySignature(digest, parts.tbs, issuer.node.publicKey, parts.signature);
      } catch {
        verified = false;
      }
      if (crlSigners.size >= PARSED_CACHE_SIZE) crlSigners.delete(crlSigners.keys().next().value!);
      crlSigners.set(key, verified);
    }
    if (verified) return true;
  }
  return false;
}

/** Refuses a certificate of the path that an enabled CRL of the anchor, signed by the CA it names, lists. */
export async function checkRevocation(
  path: ParsedCertificate[],
  anchor: TrustAnchorRecord,
  state: EmulatorStateData,
): Promise<void> {
  const crls = state.crls.filter((c) => c.enabled && c.trustAnchorArn === anchor.trustAnchorArn);
  if (crls.length === 0) return;
  const x509 = await loadX509();
  for (const record of crls) {
    let crl = parsedCrls.get(record.crlData);
    if (crl === undefined) {
      try {
        crl = new x509.X509Crl(new Uint8Array(Buffer.from(record.crlData, "base64")));
      } catch {
        crl = null;
      }
      if (parsedCrls.size >= PARSED_CACHE_SIZE) parsedCrls.delete(parsedCrls.keys().next().value!);
      parsedCrls.set(record.crlData, crl);
    }
    if (crl === null) continue;
    if (!crlSignedByIssuer(Buffer.from(record.crlData, "base64"), crl.issuer, path)) continue;
    for (const cert of path) {
      if (crl.issuer !== cert.issuer) continue;
      if (crl.findRevoked(cert.node.serialNumber.toLowerCase()) || crl.findRevoked(cert.node.serialNumber)) {
        throw denied(
          `Certificate revoked: serial ${cert.node.serialNumber} is listed in CRL ${record.name}.`,
        );
      }
    }
  }
}
