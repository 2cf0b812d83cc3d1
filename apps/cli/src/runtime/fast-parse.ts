/**
 * The command line of a command, read by Node's own `util.parseArgs` for the command lines that need
 * no judgement: known flags, each given once (or a `multiple` flag several times), values that pass
 * their checks, every argument given. Anything else — an unknown or repeated flag, a value that does
 * not pass, a missing argument (which oclif may read from stdin), `--`, short flags run together, a
 * constraint between flags at stake — is not accepted (undefined), and oclif parses the command line
 * instead, with its messages. What is accepted parses to what oclif's parser gives (a test compares
 * the two over every command's flags).
 * @module
 */
import { parseArgs } from "node:util";
import { type CommandStatics, commandFlags, type Flag } from "./flags.ts";

/** A parsed command line: what a command's `parse` returns. */
export interface ParseOutput {
  flags: Record<string, unknown>;
  args: Record<string, unknown>;
  argv: unknown[];
}

/** Not accepted: oclif parses this command line. */
class Refused extends Error {}

/** A value from its text, as the flag's oclif builder parses it; {@link Refused} for anything doubtful. */
async function parseValue(flag: Flag<unknown>, text: string): Promise<unknown> {
  if (text === "" || text.startsWith("-")) throw new Refused();
  if (flag.options && !flag.options.includes(text)) throw new Refused();
  if (flag.kind === "integer") {
    if (!/^\d{1,15}$/.test(text)) throw new Refused();
    const n = Number(text);
    if ((flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max))
      throw new Refused();
    return n;
  }
  if (flag.kind === "custom" && flag.parse) {
    const parse = flag.parse;
    return await Promise.resolve()
      .then(() => parse(text))
      .catch(() => Promise.reject(new Refused()));
  }
  return text;
}

/** The flags and arguments of `argv` for `command`, or undefined when oclif must read them. */
export async function fastParse(argv: string[], command: CommandStatics): Promise<ParseOutput | undefined> {
  try {
    return await parse(argv, command);
  } catch (error) {
    if (error instanceof Refused) return undefined;
    throw error;
  }
}

async function parse(argv: string[], command: CommandStatics): Promise<ParseOutput> {
  const flags = commandFlags(command);
  const argDefs = Object.entries(command.args ?? {});
  // `--`, and short flags with a value attached or run together (-nfoo, -yq), are oclif's to read.
  if (argv.some((a) => a === "--" || /^-[^-]./.test(a))) throw new Refused();
  const options: Record<string, { type: "string" | "boolean"; multiple: true; short?: string }> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const f = flag as Flag<unknown> & { aliases?: unknown; charAliases?: unknown };
    if (f.aliases || f.charAliases) throw new Refused();
    options[name] = { type: f.type === "boolean" ? "boolean" : "string", multiple: true };
    if (f.char) options[name].short = f.char;
    if (f.type === "boolean" && f.allowNo) options[`no-${name}`] = { type: "boolean", multiple: true };
  }
  let tokens: ReturnType<typeof parseArgs>["tokens"];
  try {
    ({ tokens } = parseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true }));
  } catch {
    throw new Refused();
  }
  const given = new Map<string, string[]>();
  const booleans = new Map<string, boolean>();
  const positionals: string[] = [];
  let afterMultiple = false;
  for (const token of tokens ?? []) {
    if (token.kind === "positional") {
      // oclif gives the words after a `multiple` flag's value to that flag.
      if (afterMultiple) throw new Refused();
      positionals.push(token.value);
    } else if (token.kind === "option") {
      const negated = !(token.name in flags);
      const name = negated ? token.name.slice(3) : token.name;
      const flag = flags[name] as Flag<unknown>;
      if (flag.type === "boolean") booleans.set(name, !negated);
      else {
        const values = given.get(name) ?? [];
        values.push(token.value ?? "");
        if (values.length > 1 && !flag.multiple) throw new Refused();
        given.set(name, values);
        if (flag.multiple) afterMultiple = true;
      }
    } else throw new Refused();
  }
  const out: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags) as [string, Flag<unknown>][]) {
    const texts = given.get(name);
    const fromEnv = flag.env ? process.env[flag.env] : undefined;
    if (texts) {
      const values = await Promise.all(texts.map((t) => parseValue(flag, t)));
      out[name] = flag.multiple ? values : values[0];
    } else if (booleans.has(name)) out[name] = booleans.get(name);
    else if (fromEnv) {
      // oclif reads a boolean's variable by its own truthiness rules, and a multiple flag's as one value.
      if (flag.type === "boolean" || flag.multiple) throw new Refused();
      out[name] = await parseValue(flag, fromEnv);
    } else if (typeof flag.default === "function") throw new Refused();
    else if (flag.default !== undefined) out[name] = flag.default;
    else if (flag.required) throw new Refused();
  }
  // Between flags: whatever oclif would check is left to oclif when it could fail.
  for (const [name, flag] of Object.entries(flags) as [string, Flag<unknown>][]) {
    if (out[name] === undefined) continue;
    const f = flag as Flag<unknown> & Record<string, unknown>;
    if (f.relationships || f.exactlyOne || f.atLeastOne || f.combinable || f.dependsOn) throw new Refused();
    if (flag.exclusive?.some((other) => out[other] !== undefined)) throw new Refused();
  }
  // Every argument given (oclif reads a missing one from stdin, or refuses), and no more unless the
  // command takes any number of words (`strict = false`: they are all in argv).
  if (positionals.length < argDefs.length) throw new Refused();
  if (positionals.length > argDefs.length && command.strict !== false) throw new Refused();
  // oclif orders its argv by where each word first appears on the command line: a word repeated, or
  // also given as a flag's value, can move. Such lines are oclif's, so argv is the same either way.
  if (
    positionals.some((word, i) => i > 0 && argv.indexOf(word) <= argv.indexOf(positionals[i - 1] as string))
  )
    throw new Refused();
  const args: Record<string, unknown> = {};
  for (const [i, [name, arg]] of argDefs.entries()) {
    const text = positionals[i] as string;
    if (arg.options && !arg.options.includes(text)) throw new Refused();
    args[name] = text;
  }
  return { flags: out, args, argv: [...positionals] };
}
