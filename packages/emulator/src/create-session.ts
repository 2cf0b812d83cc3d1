import { createHash, randomUUID, verify as verifySignature } from "node:crypto";
import { evaluateTrustPolicy } from "@iam-ra/core/rolesanywhere";
import {
  createCanonicalRequest,
  createStringToSign,
  getHeader,
  parseAmzDate,
  parseAuthorization,
} from "@iam-ra/core/sigv4";
import {
  derivePrincipalTags,
  isValidTagValue,
  loadX509,
  type ParsedCertificate,
  parseCertificate,
  SIGNATURE_DIGESTS,
  signedDerParts,
} from "@iam-ra/core/x509";
import { ApiError, type EmulatorRequest } from "./http.ts";
import { assumedRoleArn, issueSession } from "./sessions.ts";
import { applyAttributeMappings, defaultAttributeMappings } from "./settings.ts";
import type { EmulatorStateData, ProfileRecord, StateChange, TrustAnchorRecord } from "./state.ts";
import { decideTrust, type TrustPolicySource } from "./trust-policies.ts";

/** How many parsed certificates {@link parseCached} keeps: enough for every client of a test suite. */
const PARSED_CACHE_SIZE = 512;
const parsedCache = new Map<string, Promise<ParsedCertificate | undefined>>();

/**
 * {@link parseCertificate}, remembered by DER: every CreateSession re-presents the same leaf and the
 * same anchors, and full ASN.1 parsing was most of the emulator's time per request. A certificate's
 * parse depends on its bytes alone, so the cache cannot go stale; the oldest entry goes first.
 */
/** Parsed CRLs by their base64 DER (`null`: not a CRL), so a request does not re-parse them. */
const parsedCrls = new Map<string, import("@peculiar/x509").X509Crl | null>();

function parseCached(der: Buffer): Promise<ParsedCertificate | undefined> {
  const key = der.toString("base64");
  let parsed = parsedCache.get(key);
  if (parsed) {
    parsedCache.delete(key);
  } else {
    parsed = parseCertificate(der);
    if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value!);
  }
  parsedCache.set(key, parsed);
  return parsed;
}

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

const ALGORITHMS = new Set(["AWS4-X509-RSA-SHA256", "AWS4-X509-ECDSA-SHA256"]);
const denied = (message: string) => new ApiError(403, "AccessDeniedException", message);
const invalid = (message: string) => new ApiError(400, "ValidationException", message);
const untrusted = (detail: string) => denied(`Untrusted Signing Certificate: ${detail}`);

interface SignatureClaim {
  serial: string;
  algorithm: string;
  stringToSign: string;
  signature: string;
}

