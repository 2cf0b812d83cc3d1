import { randomBytes } from "node:crypto";
import { IamRaError } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import { type CfnTemplate, renderTemplate } from "./template.ts";

/** A stack as the engine needs it. @public */
export interface StackDescription {
  stackId: string;
  status: string;
  statusReason: string | undefined;
  outputs: Record<string, string>;
}

/** One stack event (newest first from the port). @public */
export interface StackEvent {
  eventId: string;
  timestamp: Date;
  logicalResourceId: string;
  resourceType: string;
  status: string;
  reason: string | undefined;
}

/** One planned change of a change set. @public */
export interface StackChange {
  action: string;
  logicalResourceId: string;
  resourceType: string;
  replacement: string | undefined;
}

/** Input of the create calls. @public */
export interface StackInput {
  stackName: string;
  templateBody: string;
  parameters: Record<string, string>;
  tags: Record<string, string>;
  capabilities: string[];
}

/**
 * The CloudFormation calls the engine makes; the CLI implements it with the AWS SDK.
 * Errors other than "not found" propagate.
 * @public
 */
export interface CloudFormationPort {
  describeStack(stackName: string): Promise<StackDescription | undefined>;
  describeStackEvents(stackName: string): Promise<StackEvent[]>;
  /** Returns `"no-changes"` when CloudFormation refuses an empty update change set up front. */
  createChangeSet(
    input: StackInput & { changeSetName: string; type: "CREATE" | "UPDATE" },
  ): Promise<"created" | "no-changes">;
  describeChangeSet(
    stackName: string,
    changeSetName: string,
  ): Promise<{ status: string; statusReason: string | undefined; changes: StackChange[] }>;
  executeChangeSet(stackName: string, changeSetName: string): Promise<void>;
  deleteChangeSet(stackName: string, changeSetName: string): Promise<void>;
  deleteStack(stackName: string): Promise<void>;
}

/**
 * Options of {@link deployStack}.
 * @public
 */
