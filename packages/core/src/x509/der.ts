/**
 * Just enough DER to tell what a blob is before handing it to OpenSSL: the tag, contents and end of
 * one TLV, and the two facts that make error messages honest (is it an encrypted PKCS#8 key? which
 * algorithm signed a certificate?). Parsing proper stays with node:crypto and @peculiar/x509.
 */

/** One DER element: its tag, where its contents start and where it ends. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** The element at `offset`, or undefined when the bytes are not well-formed DER there. */
function readTlv(der: Uint8Array, offset: number, limit = der.length): Tlv | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  return end <= limit ? { tag, start, end } : undefined;
}

const SEQUENCE = 0x30;
const OID = 0x06;
const OCTET_STRING = 0x04;

/**
 * True when the bytes are a PKCS#8 EncryptedPrivateKeyInfo: SEQUENCE { AlgorithmIdentifier
 * (SEQUENCE starting with an OID), OCTET STRING }. A plain key starts with an INTEGER version.
 */
export function isEncryptedPkcs8Der(der: Uint8Array): boolean {
  const outer = readTlv(der, 0);
  if (outer?.tag !== SEQUENCE) return false;
  const algorithm = readTlv(der, outer.start, outer.end);
  if (algorithm?.tag !== SEQUENCE) return false;
  const oid = readTlv(der, algorithm.start, algorithm.end);
  const data = readTlv(der, algorithm.end, outer.end);
  return oid?.tag === OID && data?.tag === OCTET_STRING && data.end === outer.end;
}

/** Dotted form of an OID's contents. */
function oidText(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0)
        parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

/** The OID of the algorithm that signed a certificate (Certificate.signatureAlgorithm), if readable. */
export function certificateSignatureOid(der: Uint8Array): string | undefined {
  return signedDerParts(der)?.signatureOid;
}

/** Signature algorithms Roles Anywhere refuses (MD5 and SHA-1 based), by OID. */
export const WEAK_SIGNATURE_OIDS: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.3.14.3.2.29": "sha1WithRSASignature",
};

/**
 * The signed parts of a Certificate or CertificateList (same outer shape: SEQUENCE { to-be-signed,
 * AlgorithmIdentifier, BIT STRING }): the exact to-be-signed bytes, the signature algorithm's OID and
 * the signature, for checking a signature with node:crypto. Undefined when the bytes are not that.
 * @public
 */
export function signedDerParts(
  der: Uint8Array,
): { tbs: Uint8Array; signatureOid: string; signature: Uint8Array } | undefined {
  const outer = readTlv(der, 0);
  if (outer?.tag !== SEQUENCE) return undefined;
  const tbs = readTlv(der, outer.start, outer.end);
  if (tbs?.tag !== SEQUENCE) return undefined;
  const algorithm = readTlv(der, tbs.end, outer.end);
  if (algorithm?.tag !== SEQUENCE) return undefined;
  const oid = readTlv(der, algorithm.start, algorithm.end);
  const bits = readTlv(der, algorithm.end, outer.end);
  if (oid?.tag !== OID || bits?.tag !== 0x03 || bits.end !== outer.end || der[bits.start] !== 0)
    return undefined;
  return {
    tbs: der.subarray(outer.start, tbs.end),
    signatureOid: oidText(der.subarray(oid.start, oid.end)),
    signature: der.subarray(bits.start + 1, bits.end),
  };
}

/** The digest of each RSA PKCS#1 v1.5 / ECDSA / EdDSA signature algorithm, by OID (null: none). @public */
export const SIGNATURE_DIGESTS: Readonly<Record<string, string | null>> = {
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.10045.4.1": "sha1",
  "1.3.101.112": null,
  "1.3.101.113": null,
};
