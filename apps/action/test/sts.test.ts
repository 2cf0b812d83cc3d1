import { once } from "node:events";
import { createServer } from "node:http";
import { createNodeTransport, createSession } from "@iam-ra/core/rolesanywhere";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createStsClient, defaultStsEndpoint, type TemporaryCredentials } from "../src/sts.ts";
import { CHAINED_ROLE_ARN, createWorld, ROLE_ARN, type World } from "./helpers.ts";

let world: World;
let credentials: TemporaryCredentials;

beforeAll(async () => {
  world = await createWorld();
  const leaf = await world.issue();
  const material = await parseCredentialMaterial({
    certificate: leaf.certificatePem,
    privateKey: leaf.privateKeyPem,
  });
  const session = await createSession(
    material,
    { trustAnchorArn: world.trustAnchorArn, profileArn: world.profileArn, roleArn: ROLE_ARN },
    { endpoint: world.emu.url },
  );
  credentials = session.credentials;
});
afterAll(async () => {
  await world?.emu.close();
});

const client = (overrides: Partial<Parameters<typeof createStsClient>[0]> = {}) =>
  createStsClient({
    region: "us-east-1",
    endpoint: world.emu.url,
    credentials,
    transport: createNodeTransport(),
    maxAttempts: 3,
    sleep: async () => {},
    ...overrides,
  });

describe("the STS client (SigV4 against the emulator's STS)", () => {
  it("GetCallerIdentity answers with the Roles Anywhere session", async () => {
    const who = await client().getCallerIdentity();
    expect(who.account).toBe("123456789012");
    expect(who.arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/ci-deploy\/[0-9a-f]+$/);
    expect(who.userId).toMatch(/^AROA\w+:[0-9a-f]+$/);
  });

  it("AssumeRole chains into the other account's role", async () => {
    const chained = await client().assumeRole({
      roleArn: CHAINED_ROLE_ARN,
      roleSessionName: "s-1",
      durationSeconds: 900,
    });
    expect(chained.assumedRoleArn).toBe("arn:aws:sts::210987654321:assumed-role/chained-deploy/s-1");
    const who = await client({ credentials: chained.credentials }).getCallerIdentity();
    expect(who.arn).toBe(chained.assumedRoleArn);
    expect(chained.credentials.expiration.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
  });

  it("a wrong secret is refused at once, with the service's code and a hint", async () => {
    const error = await client({
      credentials: { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` },
    })
      .getCallerIdentity()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "access-denied",
      errorType: "SignatureDoesNotMatch",
      retryable: false,
      statusCode: 403,
    });
    expect((error as Error).message).toMatch(
      /^STS GetCallerIdentity failed \(HTTP 403 SignatureDoesNotMatch\): /,
    );
  });

  it("signs a base path and retries 5xx up to maxAttempts", async () => {
    const seen: string[] = [];
    const tokens: boolean[] = [];
    const server = createServer((req, res) => {
      tokens.push("x-amz-security-token" in req.headers);
      seen.push(`${req.method} ${req.url} ${String(req.headers.authorization).split(",")[0]}`);
      res.writeHead(503, { "content-type": "text/xml" });
      res.end(
        "<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>down</Message></Error></ErrorResponse>",
      );
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}/sts`;
    await expect(client({ endpoint }).getCallerIdentity()).rejects.toMatchObject({
      code: "service-unavailable",
      retryable: true,
      message: "STS GetCallerIdentity failed (HTTP 503 ServiceUnavailable): down",
    });
    expect(seen).toHaveLength(3);
    // Long-term keys carry no token, and then no token header is sent.
    await client({ endpoint, maxAttempts: 1, credentials: { ...credentials, sessionToken: "" } })
      .getCallerIdentity()
      .catch(() => undefined);
    expect(tokens).toEqual([true, true, true, false]);
    expect(seen[0]).toMatch(
      new RegExp(
        `^POST /sts/ AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/\\d{8}/us-east-1/sts/aws4_request$`,
      ),
    );
  });

  it("an unreachable endpoint is a network error after the retries", async () => {
    await expect(client({ endpoint: "http://127.0.0.1:1" }).getCallerIdentity()).rejects.toMatchObject({
      code: "network",
      message: expect.stringMatching(/^STS GetCallerIdentity could not reach the endpoint: /),
    });
  });

  it("defaults to the regional endpoint of the region's partition", () => {
    expect(defaultStsEndpoint("eu-west-1")).toBe("https://sts.eu-west-1.amazonaws.com");
    expect(defaultStsEndpoint("cn-north-1")).toBe("https://sts.cn-north-1.amazonaws.com.cn");
    expect(defaultStsEndpoint("us-gov-west-1")).toBe("https://sts.us-gov-west-1.amazonaws.com");
  });
});
