import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { IamRaError } from "../../errors.ts";
import { SIDECAR_UID } from "../manifests.ts";
import { validateK8sName } from "../names.ts";
import { INJECT_LABEL, SYSTEM_NAMESPACES } from "./admission.ts";
import { buildWebhookConfigMap, WEBHOOK_CONFIG_KEY, type WebhookConfig } from "./config.ts";
import { WEBHOOK_CONFIG_MAP_NAME, WEBHOOK_NAMESPACE } from "./names.ts";

/** The webhook's entrypoint in the sidecar image (a second bundle next to `/app/main.js`). @public */
export const WEBHOOK_ENTRYPOINT: readonly string[] = ["node", "/app/webhook.js"];
/** The port the webhook serves HTTPS on inside its pod (the Service maps 443 to it). @public */
export const WEBHOOK_PORT = 8443;
/** Where the webhook's serving certificate Secret is mounted. @public */
export const WEBHOOK_TLS_MOUNT_PATH = "/var/run/iam-ra-webhook/tls";
/** Where the namespace-roles ConfigMap is mounted. @public */
export const WEBHOOK_CONFIG_MOUNT_PATH = "/etc/iam-ra-webhook";
/** The path the API server posts AdmissionReviews to. @public */
export const WEBHOOK_PATH = "/mutate";

/** Input of {@link buildWebhookInstallManifests}. @public */
export interface WebhookInstallInput {
  /** The webhook's namespace. Default {@link WEBHOOK_NAMESPACE}. */
  namespace?: string | undefined;
  /** The image serving the webhook, which is also the sidecar image it injects. */
  image: string;
  /** The namespace-roles document. */
  config: WebhookConfig;
  /**
   * `Fail` (default): while no replica answers, pods cannot be created in opted-in namespaces
   * (never elsewhere); `Ignore`: they are created without the sidecar.
   */
  failurePolicy?: "Fail" | "Ignore" | undefined;
  /** How long the API server waits for an answer, 1–30 s. Default 5. */
  timeoutSeconds?: number | undefined;
  /** Audit mode: every pod allowed unchanged, what would change in warnings and audit annotations. */
  dryRun?: boolean | undefined;
  /** Default 2. */
  replicas?: number | undefined;
}

/** One object of the install, in apply order. @public */
export interface WebhookInstallManifest {
  part:
    | "namespace"
    | "service-account"
    | "cluster-role"
    | "cluster-role-binding"
    | "config-map"
    | "issuer"
    | "certificate"
    | "deployment"
    | "pod-disruption-budget"
    | "service"
    | "network-policy"
    | "mutating-webhook-configuration";
  object: { toJSON(): unknown };
}

const NAME = "iam-ra-webhook";
const LABELS = {
  "app.kubernetes.io/name": NAME,
  "app.kubernetes.io/component": "webhook",
  "app.kubernetes.io/managed-by": "iam-ra",
};
const SELECTOR = { "app.kubernetes.io/name": NAME };

function validated<T extends { validate(): void }>(object: T): T {
  object.validate();
  return object;
}

/**
 * Everything the webhook needs, in apply order, each validated against its schema: its namespace
 * (Pod Security `restricted`), service account and RBAC (read service accounts, nothing else), the
 * namespace-roles ConfigMap, a private CA and serving certificate from cert-manager, the Deployment
 * (2 replicas spread over nodes, non-root, read-only root filesystem), a PodDisruptionBudget, the
 * Service, a NetworkPolicy and the MutatingWebhookConfiguration, whose CA bundle cert-manager's
 * cainjector fills in.
 * @public
 */
