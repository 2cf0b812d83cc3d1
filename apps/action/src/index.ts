/**
 * Entry of the main step (`runs.main`): runs the action and turns any failure into one
 * `::error::` line with the next step, and exit code 1.
 * @module
 */
import * as core from "@actions/core";
import { runStep } from "./exit.ts";
import { describeFailure } from "./failure.ts";
import { run } from "./main.ts";

runStep(run, (error) => {
  if (error instanceof Error && error.stack) core.debug(error.stack);
  core.setFailed(describeFailure(error));
});
