/**
 * `iam-ra credential-process` without oclif: this runs before every `aws` command, so it loads
 * only what it needs. Flags and env vars come from the same table as the oclif command.
 * @module
 */
import { CacheSafetyError, readCachedCredentials, resolveCacheSlot } from "../services/credential-cache.ts";
import { CACHE_FLAGS, CREDENTIAL_FLAGS } from "../services/credential-options.ts";

/** Thrown for a bad flag before @iam-ra/core is loaded; reported like an IamRaError. */
class FlagError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

const SPECS = [...CREDENTIAL_FLAGS, ...CACHE_FLAGS];
// An ES import of node:util builds a namespace of every export, and util's lazy getters pull in
// assert, worker_threads and the stderr stream (~5 ms); getBuiltinModule hands back the object.
const { parseArgs } = process.getBuiltinModule("node:util");

const INTEGER_FLAGS = new Set(SPECS.filter((s) => s.type === "integer").map((s) => `--${s.name}`));

/**
 * `--timeout -1` as `--timeout=-1`: parseArgs takes a value starting with a dash for a flag and
 * calls the option "ambiguous"; a negative number must reach the range check that names the cause.
 */
function joinNegativeNumbers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (INTEGER_FLAGS.has(argv[i]!) && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const { values } = parseArgs({
      args: joinNegativeNumbers(argv),
      options: Object.fromEntries(
        SPECS.map((s) => [
          s.name,
          { type: s.type === "boolean" ? "boolean" : "string", multiple: "multiple" in s && s.multiple },
        ]),
      ),
      strict: true,
      allowPositionals: false,
    });
    const flags: Record<string, string | boolean | number | undefined> = {};
    for (const spec of SPECS) {
      const raw = values[spec.name] as string | boolean | string[] | undefined;
      let value: string | boolean | undefined = Array.isArray(raw) ? raw.join(",") : raw;
      const fromEnv = process.env[spec.env];
      if (value === undefined && fromEnv !== undefined && fromEnv !== "")
        value = spec.type === "boolean" ? /^(1|true|yes)$/i.test(fromEnv) : fromEnv;
      if (spec.type === "integer" && value !== undefined) {
        // A negative number is a number: the range checks of the miss path name the allowed range.
        if (!/^-?\d+$/.test(String(value))) {
          throw new FlagError(
            `--${spec.name} must be a whole number, not "${String(value)}".`,
            `Pass --${spec.name} ${spec.name === "session-duration" ? "3600" : "<number>"}`,
          );
        }
        flags[spec.name] = Number(value);
      } else flags[spec.name] = value;
    }
    // A cache hit must not pay for @iam-ra/core, node:crypto or the network stack.
    const now = new Date();
    const slot = flags.cache && flags.certificate ? await resolveCacheSlot(flags, process.env) : undefined;
    const hit = slot ? await readCachedCredentials(slot, now) : undefined;
    if (hit) {
      process.stdout.write(JSON.stringify(hit));
      return;
    }
    const { runCredentialProcess } = await import("../services/credential-process.ts");
    const warn = (line: string) => process.stderr.write(`iam-ra: warning: ${line}\n`);
    process.stdout.write(JSON.stringify(await runCredentialProcess(flags, process.env, { now, slot, warn })));
  } catch (error) {
    process.exitCode = 1;
    // The class the miss path throws (the fast bundle holds no copy of @iam-ra/core).
    const { asIamRaError, formatError, IamRaError } = await import("../services/credential-process.ts");
    // Everything through core's one printer: flag and cache errors as the user's to fix, anything
    // else that is not an IamRaError worded as a bug.
    let report: InstanceType<typeof IamRaError>;
    if (error instanceof FlagError || error instanceof CacheSafetyError) {
      const code = error instanceof CacheSafetyError ? error.code : "invalid-input";
      report = new IamRaError(code, error.message, { hint: error.hint });
    } else if (
      error instanceof TypeError &&
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      report = new IamRaError("invalid-input", error.message, {
        hint: "run `iam-ra credential-process --help` for the flags.",
      });
    } else report = asIamRaError(error);
    process.stderr.write(formatError(report));
  }
}
