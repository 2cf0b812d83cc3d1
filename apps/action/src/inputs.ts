import { IamRaError } from "@iam-ra/core";
import { type ArnKind, parseInstanceProperties, validateArn } from "@iam-ra/core/rolesanywhere";

/**
 * Every input action.yml declares, with the default the runner fills in. The code applies the same
 * defaults when an input is empty (a runner, or `node dist/index.js`, may pass none); a test keeps
 * this table and action.yml in step.
 */
export const INPUT_DEFAULTS = {
  certificate: "",
  "private-key": "",
  "private-key-passphrase": "",
  "certificate-chain": "",
  "trust-anchor-arn": "",
  "profile-arn": "",
  "role-to-assume": "",
  "role-session-name": "",
  "role-duration-seconds": "3600",
  "instance-properties": "",
  "aws-region": "",
  endpoint: "",
  "sts-endpoint": "",
  "aws-profile": "",
  "output-credentials": "false",
  // No default: it follows aws-profile (true without a profile, false with one).
  "output-env-credentials": "",
  "mask-aws-account-id": "false",
  "allowed-account-ids": "",
  "role-chaining": "false",
  "retry-max-attempts": "12",
  "special-characters-workaround": "false",
  "unset-current-credentials": "false",
  "certificate-expiry-warning-days": "30",
} as const;

/** An input name. */
export type InputName = keyof typeof INPUT_DEFAULTS;

/** Reads one raw input (untrimmed); `""` when absent. */
export type InputReader = (name: InputName) => string;

/** The certificate, key and chain inputs, still undecoded (their text is secret). */
export interface MaterialInputs {
  certificate: string;
  privateKey: string | undefined;
  chain: string | undefined;
  passphrase: string | undefined;
}

/** Where the credentials come from. */
export type CredentialSource =
  | {
      kind: "certificate";
      material: MaterialInputs;
      trustAnchorArn: string;
      profileArn: string;
      /** Custom Roles Anywhere endpoint URL. */
      endpoint: string | undefined;
      /** Sent with CreateSession; Roles Anywhere records them on the certificate's subject. */
      instanceProperties: Record<string, string> | undefined;
    }
  /** `role-chaining: true`: the credentials an earlier step left in the environment. */
  | { kind: "environment" };

/** Everything the action was asked to do, checked. */
export interface ActionConfig {
  source: CredentialSource;
  roleArn: string;
  roleSessionName: string | undefined;
  durationSeconds: number;
  /** Undefined: the trust anchor's region (or, when chaining, the environment's). */
  region: string | undefined;
  stsEndpoint: string | undefined;
  awsProfile: string | undefined;
  outputCredentials: boolean;
  outputEnvCredentials: boolean;
  maskAccountId: boolean;
  allowedAccountIds: string[];
  retryMaxAttempts: number;
  specialCharactersWorkaround: boolean;
  unsetCurrentCredentials: boolean;
  expiryWarningDays: number;
}

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/;
const PROFILE_NAME_RE = /^[\w.+@-]{1,64}$/;

function invalid(message: string, hint: string): IamRaError {
  return new IamRaError("invalid-input", message, { hint });
}

function readText(read: InputReader, name: InputName): string {
  const value = read(name).trim();
  return value === "" ? INPUT_DEFAULTS[name] : value;
}

function optionalText(read: InputReader, name: InputName): string | undefined {
  const value = readText(read, name);
  return value === "" ? undefined : value;
}

/** YAML 1.2 core-schema booleans, as configure-aws-credentials accepts them. */
function readBoolean(read: InputReader, name: InputName): boolean | undefined {
  const value = readText(read, name);
  if (value === "") return undefined;
  if (value === "true" || value === "True" || value === "TRUE") return true;
  if (value === "false" || value === "False" || value === "FALSE") return false;
  throw invalid(`The ${name} input is "${value}", not a boolean.`, `Set ${name} to true or false.`);
}

function readInteger(read: InputReader, name: InputName, min: number, max: number): number {
  const value = readText(read, name);
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(
      `The ${name} input is "${value}", not a whole number from ${min} to ${max}.`,
      `Set ${name} to a number from ${min} to ${max}.`,
    );
  }
  return n;
}

/** `key=value` pairs, one per line or comma-separated, within CreateSession's limits. */
function readInstanceProperties(read: InputReader): Record<string, string> | undefined {
  const text = readText(read, "instance-properties")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(",");
  try {
    return parseInstanceProperties(text);
  } catch (error) {
    if (!(error instanceof IamRaError)) throw error;
    throw invalid(
      `The instance-properties input: ${error.message}`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, shown to the user.
      "Set instance-properties to key=value pairs, one per line (at most 50; keys and values 1–200 characters), e.g. runner=${{ runner.name }}.",
    );
  }
}

