import { type InitResult, initNamespace, validateAdminInput } from "@iam-ra/core/admin";
import { AdminCommand } from "../admin-command.ts";
import { Flags } from "../runtime/flags.ts";
import { caFlags, caModeOf } from "./ca/setup.ts";

export class Init extends AdminCommand {
  static override summary =
    "Create a namespace: state bucket, KMS key, SSM pointers and the default CA scope.";
  static override description = `Safe to re-run: an existing namespace, its state and its CA are kept; only
drift in the init stack is corrected. Shows live CloudFormation events on a terminal.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --region eu-west-1",
    "<%= config.bin %> <%= command.id %> -n prod --ca-mode pca-existing --pca-arn arn:aws:acm-pca:…",
    "<%= config.bin %> <%= command.id %> --dry-run --json",
  ];
  static override flags = {
    ...caFlags,
    "ca-mode": Flags.string({
      description: "How the default scope issues certificates (none: no CA yet).",
      options: ["self-signed", "pca-new", "pca-existing", "none"],
      default: "self-signed",
    }),
    "dry-run": Flags.boolean({ description: "Show what the init stack would change; change nothing." }),
  };

  async run(): Promise<InitResult> {
    const { flags } = await this.parse(Init);
    validateAdminInput({
      namespace: flags.namespace,
      pcaArn: flags["pca-arn"],
      caValidityYears: flags["ca-validity-years"],
    });
    const deps = await this.adminDeps(flags);
    const mode = flags["ca-mode"] === "none" ? null : caModeOf(flags["ca-mode"]);
    const result = await initNamespace(deps, {
      caMode: mode,
      pcaArn: flags["pca-arn"],
      keyAlgorithm: flags["key-algorithm"] as never,
      caValidityYears: flags["ca-validity-years"],
      dryRun: flags["dry-run"],
    });
    if (!this.jsonEnabled()) {
      this.log(`Namespace ${result.namespace} in ${result.region}: ${result.outcome}`);
      if (result.bucket)
        this.log(
          `  bucket       ${result.bucket}\n  KMS key      ${result.kmsKeyArn}\n  state        ${result.stateLocation}`,
        );
      if (result.ca)
        this.log(
          `  CA default   ${result.ca.mode}, trust anchor ${result.ca.trustAnchorArn} (${result.ca.outcome})`,
        );
      if (result.outcome !== "dry-run") this.log(`\nNext: iam-ra role create <name> -n ${result.namespace}`);
    }
    return result;
  }
}
