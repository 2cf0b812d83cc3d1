import {
  type AssumeRoleRequest,
  type CallerIdentity,
  type StsClientOptions as CoreStsClientOptions,
  createStsClient as createCoreStsClient,
} from "@iam-ra/core/sts";
import { type RetryOptions, withRetries } from "./retry.ts";

export type { CallerIdentity } from "@iam-ra/core/sts";
export { defaultStsEndpoint, stsBaseUrl } from "@iam-ra/core/sts";

/** Temporary credentials, as STS and Roles Anywhere hand them out. */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Absent for credentials of unknown age (e.g. taken from the environment). */
  expiration: Date | undefined;
}

/** The two STS calls the action makes, each retried as `retry-max-attempts` allows. */
export interface StsClient {
  getCallerIdentity(): Promise<CallerIdentity>;
  assumeRole(
    request: AssumeRoleRequest & { durationSeconds: number },
  ): Promise<{ credentials: TemporaryCredentials & { expiration: Date }; assumedRoleArn: string }>;
}

/** Options of {@link createStsClient}: core's client options and the retry policy. */
export interface StsClientOptions extends RetryOptions, CoreStsClientOptions {
  credentials: TemporaryCredentials;
}

/**
 * Core's STS client, with throttling, 5xx and network failures retried (full-jitter backoff, each
 * attempt signed afresh).
 */
export function createStsClient(options: StsClientOptions): StsClient {
  const sts = createCoreStsClient(options);
  return {
    getCallerIdentity: () => withRetries(options, "STS GetCallerIdentity", () => sts.getCallerIdentity()),
    assumeRole: (request) => withRetries(options, "STS AssumeRole", () => sts.assumeRole(request)),
  };
}
