/** CA scopes: `ca setup` (self-signed, new or existing AWS Private CA) and `ca delete`. @module */
import { type DeployResult, deleteStack, deployStack } from "../cloudformation/deploy.ts";
import { stackName, validateName } from "../cloudformation/names.ts";
import { caTemplate } from "../cloudformation/templates.ts";
import { IamRaError } from "../errors.ts";
import type { CaMode, CaScope, CertificateRecord, State } from "../state/schema.ts";
import { createSelfSignedCa, type KeyAlgorithm } from "../x509/ca.ts";
import { sealKeyEnvelope } from "../x509/envelope.ts";
import {
  arnRegion,
  certificateRecord,
  DAY,
  deployOptions,
  eventsFor,
  nsTags,
  openNamespace,
  requireState,
  scopeKey,
} from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

/** Options of {@link setUpCa}. @public */
export interface CaSetupOptions {
  mode: CaMode;
  pcaArn?: string | undefined;
  keyAlgorithm?: KeyAlgorithm | undefined;
  validityYears?: number | undefined;
  /** `keep`: an existing scope is left as it is (init); `refuse` (default): it is an error. */
  ifExists?: "keep" | "refuse" | undefined;
}

/** What `ca setup` did. @public */
export interface CaSetupResult {
  outcome: "created" | "unchanged";
  scope: string;
  mode: CaMode;
  trustAnchorArn: string;
  pcaArn: string | null;
  stackName: string;
  certificate: CertificateRecord | null;
  /**
   * Private CA scopes: whether the CA publishes a CRL to S3, which `host revoke` imports into
   * Roles Anywhere (without one, a revoked certificate works until it expires). Null: self-signed.
   */
  pcaPublishesCrl: boolean | null;
}

const PCA_KEY: Record<string, string> = {
  EC_P256: "EC_prime256v1",
  EC_P384: "EC_secp384r1",
  RSA_2048: "RSA_2048",
  RSA_4096: "RSA_4096",
};

/** A validated `ca setup`: the scope exists already, or what {@link setUpCa} creates. @public */
export type CaSetupPlan =
  | { kind: "existing"; record: CaScope }
  | {
      kind: "create";
      stackName: string;
      keyAlgorithm: KeyAlgorithm;
      validityYears: number;
      /** pca-existing: the Private CA's ARN. */
      pcaArn: string | null;
      /** pca-new: AWS Private CA's name of the key algorithm. */
      pcaKeyAlgorithm: string | null;
    };

/** Checks a `ca setup` against state and its options; throws what `setUpCa` would refuse. Pure. @public */
export function planCaSetup(state: State, scope: string, options: CaSetupOptions): CaSetupPlan {
  validateName("scope", scope);
  const existing = state.cas[scope];
  if (existing) {
    if (options.ifExists === "keep" || existing.mode === options.mode)
      return { kind: "existing", record: existing };
    throw new IamRaError("already-exists", `CA scope ${scope} already exists (${existing.mode}).`, {
      hint: `Use another --scope, or \`iam-ra ca delete --scope ${scope}\` first (it refuses while roles use it).`,
    });
  }
  const keyAlgorithm = options.keyAlgorithm ?? "EC_P256";
  const years = options.validityYears ?? 10;
  if (!Number.isInteger(years) || years < 1 || years > 30) {
    throw new IamRaError("invalid-input", `CA validity ${years} years is outside 1–30.`, {
      hint: "Pass --ca-validity-years between 1 and 30.",
    });
  }
  if (options.mode === "pca-existing" && !options.pcaArn)
    throw new IamRaError("invalid-input", "pca-existing needs the Private CA's ARN.", {
      hint: "Pass --pca-arn arn:aws:acm-pca:…",
    });
  const pcaKeyAlgorithm = options.mode === "pca-new" ? PCA_KEY[keyAlgorithm] : undefined;
  if (options.mode === "pca-new" && !pcaKeyAlgorithm)
    throw new IamRaError("invalid-input", `AWS Private CA has no ${keyAlgorithm} keys.`, {
      hint: "Use EC_P256, EC_P384, RSA_2048 or RSA_4096.",
    });
  return {
    kind: "create",
    stackName: stackName(state.namespace, "ca", scope),
    keyAlgorithm,
    validityYears: years,
    pcaArn: options.mode === "pca-existing" ? options.pcaArn! : null,
    pcaKeyAlgorithm: pcaKeyAlgorithm ?? null,
  };
}

