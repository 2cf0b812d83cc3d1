/**
 * @iam-ra/core: AWS IAM Roles Anywhere for Node.js.
 *
 * The most used entry points are re-exported here; each domain also has its own subpath
 * (`@iam-ra/core/rolesanywhere`, `@iam-ra/core/x509`, `@iam-ra/core/sigv4`).
 * @module
 */
export type { IamRaErrorCode, IamRaErrorOptions } from "./errors.ts";
export {
  asIamRaError,
  BUG_REPORT_URL,
  CredentialMaterialError,
  describeError,
  formatError,
  IamRaError,
  ServiceError,
  stripControlCharacters,
} from "./errors.ts";
export { MAX_MATERIAL_FILE_BYTES, type ReadBoundedFileOptions, readBoundedFile } from "./files.ts";
export type {
  AwsCredentials,
  FromRolesAnywhereOptions,
  RolesAnywhereProvider,
} from "./rolesanywhere/index.ts";
export { createSession, fromRolesAnywhere } from "./rolesanywhere/index.ts";
export type { CredentialMaterial } from "./x509/index.ts";
export { parseCredentialMaterial, readCredentialMaterial } from "./x509/index.ts";
