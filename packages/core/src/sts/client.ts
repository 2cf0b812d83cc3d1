import { IamRaError, type IamRaErrorCode, ServiceError } from "../errors.ts";
import { PARTITIONS, partitionOfRegion } from "../rolesanywhere/endpoint.ts";
import { isRetryableAnswer } from "../rolesanywhere/retry.ts";
import { createNodeTransport, type HttpTransport } from "../rolesanywhere/transport.ts";
import { type HmacCredentials, signHmacRequest } from "../sigv4/hmac.ts";
import { findElement, parseXml, type XmlElement, XmlSyntaxError } from "./xml.ts";

/**
 * The STS operations this client makes.
 * @public
 */
export type StsOperation = "GetCallerIdentity" | "AssumeRole";

/**
 * The credentials a request is signed with. A long-term key (an IAM user's) has no session token.
 * @public
 */
export type StsSigningCredentials = HmacCredentials;

/**
 * The answer of GetCallerIdentity.
 * @public
 */
export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/**
 * What AssumeRole asks for.
 * @public
 */
export interface AssumeRoleRequest {
  roleArn: string;
  roleSessionName: string;
  /** Default: what STS picks (3600 s). */
  durationSeconds?: number | undefined;
}

/**
 * The answer of AssumeRole.
 * @public
 */
export interface AssumeRoleResult {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
  assumedRoleArn: string;
  /** `AROA…:SESSION`. */
  assumedRoleId: string;
}

/**
 * GetCallerIdentity and AssumeRole, each one signed request.
 * @public
 */
export interface StsClient {
  getCallerIdentity(): Promise<CallerIdentity>;
  assumeRole(request: AssumeRoleRequest): Promise<AssumeRoleResult>;
}

/**
 * Options of {@link createStsClient}.
 * @public
 */
export interface StsClientOptions {
  /** Signing region, and the region of the default endpoint. */
  region: string;
  /** Base URL (e.g. a VPC endpoint or an emulator); its path is signed. Default: {@link defaultStsEndpoint}. */
  endpoint?: string | undefined;
  credentials: StsSigningCredentials;
  /** Default: a {@link createNodeTransport} without proxy. */
  transport?: HttpTransport | undefined;
  /** Default: the system clock. */
  clock?: { now(): Date } | undefined;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * STS answered with an error (or with a body this client cannot read).
 * @public
 */
export class StsError extends ServiceError {
  static override readonly errorClass: string = "StsError";
  override name = "StsError";
  /** The call that failed. */
  readonly operation: StsOperation;

