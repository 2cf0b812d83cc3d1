import { type K8sClusterResult, setUpCluster } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args } from "../../runtime/flags.ts";

export class K8sSetup extends AdminCommand {
  static override summary = "Register a Kubernetes cluster for workload onboarding.";
  static override description =
    `Workloads get certificates from cert-manager through a namespaced CA Issuer that iam-ra creates
per (cluster, Kubernetes namespace, CA scope) when the first workload is onboarded there: an
intermediate CA signed by the scope CA, whose key never leaves the admin side. Role trust policies
admit only the issuers of the namespaces where the role is onboarded. The cluster needs cert-manager
(v1.14 or later) installed. Re-running changes nothing.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> prod-eu",
    "<%= config.bin %> <%= command.id %> prod-eu -n staging --json",
  ];
  static override args = {
    cluster: Args.string({
      required: true,
      description: "Cluster name (lower-case letters, digits, hyphens).",
    }),
  };

  async run(): Promise<K8sClusterResult> {
    const { args, flags } = await this.parse(K8sSetup);
    const result = await setUpCluster(await this.adminDeps(flags), args.cluster);
    if (!this.jsonEnabled()) {
      this.log(`Cluster ${result.cluster}: ${result.outcome}.`);
      this.log(
        `Next: iam-ra k8s onboard <workload> --role <role> --cluster ${result.cluster} --k8s-namespace <namespace> --app-image <image> | kubectl apply -f -`,
      );
      this.log("The cluster needs cert-manager: https://cert-manager.io/docs/installation/");
    }
    return result;
  }
}
