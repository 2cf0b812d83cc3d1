import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki } from "@iam-ra/core/testing";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { describe, expect, it, onTestFinished } from "vitest";

const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const AUTH = {
  "content-type": "application/json",
  authorization:
    "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00",
};

/** Starts `iam-ra emulator` and resolves with its URL, read from the first stdout line. */
async function startCommand(
  args: string[],
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, "emulator", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [first] = (await once(child.stdout!, "data")) as [Buffer];
  const { url } = JSON.parse(first.toString().split("\n")[0]!) as { url: string };
  return { child, url, stderr: () => stderr };
}

describe("iam-ra emulator", () => {
  it("serves on a free port, persists state 0600 across restarts, logs JSON lines, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-emu-cmd-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const persist = join(dir, "state.json");
    const first = await startCommand(["--port", "0", "--persist", persist, "--region", "eu-west-1"]);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${first.url}/_emulator/health`)).status).toBe(200);
    const created = await (
      await fetch(`${first.url}/profiles`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ name: "kept", roleArns: ["arn:aws:iam::123456789012:role/r"] }),
      })
    ).json();
    expect(created.profile.profileArn).toMatch(/^arn:aws:rolesanywhere:eu-west-1:123456789012:profile\//);
    first.child.kill("SIGTERM");
    const [code] = await once(first.child, "exit");
    expect(code).toBe(0);
    expect(statSync(persist).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(persist, "utf8")).profiles).toHaveLength(1);
    const logs = first
      .stderr()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(logs.some((l) => l.operation === "CreateProfile" && l.status === 201)).toBe(true);

    const second = await startCommand(["--persist", persist]);
    const { profiles } = await (await fetch(`${second.url}/profiles`, { headers: AUTH })).json();
    expect(profiles.map((p: { name: string }) => p.name)).toEqual(["kept"]);
    second.child.kill("SIGINT");
    expect((await once(second.child, "exit"))[0]).toBe(0);
  }, 30_000);

  it("a bad flag is a clear error with a non-zero exit and no stack trace", async () => {
    const child = spawn(process.execPath, [BIN, "emulator", "--port", "not-a-port"], { stdio: "pipe" });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).not.toBe(0);
    expect(err).toMatch(/port/i);
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe("iam-ra emulator --tls", () => {
  it("serves https and writes the CA clients trust (0644); plain http is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-emu-tls-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const { child, url } = await startCommand(["--port", "0", "--tls", "--tls-ca-out", join(dir, "ca.pem")]);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(join(dir, "ca.pem")).mode & 0o777).toBe(0o644);
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const { request } = await import("node:https");
    const status = await new Promise<number>((resolve, reject) =>
      request(`${url}/_emulator/health`, { ca }, (res) => resolve(res.statusCode ?? 0))
        .on("error", reject)
        .end(),
    );
    expect(status).toBe(200);
    // The same port over http is not served (a TLS server does not answer plain requests).
    await expect(fetch(`${url.replace("https:", "http:")}/_emulator/health`)).rejects.toThrow();
    child.kill("SIGTERM");
    await once(child, "exit");
  });

  it("--tls-cert without --tls-key is a clear error", async () => {
    const child = spawn(process.execPath, [BIN, "emulator", "--tls-cert", "/nonexistent.pem"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(1);
    expect(stderr).toMatch(/--tls-cert and --tls-key go together/);
  });
});

describe("iam-ra emulator --trust-policy-ttl-ms", () => {
  it("0 reads the role's trust policy from --iam-endpoint on every CreateSession: a revoked trust is refused at once", async () => {
    const role = "arn:aws:iam::123456789012:role/ttl";
    const allow = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "rolesanywhere.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        },
      ],
    };
    let policy: unknown = allow;
    const iam = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const doc = encodeURIComponent(JSON.stringify(policy));
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(
          `<GetRoleResponse><GetRoleResult><Role><Arn>${role}</Arn><AssumeRolePolicyDocument>${doc}</AssumeRolePolicyDocument></Role></GetRoleResult></GetRoleResponse>`,
        );
      });
    });
    iam.listen(0, "127.0.0.1");
    await once(iam, "listening");
    onTestFinished(() => new Promise<void>((resolve) => iam.close(() => resolve())));
    const iamUrl = `http://127.0.0.1:${(iam.address() as AddressInfo).port}`;
    const { child, url } = await startCommand(["--iam-endpoint", iamUrl, "--trust-policy-ttl-ms", "0"]);
    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(`${url}${path}`, { method: "POST", headers: AUTH, body: JSON.stringify(body) })
      ).json()) as {
        trustAnchor: { trustAnchorArn: string };
        profile: { profileArn: string };
      };
    const pki = await createTestPki();
    const { trustAnchor } = await post("/trustanchors", {
      name: "ttl",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
    });
    const { profile } = await post("/profiles", { name: "ttl", enabled: true, roleArns: [role] });
    const leaf = await pki.issueLeaf({ subject: "CN=ttl-host,O=tests", issuer: "root" });
    const material = await parseCredentialMaterial({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
    });
    const params = {
      trustAnchorArn: trustAnchor.trustAnchorArn,
      profileArn: profile.profileArn,
      roleArn: role,
    };
    const first = await createSession(material, params, { endpoint: url, maxAttempts: 1 });
    expect(first.credentials.accessKeyId).toBeTruthy();
    // With the default TTL (2 s) the policy read above would still be reused by the next call.
    policy = { ...allow, Statement: [{ ...allow.Statement[0], Effect: "Deny" }] };
    await expect(createSession(material, params, { endpoint: url, maxAttempts: 1 })).rejects.toThrow(
      /trust policy/,
    );
    child.kill("SIGTERM");
    await once(child, "exit");
  }, 30_000);

  it("a negative TTL is a clear error", async () => {
    const child = spawn(process.execPath, [BIN, "emulator", "--trust-policy-ttl-ms", "-1"], {
      stdio: "pipe",
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).not.toBe(0);
    expect(err).toMatch(/trust-policy-ttl-ms/);
  });
});
