/**
 * The control plane's input checks and AWS's limits: the constraints of botocore's `rolesanywhere`
 * model (lengths, patterns, list sizes) and the documented service quotas that are not adjustable
 * or are adjustable per account (trust anchors, profiles). Every failure is AWS's
 * `ValidationException` (the only error the model lists for create calls), worded as AWS words
 * model violations.
 * @module
 */
import { parseCertificate, pemCertificates } from "./certificates.ts";
import { ApiError, type EmulatorRequest } from "./http.ts";
import type { Tag, TrustAnchorRecord } from "./state.ts";

/** A `ValidationException` (HTTP 400). */
export const invalid = (message: string): ApiError => new ApiError(400, "ValidationException", message);

/** The header the moto CloudFormation plugin sends when it acts as CloudFormation (a service may set `aws:` tags). */
export const SERVICE_CALLER_HEADER = "x-iam-ra-emulator-service";

/**
 * AWS's limits, from botocore's model and the Roles Anywhere quotas page
 * (docs.aws.amazon.com/rolesanywhere/latest/userguide/load-balancer-limits.html).
 */
export const LIMITS = {
  /** ResourceName: 1–255 characters of `[ a-zA-Z0-9-_]` (the CloudFormation schema anchors it). */
  nameLength: 255,
  /** Tags a resource can carry (TagList allows 200 per request; the resource quota is 50). */
  tagsPerResource: 50,
  /** TagKeyList of UntagResource. */
  tagKeysPerRequest: 200,
  tagKeyLength: 128,
  tagValueLength: 256,
  /** RoleArnList; also the quota "Roles per profile" (not adjustable). */
  rolesPerProfile: 250,
  roleArnLength: 1011,
  /** ManagedPolicyList and its members. */
  managedPoliciesPerProfile: 50,
  managedPolicyArnLength: 200,
  /** UpdateProfileRequestSessionPolicyString (applied to CreateProfile as well). */
  sessionPolicyLength: 100_000,
  /** ImportCrlRequestCrlDataBlob / UpdateCrlRequestCrlDataBlob, in bytes. */
  crlBytes: 300_000,
  /** Quota "CRLs per trust anchor" (not adjustable). */
  crlsPerTrustAnchor: 2,
  /** SourceDataX509CertificateDataString. */
  certificateBundleLength: 16_000,
  /** Quota "Certificates per trust anchor" (not adjustable). */
  certificatesPerTrustAnchor: 2,
  /** Quota "Trust anchors" per account and Region (adjustable). */
  trustAnchors: 50,
  /** Quota "Profiles" per account and Region (adjustable). */
  profiles: 250,
} as const;

const constraint = (field: string, rule: string) =>
  invalid(`1 validation error detected: Value at '${field}' failed to satisfy constraint: ${rule}`);

const NAME = /^[ a-zA-Z0-9_-]*$/;
const TAG_TEXT = /^[ a-zA-Z0-9_.:/=+@-]*$/;

/** A trust anchor, profile or CRL name: 1–255 characters of letters, digits, space, `-` and `_`. */
export function checkName(name: unknown): string {
  if (typeof name !== "string" || name.length < 1 || name.length > LIMITS.nameLength)
    throw constraint("name", `Member must have length between 1 and ${LIMITS.nameLength}`);
  if (!NAME.test(name))
    throw constraint("name", "Member must satisfy regular expression pattern: [ a-zA-Z0-9-_]*");
  return name;
}

/**
 * Tags of a create or TagResource call. Keys and values are letters, digits, space and `_.:/=+@-`;
 * `aws:` keys are AWS's own, refused unless a service (the CloudFormation plugin) sets them.
 */
