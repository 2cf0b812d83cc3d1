import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromRolesAnywhere } from "@iam-ra/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { createWorld } from "./harness.ts";

// fromRolesAnywhere lives in core; it is tested here, against the emulator, because core cannot
// depend on the emulator package.
describe("fromRolesAnywhere (AWS SDK v3 credential provider)", () => {
  it("works as `credentials` of a stock SDK client; concurrent callers share one CreateSession", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const provider = fromRolesAnywhere({
      ...w.params,
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
      intermediates: w.pki.intermediate.certificatePem,
      endpoint: w.emu.url,
      clock: w.clock,
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => provider()));
    expect(new Set(results.map((r) => r.accessKeyId)).size).toBe(1);
    expect(w.emu.state.sessions).toHaveLength(1);
    const sts = new STSClient({
      region: "us-east-1",
      endpoint: w.emu.url,
      credentials: provider,
      maxAttempts: 1,
    });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toMatch(/assumed-role\/app-reader\//);
    expect(results[0]!.accountId).toBe("123456789012");
  });

  it("reuses until 15 minutes are left, then renews; re-reads a rotated certificate", async () => {
    const w = await createWorld();
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-provider-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const first = await w.pki.issueLeaf({ subject: "CN=first,OU=readers" });
    writeFileSync(join(dir, "cert.pem"), first.certificatePem);
    writeFileSync(join(dir, "key.pem"), first.privateKeyPem);
    const provider = fromRolesAnywhere({
      ...w.params,
      certificate: join(dir, "cert.pem"),
      privateKey: join(dir, "key.pem"),
      intermediates: w.pki.intermediate.certificatePem,
      endpoint: w.emu.url,
      clock: w.clock,
    });
    const a = await provider();
    w.clock.advance(44 * 60_000); // 16 minutes left
    expect((await provider()).accessKeyId).toBe(a.accessKeyId);
    // Rotate the files atomically, as cert-manager does.
    const second = await w.pki.issueLeaf({ subject: "CN=second,OU=readers" });
    writeFileSync(join(dir, "cert.new"), second.certificatePem);
    writeFileSync(join(dir, "key.new"), second.privateKeyPem);
    renameSync(join(dir, "key.new"), join(dir, "key.pem"));
    renameSync(join(dir, "cert.new"), join(dir, "cert.pem"));
    w.clock.advance(2 * 60_000); // 14 minutes left
    const b = await provider();
    expect(b.accessKeyId).not.toBe(a.accessKeyId);
    expect(provider.lastResult?.sourceIdentity).toBe("second");
  });

  it("keeps serving still-valid credentials when a renewal fails, and fails once they are too old", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const provider = fromRolesAnywhere({
      ...w.params,
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKeyPem,
      intermediates: w.pki.intermediate.certificatePem,
      endpoint: w.emu.url,
      clock: w.clock,
      maxAttempts: 1,
    });
    const a = await provider();
    await w.emu.close();
    w.clock.advance(50 * 60_000); // 10 minutes left: renewal fails, cached still valid
    expect((await provider()).accessKeyId).toBe(a.accessKeyId);
    w.clock.advance(9.5 * 60_000); // 30 s left
    await expect(provider()).rejects.toMatchObject({ code: "network" });
  });

  it("refuses bad ARNs at construction, before any network call", () => {
    expect(() =>
      fromRolesAnywhere({ trustAnchorArn: "x", profileArn: "y", roleArn: "z", certificate: "c" }),
    ).toThrow(/not a valid trust-anchor ARN/);
  });
});
