/**
 * The command lines bin/run.js parses without oclif must parse to what oclif's parser gives: for every
 * command, a corpus of command lines built from its declarations (each flag in each spelling, from its
 * environment variable, repeated, with bad values, arguments missing or extra …) goes through both
 * parsers. Whatever the fast parser accepts, oclif must accept with the same flags and arguments; what
 * oclif refuses, the fast parser must leave to oclif; and the plain spellings must be accepted, or
 * the fast path would not be one.
 */
import { Parser } from "@oclif/core";
import { afterEach, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/index.ts";
import { fastParse } from "../src/runtime/fast-parse.ts";
import {
  type CommandStatics,
  commandFlags,
  type Flag,
  toOclifArgs,
  toOclifFlags,
} from "../src/runtime/flags.ts";

type AnyFlag = Flag<unknown>;

/** A value each flag accepts. */
function sample(flag: AnyFlag): string {
  if (flag.options) return flag.options[0] as string;
  if (flag.kind === "integer") return String(Math.max(flag.min ?? 1, 1));
  if (flag.kind === "custom") return "90s";
  return "sample-value";
}

interface Line {
  what: string;
  argv: string[];
  env?: Record<string, string>;
  /** The fast parser must accept it. */
  plain?: boolean;
}

function corpus(command: CommandStatics): Line[] {
  const flags = Object.entries(commandFlags(command)) as [string, AnyFlag][];
  const args = Object.entries(command.args ?? {});
  const base = [
    ...args.map(([name]) => `${name}-1`),
    ...flags.filter(([, f]) => f.required).flatMap(([name, f]) => [`--${name}`, sample(f)]),
  ];
  const constrained = (f: AnyFlag) => Boolean(f.exclusive?.length || f.dependsOn?.length);
  const lines: Line[] = [
    { what: "the required words only", argv: base, plain: true },
    { what: "--json", argv: [...base, "--json"], plain: Boolean(command.enableJsonFlag) },
    { what: "an unknown flag", argv: [...base, "--no-such-flag"] },
    { what: "an extra argument", argv: [...base, "extra"] },
    { what: "--", argv: [...base, "--"] },
    { what: "a lone -", argv: [...base, "-"] },
  ];
  if (args.length > 0) lines.push({ what: "an argument missing", argv: base.slice(1) });
  const given = (name: string) => {
    const flag = commandFlags(command)[name] as AnyFlag;
    return flag.type === "boolean" ? [`--${name}`] : [`--${name}`, sample(flag)];
  };
  for (const [name, flag] of flags) {
    for (const other of flag.exclusive ?? [])
      lines.push({ what: `--${name} with --${other}`, argv: [...base, ...given(name), ...given(other)] });
    for (const other of flag.dependsOn ?? [])
      lines.push({ what: `--${name} without --${other}`, argv: [...base, ...given(name)] });
  }
  for (const [name, flag] of flags) {
    const rest = base.filter((_, i) => base[i - 1] !== `--${name}` && base[i] !== `--${name}`);
    const plain = !constrained(flag);
    if (flag.type === "boolean") {
      lines.push({ what: `--${name}`, argv: [...rest, `--${name}`], plain });
      lines.push({ what: `--${name} twice`, argv: [...rest, `--${name}`, `--${name}`] });
      lines.push({ what: `--${name}=true`, argv: [...rest, `--${name}=true`] });
      if (flag.allowNo) lines.push({ what: `--no-${name}`, argv: [...rest, `--no-${name}`], plain });
      if (flag.char) lines.push({ what: `-${flag.char}`, argv: [...rest, `-${flag.char}`], plain });
      if (flag.env) lines.push({ what: `${flag.env}=1`, argv: rest, env: { [flag.env]: "1" } });
      continue;
    }
    const value = sample(flag);
    lines.push({ what: `--${name} <value>`, argv: [...rest, `--${name}`, value], plain });
    lines.push({ what: `--${name}=<value>`, argv: [...rest, `--${name}=${value}`], plain });
    lines.push({ what: `<value> before --${name}`, argv: [`--${name}`, value, ...rest] });
    lines.push({ what: `--${name} twice`, argv: [...rest, `--${name}`, value, `--${name}`, value] });
    lines.push({ what: `--${name} without a value`, argv: [...rest, `--${name}`] });
    lines.push({ what: `--${name} --json`, argv: [...rest, `--${name}`, "--json"] });
    lines.push({ what: `--${name} -5`, argv: [...rest, `--${name}`, "-5"] });
    lines.push({ what: `--${name}=`, argv: [...rest, `--${name}=`] });
    lines.push({ what: `--${name} bogus`, argv: [...rest, `--${name}`, "bogus!"] });
    lines.push({ what: `--${name} 1e99`, argv: [...rest, `--${name}`, "1e99"] });
    if (flag.char) {
      lines.push({ what: `-${flag.char} <value>`, argv: [...rest, `-${flag.char}`, value], plain });
      lines.push({ what: `-${flag.char}<value>`, argv: [...rest, `-${flag.char}${value}`] });
    }
    if (flag.env) {
      lines.push({
        what: `${flag.env}=<value>`,
        argv: rest,
        env: { [flag.env]: value },
        plain: !flag.multiple,
      });
      lines.push({ what: `${flag.env}=bogus`, argv: rest, env: { [flag.env]: "bogus!" } });
      lines.push({
        what: `${flag.env} and --${name}`,
        argv: [...rest, `--${name}`, value],
        env: { [flag.env]: "x" },
      });
    }
  }
  return lines;
}

/** What oclif's parser makes of a command line: its flags and arguments, or the error. */
async function oclifParse(command: CommandStatics, argv: string[]) {
  try {
    const {
      flags,
      args,
      argv: words,
    } = await Parser.parse(argv, {
      // biome-ignore lint/suspicious/noExplicitAny: no command behind these lines
      context: {} as any,
      strict: command.strict ?? true,
      // biome-ignore lint/suspicious/noExplicitAny: oclif's flag and argument tables
      flags: toOclifFlags(commandFlags(command)) as any,
      // biome-ignore lint/suspicious/noExplicitAny: oclif's flag and argument tables
      args: toOclifArgs(command.args ?? {}) as any,
    });
    return { flags, args, argv: words };
  } catch (error) {
    return { error: error as Error };
  }
}

const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe("the fast parser parses as oclif does", () => {
  for (const [id, command] of Object.entries(COMMANDS) as [string, CommandStatics][]) {
    it(id, async () => {
      let accepted = 0;
      // Variables of the flags are unset unless a line sets them.
      for (const flag of Object.values(commandFlags(command))) if (flag.env) delete process.env[flag.env];
      for (const line of corpus(command)) {
        for (const [k, v] of Object.entries(line.env ?? {})) process.env[k] = v;
        const fast = await fastParse(line.argv, command);
        const oclif = await oclifParse(command, line.argv);
        for (const k of Object.keys(line.env ?? {})) delete process.env[k];
        const where = `${id} ${line.what}: ${JSON.stringify(line.argv)}`;
        if (fast !== undefined) {
          accepted++;
          expect(oclif.error?.message, where).toBeUndefined();
          expect(fast, where).toEqual({ flags: oclif.flags, args: oclif.args, argv: oclif.argv });
        } else if (line.plain) {
          expect.fail(`${where}: the fast parser left a plain command line to oclif`);
        }
      }
      expect(accepted).toBeGreaterThan(1);
    });
  }
});

it("a command that takes any number of words gets them all in argv", async () => {
  const loose = Object.values(COMMANDS as Record<string, CommandStatics>).filter((c) => c.strict === false);
  expect(loose.length).toBeGreaterThan(0);
  for (const command of loose) {
    const words = ["a=arn:aws:iam::123456789012:role/a", "b", "c"];
    const fast = await fastParse(words, command);
    expect(fast?.argv).toEqual(words);
    expect(fast).toEqual(await oclifParse(command, words));
    // oclif orders argv by each word's first place on the line: a repeated word, or one that is also
    // a flag's value, can move; the fast parser leaves those lines to oclif.
    for (const line of [
      ["b", "a", "b"],
      ["--output", "json", "admin", "json"],
    ]) {
      const moved = await fastParse(line, command);
      if (moved !== undefined) expect(moved).toEqual(await oclifParse(command, line));
      expect(moved, JSON.stringify(line)).toBeUndefined();
    }
  }
});