function readArn(read: InputReader, name: InputName, kind: ArnKind): string {
  const value = readText(read, name);
  try {
    validateArn(value, kind);
  } catch (error) {
    if (!(error instanceof IamRaError)) throw error;
    const example =
      kind === "role"
        ? "arn:aws:iam::123456789012:role/ci-deploy"
        : `arn:aws:rolesanywhere:us-east-1:123456789012:${kind}/00000000-0000-0000-0000-000000000000`;
    throw new IamRaError(
      "arn-invalid",
      value === "" ? `The ${name} input is missing.` : `The ${name} input "${value}" is not a ${kind} ARN.`,
      { hint: `Set ${name} to an ARN such as ${example}.` },
    );
  }
  return value;
}

function readUrl(read: InputReader, name: InputName): string | undefined {
  const value = optionalText(read, name);
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash) {
    throw invalid(
      `The ${name} input "${value}" is not an http(s) URL without query or fragment.`,
      `Set ${name} to a URL such as https://example.com or, against an emulator, http://127.0.0.1:4566.`,
    );
  }
  return value;
}

/**
 * Reads and checks every input. Secret inputs are returned as given (the caller masks them before
 * anything else runs); nothing here prints.
 */
export function parseInputs(read: InputReader): ActionConfig {
  const roleChaining = readBoolean(read, "role-chaining") ?? false;
  const certificate = readText(read, "certificate");
  let source: CredentialSource;
  if (roleChaining) {
    const stray = (["certificate", "private-key", "trust-anchor-arn", "profile-arn"] as const).filter(
      (name) => readText(read, name) !== "",
    );
    if (stray.length > 0) {
      throw invalid(
        `role-chaining assumes role-to-assume with the credentials already in the environment, so ${stray.join(", ")} would be ignored.`,
        "Sign in with a first step of this action, then chain in a second step with role-chaining: true and without certificate inputs.",
      );
    }
    source = { kind: "environment" };
  } else {
    if (certificate === "") {
      throw invalid(
        "The certificate input is missing.",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, shown to the user.
        "Set certificate to the PEM text of the certificate (or a base64 PKCS#12 archive) from a secret, e.g. certificate: ${{ secrets.RA_CERTIFICATE }}.",
      );
    }
    const passphrase = read("private-key-passphrase").replace(/\r?\n$/, "");
    source = {
      kind: "certificate",
      material: {
        certificate,
        privateKey: optionalText(read, "private-key"),
        chain: optionalText(read, "certificate-chain"),
        passphrase: passphrase === "" ? undefined : passphrase,
      },
      trustAnchorArn: readArn(read, "trust-anchor-arn", "trust-anchor"),
      profileArn: readArn(read, "profile-arn", "profile"),
      endpoint: readUrl(read, "endpoint"),
      instanceProperties: readInstanceProperties(read),
    };
  }
  const roleArn = readArn(read, "role-to-assume", "role");

  const roleSessionName = optionalText(read, "role-session-name");
  if (roleSessionName !== undefined && !SESSION_NAME_RE.test(roleSessionName)) {
    throw invalid(
      `The role-session-name input "${roleSessionName}" is not a valid session name.`,
      "Use 2–64 characters from letters, digits and + = , . @ _ -.",
    );
  }
  const durationSeconds = roleChaining
    ? readInteger(read, "role-duration-seconds", 900, 3600)
    : readInteger(read, "role-duration-seconds", 900, 43200);

  const region = optionalText(read, "aws-region");
  if (region !== undefined && !REGION_RE.test(region)) {
    throw invalid(
      `The aws-region input "${region}" is not a region name.`,
      "Set aws-region to e.g. us-east-1.",
    );
  }

  const awsProfile = optionalText(read, "aws-profile");
  if (awsProfile !== undefined && !PROFILE_NAME_RE.test(awsProfile)) {
    throw invalid(
      `The aws-profile input "${awsProfile}" is not a usable profile name.`,
      "Use up to 64 letters, digits and . + @ _ -.",
    );
  }

  const allowedAccountIds = readText(read, "allowed-account-ids")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const badAccount = allowedAccountIds.find((id) => !/^\d{12}$/.test(id));
  if (badAccount !== undefined) {
    throw invalid(
      `The allowed-account-ids input holds "${badAccount}", which is not a 12-digit account id.`,
      "Set allowed-account-ids to a comma-separated list such as 111122223333,444455556666.",
    );
  }

  return {
    source,
    roleArn,
    roleSessionName,
    durationSeconds,
    region,
    stsEndpoint: readUrl(read, "sts-endpoint"),
    awsProfile,
    outputCredentials: readBoolean(read, "output-credentials") ?? false,
    outputEnvCredentials: readBoolean(read, "output-env-credentials") ?? awsProfile === undefined,
    maskAccountId: readBoolean(read, "mask-aws-account-id") ?? false,
    allowedAccountIds,
    retryMaxAttempts: readInteger(read, "retry-max-attempts", 1, 100),
    specialCharactersWorkaround: readBoolean(read, "special-characters-workaround") ?? false,
    unsetCurrentCredentials: readBoolean(read, "unset-current-credentials") ?? false,
    expiryWarningDays: readInteger(read, "certificate-expiry-warning-days", 0, 3650),
  };
}
