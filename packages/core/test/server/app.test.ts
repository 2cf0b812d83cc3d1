import { once } from "node:events";
import { createServer, request } from "node:http";
import { FixedClock } from "@iam-ra/core/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { type AppDeps, createApp } from "../../src/server/app.ts";
import type { CredentialSourceStatus, HeldCredentials } from "../../src/server/credential-source.ts";
import { createMetrics } from "../../src/server/metrics.ts";

const TOKEN = "a-token-of-some-length-0123456789";

/** A hand-written source holding whatever the test sets. */
function fakeSource(clock: FixedClock) {
  let held: HeldCredentials | undefined;
  let lastRefresh: CredentialSourceStatus["lastRefresh"];
  return {
    set(c: HeldCredentials | undefined, last?: CredentialSourceStatus["lastRefresh"]) {
      held = c;
      lastRefresh = last;
    },
    current: () => (held && held.expiration > clock.now() ? held : undefined),
    status: (): CredentialSourceStatus => ({
      credentials: held && held.expiration > clock.now() ? held : undefined,
      certificate: {
        subject: "CN=app",
        serialNumber: "42",
        notAfter: new Date("2027-01-01T00:00:00Z"),
        fingerprint: "AB",
      },
      lastRefresh,
      nextRefreshAt: undefined,
    }),
  };
}

const CREDS: HeldCredentials = {
  accessKeyId: "ASIAEXAMPLEEXAMPLE01",
  secretAccessKey: "secret/with+chars",
  sessionToken: "session-token",
  expiration: new Date("2026-11-22T13:00:00Z"),
  accountId: "123456789012",
  roleArn: "arn:aws:iam::123456789012:role/app",
  obtainedAt: new Date("2026-11-22T12:00:00Z"),
};

async function serve(overrides: Partial<AppDeps> = {}) {
  const clock = new FixedClock("2026-11-22T12:05:00Z");
  const source = fakeSource(clock);
  source.set(CREDS);
  const metrics = createMetrics(() => source.status());
  const handler = createApp({
    source,
    metrics,
    clock,
    authorizationToken: TOKEN,
    imds: { enabled: true, roleName: "app", region: "eu-west-1" },
    ...overrides,
  });
  const server = createServer(handler).listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}${path}`, init);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const imdsToken = async (ttl = "60") =>
    (
      await call("/latest/api/token", {
        method: "PUT",
        headers: { "x-aws-ec2-metadata-token-ttl-seconds": ttl },
      })
    ).text;
  /** A request through node:http, which sends a Host header as given (fetch refuses to). */
  const raw = (path: string, headers: Record<string, string>, method = "GET") =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${url}${path}`, { method, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
  return { clock, source, call, imdsToken, raw };
}

