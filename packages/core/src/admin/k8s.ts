import { createHash, X509Certificate } from "node:crypto";
import type { DeployResult } from "../cloudformation/deploy.ts";
import { validateName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";
import { validateCertificateTiming } from "../k8s/duration.ts";
import { certificateSubjectFor, k8sObjectNames, validateK8sName } from "../k8s/names.ts";
import { WEBHOOK_CONFIG_MAP_NAME, WEBHOOK_NAMESPACE } from "../k8s/webhook/names.ts";
import type { K8sCertificateMode, K8sDeploymentMode, K8sManifest, K8sObject } from "../k8s/workload.ts";
import type { CaScope, K8sIssuer, K8sWorkload, State } from "../state/schema.ts";
import { issueCertificate } from "../x509/ca.ts";
import { type EncryptedKeyEnvelope, openKeyEnvelope, sealKeyEnvelope } from "../x509/envelope.ts";
import { publishScopeCrl } from "./crl.ts";
import { allowedIssuersFor, findWorkload } from "./issuers.ts";
import type { AdminDeps } from "./ports.ts";
import {
  certificateRecord,
  loadCaIssuer,
  type Namespace,
  openNamespace,
  putRole,
  requireState,
} from "./workflows.ts";

const DAY = 86_400_000;
/** A namespace issuer lives a year (never past its scope CA)… */
const ISSUER_VALIDITY_DAYS = 365;
/** …and is replaced when `k8s onboard` finds it with less than 90 days left (a leaf lives ≤ 90). */
const ISSUER_RENEW_DAYS = 90;
const DEFAULT_DURATION = "24h";
const DEFAULT_RENEW_BEFORE = "8h";
const DEFAULT_FS_GROUP = 1000;

const issuerKey = (cluster: string, namespace: string, scope: string) => `${cluster}/${namespace}/${scope}`;
const workloadKey = (cluster: string, namespace: string, name: string) => `${cluster}/${namespace}/${name}`;

/**
 * The unique CN of a Kubernetes namespace's issuer, `iam-ra <ns>/<scope> k8s <cluster>/<namespace>`;
 * past X.509's 64 characters it is cut and ends with a hash of the whole, so two never collide.
 * Role trust policies list it in `aws:PrincipalTag/x509Issuer/CN`.
 * @public
 */
export function issuerCommonName(iamRaNamespace: string, scope: string, cluster: string, namespace: string) {
  const full = `iam-ra ${iamRaNamespace}/${scope} k8s ${cluster}/${namespace}`;
  if (full.length <= 64) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 12);
  return `${full.slice(0, 64 - 13)} ${hash}`;
}

function _deployOptions(deps: AdminDeps) {
  return { cfn: deps.cfn, clock: deps.clock, sleep: deps.sleep, signal: deps.signal };
}

// ─── clusters ────────────────────────────────────────────────────────────────────────────────

/** What `k8s setup` did. @public */
export interface K8sClusterResult {
  outcome: "created" | "unchanged";
  cluster: string;
  createdAt: string;
}

/**
 * Registers a cluster. Its namespace issuers are made by {@link onboardWorkload}, one per
 * (Kubernetes namespace, CA scope), when the first workload arrives there. Re-running changes nothing.
 * @public
 */
export async function setUpCluster(deps: AdminDeps, cluster: string): Promise<K8sClusterResult> {
  validateName("cluster", cluster);
  const ns = await openNamespace(deps);
  await requireState(ns);
  const now = deps.clock.now().toISOString();
  const { result } = await ns.store.update((draft) => {
    const existing = draft.k8s.clusters[cluster];
    if (existing) return { outcome: "unchanged" as const, createdAt: existing.createdAt };
    draft.k8s.clusters[cluster] = { name: cluster, createdAt: now };
    return { outcome: "created" as const, createdAt: now };
  });
  return { cluster, ...result };
}

// ─── issuers ─────────────────────────────────────────────────────────────────────────────────

interface LoadedIssuer {
  record: K8sIssuer;
  certificatePem: string;
  privateKeyPem: string;
  rootCertificatePem: string;
  outcome: "created" | "renewed" | "unchanged";
}

async function readIssuerMaterial(deps: AdminDeps, ns: Namespace, record: K8sIssuer, ca: CaScope) {
  const [certificatePem, envelopeText, rootCertificatePem] = await Promise.all([
    ns.bucket.read(record.certificateKey),
    ns.bucket.read(record.privateKeyKey),
    ca.certificateKey ? ns.bucket.read(ca.certificateKey) : undefined,
  ]);
  if (!certificatePem || !envelopeText || !rootCertificatePem) {
    throw new IamRaError(
      "not-found",
      `The objects of issuer ${record.commonName} are missing from the bucket.`,
      {
        hint: "Restore them from the bucket's version history, or offboard the namespace's workloads and onboard them again.",
      },
    );
  }
  const privateKeyPem = await openKeyEnvelope(deps.kms, JSON.parse(envelopeText) as EncryptedKeyEnvelope, {
    kmsKeyArn: ns.kmsKeyArn,
    context: { "iam-ra:namespace": deps.namespace },
  });
  return { certificatePem, privateKeyPem, rootCertificatePem };
}

