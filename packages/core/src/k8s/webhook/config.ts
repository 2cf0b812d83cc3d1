import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import * as v from "valibot";
import type { State } from "../../state/schema.ts";
import { validateCertificateTiming } from "../duration.ts";
import { certificateSubjectFor, k8sObjectNames } from "../names.ts";
import type { K8sCertificateMode } from "../workload.ts";

/** The version of the namespace-roles document; bumped (and migrated on read) when it changes. @public */
export const WEBHOOK_CONFIG_VERSION = 1;
/** The key of the namespace-roles ConfigMap the webhook reads (mounted as a file). @public */
export const WEBHOOK_CONFIG_KEY = "config.json";

const Arn = v.pipe(v.string(), v.regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/));
const Label = v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), v.maxLength(63));
const SubjectList = v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))));

const WebhookRoleSchema = v.strictObject({
  trustAnchorArn: Arn,
  profileArn: Arn,
  roleArn: Arn,
  region: v.pipe(v.string(), v.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)),
  /** The certificate's common name; null: the pod's service account name (the role binds a subject field). */
  commonName: v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
  /** The role's binding as certificate subject fields (empty when the binding is the common name). */
  subject: v.strictObject({
    organizationalUnits: SubjectList,
    organizations: SubjectList,
    countries: SubjectList,
    provinces: SubjectList,
    localities: SubjectList,
  }),
  duration: v.string(),
  renewBefore: v.string(),
  certificate: v.variant("mode", [
    v.strictObject({ mode: v.literal("csi") }),
    v.strictObject({ mode: v.literal("secret"), secretName: v.pipe(v.string(), v.minLength(1)) }),
  ]),
});

const WebhookNamespaceSchema = v.strictObject({
  /** The namespace's cert-manager `Issuer` (made by `k8s onboard`). */
  issuer: v.pipe(v.string(), v.minLength(1)),
  roles: v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), WebhookRoleSchema),
});

/** The namespace-roles document: which roles each Kubernetes namespace may use, and how. @public */
export const WebhookConfigSchema = v.strictObject({
  version: v.literal(WEBHOOK_CONFIG_VERSION),
  /** The cluster this was built for (`k8s setup CLUSTER`). */
  cluster: v.string(),
  namespaces: v.record(Label, WebhookNamespaceSchema),
});

/** @public */
export type WebhookConfig = v.InferOutput<typeof WebhookConfigSchema>;
/** A role a namespace may use, as the webhook injects it. @public */
export type WebhookRole = v.InferOutput<typeof WebhookRoleSchema>;
/** @public */
export type WebhookNamespace = v.InferOutput<typeof WebhookNamespaceSchema>;

/** The outcome of {@link parseWebhookConfig}. @public */
export type WebhookConfigResult = { ok: true; config: WebhookConfig } | { ok: false; message: string };

/**
 * Reads the namespace-roles document (the ConfigMap's `config.json`): JSON, then the schema, then
 * each role's durations. Never throws: a bad document is a message naming the first problem.
 * @public
 */
export function parseWebhookConfig(text: string): WebhookConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON: ${(error as Error).message}` };
  }
  const parsed = v.safeParse(WebhookConfigSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    return { ok: false, message: `${path ? `${path}: ` : ""}${issue.message}` };
  }
  for (const [ns, entry] of Object.entries(parsed.output.namespaces)) {
    for (const [role, r] of Object.entries(entry.roles)) {
      try {
        validateCertificateTiming(r);
      } catch (error) {
        return { ok: false, message: `namespaces.${ns}.roles.${role}: ${(error as Error).message}` };
      }
    }
  }
  return { ok: true, config: parsed.output };
}

/** Options of {@link buildWebhookConfig}. @public */
export interface WebhookConfigOptions {
  cluster: string;
  /** The iam-ra namespace (`--namespace`), which names the issuers. */
  iamRaNamespace: string;
  /** How pods get their certificate when a workload's record does not say. Default `csi`. */
  certificateMode?: K8sCertificateMode | undefined;
}

/**
 * Builds the namespace-roles document from iam-ra's state: every role with an active workload
 * onboarded in a namespace of the cluster (`k8s onboard`, which also puts the namespace's issuer in
 * the role's trust policy) may be used there, with that workload's certificate durations. Secret
 * mode points at the Certificate Secret of the role's first workload (by name) in the namespace.
 * @public
 */
export function buildWebhookConfig(state: State, options: WebhookConfigOptions): WebhookConfig {
  const mode = options.certificateMode ?? "csi";
  const namespaces: WebhookConfig["namespaces"] = {};
  const issuers = state.k8s.issuers ?? {};
  const workloads = Object.values(state.k8s.workloads)
    .filter((w) => w.cluster === options.cluster && w.status !== "offboarding")
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const w of workloads) {
    const issuer = w.issuer ? issuers[w.issuer] : undefined;
    const role = state.roles[w.role];
    const ca = role ? state.cas[role.scope] : undefined;
    if (!issuer || issuer.status === "retiring" || !role?.binding || !ca?.trustAnchorArn) continue;
    const entry = namespaces[w.namespace] ?? { issuer: issuer.issuerName, roles: {} };
    namespaces[w.namespace] = entry;
    // One issuer per (namespace, scope): a role of another scope than the first one seen is skipped
    // here rather than handed a certificate its trust anchor would refuse.
    if (entry.issuer !== issuer.issuerName || entry.roles[w.role]) continue;
    const { commonName, subject } = certificateSubjectFor(role.binding, "-");
    // What the workload was onboarded with, else the webhook's default.
    const certificateMode = w.manifest?.certificates ?? mode;
    const timing = validateCertificateTiming({
      duration: w.manifest?.duration ?? "24h",
      renewBefore: w.manifest?.renewBefore ?? "8h",
    });
    const names = k8sObjectNames({
      iamRaNamespace: options.iamRaNamespace,
      scope: issuer.scope,
      workload: w.name,
    });
    entry.roles[w.role] = {
      trustAnchorArn: ca.trustAnchorArn,
      profileArn: role.profileArn,
      roleArn: role.roleArn,
      region: state.region,
      commonName: subject ? null : commonName,
      subject: subject ?? {},
      ...timing,
      certificate:
        certificateMode === "csi"
          ? { mode: certificateMode }
          : { mode: certificateMode, secretName: names.certificateSecret },
    };
  }
  return { version: WEBHOOK_CONFIG_VERSION, cluster: options.cluster, namespaces };
}

/**
 * The ConfigMap holding the namespace-roles document (key {@link WEBHOOK_CONFIG_KEY}, 2-space JSON),
 * in the webhook's own namespace, where only cluster admins write.
 * @public
 */
export function buildWebhookConfigMap(input: {
  namespace: string;
  name: string;
  config: WebhookConfig;
}): ConfigMap {
  const configMap = new ConfigMap({
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { "app.kubernetes.io/managed-by": "iam-ra", "app.kubernetes.io/component": "webhook" },
    },
    data: { [WEBHOOK_CONFIG_KEY]: `${JSON.stringify(input.config, null, 2)}\n` },
  });
  configMap.validate();
  return configMap;
}
