/**
 * The flags that name the AWS shared files, and their resolution (the variables, `~`, the cwd).
 * @module
 */
import { homedir } from "node:os";
import { type AwsFilePaths, resolveAwsFilePaths } from "@iam-ra/core/aws-config";
import type { CredentialFlagSpec, CredentialFlagValues } from "./credential-options.ts";

export const CONFIG_FILE_FLAG = {
  name: "config-file",
  env: "AWS_CONFIG_FILE",
  type: "string",
  description: "AWS config file (default ~/.aws/config).",
} as const satisfies CredentialFlagSpec;

export const CREDENTIALS_FILE_FLAG = {
  name: "credentials-file",
  env: "AWS_SHARED_CREDENTIALS_FILE",
  type: "string",
  description: "AWS credentials file (default ~/.aws/credentials).",
} as const satisfies CredentialFlagSpec;

/** Both files' absolute paths from `--config-file`/`--credentials-file` (already merged with env). */
export function resolveAwsFiles(flags: CredentialFlagValues): AwsFilePaths {
  const value = (name: string) => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
  return resolveAwsFilePaths({
    env: { AWS_CONFIG_FILE: value("config-file"), AWS_SHARED_CREDENTIALS_FILE: value("credentials-file") },
    homedir: homedir(),
    cwd: process.cwd(),
  });
}