/**
 * The namespace issuer of (cluster, namespace, scope): read back, or made (or replaced when it has
 * less than {@link ISSUER_RENEW_DAYS} left) as an intermediate CA with path length 0, signed by the
 * scope CA whose key is decrypted here and never leaves. Its key is sealed with KMS into the bucket
 * under a serial-specific key, so a concurrent onboard that wins the state write is used instead.
 */
async function ensureIssuer(
  deps: AdminDeps,
  ns: Namespace,
  scope: string,
  cluster: string,
  namespace: string,
): Promise<LoadedIssuer> {
  const key = issuerKey(cluster, namespace, scope);
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await requireState(ns);
    const ca = state.cas[scope]!;
    const existing = state.k8s.issuers?.[key];
    const now = deps.clock.now();
    const existingEnd = existing ? Date.parse(existing.certificate.notAfter) : 0;
    // Kept while it has 90 days left, or when a new one could not outlive it (the scope CA ends first).
    const scopeEnd = ca.certificate ? Date.parse(ca.certificate.notAfter) : Number.POSITIVE_INFINITY;
    // A retiring issuer is being revoked: never hand it out again, make a new one.
    const reusable = existing && existing.status !== "retiring";
    if (reusable && (existingEnd - now.getTime() > ISSUER_RENEW_DAYS * DAY || existingEnd >= scopeEnd)) {
      return {
        record: existing,
        ...(await readIssuerMaterial(deps, ns, existing, ca)),
        outcome: "unchanged",
      };
    }
    const root = await loadCaIssuer(deps, ns, ca);
    const rootNotAfter = Date.parse(new X509Certificate(root.certificatePem).validTo);
    const commonName = existing?.commonName ?? issuerCommonName(deps.namespace, scope, cluster, namespace);
    deps.progress(
      `${existing ? "Renewing" : "Creating"} the issuer of ${cluster}/${namespace} (${commonName})`,
    );
    const issued = await issueCertificate({
      issuer: root,
      subject: `CN=${commonName},O=iam-ra`,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(Math.min(now.getTime() + ISSUER_VALIDITY_DAYS * DAY, rootNotAfter)),
      keyAlgorithm: "EC_P256",
      ca: { pathLength: 0 },
    });
    const certificate = certificateRecord(issued.certificatePem);
    const prefix = `${deps.namespace}/k8s/${cluster}/${namespace}/${scope}/issuer/${certificate.serialNumber}`;
    const envelope = await sealKeyEnvelope(
      deps.kms,
      ns.kmsKeyArn,
      { "iam-ra:namespace": deps.namespace, "iam-ra:scope": scope, "iam-ra:k8s-issuer": key },
      issued.privateKeyPem,
    );
    const names = k8sObjectNames({ iamRaNamespace: deps.namespace, scope, workload: "-" });
    const record: K8sIssuer = {
      cluster,
      namespace,
      scope,
      issuerName: names.issuer,
      secretName: names.caSecret,
      commonName,
      certificate,
      certificateKey: `${prefix}/certificate.pem`,
      privateKeyKey: `${prefix}/private-key.envelope.json`,
      previousSerials: existing ? [...existing.previousSerials, existing.certificate.serialNumber] : [],
      createdAt: existing?.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    };
    await ns.bucket.write(record.privateKeyKey, `${JSON.stringify(envelope, null, 2)}\n`, "application/json");
    await ns.bucket.write(record.certificateKey, issued.certificatePem, "application/x-pem-file");
    const { result: won } = await ns.store.update((draft) => {
      const current = draft.k8s.issuers?.[key];
      if (current?.certificate.serialNumber !== existing?.certificate.serialNumber) return false;
      draft.k8s.issuers = { ...draft.k8s.issuers, [key]: record };
      return true;
    });
    if (!won) {
      // Another admin made (or renewed) it first: use theirs.
      await Promise.all([ns.bucket.remove(record.privateKeyKey), ns.bucket.remove(record.certificateKey)]);
      continue;
    }
    if (existing) {
      await Promise.all([
        ns.bucket.remove(existing.privateKeyKey).catch(() => {}),
        ns.bucket.remove(existing.certificateKey).catch(() => {}),
      ]);
    }
    return {
      record,
      certificatePem: issued.certificatePem,
      privateKeyPem: issued.privateKeyPem,
      rootCertificatePem: root.certificatePem,
      outcome: existing ? "renewed" : "created",
    };
  }
  throw new IamRaError(
    "state-conflict",
    `The issuer of ${cluster}/${namespace} kept changing under this onboard.`,
    {
      hint: "Another admin is onboarding the same namespace; retry in a moment.",
    },
  );
}

