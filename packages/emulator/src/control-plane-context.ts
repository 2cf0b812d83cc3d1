/**
 * What the control plane's route modules share: the context and answer types, lookups by id and
 * ARN, and the enable/disable handler.
 * @module
 */
import { ApiError, type EmulatorRequest, jsonBody } from "./http.ts";
import type { CrlRecord, EmulatorStateData, ProfileRecord, TrustAnchorRecord } from "./state.ts";
import { SERVICE_CALLER_HEADER } from "./validation.ts";

/** What the control plane needs from the emulator around it. */
export interface ControlPlaneContext {
  state: EmulatorStateData;
  now: () => Date;
  region: string;
  accountId: string;
  /** The adjustable account quotas; AWS's defaults (50 trust anchors, 250 profiles) when absent. */
  quotas?: { trustAnchors?: number | undefined; profiles?: number | undefined } | undefined;
}

/** A handler's answer: status and JSON body. */
export interface ControlPlaneResult {
  status: number;
  body: unknown;
  mutated: boolean;
}

export const notFound = (what: string) => new ApiError(404, "ResourceNotFoundException", `${what} not found`);

export const bodyOf = jsonBody;

export const profileDetail = (p: ProfileRecord) => ({ ...p });
export const anchorDetail = (t: TrustAnchorRecord) => ({ ...t });
export const crlDetail = (c: CrlRecord) => ({ ...c });

/** A route's handler; `id` is the path's captured id, when it has one. */
export type Handler = (
  req: EmulatorRequest,
  ctx: ControlPlaneContext,
  id: string,
) => Promise<ControlPlaneResult> | ControlPlaneResult;
export const fromService = (req: EmulatorRequest) => req.headers[SERVICE_CALLER_HEADER] !== undefined;
/** An answer; `mutated` when the state changed (and is persisted). */
export const ok = (body: unknown, status = 200, mutated = false): ControlPlaneResult => ({
  status,
  body,
  mutated,
});

export function findAnchor(ctx: ControlPlaneContext, id: string): TrustAnchorRecord {
  const t = ctx.state.trustAnchors.find((a) => a.trustAnchorId === id);
  if (!t) throw notFound("Trust anchor");
  return t;
}
export function findProfile(ctx: ControlPlaneContext, id: string): ProfileRecord {
  const p = ctx.state.profiles.find((a) => a.profileId === id);
  if (!p) throw notFound("Profile");
  return p;
}
export function findCrl(ctx: ControlPlaneContext, id: string): CrlRecord {
  const c = ctx.state.crls.find((a) => a.crlId === id);
  if (!c) throw notFound("Crl");
  return c;
}
export function knownArn(ctx: ControlPlaneContext, arn: string): boolean {
  return (
    ctx.state.trustAnchors.some((t) => t.trustAnchorArn === arn) ||
    ctx.state.profiles.some((p) => p.profileArn === arn) ||
    ctx.state.crls.some((c) => c.crlArn === arn)
  );
}

export const arnOf = (ctx: ControlPlaneContext, kind: string, id: string) =>
  `arn:aws:rolesanywhere:${ctx.region}:${ctx.accountId}:${kind}/${id}`;

export const setEnabled =
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

/** One control-plane route. */
export interface Route {
  method: string;
  pattern: RegExp;
  operation: string;
  handler: Handler;
}
