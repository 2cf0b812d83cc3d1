/**
 * The command base every iam-ra command extends, without oclif. oclif dispatches to a command through
 * its static `run(argv, config)` only, so the same class runs two ways:
 * - {@link Command.main} (bin/run.js, most command lines): the command line is parsed by
 *   {@link fastParse} and the command runs with no framework loaded;
 * - `run` from oclif (help, topics, unknown commands, and every command line {@link fastParse} does not
 *   accept): oclif's parser parses it, with oclif's messages for what is wrong.
 * @module
 */
import { fastParse, type ParseOutput } from "./fast-parse.ts";
import {
  type ArgInput,
  type CommandStatics,
  commandFlags,
  type FlagInput,
  loadOclif,
  toOclifArgs,
  toOclifFlags,
} from "./flags.ts";

// A closed pipe (`iam-ra host list | head`) ends the output, not the command with an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

/** What a command reads of its configuration: oclif's `Config` has these, and so has the one bin/run.js builds. */
export interface CommandConfig {
  /** The package root (bin/ and dist/ are under it). */
  root: string;
  bin: string;
  version: string;
}

/** Thrown by {@link Command.exit} to end a command with a status; not an error. */
export class ExitSignal extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

type Values<T> = { [K in keyof T]: T[K] extends { " value": infer V } ? V : never };
type Parsed<C extends CommandStatics> = {
  flags: Values<NonNullable<C["baseFlags"]>> &
    Values<NonNullable<C["flags"]>> & { json: boolean | undefined };
  args: Values<NonNullable<C["args"]>>;
  argv: unknown[];
};

/**
 * A command: its declarations (static: flags, arguments, help texts) and `run`, which reads them
 * with {@link Command.parse}. The subset of oclif's `Command` iam-ra's commands use, with the same
 * meaning (`--json`, `log`, `exit`), so oclif runs these classes as its own.
 */
export abstract class Command {
  static id: string | undefined;
  static summary: string | undefined;
  static description: string | undefined;
  static examples: string[] | undefined;
  static flags: FlagInput = {};
  static baseFlags: FlagInput = {};
  static args: ArgInput = {};
  static strict = true;
  static enableJsonFlag = false;

  argv: string[];
  readonly config: CommandConfig;
  /** Set by {@link Command.main}: the command line as {@link fastParse} read it. */
  private preparsed: ParseOutput | undefined;

  constructor(argv: string[], config: CommandConfig) {
    this.argv = argv;
    this.config = config;
  }

  /** The command's id (`host:onboard`). */
  get id(): string | undefined {
    return this.ctor.id;
  }

  /** oclif's entry: runs the command for `argv` (after the command's words). */
  static async run(
    this: new (
      argv: string[],
      config: CommandConfig,
    ) => Command,
    argv: string[],
    config: CommandConfig,
  ) {
    return await new this(argv, config).runToEnd();
  }

  /**
   * bin/run.js's entry: runs the command when {@link fastParse} accepts `argv`, and answers false
   * when it does not (oclif then runs the command line, and words what is wrong with it).
   */
  static async main(
    this: new (
      argv: string[],
      config: CommandConfig,
    ) => Command,
    id: string,
    argv: string[],
    config: CommandConfig,
  ): Promise<boolean> {
    const command = new this(argv, config);
    const parsed = await fastParse(argv, command.ctor);
    if (parsed === undefined) return false;
    command.ctor.id = id;
    command.preparsed = parsed;
    await command.runToEnd();
    return true;
  }

  get ctor(): typeof Command {
    return this.constructor as typeof Command;
  }

  abstract run(): Promise<unknown>;

  /** Runs the command, prints its result under `--json`, and turns {@link exit} into the exit status. */
  private async runToEnd(): Promise<unknown> {
    let result: unknown;
    try {
      try {
        result = await this.run();
      } catch (error) {
        await this.catch(error as Error);
      }
      if (result && this.jsonEnabled()) this.logJson(result);
      return result;
    } catch (error) {
      if (!(error instanceof ExitSignal)) throw error;
      process.exitCode = error.code;
      return undefined;
    }
  }

  /** What a command does with an error that ends it; the default passes it on. */
  protected async catch(error: Error): Promise<unknown> {
    throw error;
  }

  /** The command line's flags and arguments (by oclif's parser when {@link main} did not read them). */
  protected async parse<C extends CommandStatics>(command: C, argv = this.argv): Promise<Parsed<C>> {
    if (this.preparsed && (command as unknown) === this.ctor && argv === this.argv)
      return this.preparsed as Parsed<C>;
    const { Parser } = loadOclif();
    return await Parser.parse(argv, {
      context: this,
      strict: command.strict ?? true,
      args: toOclifArgs(command.args ?? {}),
      flags: toOclifFlags(commandFlags(command)),
    });
  }

  /** True under `--json` (before any `--`), or IAM_RA_CONTENT_TYPE=json, as oclif decides it. */
  jsonEnabled(): boolean {
    if (!this.ctor.enableJsonFlag) return false;
    if (process.env.IAM_RA_CONTENT_TYPE?.toLowerCase() === "json") return true;
    const end = this.argv.indexOf("--");
    const json = this.argv.indexOf("--json");
    return json !== -1 && (end === -1 || json < end);
  }

  /** A line on stdout (not under `--json`). */
  log(message = ""): void {
    if (!this.jsonEnabled()) process.stdout.write(`${message}\n`);
  }

  /** A line on stderr (not under `--json`). */
  logToStderr(message = ""): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`);
  }

  /** A warning on stderr (not under `--json`). */
  warn(message: string): string {
    if (!this.jsonEnabled()) process.stderr.write(`iam-ra: warning: ${message}\n`);
    return message;
  }

  /** A JSON document on stdout, as oclif prints it (two-space indented). */
  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  /** Ends the command with `code`. */
  exit(code = 0): never {
    throw new ExitSignal(code);
  }
}
