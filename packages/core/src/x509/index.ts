/**
 * Certificates and keys: parsing every common format, checking pairs and validity, and creating
 * CAs, certificates and CRLs.
 * @module
 */

export { openPkcs11Key, readPkcs11Certificate } from "../pkcs11/key.ts";
export type { Pkcs11Options } from "../pkcs11/module.ts";
export type { Pkcs11Uri } from "../pkcs11/uri.ts";
export { isPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri } from "../pkcs11/uri.ts";
export type {
  CertificateIssuer,
  CertificateSpec,
  CreateCrlOptions,
  IssueCertificateOptions,
  IssuedCertificate,
  KeyAlgorithm,
  ParsedCsr,
  ServingCertificate,
} from "./ca.ts";
export {
  createCrl,
  createCsr,
  createSelfSignedCa,
  createServingCertificate,
  issueCertificate,
  issueCertificateForKey,
  KEY_ALGORITHMS,
  loadX509,
  parseCsr,
} from "./ca.ts";
export type { ParsedCertificate } from "./certificate-info.ts";
export { derivePrincipalTags, isValidTagValue, parseCertificate } from "./certificate-info.ts";
export { SIGNATURE_DIGESTS, signedDerParts } from "./der.ts";
export type { EncryptedKeyEnvelope, KmsPort } from "./envelope.ts";
export { openKeyEnvelope, sealKeyEnvelope } from "./envelope.ts";
export type { ExternalSigningKey } from "./external-key.ts";
export { isExternalSigningKey } from "./external-key.ts";
export type { CredentialMaterial, CredentialMaterialInput, X509SigningAlgorithm } from "./material.ts";
export { checkValidity, parseCredentialMaterial, serialToDecimal } from "./material.ts";
export type { PemBlock } from "./pem.ts";
export { isPem, parsePemBlocks, toPem } from "./pem.ts";
export type { MaterialSource, ReadCredentialMaterialOptions } from "./read.ts";
export { readCertificateSource, readCredentialMaterial } from "./read.ts";
