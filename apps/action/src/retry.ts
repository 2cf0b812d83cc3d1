import { ServiceError } from "@iam-ra/core";
import { type RetryPolicy, withRetries as withCoreRetries } from "@iam-ra/core/rolesanywhere";

/** How often, and how patiently, a call is retried (core's policy; `maxAttempts` from retry-max-attempts). */
export type RetryOptions = RetryPolicy;

/**
 * Core's retry loop (full-jitter backoff; throttling, 5xx and network failures retried), with a
 * network failure worded for a runner.
 */
export async function withRetries<T>(
  options: RetryOptions,
  label: string,
  attempt: () => Promise<T>,
): Promise<T> {
  return await withCoreRetries(
    options,
    attempt,
    (error) =>
      new ServiceError(
        error.code === "ETIMEDOUT" ? "timeout" : "network",
        `${label} could not reach the endpoint: ${error.message}`,
        { statusCode: 0, retryable: true },
        {
          cause: error,
          hint: "Check the runner's network access to the endpoint (and HTTPS_PROXY/NO_PROXY on self-hosted runners).",
        },
      ),
  );
}
