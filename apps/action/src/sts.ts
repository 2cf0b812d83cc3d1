import { IamRaError, type IamRaErrorCode, ServiceError } from "@iam-ra/core";
import { type HttpTransport, PARTITIONS, partitionOfRegion } from "@iam-ra/core/rolesanywhere";
import {
  createCanonicalRequest,
  createStringToSign,
  credentialScope,
  deriveSigningKey,
  formatAmzDate,
  hmacSignature,
  sha256Hex,
} from "@iam-ra/core/sigv4";
import { type RetryOptions, withRetries } from "./retry.ts";

/** Temporary credentials, as STS and Roles Anywhere hand them out. */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Absent for credentials of unknown age (e.g. taken from the environment). */
  expiration: Date | undefined;
}

/** The answer of GetCallerIdentity. */
export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** The two STS calls the action makes. */
export interface StsClient {
  getCallerIdentity(): Promise<CallerIdentity>;
  assumeRole(request: {
    roleArn: string;
    roleSessionName: string;
    durationSeconds: number;
  }): Promise<{ credentials: TemporaryCredentials & { expiration: Date }; assumedRoleArn: string }>;
}

/** Options of {@link createStsClient}. */
export interface StsClientOptions extends RetryOptions {
  region: string;
  /** Default: the regional endpoint of the region's partition. */
  endpoint?: string | undefined;
  credentials: TemporaryCredentials;
  transport: HttpTransport;
  clock?: { now(): Date } | undefined;
  timeoutMs?: number | undefined;
}

/** `https://sts.<region>.<partition suffix>`, the endpoint SDKs use by default. */
export function defaultStsEndpoint(region: string): string {
  return `https://sts.${region}.${PARTITIONS[partitionOfRegion(region)].dnsSuffix}`;
}

/** The STS base URL a client for `region` calls: `endpoint` when given, else the default. */
export function stsBaseUrl(region: string, endpoint?: string): URL {
  return new URL(endpoint ?? defaultStsEndpoint(region));
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!m) return undefined;
  if (!m[1]!.includes("&")) return m[1];
  return m[1]!.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, entity: string) => {
    if (entity.startsWith("#x") || entity.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number(entity.slice(1)));
    return XML_ENTITIES[entity] ?? all;
  });
}

function required(xml: string, tag: string, action: string): string {
  const value = xmlText(xml, tag);
  if (value === undefined) {
    throw new IamRaError("internal", `STS ${action} answered without <${tag}>.`);
  }
  return value;
}

function mapStsError(action: string, statusCode: number, body: string, requestId: string | undefined) {
  const errorType = xmlText(body, "Code");
  const serviceMessage = xmlText(body, "Message");
  const retryable =
    statusCode >= 500 ||
    statusCode === 429 ||
    /Throttl|TooManyRequests|RequestLimitExceeded|IDPCommunicationError/.test(errorType ?? "");
  let code: IamRaErrorCode = "access-denied";
  let hint: string;
  if (retryable) {
    code = statusCode >= 500 ? "service-unavailable" : "throttled";
    hint = "STS kept failing; raise retry-max-attempts or re-run the job.";
  } else if (errorType === "ExpiredToken") {
    hint = "The credentials expired; run this action again to get fresh ones.";
  } else if (errorType === "InvalidClientTokenId" || errorType === "SignatureDoesNotMatch") {
    hint =
      "STS does not accept these credentials: check aws-region and sts-endpoint (they must reach the STS of the partition that issued them) and the runner's clock.";
  } else if (errorType === "RegionDisabledException") {
    hint = "Activate STS in this region (IAM account settings), or set aws-region to an active region.";
  } else if (errorType === "ValidationError") {
    code = "validation";
    hint =
      "Check role-to-assume, role-session-name and role-duration-seconds (chained sessions last at most 3600 s).";
  } else if (action === "AssumeRole") {
    hint =
      "The target role's trust policy must allow sts:AssumeRole for the source role (its ARN as an AWS principal), and the source role needs sts:AssumeRole on the target.";
  } else {
    hint = "Check that the credentials are allowed to call sts:GetCallerIdentity.";
  }
  return new ServiceError(
    code,
    `STS ${action} failed (HTTP ${statusCode}${errorType ? ` ${errorType}` : ""}): ${serviceMessage ?? (body.slice(0, 200) || "no message")}`,
    { statusCode, errorType, serviceMessage, requestId, retryable },
    { hint },
  );
}

