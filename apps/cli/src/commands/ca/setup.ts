import { type CaSetupResult, setUpCa, validateAdminInput } from "@iam-ra/core/admin";
import type { CaMode } from "@iam-ra/core/state";
import { AdminCommand } from "../../admin-command.ts";
import { Flags } from "../../runtime/flags.ts";

export const caFlags = {
  "pca-arn": Flags.string({ description: "ARN of an existing AWS Private CA (pca-existing)." }),
  "key-algorithm": Flags.string({
    description: "CA key algorithm.",
    options: ["EC_P256", "EC_P384", "EC_P521", "RSA_2048", "RSA_3072", "RSA_4096"],
    default: "EC_P256",
  }),
  "ca-validity-years": Flags.integer({
    description: "CA validity in years (1–30).",
    default: 10,
    min: 1,
    max: 30,
  }),
};

export const caModeOf = (mode: string): CaMode => mode as CaMode;

export class CaSetup extends AdminCommand {
  static override summary =
    "Create a CA scope (its own trust anchor): self-signed, new AWS Private CA, or an existing one.";
  static override description =
    `A self-signed CA's key is generated here and stored envelope-encrypted with the
namespace's KMS key in its bucket, so any admin allowed to use that key can issue — it is never written
unencrypted and never passes through CloudFormation.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --scope team-a",
    "<%= config.bin %> <%= command.id %> --scope pca --ca-mode pca-existing --pca-arn arn:aws:acm-pca:… --json",
  ];
  static override flags = {
    ...caFlags,
    scope: Flags.string({ char: "s", description: "Scope name.", required: true }),
    "ca-mode": Flags.string({
      options: ["self-signed", "pca-new", "pca-existing"],
      default: "self-signed",
      description: "How the scope issues certificates.",
    }),
  };

  async run(): Promise<CaSetupResult> {
    const { flags } = await this.parse(CaSetup);
    validateAdminInput({
      namespace: flags.namespace,
      scope: flags.scope,
      pcaArn: flags["pca-arn"],
      caValidityYears: flags["ca-validity-years"],
    });
    const result = await setUpCa(await this.adminDeps(flags), flags.scope, {
      mode: caModeOf(flags["ca-mode"]),
      pcaArn: flags["pca-arn"],
      keyAlgorithm: flags["key-algorithm"] as never,
      validityYears: flags["ca-validity-years"],
    });
    if (!this.jsonEnabled()) {
      this.log(
        `CA scope ${result.scope} (${result.mode}): ${result.outcome}\n  trust anchor ${result.trustAnchorArn}`,
      );
      if (result.pcaPublishesCrl === false)
        this.warn(
          "This Private CA publishes no CRL, so `host revoke` cannot make Roles Anywhere refuse a certificate before it expires: enable a CRL in the CA's revocation configuration (S3 bucket), then `iam-ra ca sync-crl` imports it.",
        );
    }
    return result;
  }
}
