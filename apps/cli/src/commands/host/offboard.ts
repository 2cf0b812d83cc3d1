import { offboardHost } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { waitFlag } from "../../services/wait-flag.ts";

export class HostOffboard extends AdminCommand {
  static override summary = "Remove a host: revoke its certificate (default), delete its secret and record.";
  static override examples = ["<%= config.bin %> <%= command.id %> web-1.example.com --yes --json"];
  static override args = { hostname: Args.string({ required: true, description: "Host name." }) };
  static override flags = {
    "no-revoke": Flags.boolean({ description: "Keep the certificate valid until it expires." }),
    wait: waitFlag(),
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<Awaited<ReturnType<typeof offboardHost>>> {
    const { args, flags } = await this.parse(HostOffboard);
    const deps = await this.adminDeps(flags);
    await this.confirm(
      `Offboard ${args.hostname}${flags["no-revoke"] ? "" : " and revoke its certificate"}?`,
      flags.yes,
    );
    const result = await offboardHost(deps, args.hostname, {
      revoke: !flags["no-revoke"],
      waitMs: flags.wait,
    });
    if (!this.jsonEnabled()) {
      this.log(`Offboarded ${result.hostname}; revoked ${result.revoked.join(", ") || "nothing"}.`);
      if (result.revoked.length > 0 && !result.refusedByRolesAnywhere)
        this.warn(
          `Roles Anywhere still accepts the revoked certificate until the Private CA's CRL is imported: run \`iam-ra ca sync-crl --scope ${result.scope} --wait 45m\`.`,
        );
    }
    return result;
  }
}
