/**
 * Flag and argument declarations of the commands, free of oclif: a command's module (and its start-up)
 * loads no command framework. Each declaration keeps the options it was written with, field for field
 * as oclif's `Flags.*`/`Args.*` take them, so it reads as oclif metadata (the manifest, help) and turns
 * into oclif's own flag when oclif parses a command line ({@link toOclifFlags}).
 * @module
 */
import { createRequire } from "node:module";

/** What every flag may say. */
interface FlagCommon {
  description?: string;
  summary?: string;
  char?: string;
  env?: string;
  required?: boolean;
  hidden?: boolean;
  helpGroup?: string;
  /** Flags that may not be given with this one. */
  exclusive?: readonly string[];
  /** Flags this one needs. */
  dependsOn?: readonly string[];
}

interface OptionOptions<T> extends FlagCommon {
  helpValue?: string;
  options?: readonly string[];
  multiple?: boolean;
  default?: T | T[];
  /** Integers: the smallest and largest value. */
  min?: number;
  max?: number;
  /** Custom flags: the value from its text (throwing for text it refuses). */
  parse?: (input: string) => Promise<T>;
}

interface BooleanOptions extends FlagCommon {
  /** Accepts `--no-<name>` for false. */
  allowNo?: boolean;
  default?: boolean;
}

/** Which oclif builder a declaration stands for. */
export type FlagKind = "string" | "integer" | "custom" | "boolean";

/** One flag: its options, its oclif `type`, and (for the type checker only) the value it parses to. */
export interface Flag<V> extends OptionOptions<unknown> {
  readonly type: "option" | "boolean";
  readonly kind: FlagKind;
  readonly allowNo?: boolean;
  /** Never set: carries the parsed value's type. */
  readonly " value": V;
}

/** One positional argument. */
export interface Arg<V> {
  readonly kind: "string";
  readonly description?: string;
  readonly required?: boolean;
  readonly options?: readonly string[];
  readonly default?: string;
  readonly " value": V;
}

// biome-ignore lint/suspicious/noExplicitAny: a table of flags of any value
export type FlagInput = Record<string, Flag<any>>;
// biome-ignore lint/suspicious/noExplicitAny: a table of arguments of any value
export type ArgInput = Record<string, Arg<any>>;

/** `V` when the flag is required or has a default, else `V | undefined`. */
type Given<O, V> = O extends { required: true } ? V : O extends { default: unknown } ? V : V | undefined;
type Option<O, T> = Flag<O extends { multiple: true } ? Given<O, T[]> : Given<O, T>>;

const option = (kind: FlagKind, options: object) =>
  ({
    ...options,
    type: "option",
    kind,
    multiple: Boolean((options as { multiple?: boolean }).multiple),
  }) as never;

/** Flag builders, as oclif's `Flags` is used by the commands. */
export const Flags = {
  string: <const O extends OptionOptions<string>>(options: O = {} as O): Option<O, string> =>
    option("string", options),
  integer: <const O extends OptionOptions<number>>(options: O = {} as O): Option<O, number> =>
    option("integer", options),
  boolean: <const O extends BooleanOptions>(options: O = {} as O): Flag<Given<O, boolean>> =>
    ({ ...options, type: "boolean", kind: "boolean", allowNo: Boolean(options.allowNo) }) as never,
  /** A flag of a value type of its own: `parse` turns the text into it. */
  custom:
    <T>(defaults: OptionOptions<T> & { parse: (input: string) => Promise<T> }) =>
    <const O extends OptionOptions<T>>(options: O = {} as O): Option<O, T> =>
      option("custom", { ...defaults, ...options }),
};

/** Argument builders, as oclif's `Args` is used by the commands. */
export const Args = {
  string: <const O extends { description?: string; required?: boolean; options?: readonly string[] }>(
    options: O,
  ): Arg<O extends { required: true } ? string : string | undefined> =>
    ({ ...options, kind: "string" }) as never,
};

/** oclif's `--json`, as oclif adds it to a command that enables it. */
export const jsonFlag = Flags.boolean({ description: "Format output as json.", helpGroup: "GLOBAL" });

/** The static side of a command: its declarations. */
export interface CommandStatics {
  flags?: FlagInput;
  baseFlags?: FlagInput;
  args?: ArgInput;
  strict?: boolean;
  enableJsonFlag?: boolean;
}

/** Every flag of a command: its base flags, its own, and `--json`. */
export function commandFlags(c: CommandStatics): FlagInput {
  return { ...c.baseFlags, ...c.flags, ...(c.enableJsonFlag ? { json: jsonFlag } : {}) };
}

/** @oclif/core, loaded only where oclif runs anyway (help, an unusual command line, the build). */
// biome-ignore lint/suspicious/noExplicitAny: oclif's module, used through its documented API
export function loadOclif(): any {
  return createRequire(import.meta.url)("@oclif/core");
}

/** The oclif flags a table of declarations stands for, built by oclif's own builders. */
export function toOclifFlags(flags: FlagInput): Record<string, unknown> {
  const { Flags: oclif } = loadOclif();
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => {
      const { kind, type: _type, " value": _value, ...options } = flag;
      return [name, kind === "custom" ? oclif.custom(options)() : oclif[kind](options)];
    }),
  );
}

/** The oclif arguments a table of declarations stands for. */
export function toOclifArgs(args: ArgInput): Record<string, unknown> {
  const { Args: oclif } = loadOclif();
  return Object.fromEntries(
    Object.entries(args).map(([name, arg]) => {
      const { kind, " value": _value, ...options } = arg;
      return [name, oclif[kind](options)];
    }),
  );
}
