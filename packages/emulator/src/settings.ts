/**
 * Trust anchors' notification settings and profiles' attribute mappings: the four operations
 * (PutNotificationSettings, ResetNotificationSettings, PutAttributeMapping, DeleteAttributeMapping),
 * the defaults AWS gives new resources, and the filter a profile's mappings apply to the principal
 * tags CreateSession derives from a certificate.
 * @module
 */
import { DEFAULT_ATTRIBUTE_MAPPINGS, specifiersMap, storedSpecifier } from "@iam-ra/core/rolesanywhere";
import { ApiError, type EmulatorRequest, jsonBody } from "./http.ts";
import type { EmulatorStateData, ProfileRecord, TrustAnchorRecord } from "./state.ts";

const invalid = (message: string) => new ApiError(400, "ValidationException", message);
const notFound = (what: string) => new ApiError(404, "ResourceNotFoundException", `${what} not found`);
const ID = /^[a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}$/;

/** Who configured a default setting (AWS's own service principal). */
export const SERVICE_PRINCIPAL = "rolesanywhere.amazonaws.com";
const EVENTS = ["CA_CERTIFICATE_EXPIRY", "END_ENTITY_CERTIFICATE_EXPIRY"] as const;
const FIELDS = ["x509Subject", "x509Issuer", "x509SAN"] as const;
type Field = (typeof FIELDS)[number];

/** A new trust anchor's settings: both expiry events, on all channels, 45 days ahead. */
export function defaultNotificationSettings(): Array<Record<string, unknown>> {
  return EVENTS.map((event) => ({
    enabled: true,
    event,
    threshold: 45,
    channel: "ALL",
    configuredBy: SERVICE_PRINCIPAL,
  }));
}

/**
 * A new profile's mappings, as AWS documents and shows them: every subject and issuer attribute;
 * the SAN's first DNS name, URI and every attribute of its first directory name (`Name/*`).
 */
export function defaultAttributeMappings(): Array<{
  certificateField: Field;
  mappingRules: Array<{ specifier: string }>;
}> {
  return DEFAULT_ATTRIBUTE_MAPPINGS.map((m) => ({
    certificateField: m.certificateField,
    mappingRules: m.specifiers.map((specifier) => ({ specifier })),
  }));
}

interface Setting {
  enabled: boolean;
  event: string;
  threshold?: number;
  channel: string;
}

/** Checks notification settings as the service model constrains them (and CreateTrustAnchor takes them). */
export function checkNotificationSettings(value: unknown, field = "notificationSettings"): Setting[] {
  if (!Array.isArray(value) || value.length > 50)
    throw invalid(`${field} must be a list of at most 50 notification settings.`);
  return value.map((raw, i) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    if (typeof s.enabled !== "boolean")
      throw invalid(`${field}.${i + 1}.enabled is required (true or false).`);
    if (!EVENTS.includes(s.event as (typeof EVENTS)[number]))
      throw invalid(`${field}.${i + 1}.event must be one of ${EVENTS.join(", ")}.`);
    if (
      s.threshold !== undefined &&
      (!Number.isInteger(s.threshold) || (s.threshold as number) < 1 || (s.threshold as number) > 360)
    )
      throw invalid(`${field}.${i + 1}.threshold must be between 1 and 360 days.`);
    if (s.channel !== undefined && s.channel !== "ALL")
      throw invalid(`${field}.${i + 1}.channel must be ALL.`);
    return {
      enabled: s.enabled,
      event: s.event as string,
      ...(s.threshold === undefined ? {} : { threshold: s.threshold as number }),
      channel: "ALL",
    };
  });
}

/** Puts settings over the anchor's current ones, by (event, channel); configured by the account. */
export function putNotificationSettings(
  anchor: TrustAnchorRecord,
  settings: Setting[],
  accountId: string,
): void {
  for (const s of settings) {
    const at = anchor.notificationSettings.findIndex((n) => n.event === s.event && n.channel === s.channel);
    const current = at === -1 ? undefined : anchor.notificationSettings[at];
    const next = {
      enabled: s.enabled,
      event: s.event,
      threshold: s.threshold ?? (current?.threshold as number | undefined) ?? 45,
      channel: s.channel,
      configuredBy: accountId,
    };
    if (at === -1) anchor.notificationSettings.push(next);
    else anchor.notificationSettings[at] = next;
  }
}

function anchorById(state: EmulatorStateData, id: unknown): TrustAnchorRecord {
  if (typeof id !== "string" || !ID.test(id))
    throw invalid("trustAnchorId must be a trust anchor's 36-character id.");
  const anchor = state.trustAnchors.find((t) => t.trustAnchorId === id);
  if (!anchor) throw notFound("Trust anchor");
  return anchor;
}

function profileById(state: EmulatorStateData, id: string): ProfileRecord {
  if (!ID.test(id)) throw invalid("profileId must be a profile's 36-character id.");
  const profile = state.profiles.find((p) => p.profileId === id);
  if (!profile) throw notFound("Profile");
  return profile;
}

function checkField(value: unknown): Field {
  if (!FIELDS.includes(value as Field))
    throw invalid(`certificateField must be one of ${FIELDS.join(", ")}.`);
  return value as Field;
}

