/**
 * Entry of the post step (`runs.post`): clears what the main step exported.
 * @module
 */
import * as core from "@actions/core";
import { run } from "./cleanup.ts";
import { runStep } from "./exit.ts";
import { describeFailure } from "./failure.ts";

runStep(run, (error) => {
  if (error instanceof Error && error.stack) core.debug(error.stack);
  core.setFailed(describeFailure(error));
});
