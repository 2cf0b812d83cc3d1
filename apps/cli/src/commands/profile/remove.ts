import { BaseCommand, flagsFromSpecs } from "../../base-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { CONFIG_FILE_FLAG, CREDENTIALS_FILE_FLAG, resolveAwsFiles } from "../../services/aws-files.ts";
import { type ProfileRemoveResult, removeManagedProfile } from "../../services/profile.ts";

export type { ProfileRemoveResult } from "../../services/profile.ts";

export class ProfileRemove extends BaseCommand {
  static override summary = "Remove a profile iam-ra wrote from the AWS config and credentials files.";
  static override description =
    "Removes every section of that name that iam-ra manages (see profile list) from both files, with the lock and atomic write of the other commands; everything else in the files stays byte for byte. A profile iam-ra did not write is left alone unless --force is given.";
  static override examples = [
    "<%= config.bin %> <%= command.id %> ci",
    "<%= config.bin %> <%= command.id %> old-sso-profile --force --json",
  ];
  static override args = {
    name: Args.string({ description: "The profile to remove.", required: true }),
  };
  static override flags = {
    ...flagsFromSpecs([CONFIG_FILE_FLAG, CREDENTIALS_FILE_FLAG]),
    force: Flags.boolean({
      description: "Also remove a profile iam-ra did not write.",
      env: "IAM_RA_FORCE",
    }),
  };

  async run(): Promise<ProfileRemoveResult> {
    const { flags, args } = await this.parse(ProfileRemove);
    const files = resolveAwsFiles(flags);
    const result = await removeManagedProfile({ files, name: args.name, force: flags.force === true });
    if (!this.jsonEnabled()) {
      for (const r of result.removed) this.log(`removed ${args.name} from ${r.path}`);
      for (const k of result.kept)
        this.log(`kept ${args.name} in ${k.path}: not written by iam-ra (--force removes it)`);
    }
    return result;
  }
}
