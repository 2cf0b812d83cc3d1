import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, Socket } from "node:net";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { IamRaError, ServiceError } from "../src/errors.ts";
import { createSession, preconnectSession, resolveSessionRegion } from "../src/rolesanywhere/client.ts";
import { resolveEndpoint } from "../src/rolesanywhere/endpoint.ts";
import { createNodeTransport, type HttpTransport } from "../src/rolesanywhere/transport.ts";
import { createTestPki, startConnectProxy } from "../src/testing/index.ts";
import { parseCredentialMaterial } from "../src/x509/material.ts";
import { listenForTest } from "./helpers/loopback.ts";
import { makeTempDir, openssl, read } from "./helpers/openssl.ts";

const PARAMS = {
  trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/ta-1",
  profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/p-1",
  roleArn: "arn:aws:iam::123456789012:role/app",
};

const SUCCESS = JSON.stringify({
  credentialSet: [
    {
      credentials: {
        accessKeyId: "ASIATESTTESTTESTTEST",
        secretAccessKey: "secret",
        sessionToken: "token",
        expiration: "2030-01-01T00:00:00Z",
      },
      assumedRoleUser: { arn: "arn:aws:sts::123456789012:assumed-role/app/s", assumedRoleId: "AROA:s" },
      roleArn: PARAMS.roleArn,
    },
  ],
  subjectArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:subject/s-1",
});

async function material() {
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf();
  return parseCredentialMaterial({ certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem });
}

type Reply = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A loopback Roles Anywhere stand-in answering each request with the next scripted reply. */
async function scriptedServer(replies: Reply[]) {
  const seen: Array<{ url: string; headers: IncomingMessage["headers"]; body: string }> = [];
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    seen.push({ url: req.url ?? "", headers: req.headers, body });
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)];
    reply?.(req, res, body);
  });
  const port = await listenForTest(server);
  return { url: `http://127.0.0.1:${port}`, seen };
}

