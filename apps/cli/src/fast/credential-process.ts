/**
 * `iam-ra credential-process` without oclif: this runs before every `aws` command, so it loads
 * only what it needs. Flags and env vars come from the same table as the oclif command.
 * @module
 */
import { parseArgs } from "node:util";
import { IamRaError } from "@iam-ra/core";
import { CACHE_FLAGS, CREDENTIAL_FLAGS } from "../services/credential-options.ts";
import { runCredentialProcess } from "../services/credential-process.ts";

const SPECS = [...CREDENTIAL_FLAGS, ...CACHE_FLAGS];

export async function main(argv: string[]): Promise<void> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        SPECS.map((s) => [s.name, { type: s.type === "boolean" ? "boolean" : "string" }]),
      ),
      strict: true,
      allowPositionals: false,
    });
    const flags: Record<string, string | boolean | number | undefined> = {};
    for (const spec of SPECS) {
      let value: string | boolean | undefined = values[spec.name] as string | boolean | undefined;
      const fromEnv = process.env[spec.env];
      if (value === undefined && fromEnv !== undefined && fromEnv !== "")
        value = spec.type === "boolean" ? /^(1|true|yes)$/i.test(fromEnv) : fromEnv;
      if (spec.type === "integer" && value !== undefined) {
        if (!/^\d+$/.test(String(value))) {
          throw new IamRaError(
            "invalid-input",
            `--${spec.name} must be a whole number, not "${String(value)}".`,
            { hint: `Pass --${spec.name} ${spec.name === "session-duration" ? "3600" : "<number>"}` },
          );
        }
        flags[spec.name] = Number(value);
      } else flags[spec.name] = value;
    }
    const doc = await runCredentialProcess(flags, process.env);
    process.stdout.write(JSON.stringify(doc));
  } catch (error) {
    process.exitCode = 1;
    if (error instanceof IamRaError) {
      process.stderr.write(`iam-ra: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ""}`);
    } else if (
      error instanceof TypeError &&
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      process.stderr.write(
        `iam-ra: ${error.message}\n  hint: run \`iam-ra credential-process --help\` for the flags.\n`,
      );
    } else {
      process.stderr.write(
        `iam-ra: unexpected error: ${error instanceof Error ? error.message : String(error)}\n  hint: this is a bug; please report it with the command you ran (no secrets).\n`,
      );
    }
  }
}
