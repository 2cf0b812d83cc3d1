/**
 * Test helpers shared by every iam-ra package: a fixed clock, a small PKI, fakes and local servers.
 * (moto_server and its Roles Anywhere plugin: `startMoto` from `@iam-ra/emulator/testing`.)
 * @module
 */
import {
  createSelfSignedCa,
  type IssuedCertificate,
  issueCertificate,
  type KeyAlgorithm,
} from "../x509/ca.ts";

export {
  type CertManagerSecretFiles,
  createSecretVolume,
  issueLikeCertManager,
  issueLikeCsiDriver,
  mergeDeploymentPatch,
} from "./k8s.ts";

/**
 * A clock that stands still until moved.
 * @public
 */
export class FixedClock {
  #now: Date;
  constructor(start: Date | string = "2026-01-15T12:00:00Z") {
    this.#now = new Date(start);
  }
  now(): Date {
    return new Date(this.#now);
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }
  set(date: Date | string): void {
    this.#now = new Date(date);
  }
}

/**
 * A root CA, an intermediate CA and a way to issue leaf certificates under either.
 * @public
 */
export interface TestPki {
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
  /** Issues a client certificate (clientAuth) valid from `notBefore` for `days`. */
  issueLeaf(options?: {
    subject?: string;
    issuer?: "root" | "intermediate";
    keyAlgorithm?: KeyAlgorithm;
    notBefore?: Date;
    notAfter?: Date;
    san?: { dns?: string[]; uri?: string[]; dirName?: string[] };
    serialNumber?: string;
  }): Promise<IssuedCertificate>;
}

/**
 * Creates a small PKI valid around `at` (default: now): root and intermediate valid ±1 year.
 * @public
 */
export async function createTestPki(
  options: { at?: Date; keyAlgorithm?: KeyAlgorithm } = {},
): Promise<TestPki> {
  const at = options.at ?? new Date();
  const day = 86_400_000;
  const notBefore = new Date(at.getTime() - 365 * day);
  const notAfter = new Date(at.getTime() + 365 * day);
  const root = await createSelfSignedCa({
    subject: "CN=iam-ra Test Root CA,O=iam-ra tests",
    notBefore,
    notAfter,
    keyAlgorithm: options.keyAlgorithm,
  });
  const intermediate = await issueCertificate({
    subject: "CN=iam-ra Test Intermediate CA,O=iam-ra tests",
    issuer: root,
    ca: { pathLength: 0 },
    notBefore,
    notAfter,
  });
  return {
    root,
    intermediate,
    issueLeaf: (leaf = {}) =>
      issueCertificate({
        subject: leaf.subject ?? "CN=workload-1,OU=readers,O=iam-ra tests",
        issuer: leaf.issuer === "root" ? root : intermediate,
        keyAlgorithm: leaf.keyAlgorithm,
        notBefore: leaf.notBefore ?? new Date(at.getTime() - day),
        notAfter: leaf.notAfter ?? new Date(at.getTime() + 30 * day),
        san: leaf.san,
        serialNumber: leaf.serialNumber,
      }),
  };
}

export { createMemoryObjectStore, type MemoryObjectStore } from "./memory-objects.ts";
export { freePort } from "./net.ts";
export { type ConnectProxy, startConnectProxy } from "./proxy.ts";
export { createSoftHsm, hasSoftHsm, resetTokenSessions, SOFTHSM_MODULE, type SoftHsm } from "./softhsm.ts";
export { hasSoftwareTpm, type SoftwareTpm, startSoftwareTpm, TPM2_PKCS11_MODULE } from "./tpm.ts";
