/**
 * The AWS shared `config` and `credentials` files: a byte-preserving editor (pure), atomic writes
 * under a lock file (IO), path resolution and `credential_process` quoting.
 * @module
 */
export type { AppliedEdit, AwsFileTarget } from "./apply.ts";
export { applyProfileKeys, applyProfileRemoval, readProfiles } from "./apply.ts";
export type { FileLockOptions, WriteFileAtomicOptions } from "./fs.ts";
export {
  readTextFileIfExists,
  resolveSymlinkTarget,
  toFileError,
  withFileLock,
  writeFileAtomic,
} from "./fs.ts";
export type {
  AwsFileKind,
  AwsIniDocument,
  AwsIniLine,
  AwsIniLineKind,
  AwsIniSection,
  AwsProfileEntry,
  RemoveProfileResult,
  SetProfileKeysOptions,
  SetProfileKeysResult,
} from "./ini.ts";
export {
  listProfiles,
  parseAwsIni,
  profileNameOfHeader,
  removeProfile,
  sectionHeaderFor,
  setProfileKeys,
  stringifyAwsIni,
  validateProfileKeys,
  validateProfileName,
} from "./ini.ts";
export type { AwsFilePaths, ResolveAwsFilePathsOptions } from "./paths.ts";
export { AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, resolveAwsFilePaths } from "./paths.ts";
export { joinShellArgs, quoteShellArg, splitShellWords } from "./shell.ts";