/**
 * Removes namespace issuers no workload uses any more: the record first (atomically with that
 * check), then a CRL revoking their certificates is published for the scope's trust anchor, then
 * their objects are deleted. Returns the issuers removed.
 */
async function retireUnusedIssuers(deps: AdminDeps, ns: Namespace, keys: string[]): Promise<K8sIssuer[]> {
  if (keys.length === 0) return [];
  // Marked `retiring` first (atomically with the in-use check, so onboarding stops handing them
  // out), revoked next, forgotten last, and only if still the same certificate: should publishing
  // fail, the records stay retiring and a re-run retries.
  const unused = (state: State, key: string) => {
    const record = state.k8s.issuers?.[key];
    const inUse = Object.values(state.k8s.workloads).some(
      (w) => w.issuer === key && w.status !== "offboarding",
    );
    return record && !inUse ? record : undefined;
  };
  const { result: marked } = await ns.store.update((draft) => {
    const out: Array<{ key: string; record: K8sIssuer }> = [];
    for (const key of new Set(keys)) {
      const record = unused(draft, key);
      if (!record) continue;
      record.status = "retiring";
      out.push({ key, record: { ...record } });
    }
    return out;
  });
  const byScope = new Map<string, string[]>();
  for (const { record: r } of marked)
    byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r.certificate.serialNumber, ...r.previousSerials]);
  for (const [scope, serials] of byScope) await publishCrl(deps, ns, scope, serials);
  const { result: retired } = await ns.store.update((draft) => {
    const out: K8sIssuer[] = [];
    for (const { key, record } of marked) {
      const current = draft.k8s.issuers?.[key];
      if (
        current?.status !== "retiring" ||
        current.certificate.serialNumber !== record.certificate.serialNumber
      )
        continue;
      out.push(current);
      delete draft.k8s.issuers![key];
    }
    return out;
  });
  for (const r of retired)
    await Promise.all([ns.bucket.remove(r.privateKeyKey), ns.bucket.remove(r.certificateKey)]);
  return retired;
}

/** Adds serials to the scope's CRL and imports it into Roles Anywhere (the scope's CRL stack). */
async function publishCrl(deps: AdminDeps, ns: Namespace, scope: string, serials: string[]): Promise<void> {
  await publishScopeCrl(deps, ns, scope, serials);
}

/**
 * Re-deploys roles whose trust policy does not admit exactly the issuers state says it should
 * (a no-op deploy when nothing changed). Returns the roles whose stack changed.
 */
async function syncRoles(
  deps: AdminDeps,
  ns: Namespace,
  names: Iterable<string>,
): Promise<Array<{ name: string; outcome: DeployResult["outcome"]; allowedIssuers: string[] | null }>> {
  const out: Array<{ name: string; outcome: DeployResult["outcome"]; allowedIssuers: string[] | null }> = [];
  for (const name of new Set(names)) {
    const state = await requireState(ns);
    const role = state.roles[name];
    if (!role?.binding) continue;
    const wanted = allowedIssuersFor(state, name, role.scope, role.binding.tag);
    if (JSON.stringify(wanted ?? undefined) === JSON.stringify(role.allowedIssuers)) continue;
    const result = await putRole(deps, name, { mode: "update" });
    out.push({ name, outcome: result.outcome, allowedIssuers: result.allowedIssuers });
  }
  return out;
}

// ─── workloads ───────────────────────────────────────────────────────────────────────────────

/** Options of {@link onboardWorkload}. @public */
export interface OnboardWorkloadOptions {
  cluster: string;
  /** The Kubernetes namespace. */
  namespace: string;
  /** Required for a new workload; re-onboarding keeps the recorded one. */
  role?: string | undefined;
  /** Certificate lifetime (Go duration). Default: as recorded, else 24h. */
  duration?: string | undefined;
  /** When cert-manager renews it (Go duration). Default: as recorded, else 8h. */
  renewBefore?: string | undefined;
  /** The sidecar image (the CLI passes `ghcr.io/iam-ra/sidecar:<its version>`). */
  sidecarImage: string;
  /** Emit a whole Deployment running this image. Default: as recorded. */
  appImage?: string | undefined;
  /**
   * Emit a patch for an existing Deployment instead. Naming `deployment` without `appImage` implies it
   * (unless the workload was onboarded with a whole Deployment).
   */
  patch?: boolean | undefined;
  /** The Deployment's name. Default: as recorded, else the workload's. */
  deployment?: string | undefined;
  /** The application container's name. Default: as recorded, else the workload's. */
  container?: string | undefined;
  /** The pod's fsGroup. Default: as recorded, else 1000. */
  fsGroup?: number | undefined;
  /**
   * No Deployment: pods annotated `iam-ra.dev/role: <role>` get the sidecar from the admission
   * webhook. Emits the namespace issuer (and the `Certificate` with Secret certificates) and the
   * webhook's updated namespace-roles ConfigMap. Default: as recorded.
   */
  webhook?: boolean | undefined;
  /** `secret`: a `Certificate` and its Secret; `csi`: cert-manager's csi-driver, a key per pod. Default: as recorded, else `csi` with the webhook and `secret` without. */
  certificates?: K8sCertificateMode | undefined;
  /** The webhook's namespace (where its namespace-roles ConfigMap lives). Default `iam-ra-system`. */
  webhookNamespace?: string | undefined;
}

