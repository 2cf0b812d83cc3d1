import { ServiceError } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import { backoffDelay, CALL_BACKOFF } from "./refresh.ts";
import { TransportError } from "./transport.ts";

/**
 * How often, and how patiently, {@link withRetries} tries a call.
 * @public
 */
export interface RetryPolicy {
  /** Attempts including the first (at least 1). */
  maxAttempts: number;
  /** Base of the full-jitter backoff ({@link CALL_BACKOFF}). Default 100 ms; each delay is capped at 20 s. */
  retryBaseMs?: number | undefined;
  /** A number in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  /** Default: a timer that an abort of `signal` ends at once. */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Ends the waits; an aborted call is never retried. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or runs out of attempts. A retryable
 * {@link ServiceError} (throttling, 5xx) and a network failure (a `TransportError`, turned into a
 * ServiceError by `toNetworkError`) are tried again after `random() * base * 2^n` ms (full jitter);
 * anything else ends the call as it is. The last failure is thrown when no attempt is left.
 * @public
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  toNetworkError: (error: TransportError) => ServiceError,
): Promise<T> {
  const sleep = policy.sleep ?? abortableSleep;
  const random = policy.random ?? Math.random;
  const backoff = { ...CALL_BACKOFF, baseMs: policy.retryBaseMs ?? CALL_BACKOFF.baseMs };
  const maxAttempts = Math.max(1, policy.maxAttempts);
  let lastError: unknown;
  for (let n = 0; n < maxAttempts; n++) {
    if (n > 0) await sleep(backoffDelay(n, random, backoff), policy.signal);
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof TransportError && !policy.signal?.aborted) {
        lastError = toNetworkError(error);
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

/**
 * Throttling, or a failure on the service's side, in any AWS protocol's error answer: another
 * attempt may succeed.
 */
export function isRetryableAnswer(statusCode: number, errorType: string | undefined): boolean {
  return (
    statusCode >= 500 ||
    statusCode === 429 ||
    /Throttl|TooManyRequests|RequestLimitExceeded/.test(errorType ?? "")
  );
}

/**
 * The `toNetworkError` of {@link withRetries} for calls to `origin`: a timeout or a network failure,
 * named with the origin, retryable, with `hint` as the next step.
 */
export function unreachable(origin: string, hint: string): (error: TransportError) => ServiceError {
  return (error) =>
    new ServiceError(
      error.code === "ETIMEDOUT" ? "timeout" : "network",
      `Could not reach ${origin}: ${error.message}`,
      { statusCode: 0, retryable: true },
      { cause: error, hint },
    );
}
