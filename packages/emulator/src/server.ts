import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { parseQueryString } from "@iam-ra/core/sigv4";
import { pemCertificates } from "./certificates.ts";
import { ROUTES } from "./control-plane.ts";
import type { ControlPlaneContext } from "./control-plane-context.ts";
import { type CreateSessionContext, createSession } from "./create-session.ts";
import {
  ApiError,
  type EmulatorRequest,
  newRequestId,
  queryErrorXml,
  sendJson,
  sendJsonError,
  sendXml,
} from "./http.ts";
import { createStateWriter, loadPersistedState, type StateWriter } from "./persistence.ts";
import { SETTINGS_ROUTES } from "./settings.ts";
import {
  type EmulatorStateData,
  emptyState,
  type RoleRecord,
  type StateChange,
  type TrustAnchorRecord,
} from "./state.ts";
import { handleSts, isStsRequest } from "./sts.ts";
import {
  createTrustPolicySource,
  DEFAULT_TRUST_POLICY_TTL_MS,
  fetchIamTrustPolicy,
} from "./trust-policies.ts";

/**
 * One structured log entry. Never holds secrets: no bodies, no signatures, no credentials.
 * @public
 */
export interface EmulatorLogEntry {
  time: string;
  level: "info" | "warn" | "error";
  msg: string;
  operation?: string;
  status?: number;
  errorType?: string;
  durationMs?: number;
  requestId?: string;
}

/**
 * Options of {@link startEmulator}.
 * @public
 */
export interface EmulatorOptions {
  /** Default `127.0.0.1`. */
  host?: string | undefined;
  /** Default 0 (a free port). */
  port?: number | undefined;
  /** The region of every resource and the only signing region accepted. Default `us-east-1`. */
  region?: string | undefined;
  /** Default `123456789012`. */
  accountId?: string | undefined;
  /** Serve under this path prefix (e.g. `/ra`); requests are still signed over the full path. */
  basePath?: string | undefined;
  /** The emulator's clock. Default: the system clock. */
  clock?: { now(): Date } | undefined;
  /**
   * Persist state to this JSON file and a journal next to it (`<file>.journal`), both 0600, and load
   * them on start. A request is answered once its changes are on disk (fsync).
   */
  persistPath?: string | undefined;
  /** Where log entries go. Default: nowhere. */
  logger?: ((entry: EmulatorLogEntry) => void) | undefined;
  /** ACM PCA endpoint (e.g. moto) to resolve `AWS_ACM_PCA` trust anchors. */
  acmPcaEndpoint?: string | undefined;
  /** IAM endpoint (e.g. moto) to read trust policies of roles not registered with the emulator. */
  iamEndpoint?: string | undefined;
  /**
   * How long a trust policy read from `iamEndpoint` is reused, by the emulator's clock. A refusal
   * is checked again against IAM at once, so a policy that now allows takes effect immediately; one
   * that no longer allows takes effect within this time (AWS's IAM changes also need seconds to
   * spread). 0: ask IAM on every call. Default 2000.
   */
  trustPolicyTtlMs?: number | undefined;
  /**
   * The account's adjustable quotas, as raised through Service Quotas. Default AWS's: 50 trust
   * anchors and 250 profiles per account and Region.
   */
  quotas?: { trustAnchors?: number | undefined; profiles?: number | undefined } | undefined;
  /** Allowed distance between X-Amz-Date and the clock. Default 5 minutes, as AWS. */
  maxClockSkewMs?: number | undefined;
  /** Serve https with this certificate chain and key (see createEmulatorTls). Default: plain http. */
  tls?: { certificatePem: string; privateKeyPem: string } | undefined;
}

/**
 * A running emulator.
 * @public
 */
export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (plus the base path, if any). */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** The live state (read it in tests; mutate through the API). */
  readonly state: EmulatorStateData;
  /** Registers (or replaces) a role and its trust policy. */
  putRole(roleArn: string, trustPolicy: unknown): void;
  /** Drops all state. */
  reset(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, "ValidationException", "Request body too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const DUMMY_AUTH =
  "AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00";

async function fetchPcaCertificates(endpoint: string, anchor: TrustAnchorRecord): Promise<Buffer[]> {
  const arn = anchor.source.sourceData.acmPcaArn!;
  const region = arn.split(":")[3];
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "ACMPrivateCA.GetCertificateAuthorityCertificate",
      authorization: DUMMY_AUTH.replace("us-east-1/service", `${region}/acm-pca`),
    },
    body: JSON.stringify({ CertificateAuthorityArn: arn }),
  });
  if (!res.ok) return [];
  const body = (await res.json()) as { Certificate?: string; CertificateChain?: string };
  return [...pemCertificates(body.Certificate ?? ""), ...pemCertificates(body.CertificateChain ?? "")];
}