/** The routes of the four operations; the control plane's context shape. */
export const SETTINGS_ROUTES: Array<{
  method: string;
  pattern: RegExp;
  operation: string;
  handler: (
    req: EmulatorRequest,
    ctx: { state: EmulatorStateData; now: () => Date; accountId: string },
    id: string,
  ) => { status: number; body: unknown; mutated: boolean };
}> = [
  {
    method: "PATCH",
    pattern: /^\/put-notifications-settings$/,
    operation: "PutNotificationSettings",
    handler: (req, ctx) => {
      const b = jsonBody(req);
      const anchor = anchorById(ctx.state, b.trustAnchorId);
      putNotificationSettings(anchor, checkNotificationSettings(b.notificationSettings), ctx.accountId);
      anchor.updatedAt = ctx.now().toISOString();
      return { status: 200, body: { trustAnchor: { ...anchor } }, mutated: true };
    },
  },
  {
    method: "PATCH",
    pattern: /^\/reset-notifications-settings$/,
    operation: "ResetNotificationSettings",
    handler: (req, ctx) => {
      const b = jsonBody(req);
      const anchor = anchorById(ctx.state, b.trustAnchorId);
      const keys = b.notificationSettingKeys;
      if (!Array.isArray(keys) || keys.length > 50)
        throw invalid("notificationSettingKeys must be a list of at most 50 {event, channel} keys.");
      const defaults = defaultNotificationSettings();
      for (const raw of keys) {
        const key = (raw ?? {}) as Record<string, unknown>;
        if (!EVENTS.includes(key.event as (typeof EVENTS)[number]))
          throw invalid(`notificationSettingKeys: event must be one of ${EVENTS.join(", ")}.`);
        const channel = key.channel ?? "ALL";
        if (channel !== "ALL") throw invalid("notificationSettingKeys: channel must be ALL.");
        const at = anchor.notificationSettings.findIndex(
          (n) => n.event === key.event && n.channel === channel,
        );
        const fresh = defaults.find((d) => d.event === key.event)!;
        if (at === -1) anchor.notificationSettings.push(fresh);
        else anchor.notificationSettings[at] = fresh;
      }
      anchor.updatedAt = ctx.now().toISOString();
      return { status: 200, body: { trustAnchor: { ...anchor } }, mutated: true };
    },
  },
  {
    method: "PUT",
    pattern: /^\/profiles\/([^/]+)\/mappings$/,
    operation: "PutAttributeMapping",
    handler: (req, ctx, id) => {
      const profile = profileById(ctx.state, id);
      const b = jsonBody(req);
      const certificateField = checkField(b.certificateField);
      const rules = b.mappingRules;
      if (!Array.isArray(rules) || rules.length === 0)
        throw invalid("mappingRules must be a non-empty list of {specifier}.");
      const mappingRules = rules.map((r) => {
        const specifier = (r as { specifier?: unknown } | null)?.specifier;
        if (typeof specifier !== "string" || specifier.length > 60)
          throw invalid("Each mapping rule needs a specifier of at most 60 characters.");
        return { specifier: storedSpecifier(certificateField, specifier) };
      });
      const mappings = profile.attributeMappings as Array<{
        certificateField: string;
        mappingRules: unknown[];
      }>;
      const at = mappings.findIndex((m) => m.certificateField === certificateField);
      if (at === -1) mappings.push({ certificateField, mappingRules });
      else mappings[at] = { certificateField, mappingRules };
      profile.updatedAt = ctx.now().toISOString();
      return { status: 200, body: { profile: { ...profile } }, mutated: true };
    },
  },
  {
    method: "DELETE",
    pattern: /^\/profiles\/([^/]+)\/mappings$/,
    operation: "DeleteAttributeMapping",
    handler: (req, ctx, id) => {
      const profile = profileById(ctx.state, id);
      const query = req.query;
      const certificateField = checkField(query.find(([k]) => k === "certificateField")?.[1]);
      const specifiers = query.filter(([k]) => k === "specifiers").map(([, v]) => v);
      const mappings = profile.attributeMappings as Array<{
        certificateField: string;
        mappingRules: Array<{ specifier: string }>;
      }>;
      const at = mappings.findIndex((m) => m.certificateField === certificateField);
      if (at !== -1) {
        if (specifiers.length === 0) mappings.splice(at, 1);
        else {
          const kept = mappings[at]!.mappingRules.filter((r) => !specifiers.includes(r.specifier));
          if (kept.length === 0) mappings.splice(at, 1);
          else mappings[at] = { certificateField, mappingRules: kept };
        }
      }
      profile.updatedAt = ctx.now().toISOString();
      return { status: 200, body: { profile: { ...profile } }, mutated: true };
    },
  },
];

/**
 * The principal tags a profile's attribute mappings let through: `x509Subject/<attr>` and
 * `x509Issuer/<attr>` when the field maps `*` or that attribute; `x509SAN/DNS` and `x509SAN/URI`
 * when the SAN field maps that type, `x509SAN/Name/<attr>` when it maps `Name/*` or `Name/<attr>`.
 * A field without a mapping contributes nothing.
 */
export function applyAttributeMappings(
  tags: ReadonlyMap<string, string>,
  mappings: ReadonlyArray<Record<string, unknown>>,
): Map<string, string> {
  const allowed = new Map<string, string[]>();
  for (const m of mappings) {
    const rules = (m.mappingRules as Array<{ specifier: string }> | undefined) ?? [];
    allowed.set(
      String(m.certificateField),
      rules.map((r) => r.specifier),
    );
  }
  const out = new Map<string, string>();
  for (const [key, value] of tags) {
    const slash = key.indexOf("/");
    const field = key.slice(0, slash);
    const specifiers = allowed.get(field);
    if (specifiers && specifiersMap(field, specifiers, key.slice(slash + 1))) out.set(key, value);
  }
  return out;
}
