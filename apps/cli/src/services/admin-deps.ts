import type { SSMClient } from "@aws-sdk/client-ssm";
import { IamRaError } from "@iam-ra/core";
import type { AdminDeps, RolesAnywhereReadPort } from "@iam-ra/core/admin";
import {
  type AwsAdminClients,
  awsSdk,
  createAwsAdminDeps,
  createRolesAnywhereReader,
  lazySdk,
} from "@iam-ra/core/admin/aws";
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

/** What an SDK client's `send` takes and gives, for any client. */
// biome-ignore lint/suspicious/noExplicitAny: every SDK client's send, whatever its commands
type AnySend = (command: any, options?: any) => Promise<any>;

const stsSdk = lazySdk(() => import("./sts-sdk.ts"));

/**
 * A client built on its first call, its package imported then: a command pays (module load,
 * credential and endpoint resolution) only for the services it calls.
 */
function lazyClient(create: () => Promise<{ send: AnySend }>): { send: AnySend } {
  let client: Promise<{ send: AnySend }> | undefined;
  return {
    send: async (command, options) => {
      client ??= create();
      return await (await client).send(command, options);
    },
  };
}

/**
 * Roles Anywhere's two reads (GetTrustAnchor, GetProfile) as signed GETs with the credentials and
 * endpoint settings (FIPS, dual-stack, AWS_ENDPOINT_URL_*) the SDK resolves for `resolved`: the only
 * `@aws-sdk/client-rolesanywhere` the registry has (3.332.0) brings its own older copy of the SDK's
 * runtime, which `status` would load for two calls. Built on the first read.
 */
function rolesAnywhereReads(
  resolved: Pick<SSMClient, "config">,
  region: string,
  env: NodeJS.ProcessEnv,
): RolesAnywhereReadPort {
  let reader: Promise<RolesAnywhereReadPort> | undefined;
  const create = async (): Promise<RolesAnywhereReadPort> => {
    const { endpoint } = endpointFor(env, "ROLESANYWHERE");
    return createRolesAnywhereReader({
      region,
      ...(endpoint
        ? // The SDK clients send to any AWS_ENDPOINT_URL the user sets; so do these reads.
          { endpoint, allowHttp: true }
        : {
            useFips: await resolved.config.useFipsEndpoint(),
            useDualStack: await resolved.config.useDualstackEndpoint(),
          }),
      credentials: () => resolved.config.credentials(),
    });
  };
  const built = () => {
    reader ??= create();
    return reader;
  };
  return {
    trustAnchor: async (arn) => await (await built()).trustAnchor(arn),
    profile: async (arn) => await (await built()).profile(arn),
  };
}

/**
 * Builds the admin workflows' ports from AWS SDK clients: region from --region, else AWS_REGION /
 * AWS_DEFAULT_REGION / the profile (the SDK's own chain); credentials from --profile or the default
 * chain; the account from STS, asked only by the workflows that need it. SSM's client is built at
 * once (every command reads the namespace marker first); each other client is built, and its
 * package loaded, on its first call.
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
  // SSM holds every namespace's marker, so every admin command sends to it first: its client is
  // built now and answers the region (and, for the Roles Anywhere reads, credentials and endpoint
  // settings); STS loads only when a workflow asks for the account.
  const ssm = new (await awsSdk.ssm()).SSMClient({ ...base, ...endpointFor(env, "SSM") });
  // The SDK's lookup throws when it finds none; an empty value means none too.
  const region = await ssm.config.region().catch(() => "");
  if (!region) {
    throw new IamRaError("invalid-input", "No AWS region is configured.", {
      hint: "Pass --region, or set AWS_REGION, or set a region in your AWS profile.",
    });
  }
  const withRegion = { ...base, region };
  let account: Promise<string> | undefined;
  const lookUpAccount = async (): Promise<string> => {
    const { GetCallerIdentityCommand, STSClient } = await stsSdk();
    const sts = new STSClient({ ...withRegion, ...endpointFor(env, "STS") });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
    } catch (e) {
      throw new IamRaError("access-denied", `Could not identify the AWS account: ${(e as Error).message}`, {
        hint: "Configure AWS credentials (e.g. --profile, AWS_PROFILE, or `aws sso login`).",
      });
    }
  };
  // One service's client configuration: the region, the profile, and its endpoint if one is set.
  const configFor = (service: string) => ({ ...withRegion, ...endpointFor(env, service) });
  const s3 = configFor("S3");
  const clients: AwsAdminClients = {
    cloudFormation: lazyClient(
      async () => new (await awsSdk.cloudFormation()).CloudFormationClient(configFor("CLOUDFORMATION")),
    ),
    s3: lazyClient(async () => new (await awsSdk.s3()).S3Client({ ...s3, forcePathStyle: "endpoint" in s3 })),
    ssm,
    kms: lazyClient(async () => new (await awsSdk.kms()).KMSClient(configFor("KMS"))),
    secretsManager: lazyClient(
      async () => new (await awsSdk.secretsManager()).SecretsManagerClient(configFor("SECRETS_MANAGER")),
    ),
    acmPca: lazyClient(async () => new (await awsSdk.acmPca()).ACMPCAClient(configFor("ACM_PCA"))),
    rolesAnywhere: rolesAnywhereReads(ssm, region, env),
  };
  return createAwsAdminDeps(clients, {
    namespace: flags.namespace,
    region,
    accountId: () => {
      account ??= lookUpAccount();
      return account;
    },
    clock: { now: () => new Date() },
    progress: (m) => progress.step(m),
    onStackEvent: (name, e) => progress.event(name, e),
  });
}
