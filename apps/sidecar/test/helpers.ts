import { join } from "node:path";
import { createSecretVolume, createTestPki, type TestPki } from "@iam-ra/core/testing";
import {
  createBoundTrustPolicy,
  type Emulator,
  type EmulatorOptions,
  type RolesAnywhereSetUp,
  setUpRolesAnywhere,
  startEmulator,
} from "@iam-ra/emulator";

export const ROLE_ARN = "arn:aws:iam::123456789012:role/sidecar-app";

/** A mounted Secret volume holding `tls.crt` and `tls.key` (see createSecretVolume). */
export function createSecretDir() {
  const volume = createSecretVolume();
  return {
    ...volume,
    certificate: join(volume.dir, "tls.crt"),
    privateKey: join(volume.dir, "tls.key"),
  };
}

export interface World extends RolesAnywhereSetUp {
  emu: Emulator;
  pki: TestPki;
  /** Issues a leaf the role's trust policy accepts (subject OU=sidecar). */
  issue(): Promise<{ certificatePem: string; privateKeyPem: string; serialHex: string }>;
}

/** An emulator with a trust anchor, a profile and a role bound to OU=sidecar. */
export async function createWorld(options: EmulatorOptions = {}): Promise<World> {
  const emu = await startEmulator(options);
  const pki = await createTestPki();
  const setUp = await setUpRolesAnywhere(emu, {
    caCertificatePem: pki.root.certificatePem,
    roles: [{ roleArn: ROLE_ARN, trustPolicy: createBoundTrustPolicy("sidecar") }],
  });
  return {
    emu,
    pki,
    ...setUp,
    async issue() {
      const leaf = await pki.issueLeaf({ subject: "CN=app,OU=sidecar", issuer: "root" });
      return {
        certificatePem: leaf.certificatePem,
        privateKeyPem: leaf.privateKeyPem,
        serialHex: leaf.certificate.serialNumber.toLowerCase(),
      };
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
