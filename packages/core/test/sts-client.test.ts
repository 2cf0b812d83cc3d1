import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { expect, test } from "vitest";
import { IamRaError } from "../src/errors.ts";
import { createStsClient, StsError } from "../src/sts/index.ts";
import { listenForTest } from "./helpers/loopback.ts";

const NOW = new Date("2026-01-02T03:04:05Z");

/** An STS on loopback that answers every request with `status` and `body`; returns its URL. */
async function fakeSts(status: number, body: string, seen: string[] = []): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      seen.push(`${req.headers.authorization ?? ""}|${text}`);
      res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": "req-1" }).end(body);
    });
  });
  return `http://127.0.0.1:${await listenForTest(server)}`;
}

const client = (endpoint: string) =>
  createStsClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "tok" },
    clock: { now: () => NOW },
  });

test("GetCallerIdentity: a signed POST, the identity read from the XML answer", async () => {
  const seen: string[] = [];
  const url = await fakeSts(
    200,
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a&amp;b</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`,
    seen,
  );
  await expect(client(url).getCallerIdentity()).resolves.toEqual({
    account: "123456789012",
    arn: "arn:aws:iam::123456789012:user/a&b",
    userId: "AIDA",
  });
  expect(seen[0]).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/us-east-1\/sts\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}\|Action=GetCallerIdentity&Version=2011-06-15$/,
  );
});

test("an error answer becomes an StsError with the service's type, message and request id", async () => {
  const url = await fakeSts(
    403,
    `<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`,
  );
  const error = await client(url)
    .assumeRole({ roleArn: "arn:aws:iam::123456789012:role/r", roleSessionName: "s" })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StsError);
  expect(error).toMatchObject({
    operation: "AssumeRole",
    code: "access-denied",
    errorType: "ExpiredToken",
    requestId: "req-1",
    retryable: false,
    message:
      "STS AssumeRole failed (HTTP 403 ExpiredToken): The security token included in the request is expired",
  });
});

test("a 5xx answer that is not XML is a retryable StsError quoting the body", async () => {
  const url = await fakeSts(503, "upstream down");
  await expect(client(url).getCallerIdentity()).rejects.toMatchObject({
    code: "service-unavailable",
    retryable: true,
    message: "STS GetCallerIdentity failed (HTTP 503): upstream down",
  });
});

test("throttling and an unreachable identity provider are retryable; a refusal is not", async () => {
  const answer = (code: string) =>
    `<ErrorResponse><Error><Code>${code}</Code><Message>m</Message></Error></ErrorResponse>`;
  const cases = [
    [400, "Throttling", "throttled", true],
    [400, "IDPCommunicationError", "service-unavailable", true],
    [400, "ValidationError", "invalid-input", false],
    [403, "AccessDenied", "access-denied", false],
  ] as const;
  for (const [status, type, code, retryable] of cases) {
    const url = await fakeSts(status, answer(type));
    await expect(client(url).getCallerIdentity()).rejects.toMatchObject({ errorType: type, code, retryable });
  }
});

test("a 200 answer that is not the operation's XML response is an internal error", async () => {
  const url = await fakeSts(200, "<!DOCTYPE x><x/>");
  const error = await client(url)
    .getCallerIdentity()
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IamRaError);
  expect(error).toMatchObject({ code: "internal" });
});
