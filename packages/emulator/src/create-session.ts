import { randomUUID, verify as verifySignature } from "node:crypto";
import { evaluateTrustPolicy } from "@iam-ra/core/rolesanywhere";
import { getHeader } from "@iam-ra/core/sigv4";
import type { ParsedCertificate } from "@iam-ra/core/x509";
import { derivePrincipalTags, isValidTagValue } from "@iam-ra/core/x509";
import { checkChain, checkRevocation, parseCached, untrusted } from "./certificate-chain.ts";
import { ApiError, type EmulatorRequest } from "./http.ts";
import { checkSignature, readInput, type SessionInput } from "./session-request.ts";
import { assumedRoleArn, issueSession } from "./sessions.ts";
import { applyAttributeMappings, defaultAttributeMappings } from "./settings.ts";
import type {
  EmulatorStateData,
  ProfileRecord,
  StateChange,
  SubjectRecord,
  TrustAnchorRecord,
} from "./state.ts";
import { decideTrust, type TrustPolicySource } from "./trust-policies.ts";

/** What CreateSession needs from the emulator around it. */
export interface CreateSessionContext {
  state: EmulatorStateData;
  now: () => Date;
  region: string;
  accountId: string;
  maxClockSkewMs: number;
  /** The CA certificates (DER) of a trust anchor. */
  trustAnchorCertificates: (anchor: TrustAnchorRecord) => Promise<Buffer[]>;
  /** A role's trust policy (undefined when the role is unknown), possibly cached. */
  trustPolicy: TrustPolicySource;
  /** Told of each record a successful call adds or changes, for the persisted state. */
  recordChange?: ((change: StateChange) => void) | undefined;
}

const denied = (message: string) => new ApiError(403, "AccessDeniedException", message);
const invalid = (message: string) => new ApiError(400, "ValidationException", message);

/** Principal tags and condition context the way Roles Anywhere derives them from a certificate. */
export function deriveTrustContext(
  leaf: ParsedCertificate,
  anchorArn: string,
  accountId: string,
  attributeMappings: ReadonlyArray<Record<string, unknown>> = defaultAttributeMappings(),
): Map<string, string> {
  const ctx = new Map<string, string>([
    ["aws:SourceArn", anchorArn],
    ["aws:SourceAccount", accountId],
  ]);
  // Only what the profile's attribute mappings let through becomes a tag (and a trust-policy key).
  const tags = applyAttributeMappings(derivePrincipalTags(leaf).tags, attributeMappings);
  const invalid = [...tags].filter(([, v]) => !isValidTagValue(v)).map(([k]) => k);
  if (invalid.length > 0) throw denied(`Some attributes fail to be mapped into session tags: ${invalid[0]}.`);
  for (const [key, value] of tags) {
    ctx.set(`aws:PrincipalTag/${key}`, value);
    ctx.set(`aws:RequestTag/${key}`, value);
  }
  const cn = leaf.subjectFields.get("CN");
  if (cn !== undefined) ctx.set("sts:SourceIdentity", cn);
  return ctx;
}

/** Handles CreateSession: every check AWS makes, then issues credentials and records the subject. */
export async function createSession(req: EmulatorRequest, ctx: CreateSessionContext): Promise<unknown> {
  const { serial, algorithm, stringToSign, signature } = checkSignature(req, ctx);
  const leafB64 = getHeader(req.headers as Record<string, string>, "x-amz-x509")!;
  const leaf = await parseCached(Buffer.from(leafB64, "base64"));
  if (!leaf) throw denied("Invalid signature: X-Amz-X509 is not a certificate.");
  const keyType = leaf.node.publicKey.asymmetricKeyType;
  if ((algorithm === "AWS4-X509-RSA-SHA256") !== (keyType === "rsa")) {
    throw denied(
      `Invalid signature: algorithm ${algorithm} does not match the certificate's ${keyType} key.`,
    );
  }
  const expectedSerial = BigInt(`0x${leaf.node.serialNumber}`).toString(10);
  if (serial !== expectedSerial)
    throw denied("Invalid signature: the credential serial number is not the certificate's.");
  let ok = false;
  try {
    ok =
      /^(?:[0-9a-f]{2})+$/.test(signature) &&
      verifySignature(
        "sha256",
        Buffer.from(stringToSign),
        { key: leaf.node.publicKey, dsaEncoding: "der" },
        Buffer.from(signature, "hex"),
      );
  } catch {
    ok = false;
  }
  if (!ok) throw denied("Invalid signature");

  const input = readInput(req);
  const now = ctx.now();
  const anchor = ctx.state.trustAnchors.find((t) => t.trustAnchorArn === input.trustAnchorArn);
  if (!anchor)
    throw new ApiError(404, "ResourceNotFoundException", `Trust anchor ${input.trustAnchorArn} not found.`);
  if (!anchor.enabled) throw untrusted("the trust anchor is disabled.");
  const anchorDers = await ctx.trustAnchorCertificates(anchor);
  const path = await checkChain(
    leaf,
    getHeader(req.headers as Record<string, string>, "x-amz-x509-chain"),
    anchorDers,
    now,
  );
  if (now.getTime() > new Date(leaf.node.validTo).getTime())
    throw denied("Certificate expired: the signing certificate is past its notAfter.");
  if (now.getTime() < new Date(leaf.node.validFrom).getTime())
    throw denied("Certificate not yet valid: the signing certificate is before its notBefore.");
  await checkRevocation(path, anchor, ctx.state);

  // From here the certificate is authenticated: AWS records a refusal on its subject, as a failed
  // credential (and failed instance properties), next to the successful ones.
  try {
    return await authorize(ctx, { leaf, anchor, input, now, expectedSerial });
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      const subject = recordSubject(ctx, {
        leaf,
        anchor,
        input,
        seenAt: now.toISOString(),
        serial: expectedSerial,
        failed: true,
      });
      ctx.recordChange?.({ subject });
    }
    throw error;
  }
}

