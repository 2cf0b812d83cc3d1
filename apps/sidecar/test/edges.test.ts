import { execFile } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { IamRaError } from "@iam-ra/core";
import { createLogger, mergeEnv, resolveSidecarConfig, startSidecar } from "@iam-ra/core/server";
import { createTestPki } from "@iam-ra/core/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { createSecretDir, createWorld, ROLE_ARN } from "./helpers.ts";

const exec = promisify(execFile);

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-sidecar-edges-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the sidecar with these overrides (against the emulator unless `endpoint` is given). */
async function start(overrides: Record<string, string | boolean>) {
  const world = await createWorld();
  const secret = createSecretDir();
  onTestFinished(secret.cleanup);
  const leaf = await world.issue();
  secret.publish({ "tls.crt": leaf.certificatePem, "tls.key": leaf.privateKeyPem });
  const values = mergeEnv(
    {
      certificate: secret.certificate,
      "private-key": secret.privateKey,
      "trust-anchor-arn": world.trustAnchorArn,
      "profile-arn": world.profileArn,
      "role-arn": ROLE_ARN,
      endpoint: world.emu.url,
      port: "0",
      imds: true,
      ...overrides,
    },
    {},
  );
  const config = await resolveSidecarConfig(values, {});
  return await startSidecar(config, { logger: createLogger(() => {}, "error") });
}

/** Starts the sidecar with these overrides; resolves to the error it refused with (or fails). */
async function refusal(overrides: Record<string, string | boolean>): Promise<IamRaError> {
  const error = await start(overrides).then(
    async (sidecar) => {
      await sidecar.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, "the sidecar should have refused to start").toBeInstanceOf(IamRaError);
  return error as IamRaError;
}

/** A Roles Anywhere endpoint that accepts connections and never answers; counts them. */
async function silentEndpoint() {
  const sockets = new Set<import("node:net").Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.resume(); // reads (and drops) the request, so the peer's close is seen
    socket.on("close", () => sockets.delete(socket));
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    open: () => sockets.size,
  };
}

