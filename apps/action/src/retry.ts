import { ServiceError } from "@iam-ra/core";
import { TransportError } from "@iam-ra/core/rolesanywhere";

/** How often, and how patiently, a call is retried. */
export interface RetryOptions {
  /** Attempts including the first. */
  maxAttempts: number;
  /** Base of the full-jitter backoff. Default 100 ms; each delay is capped at 20 s. */
  retryBaseMs?: number | undefined;
  /** A number in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, fails for good, or runs out of attempts. Retryable service
 * errors (throttling, 5xx) and network failures are retried after `random() * base * 2^n` ms, the
 * same full-jitter backoff the Roles Anywhere client uses.
 */
export async function withRetries<T>(
  options: RetryOptions,
  label: string,
  attempt: () => Promise<T>,
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const base = options.retryBaseMs ?? 100;
  const maxAttempts = Math.max(1, options.maxAttempts);
  let lastError: unknown;
  for (let n = 0; n < maxAttempts; n++) {
    if (n > 0) await sleep(Math.floor(random() * Math.min(20_000, base * 2 ** n)));
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof TransportError) {
        lastError = new ServiceError(
          error.code === "ETIMEDOUT" ? "timeout" : "network",
          `${label} could not reach the endpoint: ${error.message}`,
          { statusCode: 0, retryable: true },
          {
            cause: error,
            hint: "Check the runner's network access to the endpoint (and HTTPS_PROXY/NO_PROXY on self-hosted runners).",
          },
        );
        continue;
      }
      if (error instanceof ServiceError && error.retryable) {
        lastError = error;
        continue;
      }
      throw error;
    }
  }
  throw lastError;
}
