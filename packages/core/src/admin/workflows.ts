import { createPrivateKey, X509Certificate } from "node:crypto";
import { type DeployResult, deleteStack, deployStack } from "../cloudformation/deploy.ts";
import { iamRoleName, stackName, validateName } from "../cloudformation/names.ts";
import { caTemplate, initTemplate, roleTemplate } from "../cloudformation/templates.ts";
import { IamRaError } from "../errors.ts";
import { createEmptyState } from "../state/migrate.ts";
import type {
  CaMode,
  CaScope,
  CertificateRecord,
  Host,
  HostCertificate,
  Role,
  State,
} from "../state/schema.ts";
import { createStateStore, type StateStore } from "../state/store.ts";
import {
  createCsr,
  createSelfSignedCa,
  issueCertificate,
  issueCertificateForKey,
  type KeyAlgorithm,
  parseCsr,
} from "../x509/ca.ts";
import { type EncryptedKeyEnvelope, openKeyEnvelope, sealKeyEnvelope } from "../x509/envelope.ts";
import { serialToDecimal } from "../x509/material.ts";
import { type CrlSyncResult, publishScopeCrl, serialHex, syncPcaCrl } from "./crl.ts";
import { allowedIssuersFor } from "./issuers.ts";
import type { AdminDeps, BucketPort } from "./ports.ts";

/** An opened namespace: its bucket and state store. @public */
export interface Namespace {
  bucket: BucketPort;
  store: StateStore;
  bucketName: string;
  kmsKeyArn: string;
}

const DAY = 86_400_000;
const keyPrefix = (deps: AdminDeps) => `${deps.namespace}`;
const scopeKey = (deps: AdminDeps, scope: string, file: string) =>
  `${keyPrefix(deps)}/scopes/${scope}/ca/${file}`;
const secretName = (deps: AdminDeps, hostname: string) => `iam-ra/${deps.namespace}/hosts/${hostname}`;
const nsTags = (deps: AdminDeps, extra: Record<string, string> = {}) => ({
  "iam-ra:namespace": deps.namespace,
  ...extra,
});

function deployOptions(deps: AdminDeps) {
  return {
    cfn: deps.cfn,
    clock: deps.clock,
    sleep: deps.sleep,
    signal: deps.signal,
  };
}

function eventsFor(deps: AdminDeps, name: string) {
  return deps.onStackEvent
    ? (e: Parameters<NonNullable<AdminDeps["onStackEvent"]>>[1]) => deps.onStackEvent?.(name, e)
    : undefined;
}

/** Opens an initialised namespace (SSM pointer → bucket); throws `not-initialized` otherwise. @public */
export async function openNamespace(deps: AdminDeps): Promise<Namespace> {
  validateName("namespace", deps.namespace);
  const [location, kmsKeyArn] = await Promise.all([
    deps.parameter(`/iam-ra/${deps.namespace}/state-location`),
    deps.parameter(`/iam-ra/${deps.namespace}/kms-key-arn`),
  ]);
  const m = location ? /^s3:\/\/([^/]+)\/(.+)$/.exec(location) : null;
  if (!m || !kmsKeyArn) {
    throw new IamRaError(
      "not-initialized",
      `Namespace ${deps.namespace} is not initialised in ${deps.region}.`,
      {
        hint: `Run \`iam-ra init --namespace ${deps.namespace} --region ${deps.region}\` first (or pass the region you used).`,
      },
    );
  }
  const bucket = deps.bucket(m[1]!, kmsKeyArn);
  return {
    bucket,
    bucketName: m[1]!,
    kmsKeyArn,
    store: createStateStore({ objects: bucket, key: m[2]!, clock: deps.clock, sleep: deps.sleep }),
  };
}

/** @internal */
export async function requireState(ns: Namespace): Promise<State> {
  const stored = await ns.store.read();
  if (!stored?.state.init) {
    throw new IamRaError("not-initialized", "The namespace has a bucket but no state.", {
      hint: "Run `iam-ra init` again; it is safe to re-run.",
    });
  }
  return stored.state;
}