describe("container credentials", () => {
  it("answers the SDK document only to the right Authorization token", async () => {
    const s = await serve();
    expect((await s.call("/v1/credentials")).status).toBe(401);
    expect((await s.call("/v1/credentials", { headers: { authorization: `${TOKEN}x` } })).status).toBe(401);
    expect((await s.call("/v1/credentials", { headers: { authorization: TOKEN.slice(1) } })).status).toBe(
      401,
    );
    const ok = await s.call("/v1/credentials?x=1", { headers: { authorization: TOKEN } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(JSON.parse(ok.text)).toEqual({
      AccessKeyId: CREDS.accessKeyId,
      SecretAccessKey: CREDS.secretAccessKey,
      Token: CREDS.sessionToken,
      Expiration: "2026-11-22T13:00:00.000Z",
      AccountId: "123456789012",
    });
  });

  it("without valid credentials: 503 with a JSON reason, never an empty 200", async () => {
    const s = await serve();
    s.source.set(undefined, { at: new Date(), ok: false, error: "CreateSession failed (HTTP 403)" });
    const r = await s.call("/v1/credentials", { headers: { authorization: TOKEN } });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toEqual({
      code: "CredentialsUnavailable",
      message: expect.stringContaining("CreateSession failed (HTTP 403)"),
    });
    // Held but expired is the same as none.
    s.source.set(CREDS);
    s.clock.set("2026-11-22T13:00:01Z");
    expect((await s.call("/v1/credentials", { headers: { authorization: TOKEN } })).status).toBe(503);
  });

  it("is off when no token is configured", async () => {
    const s = await serve({ authorizationToken: undefined });
    expect((await s.call("/v1/credentials", { headers: { authorization: TOKEN } })).status).toBe(404);
  });
});

describe("IMDSv2", () => {
  it("token: PUT only, TTL 1–21600 required, X-Forwarded-For refused", async () => {
    const s = await serve();
    const put = (headers: Record<string, string>) => s.call("/latest/api/token", { method: "PUT", headers });
    for (const ttl of ["0", "21601", "abc", "-5", "1.5"])
      expect((await put({ "x-aws-ec2-metadata-token-ttl-seconds": ttl })).status).toBe(400);
    expect((await put({})).status).toBe(400);
    expect(
      (await put({ "x-aws-ec2-metadata-token-ttl-seconds": "60", "x-forwarded-for": "10.0.0.1" })).status,
    ).toBe(403);
    expect((await s.call("/latest/api/token")).status).toBe(405);
    const ok = await put({ "x-aws-ec2-metadata-token-ttl-seconds": "21600" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-aws-ec2-metadata-token-ttl-seconds")).toBe("21600");
    expect(ok.text).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("IMDSv1 (no token), unknown and expired tokens are refused", async () => {
    const s = await serve();
    const path = "/latest/meta-data/iam/security-credentials/app";
    expect((await s.call(path)).status).toBe(401);
    expect((await s.call(path, { headers: { "x-aws-ec2-metadata-token": "made-up" } })).status).toBe(401);
    const token = await s.imdsToken("60");
    expect((await s.call(path, { headers: { "x-aws-ec2-metadata-token": token } })).status).toBe(200);
    s.clock.advance(60_000);
    expect((await s.call(path, { headers: { "x-aws-ec2-metadata-token": token } })).status).toBe(401);
  });

  it("serves the role list, the credentials (plain and extended), and the region", async () => {
    const s = await serve();
    const h = { headers: { "x-aws-ec2-metadata-token": await s.imdsToken() } };
    expect((await s.call("/latest/meta-data/iam/security-credentials/", h)).text).toBe("app");
    expect((await s.call("/latest/meta-data/iam/security-credentials", h)).text).toBe("app");
    const doc = JSON.parse((await s.call("/latest/meta-data/iam/security-credentials/app", h)).text);
    expect(doc).toEqual({
      Code: "Success",
      LastUpdated: "2026-11-22T12:00:00.000Z",
      Type: "AWS-HMAC",
      AccessKeyId: CREDS.accessKeyId,
      SecretAccessKey: CREDS.secretAccessKey,
      Token: CREDS.sessionToken,
      Expiration: "2026-11-22T13:00:00.000Z",
    });
    const extended = JSON.parse(
      (await s.call("/latest/meta-data/iam/security-credentials-extended/app", h)).text,
    );
    expect(extended.AccountId).toBe("123456789012");
    expect((await s.call("/latest/meta-data/iam/security-credentials/other", h)).status).toBe(404);
    expect((await s.call("/latest/meta-data/placement/region", h)).text).toBe("eu-west-1");
    expect((await s.call("/latest/meta-data/placement/availability-zone/", h)).text).toBe("eu-west-1a");
    expect((await s.call("/latest/meta-data/ami-id", h)).status).toBe(404);
    s.source.set(undefined);
    expect((await s.call("/latest/meta-data/iam/security-credentials/app", h)).status).toBe(503);
  });

  it("is off unless enabled", async () => {
    const s = await serve({ imds: { enabled: false, roleName: "app", region: "eu-west-1" } });
    const r = await s.call("/latest/api/token", {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    });
    expect(r.status).toBe(404);
  });
});

describe("health, readiness, metrics", () => {
  it("healthz always, readyz only with valid credentials", async () => {
    const s = await serve();
    expect((await s.call("/healthz")).status).toBe(200);
    expect((await s.call("/readyz")).status).toBe(200);
    s.source.set(undefined);
    expect((await s.call("/healthz")).status).toBe(200);
    expect((await s.call("/readyz")).status).toBe(503);
  });

  it("exposes Prometheus metrics, and no secret", async () => {
    const s = await serve();
    await s.call("/v1/credentials", { headers: { authorization: TOKEN } });
    await s.call("/v1/credentials");
    const r = await s.call("/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain('iam_ra_http_requests_total{route="credentials",status="200"} 1');
    expect(r.text).toContain('iam_ra_http_requests_total{route="credentials",status="401"} 1');
    expect(r.text).toContain(`iam_ra_credentials_expiration_seconds ${CREDS.expiration.getTime() / 1000}`);
    expect(r.text).toContain("iam_ra_certificate_not_after_seconds 1798761600");
    expect(r.text).toContain("iam_ra_credentials_valid 1");
    expect(r.text).toContain('iam_ra_refresh_total{result="failure"} 0');
    expect(r.text).toContain("# TYPE iam_ra_create_session_duration_seconds histogram");
    for (const secret of [CREDS.secretAccessKey, CREDS.sessionToken, TOKEN])
      expect(r.text).not.toContain(secret);
  });

  it("/status reports expiry, certificate and the last refresh, without secrets", async () => {
    const s = await serve();
    s.source.set(CREDS, { at: new Date("2026-11-22T12:00:00Z"), ok: true });
    const r = await s.call("/status");
    expect(JSON.parse(r.text)).toEqual({
      ready: true,
      credentials: {
        expiration: "2026-11-22T13:00:00.000Z",
        obtainedAt: "2026-11-22T12:00:00.000Z",
        roleArn: CREDS.roleArn,
        accountId: "123456789012",
      },
      certificate: {
        subject: "CN=app",
        serialNumber: "42",
        notAfter: "2027-01-01T00:00:00.000Z",
        fingerprint: "AB",
      },
      lastRefresh: { at: "2026-11-22T12:00:00.000Z", ok: true },
      nextRefreshAt: null,
    });
    for (const secret of [CREDS.secretAccessKey, CREDS.sessionToken, CREDS.accessKeyId])
      expect(r.text).not.toContain(secret);
  });

  it("unknown paths are 404 JSON", async () => {
    const s = await serve();
    const r = await s.call("/nope");
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).code).toBe("NotFound");
  });
});

describe("hostile local peers", () => {
  it("a DNS-rebound page gets nothing: a foreign Host or a browser's headers are refused", async () => {
    const s = await serve();
    const token = await s.imdsToken();
    const creds = "/latest/meta-data/iam/security-credentials/app";
    const ok = await s.call(creds, { headers: { "x-aws-ec2-metadata-token": token } });
    expect(ok.status).toBe(200);
    // A browser sets Host to the page's own (rebound) name, and adds Origin / Sec-Fetch-Site.
    for (const extra of [
      { host: "attacker.example:9911" },
      { host: "127.0.0.1", origin: "http://attacker.example" },
      { host: "127.0.0.1", "sec-fetch-site": "same-origin" },
    ]) {
      const put = { "x-aws-ec2-metadata-token-ttl-seconds": "60", ...extra };
      expect(await s.raw("/latest/api/token", put, "PUT")).toBe(403);
      expect(await s.raw(creds, { "x-aws-ec2-metadata-token": token, ...extra })).toBe(403);
      expect(await s.raw("/v1/credentials", { authorization: TOKEN, ...extra })).toBe(403);
    }
    for (const host of ["localhost:1", "127.0.0.1", "[::1]:80", "169.254.169.254"]) {
      expect(await s.raw(creds, { "x-aws-ec2-metadata-token": token, host })).toBe(200);
    }
  });

  it("a flood of IMDS token requests evicts nothing; forged or altered tokens fail", async () => {
    const s = await serve();
    const first = await s.imdsToken("21600");
    for (let i = 0; i < 12_000; i += 200) {
      await Promise.all(Array.from({ length: 200 }, () => s.imdsToken("21600")));
    }
    const creds = "/latest/meta-data/iam/security-credentials/app";
    expect((await s.call(creds, { headers: { "x-aws-ec2-metadata-token": first } })).status).toBe(200);
    const bytes = Buffer.from(first, "base64url");
    bytes[5] = (bytes[5]! + 1) % 256; // a later expiry, same MAC
    const altered = bytes.toString("base64url");
    expect((await s.call(creds, { headers: { "x-aws-ec2-metadata-token": altered } })).status).toBe(401);
    const forged = Buffer.alloc(32, 0xff).toString("base64url");
    expect((await s.call(creds, { headers: { "x-aws-ec2-metadata-token": forged } })).status).toBe(401);
  });
});
