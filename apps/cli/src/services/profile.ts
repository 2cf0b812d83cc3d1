/**
 * `iam-ra profile configure|list|remove`: AWS config profiles whose `credential_process` runs
 * `iam-ra credential-process`, one per role, all from one certificate.
 * @module
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { IamRaError } from "@iam-ra/core";
import {
  type AwsFileKind,
  type AwsProfileEntry,
  applyProfileRemoval,
  joinShellArgs,
  readProfiles,
  readTextFileIfExists,
  setProfileKeys,
  splitShellWords,
  validateProfileName,
  withFileLock,
  writeFileAtomic,
} from "@iam-ra/core/aws-config";
import { parseArn, resolveSessionRegion, stringOption } from "@iam-ra/core/rolesanywhere";
import { CACHE_FLAGS, CREDENTIAL_FLAGS, type CredentialFlagValues } from "./credential-options.ts";
import { PATH_FLAGS, toFlagArgs } from "./flag-args.ts";

/** One profile to configure: its name and the role it assumes. */
export interface ProfileSpec {
  name: string;
  roleArn: string;
}

/** Config keys this command owns; `--set` may not override them. */
const OWN_KEYS = new Set(["credential_process"]);
/** Static keys: botocore uses them before credential_process, and they are secrets. */
const STATIC_KEYS = new Set([
  "aws_access_key_id",
  "aws_secret_access_key",
  "aws_session_token",
  "aws_security_token",
]);

/**
 * One rule for every profile name iam-ra writes (`profile configure`, `update`, `service install`):
 * the config file's, which is the stricter (no spaces), so a profile written by one command can be
 * named to the others.
 */
export function assertProfileName(name: string, hint = "Name profiles like ci-reader or prod.admin."): void {
  const problem = validateProfileName(name, "config");
  if (problem) throw new IamRaError("invalid-input", problem, { hint });
}

/**
 * Reads `NAME` / `NAME=ROLE_ARN` arguments. A bare NAME takes `--role-arn`.
 */
export function parseProfileArgs(args: readonly string[], roleArn: string | undefined): ProfileSpec[] {
  if (args.length === 0) {
    throw new IamRaError("invalid-input", "No profile name was given.", {
      hint: "Pass NAME with --role-arn, or NAME=ROLE_ARN once per role.",
    });
  }
  const specs = args.map((arg) => {
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const role = eq === -1 ? roleArn : arg.slice(eq + 1);
    assertProfileName(name);
    if (!role) {
      throw new IamRaError("arn-invalid", `Profile ${name} has no role.`, {
        hint: `Pass --role-arn ARN, or ${name}=arn:aws:iam::123456789012:role/NAME.`,
      });
    }
    return { name, roleArn: role };
  });
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (seen.has(name))
      throw new IamRaError("invalid-input", `Profile ${name} is given twice.`, {
        hint: "Name each profile once.",
      });
    seen.add(name);
  }
  return specs;
}

/** Reads repeated `--set key=value` flags. */
export function parseSetFlags(values: readonly string[]): Array<[string, string]> {
  return values.map((item) => {
    const eq = item.indexOf("=");
    const key = eq > 0 ? item.slice(0, eq).trim() : "";
    if (!key) {
      throw new IamRaError("invalid-input", `--set ${item} is not key=value.`, {
        hint: "Pass --set key=value, e.g. --set cli_pager=",
      });
    }
    if (STATIC_KEYS.has(key.toLowerCase())) {
      throw new IamRaError(
        "invalid-input",
        `--set cannot write ${key}: static keys would shadow credential_process.`,
        {
          hint: "Leave keys out of the config file; iam-ra update writes them to the credentials file if you need them.",
        },
      );
    }
    if (OWN_KEYS.has(key.toLowerCase())) {
      throw new IamRaError("invalid-input", `--set cannot change ${key}; it is what this command writes.`, {
        hint: "Use --command, --cache and the credential flags to shape credential_process.",
      });
    }
    return [key, item.slice(eq + 1).trim()];
  });
}

/**
 * The `iam-ra credential-process …` arguments for one role: the credential and cache flags that
 * were set, in table order, paths made absolute.
 */
export function buildCredentialProcessArgs(
  flags: CredentialFlagValues,
  roleArn: string,
  cwd: string,
): string[] {
  return [
    "credential-process",
    ...toFlagArgs([...CREDENTIAL_FLAGS, ...CACHE_FLAGS], { ...flags, "role-arn": roleArn }, cwd),
  ];
}