/**
 * A minimal STS client (awsQuery over SigV4 with HMAC-SHA256) for GetCallerIdentity and AssumeRole,
 * instead of the SDK's STS client: it keeps the bundle small and the action's start-up fast.
 * Throttling, 5xx and network failures are retried with full-jitter backoff.
 */
export function createStsClient(options: StsClientOptions): StsClient {
  const base = stsBaseUrl(options.region, options.endpoint);
  const path = `${base.pathname.replace(/\/+$/, "")}/`;
  const clock = options.clock ?? { now: () => new Date() };

  async function call(action: string, params: Record<string, string>): Promise<string> {
    const body = new URLSearchParams({ Action: action, Version: "2011-06-15", ...params }).toString();
    return await withRetries(options, `STS ${action}`, async () => {
      const amzDate = formatAmzDate(clock.now());
      const payloadHash = sha256Hex(body);
      const headers: Record<string, string> = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        host: base.host,
        "x-amz-date": amzDate,
        // Long-term keys (an IAM user's, when chaining from them) come without a token.
        ...(options.credentials.sessionToken
          ? { "x-amz-security-token": options.credentials.sessionToken }
          : {}),
      };
      const signedHeaders = Object.keys(headers).sort();
      const scope = credentialScope(amzDate, options.region, "sts");
      const canonical = createCanonicalRequest(
        { method: "POST", path, query: [], headers, payloadHash },
        signedHeaders,
      );
      const signature = hmacSignature(
        deriveSigningKey(options.credentials.secretAccessKey, amzDate, options.region, "sts"),
        createStringToSign("AWS4-HMAC-SHA256", amzDate, scope, canonical),
      );
      headers.authorization = `AWS4-HMAC-SHA256 Credential=${options.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
      const response = await options.transport({
        method: "POST",
        url: new URL(path, base),
        headers,
        body,
        timeoutMs: options.timeoutMs ?? 10_000,
      });
      if (response.statusCode >= 200 && response.statusCode < 300) return response.body;
      const requestId = response.headers["x-amzn-requestid"];
      throw mapStsError(
        action,
        response.statusCode,
        response.body,
        typeof requestId === "string" ? requestId : undefined,
      );
    });
  }

  return {
    async getCallerIdentity() {
      const xml = await call("GetCallerIdentity", {});
      return {
        account: required(xml, "Account", "GetCallerIdentity"),
        arn: required(xml, "Arn", "GetCallerIdentity"),
        userId: required(xml, "UserId", "GetCallerIdentity"),
      };
    },
    async assumeRole(request) {
      const xml = await call("AssumeRole", {
        RoleArn: request.roleArn,
        RoleSessionName: request.roleSessionName,
        DurationSeconds: String(request.durationSeconds),
      });
      const expirationText = required(xml, "Expiration", "AssumeRole");
      const expiration = new Date(expirationText);
      if (Number.isNaN(expiration.getTime())) {
        throw new IamRaError(
          "internal",
          `STS AssumeRole returned an unreadable expiration "${expirationText}".`,
        );
      }
      const user = /<AssumedRoleUser>([\s\S]*?)<\/AssumedRoleUser>/.exec(xml)?.[1] ?? "";
      return {
        credentials: {
          accessKeyId: required(xml, "AccessKeyId", "AssumeRole"),
          secretAccessKey: required(xml, "SecretAccessKey", "AssumeRole"),
          sessionToken: required(xml, "SessionToken", "AssumeRole"),
          expiration,
        },
        assumedRoleArn: required(user, "Arn", "AssumeRole"),
      };
    },
  };
}
