import { revokeHost } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { formatSerial, parseSerialFlag } from "../../services/serial.ts";
import { waitFlag } from "../../services/wait-flag.ts";

export class HostRevoke extends AdminCommand {
  static override summary =
    "Revoke a host's certificate so Roles Anywhere refuses it (CRL, or AWS Private CA).";
  static override examples = ["<%= config.bin %> <%= command.id %> web-1.example.com --yes --json"];
  static override args = { hostname: Args.string({ required: true, description: "Host name." }) };
  static override flags = {
    serial: Flags.string({
      description:
        "Revoke this serial instead of the active certificate: hex as `host list` prints it, or the decimal of --json.",
      multiple: true,
    }),
    wait: waitFlag(),
    yes: Flags.boolean({ char: "y", description: "Do not ask for confirmation." }),
  };

  async run(): Promise<Awaited<ReturnType<typeof revokeHost>>> {
    const { args, flags } = await this.parse(HostRevoke);
    const deps = await this.adminDeps(flags);
    await this.confirm(`Revoke the certificate(s) of ${args.hostname}?`, flags.yes);
    const serials = flags.serial?.map(parseSerialFlag);
    const result = await revokeHost(deps, args.hostname, { serials, waitMs: flags.wait });
    if (!this.jsonEnabled()) {
      this.log(
        `Revoked ${result.revoked.map(formatSerial).join(", ") || "nothing (no active certificate)"} for ${result.hostname}.`,
      );
      if (result.crlError)
        this.warn(
          `Revoked in AWS Private CA, but importing its CRL failed: ${result.crlError}. Fix that, then run \`iam-ra ca sync-crl --scope ${result.scope}\`.`,
        );
      else if (result.pcaCrl === "pending")
        this.warn(
          `Revoked in AWS Private CA, which has not published a CRL listing it yet (it does within about 30 minutes). Roles Anywhere refuses it once that CRL is imported: run \`iam-ra ca sync-crl --scope ${result.scope} --wait 45m\`.`,
        );
      else if (result.pcaCrl === "no-crl")
        this.warn(
          `Revoked in AWS Private CA, but the CA publishes no CRL, so Roles Anywhere accepts the certificate until it expires: enable a CRL in the CA's revocation configuration, then run \`iam-ra ca sync-crl --scope ${result.scope}\`.`,
        );
    }
    return result;
  }
}
