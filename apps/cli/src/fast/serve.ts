/**
 * `iam-ra serve` without oclif: a long-running server should hold the sidecar's memory, not a
 * command framework's. Handles a command line of known flags only; anything else (an unknown flag,
 * a bad number, a configuration the core refuses) returns false and oclif's `serve` runs instead,
 * so errors read exactly as every other command's.
 * @module
 */
import { parseArgs } from "node:util";
import { asIamRaError, formatError, stripControlCharacters } from "@iam-ra/core";
import {
  createLogger,
  mergeEnv,
  resolveSidecarConfig,
  SIDECAR_OPTIONS,
  startSidecar,
} from "@iam-ra/core/server";
import type { ServeResult } from "../commands/serve.ts";

/** Runs `serve` for `argv` (after the command name); false when oclif's command must handle it. */
export async function main(argv: string[]): Promise<boolean> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(
          SIDECAR_OPTIONS.map((s) => [
            s.name,
            { type: s.type === "boolean" ? "boolean" : "string", multiple: "multiple" in s && s.multiple },
          ]),
        ),
        json: { type: "boolean" },
      } as Record<string, { type: "string" | "boolean"; multiple?: boolean }>,
      strict: true,
      allowPositionals: false,
    }) as { values: typeof values });
  } catch {
    return false;
  }
  const json = values.json === true || process.env.IAM_RA_CONTENT_TYPE?.toLowerCase() === "json";
  delete values.json;
  if (SIDECAR_OPTIONS.some((s) => s.type === "integer" && !/^\d*$/.test(String(values[s.name] ?? ""))))
    return false;
  let config: Awaited<ReturnType<typeof resolveSidecarConfig>>;
  try {
    config = await resolveSidecarConfig(mergeEnv(values, process.env), process.env);
  } catch {
    return false;
  }
  const logger = createLogger((line) => process.stderr.write(line), config.logLevel);
  for (const warning of config.session.warnings) logger("warn", warning, {});
  let sidecar: Awaited<ReturnType<typeof startSidecar>>;
  try {
    sidecar = await startSidecar(config, { logger });
  } catch (error) {
    // As BaseCommand reports a failure (core's printer for anything not an IamRaError).
    const e = asIamRaError(error);
    if (json) {
      const message = stripControlCharacters(e.message);
      const hint = e.hint === undefined ? undefined : stripControlCharacters(e.hint);
      process.stdout.write(
        `${JSON.stringify({ error: { name: e.name, code: e.code, message, hint } }, null, 2)}\n`,
      );
    } else process.stderr.write(formatError(e));
    process.exitCode = 1;
    return true;
  }
  const result: ServeResult = {
    url: sidecar.url,
    credentialsUri: config.tokenFile ? sidecar.credentialsUri : null,
    imds: config.imds.enabled,
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines = [`iam-ra serve listening on ${sidecar.url}`];
    if (config.tokenFile)
      lines.push(
        `  AWS_CONTAINER_CREDENTIALS_FULL_URI=${sidecar.credentialsUri}\n  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${config.tokenFile}`,
      );
    if (config.imds.enabled) lines.push(`  AWS_EC2_METADATA_SERVICE_ENDPOINT=${sidecar.url}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  logger("info", "shutting down", { signal });
  await sidecar.close();
  process.exit(0);
}
