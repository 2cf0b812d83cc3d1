/**
 * `npx @iam-ra/emulator`: runs the emulator until SIGINT/SIGTERM.
 * @module
 */
import { parseArgs } from "node:util";
import { startEmulator } from "./server.ts";
import { emulatorTlsFromFlags } from "./tls.ts";

export async function main(argv: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        region: { type: "string" },
        "account-id": { type: "string" },
        persist: { type: "string" },
        "iam-endpoint": { type: "string" },
        "trust-policy-ttl-ms": { type: "string" },
        "acm-pca-endpoint": { type: "string" },
        tls: { type: "boolean" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca-out": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    process.stderr.write(
      `iam-ra-emulator: ${(error as Error).message}\n  hint: run iam-ra-emulator --help\n`,
    );
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(
      "usage: iam-ra-emulator [--host 127.0.0.1] [--port 0] [--region us-east-1] [--account-id 123456789012]\n" +
        "                       [--persist state.json] [--iam-endpoint URL [--trust-policy-ttl-ms 2000]]\n" +
        "                       [--acm-pca-endpoint URL]\n" +
        "                       [--tls [--tls-ca-out ca.pem] | --tls-cert chain.pem --tls-key key.pem]\n",
    );
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`iam-ra-emulator: --port must be 0–65535, not "${String(values.port)}"\n`);
    process.exitCode = 2;
    return;
  }
  const ttl = values["trust-policy-ttl-ms"];
  const trustPolicyTtlMs = ttl === undefined ? undefined : Number(ttl);
  if (trustPolicyTtlMs !== undefined && (!Number.isInteger(trustPolicyTtlMs) || trustPolicyTtlMs < 0)) {
    process.stderr.write(
      `iam-ra-emulator: --trust-policy-ttl-ms must be a whole number ≥ 0, not "${String(ttl)}"\n`,
    );
    process.exitCode = 2;
    return;
  }
  let tls: Awaited<ReturnType<typeof emulatorTlsFromFlags>>;
  try {
    tls = await emulatorTlsFromFlags({
      tls: values.tls as boolean | undefined,
      tlsCert: values["tls-cert"] as string | undefined,
      tlsKey: values["tls-key"] as string | undefined,
      tlsCaOut: values["tls-ca-out"] as string | undefined,
    });
  } catch (error) {
    process.stderr.write(`iam-ra-emulator: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const emu = await startEmulator({
    ...(tls ? { tls: tls.tls } : {}),
    host: values.host as string | undefined,
    port,
    region: values.region as string | undefined,
    accountId: values["account-id"] as string | undefined,
    persistPath: values.persist as string | undefined,
    iamEndpoint: values["iam-endpoint"] as string | undefined,
    trustPolicyTtlMs,
    acmPcaEndpoint: values["acm-pca-endpoint"] as string | undefined,
    logger: (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`),
  });
  process.stdout.write(`${emu.url}\n`);
  if (tls?.caFile) process.stderr.write(`iam-ra-emulator: https; clients trust ${tls.caFile}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await emu.close();
}
