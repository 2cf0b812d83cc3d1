import { readNamespaceState } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { formatTable } from "../../services/table.ts";

export interface RoleListResult {
  namespace: string;
  items: Array<{
    name: string;
    scope: string;
    roleArn: string;
    profileArn: string;
    policies: string[];
    sessionDurationSeconds: number;
    binding: { tag: string; value: string } | null;
    /** Issuer CNs the trust policy admits (scope CA, Kubernetes namespace issuers); null: not bound. */
    allowedIssuers: string[] | null;
    hosts: number;
    workloads: number;
  }>;
}

export class RoleList extends AdminCommand {
  static override summary = "List roles.";
  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --json",
  ];

  async run(): Promise<RoleListResult> {
    const { flags } = await this.parse(RoleList);
    const state = await readNamespaceState(await this.adminDeps(flags));
    const items = Object.entries(state.roles).map(([name, r]) => ({
      name,
      scope: r.scope,
      roleArn: r.roleArn,
      profileArn: r.profileArn,
      policies: r.policies,
      sessionDurationSeconds: r.sessionDurationSeconds,
      binding: r.binding,
      allowedIssuers: r.allowedIssuers ?? null,
      hosts: Object.values(state.hosts).filter((h) => h.role === name).length,
      workloads: Object.values(state.k8s.workloads).filter((w) => w.role === name).length,
    }));
    if (!this.jsonEnabled())
      this.log(
        formatTable(
          ["ROLE", "SCOPE", "BINDING", "ROLE ARN"],
          items.map((i) => [
            i.name,
            i.scope,
            i.binding ? `${i.binding.tag}=${i.binding.value}` : "UNBOUND",
            i.roleArn,
          ]),
        ),
      );
    return { namespace: state.namespace, items };
  }
}
