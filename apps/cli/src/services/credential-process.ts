import { createHash } from "node:crypto";
import { createSession, preconnectSession, resolveSessionInputs } from "@iam-ra/core/rolesanywhere";
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

/**
 * Runs `credential-process`: returns the document to print. Uses the cache when asked.
 */
export async function runCredentialProcess(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
  now = new Date(),
): Promise<CredentialProcessOutput> {
  // Validates first (no certificate → a clear error), the same way as every command that signs.
  const session = await resolveSessionInputs(flags, env);
  const slot = flags.cache ? await resolveCacheSlot(flags, env) : undefined;
  if (slot) {
    const hit = await readCachedCredentials(slot, now);
    if (hit) return hit;
  }
  // The connection opens while the key is read and parsed.
  preconnectSession(session.params, session.options);
  const material = await readCredentialMaterial({ ...session.material, validAt: now });
  const result = await createSession(material, session.params, session.options);
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
