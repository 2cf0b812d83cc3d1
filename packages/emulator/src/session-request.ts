/**
 * CreateSession's request: the SigV4-X509 envelope (Authorization, X-Amz-Date, signed headers) and
 * the parameters (ARNs in the query or the JSON body, duration, role session name, instance
 * properties), each checked the way AWS checks it.
 * @module
 */
import { createHash } from "node:crypto";
import {
  createCanonicalRequest,
  createStringToSign,
  getHeader,
  parseAmzDate,
  parseAuthorization,
} from "@iam-ra/core/sigv4";
import { ApiError, type EmulatorRequest } from "./http.ts";

const ALGORITHMS = new Set(["AWS4-X509-RSA-SHA256", "AWS4-X509-ECDSA-SHA256"]);
const denied = (message: string) => new ApiError(403, "AccessDeniedException", message);
const invalid = (message: string) => new ApiError(400, "ValidationException", message);

export interface SignatureClaim {
  serial: string;
  algorithm: string;
  stringToSign: string;
  signature: string;
}

/** Checks the request's SigV4-X509 envelope and rebuilds the string to sign from what arrived. */
export function checkSignature(
  req: EmulatorRequest,
  ctx: { now: () => Date; region: string; maxClockSkewMs: number },
): SignatureClaim {
  const authHeader = getHeader(req.headers as Record<string, string>, "authorization");
  if (!authHeader) throw denied("Missing Authentication Token");
  const auth = parseAuthorization(authHeader);
  if (!auth) throw denied("Authorization header requires Credential, SignedHeaders and Signature.");
  if (!ALGORITHMS.has(auth.algorithm)) throw denied(`Unsupported signing algorithm ${auth.algorithm}.`);
  const amzDate = getHeader(req.headers as Record<string, string>, "x-amz-date");
  const date = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || !date) throw denied("Missing or malformed X-Amz-Date header.");
  const skew = Math.abs(ctx.now().getTime() - date.getTime());
  if (skew > ctx.maxClockSkewMs) {
    throw denied(
      `Signature expired: X-Amz-Date ${amzDate} is more than 5 minutes from the server time ${ctx.now().toISOString()}.`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8))
    throw denied("Invalid signature: credential scope date does not match X-Amz-Date.");
  if (auth.region !== ctx.region)
    throw denied(`Credential should be scoped to a valid region, not '${auth.region}'.`);
  if (auth.service !== "rolesanywhere")
    throw denied(`Credential should be scoped to correct service: 'rolesanywhere'.`);
  if (auth.terminator !== "aws4_request")
    throw denied("Credential should be scoped with a valid terminator: 'aws4_request'.");
  const signed = auth.signedHeaders;
  const sortedUnique = [...new Set(signed)].sort();
  if (signed.join(";") !== sortedUnique.join(";") || signed.some((h) => h !== h.toLowerCase())) {
    throw denied("Invalid signature: SignedHeaders must be lower-case, sorted and unique.");
  }
  for (const required of ["host", "x-amz-date", "x-amz-x509"]) {
    if (!signed.includes(required)) throw denied(`Invalid signature: header '${required}' must be signed.`);
  }
  if (req.headers["x-amz-x509-chain"] !== undefined && !signed.includes("x-amz-x509-chain")) {
    throw denied("Invalid signature: header 'x-amz-x509-chain' must be signed.");
  }
  let canonical: string;
  try {
    canonical = createCanonicalRequest(
      {
        method: req.method,
        path: req.rawPath,
        query: req.query,
        headers: req.headers as Record<string, string>,
        payloadHash: createHash("sha256").update(req.body).digest("hex"),
      },
      signed,
    );
  } catch {
    throw denied("Invalid signature: a signed header is missing from the request.");
  }
  const scope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminator}`;
  const sts = createStringToSign(auth.algorithm, amzDate, scope, canonical);
  return {
    serial: auth.credentialId,
    algorithm: auth.algorithm,
    stringToSign: sts,
    signature: auth.signature,
  };
}

export interface SessionInput {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  durationSeconds: number | undefined;
  roleSessionName: string | undefined;
  instanceProperties: Record<string, string> | undefined;
}

/** The model's InstancePropertyMap: at most 50 entries, keys and values of 1–200 characters. */
const MAX_INSTANCE_PROPERTIES = 50;
const MAX_INSTANCE_PROPERTY_LENGTH = 200;

function readInstanceProperties(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw invalid("instanceProperties must be a map of strings to strings.");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_INSTANCE_PROPERTIES)
    throw invalid(
      `1 validation error detected: Value at 'instanceProperties' failed to satisfy constraint: Member must have length less than or equal to ${MAX_INSTANCE_PROPERTIES}`,
    );
  for (const [k, v] of entries) {
    if (typeof v !== "string") throw invalid(`instanceProperties.${k} must be a string.`);
    for (const [what, text] of [
      ["key", k],
      ["value", v],
    ] as const) {
      if (text.length < 1 || text.length > MAX_INSTANCE_PROPERTY_LENGTH)
        throw invalid(
          `1 validation error detected: Value at 'instanceProperties' failed to satisfy constraint: Map ${what} must have length between 1 and ${MAX_INSTANCE_PROPERTY_LENGTH}`,
        );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Reads CreateSession's parameters from the query and the JSON body. */
export function readInput(req: EmulatorRequest): SessionInput {
  let body: Record<string, unknown> = {};
  if (req.body.length > 0) {
    try {
      const parsed = JSON.parse(req.body.toString("utf8"));
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      throw invalid("The request body is not a JSON object.");
    }
  }
  const fromQuery = (name: string) => req.query.find(([k]) => k === name)?.[1];
  const pick = (name: string) => {
    const v = fromQuery(name) ?? body[name];
    if (v !== undefined && typeof v !== "string") throw invalid(`${name} must be a string.`);
    return v as string | undefined;
  };
  const trustAnchorArn = pick("trustAnchorArn");
  const profileArn = pick("profileArn");
  const roleArn = pick("roleArn");
  for (const [name, value] of [
    ["trustAnchorArn", trustAnchorArn],
    ["profileArn", profileArn],
    ["roleArn", roleArn],
  ] as const) {
    if (!value)
      throw invalid(
        `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
      );
  }
  const duration = body.durationSeconds ?? fromQuery("durationSeconds");
  const durationSeconds = duration === undefined ? undefined : Number(duration);
  if (
    durationSeconds !== undefined &&
    (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200)
  ) {
    throw invalid(
      `Invalid durationSeconds ${String(duration)}: the session duration must be between 900 and 43200 seconds.`,
    );
  }
  const roleSessionName = (body.roleSessionName ?? fromQuery("roleSessionName")) as string | undefined;
  if (
    roleSessionName !== undefined &&
    (typeof roleSessionName !== "string" || !/^[\w+=,.@-]{2,64}$/.test(roleSessionName))
  ) {
    throw invalid("roleSessionName must be 2–64 characters of letters, digits and +=,.@_-.");
  }
  return {
    trustAnchorArn: trustAnchorArn!,
    profileArn: profileArn!,
    roleArn: roleArn!,
    durationSeconds,
    roleSessionName,
    instanceProperties: readInstanceProperties(body.instanceProperties),
  };
}
