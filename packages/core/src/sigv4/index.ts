/**
 * SigV4 canonicalisation shared by the Roles Anywhere signer and the emulator's verifiers.
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
