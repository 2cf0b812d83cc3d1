import { createHash, timingSafeEqual } from "node:crypto";
import { evaluateTrustPolicy } from "@iam-ra/core/rolesanywhere";
import {
  createCanonicalRequest,
  createStringToSign,
  deriveSigningKey,
  getHeader,
  hmacSignature,
  parseAmzDate,
  parseAuthorization,
  parseQueryString,
} from "@iam-ra/core/sigv4";
import { ApiError, type EmulatorRequest, xmlEscape } from "./http.ts";
import { assumedRoleArn, issueSession } from "./sessions.ts";
import type { EmulatorStateData, SessionRecord, StateChange } from "./state.ts";
import { decideTrust, type TrustPolicySource } from "./trust-policies.ts";

/** What STS needs from the emulator around it. */
export interface StsContext {
  state: EmulatorStateData;
  now: () => Date;
  maxClockSkewMs: number;
  trustPolicy: TrustPolicySource;
  /** Told of each session AssumeRole issues, for the persisted state. */
  recordChange?: ((change: StateChange) => void) | undefined;
}

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** True when a request is an STS (awsQuery) call: an `Action` form parameter or query parameter. */
export function isStsRequest(req: EmulatorRequest): boolean {
  if (req.query.some(([k]) => k === "Action")) return true;
  const type = String(req.headers["content-type"] ?? "");
  return req.method === "POST" && type.startsWith("application/x-www-form-urlencoded");
}

/** Verifies a standard SigV4 signature made with credentials the emulator issued. */
function authenticate(req: EmulatorRequest, ctx: StsContext): SessionRecord {
  const headers = req.headers as Record<string, string>;
  const header = getHeader(headers, "authorization");
  if (!header)
    throw new ApiError(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
  const auth = parseAuthorization(header);
  if (auth?.algorithm !== "AWS4-HMAC-SHA256") {
    throw new ApiError(
      400,
      "IncompleteSignature",
      "Authorization header requires AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature.",
    );
  }
  const session = ctx.state.sessions.find((s) => s.accessKeyId === auth.credentialId);
  if (!session)
    throw new ApiError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  const token = getHeader(headers, "x-amz-security-token");
  if (token !== session.sessionToken) {
    throw new ApiError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  }
  const amzDate = getHeader(headers, "x-amz-date");
  const date = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || !date) throw new ApiError(400, "IncompleteSignature", "Missing or malformed X-Amz-Date.");
  if (Math.abs(ctx.now().getTime() - date.getTime()) > ctx.maxClockSkewMs) {
    throw new ApiError(
      403,
      "SignatureDoesNotMatch",
      `Signature expired: ${amzDate} is now earlier or later than the allowed 5 minutes.`,
    );
  }
  if (new Date(session.expiration).getTime() <= ctx.now().getTime()) {
    throw new ApiError(400, "ExpiredToken", "The security token included in the request is expired");
  }
  if (auth.service !== "sts" || auth.terminator !== "aws4_request" || auth.date !== amzDate.slice(0, 8)) {
    throw new ApiError(
      403,
      "SignatureDoesNotMatch",
      "Credential should be scoped to a valid date, region and service 'sts'.",
    );
  }
  const payloadHash =
    getHeader(headers, "x-amz-content-sha256") ?? createHash("sha256").update(req.body).digest("hex");
  let canonical: string;
  try {
    canonical = createCanonicalRequest(
      { method: req.method, path: req.rawPath, query: req.query, headers, payloadHash },
      auth.signedHeaders,
    );
  } catch {
    throw new ApiError(403, "SignatureDoesNotMatch", "A signed header is missing from the request.");
  }
  const sts = createStringToSign(
    auth.algorithm,
    amzDate,
    `${auth.date}/${auth.region}/${auth.service}/${auth.terminator}`,
    canonical,
  );
  const expected = Buffer.from(
    hmacSignature(deriveSigningKey(session.secretAccessKey, amzDate, auth.region, auth.service), sts),
  );
  const given = Buffer.from(auth.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ApiError(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  }
  return session;
}

/** Handles an STS call and returns the XML answer. */
export async function handleSts(req: EmulatorRequest, ctx: StsContext, requestId: string): Promise<string> {
  const params = new Map<string, string>([...req.query, ...parseQueryString(req.body.toString("utf8"))]);
  const action = params.get("Action");
  const session = authenticate(req, ctx);
  const meta = `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  if (action === "GetCallerIdentity") {
    return `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${xmlEscape(assumedRoleArn(session))}</Arn><UserId>${xmlEscape(session.assumedRoleId)}</UserId><Account>${session.accountId}</Account></GetCallerIdentityResult>${meta}</GetCallerIdentityResponse>`;
  }
  if (action === "AssumeRole") {
    const roleArn = params.get("RoleArn");
    const sessionName = params.get("RoleSessionName");
    if (!roleArn || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
      throw new ApiError(
        400,
        "ValidationError",
        "1 validation error detected: Value at 'roleArn' failed to satisfy constraint",
      );
    }
    if (!sessionName || !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new ApiError(
        400,
        "ValidationError",
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
      );
    }
    const duration = Number(params.get("DurationSeconds") ?? "3600");
    // Role chaining caps sessions at one hour.
    if (!Number.isInteger(duration) || duration < 900 || duration > 3600) {
      throw new ApiError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      );
    }
    const decision = await decideTrust(ctx.trustPolicy, roleArn, (policy) =>
      policy === undefined
        ? { allowed: false, reason: "the role does not exist" }
        : evaluateTrustPolicy(policy, {
            principal: { type: "AWS", id: session.roleArn, accountId: session.accountId },
            actions: ["sts:AssumeRole"],
            context: new Map([
              ["aws:PrincipalArn", session.roleArn],
              ["aws:PrincipalAccount", session.accountId],
              ...(session.sourceIdentity ? ([["sts:SourceIdentity", session.sourceIdentity]] as const) : []),
            ]),
          }),
    );
    if (!decision.allowed) {
      throw new ApiError(
        403,
        "AccessDenied",
        `User: ${assumedRoleArn(session)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn} (${decision.reason})`,
      );
    }
    const next = issueSession(ctx.state, {
      roleArn,
      sessionName,
      durationSeconds: duration,
      now: ctx.now(),
      sourceIdentity: session.sourceIdentity,
    });
    ctx.recordChange?.({ session: next });
    return `<AssumeRoleResponse xmlns="${NS}"><AssumeRoleResult>${next.sourceIdentity ? `<SourceIdentity>${xmlEscape(next.sourceIdentity)}</SourceIdentity>` : ""}<AssumedRoleUser><AssumedRoleId>${xmlEscape(next.assumedRoleId)}</AssumedRoleId><Arn>${xmlEscape(assumedRoleArn(next))}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${next.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(next.secretAccessKey)}</SecretAccessKey><SessionToken>${xmlEscape(next.sessionToken)}</SessionToken><Expiration>${next.expiration}</Expiration></Credentials><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult>${meta}</AssumeRoleResponse>`;
  }
  throw new ApiError(
    400,
    "InvalidAction",
    `Could not find operation ${action ?? "(none)"} for version 2011-06-15`,
  );
}
