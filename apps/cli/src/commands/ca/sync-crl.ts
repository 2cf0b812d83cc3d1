import { type CrlSyncResult, syncScopeCrl } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Flags } from "../../runtime/flags.ts";
import { formatSerial } from "../../services/serial.ts";
import { waitFlag } from "../../services/wait-flag.ts";

export class CaSyncCrl extends AdminCommand {
  static override summary = "Import an AWS Private CA scope's published CRL into Roles Anywhere.";
  static override description =
    "Roles Anywhere never fetches CRLs, so a certificate revoked in AWS Private CA stays usable until its CRL is imported. This reads the CRL the CA publishes to S3 (about 30 minutes after a revocation), checks its signature, and imports it through the scope's CRL stack. For a self-signed scope it publishes the scope's CRL again (a fresh nextUpdate).";
  static override examples = [
    "<%= config.bin %> <%= command.id %> --scope pca",
    "<%= config.bin %> <%= command.id %> --scope pca --wait 45m --json",
  ];
  static override flags = {
    scope: Flags.string({ char: "s", description: "Scope name.", required: true }),
    wait: waitFlag(),
  };

  async run(): Promise<CrlSyncResult> {
    const { flags } = await this.parse(CaSyncCrl);
    const deps = await this.adminDeps(flags);
    const result = await syncScopeCrl(deps, flags.scope, { waitMs: flags.wait });
    if (!this.jsonEnabled()) {
      if (result.state === "no-crl") {
        this.warn(
          `The Private CA of scope ${flags.scope} publishes no CRL: enable one in its revocation configuration (aws acm-pca update-certificate-authority --revocation-configuration …), then run this again.`,
        );
      } else if (result.state === "pending") {
        this.warn(
          `The CA's CRL does not list ${result.missingSerials.map(formatSerial).join(", ")} yet (it publishes within about 30 minutes of a revocation): run this again, or with --wait 45m.`,
        );
      } else {
        this.log(
          `Roles Anywhere has the CRL of scope ${flags.scope}: ${result.revokedSerials.length} revoked certificate(s).`,
        );
      }
    }
    return result;
  }
}
