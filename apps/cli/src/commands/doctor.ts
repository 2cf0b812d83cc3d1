import { IamRaError } from "@iam-ra/core";
import type { DoctorResult } from "@iam-ra/core/admin";
import { parseArn, resolveSessionInputs, resolveSessionRegion } from "@iam-ra/core/rolesanywhere";
import { BaseCommand, flagsFromSpecs } from "../base-command.ts";
import { Flags } from "../runtime/flags.ts";
import { CREDENTIAL_FLAGS, type CredentialFlagValues } from "../services/credential-options.ts";

export class Doctor extends BaseCommand {
  static override summary =
    "Diagnose a certificate, key and ARNs: everything that decides whether CreateSession succeeds.";
  static override description =
    `Checks, each with its fix: the key matches the certificate; the certificate is valid
(and not about to expire); the trust anchor exists and is enabled; the chain reaches it; the profile exists,
is enabled and lists the role; the role's trust policy admits this certificate's principal tags; this
machine's clock is within 5 minutes of AWS's; and finally a real CreateSession (--no-session skips it).
Reading the trust anchor, profile and role needs AWS credentials (--profile); without them those checks
are reported as not run. Exit 1 when any check fails.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate cert.pem --private-key key.pem --trust-anchor-arn … --profile-arn … --role-arn …",
    "<%= config.bin %> <%= command.id %> … --profile admin --json",
  ];
  static override flags = {
    ...flagsFromSpecs(CREDENTIAL_FLAGS),
    profile: Flags.string({
      char: "p",
      description: "AWS profile to read Roles Anywhere and IAM with.",
      env: "AWS_PROFILE",
    }),
    "no-session": Flags.boolean({ description: "Do not try a real CreateSession." }),
    expiring: Flags.integer({
      description: "Warn when the certificate expires within N days.",
      default: 30,
      min: 0,
      max: 3650,
    }),
  };

  async run(): Promise<DoctorResult> {
    const { flags } = await this.parse(Doctor);
    const values = flags as CredentialFlagValues;
    const session = await resolveSessionInputs(values, process.env);
    const { trustAnchorArn, profileArn, roleArn } = session.params;
    const anchor = parseArn(trustAnchorArn);
    if (!anchor || !parseArn(profileArn) || !parseArn(roleArn)) {
      throw new IamRaError("arn-invalid", "doctor needs --trust-anchor-arn, --profile-arn and --role-arn.", {
        hint: "Pass the three ARNs (they are in the host's config or `iam-ra host onboard` output).",
      });
    }
    // Each of the right kind (a trust anchor ARN that is an S3 ARN has no region to ask).
    resolveSessionRegion(session.params);
    const { runDoctorWithAws } = await import("../services/doctor-aws.ts");
    const result = await runDoctorWithAws(session, anchor, flags);
    if (!this.jsonEnabled()) {
      for (const c of result.checks) {
        const mark = c.ok === true ? "ok  " : c.ok === false ? "FAIL" : "--  ";
        this.log(`${mark} ${c.id.padEnd(24)} ${c.message}`);
        if (c.ok === false && c.fix) this.log(`     ${"".padEnd(24)} fix: ${c.fix}`);
      }
      this.log(result.ok ? "\nAll checks passed." : "\nSome checks failed.");
    }
    if (!result.ok) process.exitCode = 1;
    return result;
  }
}
