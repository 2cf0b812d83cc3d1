import { IamRaError } from "@iam-ra/core";
import { splitShellWords } from "@iam-ra/core/aws-config";
import { BaseCommand, flagsFromSpecs } from "../../base-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { CONFIG_FILE_FLAG, resolveAwsFiles } from "../../services/aws-files.ts";
import {
  CACHE_FLAGS,
  CREDENTIAL_FLAGS,
  type CredentialFlagValues,
} from "../../services/credential-options.ts";
import {
  configureProfiles,
  type ProfileConfigureResult,
  parseProfileArgs,
  parseSetFlags,
} from "../../services/profile.ts";
import { resolveSelfCommand } from "../../services/self-command.ts";

export type { ProfileConfigureResult } from "../../services/profile.ts";

export class ProfileConfigure extends BaseCommand {
  static override summary =
    "Write AWS config profiles whose credential_process runs iam-ra credential-process.";
  static override description =
    `One certificate, many roles: each NAME=ROLE_ARN argument becomes a [profile NAME] in the AWS config file (AWS_CONFIG_FILE or ~/.aws/config) with
  credential_process = <iam-ra> credential-process --certificate … --role-arn ROLE_ARN …
built from the credential flags given here (paths made absolute and quoted for both sh and botocore), plus region (--set region=…, else --region, else the trust anchor's), output and any --set key=value.

A bare NAME uses --role-arn. --default also writes the first profile as [default]. Re-running with the same input leaves the file byte for byte as it is; other profiles, comments and formatting are never touched. The file is written atomically, 0600, under a lock.

Secrets never go into the file: an encrypted key's password is read at run time from --private-key-passphrase-file (or IAM_RA_PRIVATE_KEY_PASSPHRASE in the environment of the program using the profile).`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> ci --role-arn arn:aws:iam::123456789012:role/ci --certificate /etc/iam-ra/cert.pem --private-key /etc/iam-ra/key.pem --trust-anchor-arn arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/TA --profile-arn arn:aws:rolesanywhere:us-east-1:123456789012:profile/P --cache",
    "<%= config.bin %> <%= command.id %> reader=arn:aws:iam::123456789012:role/reader admin=arn:aws:iam::123456789012:role/admin --default --certificate cert.pem --private-key key.pem --trust-anchor-arn ... --profile-arn ...",
    "<%= config.bin %> <%= command.id %> ci --role-arn ... --certificate cert.pem --set cli_pager= --output json --json",
  ];
  static override strict = false;
  static override args = {
    profile: Args.string({ description: "NAME or NAME=ROLE_ARN, once per profile." }),
  };
  static override flags = {
    ...flagsFromSpecs([...CREDENTIAL_FLAGS, ...CACHE_FLAGS, CONFIG_FILE_FLAG]),
    default: Flags.boolean({
      description: "Also write the first profile as [default].",
      env: "IAM_RA_DEFAULT",
    }),
    output: Flags.string({
      description: "The profiles' output format (json, text, table, yaml…).",
      env: "IAM_RA_OUTPUT",
    }),
    set: Flags.string({
      description: "Another key=value for every profile; repeatable.",
      env: "IAM_RA_SET",
      multiple: true,
    }),
    command: Flags.string({
      description: "The command that starts iam-ra, as shell words (default: this iam-ra, by absolute path).",
      env: "IAM_RA_COMMAND",
    }),
  };

  async run(): Promise<ProfileConfigureResult> {
    const { flags, argv } = await this.parse(ProfileConfigure);
    const cwd = process.cwd();
    const specs = parseProfileArgs(argv as string[], flags["role-arn"]);
    if (flags.default && specs.some((s) => s.name === "default")) {
      throw new IamRaError("invalid-input", "--default with a profile named default.", {
        hint: "Drop --default, or name the profile something else.",
      });
    }
    let command: string[];
    if (flags.command !== undefined) {
      const words = splitShellWords(flags.command);
      if (!words || words.length === 0) {
        throw new IamRaError("invalid-input", `--command ${flags.command} is not a command line.`, {
          hint: "Pass --command iam-ra, or --command '/usr/bin/node /opt/iam-ra/bin/run.js'.",
        });
      }
      command = words;
    } else {
      command = await resolveSelfCommand({
        argv1: process.argv[1],
        root: this.config.root,
        execPath: process.execPath,
        cwd,
      });
    }
    const set = flags.set === undefined ? [] : Array.isArray(flags.set) ? flags.set : [flags.set as string];
    const result = await configureProfiles({
      configFile: resolveAwsFiles(flags).config,
      specs,
      flags: flags as CredentialFlagValues,
      command,
      cwd,
      output: flags.output,
      set: parseSetFlags(set),
      makeDefault: flags.default === true,
    });
    if (!this.jsonEnabled()) {
      for (const p of result.profiles) {
        this.log(
          `${p.created ? "added" : "updated"} [${p.name === "default" ? "default" : `profile ${p.name}`}] → ${p.roleArn}`,
        );
      }
      this.log(result.written ? `wrote ${result.configFile}` : `${result.configFile} already up to date`);
      this.log(`try: aws sts get-caller-identity --profile ${result.profiles[0]?.name ?? "NAME"}`);
    }
    return result;
  }
}