/** Checks the request's SigV4-X509 envelope and rebuilds the string to sign from what arrived. */
function checkSignature(req: EmulatorRequest, ctx: CreateSessionContext): SignatureClaim {
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

interface SessionInput {
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

function readInput(req: EmulatorRequest): SessionInput {
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

const issues = (child: ParsedCertificate, parent: ParsedCertificate) =>
  child.node.checkIssued(parent.node) && child.node.verify(parent.node.publicKey);

const validAt = (c: ParsedCertificate, at: Date) =>
  at.getTime() >= new Date(c.node.validFrom).getTime() && at.getTime() <= new Date(c.node.validTo).getTime();

async function checkChain(
  leaf: ParsedCertificate,
  chainHeader: string | undefined,
  anchorDers: Buffer[],
  now: Date,
): Promise<ParsedCertificate[]> {
  if (leaf.isCa)
    throw untrusted("the signing certificate is a CA certificate, not an end-entity certificate.");
  if (leaf.keyUsageDigitalSignature === false)
    throw untrusted("the signing certificate's key usage lacks digitalSignature.");
  if (/MD5|SHA-1|SHA1/.test(leaf.signatureHash))
    throw untrusted(`certificates signed with ${leaf.signatureHash} are not accepted.`);
  const intermediates: ParsedCertificate[] = [];
  for (const part of (chainHeader ?? "").split(",").filter((p) => p.trim() !== "")) {
    const parsed = await parseCached(Buffer.from(part.trim(), "base64"));
    if (!parsed) throw untrusted("X-Amz-X509-Chain holds a value that is not a certificate.");
    intermediates.push(parsed);
  }
  const anchors = (await Promise.all(anchorDers.map((d) => parseCached(d)))).filter(
    (a): a is ParsedCertificate => a !== undefined,
  );
  const path: ParsedCertificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const anchor = anchors.find((a) => issues(current, a));
    if (anchor) {
      if (!validAt(anchor, now))
        throw untrusted("the trust anchor's CA certificate is outside its validity period.");
      // RFC 5280 6.1.4 (m): a CA with pathLenConstraint n may have at most n CAs below it in the path.
      for (const [i, ca] of path.entries())
        if (i > 0 && ca.pathLength !== undefined && i - 1 > ca.pathLength)
          throw untrusted("an intermediate CA exceeds its path length constraint.");
      for (const c of path.slice(1)) {
        if (!validAt(c, now)) throw untrusted("an intermediate certificate is outside its validity period.");
        // The leaf's rule holds for every certificate of the path below the anchor: a SHA-256 leaf
        // under a SHA-1-signed intermediate rests on SHA-1.
        if (/MD5|SHA-1|SHA1/.test(c.signatureHash))
          throw untrusted(
            `an intermediate certificate is signed with ${c.signatureHash}, which is not accepted.`,
          );
      }
      path.push(anchor);
      return path;
    }
    const next = intermediates.find((i) => !path.includes(i) && i.isCa && issues(current, i));
    if (!next) break;
    path.push(next);
    current = next;
  }
  throw untrusted("the certificate chain does not reach the trust anchor's CA.");
}

/**
 * Whether a CRL is signed by the CA whose name it carries (a certificate of the path, the anchor
 * included), checked with node:crypto over the CRL's exact to-be-signed bytes. A CRL naming the CA
 * but signed by another key is not the CA's word: it is not honoured.
 */
const crlSigners = new Map<string, boolean>();
function crlSignedByIssuer(der: Buffer, issuerName: string, path: ParsedCertificate[]): boolean {
  const parts = signedDerParts(der);
  const digest = parts ? SIGNATURE_DIGESTS[parts.signatureOid] : undefined;
  if (!parts || digest === undefined) return false;
  for (const issuer of path.filter((c) => c.subject === issuerName)) {
    const key = `${issuer.node.fingerprint256}:${createHash("sha256").update(der).digest("hex")}`;
    let verified = crlSigners.get(key);
    if (verified === undefined) {
      try {
        verified = verifySignature(digest, parts.tbs, issuer.node.publicKey, parts.signature);
      } catch {
        verified = false;
      }
      if (crlSigners.size >= PARSED_CACHE_SIZE) crlSigners.delete(crlSigners.keys().next().value!);
      crlSigners.set(key, verified);
    }
    if (verified) return true;
  }
  return false;
}

async function checkRevocation(
  path: ParsedCertificate[],
  anchor: TrustAnchorRecord,
  state: EmulatorStateData,
): Promise<void> {
  const crls = state.crls.filter((c) => c.enabled && c.trustAnchorArn === anchor.trustAnchorArn);
  if (crls.length === 0) return;
  const x509 = await loadX509();
  for (const record of crls) {
    let crl = parsedCrls.get(record.crlData);
    if (crl === undefined) {
      try {
        crl = new x509.X509Crl(new Uint8Array(Buffer.from(record.crlData, "base64")));
      } catch {
        crl = null;
      }
      if (parsedCrls.size >= PARSED_CACHE_SIZE) parsedCrls.delete(parsedCrls.keys().next().value!);
      parsedCrls.set(record.crlData, crl);
    }
    if (crl === null) continue;
    if (!crlSignedByIssuer(Buffer.from(record.crlData, "base64"), crl.issuer, path)) continue;
    for (const cert of path) {
      if (crl.issuer !== cert.issuer) continue;
      if (crl.findRevoked(cert.node.serialNumber.toLowerCase()) || crl.findRevoked(cert.node.serialNumber)) {
        throw denied(
          `Certificate revoked: serial ${cert.node.serialNumber} is listed in CRL ${record.name}.`,
        );
      }
    }
  }
}

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

  const seenAt = now.toISOString();
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
      failed: false,
      issuer: anchor.trustAnchorArn,
      seenAt,
      serialNumber: expectedSerial,
      x509CertificateData: leaf.node.toString(),
    },
    ...subject.credentials.filter((c) => c.serialNumber !== expectedSerial),
  ];
  // AWS lists the properties of the latest request that sent any; the subject keeps the last one.
  if (hasInstanceProperties)
    subject.instanceProperties = [{ failed: false, properties: { ...input.instanceProperties }, seenAt }];
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
