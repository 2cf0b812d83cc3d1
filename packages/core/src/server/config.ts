import { IamRaError } from "../errors.ts";
import { parseArn, roleNameFromArn } from "../rolesanywhere/arn.ts";
import { resolveSessionRegion } from "../rolesanywhere/client.ts";
import { CREDENTIAL_OPTIONS, type CredentialOptionSpec } from "../rolesanywhere/option-specs.ts";
import {
  type CredentialOptionValues,
  resolveSessionInputs,
  type SessionInputs,
} from "../rolesanywhere/options.ts";
import type { LogLevel } from "./logger.ts";

/** The server's own options; with {@link CREDENTIAL_OPTIONS} they are every sidecar/serve flag. */
export const SERVER_OPTIONS = [
  { name: "host", env: "IAM_RA_HOST", type: "string", description: "Address to bind (default 127.0.0.1)." },
  {
    name: "port",
    env: "IAM_RA_PORT",
    type: "integer",
    description: "Port to bind (default 9911; 0 picks one).",
  },
  {
    name: "token-file",
    env: "IAM_RA_TOKEN_FILE",
    type: "string",
    description:
      "File with the token container-credentials clients must send (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE); created with a random token when absent.",
  },
  {
    name: "token-file-mode",
    env: "IAM_RA_TOKEN_FILE_MODE",
    type: "string",
    description:
      "Octal mode of a token file the sidecar creates (default 0600; 0640 to share it through fsGroup).",
  },
  {
    name: "imds",
    env: "IAM_RA_IMDS",
    type: "boolean",
    description: "Also serve IMDSv2 (/latest/...) for SDKs pointed at AWS_EC2_METADATA_SERVICE_ENDPOINT.",
  },
  {
    name: "allow-remote",
    env: "IAM_RA_ALLOW_REMOTE",
    type: "boolean",
    description: "Allow binding a non-loopback address (requires --token-file; IMDS stays loopback-only).",
  },
  {
    name: "log-level",
    env: "IAM_RA_LOG_LEVEL",
    type: "string",
    description: "debug, info (default), warn or error.",
  },
] as const satisfies readonly CredentialOptionSpec[];

/** Every option of the sidecar and `iam-ra serve`. */
export const SIDECAR_OPTIONS = [...CREDENTIAL_OPTIONS, ...SERVER_OPTIONS] as const;

/** A validated sidecar configuration. */
export interface SidecarConfig {
  session: SessionInputs;
  /** Files to watch for rotation. */
  watchPaths: string[];
  host: string;
  port: number;
  tokenFile: string | undefined;
  tokenFileMode: number;
  imds: { enabled: boolean; roleName: string; region: string };
  logLevel: LogLevel;
}

/** Whether a bind address (as resolveSidecarConfig leaves it: no brackets) is loopback. @internal */
export const isLoopback = (host: string) =>
  host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1";

const invalid = (message: string, hint: string) => new IamRaError("invalid-input", message, { hint });

/** Merges parsed flags with environment variables: a flag wins, an empty variable is absent. */
export function mergeEnv(
  flags: Record<string, string | boolean | string[] | undefined>,
  env: Readonly<Record<string, string | undefined>>,
): CredentialOptionValues {
  const values: CredentialOptionValues = {};
  for (const spec of SIDECAR_OPTIONS) {
    const raw = flags[spec.name];
    let value: string | boolean | number | undefined = Array.isArray(raw) ? raw.join(",") : raw;
    const fromEnv = env[spec.env];
    if (value === undefined && fromEnv !== undefined && fromEnv !== "")
      value = spec.type === "boolean" ? /^(1|true|yes|on)$/i.test(fromEnv) : fromEnv;
    if (spec.type === "integer" && value !== undefined) {
      if (!/^\d+$/.test(String(value)))
        throw invalid(
          `--${spec.name} must be a whole number, not "${String(value)}".`,
          `Pass --${spec.name} <number>.`,
        );
      value = Number(value);
    }
    values[spec.name] = value;
  }
  return values;
}

/** Validates option values into a {@link SidecarConfig}; every refusal names the fix. */
export async function resolveSidecarConfig(
  values: CredentialOptionValues,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SidecarConfig> {
  const session = await resolveSessionInputs(values, env);
  const region = resolveSessionRegion(session.params, session.options.region);
  // An IPv6 address may come bracketed, as in a URL; listen() takes it bare.
  const host =
    typeof values.host === "string" && values.host ? values.host.replace(/^\[(.*)\]$/, "$1") : "127.0.0.1";
  const port = typeof values.port === "number" ? values.port : 9911;
  if (port > 65535) throw invalid(`Port ${port} is out of range.`, "Pass --port between 0 and 65535.");
  const tokenFile =
    typeof values["token-file"] === "string" && values["token-file"] ? values["token-file"] : undefined;
  const modeText = typeof values["token-file-mode"] === "string" ? values["token-file-mode"] : "0600";
  if (!/^0?[0-7]{3}$/.test(modeText) || (Number.parseInt(modeText, 8) & 0o007) !== 0)
    throw invalid(
      `--token-file-mode ${modeText} is not an octal mode without world access.`,
      "Pass 0600 (default) or 0640.",
    );
  const imds = values.imds === true;
  if (!isLoopback(host)) {
    if (values["allow-remote"] !== true)
      throw invalid(
        `Binding ${host} would serve credentials beyond this machine.`,
        "Bind 127.0.0.1 (the default), or pass --allow-remote with --token-file.",
      );
    if (!tokenFile) throw invalid("A non-loopback bind needs a token.", "Pass --token-file.");
    if (imds)
      throw invalid(
        "IMDS has no caller authentication, so it is served on loopback only.",
        "Drop --imds, or bind 127.0.0.1.",
      );
  }
  if (!tokenFile && !imds)
    throw invalid(
      "Nothing to serve: neither container credentials nor IMDS is enabled.",
      "Pass --token-file (and/or --imds).",
    );
  const level = (values["log-level"] ?? "info") as string;
  if (!["debug", "info", "warn", "error"].includes(level))
    throw invalid(`Unknown log level "${level}".`, "Pass debug, info, warn or error.");
  const watchPaths = [
    session.material.certificate,
    session.material.privateKey,
    session.material.intermediates,
  ].filter((p): p is string => typeof p === "string" && !p.trimStart().startsWith("-----BEGIN"));
  return {
    session,
    watchPaths,
    host,
    port,
    tokenFile,
    tokenFileMode: Number.parseInt(modeText, 8),
    imds: { enabled: imds, roleName: roleNameFromArn(parseArn(session.params.roleArn)!), region },
    logLevel: level as LogLevel,
  };
}
