/**
 * The flags shared by the credential commands (`credential-process`, later `serve` and `update`),
 * defined once: the oclif commands and the start-up-critical fast path both read this table.
 * @module
 */

import type { CredentialOptionSpec } from "@iam-ra/core/rolesanywhere";

export type CredentialFlagSpec = CredentialOptionSpec;
/** The credential options, defined once in @iam-ra/core (shared with the sidecar). */
export { CREDENTIAL_OPTIONS as CREDENTIAL_FLAGS } from "@iam-ra/core/rolesanywhere";

export const CACHE_FLAGS = [
  {
    name: "cache",
    env: "IAM_RA_CACHE",
    type: "boolean",
    description: "Reuse credentials from a 0600 cache file until 15 minutes before expiry.",
  },
  {
    name: "cache-dir",
    env: "IAM_RA_CACHE_DIR",
    type: "string",
    description: "Cache directory (default $XDG_CACHE_HOME/iam-ra or ~/.cache/iam-ra).",
  },
] as const satisfies readonly CredentialFlagSpec[];

export type CredentialFlagValues = Partial<Record<string, string | boolean | number | undefined>>;