/** A namespace issuer as results show it. @public */
export interface K8sIssuerSummary {
  cluster: string;
  namespace: string;
  scope: string;
  issuerName: string;
  secretName: string;
  commonName: string;
  serialNumber: string;
  notAfter: string;
}

/** What `k8s onboard` did and the objects to apply. @public */
export interface OnboardWorkloadResult {
  outcome: "created" | "updated";
  workload: string;
  cluster: string;
  namespace: string;
  role: string;
  scope: string;
  issuer: K8sIssuerSummary & { outcome: "created" | "renewed" | "unchanged" };
  certificate: {
    commonName: string;
    subject: Record<string, string[]> | null;
    duration: string;
    renewBefore: string;
  };
  deployment: K8sDeploymentMode;
  /** Where pods get their certificate. */
  certificates: K8sCertificateMode;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  region: string;
  /** The role's trust policy admits certificates of these issuers (CN). */
  allowedIssuers: string[];
  /** Roles whose trust policy was re-deployed. */
  rolesUpdated: Array<{ name: string; outcome: DeployResult["outcome"]; allowedIssuers: string[] | null }>;
  /** In apply order; the first (the issuer's Secret) holds the namespace issuer's private key. */
  manifests: K8sManifest[];
}

const summary = (r: K8sIssuer): K8sIssuerSummary => ({
  cluster: r.cluster,
  namespace: r.namespace,
  scope: r.scope,
  issuerName: r.issuerName,
  secretName: r.secretName,
  commonName: r.commonName,
  serialNumber: r.certificate.serialNumber,
  notAfter: r.certificate.notAfter,
});

/**
 * What `k8s onboard` emits for the workload: the webhook's objects, a whole Deployment, or a patch
 * for an existing one, from the flags and what was recorded. Naming a Deployment without an image
 * always means patching it (as the help says), even when a whole one was emitted before.
 * @internal exported for tests
 */
export function resolveDeployment(
  workload: string,
  options: Pick<OnboardWorkloadOptions, "webhook" | "appImage" | "patch" | "deployment" | "container">,
  recorded: K8sWorkload["manifest"],
): K8sDeploymentMode {
  const conflicting = [
    options.appImage !== undefined && "--app-image",
    options.patch && "--patch",
    options.deployment !== undefined && "--deployment",
    options.container !== undefined && "--container",
  ].filter(Boolean);
  if (options.webhook) {
    if (conflicting.length > 0) {
      throw new IamRaError(
        "invalid-input",
        `--webhook injects the sidecar into annotated pods; ${conflicting.join(", ")} describe a Deployment iam-ra would write.`,
        { hint: "Pass --webhook alone, or drop it to print a Deployment or a patch." },
      );
    }
    return { mode: "webhook" };
  }
  if (recorded?.mode === "webhook" && conflicting.length === 0) return { mode: "webhook" };
  if (options.patch && options.appImage) {
    throw new IamRaError(
      "invalid-input",
      "--app-image makes a whole Deployment; --patch changes an existing one.",
      {
        hint: "Pass one of them.",
      },
    );
  }
  const name = options.deployment ?? recorded?.deployment ?? workload;
  const container = options.container ?? recorded?.container ?? workload;
  // Naming a Deployment without an image means patching it.
  const patch = options.patch || (options.deployment !== undefined && !options.appImage);
  if (patch) return { mode: "patch", name, container };
  const appImage = options.appImage ?? (recorded?.mode === "deployment" ? recorded.appImage : null);
  if (appImage) return { mode: "deployment", name, container, appImage };
  if (recorded?.mode === "patch") return { mode: "patch", name, container };
  throw new IamRaError("invalid-input", "Neither an application image nor a Deployment to patch was given.", {
    hint: "Pass --app-image IMAGE for a whole Deployment, or --patch (--deployment NAME) for an existing one.",
  });
}

/**
 * Onboards a Kubernetes workload to a role: makes sure every role of the role's scope checks the
 * certificate issuer, creates (or reuses) the namespace's issuer, records the workload (re-onboarding
 * updates the record), adds the issuer to the role's trust policy, and builds the manifests: the
 * issuer's Secret and `Issuer`, the `Certificate`, the ConfigMap and the Deployment (or patch).
 * @public
 */