export function checkTags(tags: unknown, serviceCaller = false): Tag[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || tags.length > LIMITS.tagsPerResource)
    throw invalid(`tags must be a list of at most ${LIMITS.tagsPerResource} {key, value} pairs.`);
  return tags.map((t) => {
    const tag = (t ?? {}) as Partial<Tag>;
    if (
      typeof tag.key !== "string" ||
      typeof tag.value !== "string" ||
      tag.key.length < 1 ||
      tag.key.length > LIMITS.tagKeyLength ||
      tag.value.length > LIMITS.tagValueLength
    ) {
      throw invalid("Each tag needs a key (1–128 characters) and a value (0–256 characters).");
    }
    if (!TAG_TEXT.test(tag.key))
      throw constraint(
        "tags.member.key",
        "Member must satisfy regular expression pattern: [ a-zA-Z0-9_.:/=+@-]*",
      );
    if (!TAG_TEXT.test(tag.value))
      throw constraint(
        "tags.member.value",
        "Member must satisfy regular expression pattern: [ a-zA-Z0-9_.:/=+@-]*",
      );
    if (!serviceCaller && tag.key.toLowerCase().startsWith("aws:"))
      throw invalid(`Tag key ${tag.key} uses the prefix aws:, which is reserved for AWS use.`);
    return { key: tag.key, value: tag.value };
  });
}

/** UntagResource's keys: at most 200, each 1–128 characters; `aws:` keys stay AWS's. */
export function checkTagKeys(keys: unknown, serviceCaller = false): string[] {
  if (!Array.isArray(keys) || keys.length > LIMITS.tagKeysPerRequest)
    throw constraint("tagKeys", `Member must have length less than or equal to ${LIMITS.tagKeysPerRequest}`);
  for (const key of keys) {
    if (typeof key !== "string" || key.length < 1 || key.length > LIMITS.tagKeyLength)
      throw constraint("tagKeys", `Member must have length between 1 and ${LIMITS.tagKeyLength}`);
    if (!serviceCaller && key.toLowerCase().startsWith("aws:"))
      throw invalid(`Tag key ${key} uses the prefix aws:, which is reserved for AWS use.`);
  }
  return keys as string[];
}

export function checkDuration(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 900 || value > 43200) {
    throw invalid(
      "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
    );
  }
  return value;
}

export function checkRoleArns(value: unknown, required: boolean): string[] | undefined {
  if (value === undefined && !required) return undefined;
  if (Array.isArray(value) && value.length > LIMITS.rolesPerProfile)
    throw constraint("roleArns", `Member must have length less than or equal to ${LIMITS.rolesPerProfile}`);
  if (
    !Array.isArray(value) ||
    value.some(
      (a) =>
        typeof a !== "string" ||
        a.length > LIMITS.roleArnLength ||
        !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(a),
    )
  ) {
    throw invalid("roleArns must be a list of IAM role ARNs (arn:aws:iam::123456789012:role/Name).");
  }
  return value as string[];
}

/** A profile's managed policy ARNs: at most 50, each 1–200 characters. */
export function checkManagedPolicyArns(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((a) => typeof a !== "string"))
    throw invalid("managedPolicyArns must be a list of IAM policy ARNs.");
  if (value.length > LIMITS.managedPoliciesPerProfile)
    throw constraint(
      "managedPolicyArns",
      `Member must have length less than or equal to ${LIMITS.managedPoliciesPerProfile}`,
    );
  if (value.some((a: string) => a.length < 1 || a.length > LIMITS.managedPolicyArnLength))
    throw constraint(
      "managedPolicyArns.member",
      `Member must have length between 1 and ${LIMITS.managedPolicyArnLength}`,
    );
  return value as string[];
}

/** A profile's session policy: 1–100,000 characters. Its content is not checked (AWS's check is not documented). */
export function checkSessionPolicy(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length < 1 || value.length > LIMITS.sessionPolicyLength)
    throw constraint("sessionPolicy", `Member must have length between 1 and ${LIMITS.sessionPolicyLength}`);
  return value;
}

/**
 * ImportCrl's and UpdateCrl's `crlData` (base64 on the wire): 1–300,000 bytes, a DER or PEM X.509
 * CRL, as AWS accepts both; stored as base64 DER.
 */
export function checkCrlData(value: unknown): string {
  if (typeof value !== "string" || value.length === 0)
    throw invalid("crlData is required (base64 of the CRL).");
  let der = Buffer.from(value, "base64");
  if (der.length > LIMITS.crlBytes)
    throw constraint("crlData", `Member must have length less than or equal to ${LIMITS.crlBytes}`);
  const text = der.toString("latin1");
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  if (pem) der = Buffer.from(pem[1]!.replace(/\s+/g, ""), "base64");
  if (der[0] !== 0x30) throw invalid("Invalid CRL data: not a DER or PEM X.509 CRL.");
  return der.toString("base64");
}

