import { deleteRole } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";

export class RoleDelete extends AdminCommand {
  static override summary =
    "Delete a role and its profile (refused while hosts or workloads use it; --force offboards its hosts).";
  static override examples = ["<%= config.bin %> <%= command.id %> web-reader --yes --json"];
  static override args = { name: Args.string({ required: true, description: "Role name." }) };
  static override flags = {
    force: Flags.boolean({
      description: "Also offboard the hosts that use it (their certificates are revoked).",
    }),
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<{ name: string; stackName: string }> {
    const { args, flags } = await this.parse(RoleDelete);
    const deps = await this.adminDeps(flags);
    await this.confirm(`Delete role ${args.name} of namespace ${flags.namespace}?`, flags.yes);
    const result = await deleteRole(deps, args.name, flags.force);
    if (!this.jsonEnabled()) this.log(`Deleted role ${result.name}.`);
    return result;
  }
}
