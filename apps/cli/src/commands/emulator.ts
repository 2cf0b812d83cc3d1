import { IamRaError } from "@iam-ra/core";
import { BaseCommand } from "../base-command.ts";
import { Flags } from "../runtime/flags.ts";

export class EmulatorCommand extends BaseCommand {
  static override summary =
    "Run the local IAM Roles Anywhere emulator (control plane, CreateSession, STS) until interrupted.";
  static override examples = [
    "<%= config.bin %> <%= command.id %> --port 4566",
    "<%= config.bin %> <%= command.id %> --persist ./emulator-state.json",
  ];
  static override flags = {
    host: Flags.string({
      description: "Address to bind.",
      default: "127.0.0.1",
      env: "IAM_RA_EMULATOR_HOST",
    }),
    port: Flags.integer({
      description: "Port (0 picks a free one).",
      default: 0,
      min: 0,
      max: 65535,
      env: "IAM_RA_EMULATOR_PORT",
    }),
    region: Flags.string({
      description: "Region of the emulated service.",
      default: "us-east-1",
      env: "IAM_RA_EMULATOR_REGION",
    }),
    "account-id": Flags.string({
      description: "Account id of created resources.",
      default: "123456789012",
      env: "IAM_RA_EMULATOR_ACCOUNT_ID",
    }),
    persist: Flags.string({
      description: "JSON file to keep state in across restarts (written 0600).",
      env: "IAM_RA_EMULATOR_PERSIST",
    }),
    "iam-endpoint": Flags.string({
      description: "IAM endpoint (e.g. moto) to read role trust policies from.",
      env: "IAM_RA_EMULATOR_IAM_ENDPOINT",
    }),
    "trust-policy-ttl-ms": Flags.integer({
      description:
        "How long a trust policy read from --iam-endpoint is reused, in milliseconds (0 reads IAM on every CreateSession).",
      default: 2000,
      min: 0,
      env: "IAM_RA_EMULATOR_TRUST_POLICY_TTL_MS",
    }),
    tls: Flags.boolean({
      description:
        "Serve https with a certificate made now; its CA goes to --tls-ca-out for clients to trust (AWS's Python library, the Go helper and the Java plugin only speak https).",
    }),
    "tls-ca-out": Flags.string({
      description: "Where --tls writes the CA certificate clients trust (default ./iam-ra-emulator-ca.pem).",
    }),
    "tls-cert": Flags.string({
      description: "Serve https with this certificate chain (PEM file); needs --tls-key.",
    }),
    "tls-key": Flags.string({ description: "The key of --tls-cert (PEM file)." }),
    "acm-pca-endpoint": Flags.string({
      description: "ACM PCA endpoint (e.g. moto) for AWS_ACM_PCA trust anchors.",
      env: "IAM_RA_EMULATOR_ACM_PCA_ENDPOINT",
    }),
  };

  async run(): Promise<{ url: string; caFile: string | null }> {
    const { flags } = await this.parse(EmulatorCommand);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(flags.region)) {
      throw new IamRaError("invalid-input", `--region ${flags.region} is not an AWS region name.`, {
        hint: "Pass a region such as us-east-1.",
      });
    }
    if (!/^\d{12}$/.test(flags["account-id"])) {
      throw new IamRaError(
        "invalid-input",
        `--account-id ${flags["account-id"]} is not a 12-digit AWS account id.`,
        {
          hint: "Pass twelve digits, e.g. 123456789012.",
        },
      );
    }
    for (const flag of ["iam-endpoint", "acm-pca-endpoint"] as const) {
      const value = flags[flag];
      if (value !== undefined && !/^https?:\/\/[^/\s]+/.test(value)) {
        throw new IamRaError("endpoint-invalid", `--${flag} ${value} is not an http(s) URL.`, {
          hint: "Pass a URL such as http://127.0.0.1:5000 (moto).",
        });
      }
    }
    const { emulatorTlsFromFlags, startEmulator } = await import("@iam-ra/emulator");
    const tls = await emulatorTlsFromFlags({
      tls: flags.tls,
      tlsCert: flags["tls-cert"],
      tlsKey: flags["tls-key"],
      tlsCaOut: flags["tls-ca-out"],
    }).catch((error: Error) => {
      throw new IamRaError("invalid-input", error.message, {
        hint: "Pass --tls (a certificate made now) or both --tls-cert and --tls-key.",
      });
    });
    const emu = await startEmulator({
      ...(tls ? { tls: tls.tls } : {}),
      host: flags.host,
      port: flags.port,
      region: flags.region,
      accountId: flags["account-id"],
      persistPath: flags.persist,
      iamEndpoint: flags["iam-endpoint"],
      trustPolicyTtlMs: flags["trust-policy-ttl-ms"],
      acmPcaEndpoint: flags["acm-pca-endpoint"],
      logger: (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`),
    });
    if (this.jsonEnabled())
      process.stdout.write(`${JSON.stringify({ url: emu.url, caFile: tls?.caFile ?? null })}\n`);
    else
      this.log(
        `iam-ra emulator listening on ${emu.url} (region ${emu.region}, account ${emu.accountId})${tls?.caFile ? `; clients trust ${tls.caFile}` : ""}; Ctrl-C to stop`,
      );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await emu.close();
    return { url: emu.url, caFile: tls?.caFile ?? null };
  }
}
