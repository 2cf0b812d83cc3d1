import { statSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { IamRaError } from "@iam-ra/core";
import { writeFileAtomic } from "@iam-ra/core/aws-config";
import { resolveEndpoint, resolveSessionRegion, stringOption } from "@iam-ra/core/rolesanywhere";
import { BaseCommand, flagsFromSpecs } from "../../base-command.ts";
import { Flags } from "../../runtime/flags.ts";
import { CREDENTIALS_FILE_FLAG, resolveAwsFiles } from "../../services/aws-files.ts";
import { CREDENTIAL_FLAGS, type CredentialFlagValues } from "../../services/credential-options.ts";
import { assertProfileName } from "../../services/profile.ts";
import { resolveServiceCommand } from "../../services/self-command.ts";
import { buildUnits, DEFAULT_TOKEN_FILE, type GeneratedUnit, type UnitKind } from "../../services/systemd.ts";

/** The `--json` result of `iam-ra service install`. */
export interface ServiceInstallResult {
  units: Array<GeneratedUnit & { path: string | undefined }>;
  /** True with --write. */
  written: boolean;
  /** What to do next, and anything left out on purpose. */
  notes: string[];
}

/** A file a unit will read: it must exist and be a regular file (not a directory, FIFO or device). */
function requireRegularFile(flag: string, path: string): void {
  let kind: string | undefined;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) kind = stat.isDirectory() ? "a directory" : "not a regular file";
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    kind = code === "ENOENT" ? "missing" : `unreadable (${code})`;
  }
  if (kind !== undefined) {
    throw new IamRaError("invalid-input", `--${flag} ${path} is ${kind}: the service would fail at start.`, {
      hint: `Put the file in place first (a regular file the service's user may read), then install the unit.`,
    });
  }
}

