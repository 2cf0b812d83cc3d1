/**
 * https for the emulator: a serving certificate made on the spot (its own CA, which clients are told
 * to trust), or one given. AWS's Python library, the Go helper and the Java plugin only speak https.
 * @module
 */
import { createSelfSignedCa, issueCertificate } from "@iam-ra/core/x509";

/** A serving certificate and key, and the CA that clients trust. @public */
export interface EmulatorTls {
  /** The serving certificate, then its CA (PEM). */
  certificatePem: string;
  privateKeyPem: string;
  /** The CA to trust (PEM): `--ca-bundle`, `AWS_CA_BUNDLE`, `verify=` in Python. */
  caCertificatePem: string;
}

/**
 * Makes a CA and a serving certificate for `localhost`, `127.0.0.1` and `::1` (and `hosts`), valid for
 * `days` (default 30). Nothing is written; the caller decides where the CA goes.
 * @public
 */
export async function createEmulatorTls(
  options: { hosts?: string[]; days?: number } = {},
): Promise<EmulatorTls> {
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + (options.days ?? 30) * 86_400_000);
  const ca = await createSelfSignedCa({ subject: "CN=iam-ra emulator local CA", notBefore, notAfter });
  const names = ["localhost", ...(options.hosts ?? [])];
  const ips = ["127.0.0.1", "::1", ...names.filter((h) => /^[\d.]+$|:/.test(h))];
  const leaf = await issueCertificate({
    subject: "CN=localhost",
    issuer: ca,
    notBefore,
    notAfter,
    extendedKeyUsage: "serverAuth",
    san: { dns: names.filter((h) => !/^[\d.]+$|:/.test(h)), ip: [...new Set(ips)] },
  });
  return {
    certificatePem: `${leaf.certificatePem.trim()}\n${ca.certificatePem.trim()}\n`,
    privateKeyPem: leaf.privateKeyPem,
    caCertificatePem: ca.certificatePem,
  };
}

/**
 * The TLS set-up of the command lines (`iam-ra emulator`, `iam-ra-emulator`): `--tls-cert` and
 * `--tls-key` (PEM files) are used as given; `--tls` alone makes a certificate and writes its CA to
 * `--tls-ca-out` (default `./iam-ra-emulator-ca.pem`) for clients to trust. Undefined: plain http.
 * @public
 */
export async function emulatorTlsFromFlags(flags: {
  tls?: boolean | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsCaOut?: string | undefined;
}): Promise<
  { tls: EmulatorTls | { certificatePem: string; privateKeyPem: string }; caFile?: string } | undefined
> {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { resolve } = await import("node:path");
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
    throw new Error("--tls-cert and --tls-key go together (the serving certificate chain and its key, PEM).");
  if (flags.tlsCert && flags.tlsKey) {
    const read = (flag: string, path: string) => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        throw new Error(`--${flag} ${path} cannot be read.`);
      }
    };
    return {
      tls: { certificatePem: read("tls-cert", flags.tlsCert), privateKeyPem: read("tls-key", flags.tlsKey) },
    };
  }
  if (!flags.tls && flags.tlsCaOut === undefined) return undefined;
  const tls = await createEmulatorTls();
  const caFile = resolve(flags.tlsCaOut ?? "iam-ra-emulator-ca.pem");
  writeFileSync(caFile, tls.caCertificatePem, { mode: 0o644 });
  return { tls, caFile };
}
