import { type K8sListResult, listK8s } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Flags } from "../../runtime/flags.ts";

export class K8sList extends AdminCommand {
  static override summary = "List clusters, namespace issuers and workloads.";
  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --cluster prod-eu --json",
  ];
  static override flags = {
    cluster: Flags.string({
      char: "c",
      description: "Only this cluster.",
      env: "IAM_RA_CLUSTER",
    }),
  };

  async run(): Promise<K8sListResult> {
    const { flags } = await this.parse(K8sList);
    const result = await listK8s(await this.adminDeps(flags), { cluster: flags.cluster });
    if (!this.jsonEnabled()) {
      for (const c of result.clusters)
        this.log(`cluster ${c.name.padEnd(20)} ${c.workloads} workload(s), ${c.issuers} issuer(s)`);
      for (const i of result.issuers)
        this.log(`issuer  ${`${i.cluster}/${i.namespace}`.padEnd(30)} ${i.commonName} (until ${i.notAfter})`);
      for (const w of result.workloads)
        this.log(
          `workload ${`${w.cluster}/${w.namespace}/${w.name}`.padEnd(40)} role ${w.role.padEnd(16)} ${w.issuer ?? "no issuer (re-onboard)"}${w.status === "offboarding" ? "  OFFBOARDING (re-run k8s offboard to finish)" : ""}`,
        );
    }
    return result;
  }
}
