import {
  createLogger,
  mergeEnv,
  resolveSidecarConfig,
  type Sidecar,
  startSidecar,
} from "@iam-ra/core/server";
import { FixedClock } from "@iam-ra/core/testing";
import { startEmulator } from "@iam-ra/emulator";
import { describe, expect, it, onTestFinished } from "vitest";
import { createSecretDir, createWorld, eventually, ROLE_ARN, type World } from "./helpers.ts";

const MIN = 60_000;

/** Starts the sidecar in-process on a fixed clock; the loop polls the clock every 20 ms. */
async function startOnClock(world: World, secret: ReturnType<typeof createSecretDir>, clock: FixedClock) {
  const logs: Array<Record<string, unknown>> = [];
  const values = mergeEnv(
    {
      certificate: secret.certificate,
      "private-key": secret.privateKey,
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
  const config = await resolveSidecarConfig(values, {});
  const sidecar: Sidecar = await startSidecar(config, {
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
  return { sidecar, logs };
}

describe("background refresh against the emulator", () => {
  it("outage: last-known-good until expiry, then 503; readiness returns with the service", async () => {
    const clock = new FixedClock(new Date());
    const world = await createWorld({ clock });
    const port = world.emu.port;
    const secret = createSecretDir();
    onTestFinished(secret.cleanup);
    const leaf = await world.issue();
    secret.publish({ "tls.crt": leaf.certificatePem, "tls.key": leaf.privateKeyPem });
    const { sidecar, logs } = await startOnClock(world, secret, clock);
    const first = sidecar.source.current();
    expect(first).toBeDefined();
    const ready = () => fetch(`${sidecar.url}/readyz`).then((r) => r.status);
    expect(await ready()).toBe(200);

    // The service goes away; its state is kept for the restart.
    const state = structuredClone(world.emu.state);
    await world.emu.close();
    clock.advance(31 * MIN); // past the planned refresh (30 min left of 60)
    await eventually(async () => (sidecar.source.status().lastRefresh?.ok === false ? true : undefined));
    expect(sidecar.source.current()?.accessKeyId).toBe(first!.accessKeyId);
    expect(await ready()).toBe(200);

    clock.advance(30 * MIN); // past expiry
    expect(sidecar.source.current()).toBeUndefined();
    expect(await ready()).toBe(503);
    const token = await (
      await fetch(`${sidecar.url}/latest/api/token`, {
        method: "PUT",
        headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
      })
    ).text();
    const creds = await fetch(`${sidecar.url}/latest/meta-data/iam/security-credentials/sidecar-app`, {
      headers: { "x-aws-ec2-metadata-token": token },
    });
    expect(creds.status).toBe(503);

    // The service is back on the same port with the same state: the next retry succeeds.
    const again = await startEmulator({ port, clock });
    onTestFinished(() => again.close());
    Object.assign(again.state, state);
    clock.advance(2 * MIN); // past any backoff
    await eventually(async () => ((await ready()) === 200 ? true : undefined));
    expect(sidecar.source.current()?.accessKeyId).not.toBe(first!.accessKeyId);
    const failures = logs.filter((l) => l.msg === "credential refresh failed");
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatchObject({ level: "error", code: "network" });
  });

  it("rotation: a valid new pair mints a session at once; a mismatched pair is refused and the old kept", async () => {
    const clock = new FixedClock(new Date());
    const world = await createWorld({ clock });
    onTestFinished(() => world.emu.close());
    const secret = createSecretDir();
    onTestFinished(secret.cleanup);
    const a = await world.issue();
    secret.publish({ "tls.crt": a.certificatePem, "tls.key": a.privateKeyPem });
    const { sidecar, logs } = await startOnClock(world, secret, clock);
    const first = sidecar.source.current()!;
    const serialOf = () => sidecar.source.status().certificate?.serialNumber;
    const firstSerial = serialOf();

    const b = await world.issue();
    secret.publish({ "tls.crt": b.certificatePem, "tls.key": b.privateKeyPem });
    const rotated = await eventually(async () => {
      const c = sidecar.source.current();
      return c && c.accessKeyId !== first.accessKeyId ? c : undefined;
    });
    expect(serialOf()).toBe(BigInt(`0x${b.serialHex}`).toString());
    expect(serialOf()).not.toBe(firstSerial);
    expect(world.emu.state.sessions.at(-1)).toBeDefined();

    // A certificate with someone else's key: refused, the working pair and its credentials stay.
    const c = await world.issue();
    secret.publish({ "tls.crt": c.certificatePem, "tls.key": a.privateKeyPem });
    await eventually(async () =>
      logs.some((l) => l.msg === "rotated certificate refused; keeping the previous one") ? true : undefined,
    );
    expect(sidecar.source.current()?.accessKeyId).toBe(rotated.accessKeyId);
    expect(serialOf()).toBe(BigInt(`0x${b.serialHex}`).toString());
    const refused = logs.find((l) => l.msg === "rotated certificate refused; keeping the previous one");
    expect(refused).toMatchObject({ code: "key-certificate-mismatch" });
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toContain('iam_ra_certificate_rotations_total{result="refused"} 1');
    expect(metrics).toContain('iam_ra_certificate_rotations_total{result="accepted"} 1');
    // Logs never carry key material or credentials.
    const text = JSON.stringify(logs);
    for (const s of [a.privateKeyPem.split("\n")[1]!, rotated.secretAccessKey, rotated.sessionToken])
      expect(text).not.toContain(s);
  });
});

describe("configuration", () => {
  const base = {
    certificate: "/c.pem",
    "trust-anchor-arn": "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a",
    "profile-arn": "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
    "role-arn": ROLE_ARN,
  };
  it.each([
    [{ ...base, imds: true, host: "0.0.0.0" }, /beyond this machine/],
    [{ ...base, "token-file": "/t", host: "0.0.0.0", "allow-remote": true, imds: true }, /loopback only/],
    [{ ...base, host: "0.0.0.0", "allow-remote": true }, /needs a token/],
    [{ ...base }, /Nothing to serve/],
    [{ ...base, imds: true, "token-file-mode": "0644", "token-file": "/t" }, /without world access/],
    [{ ...base, imds: true, port: "70000" }, /out of range/],
    [{ ...base, imds: true, port: "x" }, /whole number/],
    [{ ...base, imds: true, "log-level": "loud" }, /log level/],
    [{ ...base, imds: true, "role-arn": "nope" }, /role/i],
  ])("refuses %j", async (flags, message) => {
    await expect(
      (async () => resolveSidecarConfig(mergeEnv(flags as Record<string, string | boolean>, {}), {}))(),
    ).rejects.toMatchObject({ message: expect.stringMatching(message), hint: expect.any(String) });
  });

  it("reads IAM_RA_* variables; a flag wins over its variable", async () => {
    const values = mergeEnv(
      { port: "1234" },
      {
        IAM_RA_CERTIFICATE: "/c.pem",
        IAM_RA_TRUST_ANCHOR_ARN: base["trust-anchor-arn"],
        IAM_RA_PROFILE_ARN: base["profile-arn"],
        IAM_RA_ROLE_ARN: ROLE_ARN,
        IAM_RA_PORT: "9999",
        IAM_RA_IMDS: "true",
      },
    );
    const config = await resolveSidecarConfig(values, {});
    expect(config).toMatchObject({
      port: 1234,
      host: "127.0.0.1",
      imds: { enabled: true, roleName: "sidecar-app", region: "us-east-1" },
      watchPaths: ["/c.pem"],
    });
  });
});
