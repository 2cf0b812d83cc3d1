import { buildWebhookManifests } from "@iam-ra/core/admin";
import { AdminCommand } from "../../../admin-command.ts";
import { Flags } from "../../../runtime/flags.ts";
import { loadK8s } from "../../../services/k8s-output.ts";
import { type K8sWebhookInstallResult, printWebhookManifests, webhookClusterFlag } from "./install.ts";

export class K8sWebhookConfig extends AdminCommand {
  static override summary =
    "Print the webhook's namespace-roles ConfigMap (re-apply after onboarding or offboarding).";
  static override description =
    `The ConfigMap says which roles each namespace may ask for with the iam-ra.dev/role
annotation: every role with a workload onboarded in that namespace of the cluster. \`k8s onboard --webhook\`
already prints it; run this after \`k8s offboard\` or after onboarding without --webhook. The webhook
re-reads it within seconds of kubectl applying it.`;
  static override examples = ["<%= config.bin %> <%= command.id %> --cluster prod-eu | kubectl apply -f -"];
  static override flags = {
    cluster: webhookClusterFlag(),
    "webhook-namespace": Flags.string({ description: "The webhook's namespace (default iam-ra-system)." }),
    certificates: Flags.string({
      description: "For workloads onboarded before this was recorded: csi (default) or secret.",
      options: ["csi", "secret"],
    }),
    output: Flags.string({ char: "o", description: "Write the YAML file into this directory." }),
  };

  async run(): Promise<K8sWebhookInstallResult> {
    const { flags } = await this.parse(K8sWebhookConfig);
    // The input is checked first; the Kubernetes models load only for input that passes.
    const deps = await this.adminDeps(flags);
    const { renderK8sYaml, toK8sObject } = await loadK8s();
    const result = await buildWebhookManifests(deps, {
      cluster: flags.cluster,
      image: "unused",
      webhookNamespace: flags["webhook-namespace"],
      certificates: flags.certificates as "csi" | "secret" | undefined,
      configOnly: true,
    });
    return printWebhookManifests(this, result, flags.output, renderK8sYaml, toK8sObject);
  }
}
