/**
 * Entry of the main step (`runs.main`): runs the action and turns any failure into one
 * `::error::` line with the next step, and exit code 1.
 * @module
 */
import * as core from "@actions/core";
import { runStep } from "./exit.ts";
import { run } from "./main.ts";

runStep(run, async (error) => {
  if (error instanceof Error && error.stack) core.debug(error.stack);
  // Loaded only on failure (a file of its own in dist/).
  const { describeFailure } = await import("./failure.ts");
  core.setFailed(describeFailure(error));
});
