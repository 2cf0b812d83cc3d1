import { createHash } from "node:crypto";
import { createSession, preconnectSession, resolveSessionInputs } from "@iam-ra/core/rolesanywhere";
import { readCredentialMaterial } from "@iam-ra/core/x509";
import { type CacheSlot, type CredentialProcessOutput, writeCachedCredentials } from "./credential-cache.ts";
import type { CredentialFlagValues } from "./credential-options.ts";

/** Re-exported for the fast path's error report (same class as thrown here). */
export { asIamRaError, formatError, IamRaError } from "@iam-ra/core";
export type { CredentialProcessOutput } from "./credential-cache.ts";

/** What the miss path gets from the fast path, which already looked in the cache. */
export interface CredentialProcessRun {
  now: Date;
  /** The cache slot the fast path resolved and found no usable entry in (with --cache). */
  slot: CacheSlot | undefined;
  /** Says something the user should hear (on stderr); never a secret. */
  warn(line: string): void;
}

/**
 * The cache-miss half of `credential-process`: validates the options, signs CreateSession, writes
 * the cache entry, and returns the document to print. A cache entry that cannot be written is a
 * warning: the credentials are still returned.
 */
export async function runCredentialProcess(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
  run: CredentialProcessRun,
): Promise<CredentialProcessOutput> {
  // Validates first (no certificate → a clear error), the same way as every command that signs.
  const session = await resolveSessionInputs(flags, env);
  for (const warning of session.warnings) run.warn(warning);
  // The connection opens while the key is read and parsed.
  preconnectSession(session.params, session.options);
  const material = await readCredentialMaterial({ ...session.material, validAt: run.now });
  const result = await createSession(material, session.params, session.options);
  const doc: CredentialProcessOutput = {
    Version: 1,
    AccessKeyId: result.credentials.accessKeyId,
    SecretAccessKey: result.credentials.secretAccessKey,
    SessionToken: result.credentials.sessionToken,
    Expiration: result.credentials.expirationText,
  };
  if (run.slot) {
    const fingerprint = createHash("sha256").update(material.certificate.raw).digest("hex");
    const problem = await writeCachedCredentials(run.slot, fingerprint, doc);
    if (problem) run.warn(`the credentials were not cached (${problem}); the next call signs again.`);
  }
  return doc;
}
