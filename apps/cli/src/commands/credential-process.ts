import { BaseCommand, flagsFromSpecs } from "../base-command.ts";
import { CACHE_FLAGS, CREDENTIAL_FLAGS } from "../services/credential-options.ts";

export class CredentialProcess extends BaseCommand {
  static override summary =
    "Print AWS credentials for credential_process, from an X.509 certificate via IAM Roles Anywhere.";
  static override description =
    `Signs a Roles Anywhere CreateSession request with the certificate's private key (natively, no helper binary) and prints the credential_process JSON on stdout, with no trailing newline.

Use it in ~/.aws/config:
  credential_process = iam-ra credential-process --certificate /etc/iam-ra/cert.pem --private-key /etc/iam-ra/key.pem --trust-anchor-arn ... --profile-arn ... --role-arn ... --cache

With --cache, credentials are kept in a 0600 file and reused until 15 minutes before they expire, so a busy aws CLI does not call CreateSession every time.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate cert.pem --private-key key.pem --trust-anchor-arn arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/TA --profile-arn arn:aws:rolesanywhere:us-east-1:123456789012:profile/P --role-arn arn:aws:iam::123456789012:role/R",
    "IAM_RA_PRIVATE_KEY_PASSPHRASE_FILE=/run/secrets/pw <%= config.bin %> <%= command.id %> --certificate bundle.p12 --cache ...",
  ];
  static override flags = flagsFromSpecs([...CREDENTIAL_FLAGS, ...CACHE_FLAGS]);
  // The credential_process contract is its own JSON; --json would only wrap it.
  static override enableJsonFlag = false;

  // One implementation: bin/run.js sends credential-process straight to the fast path; anything
  // that still reaches oclif (bin/dev.js, runCommand in tests) is handed to the same function.
  async run(): Promise<void> {
    const { main } = await import("../fast/credential-process.ts");
    await main(this.argv);
  }
}
