import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isLoopbackHost } from "../rolesanywhere/endpoint.ts";
import type { CredentialSource, HeldCredentials } from "./credential-source.ts";
import type { SidecarMetrics } from "./metrics.ts";

/** Where stock SDKs are pointed: `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:<port>/v1/credentials`. */
export const CONTAINER_CREDENTIALS_PATH = "/v1/credentials";
/** IMDSv2 session tokens live at most 6 hours, as on EC2. */
export const IMDS_MAX_TTL_SECONDS = 21_600;

/**
 * Host names a credential request may carry. A web page that rebinds its own DNS name to
 * 127.0.0.1 still sends its name as Host, so only loopback and the IMDS addresses pass (the IMDS
 * protocol is reached by address, never by a name a page could own).
 */
export function isAllowedCredentialHost(host: string | undefined, extra: readonly string[] = []): boolean {
  if (!host) return false;
  const name = host
    .replace(/:\d+$/, "")
    .replace(/^\[|\]$/g, "")
    .toLowerCase();
  return (
    extra.includes(name) ||
    name === "localhost" ||
    name === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(name) ||
    name === "169.254.169.254" ||
    name === "fd00:ec2::254" ||
    name === "169.254.170.2" ||
    name === "169.254.170.23" ||
    name === "fd00:ec2::23"
  );
}

/**
 * Headers only browsers send: a request carrying one was made by a web page, not an SDK. (Node's
 * fetch sends `Sec-Fetch-Mode` too, so that one alone proves nothing.)
 */
const isBrowserRequest = (req: IncomingMessage) =>
  req.headers.origin !== undefined ||
  req.headers["sec-fetch-site"] !== undefined ||
  req.headers["sec-fetch-dest"] !== undefined;

/** What the request handler needs; it does no IO of its own at construction. */
export interface AppDeps {
  source: Pick<CredentialSource, "current" | "status">;
  metrics: SidecarMetrics;
  clock: { now(): Date };
  /** Token the container-credentials route requires in `Authorization`. Undefined: route disabled. */
  authorizationToken: string | undefined;
  /** Host names accepted besides loopback and the IMDS addresses (the address the server is bound to). */
  extraHosts?: readonly string[] | undefined;
  /**
   * Bound beyond loopback (`--allow-remote`, which needs the token): the container route then takes
   * any Host, since remote clients name the server by its address or DNS name and the token alone
   * authenticates them. Default false: only loopback Hosts (and `extraHosts`), against DNS rebinding.
   */
  remote?: boolean | undefined;
  /** Serve IMDSv2 (`/latest/...`) as well. */
  imds: { enabled: boolean; roleName: string; region: string };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = "application/json",
  extra: readonly string[] = [],
) {
  // A flat [name, value, …] list is the cheapest form for node:http to write.
  res.writeHead(status, [
    "content-type",
    type,
    "content-length",
    String(Buffer.byteLength(body)),
    "cache-control",
    "no-store",
    ...extra,
  ]);
  res.end(body);
}

const errorBody = (code: string, message: string) => JSON.stringify({ code, message });

/** The container-credentials document (what the SDKs' HTTP credential providers parse). */
function containerDocument(c: HeldCredentials): string {
  return JSON.stringify({
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken,
    Expiration: c.expiration.toISOString(),
    AccountId: c.accountId,
  });
}

/** The IMDS `security-credentials/<role>` document. */
function imdsDocument(c: HeldCredentials, extended: boolean): string {
  return JSON.stringify({
    Code: "Success",
    LastUpdated: c.obtainedAt.toISOString(),
    Type: "AWS-HMAC",
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken,
    Expiration: c.expiration.toISOString(),
    ...(extended ? { AccountId: c.accountId } : {}),
  });
}

/**
 * The sidecar's request handler: container credentials, IMDSv2, health, readiness and metrics.
 * Credentials come only from what the source already holds; no request waits on the network.
 */