const status =
  (code: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (_req, res) => {
    res.writeHead(code, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
const ok = status(201, SUCCESS);
const dropConnection: Reply = (req) => req.socket.destroy();
const neverAnswer: Reply = () => {};

/** Records backoff delays instead of sleeping. */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe("endpoint resolution", () => {
  it.each([
    ["us-east-1", {}, "https://rolesanywhere.us-east-1.amazonaws.com"],
    ["eu-central-2", {}, "https://rolesanywhere.eu-central-2.amazonaws.com"],
    ["cn-north-1", {}, "https://rolesanywhere.cn-north-1.amazonaws.com.cn"],
    ["us-gov-west-1", {}, "https://rolesanywhere.us-gov-west-1.amazonaws.com"],
    ["us-iso-east-1", {}, "https://rolesanywhere.us-iso-east-1.c2s.ic.gov"],
    ["us-isob-east-1", {}, "https://rolesanywhere.us-isob-east-1.sc2s.sgov.gov"],
    ["eu-isoe-west-1", {}, "https://rolesanywhere.eu-isoe-west-1.cloud.adc-e.uk"],
    ["us-isof-south-1", {}, "https://rolesanywhere.us-isof-south-1.csp.hci.ic.gov"],
    ["us-east-1", { useFips: true }, "https://rolesanywhere-fips.us-east-1.amazonaws.com"],
    ["us-gov-west-1", { useFips: true }, "https://rolesanywhere-fips.us-gov-west-1.amazonaws.com"],
    ["fips-us-east-2", {}, "https://rolesanywhere-fips.us-east-2.amazonaws.com"],
    ["us-west-2-fips", {}, "https://rolesanywhere-fips.us-west-2.amazonaws.com"],
    ["us-east-1", { useDualStack: true }, "https://rolesanywhere.us-east-1.api.aws"],
    ["us-east-1", { useDualStack: true, useFips: true }, "https://rolesanywhere-fips.us-east-1.api.aws"],
    [
      "cn-northwest-1",
      { useDualStack: true },
      "https://rolesanywhere.cn-northwest-1.api.amazonwebservices.com.cn",
    ],
  ])("%s %j → %s", (region, extra, expected) => {
    const ep = resolveEndpoint({ region, ...extra });
    expect(ep.url.href.replace(/\/$/, "")).toBe(expected);
    // FIPS-style names are signed with the plain region, so the credential scope stays valid.
    expect(ep.signingRegion).toBe(region.replace(/^fips-|-fips$/g, ""));
  });

  it("a custom endpoint keeps its base path (without a trailing slash)", () => {
    const ep = resolveEndpoint({ region: "eu-west-1", endpoint: "https://proxy.example/ra/v1///" });
    expect(ep.url.href).toBe("https://proxy.example/ra/v1");
    expect(ep.signingRegion).toBe("eu-west-1");
  });

  it.each([
    [{ region: "not a region" }, "invalid-input"],
    [{ region: "us-east-1", endpoint: "ftp://x" }, "endpoint-invalid"],
    [{ region: "us-east-1", endpoint: "nope" }, "endpoint-invalid"],
    [{ region: "us-east-1", endpoint: "https://x/?a=1" }, "endpoint-invalid"],
    [{ region: "us-east-1", endpoint: "https://x", useFips: true }, "endpoint-invalid"],
    [{ region: "us-iso-east-1", useDualStack: true }, "endpoint-invalid"],
  ])("refuses %j with %s", (options, code) => {
    expect(() => resolveEndpoint(options)).toThrow(
      expect.objectContaining({ code, hint: expect.any(String) }),
    );
  });
});

describe("region", () => {
  it("comes from the trust anchor when not given, and an explicit one wins", () => {
    expect(resolveSessionRegion(PARAMS)).toBe("eu-west-1");
    expect(resolveSessionRegion(PARAMS, "eu-west-1")).toBe("eu-west-1");
  });

  it("a trust anchor and a profile in different regions are refused before any request", async () => {
    const server = await scriptedServer([ok]);
    const params = { ...PARAMS, profileArn: PARAMS.profileArn.replace("eu-west-1", "us-east-1") };
    const error = await createSession(await material(), params, { endpoint: server.url }).catch((e) => e);
    expect(error).toBeInstanceOf(IamRaError);
    expect(error).toMatchObject({
      code: "region-mismatch",
      message: expect.stringMatching(/eu-west-1.*us-east-1/),
    });
    expect(server.seen).toHaveLength(0);
  });

  it("the request is signed for the trust anchor's region", async () => {
    const server = await scriptedServer([ok]);
    await createSession(await material(), PARAMS, { endpoint: server.url });
    expect(server.seen[0]?.headers.authorization).toMatch(/\/eu-west-1\/rolesanywhere\/aws4_request/);
  });

  it("malformed ARNs and durations are refused before any request", async () => {
    const server = await scriptedServer([ok]);
    const m = await material();
    for (const bad of [
      { ...PARAMS, roleArn: "arn:aws:iam::123:role/x" },
      { ...PARAMS, trustAnchorArn: "trust-anchor/1" },
      { ...PARAMS, durationSeconds: 899 },
      { ...PARAMS, durationSeconds: 43201 },
    ]) {
      await expect(createSession(m, bad, { endpoint: server.url })).rejects.toBeInstanceOf(IamRaError);
    }
    expect(server.seen).toHaveLength(0);
  });
});

describe("retries", () => {
  it("retries 500, 503 and 429, then succeeds; each attempt is signed afresh", async () => {
    const server = await scriptedServer([
      status(500, { message: "internal" }),
      status(503, "<html>busy</html>"),
      status(429, { message: "Rate exceeded" }, { "x-amzn-errortype": "ThrottlingException" }),
      ok,
    ]);
    const { sleep, delays } = recordingSleep();
    let t = Date.parse("2030-01-01T00:00:00Z");
    const clock = {
      now: () => {
        t += 1000;
        return new Date(t);
      },
    };
    const result = await createSession(await material(), PARAMS, {
      endpoint: server.url,
      maxAttempts: 4,
      sleep,
      clock,
      random: () => 0.999999,
    });
    expect(result.credentials.accessKeyId).toBe("ASIATESTTESTTESTTEST");
    expect(server.seen).toHaveLength(4);
    const dates = server.seen.map((r) => r.headers["x-amz-date"]);
    expect(new Set(dates).size).toBe(4);
    // Full jitter: each delay is random × min(cap, base × 2^attempt); with random → 1 it is the ceiling.
    expect(delays).toEqual([199, 399, 799]);
  });

  it("only network failures are retried: a request the HTTP stack refuses fails at once, as it is", async () => {
    const { sleep, delays } = recordingSleep();
    let calls = 0;
    // A fake transport (not a mock of ours): what node:http throws for a header it refuses.
    const refusing: HttpTransport = async () => {
      calls++;
      throw new TypeError('Invalid character in header content ["x-amz-date"]');
    };
    await expect(
      createSession(await material(), PARAMS, {
        endpoint: "https://rolesanywhere.us-east-1.amazonaws.com",
        transport: refusing,
        maxAttempts: 5,
        sleep,
      }),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it("full jitter: delays stay within [0, base × 2^attempt) and grow no further than the 20 s cap", async () => {
    const server = await scriptedServer([status(503, {})]);
    const { sleep, delays } = recordingSleep();
    const error = await createSession(await material(), PARAMS, {
      endpoint: server.url,
      maxAttempts: 12,
      retryBaseMs: 100,
      sleep,
      random: () => 0.5,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: "service-unavailable", retryable: true, statusCode: 503 });
    expect(server.seen).toHaveLength(12);
    expect(delays).toHaveLength(11);
    delays.forEach((d, i) => {
      expect(d).toBe(Math.floor(0.5 * Math.min(20_000, 100 * 2 ** (i + 1))));
    });
    expect(Math.max(...delays)).toBe(10_000);
  });

  it("a ThrottlingException answered with 400 is retried", async () => {
    const server = await scriptedServer([
      status(400, { message: "slow down" }, { "x-amzn-errortype": "ThrottlingException:http://internal" }),
      ok,
    ]);
    const { sleep } = recordingSleep();
    await expect(
      createSession(await material(), PARAMS, { endpoint: server.url, sleep }),
    ).resolves.toBeDefined();
    expect(server.seen).toHaveLength(2);
  });

  it.each([
    [400, "ValidationException", "bad", "invalid-input"],
    [403, "AccessDeniedException", "Untrusted Signing Certificate", "untrusted-certificate"],
    [403, "AccessDeniedException", "Invalid signature", "invalid-signature"],
    [404, "ResourceNotFoundException", "Profile not found", "not-found"],
  ])("does not retry %i %s", async (code, type, message, expected) => {
    const server = await scriptedServer([status(code, { message }, { "x-amzn-errortype": type }), ok]);
    const { sleep, delays } = recordingSleep();
    const error = await createSession(await material(), PARAMS, { endpoint: server.url, sleep }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: expected, statusCode: code, errorType: type, retryable: false });
    expect(error.hint).toEqual(expect.any(String));
    expect(server.seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("a dropped connection is retried", async () => {
    const server = await scriptedServer([dropConnection, ok]);
    const { sleep } = recordingSleep();
    await expect(
      createSession(await material(), PARAMS, { endpoint: server.url, sleep }),
    ).resolves.toBeDefined();
    expect(server.seen).toHaveLength(2);
  });

  it("a refused connection fails as a network error after every attempt", async () => {
    const probe = createNetServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as { port: number };
    probe.close();
    const { sleep, delays } = recordingSleep();
    const error = await createSession(await material(), PARAMS, {
      endpoint: `http://127.0.0.1:${port}`,
      sleep,
      maxAttempts: 3,
    }).catch((e) => e);
    expect(error).toMatchObject({
      code: "network",
      retryable: true,
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
    expect(delays).toHaveLength(2);
  });

  it("a malformed success body is an internal error, not a crash", async () => {
    const server = await scriptedServer([status(201, { credentialSet: [] })]);
    await expect(createSession(await material(), PARAMS, { endpoint: server.url })).rejects.toMatchObject({
      code: "internal",
    });
  });
});

describe("timeouts and cancellation", () => {
  it("an endpoint that never answers times out per attempt", async () => {
    const server = await scriptedServer([neverAnswer]);
    const { sleep } = recordingSleep();
    const started = Date.now();
    const error = await createSession(await material(), PARAMS, {
      endpoint: server.url,
      timeoutMs: 150,
      maxAttempts: 2,
      sleep,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: "timeout", retryable: true });
    expect(server.seen).toHaveLength(2);
    // Generous bound: only proves the timeout fired instead of waiting for the server.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("an abort during the backoff stops at once", async () => {
    const server = await scriptedServer([status(503, {})]);
    const controller = new AbortController();
    const promise = createSession(await material(), PARAMS, {
      endpoint: server.url,
      maxAttempts: 5,
      retryBaseMs: 60_000,
      random: () => 0.99,
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error("stopped by test"));
    await expect(promise).rejects.toThrow("stopped by test");
    expect(server.seen).toHaveLength(1);
  });
});

/** A CONNECT proxy on loopback, closed when the test ends. */
async function connectProxy() {
  const proxy = await startConnectProxy();
  onTestFinished(proxy.close);
  return proxy;
}

/** An HTTPS Roles Anywhere stand-in whose certificate is made by openssl for 127.0.0.1. */
async function tlsServer() {
  const { dir, cleanup } = makeTempDir();
  onTestFinished(cleanup);
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "key.pem",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  const cert = read(dir, "cert.pem").toString();
  let requests = 0;
  let connections = 0;
  const server = createHttpsServer({ cert, key: read(dir, "key.pem") }, (req, res) => {
    requests++;
    req.resume();
    req.on("end", () => ok(req, res, ""));
  });
  let clientErrors = 0;
  server.on("connection", () => connections++);
  server.on("tlsClientError", () => clientErrors++);
  const port = await listenForTest(server);
  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    requests: () => requests,
    /** TCP connections accepted so far. */
    connections: () => connections,
    /** Handshakes that failed (a client refusing the certificate). */
    clientErrors: () => clientErrors,
    /** Resolves once the server has completed `n` TLS handshakes in all. */
    handshakes: handshakeCounter(server),
  };
}

function handshakeCounter(server: import("node:tls").Server) {
  let done = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  server.on("secureConnection", () => {
    done++;
    for (const w of waiters.filter((w) => w.n <= done)) w.resolve();
  });
  return (n: number) =>
    new Promise<void>((resolve) => (done >= n ? resolve() : waiters.push({ n, resolve })));
}

describe("transport: TLS and proxies", () => {
  it("HTTPS with a custom CA bundle; without it the certificate is refused", async () => {
    const tls = await tlsServer();
    const m = await material();
    await expect(
      createSession(m, PARAMS, { endpoint: tls.url, transport: createNodeTransport({ ca: tls.ca }) }),
    ).resolves.toMatchObject({ accountId: "123456789012" });
    const { sleep } = recordingSleep();
    await expect(
      createSession(m, PARAMS, {
        endpoint: tls.url,
        transport: createNodeTransport(),
        sleep,
        maxAttempts: 1,
      }),
    ).rejects.toMatchObject({ code: "network", message: expect.stringMatching(/self.signed|certificate/i) });
    expect(tls.requests()).toBe(1);
  });

  it("HTTPS_PROXY tunnels through CONNECT; NO_PROXY bypasses it", async () => {
    const tls = await tlsServer();
    const proxy = await connectProxy();
    const m = await material();
    const host = new URL(tls.url).host;
    const viaProxy = createNodeTransport({ ca: tls.ca, proxyEnv: { HTTPS_PROXY: proxy.url } });
    await createSession(m, PARAMS, { endpoint: tls.url, transport: viaProxy });
    expect(proxy.tunnels).toEqual([host]);

    for (const noProxy of ["127.0.0.1", "*", `localhost, 127.0.0.1:${new URL(tls.url).port}`]) {
      const bypass = createNodeTransport({
        ca: tls.ca,
        proxyEnv: { https_proxy: proxy.url, no_proxy: noProxy },
      });
      await createSession(m, PARAMS, { endpoint: tls.url, transport: bypass });
    }
    expect(proxy.tunnels).toHaveLength(1);
    // A NO_PROXY entry for another port does not bypass.
    const otherPort = createNodeTransport({
      ca: tls.ca,
      proxyEnv: { HTTPS_PROXY: proxy.url, NO_PROXY: "127.0.0.1:1" },
    });
    await createSession(m, PARAMS, { endpoint: tls.url, transport: otherPort });
    expect(proxy.tunnels).toHaveLength(2);
    expect(tls.requests()).toBe(5);
  });

  it("a proxy without a scheme is read as http://; one that is not a URL is refused by name, value unshown", async () => {
    const server = await scriptedServer([ok]);
    const proxy = await connectProxy();
    const m = await material();
    const hostPort = new URL(proxy.url).host;
    await createSession(m, PARAMS, {
      endpoint: server.url,
      transport: createNodeTransport({ proxyEnv: { http_proxy: hostPort } }),
    });
    expect(proxy.tunnels).toEqual([new URL(server.url).host]);

    for (const bad of ["http://user:s3cret@[bad", "socks5://user:s3cret@127.0.0.1:1080"]) {
      const error = await createSession(m, PARAMS, {
        endpoint: server.url,
        transport: createNodeTransport({ proxyEnv: { HTTP_PROXY: bad } }),
        maxAttempts: 3,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IamRaError);
      expect(error).toMatchObject({
        code: "invalid-input",
        message: "HTTP_PROXY is not a usable proxy URL.",
      });
      expect(JSON.stringify({ ...(error as IamRaError), message: (error as Error).message })).not.toContain(
        "s3cret",
      );
    }
    // An empty HTTP_PROXY turns the proxy off, even with ALL_PROXY set.
    await createSession(m, PARAMS, {
      endpoint: server.url,
      transport: createNodeTransport({ proxyEnv: { HTTP_PROXY: "", ALL_PROXY: "http://user:s3cret@[bad" } }),
    });
    expect(proxy.tunnels).toHaveLength(1);
  });

  it("HTTP_PROXY is used for an http endpoint, and an unreachable proxy is a network error", async () => {
    const server = await scriptedServer([ok]);
    const proxy = await connectProxy();
    const m = await material();
    await createSession(m, PARAMS, {
      endpoint: server.url,
      transport: createNodeTransport({ proxyEnv: { HTTP_PROXY: proxy.url } }),
    });
    expect(proxy.tunnels).toEqual([new URL(server.url).host]);
    expect(server.seen).toHaveLength(1);
    const { sleep } = recordingSleep();
    await expect(
      createSession(m, PARAMS, {
        endpoint: server.url,
        transport: createNodeTransport({ proxyEnv: { HTTP_PROXY: "http://127.0.0.1:1" } }),
        sleep,
        maxAttempts: 1,
      }),
    ).rejects.toMatchObject({ code: "network" });
  });
});

describe("transport: preconnect", () => {
  it("a preconnected TLS connection carries the next request to its origin, once", async () => {
    const tls = await tlsServer();
    const m = await material();
    const transport = createNodeTransport({ ca: tls.ca });
    transport.preconnect(new URL(tls.url));
    transport.preconnect(new URL(`${tls.url}/another/path`));
    // Both handshakes finish before anything is signed or sent.
    await tls.handshakes(2);
    expect(tls.requests()).toBe(0);
    await createSession(m, PARAMS, { endpoint: tls.url, transport });
    await createSession(m, PARAMS, { endpoint: tls.url, transport });
    expect([tls.requests(), tls.connections()]).toEqual([2, 2]);
    // The pool is empty now: the third request connects as usual.
    await createSession(m, PARAMS, { endpoint: tls.url, transport });
    expect([tls.requests(), tls.connections()]).toEqual([3, 3]);
  });

  it("preconnectSession opens the connection createSession then uses; bad arguments are left to createSession", async () => {
    const tls = await tlsServer();
    const m = await material();
    const transport = createNodeTransport({ ca: tls.ca });
    preconnectSession(PARAMS, { endpoint: tls.url, transport });
    await tls.handshakes(1);
    await createSession(m, PARAMS, { endpoint: tls.url, transport });
    expect([tls.requests(), tls.connections()]).toEqual([1, 1]);
    const bad = { ...PARAMS, trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:nope" };
    expect(() => preconnectSession(bad, { endpoint: tls.url, transport })).not.toThrow();
    const plain: HttpTransport = async () => ({ statusCode: 500, headers: {}, body: "" });
    expect(() => preconnectSession(PARAMS, { endpoint: tls.url, transport: plain })).not.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(tls.connections()).toBe(1);
  });

  it("a preconnection that fails is dropped, and the request reports the failure itself", async () => {
    const tls = await tlsServer();
    const m = await material();
    // No CA: the warm connection fails its certificate check, and so does the request.
    const transport = createNodeTransport();
    transport.preconnect(new URL(tls.url));
    await vi.waitFor(() => expect(tls.clientErrors()).toBe(1));
    const { sleep } = recordingSleep();
    await expect(
      createSession(m, PARAMS, { endpoint: tls.url, transport, sleep, maxAttempts: 1 }),
    ).rejects.toMatchObject({ code: "network", message: expect.stringMatching(/self.signed|certificate/i) });
    expect(tls.connections()).toBe(2);
    // Nothing listens on port 1: no crash, no unhandled error, the request says what happened.
    const refused = createNodeTransport();
    refused.preconnect(new URL("http://127.0.0.1:1"));
    await new Promise((r) => setTimeout(r, 50));
    await expect(
      createSession(m, PARAMS, { endpoint: "http://127.0.0.1:1", transport: refused, sleep, maxAttempts: 1 }),
    ).rejects.toMatchObject({ code: "network", message: expect.stringContaining("ECONNREFUSED") });
  });

  it("a connection the server closed before the request is not used", async () => {
    let connections = 0;
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on("end", () => ok(req, res, ""));
    });
    // The first connection is closed at once, the way an idle timeout would close it.
    server.on("connection", (socket) => {
      if (++connections === 1) socket.destroy();
    });
    const url = `http://127.0.0.1:${await listenForTest(server)}`;
    const transport = createNodeTransport();
    transport.preconnect(new URL(url));
    await vi.waitFor(() => expect(connections).toBe(1));
    // Time for the client to read the server's FIN.
    await new Promise((r) => setTimeout(r, 200));
    const m = await material();
    await expect(
      createSession(m, PARAMS, { endpoint: url, transport, maxAttempts: 1 }),
    ).resolves.toMatchObject({
      accountId: "123456789012",
    });
    expect(connections).toBe(2);
  });

  it("a request on a preconnected socket still times out as a timeout", async () => {
    const server = await scriptedServer([neverAnswer]);
    const transport = createNodeTransport();
    transport.preconnect(new URL(server.url));
    const { sleep } = recordingSleep();
    const error = await createSession(await material(), PARAMS, {
      endpoint: server.url,
      transport,
      timeoutMs: 150,
      maxAttempts: 1,
      sleep,
    }).catch((e) => e);
    expect(error).toMatchObject({ code: "timeout" });
    expect(server.seen).toHaveLength(1);
  });

  it("a request http refuses before sending closes the preconnected socket", async () => {
    let [opened, closed] = [0, 0];
    const server = createHttpServer(() => {});
    server.on("connection", (socket) => {
      opened++;
      socket.on("close", () => closed++);
    });
    const url = new URL(`http://127.0.0.1:${await listenForTest(server)}/`);
    const transport = createNodeTransport();
    transport.preconnect(url);
    await vi.waitFor(() => expect(opened).toBe(1));
    const request = { method: "POST", url, body: "", timeoutMs: 1000 };
    await expect(transport({ ...request, headers: { "x-bad": "a\nb" } })).rejects.toMatchObject({
      code: "ERR_INVALID_CHAR",
    });
    await vi.waitFor(() => expect(closed).toBe(1));
  });

  it("opens nothing when a proxy applies; the request still goes through the proxy", async () => {
    const tls = await tlsServer();
    const proxy = await connectProxy();
    const m = await material();
    const transport = createNodeTransport({ ca: tls.ca, proxyEnv: { HTTPS_PROXY: proxy.url } });
    transport.preconnect(new URL(tls.url));
    await new Promise((r) => setTimeout(r, 50));
    expect([tls.connections(), proxy.tunnels.length]).toEqual([0, 0]);
    await createSession(m, PARAMS, { endpoint: tls.url, transport });
    expect([tls.connections(), proxy.tunnels.length]).toEqual([1, 1]);
  });

  it("an unused preconnection does not keep the process alive", async () => {
    const tls = await tlsServer();
    const port = Number(new URL(tls.url).port);
    // The handles that keep the event loop running, client side: sockets whose peer is the server.
    const clientSockets = () =>
      (process as unknown as { _getActiveHandles(): unknown[] })
        ._getActiveHandles()
        .filter((h) => h instanceof Socket && h.remotePort === port);
    const transport = createNodeTransport({ ca: tls.ca });
    transport.preconnect(new URL(tls.url));
    await tls.handshakes(1);
    // Connected, and the server holds the connection open, yet it does not count.
    expect(clientSockets()).toEqual([]);
    // Once a request takes it, it does, until the response is in.
    const m = await material();
    const session = createSession(m, PARAMS, { endpoint: tls.url, transport });
    expect(clientSockets()).toHaveLength(1);
    await session;
    expect(tls.connections()).toBe(1);
  });
});
