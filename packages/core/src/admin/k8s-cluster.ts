import { validateName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";
import { validateK8sName } from "../k8s/names.ts";
import { WEBHOOK_CONFIG_MAP_NAME, WEBHOOK_NAMESPACE } from "../k8s/webhook/names.ts";
import type { K8sCertificateMode } from "../k8s/workload.ts";
import type { State } from "../state/schema.ts";
import {
  issuerReferences,
  type K8sIssuerSummary,
  type K8sObjectReference,
  retireUnusedIssuers,
  summary,
} from "./k8s-issuers.ts";
import { openNamespace, requireState } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

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
