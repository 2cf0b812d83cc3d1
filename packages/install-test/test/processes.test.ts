import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { runProcess, tailOf } from "./processes.ts";

describe("runProcess", () => {
  it("resolves with stdout", async () => {
    await expect(
      runProcess("sh", ["-c", "echo out; echo err >&2"], { cwd: tmpdir(), deadlineMs: 30_000 }),
    ).resolves.toBe("out\n");
  });

  it("fails with the exit code and the tail of stderr", async () => {
    const script = "for i in $(seq 1 100); do echo line-$i >&2; done; echo partial; exit 3";
    const failure = runProcess("sh", ["-c", script], { cwd: tmpdir(), deadlineMs: 30_000 });
    await expect(failure).rejects.toThrow(/failed \(exit 3\)/);
    const message = await failure.catch((e: Error) => e.message);
    expect(message).toContain("line-100");
    expect(message).toContain("line-61");
    expect(message).not.toContain("line-60\n");
    expect(message).toContain("partial");
  });

  it("at its deadline kills the command and what it started (the pipes close), and says so", async () => {
    // The background sleep holds stdout: the run settles only once the whole process group is gone.
    const script = "echo started >&2; sleep 600 & wait";
    const failure = runProcess("sh", ["-c", script], { cwd: tmpdir(), deadlineMs: 500 });
    await expect(failure).rejects.toThrow(/did not finish within 0\.5 s[\s\S]*started/);
  });
});

it("tailOf keeps the last lines and marks the cut", () => {
  expect(tailOf("a\nb\nc\n", 2)).toBe("…\nb\nc");
  expect(tailOf("a\nb", 2)).toBe("a\nb");
});
