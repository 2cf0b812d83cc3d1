/**
 * The one refresh engine: when to renew credentials, how long to wait after a failure, and which
 * held credentials may still be used. Every credential holder in iam-ra uses it: the SDK provider
 * ({@link fromRolesAnywhere}), the credential server's background source, `iam-ra update`, and
 * the per-request retries of CreateSession (and so the GitHub Action). All of it is pure: time
 * and randomness come in as arguments; the waiting is {@link abortableSleep}.
 * @module
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * When to renew, as the validity to keep left. The rule is one for every holder: renew at
 * half-life, but with no more than `maxLeftMs` and no less than `minLeftMs` left, and never
 * sooner than `minAgeMs` after the session was minted (so a short or already-expired session
 * cannot spin a loop).
 * @public
 */
export interface RefreshPolicy {
  /** Renew with at most this much validity left (long sessions are used until then). */
  readonly maxLeftMs: number;
  /** Renew with at least this much validity left, when the session is long enough. */
  readonly minLeftMs: number;
  /** Never renew sooner than this after minting. */
  readonly minAgeMs: number;
}

/**
 * For credentials a process uses itself (the provider, `iam-ra update`): 15 minutes before expiry
 * (botocore's advisory window, so no SDK sees credentials it would itself consider stale), at
 * half-life for sessions shorter than 30 minutes, at least 1 s after minting.
 * @public
 */
export const SDK_REFRESH_POLICY: RefreshPolicy = {
  maxLeftMs: 15 * MINUTE,
  minLeftMs: 0,
  minAgeMs: SECOND,
};

/**
 * For credentials served to other processes (the credential server): at half-life, but with at
 * least 20 minutes left, so a client SDK (which renews with 15 minutes left) always fetches
 * credentials the server has already renewed; never sooner than a minute after minting.
 * @public
 */
export const SERVER_REFRESH_POLICY: RefreshPolicy = {
  maxLeftMs: Number.POSITIVE_INFINITY,
  minLeftMs: 20 * MINUTE,
  minAgeMs: MINUTE,
};

/**
 * When credentials minted at `obtainedAt` that expire at `expiration` should be renewed.
 * @public
 */
export function planRefresh(
  obtainedAt: Date,
  expiration: Date,
  policy: RefreshPolicy = SDK_REFRESH_POLICY,
): Date {
  const lifetime = expiration.getTime() - obtainedAt.getTime();
  const keepLeft = Math.min(
    Math.max(Math.min(lifetime / 2, policy.maxLeftMs), policy.minLeftMs),
    lifetime - policy.minAgeMs,
  );
  return new Date(Math.max(expiration.getTime() - keepLeft, obtainedAt.getTime() + policy.minAgeMs));
}

/**
 * Exponential backoff with jitter. The n-th retry waits up to `min(maxMs, baseMs × 2^n)`:
 * `full` jitter picks anywhere below that ceiling (AWS SDKs' choice for single calls, which
 * spreads many clients best); `equal` jitter picks in its upper half, so a loop that keeps
 * failing never retries at once.
 * @public
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: "full" | "equal";
}

/**
 * Per-request retries of one CreateSession (or STS) call: full jitter from 100 ms, capped at 20 s.
 * @public
 */
export const CALL_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 20 * SECOND, jitter: "full" };

/**
 * Retries of a failed refresh in `iam-ra update`: equal jitter, 0.5–1 s first, capped at 5 minutes
 * (the credentials in the file stay valid meanwhile).
 * @public
 */
export const UPDATE_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 5 * MINUTE, jitter: "equal" };

/**
 * Retries of a failed refresh in the credential server: equal jitter, 0.25–0.5 s first, capped at
 * a minute (pods may be waiting for their first credentials).
 * @public
 */
export const SERVER_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: MINUTE, jitter: "equal" };

/**
 * How long to wait before retry number `retry` (1 for the first retry).
 * @param random - a number in [0, 1), e.g. `Math.random`
 * @public
 */
export function backoffDelay(retry: number, random: () => number, policy: BackoffPolicy): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(retry, 0), 30));
  return policy.jitter === "full"
    ? Math.floor(random() * ceiling)
    : Math.round(((1 + random()) * ceiling) / 2);
}

/**
 * The held credentials while they stay valid for more than `minValidityMs` at `now`, else
 * undefined: after a failed refresh, the last good credentials are used until they expire.
 * @public
 */
export function stillValid<T extends { expiration: Date }>(
  held: T | undefined,
  now: Date,
  minValidityMs = 0,
): T | undefined {
  return held && held.expiration.getTime() - now.getTime() > minValidityMs ? held : undefined;
}
