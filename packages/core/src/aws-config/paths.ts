/**
 * Where the AWS shared files are, resolved from an environment passed in (core reads no
 * `process.env`).
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";

/** Names the config file; default `~/.aws/config`. @public */
export const AWS_CONFIG_FILE = "AWS_CONFIG_FILE";
/** Names the credentials file; default `~/.aws/credentials`. @public */
export const AWS_SHARED_CREDENTIALS_FILE = "AWS_SHARED_CREDENTIALS_FILE";

/**
 * Absolute paths of the two shared files.
 * @public
 */
export interface AwsFilePaths {
  config: string;
  credentials: string;
}

/**
 * Inputs of {@link resolveAwsFilePaths}.
 * @public
 */
export interface ResolveAwsFilePathsOptions {
  /** The environment to read `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` from. */
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory; `~` in the variables expands to it, as the SDKs do. */
  homedir: string;
  /** Relative paths are resolved against this directory. */
  cwd: string;
}

function expand(path: string, options: ResolveAwsFilePathsOptions): string {
  const home = path === "~" || path.startsWith("~/") ? join(options.homedir, path.slice(1)) : path;
  return isAbsolute(home) ? resolve(home) : resolve(options.cwd, home);
}

/**
 * Resolves the config and credentials file paths the way the AWS CLI and SDKs do: the environment
 * variable when set and non-empty, else `~/.aws/config` and `~/.aws/credentials`.
 * @public
 */
export function resolveAwsFilePaths(options: ResolveAwsFilePathsOptions): AwsFilePaths {
  const pick = (name: string, fallback: string) => {
    const value = options.env[name];
    return expand(value !== undefined && value !== "" ? value : fallback, options);
  };
  return {
    config: pick(AWS_CONFIG_FILE, "~/.aws/config"),
    credentials: pick(AWS_SHARED_CREDENTIALS_FILE, "~/.aws/credentials"),
  };
}
