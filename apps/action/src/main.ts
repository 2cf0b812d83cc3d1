/**
 * The action's main step: sign in to IAM Roles Anywhere with a certificate held in secrets (or,
 * with `role-chaining`, assume a role from the credentials an earlier step exported), check the
 * result with STS GetCallerIdentity, and hand the credentials to the rest of the job.
 * @module
 */
import * as core from "@actions/core";
import { IamRaError } from "@iam-ra/core";
import { createNodeTransport, type NodeTransport, preconnectSession } from "@iam-ra/core/rolesanywhere";
import { assumeFromEnvironment, mask, sessionRegion, signInWithCertificate } from "./credentials.ts";
import { handOver } from "./hand-over.ts";
import { type ActionConfig, type InputReader, parseInputs } from "./inputs.ts";
import { materialSecrets } from "./mask.ts";
import { createStsClient, stsBaseUrl } from "./sts.ts";

const accountOf = (arn: string) => arn.split(":")[4] ?? "";

/**
 * The files and directory the hand-over needs. Without GITHUB_ENV/GITHUB_OUTPUT, @actions/core
 * falls back to printing workflow commands on stdout, which would put the credentials in the log
 * (masked, but there all the same): refuse before signing in instead.
 */
function checkRunner(config: ActionConfig, env: Readonly<Record<string, string | undefined>>): void {
  const missing = [
    ...(config.outputEnvCredentials || config.awsProfile ? ["GITHUB_ENV"] : []),
    ...(config.outputCredentials ? ["GITHUB_OUTPUT"] : []),
    ...(config.awsProfile ? ["RUNNER_TEMP"] : []),
  ].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new IamRaError(
      "invalid-input",
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set, so the credentials cannot be handed over safely.`,
      {
        hint: "Run on a GitHub Actions runner (or a compatible one that provides GITHUB_ENV, GITHUB_OUTPUT and RUNNER_TEMP).",
      },
    );
  }
}

/**
 * Opens the connections the step will make (Roles Anywhere, then STS once or, when chaining,
 * twice) so that DNS, TCP and TLS run while it loads the key and signs, and the STS handshake
 * while CreateSession is on the wire. The URLs are the ones the calls below resolve.
 */
function preconnect(
  transport: NodeTransport,
  config: ActionConfig,
  env: Readonly<Record<string, string | undefined>>,
): void {
  const { source } = config;
  try {
    if (source.kind === "certificate") {
      const { trustAnchorArn, profileArn, endpoint } = source;
      preconnectSession({ trustAnchorArn, profileArn, roleArn: config.roleArn }, { endpoint, transport });
    }
    const region = sessionRegion(config, env);
    if (region === undefined) return;
    const sts = stsBaseUrl(region, config.stsEndpoint);
    transport.preconnect(sts);
    if (source.kind === "environment") transport.preconnect(sts);
  } catch {
    // Only a head start: whatever failed here, the calls themselves report.
  }
}

/**
 * Runs the main step. Throws an {@link IamRaError} (or, for a bug, anything else) on failure;
 * the entry turns it into one `::error::` line.
 */
export async function run(): Promise<void> {
  const read: InputReader = (name) => core.getInput(name, { trimWhitespace: false });
  // Masks first: nothing below (not even an input error) may print before the runner knows them.
  for (const secret of materialSecrets({
    certificate: read("certificate").trim(),
    privateKey: read("private-key"),
    chain: read("certificate-chain"),
    passphrase: read("private-key-passphrase").replace(/\r?\n$/, ""),
  })) {
    core.setSecret(secret);
  }
  const config = parseInputs(read);
  const { source } = config;
  if (config.maskAccountId) {
    mask(accountOf(config.roleArn));
    if (source.kind === "certificate") {
      mask(accountOf(source.trustAnchorArn));
      mask(accountOf(source.profileArn));
    }
  }
  const env = process.env;
  checkRunner(config, env);
  const transport = createNodeTransport({ proxyEnv: env });
  preconnect(transport, config, env);

  const { credentials, region } =
    source.kind === "certificate"
      ? await signInWithCertificate(config, source, transport)
      : await assumeFromEnvironment(config, env, transport);

  const identity = await createStsClient({
    region,
    endpoint: config.stsEndpoint,
    credentials,
    transport,
    maxAttempts: config.retryMaxAttempts,
  }).getCallerIdentity();
  if (config.maskAccountId) mask(identity.account);
  if (config.allowedAccountIds.length > 0 && !config.allowedAccountIds.includes(identity.account)) {
    throw new IamRaError(
      "access-denied",
      `The credentials belong to account ${identity.account}, which allowed-account-ids does not list.`,
      { hint: "Check role-to-assume, or add the account to allowed-account-ids." },
    );
  }
  await handOver(config, credentials, identity, region, env);
}
