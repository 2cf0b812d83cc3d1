import { execFile } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { once } from "node:events";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { startConnectProxy } from "@iam-ra/core/testing";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  CHAINED_ROLE_ARN,
  createWorld,
  errorLines,
  Job,
  keyBodyLines,
  leakingLines,
  maskedTooLate,
  ROLE_ARN,
  type StepResult,
  type World,
} from "./helpers.ts";

const exec = promisify(execFile);
const CREDENTIAL_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

let world: World;
let leaf: Awaited<ReturnType<World["issue"]>>;

beforeAll(async () => {
  world = await createWorld();
  leaf = await world.issue();
});
afterAll(async () => {
  await world?.emu.close();
});

function newJob(): Job {
  const job = new Job();
  onTestFinished(() => job.cleanup());
  return job;
}

/** The inputs of a plain sign-in with `leaf`, against the emulator. */
function signInInputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    certificate: leaf.certificatePem,
    "private-key": leaf.privateKeyPem,
    "trust-anchor-arn": world.trustAnchorArn,
    "profile-arn": world.profileArn,
    "role-to-assume": ROLE_ARN,
    endpoint: world.emu.url,
    "sts-endpoint": world.emu.url,
    ...extra,
  };
}

/** The emulator's record of the session whose access key a step exported or output. */
function sessionOf(accessKeyId: string | undefined) {
  const session = world.emu.state.sessions.find((s) => s.accessKeyId === accessKeyId);
  if (!session) throw new Error(`the emulator issued no session ${accessKeyId}`);
  return session;
}

async function callerArn(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await exec(
    "aws",
    ["sts", "get-caller-identity", "--endpoint-url", world.emu.url, "--output", "json"],
    { env },
  );
  return JSON.parse(stdout).Arn;
}

function expectSucceeded(step: StepResult): void {
  expect(errorLines(step.stdout)).toEqual([]);
  expect(step.stderr).toBe("");
  expect(step.code).toBe(0);
}

