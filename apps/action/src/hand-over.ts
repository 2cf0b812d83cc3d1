import * as core from "@actions/core";
import type { ActionConfig } from "./inputs.ts";
import { STATE } from "./state.ts";
import type { CallerIdentity, TemporaryCredentials } from "./sts.ts";

/**
 * Variables `unset-current-credentials` clears: every way an SDK could pick up other credentials
 * (or another region) ahead of, or instead of, the ones this step exports.
 */
export const CREDENTIAL_ENV_NAMES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_ROLE_ARN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_SESSION_NAME",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
] as const;

/**
 * Hands checked credentials to the rest of the job: the environment and/or a named profile, the
 * region, the outputs, and the state the post step needs to take it all back.
 */
export async function handOver(
  config: ActionConfig,
  credentials: TemporaryCredentials & { expiration: Date },
  identity: CallerIdentity,
  region: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  if (config.unsetCurrentCredentials) {
    for (const name of CREDENTIAL_ENV_NAMES) if (env[name]) core.exportVariable(name, "");
  }
  const exported = [
    ...(config.outputEnvCredentials
      ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
      : []),
    ...(config.awsProfile ? ["AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"] : []),
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
  ];
  // Saved before anything is written, so the post step clears whatever a failure leaves behind.
  core.saveState(STATE.exported, JSON.stringify(exported));
  if (config.outputEnvCredentials) {
    core.exportVariable("AWS_ACCESS_KEY_ID", credentials.accessKeyId);
    core.exportVariable("AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey);
    core.exportVariable("AWS_SESSION_TOKEN", credentials.sessionToken);
  }
  if (config.awsProfile) {
    // Loaded only for a profile (a file of its own in dist/: most runs never read it).
    const { profileFilePath, writeProfile } = await import("./profile-file.ts");
    const file = profileFilePath(env.RUNNER_TEMP!);
    core.saveState(STATE.profile, JSON.stringify({ file, name: config.awsProfile }));
    await writeProfile(file, config.awsProfile, credentials);
    core.exportVariable("AWS_SHARED_CREDENTIALS_FILE", file);
    core.exportVariable("AWS_PROFILE", config.awsProfile);
    if (!config.outputEnvCredentials && env.AWS_ACCESS_KEY_ID) {
      core.warning(
        "AWS_ACCESS_KEY_ID is set in the environment and SDKs prefer it to AWS_PROFILE; set unset-current-credentials: true to clear it.",
      );
    }
  }
  core.exportVariable("AWS_REGION", region);
  core.exportVariable("AWS_DEFAULT_REGION", region);

  const expiration = credentials.expiration.toISOString();
  core.setOutput("aws-account-id", identity.account);
  core.setOutput("authenticated-arn", identity.arn);
  core.setOutput("expiration", expiration);
  core.setOutput("aws-expiration", expiration);
  if (config.outputCredentials) {
    core.setOutput("aws-access-key-id", credentials.accessKeyId);
    core.setOutput("aws-secret-access-key", credentials.secretAccessKey);
    core.setOutput("aws-session-token", credentials.sessionToken);
  }
  const target = config.awsProfile ? `profile ${config.awsProfile}` : "the environment";
  core.info(`Authenticated as ${identity.arn}; credentials in ${target} until ${expiration}.`);
}
