import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, mergeEnv, resolveSidecarConfig, startSidecar } from "@iam-ra/core/server";
import {
  createSoftHsm,
  FixedClock,
  hasSoftHsm,
  resetTokenSessions,
  type SoftHsm,
} from "@iam-ra/core/testing";
import { issueCertificateForKey } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createWorld, eventually, ROLE_ARN } from "./helpers.ts";

// The server keeps one PKCS#11 session and login for its life; a token reset closes them under it.
const available = hasSoftHsm();
if (!available && process.env.CI) throw new Error("CI needs softhsm2 and opensc (see .ci/run)");

const MIN = 60_000;
const PIN = "424242";
let hsm: SoftHsm;
let dir: string;

describe.skipIf(!available)("a key on a PKCS#11 token", () => {
  beforeAll(() => {
    hsm = createSoftHsm();
    // The module reads its configuration when first loaded, in this process.
    process.env.SOFTHSM2_CONF = hsm.conf;
    hsm.initToken("sidecar", PIN);
    dir = mkdtempSync(join(tmpdir(), "iam-ra-sidecar-p11-"));
  });
  afterAll(() => {
    hsm?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps serving through a token reset: the next refresh re-opens the session and logs in again", async () => {
    const clock = new FixedClock(new Date());
    const world = await createWorld({ clock });
    onTestFinished(() => world.emu.close());
    const publicKey = hsm.generateKey("sidecar", PIN, { keyType: "EC:prime256v1", label: "app", id: "01" });
    const { certificatePem } = await issueCertificateForKey(
      {
        subject: "CN=app,OU=sidecar",
        issuer: world.pki.root,
        notBefore: new Date(clock.now().getTime() - 86_400_000),
        notAfter: new Date(clock.now().getTime() + 86_400_000),
      },
      publicKey,
    );
    const certificate = join(dir, "app.pem");
    writeFileSync(certificate, certificatePem);
    const logs: Array<Record<string, unknown>> = [];
    const values = mergeEnv(
      {
        certificate,
        "private-key": "pkcs11:token=sidecar;object=app;type=private",
        "pkcs11-lib": hsm.module,
        "trust-anchor-arn": world.trustAnchorArn,
        "profile-arn": world.profileArn,
        "role-arn": ROLE_ARN,
        endpoint: world.emu.url,
        "max-attempts": "1",
        imds: true,
        port: "0",
      },
      {},
    );
    const config = await resolveSidecarConfig(values, { IAM_RA_PKCS11_PIN: PIN });
    const sidecar = await startSidecar(config, {
      logger: createLogger((line) => logs.push(JSON.parse(line)), "debug"),
      clock,
      sleep: (ms, signal) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(ms, 20));
          signal.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          });
        }),
      pollIntervalMs: 100,
    });
    onTestFinished(() => sidecar.close());
    await sidecar.source.firstAttempt;
    const first = sidecar.source.current();
    expect(first?.accessKeyId).toMatch(/^ASIA/);

    resetTokenSessions();
    clock.advance(31 * MIN); // past the planned refresh (30 min left of 60)
    const second = await eventually(async () => {
      const c = sidecar.source.current();
      return c && c.accessKeyId !== first!.accessKeyId ? c : undefined;
    });
    expect(second.accessKeyId).toMatch(/^ASIA/);
    expect(sidecar.source.status().lastRefresh?.ok).toBe(true);
    expect(logs.filter((l) => l.msg === "credential refresh failed")).toEqual([]);
    // Served to a client as ever, and the PIN is in no log line.
    const res = await fetch(`${sidecar.url}/readyz`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(logs)).not.toContain(PIN);
  });
});
