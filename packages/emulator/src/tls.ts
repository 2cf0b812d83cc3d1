/**
 * https for the emulator: a serving certificate made on the spot (its own CA, which clients are told
 * to trust), or one given. AWS's Python library, the Go helper and the Java plugin only speak https.
 * @module
 */
import { createServingCertificate, type ServingCertificate } from "@iam-ra/core/x509";

/** A serving certificate and key, and the CA that clients trust. @public */
export type EmulatorTls = ServingCertificate;

/**
 * Makes a CA and a serving certificate for `localhost`, `127.0.0.1` and `::1` (and `hosts`), valid for
 * `days` (default 30). Nothing is written; the caller decides where the CA goes.
 * @public
 */
export async function createEmulatorTls(
  options: { hosts?: string[]; days?: number } = {},
): Promise<EmulatorTls> {
  const isIp = (h: string) => /^[\d.]+$|:/.test(h);
  const names = ["localhost", ...(options.hosts ?? [])];
  return await createServingCertificate({
    commonName: "localhost",
    caName: "iam-ra emulator local CA",
    dnsNames: names.filter((h) => !isIp(h)),
    ips: [...new Set(["127.0.0.1", "::1", ...names.filter(isIp)])],
    days: options.days,
  });
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