  constructor(operation: StsOperation, ...args: ConstructorParameters<typeof ServiceError>) {
    super(...args);
    this.operation = operation;
  }
}

/**
 * `https://sts.<region>.<partition's DNS suffix>`, the regional endpoint SDKs use by default.
 * @public
 */
export function defaultStsEndpoint(region: string): string {
  return `https://sts.${region}.${PARTITIONS[partitionOfRegion(region)].dnsSuffix}`;
}

/**
 * The base URL a client for `region` calls: `endpoint` when given, else {@link defaultStsEndpoint}.
 * Pass it to a transport's `preconnect` to open the connection ahead of the first call.
 * @public
 */
export function stsBaseUrl(region: string, endpoint?: string): URL {
  return new URL(endpoint ?? defaultStsEndpoint(region));
}

const API_VERSION = "2011-06-15";

/** The next step for each error type the caller can act on. */
const HINTS: Record<string, string> = {
  ExpiredToken: "The credentials expired; get fresh ones.",
  InvalidClientTokenId:
    "STS does not accept these credentials: check the region and STS endpoint (they must reach the STS of the partition that issued them) and this machine's clock.",
  RegionDisabledException: "Activate STS in this region (IAM account settings), or use an active region.",
  ValidationError:
    "Check the role ARN, role session name and duration (chained sessions last at most 3600 s).",
};
HINTS.SignatureDoesNotMatch = HINTS.InvalidClientTokenId!;

/** The parsed body, or undefined when it is not XML this reader accepts. */
function tryParseXml(body: string): XmlElement | undefined {
  try {
    return parseXml(body);
  } catch (error) {
    if (error instanceof XmlSyntaxError) return undefined;
    throw error;
  }
}

function toStsError(
  operation: StsOperation,
  statusCode: number,
  body: string,
  requestId: string | undefined,
): StsError {
  const xml = tryParseXml(body);
  const error = xml && findElement(xml, "Error");
  const errorType = error && findElement(error, "Code")?.text;
  const serviceMessage = error && findElement(error, "Message")?.text;
  // STS adds one failure worth another attempt: the web identity provider could not be reached.
  const providerDown = errorType === "IDPCommunicationError";
  const retryable = isRetryableAnswer(statusCode, errorType) || providerDown;
  let code: IamRaErrorCode = "access-denied";
  let hint = HINTS[errorType ?? ""];
  if (retryable) {
    code = statusCode >= 500 || providerDown ? "service-unavailable" : "throttled";
    hint = "STS kept failing; retry later.";
  } else if (errorType === "ValidationError") {
    code = "invalid-input";
  } else if (hint === undefined) {
    hint =
      operation === "AssumeRole"
        ? "The target role's trust policy must allow sts:AssumeRole for the source role (its ARN as an AWS principal), and the source role needs sts:AssumeRole on the target."
        : "Check that the credentials are allowed to call sts:GetCallerIdentity.";
  }
  return new StsError(
    operation,
    code,
    `STS ${operation} failed (HTTP ${statusCode}${errorType ? ` ${errorType}` : ""}): ${serviceMessage ?? (body.slice(0, 200) || "no message")}`,
    {
      statusCode,
      errorType,
      serviceMessage,
      requestId: requestId ?? (xml && findElement(xml, "RequestId")?.text),
      retryable,
    },
    { hint },
  );
}

/** The `<Op>Result` element of a successful answer; anything else is a bug on one side. */
function resultOf(operation: StsOperation, body: string): XmlElement {
  const xml = tryParseXml(body);
  const isResponse = xml?.name.replace(/^.*:/, "") === `${operation}Response`;
  const result = isResponse ? findElement(xml!, `${operation}Result`) : undefined;
  if (!result) {
    throw new IamRaError("internal", `STS ${operation} answered with a body that is not its XML response.`);
  }
  return result;
}

/** The text of the element at `path` under the result; a missing one is a bug on one side. */
function field(operation: StsOperation, result: XmlElement, ...path: string[]): string {
  const element = findElement(result, ...path);
  if (!element) throw new IamRaError("internal", `STS ${operation} answered without <${path.at(-1)}>.`);
  return element.text;
}

/**
 * A client for the two STS calls iam-ra makes (awsQuery protocol, SigV4 with HMAC-SHA256) over an
 * {@link HttpTransport}. It makes exactly one signed request per call and does not retry: a
 * failure is an {@link StsError} whose `retryable` says whether another attempt may succeed, and
 * a network failure is the transport's `TransportError`; the caller decides how often to retry
 * (each attempt signs afresh).
 * @public
 */
export function createStsClient(options: StsClientOptions): StsClient {
  const base = stsBaseUrl(options.region, options.endpoint);
  const path = `${base.pathname.replace(/\/+$/, "")}/`;
  const url = new URL(path, base);
  const clock = options.clock ?? { now: () => new Date() };
  const transport = options.transport ?? createNodeTransport();

  async function call(operation: StsOperation, params: Record<string, string>): Promise<XmlElement> {
    const body = new URLSearchParams({ Action: operation, Version: API_VERSION, ...params }).toString();
    const headers = signHmacRequest(
      {
        method: "POST",
        url,
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body,
      },
      options.credentials,
      { region: options.region, service: "sts" },
      clock.now(),
    );
    const response = await transport({
      method: "POST",
      url,
      headers,
      body,
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: options.signal,
    });
    if (response.statusCode >= 200 && response.statusCode < 300) return resultOf(operation, response.body);
    const requestId = response.headers["x-amzn-requestid"];
    throw toStsError(
      operation,
      response.statusCode,
      response.body,
      typeof requestId === "string" ? requestId : undefined,
    );
  }

  return {
    async getCallerIdentity() {
      const result = await call("GetCallerIdentity", {});
      return {
        account: field("GetCallerIdentity", result, "Account"),
        arn: field("GetCallerIdentity", result, "Arn"),
        userId: field("GetCallerIdentity", result, "UserId"),
      };
    },
    async assumeRole(request) {
      const result = await call("AssumeRole", {
        RoleArn: request.roleArn,
        RoleSessionName: request.roleSessionName,
        ...(request.durationSeconds === undefined
          ? {}
          : { DurationSeconds: String(request.durationSeconds) }),
      });
      const expirationText = field("AssumeRole", result, "Credentials", "Expiration");
      const expiration = new Date(expirationText);
      if (Number.isNaN(expiration.getTime())) {
        throw new IamRaError(
          "internal",
          `STS AssumeRole returned an unreadable expiration "${expirationText}".`,
        );
      }
      return {
        credentials: {
          accessKeyId: field("AssumeRole", result, "Credentials", "AccessKeyId"),
          secretAccessKey: field("AssumeRole", result, "Credentials", "SecretAccessKey"),
          sessionToken: field("AssumeRole", result, "Credentials", "SessionToken"),
          expiration,
        },
        assumedRoleArn: field("AssumeRole", result, "AssumedRoleUser", "Arn"),
        assumedRoleId: field("AssumeRole", result, "AssumedRoleUser", "AssumedRoleId"),
      };
    },
  };
}
