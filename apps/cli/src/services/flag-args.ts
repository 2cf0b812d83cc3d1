/**
 * Flag values back into command-line arguments, for the commands iam-ra writes for others to run
 * (credential_process lines, systemd units).
 * @module
 */
import { resolve } from "node:path";
import type { CredentialFlagSpec, CredentialFlagValues } from "./credential-options.ts";

/** Flags whose value is a file or directory: written as absolute paths. */
export const PATH_FLAGS: ReadonlySet<string> = new Set([
  "certificate",
  "private-key",
  "intermediates",
  "private-key-passphrase-file",
  "ca-bundle",
  "cache-dir",
]);

/** `--name value` pairs for the flags that are set, in table order; booleans as bare `--name`. */
export function toFlagArgs(
  specs: readonly CredentialFlagSpec[],
  flags: CredentialFlagValues,
  cwd: string,
): string[] {
  const args: string[] = [];
  for (const spec of specs) {
    const value = flags[spec.name];
    if (value === undefined || value === false || value === "") continue;
    if (spec.type === "boolean") args.push(`--${spec.name}`);
    else {
      const text = String(value);
      // A path is made absolute (the command runs from anywhere); a pkcs11: URI is not a path.
      const path = PATH_FLAGS.has(spec.name) && !/^pkcs11:/i.test(text);
      args.push(`--${spec.name}`, path ? resolve(cwd, text) : text);
    }
  }
  return args;
}