/**
 * Creates a CA scope: self-signed (key generated here, envelope-encrypted with the namespace KMS key
 * into the bucket, so any admin with KMS access can issue), a new AWS Private CA, or an existing one.
 * Nothing is left behind when a step fails.
 * @public
 */
export async function setUpCa(
  deps: AdminDeps,
  scope: string,
  options: CaSetupOptions,
): Promise<CaSetupResult> {
  validateName("scope", scope);
  const ns = await openNamespace(deps);
  const plan = planCaSetup(await requireState(ns), scope, options);
  if (plan.kind === "existing") {
    const existing = plan.record;
    return {
      outcome: "unchanged",
      scope,
      mode: existing.mode,
      trustAnchorArn: existing.trustAnchorArn,
      pcaArn: existing.pcaArn,
      stackName: existing.stackName,
      certificate: existing.certificate,
      pcaPublishesCrl: existing.pcaArn ? await deps.pca.publishesCrl(existing.pcaArn) : null,
    };
  }
  const { keyAlgorithm, validityYears: years, stackName: name } = plan;
  const written: string[] = [];
  let parameters: Record<string, string>;
  let certificate: CertificateRecord | null = null;
  let certificateKey: string | null = null;
  let privateKeyKey: string | null = null;
  // pca-new configures its CA's CRL (to the stack's CRL bucket); pca-existing is checked below.
  let pcaPublishesCrl: boolean | null = options.mode === "pca-new" ? true : null;
  if (options.mode === "self-signed") {
    deps.progress(`Creating the ${scope} CA (${keyAlgorithm}, ${years} years); its key is sealed with KMS`);
    const now = deps.clock.now();
    const ca = await createSelfSignedCa({
      subject: `CN=iam-ra ${deps.namespace}/${scope} CA,O=iam-ra`,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + years * 365 * DAY),
      keyAlgorithm,
      pathLength: 1,
    });
    const envelope = await sealKeyEnvelope(
      deps.kms,
      ns.kmsKeyArn,
      { "iam-ra:namespace": deps.namespace, "iam-ra:scope": scope },
      ca.privateKeyPem,
    );
    certificateKey = scopeKey(deps, scope, "certificate.pem");
    privateKeyKey = scopeKey(deps, scope, "private-key.envelope.json");
    await ns.bucket.write(privateKeyKey, `${JSON.stringify(envelope, null, 2)}\n`, "application/json");
    written.push(privateKeyKey);
    await ns.bucket.write(certificateKey, ca.certificatePem, "application/x-pem-file");
    written.push(certificateKey);
    certificate = certificateRecord(ca.certificatePem);
    parameters = { CACertificatePem: ca.certificatePem };
  } else if (plan.pcaArn) {
    const pca = await deps.pca.describe(plan.pcaArn);
    if (pca.status !== "ACTIVE") {
      throw new IamRaError("invalid-input", `The Private CA is ${pca.status}, not ACTIVE.`, {
        hint: "Activate it (install its certificate) first.",
      });
    }
    parameters = { PcaArn: plan.pcaArn };
    pcaPublishesCrl = await deps.pca.publishesCrl(plan.pcaArn);
    if (!pcaPublishesCrl) {
      deps.progress(
        "This Private CA publishes no CRL: a revoked certificate stays usable in Roles Anywhere until it expires (enable a CRL in the CA's revocation configuration)",
      );
    }
  } else {
    deps.progress("Creating a new AWS Private CA (a monthly charge applies while it exists)");
    parameters = { KeyAlgorithm: plan.pcaKeyAlgorithm!, ValidityYears: String(years) };
  }
  deps.progress(`Deploying ${name} (trust anchor)`);
  let deployed: DeployResult;
  try {
    deployed = await deployStack({
      ...deployOptions(deps),
      stackName: name,
      template: caTemplate(deps.namespace, scope, options.mode),
      parameters,
      tags: nsTags(deps, { "iam-ra:scope": scope }),
      onEvent: eventsFor(deps, name),
    });
  } catch (e) {
    await Promise.all(written.map((k) => ns.bucket.remove(k).catch(() => {})));
    throw e;
  }
  const anchorRegion = arnRegion(deployed.outputs.TrustAnchorArn);
  if (anchorRegion !== undefined && anchorRegion !== deps.region) {
    // The Roles Anywhere service answering is not the namespace's region's (a local emulator started
    // for another region, a wrong endpoint variable): every ARN would be wrong. Undo and say so.
    if (deployed.outcome === "created") {
      deps.progress(`Deleting ${name}: its trust anchor was made in ${anchorRegion}, not ${deps.region}`);
      await deleteStack({ ...deployOptions(deps), stackName: name, onEvent: eventsFor(deps, name) });
      await Promise.all(written.map((k) => ns.bucket.remove(k).catch(() => {})));
    }
    throw new IamRaError(
      "region-mismatch",
      `Namespace ${deps.namespace} is in ${deps.region}, but the Roles Anywhere service made its trust anchor in ${anchorRegion}${deployed.outcome === "created" ? " (the stack was deleted again)" : ""}.`,
      {
        hint: `Point Roles Anywhere at ${deps.region} (AWS_ENDPOINT_URL_ROLESANYWHERE; a local emulator started with --region ${deps.region}), or run with --region ${anchorRegion}.`,
      },
    );
  }
  const record: CaScope = {
    stackName: name,
    mode: options.mode,
    trustAnchorArn: deployed.outputs.TrustAnchorArn!,
    pcaArn: deployed.outputs.PcaArn ?? null,
    keyAlgorithm,
    certificate,
    certificateKey,
    privateKeyKey,
    crl: null,
    createdAt: deps.clock.now().toISOString(),
  };
  await ns.store.update((draft) => {
    draft.cas[scope] = record;
  });
  return {
    outcome: "created",
    scope,
    mode: options.mode,
    trustAnchorArn: record.trustAnchorArn,
    pcaArn: record.pcaArn,
    stackName: name,
    certificate,
    pcaPublishesCrl,
  };
}