export class ServiceInstall extends BaseCommand {
  static override summary =
    "Print (or write) hardened systemd units that run iam-ra serve and iam-ra update.";
  static override description =
    `Builds long-running services (Restart=on-failure, no timer): iam-ra-serve.service runs \`iam-ra serve\`, iam-ra-update-<profile>.service runs \`iam-ra update\` for one profile. They run as --user with NoNewPrivileges, ProtectSystem=strict, ProtectHome=read-only, PrivateTmp and the rest of systemd's sandbox; only the credentials file's directory (update) or the token file's directory (serve) is writable.

An encrypted key's password never goes into the unit or the environment: pass --private-key-passphrase-file and systemd hands the file to the service with LoadCredential=. ExecStart uses the absolute node and script of this iam-ra, so a unit's minimal PATH does not matter.

Without --write the units are printed; with --write they are written to --dir (default /etc/systemd/system). Then: systemctl daemon-reload && systemctl enable --now <unit>.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --unit update --profile ci --user deploy --certificate /etc/iam-ra/cert.pem --private-key /etc/iam-ra/key.pem --trust-anchor-arn ... --profile-arn ... --role-arn ...",
    "sudo <%= config.bin %> <%= command.id %> --unit serve --port 9911 --user iam-ra --private-key-passphrase-file /etc/iam-ra/key.pass ... --write",
    "<%= config.bin %> <%= command.id %> --unit update --json ...",
  ];
  static override flags = {
    ...flagsFromSpecs([...CREDENTIAL_FLAGS, CREDENTIALS_FILE_FLAG]),
    unit: Flags.string({
      description: "Which unit(s) to build; repeatable.",
      env: "IAM_RA_UNIT",
      options: ["serve", "update"],
      multiple: true,
      default: ["serve", "update"],
    }),
    user: Flags.string({
      description: "User the service runs as (default: the current user).",
      env: "IAM_RA_USER",
    }),
    group: Flags.string({
      description: "Group the service runs as; serve makes its token file readable by this group.",
      env: "IAM_RA_GROUP",
    }),
    profile: Flags.string({
      description: "update: the credentials-file profile to keep fresh.",
      env: "IAM_RA_PROFILE",
      default: "default",
    }),
    host: Flags.string({
      description: "serve: address to listen on.",
      env: "IAM_RA_HOST",
      default: "127.0.0.1",
    }),
    port: Flags.integer({
      description: "serve: port to listen on.",
      env: "IAM_RA_PORT",
      default: 9911,
      min: 1,
      max: 65535,
    }),
    "token-file": Flags.string({
      description: `serve: the authorization token file.`,
      env: "IAM_RA_TOKEN_FILE",
      default: DEFAULT_TOKEN_FILE,
    }),
    imds: Flags.boolean({
      description: "serve: also emulate IMDSv2.",
      env: "IAM_RA_IMDS",
    }),
    write: Flags.boolean({
      description: "Write the unit files instead of printing them.",
      env: "IAM_RA_WRITE",
    }),
    dir: Flags.string({
      description: "Where --write puts the units.",
      env: "IAM_RA_UNIT_DIR",
      default: "/etc/systemd/system",
    }),
  };

  async run(): Promise<ServiceInstallResult> {
    const { flags } = await this.parse(ServiceInstall);
    const cwd = process.cwd();
    const values = flags as CredentialFlagValues;
    if (!stringOption(values.certificate)) {
      throw new IamRaError("invalid-input", "No certificate was given.", {
        hint: "Pass --certificate (or set IAM_RA_CERTIFICATE).",
      });
    }
    const region = resolveSessionRegion(
      {
        trustAnchorArn: stringOption(values["trust-anchor-arn"]) ?? "",
        profileArn: stringOption(values["profile-arn"]) ?? "",
        roleArn: stringOption(values["role-arn"]) ?? "",
        durationSeconds: flags["session-duration"],
      },
      flags.region,
    );
    // What the units will use is checked now, not when the service first starts.
    resolveEndpoint({
      region,
      endpoint: stringOption(values.endpoint),
      allowHttp: values["allow-http"] === true,
      useFips: values["use-fips-endpoint"] === true,
      useDualStack: values["use-dualstack-endpoint"] === true,
    });
    for (const flag of [
      "certificate",
      "private-key",
      "intermediates",
      "private-key-passphrase-file",
    ] as const) {
      const path = stringOption(values[flag]);
      if (path !== undefined && !/^pkcs11:/i.test(path)) requireRegularFile(flag, resolve(cwd, path));
    }
    const kinds = flags.unit as UnitKind[];
    if (kinds.includes("update"))
      assertProfileName(flags.profile, "Pass --profile NAME, e.g. --profile ci-reader.");
    const units = buildUnits({
      kinds,
      command: await resolveServiceCommand({
        argv1: process.argv[1],
        root: this.config.root,
        execPath: process.execPath,
        cwd,
      }),
      flags: values,
      cwd,
      user: flags.user ?? userInfo().username,
      group: flags.group,
      update: {
        profile: flags.profile,
        credentialsFile: resolveAwsFiles(values).credentials,
      },
      serve: {
        host: flags.host,
        port: flags.port,
        tokenFile: resolve(cwd, flags["token-file"]),
        imds: flags.imds === true,
      },
    });
    const notes: string[] = [];
    if (process.env.IAM_RA_PRIVATE_KEY_PASSPHRASE && !flags["private-key-passphrase-file"]) {
      notes.push(
        "IAM_RA_PRIVATE_KEY_PASSPHRASE is set but is not copied into the unit; pass --private-key-passphrase-file to hand it over with LoadCredential=.",
      );
    }
    const out: ServiceInstallResult["units"] = [];
    for (const unit of units) {
      const path = flags.write ? join(resolve(cwd, flags.dir), unit.name) : undefined;
      if (path) await writeFileAtomic(path, unit.content, { mode: 0o644 });
      out.push({ ...unit, path });
    }
    notes.push(`systemctl daemon-reload && systemctl enable --now ${units.map((u) => u.name).join(" ")}`);
    if (!this.jsonEnabled()) {
      if (flags.write) for (const u of out) this.log(`wrote ${u.path}`);
      else this.log(out.map((u) => `# ${join(flags.dir, u.name)}\n${u.content}`).join("\n"));
      for (const note of notes) this.logToStderr(`note: ${note}`);
    }
    return { units: out, written: flags.write === true, notes };
  }
}
