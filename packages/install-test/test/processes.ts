import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** How much of a failed command's output a failure message quotes. */
const TAIL_LINES = 40;

/** What {@link runProcess} runs. */
export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** The command is killed (its whole process group) and the run fails after this long. */
  deadlineMs: number;
}

/** The last lines of a command's output, for a failure message. */
export function tailOf(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split("\n");
  return (all.length > lines ? ["…", ...all.slice(-lines)] : all).join("\n");
}

/**
 * Runs a command with no stdin (turbo's and vitest's stdin never reach it) and resolves with its
 * stdout. It fails with the exit code or the deadline and the tail of stderr; at the deadline its
 * whole process group gets SIGTERM, then SIGKILL, so nothing it started outlives the test.
 */
export async function runProcess(command: string, args: string[], options: RunOptions): Promise<string> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    killGroup(child, "SIGTERM");
    setTimeout(() => killGroup(child, "SIGKILL"), 5_000).unref();
  }, options.deadlineMs);
  try {
    const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
    if (code === 0 && !timedOut) return stdout;
    const why = timedOut
      ? `did not finish within ${options.deadlineMs / 1000} s`
      : `failed (${code === null ? `signal ${signal}` : `exit ${code}`})`;
    throw new Error(
      `\`${[command, ...args].join(" ")}\` in ${options.cwd} ${why}.\n` +
        `stderr (last ${TAIL_LINES} lines):\n${tailOf(stderr) || "(empty)"}\n` +
        `stdout (last 10 lines):\n${tailOf(stdout, 10) || "(empty)"}`,
    );
  } finally {
    clearTimeout(deadline);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Resolves with the first chunk of stdout that matches `pattern`. Rejects, with what the process
 * printed, when it exits first or prints nothing matching within `deadlineMs`.
 */
export async function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  deadlineMs: number,
): Promise<string> {
  let out = "";
  let err = "";
  const onErr = (chunk: Buffer) => {
    err += String(chunk);
  };
  child.stderr?.on("data", onErr);
  try {
    return await new Promise<string>((resolve, reject) => {
      const fail = (why: string) =>
        reject(
          new Error(`${why}.\nstdout:\n${tailOf(out) || "(empty)"}\nstderr:\n${tailOf(err) || "(empty)"}`),
        );
      const timer = setTimeout(
        () => fail(`no output matching ${pattern} within ${deadlineMs / 1000} s`),
        deadlineMs,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        out += String(chunk);
        if (pattern.test(out)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        fail(`exited (${code ?? signal}) before printing ${pattern}`);
      });
    });
  } finally {
    child.stderr?.off("data", onErr);
  }
}

/** Stops a server process started by a test and waits for it to exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