export interface DeployOptions {
  cfn: CloudFormationPort;
  stackName: string;
  template: CfnTemplate;
  parameters?: Record<string, string> | undefined;
  tags?: Record<string, string> | undefined;
  /** Default `["CAPABILITY_NAMED_IAM"]`. */
  capabilities?: string[] | undefined;
  /** Compute the change set, report it, delete it, change nothing. */
  dryRun?: boolean | undefined;
  /** Live stack events, oldest first, as they appear. */
  onEvent?: ((event: StackEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
  clock?: { now(): Date } | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Give up waiting after this long. Default 30 minutes. */
  timeoutMs?: number | undefined;
}

/**
 * What a deploy did.
 * @public
 */
export interface DeployResult {
  outcome: "created" | "updated" | "unchanged" | "dry-run";
  stackName: string;
  outputs: Record<string, string>;
  changes: StackChange[];
}

/**
 * A stack operation that failed: the reason from the stack's events, and the events themselves.
 * @public
 */
export class StackFailedError extends IamRaError {
  static override readonly errorClass: string = "StackFailedError";
  override name = "StackFailedError";
  readonly stackName: string;
  readonly status: string;
  readonly events: StackEvent[];
  constructor(stackName: string, status: string, reason: string, events: StackEvent[], hint?: string) {
    super("stack-failed", `Stack ${stackName} ended ${status}: ${reason}`, {
      hint: hint ?? "Fix the cause above and run the command again; nothing was recorded in state.",
    });
    this.stackName = stackName;
    this.status = status;
    this.events = events;
  }
}

const TERMINAL_OK = new Set(["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"]);

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  abortableSleep(ms, signal, () => new IamRaError("aborted", "Stopped while waiting for CloudFormation."));

/** The first failure reason among events newer than `since`. */
function failureReason(events: StackEvent[], since: Date): string {
  const recent = events.filter((e) => e.timestamp.getTime() >= since.getTime() - 1000);
  const failed = [...recent]
    .reverse()
    .find(
      (e) => /FAILED$/.test(e.status) && e.reason && !/cancelled|Resource creation cancelled/i.test(e.reason),
    );
  return failed
    ? `${failed.logicalResourceId} (${failed.resourceType}): ${failed.reason}`
    : "no reason in the stack events";
}

/** Polls a stack until it leaves every *_IN_PROGRESS state, reporting new events. */
async function waitForStack(
  options: DeployOptions,
  since: Date,
  seen: Set<string>,
  afterExecute = false,
): Promise<StackDescription | undefined> {
  const clock = options.clock ?? { now: () => new Date() };
  const sleep = options.sleep ?? defaultSleep;
  const deadline = clock.now().getTime() + (options.timeoutMs ?? 30 * 60_000);
  let delay = 1000;
  for (;;) {
    if (options.signal?.aborted) throw new IamRaError("aborted", "Stopped while waiting for CloudFormation.");
    const stack = await options.cfn.describeStack(options.stackName);
    if (options.onEvent) {
      const events = await options.cfn.describeStackEvents(options.stackName).catch(() => []);
      for (const e of [...events].reverse()) {
        if (seen.has(e.eventId) || e.timestamp.getTime() < since.getTime() - 1000) continue;
        seen.add(e.eventId);
        options.onEvent(e);
      }
    }
    // Right after ExecuteChangeSet a new stack may still read REVIEW_IN_PROGRESS: keep waiting then.
    const pending =
      stack?.status.endsWith("_IN_PROGRESS") === true &&
      (afterExecute || stack.status !== "REVIEW_IN_PROGRESS");
    if (!pending) return stack;
    if (clock.now().getTime() > deadline) {
      throw new IamRaError(
        "timeout",
        `Stack ${options.stackName} is still ${stack.status} after the timeout.`,
        {
          hint: "Watch it in the CloudFormation console; run the command again when it has settled.",
        },
      );
    }
    await sleep(delay, options.signal);
    delay = Math.min(delay * 1.5, 10_000);
  }
}

async function waitForChangeSet(options: DeployOptions, changeSetName: string) {
  const sleep = options.sleep ?? defaultSleep;
  let delay = 500;
  for (let i = 0; i < 200; i++) {
    const cs = await options.cfn.describeChangeSet(options.stackName, changeSetName);
    if (!/PENDING|IN_PROGRESS/.test(cs.status)) return cs;
    await sleep(delay, options.signal);
    delay = Math.min(delay * 1.5, 5000);
  }
  throw new IamRaError("timeout", `Change set ${changeSetName} did not settle.`);
}

/** Deletes a stack and waits until it is gone. @public */
export async function deleteStack(options: Omit<DeployOptions, "template">): Promise<"deleted" | "absent"> {
  const full = {
    ...options,
    template: { AWSTemplateFormatVersion: "2010-09-09", Description: "", Resources: {} },
  } as DeployOptions;
  const before = await options.cfn.describeStack(options.stackName);
  if (!before || before.status === "DELETE_COMPLETE") return "absent";
  const since = (options.clock ?? { now: () => new Date() }).now();
  await options.cfn.deleteStack(options.stackName);
  const after = await waitForStack(full, since, new Set());
  if (after && after.status !== "DELETE_COMPLETE") {
    const events = await options.cfn.describeStackEvents(options.stackName);
    throw new StackFailedError(
      options.stackName,
      after.status,
      failureReason(events, since),
      events,
      "Something in the stack could not be deleted; fix it (e.g. a non-empty bucket) and run the command again.",
    );
  }
  return "deleted";
}

/**
 * Creates or updates a stack through a change set: "no changes" is detected, `dryRun` reports the
 * plan and changes nothing, progress is streamed through `onEvent`, a failure throws
 * {@link StackFailedError} with the cause from the events, and a stack left in `ROLLBACK_COMPLETE`
 * (a failed creation) is deleted so the next run can create it afresh.
 * @public
 */
export async function deployStack(options: DeployOptions): Promise<DeployResult> {
  const clock = options.clock ?? { now: () => new Date() };
  const seen = new Set<string>();
  let existing = await options.cfn.describeStack(options.stackName);
  if (existing?.status.endsWith("_IN_PROGRESS") && existing.status !== "REVIEW_IN_PROGRESS") {
    existing = await waitForStack(options, clock.now(), seen);
  }
  if (existing && (existing.status === "ROLLBACK_COMPLETE" || existing.status === "REVIEW_IN_PROGRESS")) {
    // A creation that failed (or was never executed) cannot be updated: remove it and start over.
    if (options.dryRun) existing = undefined;
    else {
      await deleteStack(options);
      existing = undefined;
    }
  } else if (existing && /FAILED$/.test(existing.status)) {
    throw new StackFailedError(
      options.stackName,
      existing.status,
      existing.statusReason ?? "the stack is in a failed state",
      [],
      "Resolve it in the CloudFormation console (e.g. continue the rollback), then run the command again.",
    );
  }
  if (existing?.status === "DELETE_COMPLETE") existing = undefined;

  const type = existing ? "UPDATE" : "CREATE";
  // Unique even for concurrent deploys (some implementations look change sets up by name alone).
  const changeSetName = `iam-ra-${clock.now().getTime().toString(36)}-${randomBytes(4).toString("hex")}`;
  const input: StackInput & { changeSetName: string; type: "CREATE" | "UPDATE" } = {
    stackName: options.stackName,
    templateBody: renderTemplate(options.template),
    parameters: options.parameters ?? {},
    tags: options.tags ?? {},
    capabilities: options.capabilities ?? ["CAPABILITY_NAMED_IAM"],
    changeSetName,
    type,
  };
  const since = clock.now();
  if ((await options.cfn.createChangeSet(input)) === "no-changes") {
    return {
      outcome: "unchanged",
      stackName: options.stackName,
      outputs: existing?.outputs ?? {},
      changes: [],
    };
  }
  let cs: Awaited<ReturnType<typeof waitForChangeSet>>;
  try {
    cs = await waitForChangeSet(options, changeSetName);
  } catch (error) {
    // Never leave a half-made (REVIEW_IN_PROGRESS) stack behind a change set we could not read.
    if (!existing) await options.cfn.deleteStack(options.stackName).catch(() => {});
    throw error;
  }
  if (cs.status === "FAILED") {
    await options.cfn.deleteChangeSet(options.stackName, changeSetName).catch(() => {});
    if (/didn't contain changes|No updates are to be performed/i.test(cs.statusReason ?? "")) {
      return {
        outcome: "unchanged",
        stackName: options.stackName,
        outputs: existing?.outputs ?? {},
        changes: [],
      };
    }
    if (!existing) await deleteStack(options).catch(() => {});
    throw new StackFailedError(
      options.stackName,
      "change set FAILED",
      cs.statusReason ?? "no reason given",
      [],
    );
  }
  if (options.dryRun) {
    await options.cfn.deleteChangeSet(options.stackName, changeSetName).catch(() => {});
    if (!existing) await options.cfn.deleteStack(options.stackName).catch(() => {});
    return {
      outcome: "dry-run",
      stackName: options.stackName,
      outputs: existing?.outputs ?? {},
      changes: cs.changes,
    };
  }
  try {
    await options.cfn.executeChangeSet(options.stackName, changeSetName);
  } catch (error) {
    // Refused outright (some implementations fail the call instead of the stack): report it the same way.
    const after = await options.cfn.describeStack(options.stackName).catch(() => undefined);
    if (!existing) await deleteStack(options).catch(() => {});
    throw new StackFailedError(
      options.stackName,
      after?.status ?? "EXECUTE_FAILED",
      error instanceof Error ? error.message : String(error),
      [],
    );
  }
  const done = await waitForStack(options, since, seen, true);
  if (done && TERMINAL_OK.has(done.status)) {
    return {
      outcome: type === "CREATE" ? "created" : "updated",
      stackName: options.stackName,
      outputs: done.outputs,
      changes: cs.changes,
    };
  }
  const events = await options.cfn.describeStackEvents(options.stackName);
  const status = done?.status ?? "DELETED";
  const reason = failureReason(events, since);
  if (status === "ROLLBACK_COMPLETE") await deleteStack(options).catch(() => {});
  throw new StackFailedError(options.stackName, status, reason, events);
}
