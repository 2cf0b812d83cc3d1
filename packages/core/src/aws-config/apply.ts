/**
 * Edits of the shared files on disk: the pure edits of `ini.ts` under a lock, written atomically.
 * @module
 */
import { type FileLockOptions, readTextFileIfExists, withFileLock, writeFileAtomic } from "./fs.ts";
import {
  type AwsFileKind,
  type AwsProfileEntry,
  listProfiles,
  type RemoveProfileResult,
  removeProfile,
  type SetProfileKeysOptions,
  type SetProfileKeysResult,
  setProfileKeys,
} from "./ini.ts";

/**
 * Which file to edit and how.
 * @public
 */
export interface AwsFileTarget {
  /** The file (a symlink is followed). */
  path: string;
  kind: AwsFileKind;
  /** Lock settings (defaults of {@link withFileLock}). */
  lock?: FileLockOptions | undefined;
  /** Mode of a written file. Default `0o600`. */
  mode?: number | undefined;
}

/**
 * What an edit did on disk.
 * @public
 */
export interface AppliedEdit {
  /** The file written (the symlink's target), or the path given when nothing was written. */
  path: string;
  /** False when the file already said this (it is then left alone, mode and mtime included). */
  written: boolean;
}

/**
 * Sets keys of one profile in a shared file, under the file's lock, with an atomic write. The file
 * and its directory are created when missing.
 * @public
 */
export async function applyProfileKeys(
  target: AwsFileTarget & Omit<SetProfileKeysOptions, "kind">,
): Promise<SetProfileKeysResult & AppliedEdit> {
  return await withFileLock(
    target.path,
    async () => {
      const { text, exists } = await readTextFileIfExists(target.path);
      const result = setProfileKeys(text, {
        kind: target.kind,
        profile: target.profile,
        keys: target.keys,
        removeKeys: target.removeKeys,
      });
      if (!result.changed && exists) return { ...result, path: target.path, written: false };
      const path = await writeFileAtomic(target.path, result.text, { mode: target.mode });
      return { ...result, path, written: true };
    },
    target.lock,
  );
}

/**
 * Removes a profile from a shared file, under the file's lock, with an atomic write.
 * @public
 */
export async function applyProfileRemoval(
  target: AwsFileTarget & {
    profile: string;
    /**
     * Checked under the lock against the profile as it is in the file; when it returns false
     * nothing is removed and `refused` is true. Default: always remove.
     */
    onlyIf?: ((profile: AwsProfileEntry) => boolean) | undefined;
  },
): Promise<RemoveProfileResult & AppliedEdit & { refused: boolean }> {
  return await withFileLock(
    target.path,
    async () => {
      const { text } = await readTextFileIfExists(target.path);
      const found = listProfiles(text, target.kind).find((p) => p.name === target.profile);
      if (found && target.onlyIf && !target.onlyIf(found)) {
        return { text, removed: 0, path: target.path, written: false, refused: true };
      }
      const result = removeProfile(text, { kind: target.kind, profile: target.profile });
      if (result.removed === 0) return { ...result, path: target.path, written: false, refused: false };
      const path = await writeFileAtomic(target.path, result.text, { mode: target.mode });
      return { ...result, path, written: true, refused: false };
    },
    target.lock,
  );
}

/**
 * Lists the profiles of a shared file; a missing file has none.
 * @public
 */
export async function readProfiles(target: Pick<AwsFileTarget, "path" | "kind">): Promise<AwsProfileEntry[]> {
  const { text } = await readTextFileIfExists(target.path);
  return listProfiles(text, target.kind);
}
