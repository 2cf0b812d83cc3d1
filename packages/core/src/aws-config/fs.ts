/**
 * File IO for the shared files: atomic replacement and a lock file, so a reader never sees a
 * half-written file and two writers never lose each other's profiles.
 * @module
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, lstat, mkdir, open, readlink, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { IamRaError } from "../errors.ts";
import { readBoundedFile } from "../files.ts";

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Turns a file-system error into an {@link IamRaError} that names the file and the next step.
 * @public
 */
export function toFileError(error: unknown, path: string, action: "read" | "write"): IamRaError {
  const code = errnoOf(error);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new IamRaError("file-permission", `Cannot ${action} ${path} (${code}).`, {
      cause: error,
      hint: `Check that this user may ${action} ${action === "write" ? `files in ${dirname(path)}` : "it"}.`,
    });
  }
  if (code === "ENOENT") {
    return new IamRaError("file-not-found", `${path} does not exist.`, {
      cause: error,
      hint: "Check the path.",
    });
  }
  if (code === "EISDIR" || code === "ENOTDIR") {
    return new IamRaError("invalid-input", `${path} is not a file (${code}).`, {
      cause: error,
      hint: "Point the path at a file, not a directory.",
    });
  }
  return new IamRaError("invalid-input", `Cannot ${action} ${path} (${code ?? String(error)}).`, {
    cause: error,
    hint: "Check the path, the disk and the permissions.",
  });
}

/**
 * Follows symlinks at `path` to the file they point to, even when that file does not exist yet.
 * Writing there (not at `path`) keeps a symlinked `~/.aws/credentials` a symlink. Only links owned
 * by this user or by root are followed; another user's link is refused.
 * @public
 */
export async function resolveSymlinkTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(current);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return current;
      throw toFileError(error, current, "read");
    }
    if (!info.isSymbolicLink()) return current;
    // A link another user made (root editing a user's file, or a shared directory) could point
    // anywhere, say at /etc/passwd, which the write would then replace with a 0600 file.
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
      throw new IamRaError(
        "file-permission",
        `${current} is a symlink owned by another user (uid ${info.uid}); iam-ra does not follow it.`,
        { hint: "Replace the symlink with the file it points to, or run iam-ra as the link's owner." },
      );
    }
    const target = await readlink(current);
    current = isAbsolute(target) ? target : resolve(dirname(current), target);
  }
  throw new IamRaError("invalid-input", `${path} is a symlink loop.`, { hint: "Fix or remove the symlink." });
}

/**
 * Options of {@link writeFileAtomic}.
 * @public
 */
export interface WriteFileAtomicOptions {
  /**
   * Mode of the written file. Default `0o600`, applied even when the file it replaces was wider:
   * these files hold secrets, and a rewrite is the moment to tighten them.
   */
  mode?: number | undefined;
}

/**
 * Replaces a file atomically: writes a temp file in the same directory (created `0o600` with
 * `O_EXCL`), fsyncs it, renames it over the target and fsyncs the directory. A symlink at `path` is
 * followed, so the file it points to is replaced and the link stays. When the old file belongs to
 * another user (root editing a user's file), ownership is kept if the process may set it. Missing
 * directories are created `0o700`.
 * @returns the path actually written (the symlink's target).
 * @public
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<string> {
  const mode = options.mode ?? 0o600;
  const target = await resolveSymlinkTarget(path);
  const dir = dirname(target);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw toFileError(error, dir, "write");
  }
  const previous = await stat(target).catch(() => undefined);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.writeFile(data);
      // The umask may have narrowed the mode at open; set it exactly.
      await handle.chmod(mode);
      const created = await handle.stat();
      if (previous && (previous.uid !== created.uid || previous.gid !== created.gid)) {
        await handle.chown(previous.uid, previous.gid).catch(() => undefined);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error instanceof IamRaError ? error : toFileError(error, target, "write");
  }
  // Persist the rename itself; not every platform can open a directory, which is fine.
  try {
    const handle = await open(dir, "r");
    await handle.sync().finally(() => handle.close());
  } catch {
    // best effort
  }
  return target;
}

/**
 * Options of {@link withFileLock}.
 * @public
 */
export interface FileLockOptions {
  /** Give up waiting after this long. Default 15 000 ms. */
  timeoutMs?: number | undefined;
  /**
   * A lock older than this is broken. Default 10 000 ms: a holder only reads, edits and writes one
   * small file. A lock whose process is gone (same host) is broken at once.
   */
  staleMs?: number | undefined;
  /** Default: the system clock. */
  clock?: { now(): Date } | undefined;
  /** Default: `setTimeout`. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Who takes the lock. Default: this process's pid and the host name. */
  owner?: { pid: number; hostname: string } | undefined;
  /** Default: `process.kill(pid, 0)` succeeds or fails with `EPERM`. */
  isProcessAlive?: ((pid: number) => boolean) | undefined;
  /** Jitter for the polling interval, a number in [0, 1). Default `Math.random`. */
  random?: (() => number) | undefined;
}

interface LockInfo {
  pid: number;
  hostname: string;
  token: string;
  createdAt: number;
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === "EPERM";
  }
}

interface HeldLock {
  info: LockInfo | undefined;
  ino: number;
  mtimeMs: number;
}

/** A lock file holds one small JSON object; anything longer is not one of ours. */
const MAX_LOCK_BYTES = 4096;

