/**
 * `iam-ra update`: keeps a profile of the shared credentials file filled with fresh Roles Anywhere
 * credentials. The loop takes its clock, sleep and signal as parameters so tests drive it without
 * waiting.
 * @module
 */
import { IamRaError, ServiceError } from "@iam-ra/core";
import { applyProfileKeys, type FileLockOptions } from "@iam-ra/core/aws-config";
import {
  type AwsCredentials,
  backoffDelay,
  planRefresh,
  SDK_REFRESH_POLICY,
  abortableSleep as sleepOrReject,
  UPDATE_BACKOFF,
} from "@iam-ra/core/rolesanywhere";

/** Refresh this long before expiry (botocore's advisory window), or at half-life for short sessions. */
export const DEFAULT_REFRESH_MARGIN_MS = SDK_REFRESH_POLICY.maxLeftMs;
/** Longest wait between retries after a failed refresh. */
export const MAX_BACKOFF_MS = UPDATE_BACKOFF.maxMs;

/** The keys `update` writes; `aws_security_token` is removed because botocore prefers it. */
export function credentialsFileKeys(credentials: AwsCredentials, roleArn: string): Record<string, string> {
  return {
    aws_access_key_id: credentials.accessKeyId,
    aws_secret_access_key: credentials.secretAccessKey,
    aws_session_token: credentials.sessionToken,
    ...(credentials.accountId ? { aws_account_id: credentials.accountId } : {}),
    // Not read by any SDK (unknown keys are ignored); for people and tools such as saml2aws.
    x_security_token_expires: credentials.expiration.toISOString(),
    x_iam_ra_role_arn: roleArn,
  };
}

/** Writes one profile's credentials into the credentials file, under its lock, atomically (0600). */
export async function writeProfileCredentials(options: {
  path: string;
  profile: string;
  credentials: AwsCredentials;
  roleArn: string;
  lock?: FileLockOptions;
}): Promise<string> {
  const result = await applyProfileKeys({
    path: options.path,
    kind: "credentials",
    profile: options.profile,
    keys: credentialsFileKeys(options.credentials, options.roleArn),
    removeKeys: ["aws_security_token"],
    lock: options.lock,
  });
  return result.path;
}

/**
 * When to refresh, from now: core's {@link SDK_REFRESH_POLICY} (`marginMs` before expiry, or at
 * half of the remaining lifetime if that is shorter, never sooner than 1 s).
 */
export function planRefreshDelay(expiration: Date, now: Date, marginMs = DEFAULT_REFRESH_MARGIN_MS): number {
  const policy = { ...SDK_REFRESH_POLICY, maxLeftMs: marginMs };
  return planRefresh(now, expiration, policy).getTime() - now.getTime();
}

/** Core's {@link UPDATE_BACKOFF}: 1 s, 2 s, 4 s … capped at `maxMs`, each between half and all of it. */
export function planBackoffDelay(failures: number, random: () => number, maxMs = MAX_BACKOFF_MS): number {
  return backoffDelay(failures, random, { ...UPDATE_BACKOFF, maxMs });
}

/** Errors worth retrying at start-up; anything else there is a configuration mistake. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof ServiceError) return error.retryable;
  if (error instanceof IamRaError) {
    return ["network", "timeout", "throttled", "service-unavailable"].includes(error.code);
  }
  return false;
}

/** What the loop reports as it goes. */
export type UpdateEvent =
  | { type: "written"; expiration: Date; nextRefreshAt: Date }
  | { type: "failed"; error: unknown; retryAt: Date; credentialsValidUntil: Date | undefined }
  | { type: "stopped" };

/** The loop's dependencies. */
export interface UpdateLoopDeps {
  /** A new session (never a cached one). */
  fetch: () => Promise<AwsCredentials>;
  /** Puts the credentials in the file. */
  write: (credentials: AwsCredentials) => Promise<void>;
  clock: { now(): Date };
  /** Waits `ms`; resolves early (does not reject) when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  random: () => number;
  onEvent: (event: UpdateEvent) => void;
}

/** How the loop ended. */
export interface UpdateOutcome {
  state: "written" | "stopped";
  /** Successful writes. */
  refreshes: number;
  /** Expiration of the credentials last written. */
  expiration: Date | undefined;
}

/**
 * Fetches and writes credentials; with `once`, a single time (a failure throws). Otherwise it
 * refreshes before expiry until `signal` aborts. At start-up a configuration error (bad ARN,
 * unreadable key, access denied) throws, so a service manager shows it; once credentials have been
 * written, every failure is retried with backoff while the written ones stay in place.
 */
export async function runUpdateLoop(
  deps: UpdateLoopDeps,
  options: { once: boolean; refreshMarginMs?: number | undefined },
): Promise<UpdateOutcome> {
  let refreshes = 0;
  let expiration: Date | undefined;
  let failures = 0;
  if (options.once) {
    const credentials = await deps.fetch();
    await deps.write(credentials);
    return { state: "written", refreshes: 1, expiration: credentials.expiration };
  }
  while (!deps.signal.aborted) {
    let delay: number;
    try {
      const credentials = await deps.fetch();
      if (deps.signal.aborted) break;
      await deps.write(credentials);
      refreshes++;
      failures = 0;
      expiration = credentials.expiration;
      delay = planRefreshDelay(expiration, deps.clock.now(), options.refreshMarginMs);
      deps.onEvent({
        type: "written",
        expiration,
        nextRefreshAt: new Date(deps.clock.now().getTime() + delay),
      });
    } catch (error) {
      if (refreshes === 0 && !isTransientError(error)) throw error;
      failures++;
      delay = planBackoffDelay(failures, deps.random);
      const now = deps.clock.now();
      deps.onEvent({
        type: "failed",
        error,
        retryAt: new Date(now.getTime() + delay),
        credentialsValidUntil: expiration && expiration > now ? expiration : undefined,
      });
    }
    await deps.sleep(delay, deps.signal);
  }
  deps.onEvent({ type: "stopped" });
  return { state: "stopped", refreshes, expiration };
}

/** Core's abortable sleep, resolving (not rejecting) when the signal aborts: the loop then ends. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleepOrReject(ms, signal).catch(() => {});
}
