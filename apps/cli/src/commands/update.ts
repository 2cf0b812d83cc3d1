import { describeError } from "@iam-ra/core";
import { fromRolesAnywhere, resolveSessionInputs } from "@iam-ra/core/rolesanywhere";
import { BaseCommand, flagsFromSpecs } from "../base-command.ts";
import { Flags } from "../runtime/flags.ts";
import { CREDENTIALS_FILE_FLAG, resolveAwsFiles } from "../services/aws-files.ts";
import { CREDENTIAL_FLAGS, type CredentialFlagValues } from "../services/credential-options.ts";
import { assertProfileName } from "../services/profile.ts";

import {
  abortableSleep,
  runUpdateLoop,
  type UpdateEvent,
  writeProfileCredentials,
} from "../services/update.ts";

/** The `--json` result of `iam-ra update`. */
export interface UpdateResult {
  profile: string;
  credentialsFile: string;
  /** `written` after `--once`; `stopped` after SIGINT/SIGTERM. */
  state: "written" | "stopped";
  refreshes: number;
  /** Expiration of the credentials in the file (ISO 8601). */
  expiration: string | undefined;
}

export class Update extends BaseCommand {
  static override summary =
    "Keep a profile of the AWS credentials file filled with fresh Roles Anywhere credentials.";
  static override description =
    `Writes aws_access_key_id, aws_secret_access_key and aws_session_token (plus aws_account_id, and x_security_token_expires and x_iam_ra_role_arn for people) into one profile of the shared credentials file, then refreshes them 15 minutes before they expire (at half-life for shorter sessions) until stopped with SIGINT or SIGTERM.

The file is edited in place: other profiles, comments and line endings stay byte for byte; writes go through a lock file and an atomic rename, and leave the file 0600. A failed refresh is retried with backoff while the credentials already written stay in place; a configuration error at start-up exits 1.

AWS SDKs read the credentials file once and do not reload it, so a long-running program keeps the keys it started with: prefer credential_process (iam-ra profile configure) or the sidecar for those, and use update for the aws CLI and short-lived processes.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --profile ci --certificate cert.pem --private-key key.pem --trust-anchor-arn arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/TA --profile-arn arn:aws:rolesanywhere:us-east-1:123456789012:profile/P --role-arn arn:aws:iam::123456789012:role/R",
    "<%= config.bin %> <%= command.id %> --once --profile ci --json ...",
    "AWS_SHARED_CREDENTIALS_FILE=/srv/app/.aws/credentials <%= config.bin %> <%= command.id %> --profile app ...",
  ];
  static override flags = {
    ...flagsFromSpecs([...CREDENTIAL_FLAGS, CREDENTIALS_FILE_FLAG]),
    profile: Flags.string({
      description: "Profile to write in the credentials file.",
      env: "IAM_RA_PROFILE",
      default: "default",
    }),
    once: Flags.boolean({
      description: "Write once and exit instead of refreshing until stopped.",
      env: "IAM_RA_ONCE",
    }),
  };

  async run(): Promise<UpdateResult> {
    const { flags } = await this.parse(Update);
    assertProfileName(flags.profile, "Pass --profile NAME, e.g. --profile ci-reader.");
    const path = resolveAwsFiles(flags).credentials;
    const inputs = await resolveSessionInputs(flags as CredentialFlagValues, process.env);
    // Unsafe transport settings are said on every run (stderr, with --json too).
    for (const warning of inputs.warnings) this.logToStderr(`iam-ra update: warning: ${warning}`);
    const provider = fromRolesAnywhere({ ...inputs.material, ...inputs.params, ...inputs.options });
    const say = (line: string) => {
      if (!this.jsonEnabled()) this.logToStderr(`iam-ra update: ${line}`);
    };
    const onEvent = (event: UpdateEvent) => {
      if (event.type === "written") {
        say(
          `wrote profile "${flags.profile}" to ${path}; expires ${event.expiration.toISOString()}, next refresh ${event.nextRefreshAt.toISOString()}`,
        );
      } else if (event.type === "failed") {
        const valid = event.credentialsValidUntil
          ? `; the credentials in the file stay valid until ${event.credentialsValidUntil.toISOString()}`
          : "";
        say(
          `refresh failed: ${describeError(event.error)}; retrying at ${event.retryAt.toISOString()}${valid}`,
        );
      } else say("stopped");
    };

    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      const outcome = await runUpdateLoop(
        {
          fetch: () => provider.refresh(),
          write: async (credentials) => {
            await writeProfileCredentials({
              path,
              profile: flags.profile,
              credentials,
              roleArn: inputs.params.roleArn,
            });
          },
          clock: { now: () => new Date() },
          sleep: abortableSleep,
          signal: controller.signal,
          random: Math.random,
          onEvent,
        },
        { once: flags.once === true },
      );
      if (flags.once && outcome.expiration) {
        say(`wrote profile "${flags.profile}" to ${path}; expires ${outcome.expiration.toISOString()}`);
      }
      return {
        profile: flags.profile,
        credentialsFile: path,
        state: outcome.state,
        refreshes: outcome.refreshes,
        expiration: outcome.expiration?.toISOString(),
      };
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  }
}
