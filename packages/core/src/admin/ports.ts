import type { CloudFormationPort, StackEvent } from "../cloudformation/deploy.ts";
import type { StateObjectPort } from "../state/store.ts";
import type { KmsPort } from "../x509/envelope.ts";

/**
 * The namespace bucket: state, CA certificates, encrypted CA keys, CRLs.
 * @public
 */
export interface BucketPort extends StateObjectPort {
  /** Unconditional write, encrypted with the namespace key. */
  write(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  read(key: string): Promise<string | undefined>;
  remove(key: string): Promise<void>;
  /** Deletes every object version and delete marker (a missing bucket is empty). */
  empty(): Promise<void>;
  /** Deletes every object version and delete marker, then the bucket. */
  destroy(): Promise<void>;
}

/**
 * Secrets Manager, for host certificates and keys (never through CloudFormation).
 * @public
 */
export interface SecretsPort {
  /** Creates or updates the secret's value; returns its ARN. */
  put(name: string, value: string, kmsKeyArn: string, tags: Record<string, string>): Promise<string>;
  get(nameOrArn: string): Promise<string | undefined>;
  /** Deletes at once (no recovery window), so a re-onboard can reuse the name. */
  remove(nameOrArn: string): Promise<void>;
}

/**
 * AWS Private CA, for `pca-new` and `pca-existing` scopes.
 * @public
 */
export interface PcaPort {
  describe(caArn: string): Promise<{ status: string; keyAlgorithm: string; signingAlgorithm: string }>;
  /** Issues an end-entity clientAuth certificate for a CSR and waits until it is ready. */
  issue(
    caArn: string,
    csrPem: string,
    validityDays: number,
    signingAlgorithm: string,
  ): Promise<{
    certificatePem: string;
    chainPem: string;
  }>;
  /** Revokes a certificate; one already revoked counts as done. */
  revoke(caArn: string, serialHex: string): Promise<void>;
  /** The CA certificate and its chain (PEM). */
  caCertificate(caArn: string): Promise<string>;
  /**
   * The complete CRL the CA last published to S3 (`crl/<CA id>.crl` in the bucket of its
   * revocation configuration): `undefined` when the CA publishes no CRL, `der: undefined` when it
   * has not published one yet.
   */
  publishedCrl(caArn: string): Promise<{ location: string; der: Uint8Array | undefined } | undefined>;
  /** Whether the CA's revocation configuration publishes a CRL (read from the CA alone). */
  publishesCrl(caArn: string): Promise<boolean>;
}

/**
 * The Roles Anywhere reads `status` and `doctor` make.
 * @public
 */
export interface RolesAnywhereReadPort {
  trustAnchor(
    arn: string,
  ): Promise<
    | { enabled: boolean; sourceType: string; certificatePem: string | undefined; pcaArn: string | undefined }
    | undefined
  >;
  profile(
    arn: string,
  ): Promise<{ enabled: boolean; roleArns: string[]; durationSeconds: number } | undefined>;
}

/**
 * Everything the admin workflows touch, built by the app (`createAwsAdminDeps` or fakes).
 * @public
 */
export interface AdminDeps {
  namespace: string;
  region: string;
  /**
   * The AWS account, looked up on first use (an STS call for the CLI): only workflows that record
   * or show it pay for the lookup.
   */
  accountId(): Promise<string>;
  cfn: CloudFormationPort;
  /** The namespace bucket once its name is known. */
  bucket(name: string, kmsKeyArn: string | undefined): BucketPort;
  /** Reads an SSM parameter (undefined when absent). */
  parameter(name: string): Promise<string | undefined>;
  kms: KmsPort;
  /** Schedules a KMS key's deletion (`destroy`, when the bucket is not retained). */
  retireKey(keyArn: string, pendingWindowDays: number): Promise<void>;
  secrets: SecretsPort;
  pca: PcaPort;
  rolesAnywhere: RolesAnywhereReadPort;
  clock: { now(): Date };
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Human progress: one line per step (the CLI shows it on a TTY). */
  progress(message: string): void;
  /** Live CloudFormation events. */
  onStackEvent?: ((stackName: string, event: StackEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}
