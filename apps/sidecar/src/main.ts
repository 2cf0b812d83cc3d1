#!/usr/bin/env node
/**
 * The sidecar process: options from flags and IAM_RA_* variables, JSON logs on stderr, graceful
 * shutdown on SIGTERM/SIGINT. Exit 1 with a one-line reason (and a hint) on bad configuration.
 * @module
 */
import { parseArgs } from "node:util";
import { asIamRaError, formatError, IamRaError } from "@iam-ra/core";
import {
  createLogger,
  mergeEnv,
  resolveSidecarConfig,
  SIDECAR_OPTIONS,
  startSidecar,
} from "@iam-ra/core/server";

const HELP = `iam-ra-sidecar: AWS credentials from an X.509 certificate (IAM Roles Anywhere), served to
stock SDKs as container credentials (and optionally IMDSv2).

  iam-ra-sidecar healthcheck [/healthz|/readyz]   exit 0 when the running sidecar answers (probes)

Options (each also from its environment variable):
${SIDECAR_OPTIONS.map((s) => `  --${s.name.padEnd(28)} ${s.env.padEnd(36)} ${s.description}`).join("\n")}
`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // Every local user can read a process's arguments: key text there is refused, whatever the flag.
  if (argv.some((a) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(a))) {
    throw new IamRaError(
      "invalid-input",
      "A private key was passed on the command line; every local user can read a process's arguments.",
      {
        hint: "Pass the key's file path instead (--private-key /path or IAM_RA_PRIVATE_KEY=/path).",
      },
    );
  }
  if (argv[0] === "healthcheck") {
    // For Docker's HEALTHCHECK and Kubernetes exec probes (the server is on loopback, out of an httpGet
    // probe's reach) without a shell or curl in the image: exit 0 when /healthz (or /readyz) answers.
    const path = argv[1] === "/readyz" ? "/readyz" : "/healthz";
    const port = process.env.IAM_RA_PORT || "9911";
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    process.exit(res?.ok ? 0 : 1);
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(
      SIDECAR_OPTIONS.map((s) => [
        s.name,
        { type: s.type === "boolean" ? "boolean" : "string", multiple: "multiple" in s && s.multiple },
      ]),
    ) as Record<string, { type: "string" | "boolean"; multiple: boolean }>,
    strict: true,
    allowPositionals: false,
  });
  const config = await resolveSidecarConfig(
    mergeEnv(values as Record<string, string | boolean | string[]>, process.env),
    process.env,
  );
  const logger = createLogger((line) => process.stderr.write(line), config.logLevel);
  for (const warning of config.session.warnings) logger("warn", warning, {});
  const sidecar = await startSidecar(config, { logger });
  const stop = (signal: string) => {
    logger("info", "shutting down", { signal });
    void sidecar.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    const usage = new IamRaError("invalid-input", (error as Error).message, {
      hint: "run with --help for the options.",
    });
    process.stderr.write(formatError(usage, "iam-ra-sidecar"));
  } else {
    // An IamRaError as it is; anything else worded as a bug, as every iam-ra program words it.
    process.stderr.write(formatError(asIamRaError(error, "iam-ra-sidecar"), "iam-ra-sidecar"));
  }
  process.exit(1);
});
