import { spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { IamRaError } from "@iam-ra/core";
import type { HostResult } from "@iam-ra/core/admin";
import { isLoopbackHost } from "@iam-ra/core/rolesanywhere";
import { writeFileAtomic } from "./files.ts";

/** Where the host's material went. */
export interface HostFiles {
  certificate: string;
  chain: string | null;
  privateKey: string | null;
}

/**
 * Writes cert.pem, key.pem (0600, when generated here) and, when the CA is a subordinate (AWS
 * Private CA with a chain), chain.pem into `dir`. A self-signed scope has no chain: its CA is the
 * trust anchor itself.
 */
export async function writeHostFiles(dir: string, host: HostResult): Promise<HostFiles> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const files: HostFiles = { certificate: join(abs, "cert.pem"), chain: null, privateKey: null };
  if (host.privateKeyPem) {
    files.privateKey = join(abs, "key.pem");
    await writeFileAtomic(files.privateKey, host.privateKeyPem, 0o600);
  }
  await writeFileAtomic(files.certificate, host.certificatePem, 0o644);
  if (host.chainPem.trim()) {
    files.chain = join(abs, "chain.pem");
    await writeFileAtomic(files.chain, host.chainPem, 0o644);
  }
  return files;
}

/** Fails early (before anything is issued) when --sops is asked and the binary is absent. */
export function requireSops(): void {
  const probe = spawnSync("sops", ["--version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    throw new IamRaError("tool-missing", "--sops needs the `sops` binary, which is not on PATH.", {
      hint: "Install sops (https://github.com/getsops/sops) and a .sops.yaml creation rule, or use --output-dir.",
    });
  }
}

/**
 * Encrypts the host's secrets with sops straight from memory (stdin), so no plaintext file is ever
 * written; sops picks the keys from the .sops.yaml rule matching `path`.
 */
export async function writeSopsFile(path: string, host: HostResult): Promise<void> {
  const doc = {
    certificate: host.certificatePem,
    ...(host.privateKeyPem ? { private_key: host.privateKeyPem } : {}),
    ...(host.chainPem.trim() ? { chain: host.chainPem } : {}),
    trust_anchor_arn: host.trustAnchorArn,
    profile_arn: host.profileArn,
    role_arn: host.roleArn,
    region: host.region,
  };
  const out = spawnSync(
    "sops",
    ["--encrypt", "--input-type", "json", "--output-type", "yaml", "--filename-override", path, "/dev/stdin"],
    { input: JSON.stringify(doc), encoding: "utf8" },
  );
  if (out.status !== 0) {
    throw new IamRaError(
      "tool-missing",
      `sops could not encrypt ${path}: ${(out.stderr || "").trim().split("\n").at(-1)}`,
      {
        hint: "Check your .sops.yaml creation rules and keys; the host is onboarded, re-run `iam-ra host rotate` with --sops to write the file.",
      },
    );
  }
  await writeFileAtomic(resolve(path), out.stdout, 0o600);
}

/**
 * The Roles Anywhere and STS endpoints the admin side talks to when they are not AWS's (the SDKs'
 * endpoint variables, e.g. the emulator in a local set-up), so the printed host commands reach the
 * same service. A loopback Roles Anywhere endpoint is the emulator, which also answers STS for the
 * sessions it issues.
 */
export function customEndpoints(env: NodeJS.ProcessEnv = process.env): {
  rolesAnywhere?: string;
  sts?: string;
} {
  const rolesAnywhere = env.AWS_ENDPOINT_URL_ROLESANYWHERE || env.AWS_ENDPOINT_URL || undefined;
  const specific = env.AWS_ENDPOINT_URL_ROLESANYWHERE;
  const sts =
    env.AWS_ENDPOINT_URL_STS ||
    (specific && isLoopbackUrl(specific) ? specific : env.AWS_ENDPOINT_URL) ||
    undefined;
  return { ...(rolesAnywhere ? { rolesAnywhere } : {}), ...(sts ? { sts } : {}) };
}

function isLoopbackUrl(text: string): boolean {
  try {
    return isLoopbackHost(new URL(text).hostname);
  } catch {
    return false;
  }
}

/** The ready-to-paste host configuration: `iam-ra profile configure …` and a Nix snippet. */
export function hostConfigSnippets(
  host: HostResult,
  files: HostFiles | null,
  endpoints: { rolesAnywhere?: string; sts?: string } = {},
): { shell: string; nix: string } {
  const cert = files?.certificate ?? "/etc/iam-ra/cert.pem";
  const key = files?.privateKey ?? "/etc/iam-ra/key.pem";
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const shell = [
    `iam-ra profile configure ${host.role}=${host.roleArn} \\`,
    `  --certificate ${q(cert)} --private-key ${q(key)} \\`,
    ...(files?.chain ? [`  --intermediates ${q(files.chain)} \\`] : []),
    `  --trust-anchor-arn ${host.trustAnchorArn} \\`,
    ...(endpoints.rolesAnywhere ? [`  --endpoint ${q(endpoints.rolesAnywhere)} \\`] : []),
    `  --profile-arn ${host.profileArn} --region ${host.region} --cache`,
    `aws sts get-caller-identity --profile ${host.role}${endpoints.sts ? ` --endpoint-url ${q(endpoints.sts)}` : ""}`,
  ].join("\n");
  const nix = [
    "programs.iamRolesAnywhere = {",
    "  enable = true;",
    `  certificate = { certPath = "${cert}"; keyPath = "${key}"; };`,
    `  trustAnchorArn = "${host.trustAnchorArn}";`,
    `  region = "${host.region}";`,
    ...(endpoints.rolesAnywhere ? [`  endpoint = "${endpoints.rolesAnywhere}";`] : []),
    `  profiles.${host.role} = { profileArn = "${host.profileArn}"; roleArn = "${host.roleArn}"; };`,
    "};",
  ].join("\n");
  return { shell, nix };
}