export async function onboardWorkload(
  deps: AdminDeps,
  workload: string,
  options: OnboardWorkloadOptions,
): Promise<OnboardWorkloadResult> {
  validateName("workload", workload);
  validateName("cluster", options.cluster);
  validateK8sName("namespace", options.namespace);
  if (options.deployment !== undefined) validateK8sName("deployment", options.deployment, "subdomain");
  if (options.container !== undefined) validateK8sName("container", options.container);
  if (options.fsGroup !== undefined && (!Number.isInteger(options.fsGroup) || options.fsGroup < 1)) {
    throw new IamRaError("invalid-input", `fsGroup ${options.fsGroup} is not a positive group id.`, {
      hint: "Pass --fs-group with the pod's group id, e.g. 1000.",
    });
  }
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const { cluster, namespace } = options;
  if (!state.k8s.clusters[cluster]) {
    throw new IamRaError("not-found", `Cluster ${cluster} is not set up.`, {
      hint: `Run \`iam-ra k8s setup ${cluster}\` first.`,
    });
  }
  const existing = findWorkload(state, workload, cluster, namespace);
  const roleName = options.role ?? existing?.workload.role;
  if (!roleName) throw new IamRaError("invalid-input", "No role was given.", { hint: "Pass --role." });
  const role = state.roles[roleName];
  if (!role)
    throw new IamRaError("not-found", `There is no role ${roleName}.`, { hint: "See `iam-ra role list`." });
  const scope = role.scope;
  const ca = state.cas[scope];
  if (ca?.mode !== "self-signed" || !ca.certificate || !ca.privateKeyKey || !ca.certificateKey) {
    throw new IamRaError(
      "invalid-input",
      `Role ${roleName}'s CA scope ${scope} is not a self-signed scope whose key iam-ra holds, so it cannot sign a namespace issuer.`,
      {
        hint: "Use a role of a self-signed scope (`iam-ra ca setup --scope k8s --mode self-signed`, then `iam-ra role update <role> --scope k8s`).",
      },
    );
  }
  if (!role.binding || role.binding.tag.startsWith("x509Issuer/")) {
    throw new IamRaError(
      "invalid-input",
      `Role ${roleName} ${role.binding ? `binds ${role.binding.tag}, which a namespace issuer cannot express` : "binds no certificate attribute"}.`,
      { hint: `Bind it to the subject: \`iam-ra role update ${roleName} --binding-tag x509Subject/OU\`.` },
    );
  }
  if (allowedIssuersFor(state, roleName, scope, role.binding.tag) === null) {
    throw new IamRaError(
      "invalid-input",
      `Role ${roleName}'s trust policy cannot be bound to issuers: scope ${scope}'s CA name cannot be a session tag.`,
      { hint: "Set up a new self-signed scope (`iam-ra ca setup --scope …`) and move the role to it." },
    );
  }
  const subject = certificateSubjectFor(role.binding, workload);
  const recorded = existing?.workload.manifest;
  const timing = validateCertificateTiming({
    duration: options.duration ?? recorded?.duration ?? DEFAULT_DURATION,
    renewBefore: options.renewBefore ?? recorded?.renewBefore ?? DEFAULT_RENEW_BEFORE,
  });
  const deployment = resolveDeployment(workload, options, recorded);
  const fsGroup = options.fsGroup ?? recorded?.fsGroup ?? DEFAULT_FS_GROUP;
  const certificates: K8sCertificateMode =
    options.certificates ?? recorded?.certificates ?? (deployment.mode === "webhook" ? "csi" : "secret");
  const webhookNamespace = options.webhookNamespace ?? WEBHOOK_NAMESPACE;
  validateK8sName("webhook namespace", webhookNamespace);
  // A namespace issuer can sign any subject: before one exists in the scope, every role of the scope
  // must check the issuer, or a namespace could mint certificates for them.
  const unbound = Object.entries(state.roles).filter(([, r]) => r.scope === scope && !r.binding);
  if (unbound.length > 0) {
    throw new IamRaError(
      "invalid-input",
      `Role(s) ${unbound.map(([n]) => n).join(", ")} of scope ${scope} bind no certificate attribute: any certificate of the scope may assume them.`,
      { hint: "Bind them first (`iam-ra role update <role> --binding-tag x509Subject/OU`); then onboard." },
    );
  }
  const rolesUpdated = await syncRoles(
    deps,
    ns,
    Object.entries(state.roles)
      .filter(([, r]) => r.scope === scope)
      .map(([n]) => n),
  );
  const issuer = await ensureIssuer(deps, ns, scope, cluster, namespace);
  const key = workloadKey(cluster, namespace, workload);
  const now = deps.clock.now().toISOString();
  const manifestRecord: NonNullable<K8sWorkload["manifest"]> = {
    ...timing,
    mode: deployment.mode,
    certificates,
    deployment: deployment.mode === "webhook" ? workload : deployment.name,
    container: deployment.mode === "webhook" ? workload : deployment.container,
    appImage: deployment.mode === "deployment" ? deployment.appImage : null,
    fsGroup,
  };
  const { result: previous } = await ns.store.update((draft) => {
    const found = findWorkload(draft, workload, cluster, namespace);
    if (found) delete draft.k8s.workloads[found.key];
    draft.k8s.workloads[key] = {
      name: workload,
      cluster,
      namespace,
      role: roleName,
      scope,
      issuer: issuerKey(cluster, namespace, scope),
      manifest: manifestRecord,
      createdAt: found?.workload.createdAt ?? now,
      updatedAt: now,
    };
    return found?.workload;
  });
  rolesUpdated.push(...(await syncRoles(deps, ns, [roleName, ...(previous ? [previous.role] : [])])));
  if (previous?.issuer && previous.issuer !== issuerKey(cluster, namespace, scope)) {
    await retireUnusedIssuers(deps, ns, [previous.issuer]);
  }
  const after = await requireState(ns);
  const allowedIssuers = after.roles[roleName]?.allowedIssuers ?? [];
  // The Kubernetes models load only here, so the other admin commands do not pay for them.
  const { buildWorkloadManifests } = await import("../k8s/workload.ts");
  const manifests: K8sManifest[] = buildWorkloadManifests({
    workload,
    namespace,
    iamRaNamespace: deps.namespace,
    scope,
    issuer: {
      certificatePem: issuer.certificatePem,
      rootCertificatePem: issuer.rootCertificatePem,
      privateKeyPem: issuer.privateKeyPem,
    },
    certificate: { ...subject, ...timing },
    arns: {
      trustAnchorArn: ca.trustAnchorArn,
      profileArn: role.profileArn,
      roleArn: role.roleArn,
      region: deps.region,
    },
    sidecarImage: options.sidecarImage,
    deployment,
    fsGroup,
    certificateMode: certificates,
  });
  if (deployment.mode === "webhook") {
    // The webhook reads which roles each namespace may use from this ConfigMap: apply it with the rest.
    const { buildWebhookConfig, buildWebhookConfigMap } = await import("../k8s/webhook/config.ts");
    manifests.push({
      part: "webhook-config",
      object: buildWebhookConfigMap({
        namespace: webhookNamespace,
        name: WEBHOOK_CONFIG_MAP_NAME,
        config: buildWebhookConfig(after, { cluster, iamRaNamespace: deps.namespace }),
      }),
      sensitive: false,
    });
  }
  return {
    outcome: previous ? "updated" : "created",
    workload,
    cluster,
    namespace,
    role: roleName,
    scope,
    issuer: { ...summary(issuer.record), outcome: issuer.outcome },
    certificate: {
      commonName: subject.commonName,
      subject: (subject.subject as Record<string, string[]> | undefined) ?? null,
      ...timing,
    },
    deployment,
    certificates,
    trustAnchorArn: ca.trustAnchorArn,
    profileArn: role.profileArn,
    roleArn: role.roleArn,
    region: deps.region,
    allowedIssuers,
    rolesUpdated,
    manifests,
  };
}