/** Checks the ARNs and that every file named by a flag is there, before anything is written. */
export async function validateProfileInputs(
  flags: CredentialFlagValues,
  specs: readonly ProfileSpec[],
  cwd: string,
) {
  for (const name of PATH_FLAGS) {
    const value = stringOption(flags[name]);
    if (value === undefined) continue;
    if (value.trimStart().startsWith("-----BEGIN")) {
      throw new IamRaError("invalid-input", `--${name} holds PEM text; a profile can only name a file.`, {
        hint: `Save it to a file readable only by you and pass --${name} PATH.`,
      });
    }
    if (name === "cache-dir" || /^pkcs11:/i.test(value)) continue;
    if (
      !(await access(resolve(cwd, value), constants.R_OK).then(
        () => true,
        () => false,
      ))
    ) {
      throw new IamRaError("file-not-found", `The --${name} file ${resolve(cwd, value)} cannot be read.`, {
        hint: `Check the --${name} path and that this user may read it.`,
      });
    }
  }
  if (!stringOption(flags.certificate)) {
    throw new IamRaError("invalid-input", "No certificate was given.", {
      hint: "Pass --certificate (or set IAM_RA_CERTIFICATE).",
    });
  }
  for (const spec of specs) {
    resolveSessionRegion(
      {
        trustAnchorArn: stringOption(flags["trust-anchor-arn"]) ?? "",
        profileArn: stringOption(flags["profile-arn"]) ?? "",
        roleArn: spec.roleArn,
        durationSeconds:
          flags["session-duration"] === undefined ? undefined : Number(flags["session-duration"]),
      },
      stringOption(flags.region),
    );
  }
}

/** One profile as configured. */
export interface ConfiguredProfile {
  name: string;
  roleArn: string;
  credentialProcess: string;
  /** True when the profile's section was added, false when an existing one was updated or unchanged. */
  created: boolean;
}

/** The `--json` result of `iam-ra profile configure`. */
export interface ProfileConfigureResult {
  configFile: string;
  profiles: ConfiguredProfile[];
  /** False when the file already said exactly this. */
  written: boolean;
}

/** Inputs of {@link configureProfiles}. */
export interface ConfigureProfilesOptions {
  configFile: string;
  specs: readonly ProfileSpec[];
  flags: CredentialFlagValues;
  /** The words that start iam-ra. */
  command: readonly string[];
  cwd: string;
  output?: string | undefined;
  set: ReadonlyArray<[string, string]>;
  /** Also write the first profile as `[default]`. */
  makeDefault: boolean;
}

/** One profile's section as {@link planProfiles} makes it. */
export interface PlannedProfile {
  spec: ProfileSpec;
  credentialProcess: string;
  keys: Record<string, string>;
}

/**
 * The sections `profile configure` writes, in order, from its input alone (pure: no file is read).
 * The Nix modules' generator (nix/lib.nix) makes the same bytes; golden files hold both to it.
 */
export function planProfiles(options: Omit<ConfigureProfilesOptions, "configFile">): PlannedProfile[] {
  const trustAnchor = parseArn(stringOption(options.flags["trust-anchor-arn"]) ?? "");
  const extra = Object.fromEntries(options.set);
  const region = extra.region ?? stringOption(options.flags.region) ?? trustAnchor?.region;
  const planned = options.specs.map((spec) => {
    const credentialProcess = joinShellArgs([
      ...options.command,
      ...buildCredentialProcessArgs(options.flags, spec.roleArn, options.cwd),
    ]);
    const keys: Record<string, string> = {
      credential_process: credentialProcess,
      ...(region ? { region } : {}),
      ...(options.output ? { output: options.output } : {}),
      ...extra,
    };
    return { spec, credentialProcess, keys };
  });
  if (options.makeDefault && planned[0]) {
    planned.push({ ...planned[0], spec: { ...planned[0].spec, name: "default" } });
  }
  return planned;
}

/** The config file text after writing `planned` into `text` (an empty string for a new file). */
export function renderProfiles(text: string, planned: readonly PlannedProfile[]): string {
  let next = text;
  for (const { spec, keys } of planned)
    next = setProfileKeys(next, { kind: "config", profile: spec.name, keys }).text;
  return next;
}

