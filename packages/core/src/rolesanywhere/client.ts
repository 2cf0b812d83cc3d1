import { IamRaError, type IamRaErrorCode, ServiceError } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import type { CredentialMaterial } from "../x509/material.ts";
import { validateArn } from "./arn.ts";
import { type ResolvedEndpoint, resolveEndpoint } from "./endpoint.ts";
import { readJsonError } from "./json-error.ts";
import { isRetryableAnswer, unreachable, withRetries } from "./retry.ts";
import { type CreateSessionParams, createSignedCreateSessionRequest } from "./signer.ts";
import { createNodeTransport, type HttpTransport } from "./transport.ts";

/**
 * Temporary AWS credentials from CreateSession.
 * @public
 */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** The service's expiration string, verbatim (credential_process prints it unchanged). */
  expirationText: string;
}

/**
 * The result of a CreateSession call.
 * @public
 */
export interface CreateSessionResult {
  credentials: SessionCredentials;
  assumedRoleArn: string | undefined;
  assumedRoleId: string | undefined;
  roleArn: string | undefined;
  sourceIdentity: string | undefined;
  subjectArn: string | undefined;
  /** The account of the role, from its ARN. */
  accountId: string;
}

/**
 * Time, sleep and randomness for the client, injectable for tests.
 * @public
 */
export interface ClientDeps {
  clock?: { now(): Date } | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** A number in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
  transport?: HttpTransport | undefined;
}

/** The endpoint a session is created at: the session region's (or the custom one), with its signing region. */
function sessionEndpoint(
  params: CreateSessionParams,
  options: Pick<CreateSessionOptions, "region" | "endpoint" | "useFips" | "useDualStack" | "allowHttp">,
): ResolvedEndpoint {
  return resolveEndpoint({
    region: resolveSessionRegion(params, options.region),
    endpoint: options.endpoint,
    allowHttp: options.allowHttp,
    useFips: options.useFips,
    useDualStack: options.useDualStack,
  });
}

/**
 * Opens the connection a {@link createSession} call with the same arguments will use, when the
 * transport can (the default one can; pass the same transport to both): call it before loading the
 * key and signing, and DNS, TCP and TLS run meanwhile. Never throws: whatever is wrong with the
 * arguments, createSession reports.
 * @public
 */
export function preconnectSession(
  params: CreateSessionParams,
  options: Pick<CreateSessionOptions, "region" | "endpoint" | "useFips" | "useDualStack" | "transport">,
): void {
  const { transport } = options;
  if (!transport?.preconnect) return;
  try {
    transport.preconnect(sessionEndpoint(params, options).url);
  } catch {
    // Only a head start.
  }
}

/**
 * Options of {@link createSession}.
 * @public
 */
export interface CreateSessionOptions extends ClientDeps {
  /** Signing and endpoint region. Default: the trust anchor's region. */
  region?: string | undefined;
  /** Custom base URL (e.g. an emulator); its base path is signed. */
  endpoint?: string | undefined;
  /** Allow a plain http:// endpoint off this machine (see `EndpointOptions.allowHttp`). Default false. */
  allowHttp?: boolean | undefined;
  useFips?: boolean | undefined;
  useDualStack?: boolean | undefined;
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number | undefined;
  /** Attempts including the first. Default 3. */
  maxAttempts?: number | undefined;
  /** Base of the full-jitter backoff. Default 100 ms; each delay is capped at 20 s. */
  retryBaseMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Checks the three ARNs and picks the region: the one given, else the trust anchor's.
 * Throws when the trust anchor and profile are in different regions.
 * @public
 */
export function resolveSessionRegion(params: CreateSessionParams, region?: string): string {
  const ta = validateArn(params.trustAnchorArn, "trust-anchor");
  const profile = validateArn(params.profileArn, "profile");
  validateArn(params.roleArn, "role");
  if (ta.region !== profile.region) {
    throw new IamRaError(
      "region-mismatch",
      `The trust anchor is in ${ta.region} but the profile is in ${profile.region}.`,
      { hint: "A trust anchor and the profile used with it must be in the same region." },
    );
  }
  if (params.durationSeconds !== undefined) validateDuration(params.durationSeconds);
  return region || ta.region;
}

/** Checks a session duration (900–43200 s, whole seconds). @public */
export function validateDuration(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43200) {
    throw new IamRaError("duration-invalid", `Session duration ${seconds} is outside 900–43200 seconds.`, {
      hint: "Pass --session-duration between 900 (15 min) and 43200 (12 h), and at most the profile's duration.",
    });
  }
}

