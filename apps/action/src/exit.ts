/**
 * Ends a step's process once its work is done. Left to itself, Node would tear down the whole
 * runtime first (handles, heap) before the runner sees the step end: about 1 ms of a ~60 ms step,
 * for nothing, since every file command is already written synchronously. Output still queued for
 * stdout (a pipe can be asynchronous) is flushed first: an empty write's callback runs
 * once everything written before it is out. The exit code is whatever the step set
 * (`core.setFailed` sets 1).
 */
export function exitWhenFlushed(): void {
  // Only stdout: the step writes nothing else, and reading process.stderr would create it.
  if (process.stdout.writableLength > 0) process.stdout.write("", () => process.exit());
  else process.exit();
}

/**
 * Runs a step's entry: `run`, then `report` for a failure, then {@link exitWhenFlushed}. Should
 * reporting itself fail, the step still fails (exit code 1) instead of ending as a success.
 */
export function runStep(run: () => Promise<void>, report: (error: unknown) => void | Promise<void>): void {
  run()
    .catch(report)
    .catch(() => {
      process.exitCode = 1;
      process.stdout.write("::error::The step failed, and reporting the failure failed too.\n");
    })
    .then(exitWhenFlushed);
}