/** Writes the profiles in one locked, atomic edit of the config file. Re-running gives the same bytes. */
export async function configureProfiles(options: ConfigureProfilesOptions): Promise<ProfileConfigureResult> {
  await validateProfileInputs(options.flags, options.specs, options.cwd);
  const planned = planProfiles(options);
  return await withFileLock(options.configFile, async () => {
    const { text, exists } = await readTextFileIfExists(options.configFile);
    let next = text;
    const profiles: ConfiguredProfile[] = [];
    for (const { spec, credentialProcess, keys } of planned) {
      const result = setProfileKeys(next, { kind: "config", profile: spec.name, keys });
      next = result.text;
      profiles.push({ name: spec.name, roleArn: spec.roleArn, credentialProcess, created: result.created });
    }
    const changed = next !== text || !exists;
    const configFile = changed ? await writeFileAtomic(options.configFile, next) : options.configFile;
    return { configFile, profiles, written: changed };
  });
}

/** A profile as `profile list` shows it. */
export interface ListedProfile {
  name: string;
  file: AwsFileKind;
  path: string;
  /** Written by iam-ra: a credential_process running `credential-process`, or `update`'s keys. */
  managed: boolean;
  roleArn: string | undefined;
  region: string | undefined;
  /** For `update`-written credentials: when they expire. */
  expires: string | undefined;
  /** How many sections name it (more than one breaks botocore). */
  sections: number;
}

/** The `--json` result of `iam-ra profile list`. */
export interface ProfileListResult {
  configFile: string;
  credentialsFile: string;
  profiles: ListedProfile[];
}

/** What iam-ra wrote a profile with, if anything. */
export function describeManagedProfile(
  entry: AwsProfileEntry,
  file: AwsFileKind,
): { managed: boolean; roleArn: string | undefined } {
  if (file === "credentials") {
    const roleArn = entry.keys.x_iam_ra_role_arn;
    return { managed: roleArn !== undefined, roleArn };
  }
  const words = splitShellWords(entry.keys.credential_process ?? "") ?? [];
  const at = words.indexOf("credential-process");
  // The official helper has the same subcommand name; its profiles are not ours.
  const managed = at > 0 && !words.slice(0, at).some((w) => basename(w).startsWith("aws_signing_helper"));
  const role = words.indexOf("--role-arn");
  return { managed, roleArn: managed && role > 0 ? words[role + 1] : undefined };
}

/** Lists profiles of both files. */
export async function listAllProfiles(files: {
  config: string;
  credentials: string;
}): Promise<ProfileListResult> {
  const profiles: ListedProfile[] = [];
  for (const file of ["config", "credentials"] as const) {
    const path = files[file];
    for (const entry of await readProfiles({ path, kind: file })) {
      profiles.push({
        name: entry.name,
        file,
        path,
        ...describeManagedProfile(entry, file),
        region: entry.keys.region,
        expires: entry.keys.x_security_token_expires,
        sections: entry.sections,
      });
    }
  }
  return { configFile: files.config, credentialsFile: files.credentials, profiles };
}

/** The `--json` result of `iam-ra profile remove`. */
export interface ProfileRemoveResult {
  name: string;
  removed: Array<{ file: AwsFileKind; path: string; sections: number }>;
  /** Files where a profile of that name exists but was not written by iam-ra (kept; see --force). */
  kept: Array<{ file: AwsFileKind; path: string }>;
}

/** Removes a profile iam-ra wrote from both files; others only with `force`. */
export async function removeManagedProfile(options: {
  files: { config: string; credentials: string };
  name: string;
  force: boolean;
}): Promise<ProfileRemoveResult> {
  const result: ProfileRemoveResult = { name: options.name, removed: [], kept: [] };
  for (const file of ["config", "credentials"] as const) {
    const outcome = await applyProfileRemoval({
      path: options.files[file],
      kind: file,
      profile: options.name,
      onlyIf: (entry) => options.force || describeManagedProfile(entry, file).managed,
    });
    if (outcome.refused) result.kept.push({ file, path: options.files[file] });
    else if (outcome.removed > 0)
      result.removed.push({ file, path: outcome.path, sections: outcome.removed });
  }
  if (result.removed.length === 0) {
    if (result.kept.length > 0) {
      throw new IamRaError(
        "invalid-input",
        `Profile ${options.name} in ${result.kept.map((k) => k.path).join(" and ")} was not written by iam-ra; it is left alone.`,
        { hint: `Pass --force to remove it anyway.` },
      );
    }
    throw new IamRaError("not-found", `There is no profile ${options.name}.`, {
      hint: "Run iam-ra profile list to see the profiles.",
    });
  }
  return result;
}
