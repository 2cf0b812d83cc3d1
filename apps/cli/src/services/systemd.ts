/**
 * `iam-ra service install`: systemd units for `iam-ra serve` and `iam-ra update`, long-running
 * (Restart=on-failure, no timer) and hardened: read-only system and home, writable only where
 * the unit writes, no privileges, the key's passphrase handed over with LoadCredential=.
 * @module
 */
import { dirname, resolve } from "node:path";
import { IamRaError } from "@iam-ra/core";
import { stringOption } from "@iam-ra/core/rolesanywhere";
import { CREDENTIAL_FLAGS, type CredentialFlagValues } from "./credential-options.ts";
import { toFlagArgs } from "./flag-args.ts";

/** Which long-running command a unit runs. */
export type UnitKind = "serve" | "update";

/** The credential id under which systemd hands the passphrase file to the service (`%d/<id>`). */
export const PASSPHRASE_CREDENTIAL = "iam-ra-key-passphrase";
/** Where `serve` puts its token file by default: systemd creates `/run/iam-ra` for the service. */
export const DEFAULT_TOKEN_FILE = "/run/iam-ra/token";

/** Inputs of {@link buildUnits}. */
export interface BuildUnitsOptions {
  kinds: readonly UnitKind[];
  /** Absolute `node` and script. */
  command: readonly string[];
  /** Credential flags (the passphrase file is turned into LoadCredential=). */
  flags: CredentialFlagValues;
  cwd: string;
  user: string;
  group?: string | undefined;
  update: { profile: string; credentialsFile: string };
  serve: { host: string; port: number; tokenFile: string; imds: boolean };
}

/** One unit file. */
export interface GeneratedUnit {
  kind: UnitKind;
  /** File name, e.g. `iam-ra-update-default.service`. */
  name: string;
  content: string;
}

/** An argument that systemd passes through verbatim (specifiers like `%d` are kept). */
interface Verbatim {
  verbatim: string;
}

function checkControl(value: string): void {
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      throw new IamRaError("invalid-input", "A unit setting would contain a control character.", {
        hint: "Use paths and values without line breaks or tabs.",
      });
    }
  }
}

