import { IamRaError } from "@iam-ra/core";
import { reportError } from "./error-report.ts";
import { Command, ExitSignal } from "./runtime/command.ts";
import { type FlagInput, Flags } from "./runtime/flags.ts";
import type { CredentialFlagSpec } from "./services/credential-options.ts";

/** Builds flags (with their env vars) from a shared flag table. */
export function flagsFromSpecs(specs: readonly CredentialFlagSpec[]): FlagInput {
  const out: FlagInput = {};
  for (const s of specs) {
    const common = { description: s.description, env: s.env };
    out[s.name] =
      s.type === "boolean"
        ? Flags.boolean({ ...common, allowNo: false })
        : s.type === "integer"
          ? // No option of the table takes a negative number: say so, rather than the range check later.
            Flags.integer({ ...common, min: 0 })
          : "multiple" in s && s.multiple
            ? Flags.string({ ...common, multiple: true })
            : Flags.string(common);
  }
  return out;
}

/** AWS SDK failures that reach a command become a one-line IamRaError with a next step. */
function fromAwsError(error: unknown): IamRaError | undefined {
  if (!(error instanceof Error) || error instanceof IamRaError) return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = error.name;
  const credentials =
    /CredentialsProviderError|ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|TokenRefreshRequired/;
  if (credentials.test(name))
    return new IamRaError("access-denied", `AWS did not accept the credentials: ${error.message}`, {
      hint: "Configure valid AWS credentials (--profile, AWS_PROFILE, or `aws sso login`).",
      cause: error,
    });
  if (/AccessDenied|UnauthorizedOperation|Forbidden/.test(name) || status === 403)
    return new IamRaError("access-denied", `AWS refused: ${error.message}`, {
      hint: "The admin credentials lack a permission this command needs (see the message); use a role that has it.",
      cause: error,
    });
  if (/Throttl|TooManyRequests|RequestLimitExceeded/.test(name))
    return new IamRaError("throttled", `AWS throttled the request: ${error.message}`, {
      hint: "Retry in a moment.",
      cause: error,
    });
  if (
    status !== undefined ||
    /TimeoutError|ECONNREFUSED|ENOTFOUND|NetworkingError/.test(`${name} ${error.message}`)
  )
    return new IamRaError("service-unavailable", `AWS call failed (${name}): ${error.message}`, {
      hint: "Check the region, network access to AWS (or AWS_ENDPOINT_URL), and retry.",
      cause: error,
    });
  return undefined;
}

/**
 * The base of every iam-ra command: `--json`, and the one place errors are mapped to output.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(error: Error): Promise<unknown> {
    // this.exit() throws to end the command: not an error to report.
    if (error instanceof ExitSignal) throw error;
    const report = reportError(fromAwsError(error) ?? error, {
      commandId: this.id?.replaceAll(":", " "),
      debug: Boolean(process.env.DEBUG),
    });
    if (this.jsonEnabled()) this.logJson(report.json);
    else process.stderr.write(report.text);
    return this.exit(report.exit);
  }
}
