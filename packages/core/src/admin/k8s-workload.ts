import type { DeployResult } from "../cloudformation/deploy.ts";
import { validateName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";
import { validateCertificateTiming } from "../k8s/duration.ts";
import { certificateSubjectFor, k8sObjectNames, validateK8sName } from "../k8s/names.ts";
import { WEBHOOK_CONFIG_MAP_NAME, WEBHOOK_NAMESPACE } from "../k8s/webhook/names.ts";
import type { K8sCertificateMode, K8sDeploymentMode, K8sManifest } from "../k8s/workload.ts";
import type { K8sWorkload } from "../state/schema.ts";
import { allowedIssuersFor, findWorkload } from "./issuers.ts";
import {
  DEFAULT_DURATION,
  DEFAULT_FS_GROUP,
  DEFAULT_RENEW_BEFORE,
  ensureIssuer,
  issuerKey,
  issuerReferences,
  type K8sIssuerSummary,
  type K8sObjectReference,
  reference,
  retireUnusedIssuers,
  summary,
  syncRoles,
  workloadKey,
} from "./k8s-issuers.ts";
import { openNamespace, requireState } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

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
