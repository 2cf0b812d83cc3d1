import { IamRaError } from "../errors.ts";
import type { CredentialMaterial } from "../x509/material.ts";
import { type ReadCredentialMaterialOptions, readCredentialMaterial } from "../x509/read.ts";
import {
  type CreateSessionOptions,
  type CreateSessionResult,
  createSession,
  preconnectSession,
  resolveSessionRegion,
} from "./client.ts";
import { planRefresh, SDK_REFRESH_POLICY, stillValid } from "./refresh.ts";
import type { CreateSessionParams } from "./signer.ts";
import { createNodeTransport } from "./transport.ts";

/**
 * The credential shape every AWS SDK v3 client accepts (`AwsCredentialIdentity`).
 * @public
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  accountId?: string;
}

/**
 * A memoized Roles Anywhere provider: call it for credentials; `refresh()` forces a new session.
 * @public
 */
export interface RolesAnywhereProvider {
  (): Promise<AwsCredentials>;
  /** Forces a new CreateSession, shared with concurrent callers. */
  refresh(): Promise<AwsCredentials>;
  /** The full result of the last successful CreateSession, if any. */
  readonly lastResult: CreateSessionResult | undefined;
}

/**
 * Options of {@link fromRolesAnywhere}.
 * @public
 */
export interface FromRolesAnywhereOptions
  extends CreateSessionParams,
    Omit<CreateSessionOptions, "signal">,
    Partial<Omit<ReadCredentialMaterialOptions, "validAt">> {
  /**
   * Supplies the certificate, chain and key; called on every refresh. Default: reads
   * `certificate`/`privateKey`/`intermediates` (paths or contents) again each time, so a rotated
   * certificate is picked up without a restart.
   */
  loadMaterial?: (() => Promise<CredentialMaterial>) | undefined;
  /**
   * Refresh when fewer than this many ms of validity remain, or at half-life when that comes
   * first ({@link SDK_REFRESH_POLICY}). Default 15 min (botocore's advisory window, so no SDK sees
   * credentials it would itself consider stale).
   */
  refreshMarginMs?: number | undefined;
}

/**
 * An AWS SDK v3 credential provider for IAM Roles Anywhere:
 * `new S3Client({ credentials: fromRolesAnywhere({ ... }) })`.
 *
 * Credentials are cached in memory and renewed once fewer than `refreshMarginMs` remain (at
 * half-life for shorter sessions: {@link planRefresh}); concurrent callers share one CreateSession;
 * certificate and key are re-read on each renewal. If a renewal fails while the cached credentials
 * are still valid for over a minute, those are returned.
 * @public
 */
export function fromRolesAnywhere(options: FromRolesAnywhereOptions): RolesAnywhereProvider {
  // Fail at construction on bad ARNs, durations or regions, not at first use.
  resolveSessionRegion(options, options.region);
  const clock = options.clock ?? { now: () => new Date() };
  const policy = {
    ...SDK_REFRESH_POLICY,
    maxLeftMs: options.refreshMarginMs ?? SDK_REFRESH_POLICY.maxLeftMs,
  };
  const loadMaterial =
    options.loadMaterial ??
    (() => {
      if (options.certificate === undefined) {
        throw new IamRaError("invalid-input", "No certificate was given.", {
          hint: "Pass certificate (a path or PEM) or loadMaterial.",
        });
      }
      return readCredentialMaterial({
        certificate: options.certificate,
        privateKey: options.privateKey,
        intermediates: options.intermediates,
        passphrase: options.passphrase,
        pkcs11: options.pkcs11,
        validAt: clock.now(),
      });
    });
  // One transport for every renewal, so each can open its connection before reading the key.
  const session = { ...options, transport: options.transport ?? createNodeTransport() };
  let cached: CreateSessionResult | undefined;
  let refreshAt = 0;
  let inflight: Promise<CreateSessionResult> | undefined;

  const toCredentials = (r: CreateSessionResult): AwsCredentials => ({
    accessKeyId: r.credentials.accessKeyId,
    secretAccessKey: r.credentials.secretAccessKey,
    sessionToken: r.credentials.sessionToken,
    expiration: r.credentials.expiration,
    ...(r.accountId ? { accountId: r.accountId } : {}),
  });

  const renew = (): Promise<CreateSessionResult> => {
    inflight ??= (async () => {
      try {
        const obtainedAt = clock.now();
        preconnectSession(session, session);
        const material = await loadMaterial();
        const result = await createSession(material, session, session);
        cached = result;
        refreshAt = planRefresh(obtainedAt, result.credentials.expiration, policy).getTime();
        return result;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  const provider = (async () => {
    if (cached && clock.now().getTime() < refreshAt) return toCredentials(cached);
    try {
      return toCredentials(await renew());
    } catch (error) {
      // A minute of validity at least: the caller's request must not outlive its credentials.
      if (cached && stillValid(cached.credentials, clock.now(), 60_000)) return toCredentials(cached);
      throw error;
    }
  }) as RolesAnywhereProvider;
  provider.refresh = async () => toCredentials(await renew());
  Object.defineProperty(provider, "lastResult", { get: () => cached });
  return provider;
}
