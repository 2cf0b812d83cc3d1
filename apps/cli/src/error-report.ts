import { asIamRaError, IamRaError, stripControlCharacters } from "@iam-ra/core";

/** Exit status of a usage error (unknown flag or command, missing argument, bad flag value), as oclif uses. */
export const USAGE_EXIT = 2;

/** A command line iam-ra cannot run (an unknown command): reported as `invalid-input`, exit {@link USAGE_EXIT}. */
export class UsageError extends IamRaError {
  static override readonly errorClass: string = "UsageError";
  constructor(message: string, hint: string) {
    super("invalid-input", message, { hint });
  }
}

/** What the CLI prints for an error and the exit status it ends with. */
export interface ErrorReport {
  /** `{"error": {name, code, message, hint}}`: the documented `--json` error document. */
  json: { error: { name: string; code: string; message: string; hint: string | undefined } };
  /** For stderr, as docs/credentials.md describes: `iam-ra: <what is wrong>`, then `  hint: <what to do>`. */
  text: string;
  exit: number;
}

/** oclif's errors (`CLIError` and its parser's), known by the `oclif` field they carry. */
type OclifError = Error & { oclif: { exit?: number }; code?: unknown; suggestions?: string[] };
function isOclifError(error: unknown): error is OclifError {
  return error instanceof Error && typeof (error as { oclif?: unknown }).oclif === "object";
}

/** True for oclif's argument-parsing failures (classes of its parser, or a flag's own `parse` throwing). */
function isParseError(error: Error): boolean {
  return (isOclifError(error) && "parse" in error) || /^Parsing --[\w-]+ /.test(error.message);
}

/** oclif's parser messages, on one line and without its "See more help" trailer. */
function parseMessage(error: Error): string {
  return error.message
    .replace(/\n?See more help with --help\s*$/, "")
    .replace(/^Parsing (--[\w-]+)\s*\n\t/, "$1: ")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

/**
 * Maps any error that reaches the top of a command to what the user sees. `commandId` is the
 * command as typed (`host onboard`), for the hint; `debug` keeps the stack of unexpected errors.
 */
export function reportError(
  error: unknown,
  options: { commandId?: string | undefined; debug: boolean },
): ErrorReport {
  const command = options.commandId ? `iam-ra ${options.commandId}` : "iam-ra";
  let name: string;
  let code: string;
  let message: string;
  let hint: string | undefined;
  let exit = 1;
  if (error instanceof Error && isParseError(error)) {
    // Also a flag's own check (an IamRaError of a custom flag), which oclif prefixes with "Parsing --…".
    name = "IamRaError";
    code = "invalid-input";
    message = parseMessage(error);
    hint =
      error instanceof IamRaError && error.hint
        ? error.hint
        : `Run \`${command} --help\` for its flags and arguments.`;
    exit = USAGE_EXIT;
  } else if (error instanceof IamRaError) {
    ({ name, code, message, hint } = error);
    if (error instanceof UsageError) exit = USAGE_EXIT;
  } else if (isOclifError(error)) {
    // this.error(...) in a command: a message meant for the user.
    name = "IamRaError";
    code = typeof error.code === "string" ? error.code : "invalid-input";
    message = error.message;
    hint = error.suggestions?.join(" ");
    exit = error.oclif.exit ?? 1;
  } else {
    // A bug: worded by core's one printer of unexpected errors, as every app words it.
    ({ name, code, message, hint } = asIamRaError(error));
    if (options.debug && error instanceof Error && error.stack) message += `\n${error.stack}`;
  }
  // Messages may quote a peer (a service, an AWS SDK error, a file name): one line, no escapes.
  // A stack, printed only under DEBUG, keeps its lines.
  const clean = (s: string) => s.split("\n").map(stripControlCharacters).join("\n");
  message = code === "internal" && options.debug ? clean(message) : stripControlCharacters(message);
  hint = hint === undefined ? undefined : stripControlCharacters(hint);
  const text = `iam-ra: ${message}\n${hint ? `  hint: ${hint}\n` : ""}`;
  return { json: { error: { name, code, message, hint } }, text, exit };
}
