/**
 * Ends a step's process once its work is done. Left to itself, Node would tear down the whole
 * runtime first (handles, heap) before the runner sees the step end: about 1 ms of a ~60 ms step,
 * for nothing, since every file command is already written synchronously. Output still queued for
 * stdout (a pipe is asynchronous on some platforms) is flushed first. The exit code is whatever
 * the step set (`core.setFailed` sets 1).
 */
export function exitWhenFlushed(): void {
  const stdout = process.stdout;
  if (stdout.writableLength > 0) stdout.once("drain", () => process.exit());
  else process.exit();
}