/** The profile, role and trust-policy checks of an authenticated request; issues the session. */
async function authorize(
  ctx: CreateSessionContext,
  { leaf, anchor, input, now, expectedSerial }: AuthorizeInput,
): Promise<unknown> {
  const profile: ProfileRecord | undefined = ctx.state.profiles.find(
    (p) => p.profileArn === input.profileArn,
  );
  if (!profile)
    throw new ApiError(404, "ResourceNotFoundException", `Profile ${input.profileArn} not found.`);
  if (!profile.enabled) throw denied("Profile is disabled.");
  if (!profile.roleArns.includes(input.roleArn))
    throw denied(`Role ${input.roleArn} is not associated with the profile.`);
  const durationSeconds = input.durationSeconds ?? profile.durationSeconds;
  if (durationSeconds > profile.durationSeconds) {
    throw invalid(
      `Invalid durationSeconds ${durationSeconds}: the profile allows at most ${profile.durationSeconds} seconds.`,
    );
  }
  if (input.roleSessionName !== undefined && !profile.acceptRoleSessionName)
    throw denied("Not authorized to set roleSessionName");
  const hasInstanceProperties = Object.keys(input.instanceProperties ?? {}).length > 0;
  if (profile.requireInstanceProperties && !hasInstanceProperties)
    throw denied("The profile requires instance properties, and the request has none.");

  const context = deriveTrustContext(leaf, anchor.trustAnchorArn, ctx.accountId, profile.attributeMappings);
  let missing = false;
  const decision = await decideTrust(ctx.trustPolicy, input.roleArn, (policy) => {
    missing = policy === undefined;
    if (policy === undefined) return { allowed: false, reason: "no trust policy" };
    return evaluateTrustPolicy(policy, {
      principal: { type: "Service", id: "rolesanywhere.amazonaws.com" },
      actions: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      context,
    });
  });
  if (missing)
    throw denied(`Unable to assume role ${input.roleArn}: the role does not exist or has no trust policy.`);
  if (!decision.allowed)
    throw denied(`Unable to assume role ${input.roleArn}: trust policy denies it (${decision.reason}).`);

  const serialHex = leaf.node.serialNumber.toLowerCase();
  const sessionName = input.roleSessionName ?? serialHex;
  const session = issueSession(ctx.state, {
    roleArn: input.roleArn,
    sessionName,
    durationSeconds,
    now,
    sourceIdentity: leaf.subjectFields.get("CN"),
  });

  const subject = recordSubject(ctx, {
    leaf,
    anchor,
    input,
    seenAt: now.toISOString(),
    serial: expectedSerial,
    failed: false,
  });
  ctx.recordChange?.({ session });
  ctx.recordChange?.({ subject });

  return {
    credentialSet: [
      {
        assumedRoleUser: {
          arn: assumedRoleArn(session),
          assumedRoleId: session.assumedRoleId,
        },
        credentials: {
          accessKeyId: session.accessKeyId,
          expiration: session.expiration,
          secretAccessKey: session.secretAccessKey,
          sessionToken: session.sessionToken,
        },
        packedPolicySize: 0,
        roleArn: input.roleArn,
        sourceIdentity: session.sourceIdentity,
      },
    ],
    subjectArn: subject.subjectArn,
  };
}

interface AuthorizeInput {
  leaf: ParsedCertificate;
  anchor: TrustAnchorRecord;
  input: SessionInput;
  now: Date;
  expectedSerial: string;
}

/**
 * Records a request on its certificate's subject (GetSubject/ListSubjects): the credential seen
 * (newest first, one entry per serial) and, when the request sent any, its instance properties —
 * each marked `failed` when Roles Anywhere refused the request after authenticating the certificate.
 */
function recordSubject(
  ctx: CreateSessionContext,
  r: {
    leaf: ParsedCertificate;
    anchor: TrustAnchorRecord;
    input: SessionInput;
    seenAt: string;
    serial: string;
    failed: boolean;
  },
): SubjectRecord {
  const { leaf, seenAt, failed } = r;
  let subject = ctx.state.subjects.find((s) => s.x509Subject === leaf.subject);
  if (!subject) {
    const subjectId = randomUUID();
    subject = {
      subjectId,
      subjectArn: `arn:aws:rolesanywhere:${ctx.region}:${ctx.accountId}:subject/${subjectId}`,
      x509Subject: leaf.subject,
      enabled: true,
      createdAt: seenAt,
      updatedAt: seenAt,
      lastSeenAt: seenAt,
      credentials: [],
      instanceProperties: [],
    };
    ctx.state.subjects.push(subject);
  }
  subject.lastSeenAt = seenAt;
  subject.updatedAt = seenAt;
  subject.credentials = [
    {
      enabled: true,
      failed,
      issuer: r.anchor.trustAnchorArn,
      seenAt,
      serialNumber: r.serial,
      x509CertificateData: leaf.node.toString(),
    },
    ...subject.credentials.filter((c) => c.serialNumber !== r.serial),
  ];
  // AWS lists the properties of the latest request that sent any; the subject keeps the last one.
  if (Object.keys(r.input.instanceProperties ?? {}).length > 0)
    subject.instanceProperties = [{ failed, properties: { ...r.input.instanceProperties }, seenAt }];
  return subject;
}