export function createApp(deps: AppDeps): Handler {
  const expected = deps.authorizationToken === undefined ? undefined : Buffer.from(deps.authorizationToken);
  // IMDSv2 tokens are stateless (expiry + HMAC under a per-process key): a flood of token requests
  // fills no table, so it can never push out the tokens real clients hold.
  const imdsKey = randomBytes(32);
  const extraHosts = (deps.extraHosts ?? [])
    .filter((h) => h !== "0.0.0.0" && h !== "::")
    .map((h) => h.replace(/^\[|\]$/g, "").toLowerCase());
  // Serialized once per set of credentials, not once per request.
  let lastHeld: HeldCredentials | undefined;
  let lastBody = "";
  const containerBody = (c: HeldCredentials) => {
    if (c !== lastHeld) {
      lastHeld = c;
      lastBody = containerDocument(c);
    }
    return lastBody;
  };

  const credentialsOr503 = (res: ServerResponse): HeldCredentials | undefined => {
    const c = deps.source.current();
    if (!c) {
      const last = deps.source.status().lastRefresh;
      send(
        res,
        503,
        errorBody(
          "CredentialsUnavailable",
          `No valid credentials are held${last && !last.ok ? `; the last refresh failed: ${last.error}` : " yet"}.`,
        ),
      );
    }
    return c;
  };

  // A token is 32 bytes, base64url: the expiry (48-bit ms) and 26 bytes of HMAC-SHA256 over it.
  const imdsMac = (expiry: Buffer) => createHmac("sha256", imdsKey).update(expiry).digest().subarray(0, 26);
  const imdsTokenValid = (token: string | undefined): boolean => {
    if (token?.length !== 43) return false;
    const bytes = Buffer.from(token, "base64url");
    if (bytes.length !== 32) return false;
    const expiry = bytes.subarray(0, 6);
    if (!timingSafeEqual(bytes.subarray(6), imdsMac(expiry))) return false;
    return expiry.readUIntBE(0, 6) > deps.clock.now().getTime();
  };

  const issueImdsToken = (req: IncomingMessage, res: ServerResponse): number => {
    // EC2 refuses token requests that went through a proxy; so do we.
    if (req.headers["x-forwarded-for"] !== undefined) {
      send(res, 403, "Forbidden", "text/plain");
      return 403;
    }
    const raw = req.headers["x-aws-ec2-metadata-token-ttl-seconds"];
    const ttl = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(ttl >= 1 && ttl <= IMDS_MAX_TTL_SECONDS)) {
      send(res, 400, "Bad Request: X-aws-ec2-metadata-token-ttl-seconds must be 1-21600", "text/plain");
      return 400;
    }
    const expiry = Buffer.alloc(6);
    expiry.writeUIntBE(deps.clock.now().getTime() + ttl * 1000, 0, 6);
    const token = Buffer.concat([expiry, imdsMac(expiry)]).toString("base64url");
    send(res, 200, token, "text/plain", ["x-aws-ec2-metadata-token-ttl-seconds", String(ttl)]);
    return 200;
  };

  const imds = (req: IncomingMessage, res: ServerResponse, path: string): number => {
    if (path === "/latest/api/token") {
      if (req.method !== "PUT") {
        send(res, 405, "Method Not Allowed", "text/plain", ["allow", "PUT"]);
        return 405;
      }
      return issueImdsToken(req, res);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "Method Not Allowed", "text/plain", ["allow", "GET"]);
      return 405;
    }
    // IMDSv1 (no token) is refused, as on an instance that requires IMDSv2.
    const token = req.headers["x-aws-ec2-metadata-token"];
    if (!imdsTokenValid(typeof token === "string" ? token : undefined)) {
      send(res, 401, "Unauthorized", "text/plain");
      return 401;
    }
    const role = deps.imds.roleName;
    const match = /^\/latest\/meta-data\/iam\/security-credentials(-extended)?\/(.*)$/.exec(path);
    if (match) {
      const [, extended, name] = match;
      if (name === "") {
        send(res, 200, role, "text/plain");
        return 200;
      }
      if (name !== role && name !== `${role}/`) {
        send(res, 404, "Not Found", "text/plain");
        return 404;
      }
      const c = credentialsOr503(res);
      if (!c) return 503;
      send(res, 200, imdsDocument(c, extended !== undefined));
      return 200;
    }
    if (
      path === "/latest/meta-data/iam/security-credentials" ||
      path === "/latest/meta-data/iam/security-credentials-extended"
    ) {
      send(res, 200, role, "text/plain");
      return 200;
    }
    if (path === "/latest/meta-data/placement/region") {
      send(res, 200, deps.imds.region, "text/plain");
      return 200;
    }
    // botocore derives the region from the zone name by dropping its last letter.
    if (
      path === "/latest/meta-data/placement/availability-zone" ||
      path === "/latest/meta-data/placement/availability-zone/"
    ) {
      send(res, 200, `${deps.imds.region}a`, "text/plain");
      return 200;
    }
    send(res, 404, "Not Found", "text/plain");
    return 404;
  };

  /** Whether `Authorization` is the token: constant time over its bytes; only a length mismatch returns early. */
  const carriesToken = (req: IncomingMessage): boolean => {
    const given = req.headers.authorization;
    const givenBytes = typeof given === "string" ? Buffer.from(given) : undefined;
    return (
      expected !== undefined &&
      givenBytes !== undefined &&
      givenBytes.length === expected.length &&
      timingSafeEqual(givenBytes, expected)
    );
  };

  const route = (req: IncomingMessage, res: ServerResponse, path: string): [string, number] => {
    const credentialRoute =
      path === CONTAINER_CREDENTIALS_PATH || (deps.imds.enabled && path.startsWith("/latest/"));
    const anyHost = deps.remote === true && path === CONTAINER_CREDENTIALS_PATH;
    if (
      credentialRoute &&
      (isBrowserRequest(req) || (!anyHost && !isAllowedCredentialHost(req.headers.host, extraHosts)))
    ) {
      // DNS rebinding or a web page: SDKs send neither Origin nor a foreign Host.
      send(
        res,
        403,
        errorBody("Forbidden", "Credentials are served only to local SDKs (loopback Host, no browser)."),
      );
      return [path === CONTAINER_CREDENTIALS_PATH ? "credentials" : "imds", 403];
    }
    if (path === CONTAINER_CREDENTIALS_PATH) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        send(res, 405, "Method Not Allowed", "text/plain", ["allow", "GET"]);
        return ["credentials", 405];
      }
      if (!expected) {
        send(res, 404, errorBody("NotFound", "Container credentials are not enabled."));
        return ["credentials", 404];
      }
      if (!carriesToken(req)) {
        send(
          res,
          401,
          errorBody("Unauthorized", "The Authorization header does not carry the sidecar's token."),
        );
        return ["credentials", 401];
      }
      const c = credentialsOr503(res);
      if (!c) return ["credentials", 503];
      send(res, 200, containerBody(c));
      return ["credentials", 200];
    }
    if (path === "/healthz") {
      send(res, 200, '{"status":"ok"}');
      return ["healthz", 200];
    }
    if (path === "/readyz") {
      const c = deps.source.current();
      if (c) send(res, 200, JSON.stringify({ status: "ready", expiration: c.expiration.toISOString() }));
      else send(res, 503, errorBody("NotReady", "No valid credentials are held."));
      return ["readyz", c ? 200 : 503];
    }
    if (path === "/status") {
      // Bound beyond loopback, the role, account and last error are for this host or a token holder.
      const peer = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
      if (deps.remote === true && !isLoopbackHost(peer) && !carriesToken(req)) {
        send(
          res,
          401,
          errorBody("Unauthorized", "Remote clients need the token in Authorization for /status."),
        );
        return ["status", 401];
      }
      // What `iam-ra credentials status --server` shows; expiry only, never the credentials.
      const st = deps.source.status();
      send(
        res,
        200,
        JSON.stringify({
          ready: st.credentials !== undefined,
          credentials: st.credentials
            ? {
                expiration: st.credentials.expiration.toISOString(),
                obtainedAt: st.credentials.obtainedAt.toISOString(),
                roleArn: st.credentials.roleArn,
                accountId: st.credentials.accountId,
              }
            : null,
          certificate: st.certificate
            ? { ...st.certificate, notAfter: st.certificate.notAfter.toISOString() }
            : null,
          lastRefresh: st.lastRefresh ? { ...st.lastRefresh, at: st.lastRefresh.at.toISOString() } : null,
          nextRefreshAt: st.nextRefreshAt?.toISOString() ?? null,
        }),
      );
      return ["status", 200];
    }
    if (path === "/metrics") {
      // Gauges collect synchronously, so the registry's promise settles at once.
      void deps.metrics.registry
        .metrics()
        .then((text) => send(res, 200, text, deps.metrics.registry.contentType));
      return ["metrics", 200];
    }
    if (deps.imds.enabled && path.startsWith("/latest/")) return ["imds", imds(req, res, path)];
    send(res, 404, errorBody("NotFound", `No route for ${path}.`));
    return ["other", 404];
  };

  return (req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    let outcome: [string, number];
    try {
      outcome = route(req, res, path);
    } catch {
      if (!res.headersSent) send(res, 500, errorBody("InternalError", "The sidecar failed to answer."));
      outcome = ["error", 500];
    }
    deps.metrics.countRequest(outcome[0], outcome[1]);
  };
}
