/**
 * AWS STS: GetCallerIdentity and AssumeRole over core's transport and SigV4, without an SDK.
 * @module
 */
export type {
  AssumeRoleRequest,
  AssumeRoleResult,
  CallerIdentity,
  StsClient,
  StsClientOptions,
  StsOperation,
  StsSigningCredentials,
} from "./client.ts";
export { createStsClient, defaultStsEndpoint, StsError, stsBaseUrl } from "./client.ts";
