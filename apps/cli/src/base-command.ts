import { IamRaError } from "@iam-ra/core";
import { Command, Flags, type Interfaces } from "@oclif/core";
import type { CredentialFlagSpec } from "./services/credential-options.ts";

/** Builds oclif flags (with their env vars) from a shared flag table. */
export function flagsFromSpecs(specs: readonly CredentialFlagSpec[]): Interfaces.FlagInput {
  const out: Interfaces.FlagInput = {};
  for (const s of specs) {
    const common = { description: s.description, env: s.env };
    out[s.name] =
      s.type === "boolean"
        ? Flags.boolean({ ...common, allowNo: false })
        : s.type === "integer"
          ? Flags.integer(common)
          : Flags.string(common);
  }
  return out;
}

/**
 * The base of every iam-ra command: `--json`, and the one place errors are mapped to output.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof IamRaError) {
      if (this.jsonEnabled()) {
        this.logJson({
          error: { name: error.name, code: error.code, message: error.message, hint: error.hint },
        });
        this.exit(1);
      }
      this.error(error.message, {
        exit: 1,
        code: error.code,
        ...(error.hint ? { suggestions: [error.hint] } : {}),
      });
    }
    return super.catch(error);
  }
}
