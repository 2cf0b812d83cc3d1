import { X509Certificate } from "node:crypto";
import { IamRaError, readBoundedFile } from "@iam-ra/core";
import { readPassphrase } from "@iam-ra/core/rolesanywhere";
import { isPem, parsePemBlocks, readCredentialMaterial, serialToDecimal } from "@iam-ra/core/x509";
import { BaseCommand, flagsFromSpecs } from "../../base-command.ts";
import { Flags } from "../../runtime/flags.ts";
import { readCachedCredentials, resolveCacheSlot } from "../../services/credential-cache.ts";
import {
  CACHE_FLAGS,
  CREDENTIAL_FLAGS,
  type CredentialFlagValues,
} from "../../services/credential-options.ts";
import { formatSerial } from "../../services/serial.ts";

/** `credentials status --json`. Secrets never appear: only expiries, names and fingerprints. */
export interface CredentialsStatusResult {
  certificate: {
    path: string;
    subject: string;
    issuer: string;
    serialNumber: string;
    notBefore: string;
    notAfter: string;
    daysLeft: number;
    state: "valid" | "expired" | "not-yet-valid";
    fingerprintSha256: string;
    /** Checked only when --private-key (or a combined PEM/PKCS#12) is given. */
    keyMatches: boolean | null;
    keyProblem: string | null;
  };
  /** The `credential-process --cache` entry for these flags, if any. */
  cache: { expiration: string; fresh: boolean } | null;
  /** A running `iam-ra serve` or sidecar, when --server is given. */
  server: {
    url: string;
    ready: boolean;
    expiration: string | null;
    lastRefresh: { at: string; ok: boolean; error?: string } | null;
    nextRefreshAt: string | null;
  } | null;
}

export class CredentialsStatus extends BaseCommand {
  static override summary =
    "Show the certificate in use, cached credentials and a running server's last refresh.";
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate host.pem --private-key host.key",
    "<%= config.bin %> <%= command.id %> --certificate host.pem --server http://127.0.0.1:9911",
    "<%= config.bin %> <%= command.id %> --certificate host.pem --cache --json",
  ];
  static override flags = {
    ...flagsFromSpecs([...CREDENTIAL_FLAGS, ...CACHE_FLAGS]),
    server: Flags.string({
      description: "URL of a running `iam-ra serve` or sidecar to ask for its status.",
      env: "IAM_RA_SERVER",
    }),
  };

  async run(): Promise<CredentialsStatusResult> {
    const { flags } = await this.parse(CredentialsStatus);
    const values = flags as CredentialFlagValues;
    const path = typeof flags.certificate === "string" ? flags.certificate : undefined;
    if (!path)
      throw new IamRaError("invalid-input", "No certificate was given.", {
        hint: "Pass --certificate (or set IAM_RA_CERTIFICATE).",
      });
    // A regular file of bounded size: never /dev/zero, a FIFO or a directory.
    const bytes = Buffer.from(await readBoundedFile(path, { what: "certificate" }));
    let cert: X509Certificate;
    try {
      const der = isPem(bytes) ? parsePemBlocks(bytes).find((b) => b.label === "CERTIFICATE")?.der : bytes;
      cert = new X509Certificate(der ?? Buffer.alloc(0));
    } catch {
      throw new IamRaError("certificate-invalid", `${path} holds no X.509 certificate.`, {
        hint: "Pass a PEM or DER certificate (for PKCS#12, use read-certificate-data).",
      });
    }
    const now = new Date();
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    let keyMatches: boolean | null = null;
    let keyProblem: string | null = null;
    if (flags["private-key"] || /PRIVATE KEY/.test(bytes.toString("latin1"))) {
      try {
        await readCredentialMaterial({
          certificate: path,
          privateKey: typeof flags["private-key"] === "string" ? flags["private-key"] : undefined,
          passphrase: await readPassphrase(values, process.env),
        });
        keyMatches = true;
      } catch (error) {
        keyMatches = false;
        keyProblem = error instanceof Error ? error.message : String(error);
      }
    }
    let cache: CredentialsStatusResult["cache"] = null;
    if (flags.cache || flags["cache-dir"]) {
      const slot = await resolveCacheSlot(values, process.env);
      // Read with the epoch as "now" to see any entry, then judge freshness against the real time.
      const doc = slot ? await readCachedCredentials(slot, new Date(0)) : undefined;
      if (doc) {
        const fresh = (await readCachedCredentials(slot!, now)) !== undefined;
        cache = { expiration: doc.Expiration, fresh };
      }
    }
    let server: CredentialsStatusResult["server"] = null;
    if (flags.server) {
      const base = flags.server.replace(/\/+$/, "");
      let body: {
        ready: boolean;
        credentials: { expiration: string } | null;
        lastRefresh: { at: string; ok: boolean; error?: string } | null;
        nextRefreshAt: string | null;
      };
      try {
        const res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        body = (await res.json()) as typeof body;
      } catch (error) {
        throw new IamRaError("network", `Could not read ${base}/status: ${(error as Error).message}.`, {
          hint: "Check that `iam-ra serve` (or the sidecar) runs there; the port is in its first log line.",
        });
      }
      server = {
        url: base,
        ready: body.ready,
        expiration: body.credentials?.expiration ?? null,
        lastRefresh: body.lastRefresh,
        nextRefreshAt: body.nextRefreshAt,
      };
    }
    const result: CredentialsStatusResult = {
      certificate: {
        path,
        subject: cert.subject.replace(/\n/g, ", "),
        issuer: cert.issuer.replace(/\n/g, ", "),
        serialNumber: serialToDecimal(cert.serialNumber),
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
        daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
        state: now < notBefore ? "not-yet-valid" : now > notAfter ? "expired" : "valid",
        fingerprintSha256: cert.fingerprint256,
        keyMatches,
        keyProblem,
      },
      cache,
      server,
    };
    if (!this.jsonEnabled()) {
      const c = result.certificate;
      this.log(`certificate  ${c.path}`);
      this.log(`  subject    ${c.subject}`);
      this.log(`  issuer     ${c.issuer}`);
      this.log(`  serial     ${formatSerial(c.serialNumber)} (hex)`);
      this.log(`  valid      ${c.notBefore} → ${c.notAfter} (${c.state}, ${c.daysLeft} days left)`);
      if (c.keyMatches !== null)
        this.log(`  key        ${c.keyMatches ? "matches" : `problem: ${c.keyProblem}`}`);
      if (cache)
        this.log(`cache        expires ${cache.expiration}${cache.fresh ? "" : " (will be refreshed)"}`);
      else if (flags.cache || flags["cache-dir"]) this.log("cache        no entry for these flags");
      if (server) {
        this.log(`server       ${server.url} ${server.ready ? "ready" : "NOT READY"}`);
        if (server.expiration) this.log(`  expires    ${server.expiration}`);
        if (server.lastRefresh)
          this.log(
            `  last refresh ${server.lastRefresh.at} ${server.lastRefresh.ok ? "ok" : `failed: ${server.lastRefresh.error}`}`,
          );
        if (server.nextRefreshAt) this.log(`  next refresh ${server.nextRefreshAt}`);
      }
    }
    return result;
  }
}
