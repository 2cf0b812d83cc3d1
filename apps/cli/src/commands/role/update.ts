import type { RoleResult } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args } from "../../runtime/flags.ts";
import { roleFlags, runRoleCommand } from "./create.ts";

export class RoleUpdate extends AdminCommand {
  static override summary = "Change a role: policies, session duration, binding (what is not given is kept).";
  static override examples = [
    "<%= config.bin %> <%= command.id %> web-reader --session-duration 7200",
    "<%= config.bin %> <%= command.id %> web-reader --policy arn:aws:iam::aws:policy/ReadOnlyAccess --dry-run --json",
  ];
  static override args = { name: Args.string({ required: true, description: "Role name." }) };
  static override flags = roleFlags;

  async run(): Promise<RoleResult> {
    const { args, flags } = await this.parse(RoleUpdate);
    return await runRoleCommand(this, args.name, flags, "update", (l) => this.log(l));
  }
}