const defaultSleep = (ms: number, signal?: AbortSignal) => abortableSleep(ms, signal);

const ERROR_RULES: Array<{ test: RegExp; code: IamRaErrorCode; hint: string }> = [
  {
    test: /invalid signature|signature.*(mismatch|does not match)/i,
    code: "invalid-signature",
    hint: "The key may not match the certificate, or this machine's clock is off by more than 5 minutes (check `date -u`).",
  },
  {
    test: /request.*(expired|too old|time)|skew|x-amz-date/i,
    code: "invalid-signature",
    hint: "This machine's clock is off by more than 5 minutes; sync it (e.g. chronyc makestep) and retry.",
  },
  {
    test: /untrusted|trust anchor.*(not|disabled)|unable to verify|chain/i,
    code: "untrusted-certificate",
    hint: "The certificate's chain does not reach an enabled trust anchor: pass --intermediates, or check the trust anchor's CA and that it is enabled.",
  },
  {
    test: /revoked/i,
    code: "certificate-revoked",
    hint: "This certificate was revoked; issue a new one (iam-ra host rotate).",
  },
  {
    test: /certificate.*(expired|not yet valid)|expired.*certificate/i,
    code: "certificate-expired",
    hint: "The certificate is outside its validity window; issue a new one, or check this machine's clock.",
  },
  {
    test: /profile.*disabled|disabled.*profile/i,
    code: "profile-disabled",
    hint: "Enable the profile (aws rolesanywhere enable-profile --profile-id …).",
  },
  {
    test: /roleSessionName|role session name/i,
    code: "session-name-not-allowed",
    hint: "Drop --role-session-name, or set acceptRoleSessionName on the profile.",
  },
  {
    test: /role.*(not.*(in|associated|part)|not listed)|not authorized to assume/i,
    code: "role-not-in-profile",
    hint: "Add the role to the profile's roleArns, or pass a role the profile lists; also check the role's trust policy conditions.",
  },
  {
    test: /duration/i,
    code: "duration-invalid",
    hint: "Lower --session-duration to at most the profile's durationSeconds (900–43200).",
  },
];

function mapServiceError(statusCode: number, headers: Record<string, unknown>, body: string): ServiceError {
  const { errorType, serviceMessage, requestId } = readJsonError(headers, body);
  const text = `${serviceMessage ?? ""}`;
  const retryable = isRetryableAnswer(statusCode, errorType);
  let code: IamRaErrorCode = "access-denied";
  let hint: string | undefined;
  if (retryable) {
    code = statusCode >= 500 ? "service-unavailable" : "throttled";
    hint =
      code === "throttled"
        ? "CreateSession is throttled (10 TPS per account); use --cache or `iam-ra serve`."
        : "The service is failing; retry later.";
  } else if (errorType === "ResourceNotFoundException" || statusCode === 404) {
    code = "not-found";
    hint = "Check the trust anchor, profile and role ARNs (and the region/endpoint).";
  } else {
    const rule = ERROR_RULES.find((r) => r.test.test(text));
    if (rule) {
      code = rule.code;
      hint = rule.hint;
    } else if (errorType === "ValidationException" || statusCode === 400) {
      code = "invalid-input";
      hint = "Check the request parameters.";
    } else {
      hint = "Check that the role's trust policy allows rolesanywhere.amazonaws.com for this certificate.";
    }
  }
  const message = `CreateSession failed (HTTP ${statusCode}${errorType ? ` ${errorType}` : ""}): ${serviceMessage ?? (body.slice(0, 200) || "no message")}`;
  return new ServiceError(
    code,
    message,
    { statusCode, errorType, serviceMessage, requestId, retryable },
    { hint },
  );
}

