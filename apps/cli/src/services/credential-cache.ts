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
const {
  mkdirSync,
  openSync,
  closeSync,
  writeFileSync,
  readFileSync,
  renameSync,
  statSync,
  lstatSync,
  fstatSync,
  unlinkSync,
  constants,
} = process.getBuiltinModule("node:fs");
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

/**
 * Every input that changes the session or where its credentials come from, besides the certificate
 * file itself: credentials fetched with TLS checks off, over plain http or from another endpoint
 * must never answer a run without those settings.
 */
const KEY_FLAGS = [
  "trust-anchor-arn",
  "profile-arn",
  "role-arn",
  "region",
  "session-duration",
  "role-session-name",
  "endpoint",
  "private-key",
  "intermediates",
  "use-fips-endpoint",
  "use-dualstack-endpoint",
  "no-verify-ssl",
  "allow-http",
  "ca-bundle",
  "instance-properties",
] as const;

/** The environment that can change the endpoint (the AWS SDKs' variables), also part of the key. */
const KEY_ENV = [
  "AWS_ENDPOINT_URL_ROLESANYWHERE",
  "AWS_ENDPOINT_URL",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
] as const;

/** The largest cache entry read (an entry is under 2 KB). */
const MAX_ENTRY_BYTES = 64 * 1024;

/**
 * A cache directory or entry that another local user could have planted or could read: refused
 * with what to do, never trusted. Reported by the fast path like any user error.
 */
export class CacheSafetyError extends Error {
  override name = "CacheSafetyError";
  readonly code = "file-permission";
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

const uid = () => process.getuid?.();

/**
 * Refuses a cache directory that is a symlink, belongs to another user or that others may write,
 * and one whose parent others may write without the sticky bit (they could swap the directory).
 * A missing directory is fine: it is created 0700.
 */
function checkCacheDir(dir: string): void {
  const me = uid();
  if (me === undefined) return; // Windows: no owners or modes to check
  const hint = `Use a cache directory only you can write: --cache-dir under your home, or fix it with: chown ${me} ${dir} && chmod 700 ${dir}`;
  let stat: ReturnType<typeof lstatSync> | undefined;
  try {
    stat = lstatSync(dir);
  } catch {
    stat = undefined;
  }
  if (stat) {
    if (stat.isSymbolicLink())
      throw new CacheSafetyError(
        `The cache directory ${dir} is a symlink; iam-ra does not follow links there.`,
        hint,
      );
    if (!stat.isDirectory())
      throw new CacheSafetyError(`The cache directory ${dir} is not a directory.`, hint);
    if (stat.uid !== me)
      throw new CacheSafetyError(
        `The cache directory ${dir} belongs to another user (uid ${stat.uid}).`,
        hint,
      );
    if (stat.mode & 0o022)
      throw new CacheSafetyError(
        `The cache directory ${dir} is writable by other users (mode ${(stat.mode & 0o777).toString(8)}).`,
        hint,
      );
  }
  const parent = join(dir, "..");
  try {
    const p = statSync(parent);
    if (p.mode & 0o002 && !(p.mode & 0o1000)) {
      throw new CacheSafetyError(
        `The cache directory's parent ${parent} is writable by every user (and not sticky).`,
        hint,
      );
    }
  } catch (error) {
    if (error instanceof CacheSafetyError) throw error;
  }
}

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
  const key = JSON.stringify([
    certificate,
    identity,
    ...KEY_FLAGS.map((name) => String(flags[name] ?? "")),
    ...KEY_ENV.map((name) => env[name] ?? ""),
  ]);
  const name = `${fnv1a(key, 0x811c9dc5)}${fnv1a(key, 0x050c5d1f)}.json`;
  const dir = resolveCacheDir(flags, env);
  checkCacheDir(dir);
  return { path: join(dir, name), key };
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
  let fd: number;
  try {
    // Never through a link: an entry is a file we wrote ourselves, in a directory only we write.
    fd = openSync(slot.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") {
      throw new CacheSafetyError(
        `The cache entry ${slot.path} is a symlink; iam-ra does not follow links there.`,
        `Remove it: rm ${slot.path}`,
      );
    }
    return undefined; // missing or unreadable: a miss
  }
  try {
    const stat = fstatSync(fd);
    const me = uid();
    if (!stat.isFile() || stat.size > MAX_ENTRY_BYTES) return undefined;
    if (me !== undefined && (stat.uid !== me || stat.mode & 0o077)) {
      throw new CacheSafetyError(
        `The cache entry ${slot.path} ${stat.uid !== me ? `belongs to another user (uid ${stat.uid})` : `is readable or writable by others (mode ${(stat.mode & 0o777).toString(8)})`}; it is not trusted.`,
        `Remove it (rm ${slot.path}); iam-ra writes entries 0600 in a 0700 directory.`,
      );
    }
    const entry = JSON.parse(readFileSync(fd, "utf8")) as CacheEntry;
    const doc = entry.credentials;
    if (
      entry.key === slot.key &&
      doc?.Version === 1 &&
      new Date(doc.Expiration).getTime() - now.getTime() > CACHE_MARGIN_MS
    )
      return doc;
  } catch (error) {
    if (error instanceof CacheSafetyError) throw error;
    // unparsable: a miss, overwritten below
  } finally {
    closeSync(fd);
  }
  return undefined;
}

/**
 * Writes an entry to a 0600 file in a 0700 directory, atomically: a temp file created exclusively
 * (a planted file or link at its name makes the write fail, never receive the secret), then renamed.
 * @returns undefined, or why the entry could not be written (the caller still has its credentials).
 */
export async function writeCachedCredentials(
  slot: CacheSlot,
  certificateSha256: string,
  credentials: CredentialProcessOutput,
): Promise<string | undefined> {
  const path = slot.path;
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let created = false;
  try {
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    checkCacheDir(join(path, ".."));
    const fd = openSync(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    created = true;
    try {
      const entry: CacheEntry = { key: slot.key, certificateSha256, credentials };
      writeFileSync(fd, JSON.stringify(entry));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    created = false;
    return undefined;
  } catch (error) {
    return error instanceof CacheSafetyError ? error.message : `${(error as Error).message}`;
  } finally {
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }
}