describe("sign-in with a certificate (bundled dist/index.js, as the runner runs it)", () => {
  it("exports exactly the credentials and region, outputs identity and expiration, and a stock client works", async () => {
    const job = newJob();
    const main = await job.step("index", signInInputs());
    expectSucceeded(main);

    expect(main.envEntries.map(([name]) => name)).toEqual([
      ...CREDENTIAL_VARS,
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
    ]);
    const session = sessionOf(main.env.AWS_ACCESS_KEY_ID);
    expect(main.env).toEqual({
      AWS_ACCESS_KEY_ID: session.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
      AWS_SESSION_TOKEN: session.sessionToken,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
    });
    expect(session.roleArn).toBe(ROLE_ARN);
    const arn = `arn:aws:sts::123456789012:assumed-role/ci-deploy/${leaf.serialHex}`;
    const expiration = new Date(session.expiration).toISOString();
    expect(main.outputs).toEqual({
      "aws-account-id": "123456789012",
      "authenticated-arn": arn,
      expiration,
      "aws-expiration": expiration,
    });
    // One hour by default.
    expect(new Date(expiration).getTime() - Date.now()).toBeGreaterThan(3590_000);
    expect(await callerArn(job.runEnv())).toBe(arn);
  });

  it("registers every secret before any line could print it, and prints none of them", async () => {
    const job = newJob();
    const main = await job.step("index", signInInputs({ "output-credentials": "true" }));
    expectSucceeded(main);
    const session = sessionOf(main.outputs["aws-access-key-id"]);
    const secrets = [
      ...keyBodyLines(leaf.privateKeyPem),
      session.accessKeyId,
      session.secretAccessKey,
      session.sessionToken,
    ];
    expect(maskedTooLate(main.stdout, secrets)).toEqual([]);
    expect(leakingLines(main.stdout + main.stderr, secrets)).toEqual([]);
    // The whole key is registered too (multi-line, escaped as the command protocol requires).
    expect(main.stdout).toContain(`::add-mask::${leaf.privateKeyPem.trim().replace(/\n/g, "%0A")}`);
    // The certificate is public: it is not masked.
    expect(main.stdout).not.toMatch(/::add-mask::-----BEGIN CERTIFICATE/);
    // The masks come first of all: before the first line that is not a mask.
    const lines = main.stdout.trim().split("\n");
    const firstOther = lines.findIndex((l) => !l.startsWith("::add-mask::"));
    const keyMasks = lines.filter((l, i) => l.startsWith("::add-mask::") && i < firstOther);
    expect(keyMasks.length).toBeGreaterThanOrEqual(keyBodyLines(leaf.privateKeyPem).length);
  });

  it("output-credentials adds the three credential outputs, equal to the exported ones", async () => {
    const job = newJob();
    const main = await job.step("index", signInInputs({ "output-credentials": "true" }));
    expectSucceeded(main);
    expect(Object.keys(main.outputs).sort()).toEqual([
      "authenticated-arn",
      "aws-access-key-id",
      "aws-account-id",
      "aws-expiration",
      "aws-secret-access-key",
      "aws-session-token",
      "expiration",
    ]);
    expect(main.outputs["aws-access-key-id"]).toBe(main.env.AWS_ACCESS_KEY_ID);
    expect(main.outputs["aws-secret-access-key"]).toBe(main.env.AWS_SECRET_ACCESS_KEY);
    expect(main.outputs["aws-session-token"]).toBe(main.env.AWS_SESSION_TOKEN);
  });

  it("output-env-credentials: false exports only the region; the outputs still carry the identity", async () => {
    const job = newJob();
    const main = await job.step(
      "index",
      signInInputs({
        "output-env-credentials": "false",
        "output-credentials": "true",
        "aws-region": "eu-west-1",
      }),
    );
    expectSucceeded(main);
    expect(main.env).toEqual({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" });
    expect(main.outputs["aws-account-id"]).toBe("123456789012");
    expect(sessionOf(main.outputs["aws-access-key-id"]).roleArn).toBe(ROLE_ARN);
  });

  it("mask-aws-account-id registers the account before any line shows it", async () => {
    const job = newJob();
    const masked = await job.step("index", signInInputs({ "mask-aws-account-id": "true" }));
    expectSucceeded(masked);
    expect(masked.stdout).toContain("123456789012");
    expect(maskedTooLate(masked.stdout, ["123456789012"])).toEqual([]);
    const plain = await job.step("index", signInInputs());
    expectSucceeded(plain);
    expect(maskedTooLate(plain.stdout, ["123456789012"])).toEqual(["123456789012"]);
  });

  it("refuses to print credentials as workflow commands when GITHUB_ENV or GITHUB_OUTPUT is missing", async () => {
    const job = newJob();
    const noEnv = await job.step("index", signInInputs(), { unset: ["GITHUB_ENV"] });
    expect(noEnv.code).toBe(1);
    expect(errorLines(noEnv.stdout)).toEqual([
      "::error::GITHUB_ENV is not set, so the credentials cannot be handed over safely. Hint: Run on a GitHub Actions runner (or a compatible one that provides GITHUB_ENV, GITHUB_OUTPUT and RUNNER_TEMP).",
    ]);
    const noOutput = await job.step("index", signInInputs({ "output-credentials": "true" }), {
      unset: ["GITHUB_OUTPUT"],
    });
    expect(errorLines(noOutput.stdout)[0]).toMatch(/^::error::GITHUB_OUTPUT is not set/);
    for (const step of [noEnv, noOutput]) expect(step.stdout).not.toMatch(/::set-env|::set-output/);
  });

  it("the post step clears every variable the main step exported", async () => {
    const job = newJob();
    const main = await job.step("index", signInInputs());
    expectSucceeded(main);
    expect(JSON.parse(main.state.exported!)).toEqual([
      ...CREDENTIAL_VARS,
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
    ]);
    const post = await job.step("post", {}, { state: main.state });
    expectSucceeded(post);
    expect(post.envEntries).toEqual(
      [...CREDENTIAL_VARS, "AWS_REGION", "AWS_DEFAULT_REGION"].map((n) => [n, ""]),
    );
    expect(post.stdout).toContain("Cleared AWS_ACCESS_KEY_ID");
    // A later step's stock client now finds no credentials.
    await expect(
      callerArn(job.runEnv({ AWS_SHARED_CREDENTIALS_FILE: join(job.dir, "none") })),
    ).rejects.toThrow(/credentials/i);
  });

  it("the post step after a failed main step has nothing to clear", async () => {
    const job = newJob();
    const main = await job.step("index", signInInputs({ "role-to-assume": "" }));
    expect(main.code).toBe(1);
    expect(main.state).toEqual({});
    const post = await job.step("post", {}, { state: main.state });
    expectSucceeded(post);
    expect(post.envEntries).toEqual([]);
    expect(post.stdout).toContain("Nothing to clean up");
  });

  it("an RSA certificate with its key in the same PEM (combined input)", async () => {
    const rsa = await world.issue({ keyAlgorithm: "RSA_2048" });
    const job = newJob();
    const main = await job.step(
      "index",
      signInInputs({ certificate: `${rsa.certificatePem}${rsa.privateKeyPem}`, "private-key": "" }),
    );
    expectSucceeded(main);
    expect(main.outputs["authenticated-arn"]).toBe(
      `arn:aws:sts::123456789012:assumed-role/ci-deploy/${rsa.serialHex}`,
    );
    expect(maskedTooLate(main.stdout, keyBodyLines(rsa.privateKeyPem))).toEqual([]);
  });

  it("an encrypted PKCS#8 key opens with private-key-passphrase", async () => {
    const passphrase = "correct horse battery staple";
    const encrypted = createPrivateKey(leaf.privateKeyPem)
      .export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase })
      .toString();
    const job = newJob();
    const main = await job.step(
      "index",
      signInInputs({ "private-key": encrypted, "private-key-passphrase": passphrase }),
    );
    expectSucceeded(main);
    expect(maskedTooLate(main.stdout, [passphrase, ...keyBodyLines(encrypted)])).toEqual([]);
  });

  it("a base64 PKCS#12 archive in certificate, with its password", async () => {
    const job = newJob();
    writeFileSync(join(job.dir, "leaf.pem"), leaf.certificatePem);
    writeFileSync(join(job.dir, "leaf.key"), leaf.privateKeyPem, { mode: 0o600 });
    await exec("openssl", [
      "pkcs12",
      "-export",
      "-in",
      join(job.dir, "leaf.pem"),
      "-inkey",
      join(job.dir, "leaf.key"),
      "-passout",
      "pass:p12-password",
      "-out",
      join(job.dir, "leaf.p12"),
    ]);
    const p12 = readFileSync(join(job.dir, "leaf.p12")).toString("base64");
    const main = await job.step(
      "index",
      signInInputs({ certificate: p12, "private-key": "", "private-key-passphrase": "p12-password" }),
    );
    expectSucceeded(main);
    expect(main.outputs["authenticated-arn"]).toMatch(/assumed-role\/ci-deploy\//);
    // The archive holds the encrypted key: masked like a key.
    expect(maskedTooLate(main.stdout, [p12, "p12-password"])).toEqual([]);

    const wrong = await job.step(
      "index",
      signInInputs({ certificate: p12, "private-key": "", "private-key-passphrase": "not-the-password" }),
    );
    expect(wrong.code).toBe(1);
    expect(errorLines(wrong.stdout)).toEqual([
      "::error::The password does not open the PKCS#12 archive. Hint: Set private-key-passphrase to the password the private key (or PKCS#12 archive) was encrypted with.",
    ]);
    expect(leakingLines(wrong.stdout, [p12])).toEqual([]);
  });

  it("an intermediate-issued certificate needs certificate-chain", async () => {
    const sub = await world.issue({ issuer: "intermediate" });
    const job = newJob();
    const withChain = await job.step(
      "index",
      signInInputs({
        certificate: sub.certificatePem,
        "private-key": sub.privateKeyPem,
        "certificate-chain": world.pki.intermediate.certificatePem,
      }),
    );
    expectSucceeded(withChain);
    const without = await job.step(
      "index",
      signInInputs({ certificate: sub.certificatePem, "private-key": sub.privateKeyPem }),
    );
    expect(without.code).toBe(1);
    const [line] = errorLines(without.stdout);
    expect(line).toMatch(/^::error::CreateSession failed \(HTTP 403 AccessDeniedException\): Untrusted/);
    expect(line).toContain("Hint: The chain does not reach an enabled trust anchor: set certificate-chain");
  });

  it("warns when the certificate expires within certificate-expiry-warning-days, and still signs in", async () => {
    const soon = await world.issue({ notAfter: new Date(Date.now() + 5 * 86_400_000 + 3600_000) });
    const job = newJob();
    const main = await job.step(
      "index",
      signInInputs({ certificate: soon.certificatePem, "private-key": soon.privateKeyPem }),
    );
    expectSucceeded(main);
    expect(main.stdout).toMatch(/^::warning::The certificate expires on \S+ \(in 5 days\)/m);
    const quiet = await job.step(
      "index",
      signInInputs({
        certificate: soon.certificatePem,
        "private-key": soon.privateKeyPem,
        "certificate-expiry-warning-days": "5",
      }),
    );
    expectSucceeded(quiet);
    expect(quiet.stdout).not.toContain("::warning::");
  });

  it("instance-properties reach Roles Anywhere and are recorded on the certificate's subject", async () => {
    const job = newJob();
    const step = await job.step(
      "index",
      signInInputs({ "instance-properties": "repository=iam-ra/demo\nrun=42, workflow=deploy\n" }),
    );
    expectSucceeded(step);
    const recorded = world.emu.state.subjects
      .flatMap((s) => s.instanceProperties)
      .find((p) => p.properties.run === "42");
    expect(recorded?.failed).toBe(false);
    expect(recorded?.properties).toEqual({
      repository: "iam-ra/demo",
      run: "42",
      workflow: "deploy",
    });
  });

  it("special-characters-workaround keeps asking until the secret key is letters and digits", async () => {
    const job = newJob();
    const before = world.emu.state.sessions.length;
    const main = await job.step(
      "index",
      signInInputs({
        "special-characters-workaround": "true",
        "retry-max-attempts": "80",
        "output-credentials": "true",
      }),
    );
    expectSucceeded(main);
    expect(main.env.AWS_SECRET_ACCESS_KEY).toMatch(/^[A-Za-z0-9]+$/);
    // Every set it saw along the way was masked too.
    const seen = world.emu.state.sessions.slice(before).map((s) => s.secretAccessKey);
    expect(maskedTooLate(main.stdout, seen)).toEqual([]);
  });
});

describe("retries", () => {
  it("throttling and 5xx answers are retried with backoff; retry-max-attempts: 1 fails at once", async () => {
    const { createServer, request } = await import("node:http");
    const target = new URL(world.emu.url);
    const failures = { createSession: 2, sts: 2 };
    const proxy = createServer((req, res) => {
      if (req.url?.startsWith("/sessions") && failures.createSession > 0) {
        failures.createSession--;
        res.writeHead(503, {
          "content-type": "application/json",
          "x-amzn-errortype": "ServiceUnavailableException",
        });
        res.end('{"message":"try again"}');
        req.resume();
        return;
      }
      if (req.url === "/" && failures.sts > 0) {
        failures.sts--;
        res.writeHead(400, { "content-type": "text/xml" });
        res.end(
          "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
        );
        req.resume();
        return;
      }
      // The Host header is forwarded unchanged: the client signed the proxy's host.
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

    const job = newJob();
    const main = await job.step("index", signInInputs({ endpoint: url, "sts-endpoint": url }));
    expectSucceeded(main);
    expect(failures).toEqual({ createSession: 0, sts: 0 });

    failures.createSession = 1;
    const once = await job.step(
      "index",
      signInInputs({ endpoint: url, "sts-endpoint": url, "retry-max-attempts": "1" }),
    );
    expect(once.code).toBe(1);
    expect(errorLines(once.stdout)).toEqual([
      "::error::CreateSession failed (HTTP 503 ServiceUnavailableException): try again Hint: The service is failing; retry later.",
    ]);

    failures.sts = 1;
    const stsOnce = await job.step(
      "index",
      signInInputs({ endpoint: url, "sts-endpoint": url, "retry-max-attempts": "1" }),
    );
    expect(stsOnce.code).toBe(1);
    expect(errorLines(stsOnce.stdout)).toEqual([
      "::error::STS GetCallerIdentity failed (HTTP 400 Throttling): Rate exceeded Hint: STS kept failing; raise retry-max-attempts or re-run the job.",
    ]);
    // Nothing was exported by the failed steps.
    expect(once.envEntries).toEqual([]);
    expect(stsOnce.envEntries).toEqual([]);
  });
});

/** A TCP forwarder to the emulator that records when each connection opened and first carried data. */
async function recordingForwarder(target: string) {
  const { hostname, port } = new URL(target);
  const events: Array<"open" | "data"> = [];
  const server = createNetServer((client) => {
    events.push("open");
    client.once("data", () => events.push("data"));
    const upstream = connect(Number(port), hostname);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => void server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, events };
}

describe("connections", () => {
  it("opens both connections at start-up, before CreateSession is sent, and each carries one call", async () => {
    const forwarder = await recordingForwarder(world.emu.url);
    const job = newJob();
    const main = await job.step(
      "index",
      signInInputs({ endpoint: forwarder.url, "sts-endpoint": forwarder.url }),
    );
    expectSucceeded(main);
    // The STS connection was opened ahead of CreateSession (so its handshake overlaps the first
    // call), and no call opened another: a preconnection to a wrong URL would show as a third and
    // fourth "open"; without preconnecting, keep-alive would carry both calls on one connection.
    expect(forwarder.events).toEqual(["open", "open", "data", "data"]);
  });
});

describe("files a step requires only when a run needs them", () => {
  it("a sign-in loads dist/index.js alone; dist/pkcs11.js (core's PKCS#11 signing) loads on its own", async () => {
    const job = newJob();
    // Lists, as the step exits, every file it required.
    const hook = join(job.dir, "list-required.cjs");
    writeFileSync(
      hook,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(join(job.dir, "required.json"))}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const main = await job.step("index", signInInputs(), { env: { NODE_OPTIONS: `--require ${hook}` } });
    expectSucceeded(main);
    const dist = join(job.actionDir, "dist");
    const required: string[] = JSON.parse(readFileSync(join(job.dir, "required.json"), "utf8"));
    expect(required.filter((file) => file.startsWith(dist))).toEqual([join(dist, "index.js")]);

    // Left out of the main step's bundle, and complete without node_modules: it exports what
    // core's x509/material.ts imports from it.
    expect(readFileSync(join(dist, "index.js"), "utf8")).not.toMatch(/function externalKeyMatches\b/);
    const { stdout } = await exec(
      process.execPath,
      ["-p", "typeof require(process.argv[1]).externalKeyMatches", join(dist, "pkcs11.js")],
      { cwd: job.dir },
    );
    expect(stdout.trim()).toBe("function");
  });

  it("names are minified, and a debug stack under --enable-source-maps names the sources", async () => {
    const job = newJob();
    const bundle = readFileSync(join(job.actionDir, "dist/index.js"), "utf8");
    expect(bundle).not.toMatch(/\bparseInputs\b/);
    expect(bundle.trimEnd().endsWith("//# sourceMappingURL=index.js.map")).toBe(true);
    const step = await job.step("index", signInInputs({ certificate: "" }), {
      env: { RUNNER_DEBUG: "1", NODE_OPTIONS: "--enable-source-maps" },
    });
    expect(step.code).toBe(1);
    const debug = step.stdout.split("\n").find((line) => line.startsWith("::debug::IamRaError"));
    expect(debug).toMatch(/at parseInputs \([^)]*src\/inputs\.ts:\d+:\d+\)/);
    expect(debug).toMatch(/at run \([^)]*src\/main\.ts:\d+:\d+\)/);
  });
});

describe("proxies (self-hosted runners)", () => {
  it("HTTP_PROXY tunnels both calls through CONNECT; NO_PROXY bypasses it", async () => {
    const proxy = await startConnectProxy();
    onTestFinished(proxy.close);
    const emulatorHost = new URL(world.emu.url).host;
    const job = newJob();
    const via = await job.step("index", signInInputs(), { env: { HTTP_PROXY: proxy.url } });
    expectSucceeded(via);
    expect(via.env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    // One tunnel for CreateSession, one for GetCallerIdentity.
    expect(proxy.tunnels).toEqual([emulatorHost, emulatorHost]);

    const tunnels = proxy.tunnels.length;
    const bypass = await job.step("index", signInInputs(), {
      env: { http_proxy: proxy.url, no_proxy: "127.0.0.1" },
    });
    expectSucceeded(bypass);
    expect(proxy.tunnels).toHaveLength(tunnels);

    // A checkout that turned the bundle's line ends into CRLF (git autocrlf on Windows) still
    // loads the proxy agent (dist/proxy.js).
    const bundle = join(job.actionDir, "dist/index.js");
    writeFileSync(bundle, readFileSync(bundle, "utf8").replace(/\n/g, "\r\n"));
    const crlf = await job.step("index", signInInputs(), { env: { HTTP_PROXY: proxy.url } });
    expectSucceeded(crlf);
    expect(proxy.tunnels).toHaveLength(tunnels + 2);

    // An unreachable proxy is a network failure with a next step, not a crash.
    const down = await job.step("index", signInInputs({ "retry-max-attempts": "1" }), {
      env: { HTTP_PROXY: "http://127.0.0.1:1" },
    });
    expect(down.code).toBe(1);
    expect(errorLines(down.stdout)).toEqual([
      expect.stringMatching(/^::error::Could not reach .*Hint: Check network access .*HTTPS_PROXY/),
    ]);
  });
});

describe("profile mode (aws-profile)", () => {
  it("writes a 0600 credentials file in RUNNER_TEMP, exports AWS_SHARED_CREDENTIALS_FILE/AWS_PROFILE, and stock clients use it", async () => {
    const job = newJob();
    const main = await job.step("index", signInInputs({ "aws-profile": "ci" }));
    expectSucceeded(main);
    const file = join(job.runnerTemp, "iam-ra-action", "credentials");
    expect(main.envEntries.map(([name]) => name)).toEqual([
      "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_PROFILE",
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
    ]);
    expect(main.env).toMatchObject({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: "ci" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(job.runnerTemp, "iam-ra-action")).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(
      /^\[ci\]\naws_access_key_id = ASIA\w+\naws_secret_access_key = \S+\naws_session_token = \S+\n$/m,
    );

    const arn = `arn:aws:sts::123456789012:assumed-role/ci-deploy/${leaf.serialHex}`;
    expect(await callerArn(job.runEnv())).toBe(arn);
    const boto = await exec(
      "python3",
      [
        "-c",
        'import boto3,sys;print(boto3.client("sts",endpoint_url=sys.argv[1]).get_caller_identity()["Arn"])',
        world.emu.url,
      ],
      { env: job.runEnv() },
    );
    expect(boto.stdout.trim()).toBe(arn);

    const post = await job.step("post", {}, { state: main.state });
    expectSucceeded(post);
    expect(() => statSync(file)).toThrow(/ENOENT/);
    expect(post.envEntries).toEqual(
      ["AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"].map((n) => [n, ""]),
    );
  });

  it("two profiles share the job's file; each post step removes only its own", async () => {
    const job = newJob();
    const first = await job.step("index", signInInputs({ "aws-profile": "first" }));
    const second = await job.step("index", signInInputs({ "aws-profile": "second" }));
    expectSucceeded(first);
    expectSucceeded(second);
    const file = join(job.runnerTemp, "iam-ra-action", "credentials");
    expect(readFileSync(file, "utf8")).toMatch(/\[first\][\s\S]*\[second\]/);
    expect(await callerArn(job.runEnv({ AWS_PROFILE: "first" }))).toMatch(/assumed-role\/ci-deploy\//);

    // Post steps run in reverse order.
    expectSucceeded(await job.step("post", {}, { state: second.state }));
    const left = readFileSync(file, "utf8");
    expect(left).toContain("[first]");
    expect(left).not.toContain("[second]");
    expectSucceeded(await job.step("post", {}, { state: first.state }));
    expect(() => statSync(file)).toThrow(/ENOENT/);
  });

  it("unset-current-credentials clears stale credential variables so the profile is what SDKs use", async () => {
    const job = newJob();
    const stale = {
      AWS_ACCESS_KEY_ID: "AKIASTALESTALESTALE0",
      AWS_SECRET_ACCESS_KEY: "stale-secret",
      AWS_PROFILE: "stale",
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/stale",
    };
    job.jobEnv = { ...stale };
    const warned = await job.step("index", signInInputs({ "aws-profile": "ci" }));
    expectSucceeded(warned);
    expect(warned.stdout).toMatch(/^::warning::AWS_ACCESS_KEY_ID is set in the environment/m);

    job.jobEnv = { ...stale };
    const main = await job.step(
      "index",
      signInInputs({ "aws-profile": "ci", "unset-current-credentials": "true" }),
    );
    expectSucceeded(main);
    expect(main.stdout).not.toContain("::warning::");
    expect(main.envEntries.slice(0, 4)).toEqual([
      ["AWS_ACCESS_KEY_ID", ""],
      ["AWS_SECRET_ACCESS_KEY", ""],
      ["AWS_PROFILE", ""],
      ["AWS_ROLE_ARN", ""],
    ]);
    expect(main.env.AWS_PROFILE).toBe("ci");
    expect(await callerArn(job.runEnv())).toMatch(/assumed-role\/ci-deploy\//);
  });
});

describe("role chaining (a second step with role-chaining: true)", () => {
  it("assumes role-to-assume from the first step's credentials, across accounts", async () => {
    const job = newJob();
    const first = await job.step("index", signInInputs());
    expectSucceeded(first);
    const second = await job.step("index", {
      "role-chaining": "true",
      "role-to-assume": CHAINED_ROLE_ARN,
      "sts-endpoint": world.emu.url,
      "role-duration-seconds": "900",
      "allowed-account-ids": "210987654321",
      "mask-aws-account-id": "true",
    });
    expectSucceeded(second);
    const chained = sessionOf(second.env.AWS_ACCESS_KEY_ID);
    expect(chained.roleArn).toBe(CHAINED_ROLE_ARN);
    expect(second.env.AWS_ACCESS_KEY_ID).not.toBe(first.env.AWS_ACCESS_KEY_ID);
    expect(second.outputs["aws-account-id"]).toBe("210987654321");
    expect(second.outputs["authenticated-arn"]).toBe(
      "arn:aws:sts::210987654321:assumed-role/chained-deploy/GitHubActions",
    );
    expect(new Date(second.outputs.expiration!).getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    expect(
      maskedTooLate(second.stdout, [chained.secretAccessKey, chained.sessionToken, "210987654321"]),
    ).toEqual([]);
    expect(await callerArn(job.runEnv())).toBe(second.outputs["authenticated-arn"]);

    const post2 = await job.step("post", {}, { state: second.state });
    const post1 = await job.step("post", {}, { state: first.state });
    expectSucceeded(post2);
    expectSucceeded(post1);
    for (const name of [...CREDENTIAL_VARS, "AWS_REGION"]) expect(job.jobEnv[name]).toBe("");
  });

  it("chains from a first step's profile into a second profile", async () => {
    const job = newJob();
    expectSucceeded(await job.step("index", signInInputs({ "aws-profile": "entry" })));
    const second = await job.step("index", {
      "role-chaining": "true",
      "role-to-assume": CHAINED_ROLE_ARN,
      "role-session-name": "deploy-42",
      "sts-endpoint": world.emu.url,
      "aws-profile": "deploy",
    });
    expectSucceeded(second);
    expect(second.outputs["authenticated-arn"]).toBe(
      "arn:aws:sts::210987654321:assumed-role/chained-deploy/deploy-42",
    );
    expect(await callerArn(job.runEnv())).toBe(second.outputs["authenticated-arn"]);
    expect(await callerArn(job.runEnv({ AWS_PROFILE: "entry" }))).toMatch(/assumed-role\/ci-deploy\//);
  });

  it("a role that does not trust the source role is refused with a clear line", async () => {
    const job = newJob();
    expectSucceeded(await job.step("index", signInInputs()));
    const refused = await job.step("index", {
      "role-chaining": "true",
      "role-to-assume": "arn:aws:iam::210987654321:role/does-not-trust",
      "sts-endpoint": world.emu.url,
    });
    expect(refused.code).toBe(1);
    const [line, ...rest] = errorLines(refused.stdout);
    expect(rest).toEqual([]);
    expect(line).toMatch(
      /^::error::STS AssumeRole failed \(HTTP 403 AccessDenied\): User: .* is not authorized/,
    );
    expect(line).toContain(
      "Hint: The target role's trust policy must allow sts:AssumeRole for the source role",
    );
  });

  it("without earlier credentials, or with certificate inputs, it says what to do", async () => {
    const job = newJob();
    const none = await job.step("index", {
      "role-chaining": "true",
      "role-to-assume": CHAINED_ROLE_ARN,
      "aws-region": "us-east-1",
    });
    expect(none.code).toBe(1);
    expect(errorLines(none.stdout)[0]).toMatch(
      /^::error::role-chaining found no credentials in the environment\. Hint: Run this action once without role-chaining first/,
    );
    const mixed = await job.step("index", { ...signInInputs(), "role-chaining": "true" });
    expect(mixed.code).toBe(1);
    expect(errorLines(mixed.stdout)[0]).toMatch(
      /^::error::role-chaining assumes role-to-assume with the credentials already in the environment, so certificate, private-key, trust-anchor-arn, profile-arn would be ignored\./,
    );
  });
});

describe("bad inputs: exit 1, one ::error:: line with a hint, never the key", () => {
  const other = () => world.issue();
  const cases: Array<{
    name: string;
    inputs: () => Promise<Record<string, string>>;
    error: RegExp;
  }> = [
    {
      name: "missing role ARN",
      inputs: async () => signInInputs({ "role-to-assume": "" }),
      error:
        /^::error::The role-to-assume input is missing\. Hint: Set role-to-assume to an ARN such as arn:aws:iam::123456789012:role\/ci-deploy\.$/,
    },
    {
      name: "missing trust anchor ARN",
      inputs: async () => signInInputs({ "trust-anchor-arn": "" }),
      error: /^::error::The trust-anchor-arn input is missing\. Hint: Set trust-anchor-arn to an ARN such as/,
    },
    {
      name: "a profile ARN where the trust anchor goes",
      inputs: async () => signInInputs({ "trust-anchor-arn": world.profileArn }),
      error: /^::error::The trust-anchor-arn input ".*" is not a trust-anchor ARN\./,
    },
    {
      name: "an instance property without a value",
      inputs: async () => signInInputs({ "instance-properties": "repository=iam-ra/demo\nrun" }),
      error:
        /^::error::The instance-properties input: Instance property "run" is not key=value\. Hint: Set instance-properties to key=value pairs, one per line/,
    },
    {
      name: "missing certificate",
      inputs: async () => signInInputs({ certificate: "" }),
      error: /^::error::The certificate input is missing\. Hint: Set certificate to the PEM text/,
    },
    {
      name: "malformed PEM key",
      inputs: async () =>
        signInInputs({
          "private-key": `-----BEGIN PRIVATE KEY-----\n${keyBodyLines(leaf.privateKeyPem).slice(0, 1).join("\n")}\n-----END PRIVATE KEY-----\n`,
        }),
      // OpenSSL 3 reports undecodable DER as "unsupported", so core may call a corrupt key either.
      error:
        /^::error::The private key (could not be read|uses an unsupported format or algorithm)\. Hint: (Set private-key to the PEM text of the key \(|Use an RSA or EC)/,
    },
    {
      name: "malformed certificate",
      inputs: async () => signInInputs({ certificate: "this is not a certificate" }),
      error:
        /^::error::The certificate input is neither PEM text nor base64\. Hint: Set certificate to PEM text/,
    },
    {
      name: "truncated certificate PEM",
      inputs: async () => signInInputs({ certificate: leaf.certificatePem.slice(0, 200) }),
      error:
        /^::error::No certificate was found in the certificate input\. Hint: Set certificate to the PEM text/,
    },
    {
      name: "wrong passphrase",
      inputs: async () =>
        signInInputs({
          "private-key": createPrivateKey(leaf.privateKeyPem)
            .export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "right" })
            .toString(),
          "private-key-passphrase": "wrong",
        }),
      error:
        /^::error::The passphrase does not decrypt the private key\. Hint: Set private-key-passphrase to the password the private key \(or PKCS#12 archive\) was encrypted with\.$/,
    },
    {
      name: "encrypted key without passphrase",
      inputs: async () =>
        signInInputs({
          "private-key": createPrivateKey(leaf.privateKeyPem)
            .export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "right" })
            .toString(),
        }),
      error:
        /^::error::The private key is encrypted and no passphrase was given\. Hint: Set private-key-passphrase to the password/,
    },
    {
      name: "key and certificate mismatch",
      inputs: async () => signInInputs({ "private-key": (await other()).privateKeyPem }),
      error:
        /^::error::The private key does not belong to the certificate\. Hint: Set private-key to the key of this certificate/,
    },
    {
      name: "expired certificate",
      inputs: async () => {
        const old = await world.issue({
          notBefore: new Date(Date.now() - 30 * 86_400_000),
          notAfter: new Date(Date.now() - 86_400_000),
        });
        return signInInputs({ certificate: old.certificatePem, "private-key": old.privateKeyPem });
      },
      error:
        /^::error::The certificate expired on \S+\. Hint: Issue a new certificate and update the secret the certificate input reads\.$/,
    },
    {
      name: "account not allowed",
      inputs: async () => signInInputs({ "allowed-account-ids": "111122223333, 444455556666" }),
      error:
        /^::error::The credentials belong to account 123456789012, which allowed-account-ids does not list\. Hint: Check role-to-assume, or add the account to allowed-account-ids\.$/,
    },
    {
      name: "a role the profile does not list",
      inputs: async () => signInInputs({ "role-to-assume": "arn:aws:iam::123456789012:role/not-listed" }),
      error: /^::error::CreateSession failed \(HTTP 403 AccessDeniedException\): .*Hint: /,
    },
    {
      name: "a boolean that is not one",
      inputs: async () => signInInputs({ "output-credentials": "yes" }),
      error:
        /^::error::The output-credentials input is "yes", not a boolean\. Hint: Set output-credentials to true or false\.$/,
    },
    {
      name: "a duration out of range",
      inputs: async () => signInInputs({ "role-duration-seconds": "60" }),
      error: /^::error::The role-duration-seconds input is "60", not a whole number from 900 to 43200\./,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const inputs = await c.inputs();
      const job = newJob();
      const step = await job.step("index", inputs);
      expect(step.code).toBe(1);
      const errors = errorLines(step.stdout);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(c.error);
      expect(step.stderr).toBe("");
      // Nothing was exported or output.
      expect(step.envEntries).toEqual([]);
      expect(step.outputs).toEqual({});
      const secrets = [
        ...keyBodyLines(inputs["private-key"] ?? ""),
        ...keyBodyLines(leaf.privateKeyPem),
        ...(inputs["private-key-passphrase"] ? [inputs["private-key-passphrase"]] : []),
      ];
      expect(leakingLines(step.stdout, secrets)).toEqual([]);
      expect(maskedTooLate(step.stdout, keyBodyLines(inputs["private-key"] ?? ""))).toEqual([]);
    });
  }
});
