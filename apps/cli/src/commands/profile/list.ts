import { BaseCommand, flagsFromSpecs } from "../../base-command.ts";
import { CONFIG_FILE_FLAG, CREDENTIALS_FILE_FLAG, resolveAwsFiles } from "../../services/aws-files.ts";
import { listAllProfiles, type ProfileListResult } from "../../services/profile.ts";
import { formatTable } from "../../services/table.ts";

export type { ProfileListResult } from "../../services/profile.ts";

export class ProfileList extends BaseCommand {
  static override summary =
    "List the profiles of the AWS config and credentials files, marking those iam-ra manages.";
  static override description =
    "A config profile is iam-ra's when its credential_process runs `credential-process` (not the official aws_signing_helper); a credentials-file profile is iam-ra's when `iam-ra update` wrote it (x_iam_ra_role_arn). No secret is printed.";
  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --json",
  ];
  static override flags = flagsFromSpecs([CONFIG_FILE_FLAG, CREDENTIALS_FILE_FLAG]);

  async run(): Promise<ProfileListResult> {
    const { flags } = await this.parse(ProfileList);
    const files = resolveAwsFiles(flags);
    const result = await listAllProfiles(files);
    if (!this.jsonEnabled()) {
      if (result.profiles.length === 0) this.log(`No profiles in ${files.config} or ${files.credentials}.`);
      const rows = result.profiles.map((p) => {
        const details = [
          p.file,
          p.roleArn,
          p.region ? `region ${p.region}` : undefined,
          p.expires ? `expires ${p.expires}` : undefined,
          p.sections > 1 ? `${p.sections} sections (botocore refuses duplicates)` : undefined,
        ].filter(Boolean);
        return [`${p.managed ? "*" : " "} ${p.name}`, details.join(", ")];
      });
      if (rows.length > 0) this.log(formatTable(["  PROFILE", "DETAILS"], rows));
      if (result.profiles.some((p) => p.managed)) this.log("\n* managed by iam-ra");
    }
    return result;
  }
}
