import { execFile } from "node:child_process";
import { once } from "node:events";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
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

/** Starts the sidecar with these overrides; resolves to the error it refused with (or fails). */
async function refusal(overrides: Record<string, string | boolean>): Promise<IamRaError> {
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
  const error = await startSidecar(config, { logger: createLogger(() => {}, "error") }).then(
    async (sidecar) => {
      await sidecar.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, "the sidecar should have refused to start").toBeInstanceOf(IamRaError);
  return error as IamRaError;
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