describe("serve/sidecar refuse a bad configuration before binding or calling AWS", () => {
  it("a token file another local user created first is not trusted", async () => {
    const dir = scratch();
    const planted = join(dir, "token");
    writeFileSync(planted, "known-to-the-attacker-0123456789", { mode: 0o644 });
    if (process.getuid?.() === 0) {
      chownSync(planted, 65534, 65534);
      expect((await refusal({ "token-file": planted })).message).toBe(
        `The token file ${planted} belongs to another user (uid 65534); it is not trusted.`,
      );
      chownSync(planted, 0, 0);
    }
    // This user's own file, but every local user can read the token in it.
    expect((await refusal({ "token-file": planted })).message).toBe(
      `The token file ${planted} is readable by every user (mode 644); it is not trusted.`,
    );
    const writable = join(dir, "writable");
    writeFileSync(writable, "known-to-the-attacker-0123456789");
    chmodSync(writable, 0o666);
    expect((await refusal({ "token-file": writable })).message).toMatch(
      /is writable by other users \(mode 666\)/,
    );
    const link = join(dir, "link");
    symlinkSync(planted, link);
    expect((await refusal({ "token-file": link })).message).toMatch(/is a symlink; it is not trusted/);
  });

  it("a token path that is a directory, or in a missing directory, says so", async () => {
    const dir = scratch();
    mkdirSync(join(dir, "token-dir"));
    expect((await refusal({ "token-file": join(dir, "token-dir") })).message).toMatch(/is a directory/);
    const missing = await refusal({ "token-file": join(dir, "nope", "token") });
    expect(missing.message).toBe(`The token file's directory ${join(dir, "nope")} does not exist.`);
  });

  it("a port in use is one clear line", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    onTestFinished(() => {
      holder.close();
    });
    const port = String((holder.address() as { port: number }).port);
    expect((await refusal({ port })).message).toBe(`Port ${port} on 127.0.0.1 is already in use.`);
  });

  it("a port in use or an address that does not resolve is said before any AWS call", async () => {
    const aws = await silentEndpoint();
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    onTestFinished(() => {
      holder.close();
    });
    const port = String((holder.address() as { port: number }).port);
    expect((await refusal({ port, endpoint: aws.url })).message).toBe(
      `Port ${port} on 127.0.0.1 is already in use.`,
    );
    const dir = scratch();
    const unresolvable = await refusal({
      host: "no-such-host.invalid",
      "allow-remote": true,
      "token-file": join(dir, "token"),
      imds: false,
      endpoint: aws.url,
    });
    expect(unresolvable.message).toMatch(
      /^Cannot listen on no-such-host\.invalid: no such address on this host/,
    );
    expect(aws.connections()).toBe(0);
  });

  it("stopping cancels a CreateSession in flight instead of waiting for its timeout", {
    timeout: 15_000,
  }, async () => {
    const aws = await silentEndpoint();
    const sidecar = await start({ endpoint: aws.url });
    while (aws.open() === 0) await new Promise((r) => setTimeout(r, 20));
    // The call would wait 10 s per attempt, three attempts; close() ends it and the connection.
    await sidecar.close();
    while (aws.open() > 0) await new Promise((r) => setTimeout(r, 20));
    expect(aws.connections()).toBe(1);
  });

  it("a missing or expired certificate, or a key of another certificate, fails before anything starts", async () => {
    const dir = scratch();
    expect((await refusal({ certificate: join(dir, "missing.pem") })).code).toBe("file-not-found");
    const pki = await createTestPki();
    const old = await pki.issueLeaf({ notBefore: new Date("2020-01-01"), notAfter: new Date("2020-02-01") });
    writeFileSync(join(dir, "old.pem"), old.certificatePem);
    writeFileSync(join(dir, "old.key"), old.privateKeyPem, { mode: 0o600 });
    const expired = await refusal({ certificate: join(dir, "old.pem"), "private-key": join(dir, "old.key") });
    expect(expired.code).toBe("certificate-expired");
    const other = await pki.issueLeaf();
    writeFileSync(join(dir, "other.key"), other.privateKeyPem, { mode: 0o600 });
    expect((await refusal({ "private-key": join(dir, "other.key") })).code).toBe("key-certificate-mismatch");
  });

  it("the process prints one line and a hint, exit 1, no stack", async () => {
    const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
    const r = await exec(process.execPath, [main, "--certificate", "/nonexistent/cert.pem"], {
      env: { ...process.env, IAM_RA_TRUST_ANCHOR_ARN: "", IAM_RA_PROFILE_ARN: "" },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^iam-ra-sidecar: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("--instance-properties repeats; every pair is checked before IO", async () => {
    const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
    const args = ["--certificate", "/nonexistent/cert.pem", "--instance-properties", "host=a"];
    const r = await exec(process.execPath, [main, ...args, "--instance-properties", "broken"]).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^iam-ra-sidecar: Instance property "broken" is not key=value/);
  });
});

describe("serving", () => {
  it("--allow-remote: the token alone authenticates, whatever Host a remote client names", async () => {
    const dir = scratch();
    const tokenFile = join(dir, "token");
    const sidecar = await start({
      host: "0.0.0.0",
      "allow-remote": true,
      "token-file": tokenFile,
      imds: false,
    });
    onTestFinished(() => sidecar.close());
    await sidecar.source.firstAttempt;
    const token = readFileSync(tokenFile, "utf8");
    const url = `http://127.0.0.1:${new URL(sidecar.url).port}/v1/credentials`;
    const get = (headers: Record<string, string>, method = "GET") =>
      request(url, { method, headers: { authorization: token, ...headers } });
    expect((await get({ host: "sidecar.billing.svc.cluster.local:9911" })).statusCode).toBe(200);
    expect((await get({ host: "192.0.2.2" })).statusCode).toBe(200);
    expect(
      (await get({ host: "192.0.2.2", authorization: "wrong-token-wrong-token-wrong" })).statusCode,
    ).toBe(401);
    // A web page is still refused, and only GET and HEAD are answered.
    expect((await get({ host: "192.0.2.2", origin: "https://evil.example" })).statusCode).toBe(403);
    expect((await get({}, "POST")).statusCode).toBe(405);
    expect((await get({}, "DELETE")).statusCode).toBe(405);
    // /status (role, account, last error): this host, or a token holder.
    const port = new URL(sidecar.url).port;
    expect((await request(`http://127.0.0.1:${port}/status`, {})).statusCode).toBe(200);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (external) {
      const status = `http://${external}:${port}/status`;
      expect((await request(status, {})).statusCode).toBe(401);
      expect((await request(status, { headers: { authorization: token } })).statusCode).toBe(200);
      expect(
        (await request(`http://${external}:${port}/v1/credentials`, { headers: { authorization: token } }))
          .statusCode,
      ).toBe(200);
    }
  });

  it("on loopback, a foreign Host is still refused (DNS rebinding)", async () => {
    const dir = scratch();
    const tokenFile = join(dir, "token");
    const sidecar = await start({ "token-file": tokenFile, imds: false });
    onTestFinished(() => sidecar.close());
    await sidecar.source.firstAttempt;
    const response = await request(sidecar.credentialsUri, {
      headers: { authorization: readFileSync(tokenFile, "utf8"), host: "attacker.example" },
    });
    expect(response.statusCode).toBe(403);
  });
});

/** One request with node:http (fetch cannot set Host); its status. */
function request(url: string, options: { method?: string; headers?: Record<string, string> }) {
  return new Promise<{ statusCode: number }>((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ statusCode: res.statusCode ?? 0 }));
    });
    req.on("error", reject);
    req.end();
  });
}
