/**
 * IAM Roles Anywhere: SigV4-X509 signing of CreateSession, the client, and the AWS SDK v3
 * credential provider.
 * @module
 */

export { abortableSleep } from "../sleep.ts";
export type { Arn, ArnKind } from "./arn.ts";
export { parseArn, roleNameFromArn, validateArn } from "./arn.ts";
export type { AttributeMapping, CertificateField } from "./attribute-mappings.ts";
export {
  checkAttributeMappings,
  DEFAULT_ATTRIBUTE_MAPPINGS,
  mapsPrincipalTag,
  parseAttributeMappings,
  specifiersMap,
  storedSpecifier,
} from "./attribute-mappings.ts";
export type {
  ClientDeps,
  CreateSessionOptions,
  CreateSessionResult,
  SessionCredentials,
} from "./client.ts";
export { createSession, preconnectSession, resolveSessionRegion, validateDuration } from "./client.ts";
export type { EndpointOptions, PartitionName, ResolvedEndpoint } from "./endpoint.ts";
export { isLoopbackHost, PARTITIONS, partitionOfRegion, resolveEndpoint } from "./endpoint.ts";
export type { CredentialOptionSpec } from "./option-specs.ts";
export { CREDENTIAL_OPTIONS } from "./option-specs.ts";
export type { CredentialOptionValues, SessionInputs } from "./options.ts";
export {
  parseInstanceProperties,
  readPassphrase,
  readPkcs11Options,
  resolveEndpointOption,
  resolveSessionInputs,
  stringOption,
} from "./options.ts";
export type { AwsCredentials, FromRolesAnywhereOptions, RolesAnywhereProvider } from "./provider.ts";
export { fromRolesAnywhere } from "./provider.ts";
export type { BackoffPolicy, RefreshPolicy } from "./refresh.ts";
export {
  backoffDelay,
  CALL_BACKOFF,
  planRefresh,
  SDK_REFRESH_POLICY,
  SERVER_BACKOFF,
  SERVER_REFRESH_POLICY,
  stillValid,
  UPDATE_BACKOFF,
} from "./refresh.ts";
export type { RetryPolicy } from "./retry.ts";
export { withRetries } from "./retry.ts";
export type {
  CreateSessionParams,
  HttpRequestSpec,
  SignedCreateSessionRequest,
  SigningIdentity,
} from "./signer.ts";
export {
  buildCreateSessionRequest,
  createSignedCreateSessionRequest,
  ROLES_ANYWHERE_SERVICE,
  signRequestX509,
  signStringToSign,
} from "./signer.ts";
export type { HttpResponse, HttpTransport, NodeTransport, NodeTransportOptions } from "./transport.ts";
export { createNodeTransport, MAX_RESPONSE_BYTES, TransportError } from "./transport.ts";
export type { ConditionContext, TrustDecision, TrustRequest } from "./trust-policy.ts";
export { evaluateTrustPolicy, wildcardMatch } from "./trust-policy.ts";