/** @internal */
export function certificateRecord(pem: string): CertificateRecord {
  const cert = new X509Certificate(pem);
  return {
    serialNumber: serialToDecimal(cert.serialNumber),
    fingerprintSha256: cert.fingerprint256,
    subject: cert.subject.split("\n").join(","),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

// ─── init ────────────────────────────────────────────────────────────────────────────────────

/** Options of {@link initNamespace}. @public */
export interface InitOptions {
  /** Set up the `default` CA scope in this mode, unless it exists. Default `self-signed`; null: none. */
  caMode?: CaMode | null | undefined;
  pcaArn?: string | undefined;
  keyAlgorithm?: KeyAlgorithm | undefined;
  caValidityYears?: number | undefined;
  dryRun?: boolean | undefined;
}

/** What `init` did. @public */
export interface InitResult {
  outcome: "created" | "updated" | "unchanged" | "dry-run";
  namespace: string;
  region: string;
  stackName: string;
  bucket: string | null;
  kmsKeyArn: string | null;
  stateLocation: string | null;
  ca: CaSetupResult | null;
}

/**
 * Creates (or brings up to date) the namespace: the init stack, the state document, and the
 * default CA scope. Re-running it never wipes state and never replaces a CA.
 * @public
 */
export async function initNamespace(deps: AdminDeps, options: InitOptions = {}): Promise<InitResult> {
  validateName("namespace", deps.namespace);
  const name = stackName(deps.namespace, "init");
  deps.progress(`Deploying ${name} (bucket, KMS key, SSM parameters)`);
  const deployed: DeployResult = await deployStack({
    ...deployOptions(deps),
    stackName: name,
    template: initTemplate(deps.namespace),
    tags: nsTags(deps),
    dryRun: options.dryRun,
    onEvent: eventsFor(deps, name),
  });
  if (deployed.outcome === "dry-run") {
    return {
      outcome: "dry-run",
      namespace: deps.namespace,
      region: deps.region,
      stackName: name,
      bucket: null,
      kmsKeyArn: null,
      stateLocation: null,
      ca: null,
    };
  }
  const bucketName = deployed.outputs.BucketName!;
  const kmsKeyArn = deployed.outputs.KeyArn!;
  const bucket = deps.bucket(bucketName, kmsKeyArn);
  const store = createStateStore({
    objects: bucket,
    key: `${deps.namespace}/state.json`,
    clock: deps.clock,
    sleep: deps.sleep,
  });
  let created = false;
  if (!(await store.read())) {
    const state = createEmptyState(deps.namespace, deps.region, deps.accountId, deps.clock.now());
    state.init = { stackName: name, bucketName, kmsKeyArn, createdAt: deps.clock.now().toISOString() };
    try {
      await store.create(state);
      created = true;
    } catch (e) {
      if (!(e instanceof IamRaError && e.code === "state-conflict")) throw e; // a concurrent init won
    }
  }
  let ca: CaSetupResult | null = null;
  const mode = options.caMode === undefined ? "self-signed" : options.caMode;
  if (mode) {
    ca = await setUpCa(deps, "default", {
      mode,
      pcaArn: options.pcaArn,
      keyAlgorithm: options.keyAlgorithm,
      validityYears: options.caValidityYears,
      ifExists: "keep",
    });
  }
  const changed = created || deployed.outcome !== "unchanged" || ca?.outcome === "created";
  return {
    outcome: created || deployed.outcome === "created" ? "created" : changed ? "updated" : "unchanged",
    namespace: deps.namespace,
    region: deps.region,
    stackName: name,
    bucket: bucketName,
    kmsKeyArn,
    stateLocation: `s3://${bucketName}/${deps.namespace}/state.json`,
    ca,
  };
}

// ─── CA scopes ───────────────────────────────────────────────────────────────────────────────

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
  const state = await requireState(ns);
  const name = stackName(deps.namespace, "ca", scope);
  const existing = state.cas[scope];
  if (existing) {
    if (options.ifExists === "keep" || existing.mode === options.mode) {
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
  } else if (options.mode === "pca-existing") {
    if (!options.pcaArn)
      throw new IamRaError("invalid-input", "pca-existing needs the Private CA's ARN.", {
        hint: "Pass --pca-arn arn:aws:acm-pca:…",
      });
    const pca = await deps.pca.describe(options.pcaArn);
    if (pca.status !== "ACTIVE") {
      throw new IamRaError("invalid-input", `The Private CA is ${pca.status}, not ACTIVE.`, {
        hint: "Activate it (install its certificate) first.",
      });
    }
    parameters = { PcaArn: options.pcaArn };
    pcaPublishesCrl = await deps.pca.publishesCrl(options.pcaArn);
    if (!pcaPublishesCrl) {
      deps.progress(
        "This Private CA publishes no CRL: a revoked certificate stays usable in Roles Anywhere until it expires (enable a CRL in the CA's revocation configuration)",
      );
    }
  } else {
    const alg = PCA_KEY[keyAlgorithm];
    if (!alg)
      throw new IamRaError("invalid-input", `AWS Private CA has no ${keyAlgorithm} keys.`, {
        hint: "Use EC_P256, EC_P384, RSA_2048 or RSA_4096.",
      });
    deps.progress("Creating a new AWS Private CA (a monthly charge applies while it exists)");
    parameters = { KeyAlgorithm: alg, ValidityYears: String(years) };
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
 */
async function deleteCaStack(
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

/** Deletes a CA scope; refuses while roles use it. @public */
export async function deleteCa(
  deps: AdminDeps,
  scope: string,
): Promise<{ scope: string; deleted: string[] }> {
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
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

/** Decrypts a scope CA's key (KMS envelope) for issuing; it stays in memory. @internal */
export async function loadCaIssuer(deps: AdminDeps, ns: Namespace, ca: CaScope) {
  if (!ca.certificateKey || !ca.privateKeyKey) {
    throw new IamRaError("not-found", "This scope's CA key is not in the namespace bucket.", {
      hint: "A scope imported from the Python iam-ra keeps its key on one laptop: run `iam-ra migrate --ca-key-file <path>` there.",
    });
  }
  const [certificatePem, envelopeText] = await Promise.all([
    ns.bucket.read(ca.certificateKey),
    ns.bucket.read(ca.privateKeyKey),
  ]);
  if (!certificatePem || !envelopeText) {
    throw new IamRaError(
      "not-found",
      "The scope's CA certificate or key object is missing from the bucket.",
      {
        hint: "Restore it from the bucket's version history.",
      },
    );
  }
  const pem = await openKeyEnvelope(deps.kms, JSON.parse(envelopeText) as EncryptedKeyEnvelope, {
    kmsKeyArn: ns.kmsKeyArn,
    context: { "iam-ra:namespace": deps.namespace },
  });
  return { certificatePem, privateKey: createPrivateKey(pem) };
}

// ─── roles ───────────────────────────────────────────────────────────────────────────────────

/** Options of {@link putRole}. @public */
export interface RoleOptions {
  /** Required to create; kept from state on update when omitted. */
  scope?: string | undefined;
  /** Managed policy ARNs; omitted on update = keep the current ones (never silently detached). */
  policies?: string[] | undefined;
  sessionDurationSeconds?: number | undefined;
  /** e.g. `x509Subject/OU` (default) or `x509Subject/CN`. */
  bindingTag?: string | undefined;
  /** Default: the role name. */
  bindingValue?: string | undefined;
  dryRun?: boolean | undefined;
  /** `create`: refuse if it exists; `update`: refuse if it does not; `put`: either. */
  mode: "create" | "update" | "put";
}

/** What `role create|update` did. @public */
export interface RoleResult {
  outcome: DeployResult["outcome"];
  name: string;
  roleArn: string | null;
  profileArn: string | null;
  scope: string;
  binding: { tag: string; value: string };
  /** The issuer CNs the trust policy admits (null: not bound to issuers, e.g. Private CA scopes). */
  allowedIssuers: string[] | null;
  policies: string[];
  sessionDurationSeconds: number;
  changes: DeployResult["changes"];
}

const POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;

/** Creates or updates a role and its profile (one stack); records it. @public */
export async function putRole(deps: AdminDeps, name: string, options: RoleOptions): Promise<RoleResult> {
  validateName("role", name, deps.namespace);
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const current = state.roles[name];
  if (options.mode === "create" && current) {
    throw new IamRaError("already-exists", `Role ${name} already exists.`, {
      hint: `Use \`iam-ra role update ${name}\` to change it.`,
    });
  }
  if (options.mode === "update" && !current) {
    throw new IamRaError("not-found", `There is no role ${name}.`, {
      hint: `Create it with \`iam-ra role create ${name} --scope …\`.`,
    });
  }
  const scope = options.scope ?? current?.scope ?? "default";
  const ca = state.cas[scope];
  if (!ca)
    throw new IamRaError("not-found", `There is no CA scope ${scope}.`, {
      hint: "Create it with `iam-ra ca setup --scope …`, or pass another --scope.",
    });
  const policies = options.policies ?? current?.policies ?? [];
  for (const p of policies) {
    if (!POLICY_ARN.test(p))
      throw new IamRaError("invalid-input", `"${p}" is not a managed policy ARN.`, {
        hint: "Pass e.g. arn:aws:iam::aws:policy/ReadOnlyAccess.",
      });
  }
  const duration = options.sessionDurationSeconds ?? current?.sessionDurationSeconds ?? 3600;
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw new IamRaError("duration-invalid", `Session duration ${duration} is outside 900–43200 seconds.`, {
      hint: "Pass --session-duration between 900 and 43200.",
    });
  }
  const tag = options.bindingTag ?? current?.binding?.tag ?? "x509Subject/OU";
  if (!/^x509(Subject|Issuer|SAN)\/[A-Za-z]+$/.test(tag)) {
    throw new IamRaError("invalid-input", `"${tag}" is not a certificate principal tag.`, {
      hint: "Use x509Subject/OU (default), x509Subject/CN or another x509Subject/<attribute>.",
    });
  }
  const value = options.bindingValue ?? current?.binding?.value ?? name;
  const stack = stackName(deps.namespace, "role", name);
  // The issuers a trust policy admits come from state, and a deploy takes minutes: should a
  // concurrent `k8s onboard`/`offboard` change them meanwhile, deploy again with the latest list,
  // so the last deploy always matches state (an offboarded namespace never stays trusted).
  let issuers = allowedIssuersFor(state, name, scope, tag);
  for (let round = 1; ; round++) {
    deps.progress(`Deploying ${stack} (IAM role ${iamRoleName(deps.namespace, name)}, profile)`);
    const deployed = await deployStack({
      ...deployOptions(deps),
      stackName: stack,
      template: roleTemplate({
        namespace: deps.namespace,
        role: name,
        bindingTag: tag,
        issuerBinding: issuers !== null,
      }),
      parameters: {
        TrustAnchorArn: ca.trustAnchorArn,
        BindingValue: value,
        SessionDuration: String(duration),
        MaxSessionDuration: String(Math.max(3600, duration)),
        ManagedPolicyArns: policies.join(","),
        ...(issuers ? { AllowedIssuers: issuers.join(",") } : {}),
      },
      tags: nsTags(deps, { "iam-ra:role": name, "iam-ra:scope": scope }),
      dryRun: options.dryRun,
      onEvent: eventsFor(deps, stack),
    });
    const result: RoleResult = {
      outcome: deployed.outcome,
      name,
      roleArn: deployed.outputs.RoleArn ?? current?.roleArn ?? null,
      profileArn: deployed.outputs.ProfileArn ?? current?.profileArn ?? null,
      scope,
      binding: { tag, value },
      allowedIssuers: issuers,
      policies,
      sessionDurationSeconds: duration,
      changes: deployed.changes,
    };
    if (deployed.outcome === "dry-run") return result;
    const now = deps.clock.now().toISOString();
    const deployedIssuers = issuers;
    const { result: latest } = await ns.store.update((draft) => {
      const before = draft.roles[name];
      // Deleted (`role delete`) while this update deployed: do not bring the record back.
      if (options.mode === "update" && !before) return "deleted" as const;
      const record: Role = {
        stackName: stack,
        roleArn: result.roleArn!,
        profileArn: result.profileArn!,
        scope,
        policies,
        sessionDurationSeconds: duration,
        binding: { tag, value },
        ...(deployedIssuers ? { allowedIssuers: deployedIssuers } : {}),
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
      draft.roles[name] = record;
      return allowedIssuersFor(draft, name, scope, tag);
    });
    if (latest === "deleted") {
      // The deploy may have brought the deleted stack back: take it down again.
      deps.progress(`Role ${name} was deleted meanwhile; deleting ${stack} again`);
      await deleteStack({ ...deployOptions(deps), stackName: stack, onEvent: eventsFor(deps, stack) });
      throw new IamRaError("not-found", `Role ${name} was deleted while this update ran.`, {
        hint: "Nothing is left of it; create it again with `iam-ra role create` if it is still wanted.",
      });
    }
    if (JSON.stringify(latest) === JSON.stringify(issuers)) return result;
    if (round >= 5) {
      throw new IamRaError(
        "state-conflict",
        `The issuers role ${name} must trust kept changing while it was deployed (${round} rounds).`,
        { hint: `Let the other admin commands finish, then run \`iam-ra role update ${name}\`.` },
      );
    }
    deps.progress(`The namespace issuers of role ${name} changed during the deploy; deploying again`);
    issuers = latest;
  }
}

/** Deletes a role; refuses while hosts or workloads use it unless `force`. @public */
export async function deleteRole(
  deps: AdminDeps,
  name: string,
  force = false,
): Promise<{ name: string; stackName: string }> {
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const role = state.roles[name];
  if (!role)
    throw new IamRaError("not-found", `There is no role ${name}.`, { hint: "See `iam-ra role list`." });
  const hosts = Object.entries(state.hosts)
    .filter(([, h]) => h.role === name)
    .map(([n]) => `host ${n}`);
  const workloads = Object.values(state.k8s.workloads)
    .filter((w) => w.role === name)
    .map((w) => `workload ${w.name}`);
  if (workloads.length > 0) {
    throw new IamRaError("in-use", `Role ${name} is used by ${workloads.join(", ")}.`, {
      hint: "Offboard them first (iam-ra k8s offboard): their namespace issuers must leave the trust policies.",
    });
  }
  if (!force && hosts.length > 0) {
    throw new IamRaError("in-use", `Role ${name} is used by ${hosts.join(", ")}.`, {
      hint: "Offboard them first, or pass --force to offboard them too (their certificates are revoked).",
    });
  }
  // --force: the hosts go too (revoked, secrets deleted), so a role re-created under the same name
  // never inherits certificates issued for this one.
  for (const [hostname, host] of Object.entries(state.hosts))
    if (host.role === name) await offboardHost(deps, hostname);
  deps.progress(`Deleting ${role.stackName}`);
  await deleteStack({
    ...deployOptions(deps),
    stackName: role.stackName,
    onEvent: eventsFor(deps, role.stackName),
  });
  await ns.store.update((draft) => {
    delete draft.roles[name];
  });
  return { name, stackName: role.stackName };
}

// ─── hosts ───────────────────────────────────────────────────────────────────────────────────

/** Options of {@link onboardHost}. @public */
export interface HostOptions {
  role?: string | undefined;
  validityDays?: number | undefined;
  /** The host's CSR (PEM): its key never leaves the host. */
  csrPem?: string | undefined;
  /** Extra DNS names (the hostname is always one). */
  dnsNames?: string[] | undefined;
  /** `onboard` refuses an existing host; `rotate` requires one. */
  mode: "onboard" | "rotate";
  /** Rotation: revoke the certificate it replaces. */
  revokePrevious?: boolean | undefined;
}

/** What `host onboard|rotate` produced (the key only when iam-ra generated it). @public */
export interface HostResult {
  hostname: string;
  role: string;
  scope: string;
  region: string;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  secretArn: string;
  certificate: CertificateRecord & { keySource: "generated" | "csr" };
  certificatePem: string;
  chainPem: string;
  /** PKCS#8 PEM, only when generated here. Secret: the CLI writes it 0600 and never prints it. */
  privateKeyPem: string | null;
  revoked: string[];
}

function subjectFor(
  hostname: string,
  binding: { tag: string; value: string },
): { subject: string; dns: string[] } {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
  const attr = binding.tag.startsWith("x509Subject/") ? binding.tag.slice("x509Subject/".length) : undefined;
  if (attr === "CN") return { subject: `CN=${esc(binding.value)}`, dns: [hostname] };
  if (attr) return { subject: `CN=${esc(hostname)},${attr}=${esc(binding.value)}`, dns: [hostname] };
  return { subject: `CN=${esc(hostname)}`, dns: [hostname] };
}

/**
 * Issues a host certificate for a role (from the scope's CA or Private CA), stores it in Secrets
 * Manager through the API, and records its serial, fingerprint and validity. `rotate` really
 * replaces it: new certificate (and key, unless a CSR is given), new secret value, state updated.
 * @public
 */
export async function onboardHost(
  deps: AdminDeps,
  hostname: string,
  options: HostOptions,
): Promise<HostResult> {
  validateName("hostname", hostname);
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const existing = state.hosts[hostname];
  if (options.mode === "onboard" && existing) {
    throw new IamRaError("already-exists", `Host ${hostname} is already onboarded (role ${existing.role}).`, {
      hint: `Use \`iam-ra host rotate ${hostname}\` for a new certificate, or offboard it first.`,
    });
  }
  if (options.mode === "rotate" && !existing) {
    throw new IamRaError("not-found", `There is no host ${hostname}.`, {
      hint: `Onboard it with \`iam-ra host onboard ${hostname} --role …\`.`,
    });
  }
  const roleName = options.role ?? existing?.role;
  if (!roleName) throw new IamRaError("invalid-input", "No role was given.", { hint: "Pass --role." });
  const role = state.roles[roleName];
  if (!role)
    throw new IamRaError("not-found", `There is no role ${roleName}.`, { hint: "See `iam-ra role list`." });
  const ca = state.cas[role.scope];
  if (!ca)
    throw new IamRaError("not-found", `Role ${roleName}'s CA scope ${role.scope} is gone.`, {
      hint: "Re-create the scope or move the role.",
    });
  const binding = role.binding ?? { tag: "x509Subject/CN", value: hostname };
  const days = options.validityDays ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new IamRaError("invalid-input", `Validity ${days} days is outside 1–3650.`, {
      hint: "Pass --validity-days between 1 and 3650.",
    });
  }
  const { subject, dns } = subjectFor(hostname, binding);
  const now = deps.clock.now();
  let certificatePem: string;
  let chainPem = "";
  let privateKeyPem: string | null = null;
  const keySource = options.csrPem ? "csr" : "generated";
  if (ca.mode === "self-signed") {
    deps.progress(`Issuing a certificate for ${hostname} (${subject}) from scope ${role.scope}`);
    const issuer = await loadCaIssuer(deps, ns, ca);
    const spec = {
      issuer,
      subject,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + days * DAY),
      san: { dns: [...dns, ...(options.dnsNames ?? [])] },
    };
    if (options.csrPem) {
      const csr = await parseCsr(options.csrPem);
      certificatePem = (await issueCertificateForKey(spec, csr.publicKey)).certificatePem;
    } else {
      const issued = await issueCertificate({ ...spec, keyAlgorithm: "EC_P256" });
      certificatePem = issued.certificatePem;
      privateKeyPem = issued.privateKeyPem;
    }
  } else {
    const pcaArn = ca.pcaArn!;
    const info = await deps.pca.describe(pcaArn);
    if (info.status !== "ACTIVE")
      throw new IamRaError("invalid-input", `The Private CA is ${info.status}.`, {
        hint: "It must be ACTIVE to issue.",
      });
    let csrPem = options.csrPem;
    if (csrPem) {
      const csr = await parseCsr(csrPem);
      if (binding.tag.startsWith("x509Subject/")) {
        const attr = binding.tag.slice("x509Subject/".length);
        if (!csr.requestedSubject.split(/,\s*/).includes(`${attr}=${binding.value}`)) {
          throw new IamRaError(
            "invalid-input",
            `The CSR's subject must contain ${attr}=${binding.value} (AWS Private CA keeps the CSR's subject).`,
            {
              hint: `Re-create it, e.g. openssl req -new -key host.key -subj "/CN=${hostname}/${attr}=${binding.value}".`,
            },
          );
        }
      }
    } else {
      const made = await createCsr(subject);
      csrPem = made.csrPem;
      privateKeyPem = made.privateKeyPem;
    }
    deps.progress(`Issuing a certificate for ${hostname} from AWS Private CA`);
    const issued = await deps.pca.issue(pcaArn, csrPem, days, info.signingAlgorithm || "SHA256WITHECDSA");
    certificatePem = `${issued.certificatePem.trim()}\n`;
    chainPem = issued.chainPem;
  }
  const record = certificateRecord(certificatePem);
  const secretValue = JSON.stringify({
    certificate: certificatePem,
    chain: chainPem,
    ...(privateKeyPem ? { privateKey: privateKeyPem } : {}),
    trustAnchorArn: ca.trustAnchorArn,
    profileArn: role.profileArn,
    roleArn: role.roleArn,
    region: deps.region,
  });
  deps.progress(`Storing the certificate${privateKeyPem ? " and key" : ""} in Secrets Manager`);
  const secretArn = await deps.secrets.put(
    secretName(deps, hostname),
    secretValue,
    ns.kmsKeyArn,
    nsTags(deps, { "iam-ra:hostname": hostname, "iam-ra:role": roleName }),
  );
  const previous =
    existing?.certificates.filter((c) => c.status === "active").map((c) => c.serialNumber) ?? [];
  try {
    await ns.store.update((draft) => {
      const at = deps.clock.now().toISOString();
      const before = draft.hosts[hostname];
      const certificates: HostCertificate[] = (before?.certificates ?? []).map((c) =>
        c.status === "active" ? { ...c, status: "superseded" as const } : c,
      );
      certificates.push({ ...record, status: "active", keySource, revokedAt: null });
      const host: Host = {
        role: roleName,
        scope: role.scope,
        secretArn,
        certificates,
        legacy: before?.legacy ?? null,
        createdAt: before?.createdAt ?? at,
        updatedAt: at,
      };
      draft.hosts[hostname] = host;
    });
  } catch (e) {
    if (!existing) await deps.secrets.remove(secretArn).catch(() => {});
    throw e;
  }
  let revoked: string[] = [];
  if (options.mode === "rotate" && options.revokePrevious && previous.length > 0) {
    revoked = (await revokeHost(deps, hostname, { serials: previous })).revoked;
  }
  return {
    hostname,
    role: roleName,
    scope: role.scope,
    region: deps.region,
    trustAnchorArn: ca.trustAnchorArn,
    profileArn: role.profileArn,
    roleArn: role.roleArn,
    secretArn,
    certificate: { ...record, keySource },
    certificatePem,
    chainPem,
    privateKeyPem,
    revoked,
  };
}

/**
 * Revokes a host's certificates (default: the active ones) so CreateSession refuses them: for a
 * self-signed scope, a new CRL signed by the scope CA is imported into Roles Anywhere (the CRL
 * stack); for a Private CA scope, the certificate is revoked in the Private CA.
 * @public
 */
export async function revokeHost(
  deps: AdminDeps,
  hostname: string,
  options: {
    /** Decimal serials of the host's certificates (default: its active ones). */
    serials?: string[] | undefined;
    /** Private CA scopes: how long to wait for the CA to publish a CRL listing the serials. */
    waitMs?: number | undefined;
    /** @internal A certificate known only from elsewhere (a Python iam-ra host's secret). */
    extraCertificates?: Array<{ serialNumber: string; notAfter: string }> | undefined;
  } = {},
): Promise<{
  hostname: string;
  /** The host's CA scope. */
  scope: string;
  revoked: string[];
  crlStackName: string | null;
  /**
   * True once an imported CRL lists every revoked serial, so CreateSession refuses them. A
   * Private CA publishes its CRL up to about 30 minutes after a revocation; until iam-ra imports
   * it (`iam-ra ca sync-crl`), this is false.
   */
  refusedByRolesAnywhere: boolean;
  /** Private CA scopes: the state of the CA's CRL (see {@link syncPcaCrl}); null for self-signed. */
  pcaCrl: "imported" | "pending" | "no-crl" | null;
  /** Private CA scopes: why the CRL could not be imported (the revocation itself stands). */
  crlError: string | null;
}> {
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const host = state.hosts[hostname];
  if (!host)
    throw new IamRaError("not-found", `There is no host ${hostname}.`, { hint: "See `iam-ra host list`." });
  const ca = state.cas[host.scope];
  if (!ca) throw new IamRaError("not-found", `The host's CA scope ${host.scope} is gone.`);
  const known = [...host.certificates, ...(options.extraCertificates ?? [])];
  const serials = (
    options.serials ?? host.certificates.filter((c) => c.status === "active").map((c) => c.serialNumber)
  ).map((s) => {
    if (!/^\d+$/.test(s) || !known.some((c) => c.serialNumber === BigInt(s).toString())) {
      throw new IamRaError(
        "invalid-input",
        `${s} is not the decimal serial of a certificate of ${hostname}.`,
        {
          hint: `See \`iam-ra host list\` for the host's certificates and their serials.`,
        },
      );
    }
    return BigInt(s).toString();
  });
  const base = { hostname, scope: host.scope, revoked: serials, crlError: null };
  if (ca.mode === "self-signed") {
    if (serials.length === 0)
      return { ...base, crlStackName: ca.crl?.stackName ?? null, refusedByRolesAnywhere: true, pcaCrl: null };
    const crlStackName = (await publishScopeCrl(deps, ns, host.scope, serials))?.stackName ?? null;
    await markRevoked(deps, ns, hostname, host.scope, serials, null);
    return { ...base, crlStackName, refusedByRolesAnywhere: true, pcaCrl: null };
  }
  for (const s of serials) {
    deps.progress(`Revoking serial ${s} in AWS Private CA`);
    await deps.pca.revoke(ca.pcaArn!, serialHex(s));
    // One at a time, so a failure half-way leaves state saying exactly what was revoked.
    const notAfter = known.find((c) => c.serialNumber === s)!.notAfter;
    await markRevoked(deps, ns, hostname, host.scope, [s], notAfter);
  }
  // Roles Anywhere never fetches CRLs: bring the CA's published one over. That may fail (S3
  // access, a stack) without undoing the revocation: say so, and how to finish.
  let sync: CrlSyncResult;
  try {
    sync = await syncPcaCrl(deps, ns, host.scope, { serials, waitMs: options.waitMs });
  } catch (error) {
    if (error instanceof IamRaError && error.code === "aborted") throw error;
    const message = error instanceof Error ? error.message : String(error);
    deps.progress(
      `Revoked in the Private CA, but importing its CRL failed (${message}): fix that, then run \`iam-ra ca sync-crl --scope ${host.scope}\``,
    );
    return {
      ...base,
      crlStackName: ca.crl?.stackName ?? null,
      refusedByRolesAnywhere: false,
      pcaCrl: "pending",
      crlError: message,
    };
  }
  if (sync.state === "no-crl") {
    deps.progress(
      `The Private CA of scope ${host.scope} publishes no CRL, so Roles Anywhere keeps accepting the certificate until it expires: enable a CRL in the CA's revocation configuration, then run \`iam-ra ca sync-crl --scope ${host.scope}\``,
    );
  } else if (sync.state === "pending") {
    deps.progress(
      `The Private CA has not published a CRL listing the serial(s) yet (it does within about 30 minutes): run \`iam-ra ca sync-crl --scope ${host.scope} --wait 45m\` to import it`,
    );
  }
  return {
    ...base,
    crlStackName: sync.crlStackName,
    refusedByRolesAnywhere: sync.state === "imported",
    pcaCrl: sync.state,
  };
}

/**
 * Records a revocation: the host's certificates become `revoked`, and a Private CA scope keeps the
 * serial (with its expiry) so a later CRL import knows to expect it.
 */
async function markRevoked(
  deps: AdminDeps,
  ns: Namespace,
  hostname: string,
  scope: string,
  serials: string[],
  pcaNotAfter: string | null,
): Promise<void> {
  await ns.store.update((draft) => {
    const at = deps.clock.now().toISOString();
    const h = draft.hosts[hostname];
    if (h) {
      h.certificates = h.certificates.map((c) =>
        serials.includes(c.serialNumber) && c.status !== "revoked"
          ? { ...c, status: "revoked" as const, revokedAt: at }
          : c,
      );
      h.updatedAt = at;
    }
    const record = draft.cas[scope];
    if (record && pcaNotAfter) {
      const live = (record.pcaRevocations ?? []).filter(
        (r) => Date.parse(r.notAfter) > deps.clock.now().getTime() && !serials.includes(r.serialNumber),
      );
      record.pcaRevocations = [
        ...live,
        ...serials.map((serialNumber) => ({ serialNumber, notAfter: pcaNotAfter })),
      ];
    }
  });
}

/** Removes a host: revokes its certificates (unless `revoke: false`), deletes its secret and record. @public */
export async function offboardHost(
  deps: AdminDeps,
  hostname: string,
  options: { revoke?: boolean | undefined; waitMs?: number | undefined } = {},
): Promise<{
  hostname: string;
  /** The host's CA scope. */
  scope: string;
  revoked: string[];
  secretDeleted: boolean;
  /** As {@link revokeHost}: whether CreateSession now refuses the revoked certificates. */
  refusedByRolesAnywhere: boolean;
}> {
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const host = state.hosts[hostname];
  if (!host)
    throw new IamRaError("not-found", `There is no host ${hostname}.`, { hint: "See `iam-ra host list`." });
  // A host issued by the Python iam-ra: its certificate is only in that tool's secret; revoke it by
  // its serial, then delete that tool's host stack (which deletes both of its secrets).
  let legacy: Array<{ serialNumber: string; notAfter: string }> = [];
  if (host.legacy?.certificateSecretArn && options.revoke !== false && host.certificates.length === 0) {
    const pem = await deps.secrets.get(host.legacy.certificateSecretArn);
    if (pem?.includes("BEGIN CERTIFICATE")) legacy = [certificateRecord(pem)];
  }
  const revocation =
    options.revoke === false
      ? undefined
      : await revokeHost(deps, hostname, {
          ...(legacy.length > 0
            ? { serials: legacy.map((c) => c.serialNumber), extraCertificates: legacy }
            : {}),
          waitMs: options.waitMs,
        });
  const revoked = revocation?.revoked ?? [];
  if (host.secretArn) await deps.secrets.remove(host.secretArn);
  if (host.legacy) {
    deps.progress(`Deleting ${host.legacy.stackName} (the Python iam-ra's host stack and secrets)`);
    await deleteStack({
      ...deployOptions(deps),
      stackName: host.legacy.stackName,
      onEvent: eventsFor(deps, host.legacy.stackName),
    });
  }
  await ns.store.update((draft) => {
    delete draft.hosts[hostname];
  });
  return {
    hostname,
    scope: host.scope,
    revoked,
    secretDeleted: host.secretArn !== null || host.legacy !== null,
    refusedByRolesAnywhere: revocation?.refusedByRolesAnywhere ?? false,
  };
}

// ─── destroy, state ──────────────────────────────────────────────────────────────────────────

/** What `destroy` removed. @public */
export interface DestroyResult {
  namespace: string;
  stacks: string[];
  secrets: number;
  bucket: "deleted" | "retained" | "absent";
  /**
   * Kubernetes clusters and workloads (`cluster/namespace/workload`) that were still registered and
   * were forgotten (`forgetClusters`); their issuer Secrets and Issuers stay in the clusters.
   */
  forgotten: { clusters: string[]; workloads: string[] };
}

/**
 * Removes everything the namespace created: host secrets, CRL, role and CA stacks, the init stack
 * (with its SSM parameters and KMS key, scheduled for deletion), and the bucket with every object
 * version — unless `retainBucket`. Safe to re-run after a partial failure.
 * @public
 */
export async function destroyNamespace(
  deps: AdminDeps,
  options: { retainBucket?: boolean | undefined; forgetClusters?: boolean | undefined } = {},
): Promise<DestroyResult> {
  let ns: Namespace | undefined;
  try {
    ns = await openNamespace(deps);
  } catch (e) {
    if (!(e instanceof IamRaError && e.code === "not-initialized")) throw e;
  }
  const state = ns ? (await ns.store.read())?.state : undefined;
  const forgotten = {
    clusters: Object.keys(state?.k8s.clusters ?? {}).sort(),
    workloads: Object.values(state?.k8s.workloads ?? {})
      .map((w) => `${w.cluster}/${w.namespace}/${w.name}`)
      .sort(),
  };
  // Checked before anything is deleted: the clusters hold issuers only offboarding lists.
  if ((forgotten.clusters.length || forgotten.workloads.length) && !options.forgetClusters) {
    const what = [
      forgotten.clusters.length ? `cluster(s) ${forgotten.clusters.join(", ")}` : "",
      forgotten.workloads.length ? `workload(s) ${forgotten.workloads.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" and ");
    throw new IamRaError(
      "in-use",
      `Namespace ${deps.namespace} still has Kubernetes ${what}; destroying it would forget them and leave their issuers' Secrets in the clusters.`,
      {
        hint: "Offboard the workloads and tear down the clusters first (`iam-ra k8s offboard …`, `iam-ra k8s teardown …`: they print what to delete from the clusters), or pass --forget-clusters.",
      },
    );
  }
  const stacks: string[] = [];
  let secrets = 0;
  const del = async (name: string) => {
    deps.progress(`Deleting ${name}`);
    if (
      (await deleteStack({ ...deployOptions(deps), stackName: name, onEvent: eventsFor(deps, name) })) ===
      "deleted"
    )
      stacks.push(name);
  };
  if (state) {
    for (const host of Object.values(state.hosts)) {
      if (host.secretArn) {
        await deps.secrets.remove(host.secretArn);
        secrets++;
      }
      if (host.legacy) await del(host.legacy.stackName);
    }
    for (const ca of Object.values(state.cas)) if (ca.crl) await del(ca.crl.stackName);
    for (const role of Object.values(state.roles)) await del(role.stackName);
    for (const ca of Object.values(state.cas)) {
      await deleteCaStack(deps, ca.stackName, () => del(ca.stackName));
    }
  }
  let bucket: DestroyResult["bucket"] = "absent";
  if (ns) {
    if (options.retainBucket) {
      await ns.store.read().then(() => ns!.bucket.remove(`${deps.namespace}/state.json`));
      bucket = "retained";
    } else {
      deps.progress(`Emptying and deleting bucket ${ns.bucketName}`);
      await ns.bucket.destroy();
      bucket = "deleted";
    }
  }
  await del(stackName(deps.namespace, "init"));
  if (ns && !options.retainBucket) {
    deps.progress("Scheduling the namespace's KMS key for deletion (7 days)");
    await deps.retireKey(ns.kmsKeyArn, 7);
  }
  return { namespace: deps.namespace, stacks, secrets, bucket, forgotten };
}

/** The region field of an ARN (`arn:partition:service:region:…`), when it has one. */
function arnRegion(arn: string | undefined): string | undefined {
  const region = arn?.split(":")[3];
  return region ? region : undefined;
}

/** Reads the namespace state (for list commands). @public */
export async function readNamespaceState(deps: AdminDeps): Promise<State> {
  return await requireState(await openNamespace(deps));
}
