import { readBoundedFile } from "@iam-ra/core";
import { type HostResult, onboardHost, validateAdminInput } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import {
  customEndpoints,
  type HostFiles,
  hostConfigSnippets,
  requireSops,
  writeHostFiles,
  writeSopsFile,
} from "../../services/host-output.ts";
import { formatSerial } from "../../services/serial.ts";

export const hostIssueFlags = {
  "validity-days": Flags.integer({ description: "Certificate validity in days (default 365).", min: 1 }),
  csr: Flags.string({ description: "The host's CSR (PEM file): the key stays on the host." }),
  "dns-name": Flags.string({
    description: "Extra DNS name for the certificate (repeatable).",
    multiple: true,
  }),
  "output-dir": Flags.string({
    description:
      "Write cert.pem and key.pem (0600) here, and chain.pem when the CA is a subordinate (AWS Private CA).",
  }),
  sops: Flags.string({ description: "Write a SOPS-encrypted YAML file here (needs the sops binary)." }),
};

/** What `host onboard|rotate --json` prints: never the private key. */
export type HostCommandResult = Omit<HostResult, "privateKeyPem"> & {
  privateKeyGenerated: boolean;
  files: HostFiles | null;
  sopsFile: string | null;
  config: { shell: string; nix: string };
};

/** The --csr file: a bounded read of a regular file (never a FIFO or device). */
export async function readCsr(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  return Buffer.from(await readBoundedFile(path, { what: "CSR" })).toString("utf8");
}

export async function finishHost(
  cmd: AdminCommand & { log(s: string): void },
  result: HostResult,
  flags: { "output-dir"?: string | undefined; sops?: string | undefined },
  json: boolean,
): Promise<HostCommandResult> {
  const files = flags["output-dir"] ? await writeHostFiles(flags["output-dir"], result) : null;
  if (flags.sops) await writeSopsFile(flags.sops, result);
  const config = hostConfigSnippets(result, files, customEndpoints());
  const { privateKeyPem, ...rest } = result;
  if (!json) {
    const c = result.certificate;
    cmd.log(`Host ${result.hostname} → role ${result.role} (scope ${result.scope})`);
    cmd.log(
      `  certificate  serial ${formatSerial(c.serialNumber)} (hex), ${c.subject}, until ${c.notAfter} (${c.keySource} key)`,
    );
    cmd.log(`  secret       ${result.secretArn}`);
    if (files)
      cmd.log(
        `  files        ${[files.certificate, files.chain, files.privateKey].filter(Boolean).join(", ")}`,
      );
    if (flags.sops) cmd.log(`  sops         ${flags.sops}`);
    if (!files && !flags.sops && privateKeyPem)
      cmd.log(
        `  key          in the secret only: aws secretsmanager get-secret-value --secret-id ${result.secretArn}`,
      );
    if (result.revoked.length) cmd.log(`  revoked      ${result.revoked.join(", ")}`);
    cmd.log(`\nOn the host:\n${config.shell}\n\nNix (home-manager):\n${config.nix}`);
  }
  return {
    ...rest,
    privateKeyGenerated: privateKeyPem !== null,
    files,
    sopsFile: flags.sops ?? null,
    config,
  };
}

/** What onboard and rotate share: check the input (sops first), issue, write the outputs. */
export async function issueHost(
  cmd: AdminCommand,
  hostname: string,
  flags: {
    namespace: string;
    region?: string | undefined;
    profile?: string | undefined;
    role?: string | undefined;
    "validity-days"?: number | undefined;
    csr?: string | undefined;
    "dns-name"?: string[] | undefined;
    "output-dir"?: string | undefined;
    sops?: string | undefined;
    "revoke-previous"?: boolean | undefined;
  },
  mode: "onboard" | "rotate",
): Promise<HostCommandResult> {
  validateAdminInput({
    namespace: flags.namespace,
    hostname,
    role: flags.role,
    validityDays: flags["validity-days"],
  });
  if (flags.sops) requireSops();
  const csrPem = await readCsr(flags.csr);
  const result = await onboardHost(await cmd.adminDeps(flags), hostname, {
    mode,
    role: flags.role,
    validityDays: flags["validity-days"],
    csrPem,
    dnsNames: flags["dns-name"],
    revokePrevious: flags["revoke-previous"],
  });
  return await finishHost(cmd, result, flags, cmd.jsonEnabled());
}

export class HostOnboard extends AdminCommand {
  static override summary = "Issue a host certificate for a role and store it in Secrets Manager.";
  static override description =
    `With --csr the host keeps its private key: only its CSR is signed. Otherwise a key is
generated, stored in Secrets Manager, and written only where you ask (--output-dir 0600, or --sops).`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> web-1.example.com --role web-reader --output-dir ./web-1",
    "<%= config.bin %> <%= command.id %> build-7 --role ci --csr build-7.csr --json",
  ];
  static override args = { hostname: Args.string({ required: true, description: "Host name (DNS)." }) };
  static override flags = {
    ...hostIssueFlags,
    role: Flags.string({ char: "R", description: "Role to bind the host to.", required: true }),
  };

  async run(): Promise<HostCommandResult> {
    const { args, flags } = await this.parse(HostOnboard);
    return await issueHost(this, args.hostname, flags, "onboard");
  }
}
