import { describe, expect, it } from "vitest";
import { inOrder } from "../src/services/concurrency.ts";

describe("inOrder", () => {
  it("keeps the tasks' order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const task = (value: number, ticks: number) => async () => {
      running++;
      most = Math.max(most, running);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      running--;
      return value;
    };
    const results = await inOrder([task(1, 5), task(2, 1), task(3, 3), task(4, 0), task(5, 2)], 2);
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    expect(await inOrder([], 8)).toEqual([]);
  });

  it("rejects with the first failure and starts nothing after it", async () => {
    const started: number[] = [];
    const tasks = [0, 1, 2, 3].map((i) => async () => {
      started.push(i);
      if (i === 1) throw new Error("boom");
      return i;
    });
    await expect(inOrder(tasks, 1)).rejects.toThrow("boom");
    expect(started).toEqual([0, 1]);
  });
});
