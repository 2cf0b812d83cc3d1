import { type OffboardWorkloadResult, offboardWorkload } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { loadK8s } from "../../services/k8s-output.ts";
import { k8sLocationFlags } from "./flags.ts";

export class K8sOffboard extends AdminCommand {
  static override summary = "Offboard a Kubernetes workload; print the objects to delete.";
  static override description =
    `Removes the workload's record and its namespace issuer from the role's trust policy when no
other workload of the role is in that namespace; an issuer no workload uses any more is revoked
(CRL) and deleted. Prints the objects to remove for \`kubectl delete -f -\` (the Certificate, its
Secret and the ConfigMap, and a retired issuer's Secret and Issuer); the Deployment is left to you.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> billing-api --cluster prod-eu --k8s-namespace billing --yes | kubectl delete -f -",
    "<%= config.bin %> <%= command.id %> billing-api -c prod-eu -k billing --yes --json",
  ];
  static override args = { workload: Args.string({ required: true, description: "Workload name." }) };
  static override flags = {
    ...k8sLocationFlags,
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<OffboardWorkloadResult> {
    const { args, flags } = await this.parse(K8sOffboard);
    const deps = await this.adminDeps(flags);
    await this.confirm(
      `Offboard ${flags["k8s-namespace"]}/${args.workload} from cluster ${flags.cluster}? Its certificates stop getting credentials.`,
      flags.yes,
    );
    const result = await offboardWorkload(deps, args.workload, {
      cluster: flags.cluster,
      namespace: flags["k8s-namespace"],
    });
    if (!this.jsonEnabled()) {
      const { renderK8sYaml } = await loadK8s();
      process.stdout.write(renderK8sYaml(result.objects));
      this.logToStderr(
        `Offboarded ${result.namespace}/${result.workload} (role ${result.role}); roles updated: ${result.rolesUpdated.map((r) => r.name).join(", ") || "none"}; issuers retired: ${result.issuersRetired.map((i) => i.commonName).join(", ") || "none"}.`,
      );
      if (result.webhook)
        this.logToStderr(
          `Next: \`iam-ra k8s webhook config --cluster ${result.cluster} | kubectl apply -f -\`, so the webhook's namespace roles match what remains (until then it may still inject role ${result.role} into ${result.namespace}'s pods, which would get no credentials).`,
        );
    }
    return result;
  }
}