export function buildWebhookInstallManifests(input: WebhookInstallInput): WebhookInstallManifest[] {
  const namespace = input.namespace ?? WEBHOOK_NAMESPACE;
  validateK8sName("namespace", namespace);
  const timeoutSeconds = input.timeoutSeconds ?? 5;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30) {
    throw new IamRaError("invalid-input", `The webhook timeout ${timeoutSeconds}s is not 1–30 seconds.`, {
      hint: "Pass --timeout-seconds between 1 and 30 (the API server's limit); 5 is the default.",
    });
  }
  const replicas = input.replicas ?? 2;
  const meta = (name: string) => ({ name, namespace, labels: LABELS });
  const servingSecret = `${NAME}-tls`;
  const caSecret = `${NAME}-ca`;
  const dnsNames = [`${NAME}.${namespace}.svc`, `${NAME}.${namespace}.svc.cluster.local`];
  const configMapName = WEBHOOK_CONFIG_MAP_NAME;

  const ns = new Namespace({
    metadata: {
      name: namespace,
      labels: {
        "app.kubernetes.io/managed-by": "iam-ra",
        "pod-security.kubernetes.io/enforce": "restricted",
        [INJECT_LABEL]: "disabled",
      },
    },
  });
  const serviceAccount = new ServiceAccount({ metadata: meta(NAME), automountServiceAccountToken: true });
  const clusterRole = new ClusterRole({
    metadata: { name: NAME, labels: LABELS },
    // The role annotation may sit on a pod's service account: read those, nothing else.
    rules: [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get"] }],
  });
  const binding = new ClusterRoleBinding({
    metadata: { name: NAME, labels: LABELS },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NAME },
    subjects: [{ kind: "ServiceAccount", name: NAME, namespace }],
  });
  const configMap = buildWebhookConfigMap({ namespace, name: configMapName, config: input.config });
  // A private CA for the serving certificate: its certificate (ca.crt, what cainjector puts in the
  // caBundle) outlives many serving renewals, so a renewal never races the caBundle update.
  const selfSigned = new Issuer({ metadata: meta(`${NAME}-selfsigned`), spec: { selfSigned: {} } });
  const ca = new Certificate({
    metadata: meta(caSecret),
    spec: {
      isCA: true,
      commonName: `${NAME} CA`,
      secretName: caSecret,
      duration: "43800h",
      renewBefore: "8760h",
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
      issuerRef: { group: "cert-manager.io", kind: "Issuer", name: `${NAME}-selfsigned` },
    },
  });
  const caIssuer = new Issuer({ metadata: meta(caSecret), spec: { ca: { secretName: caSecret } } });
  const serving = new Certificate({
    metadata: meta(servingSecret),
    spec: {
      secretName: servingSecret,
      commonName: dnsNames[0]!,
      dnsNames,
      duration: "2160h",
      renewBefore: "720h",
      privateKey: { algorithm: "ECDSA", size: 256, encoding: "PKCS8", rotationPolicy: "Always" },
      usages: ["digital signature", "server auth"],
      issuerRef: { group: "cert-manager.io", kind: "Issuer", name: caSecret },
    },
  });
  const probe = (path: string) => ({
    httpGet: { path, port: WEBHOOK_PORT, scheme: "HTTPS" as const },
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  const deployment = new Deployment({
    metadata: meta(NAME),
    spec: {
      replicas,
      selector: { matchLabels: SELECTOR },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...LABELS, [INJECT_LABEL]: "disabled" } },
        spec: {
          serviceAccountName: NAME,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: SIDECAR_UID,
            runAsGroup: SIDECAR_UID,
            fsGroup: SIDECAR_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: SELECTOR },
            },
          ],
          containers: [
            {
              name: "webhook",
              image: input.image,
              command: [...WEBHOOK_ENTRYPOINT],
              env: [
                { name: "IAM_RA_WEBHOOK_SIDECAR_IMAGE", value: input.image },
                { name: "IAM_RA_WEBHOOK_PORT", value: String(WEBHOOK_PORT) },
                { name: "IAM_RA_WEBHOOK_TLS_CERT", value: `${WEBHOOK_TLS_MOUNT_PATH}/tls.crt` },
                { name: "IAM_RA_WEBHOOK_TLS_KEY", value: `${WEBHOOK_TLS_MOUNT_PATH}/tls.key` },
                {
                  name: "IAM_RA_WEBHOOK_CONFIG",
                  value: `${WEBHOOK_CONFIG_MOUNT_PATH}/${WEBHOOK_CONFIG_KEY}`,
                },
                {
                  name: "IAM_RA_WEBHOOK_NAMESPACE",
                  valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
                },
                { name: "IAM_RA_WEBHOOK_DRY_RUN", value: input.dryRun ? "true" : "false" },
              ],
              ports: [{ name: "https", containerPort: WEBHOOK_PORT, protocol: "TCP" }],
              readinessProbe: probe("/readyz"),
              livenessProbe: probe("/healthz"),
              resources: {
                requests: { cpu: "50m", memory: "64Mi" },
                limits: { cpu: "500m", memory: "192Mi" },
              },
              securityContext: {
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: [
                { name: "tls", mountPath: WEBHOOK_TLS_MOUNT_PATH, readOnly: true },
                { name: "config", mountPath: WEBHOOK_CONFIG_MOUNT_PATH, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "tls", secret: { secretName: servingSecret, defaultMode: 0o440 } },
            { name: "config", configMap: { name: configMapName, defaultMode: 0o444 } },
          ],
        },
      },
    },
  });
  const pdb = new PodDisruptionBudget({
    metadata: meta(NAME),
    spec: { minAvailable: 1, selector: { matchLabels: SELECTOR } },
  });
  const service = new Service({
    metadata: meta(NAME),
    spec: {
      selector: SELECTOR,
      ports: [{ name: "https", port: 443, targetPort: WEBHOOK_PORT, protocol: "TCP" }],
    },
  });
  const networkPolicy = new NetworkPolicy({
    metadata: meta(NAME),
    spec: {
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ["Ingress", "Egress"],
      // The API server calls from outside the pod network (no selector names it): the port is the wall.
      ingress: [{ ports: [{ protocol: "TCP", port: WEBHOOK_PORT }] }],
      // Out only to the API server (service accounts): 443 in-cluster, 6443 on many control planes.
      egress: [
        {
          ports: [
            { protocol: "TCP", port: 443 },
            { protocol: "TCP", port: 6443 },
          ],
        },
      ],
    },
  });
  const webhook = new MutatingWebhookConfiguration({
    metadata: {
      name: NAME,
      labels: LABELS,
      annotations: { "cert-manager.io/inject-ca-from": `${namespace}/${servingSecret}` },
    },
    webhooks: [
      {
        name: "pods.webhook.iam-ra.dev",
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: input.failurePolicy ?? "Fail",
        timeoutSeconds,
        matchPolicy: "Equivalent",
        reinvocationPolicy: "Never",
        clientConfig: { service: { name: NAME, namespace, path: "/mutate", port: 443 } },
        rules: [
          {
            operations: ["CREATE"],
            apiGroups: [""],
            apiVersions: ["v1"],
            resources: ["pods"],
            scope: "Namespaced",
          },
        ],
        namespaceSelector: {
          matchLabels: { [INJECT_LABEL]: "enabled" },
          matchExpressions: [
            {
              key: "kubernetes.io/metadata.name",
              operator: "NotIn",
              values: [...SYSTEM_NAMESPACES, namespace],
            },
          ],
        },
        objectSelector: {
          matchExpressions: [{ key: INJECT_LABEL, operator: "NotIn", values: ["disabled"] }],
        },
      },
    ],
  });
  const parts: WebhookInstallManifest[] = [
    { part: "namespace", object: validated(ns) },
    { part: "service-account", object: validated(serviceAccount) },
    { part: "cluster-role", object: validated(clusterRole) },
    { part: "cluster-role-binding", object: validated(binding) },
    { part: "config-map", object: configMap },
    { part: "issuer", object: validated(selfSigned) },
    { part: "certificate", object: validated(ca) },
    { part: "issuer", object: validated(caIssuer) },
    { part: "certificate", object: validated(serving) },
    { part: "deployment", object: validated(deployment) },
    { part: "pod-disruption-budget", object: validated(pdb) },
    { part: "service", object: validated(service) },
    { part: "network-policy", object: validated(networkPolicy) },
    { part: "mutating-webhook-configuration", object: validated(webhook) },
  ];
  return parts;
}
