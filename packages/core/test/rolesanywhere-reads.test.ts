import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { expect, test } from "vitest";
import { createRolesAnywhereReader } from "../src/admin/rolesanywhere-reads.ts";
import { IamRaError, ServiceError } from "../src/errors.ts";
import { parseAuthorization } from "../src/sigv4/canonical.ts";
import { listenForTest } from "./helpers/loopback.ts";

const NOW = new Date("2026-01-02T03:04:05Z");
const ANCHOR =
  "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6";
const PROFILE = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/11111111-2222-3333-4444-555555555555";

type Answer = { status: number; body: string; headers?: Record<string, string> };

/** A Roles Anywhere on loopback answering with `answers` in turn (the last one repeated); returns its URL. */
async function fakeRolesAnywhere(answers: Answer[], seen: IncomingMessage[] = []): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(answer.body);
  });
  return `http://127.0.0.1:${await listenForTest(server)}/base`;
}

const reader = (endpoint: string, sessionToken?: string) =>
  createRolesAnywhereReader({
    region: "eu-west-1",
    endpoint,
    credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken }),
    clock: { now: () => NOW },
    retryBaseMs: 1,
  });

test("GetTrustAnchor: a signed GET under the endpoint's path, the answer's fields read", async () => {
  const seen: IncomingMessage[] = [];
  const url = await fakeRolesAnywhere(
    [
      {
        status: 200,
        body: JSON.stringify({
          trustAnchor: {
            enabled: true,
            name: "ignored",
            source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: "PEM" } },
          },
        }),
      },
    ],
    seen,
  );
  await expect(reader(url, "tok").trustAnchor(ANCHOR)).resolves.toEqual({
    enabled: true,
    sourceType: "CERTIFICATE_BUNDLE",
    certificatePem: "PEM",
    pcaArn: undefined,
  });
  expect(seen[0]!.method).toBe("GET");
  expect(seen[0]!.url).toBe("/base/trustanchor/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6");
  expect(seen[0]!.headers["x-amz-security-token"]).toBe("tok");
  expect(seen[0]!.headers["x-amz-date"]).toBe("20260102T030405Z");
  expect(parseAuthorization(String(seen[0]!.headers.authorization))).toMatchObject({
    algorithm: "AWS4-HMAC-SHA256",
    credentialId: "AKIDEXAMPLE",
    region: "eu-west-1",
    service: "rolesanywhere",
    signedHeaders: ["host", "x-amz-date", "x-amz-security-token"],
  });
});

test("GetProfile: its fields, with AWS's defaults for what the answer leaves out", async () => {
  const seen: IncomingMessage[] = [];
  const url = await fakeRolesAnywhere(
    [{ status: 200, body: JSON.stringify({ profile: { enabled: true } }) }],
    seen,
  );
  await expect(reader(url).profile(PROFILE)).resolves.toEqual({
    enabled: true,
    roleArns: [],
    durationSeconds: 3600,
  });
  expect(seen[0]!.url).toBe("/base/profile/11111111-2222-3333-4444-555555555555");
  expect(seen[0]!.headers).not.toHaveProperty("x-amz-security-token");
});

test("ResourceNotFoundException reads as no such resource; a 404 from something else is an error", async () => {
  const missing = await fakeRolesAnywhere([
    {
      status: 404,
      body: JSON.stringify({ message: "not found" }),
      headers: { "x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/" },
    },
  ]);
  await expect(reader(missing).profile(PROFILE)).resolves.toBeUndefined();
  const elsewhere = await fakeRolesAnywhere([{ status: 404, body: "<html>no</html>" }]);
  await expect(reader(elsewhere).profile(PROFILE)).rejects.toMatchObject({
    code: "endpoint-invalid",
    message: "Roles Anywhere GetProfile failed (HTTP 404): <html>no</html>",
  });
});

test("AccessDenied names the permission the admin lacks, and is not retried", async () => {
  const seen: IncomingMessage[] = [];
  const url = await fakeRolesAnywhere(
    [
      {
        status: 403,
        body: JSON.stringify({ message: "User is not authorized\u001b[31m" }),
        headers: { "x-amzn-errortype": "AccessDeniedException", "x-amzn-requestid": "r-1" },
      },
    ],
    seen,
  );
  const error = await reader(url)
    .trustAnchor(ANCHOR)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ServiceError);
  expect(error).toMatchObject({
    code: "access-denied",
    errorType: "AccessDeniedException",
    requestId: "r-1",
    retryable: false,
    // The peer's escape sequence does not reach a terminal.
    message: "Roles Anywhere GetTrustAnchor failed (HTTP 403 AccessDeniedException): User is not authorized",
    hint: "The admin credentials need rolesanywhere:GetTrustAnchor.",
  });
  expect(seen).toHaveLength(1);
});

test("throttling and 5xx are retried; the answer after them counts", async () => {
  const seen: IncomingMessage[] = [];
  const url = await fakeRolesAnywhere(
    [
      { status: 429, body: "{}", headers: { "x-amzn-errortype": "ThrottlingException" } },
      { status: 503, body: "down" },
      {
        status: 200,
        body: JSON.stringify({ profile: { enabled: false, roleArns: ["r"], durationSeconds: 900 } }),
      },
    ],
    seen,
  );
  await expect(reader(url).profile(PROFILE)).resolves.toEqual({
    enabled: false,
    roleArns: ["r"],
    durationSeconds: 900,
  });
  expect(seen).toHaveLength(3);
  const failing = await fakeRolesAnywhere([{ status: 500, body: "boom" }]);
  await expect(reader(failing).profile(PROFILE)).rejects.toMatchObject({
    code: "service-unavailable",
    retryable: true,
  });
});

test("an answer that is not the operation's JSON is refused, not read as empty", async () => {
  for (const body of ["not json", JSON.stringify({ profile: { roleArns: "r" } }), "[]", "{}"]) {
    const url = await fakeRolesAnywhere([{ status: 200, body }]);
    const error = await reader(url)
      .profile(PROFILE)
      .catch((e: unknown) => e);
    expect(error, body).toBeInstanceOf(IamRaError);
    expect(error, body).toMatchObject({
      code: "internal",
      message: "Roles Anywhere GetProfile answered with a body that is not its JSON response.",
    });
  }
});

test("an ARN whose id is not a Roles Anywhere id is refused before any request", async () => {
  const seen: IncomingMessage[] = [];
  const url = await fakeRolesAnywhere([{ status: 200, body: "{}" }], seen);
  for (const arn of [
    "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/../trustanchors",
    "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/",
    "not-an-arn",
  ]) {
    await expect(reader(url).profile(arn), arn).rejects.toMatchObject({ code: "invalid-input" });
  }
  expect(seen).toHaveLength(0);
});

test("a closed port is a network error after the retries", async () => {
  const closed = createServer();
  closed.listen(0, "127.0.0.1");
  await once(closed, "listening");
  const port = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  await expect(reader(`http://127.0.0.1:${port}`).profile(PROFILE)).rejects.toMatchObject({
    code: "network",
    message: expect.stringContaining(`Could not reach http://127.0.0.1:${port}`),
  });
});