/**
 * Starts a local IAM Roles Anywhere service (control plane, CreateSession, STS) on loopback.
 * @public
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  const clock = options.clock ?? { now: () => new Date() };
  const log = options.logger ?? (() => {});
  const persisted = options.persistPath
    ? await loadPersistedState(options.persistPath, clock.now())
    : undefined;
  if (persisted?.dropped)
    log({
      time: new Date().toISOString(),
      level: "warn",
      msg: `dropped ${persisted.dropped} torn line(s) at the end of ${options.persistPath}.journal`,
    });
  let state: EmulatorStateData = persisted?.state ?? emptyState();
  const writer: StateWriter | undefined =
    options.persistPath && persisted
      ? createStateWriter({ path: options.persistPath, current: () => state, loaded: persisted })
      : undefined;
  /** Resolves once the changes are on disk; no changes given: the whole state changed. */
  const persist = async (changes?: readonly StateChange[]) => {
    if (!writer) return;
    if (changes === undefined) await writer.snapshot();
    else if (changes.length > 0) await writer.commit(changes);
  };
  const persistLater = () => {
    persist().catch((error: unknown) =>
      log({
        time: new Date().toISOString(),
        level: "error",
        msg: `persisting state failed: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
  };
  const maxClockSkewMs = options.maxClockSkewMs ?? 5 * 60_000;
  const iamEndpoint = options.iamEndpoint;
  const trustPolicies = createTrustPolicySource({
    registered: (roleArn) => state.roles.find((r) => r.roleArn === roleArn),
    fetchFromIam: iamEndpoint ? (roleArn) => fetchIamTrustPolicy(iamEndpoint, roleArn) : undefined,
    ttlMs: options.trustPolicyTtlMs ?? DEFAULT_TRUST_POLICY_TTL_MS,
    now: () => clock.now().getTime(),
  });
  const trustPolicy = trustPolicies.lookup;
  const trustAnchorCertificates = async (anchor: TrustAnchorRecord): Promise<Buffer[]> => {
    if (anchor.source.sourceType === "CERTIFICATE_BUNDLE")
      return pemCertificates(anchor.source.sourceData.x509CertificateData ?? "");
    if (anchor.source.sourceType === "AWS_ACM_PCA" && options.acmPcaEndpoint)
      return await fetchPcaCertificates(options.acmPcaEndpoint, anchor);
    return [];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const requestId = newRequestId();
    const [rawPath = "/", rawQuery = ""] = (req.url ?? "/").split(/\?(.*)/s, 2);
    let operation = "Unknown";
    let sts = false;
    try {
      if (basePath && rawPath !== basePath && !rawPath.startsWith(`${basePath}/`)) {
        throw new ApiError(404, "UnknownOperationException", "Unknown operation");
      }
      const body = await readBody(req);
      let query: Array<[string, string]>;
      try {
        query = parseQueryString(rawQuery);
      } catch {
        throw new ApiError(400, "ValidationException", "Malformed query string.");
      }
      const request: EmulatorRequest = {
        method: req.method ?? "GET",
        rawPath,
        route: decodeURIComponent(rawPath.slice(basePath.length)) || "/",
        rawQuery,
        query,
        headers: req.headers,
        body,
        requestId,
      };
      const changes: StateChange[] = [];
      const ctx: CreateSessionContext & ControlPlaneContext = {
        state,
        now: () => clock.now(),
        region,
        accountId,
        maxClockSkewMs,
        trustAnchorCertificates,
        trustPolicy,
        recordChange: (change) => changes.push(change),
        quotas: options.quotas,
      };
      if (request.route === "/sessions" && request.method === "POST") {
        operation = "CreateSession";
        const result = await createSession(request, ctx);
        await persist(changes);
        sendJson(res, 201, result, requestId);
      } else if (request.route === "/" && isStsRequest(request)) {
        sts = true;
        operation = `sts:${new Map([...query, ...parseQueryString(body.toString("utf8"))]).get("Action") ?? "?"}`;
        const xml = await handleSts(
          request,
          { state, now: () => clock.now(), maxClockSkewMs, trustPolicy, recordChange: ctx.recordChange },
          requestId,
        );
        await persist(changes);
        sendXml(res, 200, xml, requestId);
      } else if (request.route === "/_emulator/roles" && request.method === "POST") {
        operation = "emulator:PutRole";
        const b = JSON.parse(body.toString("utf8") || "{}") as Partial<RoleRecord>;
        if (
          typeof b.roleArn !== "string" ||
          !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(b.roleArn) ||
          b.trustPolicy === undefined
        ) {
          throw new ApiError(
            400,
            "ValidationException",
            'Body must be {"roleArn": "arn:aws:iam::…:role/…", "trustPolicy": {…}}.',
          );
        }
        setRole(b.roleArn, b.trustPolicy);
        await persist();
        sendJson(res, 200, { roleArn: b.roleArn }, requestId);
      } else if (request.route === "/_emulator/reset" && request.method === "POST") {
        operation = "emulator:Reset";
        clear();
        await persist();
        sendJson(res, 200, {}, requestId);
      } else if (request.route === "/_emulator/health") {
        operation = "emulator:Health";
        sendJson(res, 200, { status: "ok", region, accountId }, requestId);
      } else {
        const route = [...ROUTES, ...SETTINGS_ROUTES].find(
          (r) => r.method === request.method && r.pattern.test(request.route),
        );
        if (!route)
          throw new ApiError(
            404,
            "UnknownOperationException",
            `Unknown operation ${request.method} ${request.route}`,
          );
        operation = route.operation;
        const auth = String(req.headers.authorization ?? "");
        if (!auth.startsWith("AWS4-HMAC-SHA256 "))
          throw new ApiError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        const id = route.pattern.exec(request.route)?.[1] ?? "";
        const result = await route.handler(request, ctx, id);
        if (result.mutated) await persist();
        sendJson(res, result.status, result.body, requestId);
      }
      log({
        time: new Date().toISOString(),
        level: "info",
        msg: "request",
        operation,
        status: res.statusCode,
        durationMs: Date.now() - started,
        requestId,
      });
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(500, "InternalServerException", "The emulator failed to process the request.");
      if (!(error instanceof ApiError)) {
        log({
          time: new Date().toISOString(),
          level: "error",
          msg: `internal error: ${error instanceof Error ? error.message : String(error)}`,
          operation,
          requestId,
        });
      }
      if (sts) sendXml(res, apiError.status, queryErrorXml(apiError, requestId), requestId);
      else sendJsonError(res, apiError, requestId);
      log({
        time: new Date().toISOString(),
        level: apiError.status >= 500 ? "error" : "warn",
        msg: apiError.message,
        operation,
        status: apiError.status,
        errorType: apiError.type,
        durationMs: Date.now() - started,
        requestId,
      });
    }
  };

  const setRole = (roleArn: string, trustPolicy: unknown) => {
    state.roles = [...state.roles.filter((r) => r.roleArn !== roleArn), { roleArn, trustPolicy }];
  };
  const clear = () => {
    state = emptyState();
    trustPolicies.clear();
  };
  const putRole = (roleArn: string, trustPolicy: unknown) => {
    setRole(roleArn, trustPolicy);
    persistLater();
  };
  const reset = () => {
    clear();
    persistLater();
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.certificatePem, key: options.tls.privateKeyPem }, (req, res) => {
        void handle(req, res);
      })
    : createServer((req, res) => {
        void handle(req, res);
      });
  server.keepAliveTimeout = 5000;
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? "127.0.0.1";
  const url = `${options.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}${basePath}`;
  log({ time: new Date().toISOString(), level: "info", msg: `emulator listening on ${url}` });
  return {
    url,
    port,
    region,
    accountId,
    get state() {
      return state;
    },
    putRole,
    reset,
    close: async () => {
      if (server.listening) {
        server.closeAllConnections();
        await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      }
      await writer?.close();
    },
  };
}
