/**
 * The REST routes of the Roles Anywhere control plane for trust anchors and profiles, and the
 * table of every control-plane route (CRLs, subjects and tags are in crl-tag-routes.ts).
 * @module
 */
import { randomUUID } from "node:crypto";
import {
  anchorDetail,
  arnOf,
  bodyOf,
  findAnchor,
  findProfile,
  fromService,
  ok,
  profileDetail,
  type Route,
  setEnabled,
} from "./control-plane-context.ts";
import { CRL_TAG_ROUTES } from "./crl-tag-routes.ts";
import {
  checkNotificationSettings,
  defaultAttributeMappings,
  defaultNotificationSettings,
  putNotificationSettings,
} from "./settings.ts";
import type { ProfileRecord, TrustAnchorRecord } from "./state.ts";
import {
  checkDuration,
  checkManagedPolicyArns,
  checkName,
  checkQuota,
  checkRoleArns,
  checkSessionPolicy,
  checkSource,
  checkTags,
  LIMITS,
  page,
} from "./validation.ts";

/** The REST routes of the Roles Anywhere control plane, as @aws-sdk/client-rolesanywhere calls them. */
export const ROUTES: Route[] = [
  {
    method: "POST",
    pattern: /^\/trustanchors$/,
    operation: "CreateTrustAnchor",
    handler: async (req, ctx) => {
      const b = bodyOf(req);
      checkQuota(
        ctx.state.trustAnchors.length,
        ctx.quotas?.trustAnchors ?? LIMITS.trustAnchors,
        "the number of trust anchors in an account",
        true,
      );
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
      const tags = checkTags(b.tags, fromService(req));
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
      checkQuota(
        ctx.state.profiles.length,
        ctx.quotas?.profiles ?? LIMITS.profiles,
        "the number of profiles in an account",
        true,
      );
      const now = ctx.now().toISOString();
      const id = randomUUID();
      const profile: ProfileRecord = {
        profileId: id,
        profileArn: arnOf(ctx, "profile", id),
        name: checkName(b.name),
        enabled: b.enabled === undefined ? false : Boolean(b.enabled),
        roleArns: checkRoleArns(b.roleArns, true)!,
        managedPolicyArns: checkManagedPolicyArns(b.managedPolicyArns) ?? [],
        sessionPolicy: checkSessionPolicy(b.sessionPolicy),
        durationSeconds: checkDuration(b.durationSeconds) ?? 3600,
        requireInstanceProperties: Boolean(b.requireInstanceProperties),
        acceptRoleSessionName: Boolean(b.acceptRoleSessionName),
        attributeMappings: defaultAttributeMappings(),
        createdBy: `arn:aws:sts::${ctx.accountId}:assumed-role/emulator/admin`,
        createdAt: now,
        updatedAt: now,
      };
      const tags = checkTags(b.tags, fromService(req));
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
      const managed = checkManagedPolicyArns(b.managedPolicyArns);
      if (managed) profile.managedPolicyArns = managed;
      const sessionPolicy = checkSessionPolicy(b.sessionPolicy);
      if (sessionPolicy !== undefined) profile.sessionPolicy = sessionPolicy;
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
  ...CRL_TAG_ROUTES,
];
