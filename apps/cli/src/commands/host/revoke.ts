import { revokeHost } from "@iam-ra/core/admin";
import { Args, Flags } from "@oclif/core";
import { AdminCommand } from "../../admin-command.ts";

export class HostRevoke extends AdminCommand {
  static override summary =
    "Revoke a host's certificate so Roles Anywhere refuses it (CRL, or AWS Private CA).";
  static override examples = ["<%= config.bin %> <%= command.id %> web-1.example.com --yes --json"];
  static override args = { hostname: Args.string({ required: true, description: "Host name." }) };
  static override flags = {
    serial: Flags.string({
      description: "Revoke this serial (decimal) instead of the active certificate.",
      multiple: true,
    }),
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<{
    hostname: string;
    revoked: string[];
    crlStackName: string | null;
    refusedByRolesAnywhere: boolean;
  }> {
    const { args, flags } = await this.parse(HostRevoke);
    const deps = await this.adminDeps(flags);
    await this.confirm(`Revoke the certificate(s) of ${args.hostname}?`, flags.yes);
    const result = await revokeHost(deps, args.hostname, { serials: flags.serial });
    if (!this.jsonEnabled()) {
      this.log(
        `Revoked ${result.revoked.join(", ") || "nothing (no active certificate)"} for ${result.hostname}.`,
      );
      if (!result.refusedByRolesAnywhere)
        this.warn(
          "Revoked in AWS Private CA. Roles Anywhere refuses it only once the Private CA's CRL is imported (aws rolesanywhere import-crl), or when it expires.",
        );
    }
    return result;
  }
}
