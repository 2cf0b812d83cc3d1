import { randomUUID } from "node:crypto";
import { parseCertificate, pemCertificates } from "./certificates.ts";
import { ApiError, type EmulatorRequest, jsonBody } from "./http.ts";
import {
  checkNotificationSettings,
  defaultAttributeMappings,
  defaultNotificationSettings,
  putNotificationSettings,
} from "./settings.ts";
import type { CrlRecord, EmulatorStateData, ProfileRecord, Tag, TrustAnchorRecord } from "./state.ts";

/** What the control plane needs from the emulator around it. */
export interface ControlPlaneContext {
  state: EmulatorStateData;
  now: () => Date;
  region: string;
  accountId: string;
}

/** A handler's answer: status and JSON body. */
export interface ControlPlaneResult {
  status: number;
  body: unknown;
  mutated: boolean;
}

const invalid = (message: string) => new ApiError(400, "ValidationException", message);
const notFound = (what: string) => new ApiError(404, "ResourceNotFoundException", `${what} not found`);

const bodyOf = jsonBody;

function checkName(name: unknown): string {
  if (typeof name !== "string" || !/^[ a-zA-Z0-9._-]{1,255}$/.test(name)) {
    throw invalid(
      "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [ a-zA-Z0-9-_]*",
    );
  }
  return name;
}

function checkTags(tags: unknown): Tag[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || tags.length > 50)
    throw invalid("tags must be a list of at most 50 {key, value} pairs.");
  return tags.map((t) => {
    const tag = t as Partial<Tag>;
    if (
      typeof tag.key !== "string" ||
      typeof tag.value !== "string" ||
      tag.key.length < 1 ||
      tag.key.length > 128 ||
      tag.value.length > 256
    ) {
      throw invalid("Each tag needs a key (1–128 characters) and a value (0–256 characters).");
    }
    return { key: tag.key, value: tag.value };
  });
}

function checkDuration(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 900 || value > 43200) {
    throw invalid(
      "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
    );
  }
  return value;
}

function checkRoleArns(value: unknown, required: boolean): string[] | undefined {
  if (value === undefined && !required) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > 250 ||
    value.some((a) => typeof a !== "string" || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(a))
  ) {
    throw invalid("roleArns must be a list of IAM role ARNs (arn:aws:iam::123456789012:role/Name).");
  }
  return value as string[];
}

