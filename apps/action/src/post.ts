/**
 * Entry of the post step (`runs.post`): clears what the main step exported.
 * @module
 */
import * as core from "@actions/core";
import { run } from "./cleanup.ts";
import { runStep } from "./exit.ts";

runStep(run, async (error) => {
  if (error instanceof Error && error.stack) core.debug(error.stack);
  // Loaded only on failure (a file of its own in dist/).
  const { describeFailure } = await import("./failure.ts");
  core.setFailed(describeFailure(error));
});
