import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { KMSClient } from "@aws-sdk/client-kms";
import { RolesAnywhereClient } from "@aws-sdk/client-rolesanywhere";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { IamRaError } from "@iam-ra/core";
import type { AdminDeps } from "@iam-ra/core/admin";
import { createAwsAdminDeps } from "@iam-ra/core/admin/aws";
import type { StackEvent } from "@iam-ra/core/cloudformation";

/** Flags every admin command shares. */
export interface AwsFlags {
  namespace: string;
  region?: string | undefined;
  profile?: string | undefined;
}

/** How progress reaches the user: a TTY gets live lines on stderr; pipes and --json get nothing. */
export interface ProgressSink {
  step(message: string): void;
  event(stackName: string, event: StackEvent): void;
}

/**
 * The endpoint of one service: `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL` (the AWS SDKs'
 * own convention, applied here too for the older clients that predate it).
 */
function endpointFor(env: NodeJS.ProcessEnv, service: string): { endpoint: string } | Record<string, never> {
  const url = env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL;
  return url ? { endpoint: url } : {};
}

/**
 * Builds the admin workflows' ports from AWS SDK clients: region from --region, else AWS_REGION /
 * AWS_DEFAULT_REGION / the profile (the SDK's own chain); credentials from --profile or the default
 * chain; the account from STS.
 */
export async function createAdminDeps(
  flags: AwsFlags,
  env: NodeJS.ProcessEnv,
  progress: ProgressSink,
): Promise<AdminDeps> {
  // Every client takes the profile itself (credentials and region come from it).
  const base = {
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
  };
  const sts = new STSClient({ ...base, ...endpointFor(env, "STS") });
  let region: string;
  try {
    region = await sts.config.region();
  } catch {
    throw new IamRaError("invalid-input", "No AWS region is configured.", {
      hint: "Pass --region, or set AWS_REGION, or set a region in your AWS profile.",
    });
  }
  if (!region) {
    throw new IamRaError("invalid-input", "No AWS region is configured.", {
      hint: "Pass --region, or set AWS_REGION, or set a region in your AWS profile.",
    });
  }
  const withRegion = { ...base, region };
  let accountId: string;
  try {
    accountId = (await sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
  } catch (e) {
    throw new IamRaError("access-denied", `Could not identify the AWS account: ${(e as Error).message}`, {
      hint: "Configure AWS credentials (e.g. --profile, AWS_PROFILE, or `aws sso login`).",
    });
  }
  return createAwsAdminDeps(
    {
      cloudFormation: new CloudFormationClient({ ...withRegion, ...endpointFor(env, "CLOUDFORMATION") }),
      s3: new S3Client({
        ...withRegion,
        ...endpointFor(env, "S3"),
        forcePathStyle: "endpoint" in endpointFor(env, "S3"),
      }),
      ssm: new SSMClient({ ...withRegion, ...endpointFor(env, "SSM") }),
      kms: new KMSClient({ ...withRegion, ...endpointFor(env, "KMS") }),
      secretsManager: new SecretsManagerClient({ ...withRegion, ...endpointFor(env, "SECRETS_MANAGER") }),
      acmPca: new ACMPCAClient({ ...withRegion, ...endpointFor(env, "ACM_PCA") }),
      rolesAnywhere: new RolesAnywhereClient({ ...withRegion, ...endpointFor(env, "ROLESANYWHERE") }),
    },
    {
      namespace: flags.namespace,
      region,
      accountId,
      clock: { now: () => new Date() },
      progress: (m) => progress.step(m),
      onStackEvent: (name, e) => progress.event(name, e),
    },
  );
}