async function readLock(lockPath: string): Promise<HeldLock | undefined> {
  try {
    // Not through a symlink, and never waiting on a FIFO planted at the path.
    const handle = await open(lockPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await handle.stat();
      if (!st.isFile()) {
        throw new IamRaError(
          "invalid-input",
          `${lockPath} is not a lock file iam-ra wrote (not a regular file).`,
          {
            hint: `Delete ${lockPath} if no iam-ra is writing the file next to it.`,
          },
        );
      }
      const buffer = Buffer.alloc(MAX_LOCK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
      const raw = buffer.subarray(0, bytesRead).toString("utf8");
      let info: LockInfo | undefined;
      try {
        const parsed = JSON.parse(raw) as Partial<LockInfo>;
        if (
          typeof parsed.pid === "number" &&
          typeof parsed.hostname === "string" &&
          typeof parsed.token === "string" &&
          typeof parsed.createdAt === "number"
        ) {
          info = parsed as LockInfo;
        }
      } catch {
        // being written, or written by a crashed process: judged by age alone
      }
      return { info, ino: st.ino, mtimeMs: st.mtimeMs };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof IamRaError) throw error;
    if (errnoOf(error) === "ENOENT") return undefined;
    if (errnoOf(error) === "ELOOP") {
      throw new IamRaError("invalid-input", `${lockPath} is a symlink, not a lock file iam-ra wrote.`, {
        cause: error,
        hint: `Delete ${lockPath} if no iam-ra is writing the file next to it.`,
      });
    }
    throw toFileError(error, lockPath, "read");
  }
}

/**
 * Runs `fn` while holding `<file>.lock`, a lock file created with `O_EXCL` next to the (symlink-
 * resolved) target, holding the owner's pid, host and a random token. A lock whose process is dead
 * on this host, or that is older than `staleMs`, is broken by renaming it aside and checking it
 * is still the one judged stale; the lock is released only if it is still ours.
 * @throws IamRaError `timeout` when the lock stays held for `timeoutMs`.
 * @public
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const clock = options.clock ?? { now: () => new Date() };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const isAlive = options.isProcessAlive ?? defaultIsAlive;
  const random = options.random ?? Math.random;
  const owner = options.owner ?? { pid: process.pid, hostname: hostname() };
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = options.staleMs ?? 10_000;
  const target = await resolveSymlinkTarget(path);
  const lockPath = `${target}.lock`;
  try {
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw toFileError(error, dirname(target), "write");
  }
  const deadline = clock.now().getTime() + timeoutMs;
  const mine: LockInfo = { ...owner, token: randomBytes(16).toString("hex"), createdAt: 0 };

  for (let attempt = 0; ; attempt++) {
    mine.createdAt = clock.now().getTime();
    try {
      const handle = await open(lockPath, "wx", 0o600);
      try {
        await handle.writeFile(JSON.stringify(mine));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw toFileError(error, lockPath, "write");
    }
    const held = await readLock(lockPath);
    if (!held) continue;
    const now = clock.now().getTime();
    const age = now - (held.info?.createdAt ?? held.mtimeMs);
    const dead = held.info !== undefined && held.info.hostname === owner.hostname && !isAlive(held.info.pid);
    if (dead || age > staleMs) {
      await breakStaleLock(lockPath, held);
      continue;
    }
    if (now >= deadline) {
      const who = held.info ? ` by process ${held.info.pid} on ${held.info.hostname}` : "";
      throw new IamRaError(
        "timeout",
        `Timed out after ${timeoutMs} ms waiting for ${lockPath}, held${who}.`,
        {
          hint: `Another iam-ra is writing ${target}. If none is running, delete ${lockPath}.`,
        },
      );
    }
    await sleep(Math.min(25 * 2 ** Math.min(attempt, 3), 200) * (0.5 + random()));
  }

  try {
    return await fn();
  } finally {
    const current = await readLock(lockPath).catch(() => undefined);
    if (current?.info?.token === mine.token) await unlink(lockPath).catch(() => undefined);
  }
}

/** Moves a stale lock aside; puts it back if, in between, it became someone else's fresh lock. */
async function breakStaleLock(lockPath: string, stale: HeldLock): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return;
    throw toFileError(error, lockPath, "write");
  }
  const moved = await readLock(aside).catch(() => undefined);
  const same = stale.info
    ? moved?.info?.token === stale.info.token
    : moved?.ino === stale.ino && moved?.mtimeMs === stale.mtimeMs;
  if (moved && !same) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/** The largest shared config or credentials file read (hundreds of SSO profiles fit in 1 MB). */
const MAX_SHARED_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Reads a text file that may not exist yet: a regular file of at most 8 MiB (a FIFO or device
 * planted at the path is refused, not waited on). Bytes that are not UTF-8 are refused rather than
 * silently replaced, since the file is written back.
 * @returns the text (empty when missing) and whether the file exists.
 * @public
 */
export async function readTextFileIfExists(path: string): Promise<{ text: string; exists: boolean }> {
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedFile(path, {
      what: "AWS config or credentials",
      maxBytes: MAX_SHARED_FILE_BYTES,
    });
  } catch (error) {
    if (!(error instanceof IamRaError)) throw toFileError(error, path, "read");
    if (error.code === "file-not-found") return { text: "", exists: false };
    // The same message and hint, as a plain IamRaError: the file is not credential material.
    throw new IamRaError(error.code, error.message, { cause: error, hint: error.hint });
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes), exists: true };
  } catch (cause) {
    throw new IamRaError("invalid-input", `${path} is not UTF-8 text; it is left as it is.`, {
      cause,
      hint: "Convert the file to UTF-8 (or fix the damaged bytes) and try again.",
    });
  }
}