/** A page of a List call (`pageSize` 1–1000, default 50; `nextToken` as this emulator issued it). */
export function page<T>(req: EmulatorRequest, items: T[]): { items: T[]; nextToken?: string } {
  const q = new Map(req.query);
  const size = Number(q.get("pageSize") ?? "50");
  if (!Number.isInteger(size) || size < 1 || size > 1000)
    throw invalid("pageSize must be between 1 and 1000.");
  const token = q.get("nextToken");
  if (token !== undefined && (token.length < 1 || token.length > 10_000))
    throw constraint("nextToken", "Member must have length between 1 and 10000");
  const start = token !== undefined ? Number(Buffer.from(token, "base64url").toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid("Invalid nextToken.");
  const slice = items.slice(start, start + size);
  return start + size < items.length
    ? { items: slice, nextToken: Buffer.from(String(start + size)).toString("base64url") }
    : { items: slice };
}

/** A trust anchor's source: a bundle of at most two CA certificates (16,000 characters), or an ACM PCA ARN. */
export async function checkSource(source: unknown): Promise<TrustAnchorRecord["source"]> {
  const s = source as { sourceType?: string; sourceData?: Record<string, unknown> } | undefined;
  if (!s || typeof s !== "object") throw invalid("source is required.");
  if (s.sourceType === "CERTIFICATE_BUNDLE") {
    const pem = s.sourceData?.x509CertificateData;
    if (typeof pem !== "string")
      throw invalid("sourceData.x509CertificateData is required for CERTIFICATE_BUNDLE.");
    if (pem.length > LIMITS.certificateBundleLength)
      throw constraint(
        "source.sourceData.x509CertificateData",
        `Member must have length less than or equal to ${LIMITS.certificateBundleLength}`,
      );
    const ders = pemCertificates(pem);
    if (ders.length === 0)
      throw invalid("Invalid certificate data: x509CertificateData holds no PEM certificate.");
    if (ders.length > LIMITS.certificatesPerTrustAnchor)
      throw invalid(
        `Invalid certificate data: a trust anchor holds at most ${LIMITS.certificatesPerTrustAnchor} certificates, and the bundle has ${ders.length}.`,
      );
    for (const der of ders) {
      const cert = await parseCertificate(der);
      if (!cert) throw invalid("Invalid certificate data: a certificate in the bundle cannot be parsed.");
      if (!cert.isCa)
        throw invalid(
          "Invalid certificate data: trust anchor certificates must be CA certificates (basicConstraints CA:TRUE).",
        );
    }
    return { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: pem } };
  }
  if (s.sourceType === "AWS_ACM_PCA") {
    const arn = s.sourceData?.acmPcaArn;
    if (
      typeof arn !== "string" ||
      !/^arn:aws[\w-]*:acm-pca:[\w-]+:\d{12}:certificate-authority\/.+$/.test(arn)
    ) {
      throw invalid("sourceData.acmPcaArn must be an ACM PCA certificate authority ARN.");
    }
    return { sourceType: "AWS_ACM_PCA", sourceData: { acmPcaArn: arn } };
  }
  if (s.sourceType === "SELF_SIGNED_REPOSITORY")
    // The model lists the type, but its SourceData union has no member for it and AWS documents no way
    // to create one; refused as an unsupported source (AWS's exact wording is not known).
    throw invalid(
      "Unsupported trust anchor source type SELF_SIGNED_REPOSITORY: create a CERTIFICATE_BUNDLE or AWS_ACM_PCA trust anchor.",
    );
  throw invalid("sourceType must be one of AWS_ACM_PCA, CERTIFICATE_BUNDLE, SELF_SIGNED_REPOSITORY.");
}

/** Refuses a create that would exceed a quota (`what` names it as AWS's quotas page does). */
export function checkQuota(count: number, max: number, what: string, adjustable: boolean): void {
  if (count >= max)
    throw invalid(
      `Quota exceeded: ${what} is limited to ${max}${adjustable ? " (an adjustable quota)" : ""}; delete one first.`,
    );
}
