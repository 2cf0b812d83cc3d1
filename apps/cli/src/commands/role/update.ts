import { putRole, type RoleResult, validateAdminInput } from "@iam-ra/core/admin";
import { Args } from "@oclif/core";
import { AdminCommand } from "../../admin-command.ts";
import { printRole, roleFlags } from "./create.ts";

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
    validateAdminInput({
      namespace: flags.namespace,
      role: args.name,
      scope: flags.scope,
      policies: flags.policy,
      sessionDurationSeconds: flags["session-duration"],
      bindingTag: flags["binding-tag"],
    });
    const result = await putRole(await this.adminDeps(flags), args.name, {
      mode: "update",
      scope: flags.scope,
      policies: flags.policy,
      sessionDurationSeconds: flags["session-duration"],
      bindingTag: flags["binding-tag"],
      bindingValue: flags["binding-value"],
      dryRun: flags["dry-run"],
    });
    if (!this.jsonEnabled()) printRole((s) => this.log(s), result);
    return result;
  }
}
