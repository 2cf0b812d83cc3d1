import * as core from "@actions/core";
import { IamRaError } from "@iam-ra/core";
import { createSession, type HttpTransport } from "@iam-ra/core/rolesanywhere";
import type { ActionConfig, CredentialSource } from "./inputs.ts";
import { secretFragments } from "./mask.ts";
import { checkCertificateExpiry, loadMaterial } from "./material.ts";
import { createStsClient, type TemporaryCredentials } from "./sts.ts";

/** Fresh credentials and the region they are used in. */
export interface AcquiredCredentials {
  credentials: TemporaryCredentials & { expiration: Date };
  region: string;
}

const PLAIN_SECRET = /^[A-Za-z0-9]+$/;
const DEFAULT_CHAIN_SESSION_NAME = "GitHubActions";

/** Registers a secret, and each line of a multi-line one, before anything can print it. */
export function mask(value: string | undefined): void {
  if (value === undefined || value === "") return;
  for (const fragment of secretFragments(value)) core.setSecret(fragment);
}

function maskCredentials(credentials: TemporaryCredentials): void {
  mask(credentials.accessKeyId);
  mask(credentials.secretAccessKey);
  mask(credentials.sessionToken);
}

/**
 * Calls `get` until the secret key has no special characters (`special-characters-workaround`,
 * for tools that mangle them), at most `retry-max-attempts` times. Every set it sees is masked at
 * once, kept or not.
 */
async function untilUsable<T extends { credentials: TemporaryCredentials }>(
  config: ActionConfig,
  get: () => Promise<T>,
): Promise<T> {
  const attempts = config.specialCharactersWorkaround ? config.retryMaxAttempts : 1;
  for (let n = 1; ; n++) {
    const result = await get();
    maskCredentials(result.credentials);
    if (!config.specialCharactersWorkaround || PLAIN_SECRET.test(result.credentials.secretAccessKey)) {
      return result;
    }
    if (n >= attempts) {
      throw new IamRaError(
        "invalid-input",
        `Every one of ${attempts} credential sets had special characters in the secret access key.`,
        { hint: "Raise retry-max-attempts, or set special-characters-workaround to false." },
      );
    }
    core.info(
      "The secret access key has special characters; requesting another (special-characters-workaround).",
    );
  }
}

/**
 * The region the credentials are used in: `aws-region`, else the trust anchor's, else (chaining)
 * the environment's. Undefined only when chaining finds none.
 */
export function sessionRegion(
  config: ActionConfig,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (config.region) return config.region;
  const { source } = config;
  if (source.kind === "certificate") return source.trustAnchorArn.split(":")[3]!;
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/**
 * Roles Anywhere CreateSession with the certificate: checks the pair and its validity (warning
 * when it expires soon), then signs. The session is created in the trust anchor's region.
 */
export async function signInWithCertificate(
  config: ActionConfig,
  source: Extract<CredentialSource, { kind: "certificate" }>,
  transport: HttpTransport,
): Promise<AcquiredCredentials> {
  const material = await loadMaterial(source.material);
  const expiry = checkCertificateExpiry(material, new Date(), config.expiryWarningDays);
  if (expiry.state === "expiring") {
    core.warning(
      `The certificate expires on ${expiry.notAfter.toISOString()} (in ${expiry.daysLeft} days): issue a new one and update the certificate secret.`,
    );
  }
  core.info(
    `Signing CreateSession with certificate ${material.certificate.subject.replace(/\n/g, ", ")} (serial ${material.certificate.serialNumber}, valid until ${expiry.notAfter.toISOString()}).`,
  );
  const session = await untilUsable(config, () =>
    createSession(
      material,
      {
        trustAnchorArn: source.trustAnchorArn,
        profileArn: source.profileArn,
        roleArn: config.roleArn,
        durationSeconds: config.durationSeconds,
        roleSessionName: config.roleSessionName,
        instanceProperties: source.instanceProperties,
      },
      { endpoint: source.endpoint, maxAttempts: config.retryMaxAttempts, transport },
    ),
  );
  return {
    credentials: session.credentials,
    region: sessionRegion(config, {})!,
  };
}

/** Credentials an earlier step left: the key variables, else the profile AWS_PROFILE names. */
async function environmentCredentials(
  env: Readonly<Record<string, string | undefined>>,
): Promise<TemporaryCredentials> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN ?? "", expiration: undefined };
  }
  const profile = env.AWS_PROFILE;
  const file = env.AWS_SHARED_CREDENTIALS_FILE;
  const fromProfile =
    profile && file ? await (await import("./profile-file.ts")).readProfile(file, profile) : undefined;
  if (fromProfile) return { ...fromProfile, expiration: undefined };
  throw new IamRaError("invalid-input", "role-chaining found no credentials in the environment.", {
    hint: "Run this action once without role-chaining first (it exports AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, or an aws-profile), then chain in a later step.",
  });
}

/** Role chaining: STS AssumeRole into `role-to-assume` with the environment's credentials. */
export async function assumeFromEnvironment(
  config: ActionConfig,
  env: Readonly<Record<string, string | undefined>>,
  transport: HttpTransport,
): Promise<AcquiredCredentials> {
  const from = await environmentCredentials(env);
  maskCredentials(from);
  const region = sessionRegion(config, env);
  if (!region) {
    throw new IamRaError("invalid-input", "role-chaining needs a region and none was found.", {
      hint: "Set aws-region (or keep the AWS_REGION an earlier step exported).",
    });
  }
  core.info(`Assuming ${config.roleArn} with the credentials in the environment (role chaining).`);
  const sts = createStsClient({
    region,
    endpoint: config.stsEndpoint,
    credentials: from,
    transport,
    maxAttempts: config.retryMaxAttempts,
  });
  const assumed = await untilUsable(config, () =>
    sts.assumeRole({
      roleArn: config.roleArn,
      roleSessionName: config.roleSessionName ?? DEFAULT_CHAIN_SESSION_NAME,
      durationSeconds: config.durationSeconds,
    }),
  );
  return { credentials: assumed.credentials, region };
}
