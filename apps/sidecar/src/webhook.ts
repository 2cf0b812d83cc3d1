#!/usr/bin/env node
/**
 * The admission webhook process (`node /app/webhook.js` in the sidecar image): options from flags
 * and IAM_RA_WEBHOOK_* variables, JSON logs on stderr, graceful shutdown on SIGTERM/SIGINT. Exit 1
 * with a one-line reason on bad configuration.
 * @module
 */
import { parseArgs } from "node:util";
import { asIamRaError, formatError, IamRaError } from "@iam-ra/core";
import { createLogger, type LogLevel } from "@iam-ra/core/server";
import { createServiceAccountReader, IN_CLUSTER, startWebhookServer } from "@iam-ra/core/server/webhook";

const OPTIONS = [
  ["host", "IAM_RA_WEBHOOK_HOST", "Address to listen on (default 0.0.0.0)."],
  ["port", "IAM_RA_WEBHOOK_PORT", "HTTPS port (default 8443)."],
  ["tls-cert", "IAM_RA_WEBHOOK_TLS_CERT", "Serving certificate chain (PEM); re-read when it changes."],
  ["tls-key", "IAM_RA_WEBHOOK_TLS_KEY", "Serving key (PEM); re-read when it changes."],
  ["config", "IAM_RA_WEBHOOK_CONFIG", "The namespace-roles document (the mounted ConfigMap's config.json)."],
  ["sidecar-image", "IAM_RA_WEBHOOK_SIDECAR_IMAGE", "The sidecar image to inject (required)."],
  ["dry-run", "IAM_RA_WEBHOOK_DRY_RUN", "true: allow every pod unchanged, report what would change."],
  ["namespace", "IAM_RA_WEBHOOK_NAMESPACE", "The webhook's own namespace (never changed)."],
  [
    "service-accounts",
    "IAM_RA_WEBHOOK_SERVICE_ACCOUNTS",
    "api (default in a pod): read role annotations of service accounts; off.",
  ],
  [
    "kube-api-url",
    "IAM_RA_WEBHOOK_KUBE_API_URL",
    "API server URL (default from KUBERNETES_SERVICE_HOST/PORT).",
  ],
  ["kube-ca-file", "IAM_RA_WEBHOOK_KUBE_CA_FILE", `API server CA (default ${IN_CLUSTER.caFile}).`],
  [
    "kube-token-file",
    "IAM_RA_WEBHOOK_KUBE_TOKEN_FILE",
    `Bearer token file (default ${IN_CLUSTER.tokenFile}).`,
  ],
  ["max-body-bytes", "IAM_RA_WEBHOOK_MAX_BODY_BYTES", "Largest AdmissionReview accepted (default 3145728)."],
  ["log-level", "IAM_RA_LOG_LEVEL", "debug, info (default), warn or error."],
] as const;

type Name = (typeof OPTIONS)[number][0];

const HELP = `iam-ra-webhook: a mutating admission webhook that injects the iam-ra sidecar into pods
annotated iam-ra.dev/role (on the pod or its service account).

Options (each also from its environment variable):
${OPTIONS.map(([name, env, text]) => `  --${name.padEnd(18)} ${env.padEnd(34)} ${text}`).join("\n")}
`;

class UsageError extends Error {}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`--${name} ${text} is not ${min}–${max}.`);
  return n;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(OPTIONS.map(([name]) => [name, { type: "string" as const }])),
    strict: true,
    allowPositionals: false,
  });
  const env = process.env;
  const opt = (name: Name): string | undefined => {
    const entry = OPTIONS.find(([n]) => n === name)!;
    const value = (values as Record<string, string | undefined>)[name] ?? env[entry[1]];
    return value === "" ? undefined : value;
  };
  const need = (name: Name) => {
    const value = opt(name);
    if (!value) {
      const entry = OPTIONS.find(([n]) => n === name)!;
      throw new UsageError(`--${name} (or ${entry[1]}) is required.`);
    }
    return value;
  };
  const level = (opt("log-level") ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level))
    throw new UsageError(`--log-level ${level} is unknown.`);
  const dryRun = opt("dry-run") ?? "false";
  if (!["true", "false"].includes(dryRun)) throw new UsageError(`--dry-run ${dryRun} is not true or false.`);
  const inCluster = env.KUBERNETES_SERVICE_HOST
    ? `https://${env.KUBERNETES_SERVICE_HOST.includes(":") ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? "443"}`
    : undefined;
  const apiUrl = opt("kube-api-url") ?? inCluster;
  const serviceAccounts = opt("service-accounts") ?? (apiUrl ? "api" : "off");
  if (!["api", "off"].includes(serviceAccounts))
    throw new UsageError(`--service-accounts ${serviceAccounts} is not api or off.`);
  if (serviceAccounts === "api" && !apiUrl)
    throw new UsageError(
      "--service-accounts api needs the API server: run in a pod, or pass --kube-api-url.",
    );
  const logger = createLogger((line) => process.stderr.write(line), level);
  const server = await startWebhookServer({
    host: opt("host") ?? "0.0.0.0",
    port: integer("port", opt("port") ?? "8443", 1, 65535),
    tls: { certFile: need("tls-cert"), keyFile: need("tls-key") },
    configFile: need("config"),
    sidecarImage: need("sidecar-image"),
    dryRun: dryRun === "true",
    webhookNamespace: opt("namespace"),
    maxBodyBytes: integer("max-body-bytes", opt("max-body-bytes") ?? "3145728", 1024, 64 * 1024 * 1024),
    readServiceAccount:
      serviceAccounts === "api" && apiUrl
        ? createServiceAccountReader({
            apiUrl,
            caFile: opt("kube-ca-file") ?? IN_CLUSTER.caFile,
            tokenFile: opt("kube-token-file") ?? IN_CLUSTER.tokenFile,
          })
        : undefined,
    logger,
  });
  const stop = (signal: string) => {
    logger("info", "shutting down", { signal });
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    const usage = new IamRaError("invalid-input", (error as Error).message, {
      hint: "run with --help for the options.",
    });
    process.stderr.write(formatError(usage, "iam-ra-webhook"));
  } else {
    // An IamRaError as it is; anything else worded as a bug, as every iam-ra program words it.
    process.stderr.write(formatError(asIamRaError(error, "iam-ra-webhook"), "iam-ra-webhook"));
  }
  process.exit(1);
});
