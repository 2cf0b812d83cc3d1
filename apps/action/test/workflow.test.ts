import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTION_DIR, readActionYml } from "./helpers.ts";

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

const workflow = parse(
  readFileSync(join(ACTION_DIR, "../../.github/workflows/action-selftest.yml"), "utf8"),
) as { permissions: unknown; jobs: Record<string, { steps: Step[] }> };
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);

describe(".github/workflows/action-selftest.yml", () => {
  it("uses ./apps/action only with inputs action.yml declares", () => {
    const inputs = Object.keys(readActionYml().inputs);
    const uses = steps.filter((s) => s.uses === "./apps/action");
    expect(uses.length).toBeGreaterThanOrEqual(3);
    for (const step of uses) {
      for (const name of Object.keys(step.with ?? {}))
        expect(inputs, `${step.name}: ${name}`).toContain(name);
    }
  });

  it("pins third-party actions by SHA, keeps the token read-only and off the disk", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    for (const step of steps.filter((s) => s.uses && !s.uses.startsWith("./"))) {
      expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
    }
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["persist-credentials"]).toBe(false);
  });

  it("puts no expression into a run script (values reach scripts through env)", () => {
    for (const step of steps.filter((s) => s.run)) expect(step.run, step.name).not.toContain("${{");
  });
});
