/**
 * The `credential-process --cache` file store. It sits on the start-up-critical path of a cache
 * hit, so it imports no part of @iam-ra/core and hashes nothing: OpenSSL's first use (node:crypto)
 * or a cold JS SHA-256 each cost more than the rest of the hit (see bench/credential-process.mjs).
 *
 * An entry is found by a short FNV-1a name and accepted only when its recorded key equals this
 * run's key exactly: the ARNs and options, the certificate's path and the file's identity (device,
 * inode, size, mtime, ctime). Any rewrite or atomic swap of the certificate changes that identity,
 * so a rotated certificate never reuses credentials minted for the old one. The entry also keeps
 * the certificate's SHA-256 fingerprint, computed on the miss path where crypto is loaded anyway.
 * @module
 */
import type { CredentialFlagValues } from "./credential-options.ts";

// Builtins through getBuiltinModule and synchronous IO: ES imports of node:fs/promises, node:os and
// node:path and the promise machinery cost ~5 ms of a ~35 ms cache hit (measured on Node 24).
const { mkdirSync, openSync, closeSync, writeFileSync, readFileSync, renameSync, statSync } =
  process.getBuiltinModule("node:fs");
const { homedir } = process.getBuiltinModule("node:os");
const { join, resolve } = process.getBuiltinModule("node:path");

/** The `credential_process` document (AWS CLI / SDK contract). */
export interface CredentialProcessOutput {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** Refresh cached credentials this long before they expire (botocore's advisory window). */
export const CACHE_MARGIN_MS = 15 * 60_000;

/** Every input that changes the session, besides the certificate file itself. */
const KEY_FLAGS = [
  "trust-anchor-arn",
  "profile-arn",
  "role-arn",
  "region",
  "session-duration",
  "role-session-name",
  "endpoint",
] as const;

/** Where the cache lives: `--cache-dir`, else `$XDG_CACHE_HOME/iam-ra/credential-process`. */
export function resolveCacheDir(flags: CredentialFlagValues, env: NodeJS.ProcessEnv): string {
  const dir = flags["cache-dir"];
  if (typeof dir === "string" && dir !== "") return dir;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "iam-ra", "credential-process");
}

/** Where an entry lives and the exact key it must carry to be used. */
export interface CacheSlot {
  path: string;
  key: string;
}

/** FNV-1a, 32 bits twice (two offsets): a file name, not a security boundary (keys are compared). */
function fnv1a(text: string, seed: number): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The cache slot of these flags, or undefined when the certificate cannot be read. */
export async function resolveCacheSlot(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
): Promise<CacheSlot | undefined> {
  const certificate = resolve(String(flags.certificate));
  let identity: string;
  try {
    const s = statSync(certificate, { bigint: true });
    identity = [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(":");
  } catch {
    return undefined; // the full path reports an unreadable certificate properly
  }
  const key = JSON.stringify([certificate, identity, ...KEY_FLAGS.map((name) => String(flags[name] ?? ""))]);
  const name = `${fnv1a(key, 0x811c9dc5)}${fnv1a(key, 0x050c5d1f)}.json`;
  return { path: join(resolveCacheDir(flags, env), name), key };
}

/** A cache entry: the `credential_process` document, its exact key and the certificate fingerprint. */
interface CacheEntry {
  key: string;
  certificateSha256: string;
  credentials: CredentialProcessOutput;
}

/** The cached document when the entry's key matches and it is still outside the refresh margin. */
export async function readCachedCredentials(
  slot: CacheSlot,
  now: Date,
): Promise<CredentialProcessOutput | undefined> {
  try {
    const entry = JSON.parse(readFileSync(slot.path, "utf8")) as CacheEntry;
    const doc = entry.credentials;
    if (
      entry.key === slot.key &&
      doc?.Version === 1 &&
      new Date(doc.Expiration).getTime() - now.getTime() > CACHE_MARGIN_MS
    )
      return doc;
  } catch {
    // missing or unreadable: a miss
  }
  return undefined;
}

/** Writes an entry to a 0600 file in a 0700 directory, atomically (temp file + rename). */
export async function writeCachedCredentials(
  slot: CacheSlot,
  certificateSha256: string,
  credentials: CredentialProcessOutput,
): Promise<void> {
  const path = slot.path;
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    const entry: CacheEntry = { key: slot.key, certificateSha256, credentials };
    writeFileSync(fd, JSON.stringify(entry));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