/** A reference to an object to delete (`kubectl delete -f -` reads these). @public */
export type K8sObjectReference = Pick<K8sObject, "apiVersion" | "kind" | "metadata">;

const reference = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string,
): K8sObjectReference => ({
  apiVersion,
  kind,
  metadata: { name, namespace },
});

function issuerReferences(r: K8sIssuer): K8sObjectReference[] {
  return [
    reference("cert-manager.io/v1", "Issuer", r.issuerName, r.namespace),
    reference("v1", "Secret", r.secretName, r.namespace),
  ];
}

/** What `k8s offboard` did, and the objects to delete from the cluster. @public */
export interface OffboardWorkloadResult {
  workload: string;
  cluster: string;
  namespace: string;
  role: string;
  rolesUpdated: Array<{ name: string; outcome: DeployResult["outcome"]; allowedIssuers: string[] | null }>;
  /** Issuers no workload uses any more: removed from trust policies, revoked (CRL), deleted. */
  issuersRetired: K8sIssuerSummary[];
  /** The workload's Certificate, its Secret and ConfigMap (and retired issuers' objects); not the Deployment. */
  objects: K8sObjectReference[];
  /**
   * The workload was onboarded for the admission webhook: its namespace-roles ConfigMap still lists
   * the role until `k8s webhook config` is applied again.
   */
  webhook: boolean;
}

/**
 * Offboards a workload: removes its record, removes its namespace issuer from the role's trust
 * policy when no other workload of the role remains in that namespace, and retires the issuer
 * when no workload at all uses it.
 * @public
 */
