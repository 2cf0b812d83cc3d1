import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { IamRaError } from "@iam-ra/core";
import { createNodeTransport, createSession } from "@iam-ra/core/rolesanywhere";
import { readCredentialMaterial } from "@iam-ra/core/x509";
import {
  type CredentialProcessOutput,
  readCachedCredentials,
  resolveCacheSlot,
  writeCachedCredentials,
} from "./credential-cache.ts";
import type { CredentialFlagValues } from "./credential-options.ts";

/** Re-exported for the fast path's error report (same class as thrown here). */
export { IamRaError } from "@iam-ra/core";
export type { CredentialProcessOutput } from "./credential-cache.ts";

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

async function readPassphrase(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const file = str(flags["private-key-passphrase-file"]);
  if (file) {
    try {
      return (await readFile(file, "utf8")).replace(/\r?\n$/, "");
    } catch {
      throw new IamRaError("file-not-found", `The passphrase file ${file} cannot be read.`, {
        hint: "Check --private-key-passphrase-file (or IAM_RA_PRIVATE_KEY_PASSPHRASE_FILE).",
      });
    }
  }
  return env.IAM_RA_PRIVATE_KEY_PASSPHRASE;
}

/**
 * Runs `credential-process`: returns the document to print. Uses the cache when asked.
 */
export async function runCredentialProcess(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
  now = new Date(),
): Promise<CredentialProcessOutput> {
  const certificate = str(flags.certificate);
  if (!certificate) {
    throw new IamRaError("invalid-input", "No certificate was given.", {
      hint: "Pass --certificate (or set IAM_RA_CERTIFICATE).",
    });
  }
  const slot = flags.cache ? await resolveCacheSlot(flags, env) : undefined;
  if (slot) {
    const hit = await readCachedCredentials(slot, now);
    if (hit) return hit;
  }
  const material = await readCredentialMaterial({
    certificate,
    privateKey: str(flags["private-key"]),
    intermediates: str(flags.intermediates),
    passphrase: await readPassphrase(flags, env),
    validAt: now,
  });
  const duration = flags["session-duration"];
  const result = await createSession(
    material,
    {
      trustAnchorArn: str(flags["trust-anchor-arn"]) ?? "",
      profileArn: str(flags["profile-arn"]) ?? "",
      roleArn: str(flags["role-arn"]) ?? "",
      durationSeconds: duration === undefined ? undefined : Number(duration),
      roleSessionName: str(flags["role-session-name"]),
    },
    {
      region: str(flags.region),
      endpoint: str(flags.endpoint),
      useFips: Boolean(flags["use-fips-endpoint"]),
      useDualStack: Boolean(flags["use-dualstack-endpoint"]),
      timeoutMs: flags.timeout === undefined ? undefined : Number(flags.timeout),
      maxAttempts: flags["max-attempts"] === undefined ? undefined : Number(flags["max-attempts"]),
      transport: createNodeTransport({
        proxyEnv: env,
        ca: str(flags["ca-bundle"]) ? await readFile(String(flags["ca-bundle"]), "utf8") : undefined,
        insecureSkipVerify: Boolean(flags["no-verify-ssl"]),
      }),
    },
  );
  const doc: CredentialProcessOutput = {
    Version: 1,
    AccessKeyId: result.credentials.accessKeyId,
    SecretAccessKey: result.credentials.secretAccessKey,
    SessionToken: result.credentials.sessionToken,
    Expiration: result.credentials.expirationText,
  };
  if (slot) {
    const fingerprint = createHash("sha256").update(material.certificate.raw).digest("hex");
    await writeCachedCredentials(slot, fingerprint, doc);
  }
  return doc;
}