function page<T>(req: EmulatorRequest, items: T[]): { items: T[]; nextToken?: string } {
  const q = new Map(req.query);
  const size = Number(q.get("pageSize") ?? "50");
  if (!Number.isInteger(size) || size < 1 || size > 1000)
    throw invalid("pageSize must be between 1 and 1000.");
  const start = q.has("nextToken") ? Number(Buffer.from(q.get("nextToken")!, "base64url").toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid("Invalid nextToken.");
  const slice = items.slice(start, start + size);
  return start + size < items.length
    ? { items: slice, nextToken: Buffer.from(String(start + size)).toString("base64url") }
    : { items: slice };
}

async function checkSource(source: unknown): Promise<TrustAnchorRecord["source"]> {
  const s = source as { sourceType?: string; sourceData?: Record<string, unknown> } | undefined;
  if (!s || typeof s !== "object") throw invalid("source is required.");
  if (s.sourceType === "CERTIFICATE_BUNDLE") {
    const pem = s.sourceData?.x509CertificateData;
    if (typeof pem !== "string")
      throw invalid("sourceData.x509CertificateData is required for CERTIFICATE_BUNDLE.");
    const ders = pemCertificates(pem);
    if (ders.length === 0)
      throw invalid("Invalid certificate data: x509CertificateData holds no PEM certificate.");
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

const profileDetail = (p: ProfileRecord) => ({ ...p });
const anchorDetail = (t: TrustAnchorRecord) => ({ ...t });
const crlDetail = (c: CrlRecord) => ({ ...c });

type Handler = (
  req: EmulatorRequest,
  ctx: ControlPlaneContext,
  id: string,
) => Promise<ControlPlaneResult> | ControlPlaneResult;
const ok = (body: unknown, status = 200, mutated = false): ControlPlaneResult => ({ status, body, mutated });

function findAnchor(ctx: ControlPlaneContext, id: string): TrustAnchorRecord {
  const t = ctx.state.trustAnchors.find((a) => a.trustAnchorId === id);
  if (!t) throw notFound("Trust anchor");
  return t;
}
function findProfile(ctx: ControlPlaneContext, id: string): ProfileRecord {
  const p = ctx.state.profiles.find((a) => a.profileId === id);
  if (!p) throw notFound("Profile");
  return p;
}
function findCrl(ctx: ControlPlaneContext, id: string): CrlRecord {
  const c = ctx.state.crls.find((a) => a.crlId === id);
  if (!c) throw notFound("Crl");
  return c;
}
function knownArn(ctx: ControlPlaneContext, arn: string): boolean {
  return (
    ctx.state.trustAnchors.some((t) => t.trustAnchorArn === arn) ||
    ctx.state.profiles.some((p) => p.profileArn === arn) ||
    ctx.state.crls.some((c) => c.crlArn === arn)
  );
}

const arnOf = (ctx: ControlPlaneContext, kind: string, id: string) =>
  `arn:aws:rolesanywhere:${ctx.region}:${ctx.accountId}:${kind}/${id}`;

const setEnabled =
  <T extends { enabled: boolean; updatedAt: string }>(
    find: (ctx: ControlPlaneContext, id: string) => T,
    key: string,
    enabled: boolean,
    detail: (t: T) => unknown,
  ): Handler =>
  (_req, ctx, id) => {
    const item = find(ctx, id);
    item.enabled = enabled;
    item.updatedAt = ctx.now().toISOString();
    return ok({ [key]: detail(item) }, 200, true);
  };

/** The REST routes of the Roles Anywhere control plane, as @aws-sdk/client-rolesanywhere calls them. */
export const ROUTES: Array<{ method: string; pattern: RegExp; operation: string; handler: Handler }> = [
  {
    method: "POST",
    pattern: /^\/trustanchors$/,
    operation: "CreateTrustAnchor",
    handler: async (req, ctx) => {
      const b = bodyOf(req);
      const now = ctx.now().toISOString();
      const id = randomUUID();
      const anchor: TrustAnchorRecord = {
        trustAnchorId: id,
        trustAnchorArn: arnOf(ctx, "trust-anchor", id),
        name: checkName(b.name),
        enabled: b.enabled === undefined ? true : Boolean(b.enabled),
        source: await checkSource(b.source),
        notificationSettings: defaultNotificationSettings(),
        createdAt: now,
        updatedAt: now,
      };
      if (b.notificationSettings !== undefined)
        putNotificationSettings(anchor, checkNotificationSettings(b.notificationSettings), ctx.accountId);
      const tags = checkTags(b.tags);
      ctx.state.trustAnchors.push(anchor);
      ctx.state.tags[anchor.trustAnchorArn] = tags;
      return ok({ trustAnchor: anchorDetail(anchor) }, 201, true);
    },
  },
  {
    method: "GET",
    pattern: /^\/trustanchors$/,
    operation: "ListTrustAnchors",
    handler: (req, ctx) => {
      const { items, nextToken } = page(req, ctx.state.trustAnchors);
      return ok({ trustAnchors: items.map(anchorDetail), ...(nextToken ? { nextToken } : {}) });
    },
  },
  {
    method: "GET",
    pattern: /^\/trustanchor\/([^/]+)$/,
    operation: "GetTrustAnchor",
    handler: (_r, ctx, id) => ok({ trustAnchor: anchorDetail(findAnchor(ctx, id)) }),
  },
  {
    method: "PATCH",
    pattern: /^\/trustanchor\/([^/]+)$/,
    operation: "UpdateTrustAnchor",
    handler: async (req, ctx, id) => {
      const anchor = findAnchor(ctx, id);
      const b = bodyOf(req);
      if (b.name !== undefined) anchor.name = checkName(b.name);
      if (b.source !== undefined) anchor.source = await checkSource(b.source);
      anchor.updatedAt = ctx.now().toISOString();
      return ok({ trustAnchor: anchorDetail(anchor) }, 200, true);
    },
  },
  {
    method: "DELETE",
    pattern: /^\/trustanchor\/([^/]+)$/,
    operation: "DeleteTrustAnchor",
    handler: (_r, ctx, id) => {
      const anchor = findAnchor(ctx, id);
      ctx.state.trustAnchors = ctx.state.trustAnchors.filter((a) => a !== anchor);
      delete ctx.state.tags[anchor.trustAnchorArn];
      return ok({ trustAnchor: anchorDetail(anchor) }, 200, true);
    },
  },
  {
    method: "POST",
    pattern: /^\/trustanchor\/([^/]+)\/enable$/,
    operation: "EnableTrustAnchor",
    handler: setEnabled(findAnchor, "trustAnchor", true, anchorDetail),
  },
  {
    method: "POST",
    pattern: /^\/trustanchor\/([^/]+)\/disable$/,
    operation: "DisableTrustAnchor",
    handler: setEnabled(findAnchor, "trustAnchor", false, anchorDetail),
  },
  {
    method: "POST",
    pattern: /^\/profiles$/,
    operation: "CreateProfile",
    handler: (req, ctx) => {
      const b = bodyOf(req);
      const now = ctx.now().toISOString();
      const id = randomUUID();
      const profile: ProfileRecord = {
        profileId: id,
        profileArn: arnOf(ctx, "profile", id),
        name: checkName(b.name),
        enabled: b.enabled === undefined ? false : Boolean(b.enabled),
        roleArns: checkRoleArns(b.roleArns, true)!,
        managedPolicyArns: Array.isArray(b.managedPolicyArns) ? (b.managedPolicyArns as string[]) : [],
        sessionPolicy: typeof b.sessionPolicy === "string" ? b.sessionPolicy : undefined,
        durationSeconds: checkDuration(b.durationSeconds) ?? 3600,
        requireInstanceProperties: Boolean(b.requireInstanceProperties),
        acceptRoleSessionName: Boolean(b.acceptRoleSessionName),
        attributeMappings: defaultAttributeMappings(),
        createdBy: `arn:aws:sts::${ctx.accountId}:assumed-role/emulator/admin`,
        createdAt: now,
        updatedAt: now,
      };
      const tags = checkTags(b.tags);
      ctx.state.profiles.push(profile);
      ctx.state.tags[profile.profileArn] = tags;
      return ok({ profile: profileDetail(profile) }, 201, true);
    },
  },
  {
    method: "GET",
    pattern: /^\/profiles$/,
    operation: "ListProfiles",
    handler: (req, ctx) => {
      const { items, nextToken } = page(req, ctx.state.profiles);
      return ok({ profiles: items.map(profileDetail), ...(nextToken ? { nextToken } : {}) });
    },
  },
  {
    method: "GET",
    pattern: /^\/profile\/([^/]+)$/,
    operation: "GetProfile",
    handler: (_r, ctx, id) => ok({ profile: profileDetail(findProfile(ctx, id)) }),
  },
  {
    method: "PATCH",
    pattern: /^\/profile\/([^/]+)$/,
    operation: "UpdateProfile",
    handler: (req, ctx, id) => {
      const profile = findProfile(ctx, id);
      const b = bodyOf(req);
      if (b.name !== undefined) profile.name = checkName(b.name);
      const roles = checkRoleArns(b.roleArns, false);
      if (roles) profile.roleArns = roles;
      const duration = checkDuration(b.durationSeconds);
      if (duration !== undefined) profile.durationSeconds = duration;
      if (Array.isArray(b.managedPolicyArns)) profile.managedPolicyArns = b.managedPolicyArns as string[];
      if (typeof b.sessionPolicy === "string") profile.sessionPolicy = b.sessionPolicy;
      if (typeof b.acceptRoleSessionName === "boolean")
        profile.acceptRoleSessionName = b.acceptRoleSessionName;
      profile.updatedAt = ctx.now().toISOString();
      return ok({ profile: profileDetail(profile) }, 200, true);
    },
  },
  {
    method: "DELETE",
    pattern: /^\/profile\/([^/]+)$/,
    operation: "DeleteProfile",
    handler: (_r, ctx, id) => {
      const profile = findProfile(ctx, id);
      ctx.state.profiles = ctx.state.profiles.filter((p) => p !== profile);
      delete ctx.state.tags[profile.profileArn];
      return ok({ profile: profileDetail(profile) }, 200, true);
    },
  },
  {
    method: "POST",
    pattern: /^\/profile\/([^/]+)\/enable$/,
    operation: "EnableProfile",
    handler: setEnabled(findProfile, "profile", true, profileDetail),
  },
  {
    method: "POST",
    pattern: /^\/profile\/([^/]+)\/disable$/,
    operation: "DisableProfile",
    handler: setEnabled(findProfile, "profile", false, profileDetail),
  },
  {
    method: "POST",
    pattern: /^\/crls$/,
    operation: "ImportCrl",
    handler: (req, ctx) => {
      const b = bodyOf(req);
      if (typeof b.crlData !== "string" || b.crlData.length === 0)
        throw invalid("crlData is required (base64 of the CRL).");
      if (
        typeof b.trustAnchorArn !== "string" ||
        !ctx.state.trustAnchors.some((t) => t.trustAnchorArn === b.trustAnchorArn)
      ) {
        throw notFound("Trust anchor");
      }
      // Accept DER or PEM inside the base64 blob, as AWS does; store DER.
      let der = Buffer.from(b.crlData, "base64");
      const text = der.toString("latin1");
      const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
      if (pem) der = Buffer.from(pem[1]!.replace(/\s+/g, ""), "base64");
      if (der[0] !== 0x30) throw invalid("Invalid CRL data: not a DER or PEM X.509 CRL.");
      const now = ctx.now().toISOString();
      const id = randomUUID();
      const crl: CrlRecord = {
        crlId: id,
        crlArn: arnOf(ctx, "crl", id),
        name: checkName(b.name),
        enabled: b.enabled === undefined ? false : Boolean(b.enabled),
        crlData: der.toString("base64"),
        trustAnchorArn: b.trustAnchorArn,
        createdAt: now,
        updatedAt: now,
      };
      const tags = checkTags(b.tags);
      ctx.state.crls.push(crl);
      ctx.state.tags[crl.crlArn] = tags;
      return ok({ crl: crlDetail(crl) }, 201, true);
    },
  },
  {
    method: "GET",
    pattern: /^\/crls$/,
    operation: "ListCrls",
    handler: (req, ctx) => {
      const { items, nextToken } = page(req, ctx.state.crls);
      return ok({ crls: items.map(crlDetail), ...(nextToken ? { nextToken } : {}) });
    },
  },
  {
    method: "GET",
    pattern: /^\/crl\/([^/]+)$/,
    operation: "GetCrl",
    handler: (_r, ctx, id) => ok({ crl: crlDetail(findCrl(ctx, id)) }),
  },
  {
    method: "PATCH",
    pattern: /^\/crl\/([^/]+)$/,
    operation: "UpdateCrl",
    handler: (req, ctx, id) => {
      const crl = findCrl(ctx, id);
      const b = bodyOf(req);
      if (b.name !== undefined) crl.name = checkName(b.name);
      if (typeof b.crlData === "string") crl.crlData = b.crlData;
      crl.updatedAt = ctx.now().toISOString();
      return ok({ crl: crlDetail(crl) }, 200, true);
    },
  },
  {
    method: "DELETE",
    pattern: /^\/crl\/([^/]+)$/,
    operation: "DeleteCrl",
    handler: (_r, ctx, id) => {
      const crl = findCrl(ctx, id);
      ctx.state.crls = ctx.state.crls.filter((c) => c !== crl);
      delete ctx.state.tags[crl.crlArn];
      return ok({ crl: crlDetail(crl) }, 200, true);
    },
  },
  {
    method: "POST",
    pattern: /^\/crl\/([^/]+)\/enable$/,
    operation: "EnableCrl",
    handler: setEnabled(findCrl, "crl", true, crlDetail),
  },
  {
    method: "POST",
    pattern: /^\/crl\/([^/]+)\/disable$/,
    operation: "DisableCrl",
    handler: setEnabled(findCrl, "crl", false, crlDetail),
  },
  {
    method: "GET",
    pattern: /^\/subjects$/,
    operation: "ListSubjects",
    handler: (req, ctx) => {
      const { items, nextToken } = page(req, ctx.state.subjects);
      return ok({
        subjects: items.map(({ credentials: _c, instanceProperties: _i, ...summary }) => summary),
        ...(nextToken ? { nextToken } : {}),
      });
    },
  },
  {
    method: "GET",
    pattern: /^\/subject\/([^/]+)$/,
    operation: "GetSubject",
    handler: (_r, ctx, id) => {
      const s = ctx.state.subjects.find((x) => x.subjectId === id);
      if (!s) throw notFound("Subject");
      return ok({ subject: { ...s } });
    },
  },
  {
    method: "GET",
    pattern: /^\/ListTagsForResource$/,
    operation: "ListTagsForResource",
    handler: (req, ctx) => {
      const arn = new Map(req.query).get("resourceArn");
      if (!arn || !knownArn(ctx, arn)) throw notFound("Resource");
      return ok({ tags: ctx.state.tags[arn] ?? [] });
    },
  },
  {
    method: "POST",
    pattern: /^\/TagResource$/,
    operation: "TagResource",
    handler: (req, ctx) => {
      const b = bodyOf(req);
      const arn = b.resourceArn as string;
      if (typeof arn !== "string" || !knownArn(ctx, arn)) throw notFound("Resource");
      const merged = new Map((ctx.state.tags[arn] ?? []).map((t) => [t.key, t.value]));
      for (const t of checkTags(b.tags)) merged.set(t.key, t.value);
      if (merged.size > 50)
        throw new ApiError(400, "TooManyTagsException", "A resource can have at most 50 tags.");
      ctx.state.tags[arn] = [...merged].map(([key, value]) => ({ key, value }));
      return ok({}, 200, true);
    },
  },
  {
    method: "POST",
    pattern: /^\/UntagResource$/,
    operation: "UntagResource",
    handler: (req, ctx) => {
      const b = bodyOf(req);
      const arn = b.resourceArn as string;
      if (typeof arn !== "string" || !knownArn(ctx, arn)) throw notFound("Resource");
      const keys = new Set(Array.isArray(b.tagKeys) ? (b.tagKeys as string[]) : []);
      ctx.state.tags[arn] = (ctx.state.tags[arn] ?? []).filter((t) => !keys.has(t.key));
      return ok({}, 200, true);
    },
  },
];