export async function offboardWorkload(
  deps: AdminDeps,
  workload: string,
  options: { cluster: string; namespace: string },
): Promise<OffboardWorkloadResult> {
  validateName("workload", workload);
  validateName("cluster", options.cluster);
  validateK8sName("namespace", options.namespace);
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const found = findWorkload(state, workload, options.cluster, options.namespace);
  if (!found) {
    throw new IamRaError(
      "not-found",
      `There is no workload ${workload} in ${options.cluster}/${options.namespace}.`,
      { hint: "See `iam-ra k8s list`." },
    );
  }
  // Marked first (the trust policies are computed from state, and an offboarding workload no longer
  // counts), removed last: should AWS fail in between, re-running offboard finds it and finishes.
  await ns.store.update((draft) => {
    const current = findWorkload(draft, workload, options.cluster, options.namespace);
    if (current) {
      current.workload.status = "offboarding";
      current.workload.updatedAt = deps.clock.now().toISOString();
    }
  });
  let rolesUpdated: Awaited<ReturnType<typeof syncRoles>>;
  let retired: Awaited<ReturnType<typeof retireUnusedIssuers>>;
  try {
    rolesUpdated = await syncRoles(deps, ns, [found.workload.role]);
    // Its issuer is retired (revoked) when no active workload uses it any more; then the record goes.
    retired = found.workload.issuer ? await retireUnusedIssuers(deps, ns, [found.workload.issuer]) : [];
    await ns.store.update((draft) => {
      const current = findWorkload(draft, workload, options.cluster, options.namespace);
      if (current?.workload.status === "offboarding") delete draft.k8s.workloads[current.key];
    });
  } catch (error) {
    throw new IamRaError(
      "stack-failed",
      `Offboarding workload ${workload} did not finish: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
        hint: `Fix the cause, then run the same \`iam-ra k8s offboard\` again: the workload is marked offboarding and no longer counts for trust policies.`,
      },
    );
  }
  const names = k8sObjectNames({ iamRaNamespace: deps.namespace, scope: "-", workload });
  const manifest = found.workload.manifest;
  return {
    workload,
    cluster: options.cluster,
    namespace: options.namespace,
    role: found.workload.role,
    rolesUpdated,
    issuersRetired: retired.map(summary),
    objects: [
      // What onboarding emitted: no Certificate with csi-driver, no ConfigMap with the webhook.
      ...(manifest?.certificates === "csi"
        ? []
        : [
            reference("cert-manager.io/v1", "Certificate", names.certificate, options.namespace),
            reference("v1", "Secret", names.certificateSecret, options.namespace),
          ]),
      ...(manifest?.mode === "webhook"
        ? []
        : [reference("v1", "ConfigMap", names.configMap, options.namespace)]),
      ...retired.flatMap(issuerReferences),
    ],
    webhook: manifest?.mode === "webhook",
  };
}

/** What `k8s teardown` did. @public */
export interface TeardownClusterResult {
  cluster: string;
  issuersRetired: K8sIssuerSummary[];
  objects: K8sObjectReference[];
}

/**
 * Unregisters a cluster; refuses while workloads remain in it. Issuers left behind (normally none:
 * offboarding retires them) are retired.
 * @public
 */
export async function teardownCluster(deps: AdminDeps, cluster: string): Promise<TeardownClusterResult> {
  validateName("cluster", cluster);
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  if (!state.k8s.clusters[cluster]) {
    throw new IamRaError("not-found", `There is no cluster ${cluster}.`, { hint: "See `iam-ra k8s list`." });
  }
  const remaining = (s: State) => Object.values(s.k8s.workloads).filter((w) => w.cluster === cluster);
  const inUse = (s: State) => {
    const left = remaining(s);
    if (left.length > 0) {
      throw new IamRaError(
        "in-use",
        `Cluster ${cluster} still has workload(s) ${left.map((w) => `${w.namespace}/${w.name}`).join(", ")}.`,
        { hint: "Offboard them first: `iam-ra k8s offboard <workload> --cluster … --k8s-namespace …`." },
      );
    }
  };
  inUse(state);
  const retired = await retireUnusedIssuers(
    deps,
    ns,
    Object.entries(state.k8s.issuers ?? {})
      .filter(([, r]) => r.cluster === cluster)
      .map(([k]) => k),
  );
  await ns.store.update((draft) => {
    inUse(draft);
    delete draft.k8s.clusters[cluster];
  });
  return { cluster, issuersRetired: retired.map(summary), objects: retired.flatMap(issuerReferences) };
}

/** What `k8s list` shows. @public */
export interface K8sListResult {
  namespace: string;
  clusters: Array<{ name: string; createdAt: string; workloads: number; issuers: number }>;
  issuers: K8sIssuerSummary[];
  workloads: Array<{
    name: string;
    cluster: string;
    namespace: string;
    role: string;
    scope: string | null;
    /** The issuer's CN; null for workloads imported from the Python iam-ra (re-onboard them). */
    issuer: string | null;
    duration: string | null;
    mode: "deployment" | "patch" | "webhook" | null;
    /** `offboarding`: an offboard did not finish (re-run it). */
    status: "active" | "offboarding";
    updatedAt: string;
  }>;
}