/** One entry of CreateSession's `credentialSet`, as received (nothing trusted yet). */
interface CredentialSetEntry {
  credentials?: Record<string, unknown>;
  assumedRoleUser?: { arn?: string; assumedRoleId?: string };
  roleArn?: string;
  sourceIdentity?: string;
}

function parseSuccess(body: string, roleArn: string): CreateSessionResult {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new IamRaError("internal", "CreateSession answered with a body that is not JSON.", { cause });
  }
  const set = (value as { credentialSet?: unknown[] }).credentialSet;
  const first = Array.isArray(set) ? (set[0] as CredentialSetEntry | undefined) : undefined;
  const c = first?.credentials;
  if (
    !c ||
    typeof c.accessKeyId !== "string" ||
    typeof c.secretAccessKey !== "string" ||
    typeof c.sessionToken !== "string" ||
    typeof c.expiration !== "string"
  ) {
    throw new IamRaError("internal", "CreateSession returned no credentials (empty credentialSet).");
  }
  const expiration = new Date(c.expiration);
  if (Number.isNaN(expiration.getTime())) {
    throw new IamRaError("internal", `CreateSession returned an unreadable expiration "${c.expiration}".`);
  }
  const arn = (first?.roleArn as string | undefined) ?? roleArn;
  return {
    credentials: {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration,
      expirationText: c.expiration,
    },
    assumedRoleArn: first?.assumedRoleUser?.arn,
    assumedRoleId: first?.assumedRoleUser?.assumedRoleId,
    roleArn: first?.roleArn,
    sourceIdentity: first?.sourceIdentity,
    subjectArn: (value as { subjectArn?: string }).subjectArn,
    accountId: arn.split(":")[4] ?? "",
  };
}

/**
 * Calls Roles Anywhere CreateSession with SigV4-X509 and returns the temporary credentials.
 *
 * Each attempt is signed afresh. Throttling, 5xx and network errors are retried with full-jitter
 * exponential backoff; every other error is final and becomes a {@link ServiceError} whose `code`
 * and `hint` say what to fix.
 * @public
 */
export async function createSession(
  material: Pick<CredentialMaterial, "certificate" | "chain" | "privateKey" | "algorithm" | "serialNumber">,
  params: CreateSessionParams,
  options: CreateSessionOptions = {},
): Promise<CreateSessionResult> {
  const endpoint = sessionEndpoint(params, options);
  const clock = options.clock ?? { now: () => new Date() };
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const transport = options.transport ?? createNodeTransport();
  const identity = {
    certificateDer: material.certificate.raw,
    chainDer: material.chain.map((c) => c.raw),
    serialNumber: material.serialNumber,
    algorithm: material.algorithm,
    privateKey: material.privateKey,
  };
  return await withRetries(
    {
      maxAttempts: options.maxAttempts ?? 3,
      retryBaseMs: options.retryBaseMs,
      random,
      sleep,
      signal: options.signal,
    },
    async () => {
      const request = createSignedCreateSessionRequest({ endpoint, params, identity, date: clock.now() });
      const response = await transport({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        timeoutMs: options.timeoutMs ?? 10_000,
        signal: options.signal,
      });
      if (response.statusCode >= 200 && response.statusCode < 300)
        return parseSuccess(response.body, params.roleArn);
      throw mapServiceError(response.statusCode, response.headers as Record<string, unknown>, response.body);
    },
    // Only a network failure is worth another attempt; anything else (an abort, a request the
    // HTTP stack refuses, a broken install) ends the call as it is.
    unreachable(
      endpoint.url.origin,
      "Check network access to the endpoint (and HTTPS_PROXY/NO_PROXY if you use a proxy).",
    ),
  );
}
