import { createInterface } from "node:readline/promises";
import { IamRaError } from "@iam-ra/core";
import type { AdminDeps } from "@iam-ra/core/admin";
import { BaseCommand } from "./base-command.ts";
import type { CommandStatics } from "./runtime/flags.ts";
import { Flags } from "./runtime/flags.ts";
import type { ProgressSink } from "./services/admin-deps.ts";

/**
 * The base of admin commands: namespace, region and profile flags (with the AWS environment as
 * defaults, never a hard-coded region), live progress on a TTY, and confirmation of destructive steps.
 */
export abstract class AdminCommand extends BaseCommand {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    namespace: Flags.string({
      char: "n",
      description: "Namespace: separates independent set-ups in one account and region.",
      env: "IAM_RA_NAMESPACE",
      default: "default",
    }),
    region: Flags.string({
      char: "r",
      description: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's region).",
    }),
    profile: Flags.string({
      char: "p",
      description: "AWS profile for the admin credentials.",
      env: "AWS_PROFILE",
    }),
  };

  /** Progress lines go to stderr on a TTY only, so stdout stays clean and --json stays pure. */
  protected progress(): ProgressSink {
    const live = process.stderr.isTTY === true && !this.jsonEnabled();
    return {
      step: (m) => {
        if (live) process.stderr.write(`• ${m}\n`);
      },
      event: (stack, e) => {
        if (live)
          process.stderr.write(
            `    ${e.timestamp.toISOString().slice(11, 19)} ${stack} ${e.logicalResourceId} ${e.status}${e.reason ? ` — ${e.reason}` : ""}\n`,
          );
      },
    };
  }

  /** What the command's `parse` returned, so its input can be checked before any AWS call. */
  private parsedInput: { args: Record<string, unknown>; flags: Record<string, unknown> } | undefined;

  protected override async parse<C extends CommandStatics>(command: C, argv?: string[]) {
    const result = await super.parse(command, argv);
    this.parsedInput = { args: result.args, flags: result.flags };
    return result;
  }

  async adminDeps(flags: {
    namespace: string;
    region?: string | undefined;
    profile?: string | undefined;
  }): Promise<AdminDeps> {
    // Every argument and flag is checked first: bad input never reaches AWS.
    const { checkAdminInput } = await import("./services/admin-input.ts");
    checkAdminInput(this.parsedInput?.args ?? {}, this.parsedInput?.flags ?? flags);
    // The AWS SDK loads only when a command needs it, not for --help or --version.
    const { createAdminDeps } = await import("./services/admin-deps.ts");
    return await createAdminDeps(flags, process.env, this.progress());
  }

  /** Asks before a destructive step; without a TTY, `--yes` is required. */
  protected async confirm(question: string, yes: boolean | undefined): Promise<void> {
    if (yes) return;
    if (!process.stdin.isTTY || this.jsonEnabled()) {
      throw new IamRaError("aborted", `${question} — not confirmed.`, {
        hint: "Pass --yes to confirm without a prompt.",
      });
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) throw new IamRaError("aborted", "Aborted; nothing was changed.");
    } finally {
      rl.close();
    }
  }
}