/** Lists clusters, namespace issuers and workloads (optionally of one cluster). @public */
export async function listK8s(
  deps: AdminDeps,
  options: { cluster?: string | undefined } = {},
): Promise<K8sListResult> {
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const issuers = state.k8s.issuers ?? {};
  const wanted = (c: string) => options.cluster === undefined || c === options.cluster;
  const workloads = Object.values(state.k8s.workloads).filter((w) => wanted(w.cluster));
  const issuerList = Object.values(issuers).filter((r) => wanted(r.cluster));
  return {
    namespace: state.namespace,
    clusters: Object.values(state.k8s.clusters)
      .filter((c) => wanted(c.name))
      .map((c) => ({
        name: c.name,
        createdAt: c.createdAt,
        workloads: workloads.filter((w) => w.cluster === c.name).length,
        issuers: issuerList.filter((r) => r.cluster === c.name).length,
      })),
    issuers: issuerList.map(summary),
    workloads: workloads.map((w) => ({
      name: w.name,
      cluster: w.cluster,
      namespace: w.namespace,
      role: w.role,
      scope: w.scope ?? null,
      issuer: w.issuer ? (issuers[w.issuer]?.commonName ?? null) : null,
      duration: w.manifest?.duration ?? null,
      mode: w.manifest?.mode ?? null,
      status: w.status ?? "active",
      updatedAt: w.updatedAt,
    })),
  };
}

// ─── the admission webhook ────────────────────────────────────────────────────────────────────

/** Options of {@link buildWebhookManifests}. @public */
export interface WebhookManifestsOptions {
  cluster: string;
  /** The image the webhook runs, which is also the sidecar image it injects. */
  image: string;
  /** Default `iam-ra-system`. */
  webhookNamespace?: string | undefined;
  /** Certificates of workloads whose record does not say: `csi` (default) or `secret`. */
  certificates?: K8sCertificateMode | undefined;
  /** `Fail` (default) or `Ignore`. */
  failurePolicy?: "Fail" | "Ignore" | undefined;
  /** 1–30, default 5. */
  timeoutSeconds?: number | undefined;
  /** Audit mode: pods are admitted unchanged; what would change is reported. */
  dryRun?: boolean | undefined;
  /** Default 2. */
  replicas?: number | undefined;
  /** Only the namespace-roles ConfigMap (to re-apply after onboarding), not the whole install. */
  configOnly?: boolean | undefined;
}

/** What `k8s webhook install` (or `k8s webhook config`) prints. @public */
export interface WebhookManifestsResult {
  cluster: string;
  webhookNamespace: string;
  /** Namespaces the webhook serves, with the roles each may use. */
  namespaces: Array<{ namespace: string; roles: string[] }>;
  /** In apply order. Nothing secret: the serving certificate is cert-manager's to make. */
  manifests: Array<{ part: string; object: { toJSON(): unknown } }>;
}

/**
 * Builds the webhook's install (or only its namespace-roles ConfigMap) from state, for a cluster set
 * up with `k8s setup`: which roles each namespace may use comes from the workloads onboarded there.
 * Reads state only; changes nothing.
 * @public
 */
export async function buildWebhookManifests(
  deps: AdminDeps,
  options: WebhookManifestsOptions,
): Promise<WebhookManifestsResult> {
  validateName("cluster", options.cluster);
  const webhookNamespace = options.webhookNamespace ?? WEBHOOK_NAMESPACE;
  validateK8sName("webhook namespace", webhookNamespace);
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  if (!state.k8s.clusters[options.cluster]) {
    throw new IamRaError("not-found", `Cluster ${options.cluster} is not set up.`, {
      hint: `Run \`iam-ra k8s setup ${options.cluster}\` first.`,
    });
  }
  const { buildWebhookConfig, buildWebhookConfigMap } = await import("../k8s/webhook/config.ts");
  const config = buildWebhookConfig(state, {
    cluster: options.cluster,
    iamRaNamespace: deps.namespace,
    certificateMode: options.certificates,
  });
  const namespaces = Object.entries(config.namespaces).map(([namespace, entry]) => ({
    namespace,
    roles: Object.keys(entry.roles).sort(),
  }));
  if (options.configOnly) {
    return {
      cluster: options.cluster,
      webhookNamespace,
      namespaces,
      manifests: [
        {
          part: "config-map",
          object: buildWebhookConfigMap({
            namespace: webhookNamespace,
            name: WEBHOOK_CONFIG_MAP_NAME,
            config,
          }),
        },
      ],
    };
  }
  const { buildWebhookInstallManifests } = await import("../k8s/webhook/install.ts");
  return {
    cluster: options.cluster,
    webhookNamespace,
    namespaces,
    manifests: buildWebhookInstallManifests({
      namespace: webhookNamespace,
      image: options.image,
      config,
      failurePolicy: options.failurePolicy,
      timeoutSeconds: options.timeoutSeconds,
      dryRun: options.dryRun,
      replicas: options.replicas,
    }),
  };
}
