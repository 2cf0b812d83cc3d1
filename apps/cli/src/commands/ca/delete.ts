import { deleteCa } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Flags } from "../../runtime/flags.ts";

export class CaDelete extends AdminCommand {
  static override summary = "Delete a CA scope (refused while roles use it).";
  static override examples = ["<%= config.bin %> <%= command.id %> --scope team-a --yes --json"];
  static override flags = {
    scope: Flags.string({ char: "s", description: "Scope name.", required: true }),
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<{ scope: string; deleted: string[] }> {
    const { flags } = await this.parse(CaDelete);
    const deps = await this.adminDeps(flags);
    await this.confirm(
      `Delete CA scope ${flags.scope} of namespace ${flags.namespace} (its trust anchor and CA key)?`,
      flags.yes,
    );
    const result = await deleteCa(deps, flags.scope);
    if (!this.jsonEnabled()) this.log(`Deleted CA scope ${result.scope}.`);
    return result;
  }
}
