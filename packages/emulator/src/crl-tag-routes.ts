/**
 * The control plane's routes for CRLs (ImportCrl … DisableCrl), subjects and tags.
 * @module
 */
import { randomUUID } from "node:crypto";
import {
  arnOf,
  bodyOf,
  crlDetail,
  findCrl,
  fromService,
  knownArn,
  notFound,
  ok,
  type Route,
  setEnabled,
} from "./control-plane-context.ts";
import { ApiError } from "./http.ts";
import type { CrlRecord } from "./state.ts";
import { checkCrlData, checkName, checkQuota, checkTagKeys, checkTags, LIMITS, page } from "./validation.ts";

/** CRL, subject and tag routes. */
export const CRL_TAG_ROUTES: Route[] = [
  {
    method: "POST",
    pattern: /^\/crls$/,
    operation: "ImportCrl",
    handler: (req, ctx) => {
      const b = bodyOf(req);
      const crlData = checkCrlData(b.crlData);
      if (
        typeof b.trustAnchorArn !== "string" ||
        !ctx.state.trustAnchors.some((t) => t.trustAnchorArn === b.trustAnchorArn)
      ) {
        throw notFound("Trust anchor");
      }
      checkQuota(
        ctx.state.crls.filter((c) => c.trustAnchorArn === b.trustAnchorArn).length,
        LIMITS.crlsPerTrustAnchor,
        "the number of CRLs per trust anchor",
        false,
      );
      const now = ctx.now().toISOString();
      const id = randomUUID();
      const crl: CrlRecord = {
        crlId: id,
        crlArn: arnOf(ctx, "crl", id),
        name: checkName(b.name),
        enabled: b.enabled === undefined ? false : Boolean(b.enabled),
        crlData,
        trustAnchorArn: b.trustAnchorArn,
        createdAt: now,
        updatedAt: now,
      };
      const tags = checkTags(b.tags, fromService(req));
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
      if (b.crlData !== undefined) crl.crlData = checkCrlData(b.crlData);
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
      for (const t of checkTags(b.tags, fromService(req))) merged.set(t.key, t.value);
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
      const keys = new Set(checkTagKeys(b.tagKeys ?? [], fromService(req)));
      ctx.state.tags[arn] = (ctx.state.tags[arn] ?? []).filter((t) => !keys.has(t.key));
      return ok({}, 200, true);
    },
  },
];
