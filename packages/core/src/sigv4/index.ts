/**
 * SigV4 canonicalisation shared by the Roles Anywhere signer and the emulator's verifiers, and the
 * standard HMAC signature of core's own AWS calls (STS, Roles Anywhere's reads).
 * @module
 */
export type { HeaderMap, ParsedAuthorization, SignableRequest } from "./canonical.ts";
export {
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  createCanonicalRequest,
  createStringToSign,
  credentialScope,
  defaultSignedHeaders,
  deriveSigningKey,
  formatAmzDate,
  getHeader,
  hmacSignature,
  parseAmzDate,
  parseAuthorization,
  parseQueryString,
  sha256Hex,
  uriEncode,
} from "./canonical.ts";
export type { HmacCredentials, HmacSignableRequest } from "./hmac.ts";
export { signHmacRequest } from "./hmac.ts";