function doubleQuote(value: string): string {
  return /^[A-Za-z0-9_@+=:,./%$-]+$/.test(value)
    ? value
    : `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Quotes one ExecStart= word: `%` and `$` doubled, double quotes with C escapes when needed. */
export function quoteSystemdArg(arg: string | Verbatim): string {
  if (typeof arg !== "string") return arg.verbatim;
  checkControl(arg);
  return doubleQuote(arg.replace(/%/g, "%%").replace(/\$/g, "$$$$"));
}

/** Quotes a path of a path-list setting (ReadWritePaths=): `%` doubled; no `$` expansion there. */
export function quoteSystemdPath(path: string): string {
  checkControl(path);
  return doubleQuote(path.replace(/%/g, "%%"));
}

/** A unit name from a profile name: characters systemd does not allow become `\xHH`. */
export function unitNameFor(kind: UnitKind, profile: string): string {
  if (kind === "serve") return "iam-ra-serve.service";
  const escaped = [...profile]
    .map((c) => (/[A-Za-z0-9:_.-]/.test(c) ? c : `\\x${c.codePointAt(0)!.toString(16).padStart(2, "0")}`))
    .join("");
  return `iam-ra-update-${escaped}.service`;
}

const HARDENING = [
  "# Hardening: nothing writable but the paths above, no privileges, no kernel or device access.",
  "NoNewPrivileges=yes",
  "ProtectSystem=strict",
  "ProtectHome=read-only",
  "PrivateTmp=yes",
  "PrivateDevices=yes",
  "ProtectKernelTunables=yes",
  "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes",
  "ProtectControlGroups=yes",
  "ProtectClock=yes",
  "ProtectHostname=yes",
  "ProtectProc=invisible",
  "ProcSubset=pid",
  "RestrictNamespaces=yes",
  "RestrictRealtime=yes",
  "RestrictSUIDSGID=yes",
  "LockPersonality=yes",
  "RemoveIPC=yes",
  "SystemCallArchitectures=native",
  "SystemCallFilter=@system-service",
  "SystemCallErrorNumber=EPERM",
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
  "# MemoryDenyWriteExecute= stays off: the V8 JIT needs writable executable memory.",
];

function execArgs(options: BuildUnitsOptions, kind: UnitKind): Array<string | Verbatim> {
  const { "private-key-passphrase-file": _passphrase, ...rest } = options.flags;
  const head: Array<string | Verbatim> = [...options.command, kind];
  if (kind === "update") {
    head.push("--profile", options.update.profile, "--credentials-file", options.update.credentialsFile);
  } else {
    head.push("--host", options.serve.host, "--port", String(options.serve.port));
    head.push("--token-file", options.serve.tokenFile);
    // Members of the unit's group (the apps) may read the token that serve creates.
    if (options.group) head.push("--token-file-mode", "0640");
    if (options.serve.imds) head.push("--imds");
  }
  const args: Array<string | Verbatim> = [...head, ...toFlagArgs(CREDENTIAL_FLAGS, rest, options.cwd)];
  if (stringOption(options.flags["private-key-passphrase-file"])) {
    args.push("--private-key-passphrase-file", { verbatim: `%d/${PASSPHRASE_CREDENTIAL}` });
  }
  return args;
}

function buildUnit(options: BuildUnitsOptions, kind: UnitKind): GeneratedUnit {
  const q = quoteSystemdArg;
  const passphrase = stringOption(options.flags["private-key-passphrase-file"]);
  const description =
    kind === "update"
      ? `iam-ra update: IAM Roles Anywhere credentials for profile ${options.update.profile} in ${options.update.credentialsFile}`
      : `iam-ra serve: IAM Roles Anywhere credentials on http://${options.serve.host}:${options.serve.port}`;
  const service: string[] = ["Type=exec", `User=${q(options.user)}`];
  if (options.group) service.push(`Group=${q(options.group)}`);
  service.push(`ExecStart=${execArgs(options, kind).map(q).join(" ")}`);
  if (passphrase) {
    // systemd reads the file as root and hands a copy to this service only; no env, no argv.
    const source = resolve(options.cwd, passphrase);
    checkControl(source);
    // The path is the rest of the line (not unquoted), so only specifiers are escaped.
    service.push(`LoadCredential=${PASSPHRASE_CREDENTIAL}:${source.replace(/%/g, "%%")}`);
  }
  service.push("Restart=on-failure", "RestartSec=30s", "UMask=0077");
  if (kind === "update") {
    // The lock and temp files live next to the credentials file, so its directory must be writable.
    service.push(`ReadWritePaths=${quoteSystemdPath(dirname(options.update.credentialsFile))}`);
  } else if (options.serve.tokenFile.startsWith("/run/iam-ra/")) {
    service.push("RuntimeDirectory=iam-ra", "RuntimeDirectoryMode=0750");
  } else {
    service.push(`ReadWritePaths=${quoteSystemdPath(dirname(options.serve.tokenFile))}`);
  }
  const lowPort = kind === "serve" && options.serve.port < 1024;
  service.push(
    lowPort ? "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" : "CapabilityBoundingSet=",
    lowPort ? "AmbientCapabilities=CAP_NET_BIND_SERVICE" : "AmbientCapabilities=",
    ...HARDENING,
  );
  const lines = [
    "# Generated by `iam-ra service install`; run it again to regenerate.",
    "[Unit]",
    `Description=${description.replace(/%/g, "%%")}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    ...service,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return { kind, name: unitNameFor(kind, options.update.profile), content: lines.join("\n") };
}

/** Builds the requested units. Pure: nothing is read or written. */
export function buildUnits(options: BuildUnitsOptions): GeneratedUnit[] {
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(options.user)) {
    throw new IamRaError("invalid-input", `"${options.user}" is not a user name.`, {
      hint: "Pass --user NAME.",
    });
  }
  if (options.group !== undefined && !/^[a-z_][a-z0-9_.-]*$/i.test(options.group)) {
    throw new IamRaError("invalid-input", `"${options.group}" is not a group name.`, {
      hint: "Pass --group NAME.",
    });
  }
  return [...new Set(options.kinds)].map((kind) => buildUnit(options, kind));
}
