import { buildWebhookManifests, type WebhookManifestsResult } from "@iam-ra/core/admin";
import type { K8sObject } from "@iam-ra/core/k8s";
import { AdminCommand } from "../../../admin-command.ts";
import { Flags } from "../../../runtime/flags.ts";
import { loadK8s, writeManifestFiles } from "../../../services/k8s-output.ts";

/** What `k8s webhook install --json` prints: the manifests as objects (null with --output), or the files. */
export type K8sWebhookInstallResult = Omit<WebhookManifestsResult, "manifests"> & {
  manifests: K8sObject[] | null;
  files: string[] | null;
};

/** --cluster of the webhook commands. */
export const webhookClusterFlag = () =>
  Flags.string({
    char: "c",
    description: "Cluster name, as given to `k8s setup`.",
    env: "IAM_RA_CLUSTER",
    required: true,
  });

export class K8sWebhookInstall extends AdminCommand {
  static override summary = "Print the admission webhook's install for a cluster (kubectl apply -f -).";
  static override description =
    `Emits, in apply order: the webhook's namespace, service account and RBAC (read service
accounts, nothing else), the namespace-roles ConfigMap built from what \`k8s onboard\` recorded for the
cluster, a private CA and serving certificate from cert-manager, the Deployment (2 replicas, non-root,
read-only), a PodDisruptionBudget, the Service, a NetworkPolicy and the MutatingWebhookConfiguration
(cert-manager's cainjector fills its CA bundle). Needs cert-manager in the cluster, and its csi-driver
for csi certificates. Nothing secret is printed. Reads iam-ra's state only; changes nothing.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --cluster prod-eu | kubectl apply -f -",
    "<%= config.bin %> <%= command.id %> -c prod-eu --failure-policy Ignore --audit --output ./k8s/webhook",
  ];
  static override flags = {
    cluster: webhookClusterFlag(),
    image: Flags.string({
      description: "Webhook and sidecar image (default ghcr.io/iam-ra/sidecar:<this CLI's version>).",
      env: "IAM_RA_SIDECAR_IMAGE",
    }),
    "webhook-namespace": Flags.string({ description: "The webhook's namespace (default iam-ra-system)." }),
    certificates: Flags.string({
      description: "For workloads onboarded before this was recorded: csi (default) or secret.",
      options: ["csi", "secret"],
    }),
    "failure-policy": Flags.string({
      description:
        "Fail (default): while no replica answers, pods of opted-in namespaces are not created; Ignore: they start without credentials.",
      options: ["Fail", "Ignore"],
    }),
    "timeout-seconds": Flags.integer({
      description: "How long the API server waits for the webhook, 1–30 (default 5).",
      min: 1,
      max: 30,
    }),
    replicas: Flags.integer({ description: "Webhook replicas (default 2).", min: 1, max: 10 }),
    audit: Flags.boolean({
      description:
        "Dry-run mode: admit every pod unchanged, report what would change (warnings, audit annotations).",
    }),
    output: Flags.string({ char: "o", description: "Write one YAML file per object into this directory." }),
  };

  async run(): Promise<K8sWebhookInstallResult> {
    const { flags } = await this.parse(K8sWebhookInstall);
    // The input is checked first; the Kubernetes models load only for input that passes.
    const deps = await this.adminDeps(flags);
    const { renderK8sYaml, SIDECAR_IMAGE_REPOSITORY, toK8sObject } = await loadK8s();
    const result = await buildWebhookManifests(deps, {
      cluster: flags.cluster,
      image: flags.image ?? `${SIDECAR_IMAGE_REPOSITORY}:${this.config.version}`,
      webhookNamespace: flags["webhook-namespace"],
      certificates: flags.certificates as "csi" | "secret" | undefined,
      failurePolicy: flags["failure-policy"] as "Fail" | "Ignore" | undefined,
      timeoutSeconds: flags["timeout-seconds"],
      replicas: flags.replicas,
      dryRun: flags.audit,
    });
    return printWebhookManifests(this, result, flags.output, renderK8sYaml, toK8sObject);
  }
}

/** Prints the manifests (stdout YAML, summary on stderr) or writes them; shared with `k8s webhook config`. */
export async function printWebhookManifests(
  command: AdminCommand,
  result: WebhookManifestsResult,
  output: string | undefined,
  renderK8sYaml: (objects: ReadonlyArray<{ toJSON(): unknown }>) => string,
  toK8sObject: (object: { toJSON(): unknown }) => K8sObject,
): Promise<K8sWebhookInstallResult> {
  const manifests = result.manifests.map((m) => ({ ...m, sensitive: false }));
  const files = output ? await writeManifestFiles(output, manifests) : null;
  if (!command.jsonEnabled()) {
    const say = files ? (s: string) => command.log(s) : (s: string) => command.logToStderr(s);
    if (!files) process.stdout.write(renderK8sYaml(result.manifests.map((m) => m.object)));
    say(`Webhook for cluster ${result.cluster} in namespace ${result.webhookNamespace}:`);
    if (result.namespaces.length === 0)
      say("  no namespace may use a role yet: onboard one (`iam-ra k8s onboard … --webhook`).");
    for (const n of result.namespaces) say(`  ${n.namespace.padEnd(24)} ${n.roles.join(", ")}`);
    for (const f of files ?? []) say(`  file     ${f}`);
    if (files) say(`Apply: kubectl apply -f ${output}`);
  }
  const { manifests: _m, ...rest } = result;
  return { ...rest, manifests: files ? null : result.manifests.map((m) => toK8sObject(m.object)), files };
}
