import { SIDECAR_OPTIONS } from "@iam-ra/core/server";
import { BaseCommand, flagsFromSpecs } from "../base-command.ts";

/** What `serve --json` prints once listening. */
export interface ServeResult {
  url: string;
  /** For `AWS_CONTAINER_CREDENTIALS_FULL_URI`, when container credentials are on. */
  credentialsUri: string | null;
  imds: boolean;
}

export class Serve extends BaseCommand {
  static override summary =
    "Serve Roles Anywhere credentials to local processes: container credentials and IMDSv2, refreshed in the background.";
  static override description = `The same server as the sidecar image, for hosts. Point stock SDKs at it with
AWS_CONTAINER_CREDENTIALS_FULL_URI=<url>/v1/credentials and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=<token file>,
or (with --imds) AWS_EC2_METADATA_SERVICE_ENDPOINT=<url>. Credentials are fetched before expiry, the last
good ones are served through an outage, and a rotated certificate is picked up from disk at once.
Logs are JSON lines on stderr; SIGTERM stops it gracefully.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate host.pem --private-key host.key --trust-anchor-arn … --profile-arn … --role-arn … --token-file /run/iam-ra/token",
    "<%= config.bin %> <%= command.id %> --imds --port 9911 …",
    "<%= config.bin %> <%= command.id %> --json …",
  ];
  static override flags = flagsFromSpecs(SIDECAR_OPTIONS);

  async run(): Promise<ServeResult> {
    const { flags } = await this.parse(Serve);
    const { createLogger, mergeEnv, resolveSidecarConfig, startSidecar } = await import(
      "@iam-ra/core/server"
    );
    // A switch here is only ever given as true (there is no --no-…); false means "not on the command
    // line", and its variable (IAM_RA_IMDS, IAM_RA_ALLOW_REMOTE, …) is then read as the sidecar reads
    // it (1, true, yes, on), not by oclif's narrower rules.
    const given = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== false));
    const config = await resolveSidecarConfig(
      mergeEnv(given as Record<string, string | boolean | undefined>, process.env),
      process.env,
    );
    const logger = createLogger((line) => process.stderr.write(line), config.logLevel);
    for (const warning of config.session.warnings) logger("warn", warning, {});
    const sidecar = await startSidecar(config, { logger });
    const result: ServeResult = {
      url: sidecar.url,
      credentialsUri: config.tokenFile ? sidecar.credentialsUri : null,
      imds: config.imds.enabled,
    };
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      this.log(`iam-ra serve listening on ${sidecar.url}`);
      if (config.tokenFile)
        this.log(
          `  AWS_CONTAINER_CREDENTIALS_FULL_URI=${sidecar.credentialsUri}\n  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${config.tokenFile}`,
        );
      if (config.imds.enabled) this.log(`  AWS_EC2_METADATA_SERVICE_ENDPOINT=${sidecar.url}`);
    }
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    logger("info", "shutting down", { signal });
    await sidecar.close();
    // The result was printed when listening started; oclif must not print it a second time.
    return process.exit(0);
  }
}