/** A pca-new scope's CRL bucket holds the CA's CRLs: CloudFormation deletes only an empty bucket. */
async function emptyCrlBucket(deps: AdminDeps, caStackName: string): Promise<string | undefined> {
  const crlBucket = (await deps.cfn.describeStack(caStackName))?.outputs.CrlBucketName;
  if (crlBucket) {
    deps.progress(`Emptying ${crlBucket} (the Private CA's CRLs)`);
    await deps.bucket(crlBucket, undefined).empty();
  }
  return crlBucket;
}

/**
 * Deletes a CA scope's stack, emptying a pca-new scope's CRL bucket first, and once more if the
 * CA published a CRL in between (it does up to 30 minutes after a revocation) and the delete failed.
 * @internal
 */
export async function deleteCaStack(
  deps: AdminDeps,
  caStackName: string,
  remove: () => Promise<void>,
): Promise<void> {
  const crlBucket = await emptyCrlBucket(deps, caStackName);
  try {
    await remove();
  } catch (error) {
    if (!crlBucket) throw error;
    deps.progress(`Deleting ${caStackName} failed; emptying ${crlBucket} again and retrying`);
    await deps.bucket(crlBucket, undefined).empty();
    await remove();
  }
}

/** Checks a `ca delete` against state: the scope exists and no role uses it. Pure. @public */
export function planCaDelete(state: State, scope: string): CaScope {
  const ca = state.cas[scope];
  if (!ca)
    throw new IamRaError("not-found", `There is no CA scope ${scope}.`, { hint: "See `iam-ra ca list`." });
  const users = Object.entries(state.roles)
    .filter(([, r]) => r.scope === scope)
    .map(([n]) => n);
  if (users.length > 0) {
    throw new IamRaError("in-use", `CA scope ${scope} is used by role(s) ${users.join(", ")}.`, {
      hint: "Delete or move those roles first.",
    });
  }
  return ca;
}

/** Deletes a CA scope; refuses while roles use it. @public */
export async function deleteCa(
  deps: AdminDeps,
  scope: string,
): Promise<{ scope: string; deleted: string[] }> {
  const ns = await openNamespace(deps);
  const ca = planCaDelete(await requireState(ns), scope);
  const deleted: string[] = [];
  if (ca.crl) {
    deps.progress(`Deleting ${ca.crl.stackName}`);
    await deleteStack({
      ...deployOptions(deps),
      stackName: ca.crl.stackName,
      onEvent: eventsFor(deps, ca.crl.stackName),
    });
    deleted.push(ca.crl.stackName);
  }
  await deleteCaStack(deps, ca.stackName, async () => {
    deps.progress(`Deleting ${ca.stackName}`);
    await deleteStack({
      ...deployOptions(deps),
      stackName: ca.stackName,
      onEvent: eventsFor(deps, ca.stackName),
    });
  });
  deleted.push(ca.stackName);
  for (const key of [ca.certificateKey, ca.privateKeyKey]) if (key) await ns.bucket.remove(key);
  await ns.store.update((draft) => {
    delete draft.cas[scope];
  });
  return { scope, deleted };
}
