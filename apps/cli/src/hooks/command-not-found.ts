import type { Hook } from "@oclif/core";
import { closest, distance } from "fastest-levenshtein";
import { UsageError } from "../error-report.ts";

/** The command nearest to what was typed, if it is close enough to be a typo. */
export function suggestCommand(typed: string, commandIds: readonly string[]): string | undefined {
  if (commandIds.length === 0) return undefined;
  const best = closest(typed, [...commandIds]);
  // A typo is a few edits: two, or a third of the word for longer commands.
  return distance(typed, best) <= Math.max(2, Math.floor(typed.length / 3)) ? best : undefined;
}

/**
 * oclif's `command_not_found` hook: an unknown command is a usage error with a "did you mean" hint
 * (printed, never run: a typo must not start a command the user did not ask for).
 */
export const commandNotFound: Hook<"command_not_found"> = async (options) => {
  const spaced = (id: string) => id.replaceAll(":", " ");
  const visible = options.config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const suggestion = suggestCommand(options.id, visible);
  throw new UsageError(
    `There is no command "${spaced(options.id)}".`,
    suggestion
      ? `Did you mean \`iam-ra ${spaced(suggestion)}\`? \`iam-ra --help\` lists every command.`
      : "`iam-ra --help` lists every command.",
  );
};
