import { type TeardownClusterResult, teardownCluster } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { loadK8s } from "../../services/k8s-output.ts";

export class K8sTeardown extends AdminCommand {
  static override summary = "Unregister a cluster; refuses while workloads remain in it.";
  static override examples = [
    "<%= config.bin %> <%= command.id %> prod-eu --yes",
    "<%= config.bin %> <%= command.id %> prod-eu --yes --json",
  ];
  static override args = { cluster: Args.string({ required: true, description: "Cluster name." }) };
  static override flags = {
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<TeardownClusterResult> {
    const { args, flags } = await this.parse(K8sTeardown);
    const deps = await this.adminDeps(flags);
    await this.confirm(`Tear down cluster ${args.cluster}?`, flags.yes);
    const result = await teardownCluster(deps, args.cluster);
    if (!this.jsonEnabled()) {
      const { renderK8sYaml } = await loadK8s();
      if (result.objects.length > 0) process.stdout.write(renderK8sYaml(result.objects));
      this.logToStderr(
        `Cluster ${result.cluster} removed; issuers retired: ${result.issuersRetired.map((i) => i.commonName).join(", ") || "none"}.`,
      );
    }
    return result;
  }
}
