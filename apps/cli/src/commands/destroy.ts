import { type DestroyResult, destroyNamespace } from "@iam-ra/core/admin";
import { AdminCommand } from "../admin-command.ts";
import { Flags } from "../runtime/flags.ts";

export class Destroy extends AdminCommand {
  static override summary =
    "Remove everything the namespace created (hosts' secrets, CRL, role, CA and init stacks, bucket).";
  static override description =
    `The KMS key is scheduled for deletion (7 days) by CloudFormation. With --retain-bucket the
bucket and its object history stay (the state document is removed). Refused while Kubernetes
clusters or workloads are registered (offboard and tear them down first, or --forget-clusters).
Safe to re-run after a failure.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> -n staging --yes",
    "<%= config.bin %> <%= command.id %> --retain-bucket --yes --json",
  ];
  static override flags = {
    "retain-bucket": Flags.boolean({ description: "Keep the bucket and its data." }),
    "forget-clusters": Flags.boolean({
      description:
        "Destroy even while Kubernetes clusters or workloads are registered (their issuers' Secrets stay in the clusters; delete them yourself).",
    }),
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<DestroyResult> {
    const { flags } = await this.parse(Destroy);
    const deps = await this.adminDeps(flags);
    await this.confirm(
      `Destroy namespace ${deps.namespace} in ${deps.region} (account ${await deps.accountId()})? Every host certificate stops working.`,
      flags.yes,
    );
    const result = await destroyNamespace(deps, {
      retainBucket: flags["retain-bucket"],
      forgetClusters: flags["forget-clusters"],
    });
    if (!this.jsonEnabled()) {
      this.log(
        `Destroyed namespace ${result.namespace}: ${result.stacks.length} stacks, ${result.secrets} secrets, bucket ${result.bucket}.`,
      );
      const { clusters, workloads } = result.forgotten;
      if (clusters.length || workloads.length)
        this.log(
          `Forgotten: ${[...clusters.map((c) => `cluster ${c}`), ...workloads.map((w) => `workload ${w}`)].join(", ")}; delete their iam-ra Issuers and Secrets from the clusters.`,
        );
    }
    return result;
  }
}
