import { IamRaError, ServiceError } from "@iam-ra/core";
import type { AwsCredentials } from "@iam-ra/core/rolesanywhere";
import { FixedClock } from "@iam-ra/core/testing";
import { describe, expect, it } from "vitest";
import {
  abortableSleep,
  credentialsFileKeys,
  planBackoffDelay,
  planRefreshDelay,
  runUpdateLoop,
  type UpdateEvent,
  type UpdateLoopDeps,
} from "../src/services/update.ts";

const MIN = 60_000;

/** A loop harness: a fixed clock moved by sleep, a scripted fetch, and a record of what happened. */
function harness(script: Array<number | Error>, options: { stopAfterSleeps?: number } = {}) {
  const clock = new FixedClock("2026-03-01T00:00:00Z");
  const controller = new AbortController();
  const sleeps: number[] = [];
  const written: AwsCredentials[] = [];
  const events: UpdateEvent[] = [];
  let call = 0;
  const deps: UpdateLoopDeps = {
    clock,
    signal: controller.signal,
    random: () => 0.5,
    fetch: async () => {
      const step = script[Math.min(call++, script.length - 1)]!;
      if (step instanceof Error) throw step;
      return {
        accessKeyId: `ASIA${call}`,
        secretAccessKey: "s",
        sessionToken: "t",
        expiration: new Date(clock.now().getTime() + step * 1000),
      };
    },
    write: async (c) => {
      written.push(c);
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
      if (sleeps.length >= (options.stopAfterSleeps ?? 3)) controller.abort();
    },
    onEvent: (e) => events.push(e),
  };
  return { deps, clock, sleeps, written, events, abort: () => controller.abort() };
}

const network = () => new IamRaError("network", "connection refused");

describe("planRefreshDelay / planBackoffDelay", () => {
  const now = new Date("2026-03-01T00:00:00Z");
  it("refreshes 15 minutes before expiry, or at half-life for short sessions, never sooner than 1 s", () => {
    expect(planRefreshDelay(new Date(now.getTime() + 60 * MIN), now)).toBe(45 * MIN);
    expect(planRefreshDelay(new Date(now.getTime() + 12 * 60 * MIN), now)).toBe((12 * 60 - 15) * MIN);
    expect(planRefreshDelay(new Date(now.getTime() + 15 * MIN), now)).toBe(7.5 * MIN);
    expect(planRefreshDelay(new Date(now.getTime() - MIN), now)).toBe(1_000);
  });

  it("backs off exponentially with jitter, capped at 5 minutes", () => {
    expect([1, 2, 3, 4].map((n) => planBackoffDelay(n, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(planBackoffDelay(1, () => 0.999_999)).toBe(1000);
    expect(planBackoffDelay(30, () => 1)).toBe(5 * MIN);
  });
});

describe("runUpdateLoop", () => {
  it("--once: one fetch, one write, no sleep", async () => {
    const h = harness([3600]);
    const outcome = await runUpdateLoop(h.deps, { once: true });
    expect(outcome).toMatchObject({ state: "written", refreshes: 1 });
    expect(h.written).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });

  it("--once: a failure is the command's failure", async () => {
    const h = harness([network()]);
    await expect(runUpdateLoop(h.deps, { once: true })).rejects.toThrow("connection refused");
    expect(h.written).toEqual([]);
  });

  it("refreshes 15 minutes before each expiry until stopped", async () => {
    const h = harness([3600]);
    const outcome = await runUpdateLoop(h.deps, { once: false });
    expect(h.sleeps).toEqual([45 * MIN, 45 * MIN, 45 * MIN]);
    expect(h.written.map((c) => c.accessKeyId)).toEqual(["ASIA1", "ASIA2", "ASIA3"]);
    expect(outcome).toMatchObject({ state: "stopped", refreshes: 3 });
    expect(outcome.expiration?.toISOString()).toBe("2026-03-01T02:30:00.000Z");
    expect(h.events.at(-1)).toEqual({ type: "stopped" });
    expect(h.events[0]).toMatchObject({ type: "written", nextRefreshAt: new Date("2026-03-01T00:45:00Z") });
  });

  it("after a success, failures are retried with backoff while the written credentials stay", async () => {
    const denied = new ServiceError("access-denied", "denied", { statusCode: 403, retryable: false });
    const h = harness([3600, network(), denied, 3600], { stopAfterSleeps: 4 });
    await runUpdateLoop(h.deps, { once: false });
    expect(h.sleeps).toEqual([45 * MIN, 750, 1500, 45 * MIN]);
    expect(h.written).toHaveLength(2);
    const failed = h.events.filter((e) => e.type === "failed");
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ credentialsValidUntil: new Date("2026-03-01T01:00:00Z") });
  });

  it("at start-up a configuration error stops the loop; a transient one is retried", async () => {
    const bad = harness([new IamRaError("arn-invalid", "bad ARN")]);
    await expect(runUpdateLoop(bad.deps, { once: false })).rejects.toThrow("bad ARN");
    expect(bad.sleeps).toEqual([]);

    const throttled = new ServiceError("throttled", "slow down", { statusCode: 429, retryable: true });
    const flaky = harness([network(), throttled, 900], { stopAfterSleeps: 3 });
    await runUpdateLoop(flaky.deps, { once: false });
    expect(flaky.sleeps).toEqual([750, 1500, 7.5 * MIN]);
    expect(flaky.written).toHaveLength(1);
  });

  it("stops without writing when aborted during a fetch", async () => {
    const h = harness([3600]);
    const fetch = h.deps.fetch;
    h.deps.fetch = async () => {
      h.abort();
      return fetch();
    };
    const outcome = await runUpdateLoop(h.deps, { once: false });
    expect(outcome).toMatchObject({ state: "stopped", refreshes: 0 });
    expect(h.written).toEqual([]);
  });
});

describe("abortableSleep", () => {
  it("resolves early on abort, and at once when already aborted", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = abortableSleep(60_000, controller.signal);
    controller.abort();
    await pending;
    await abortableSleep(60_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("credentialsFileKeys", () => {
  it("the three keys, the account, and the expiry and role for people", () => {
    expect(
      credentialsFileKeys(
        {
          accessKeyId: "ASIA1",
          secretAccessKey: "s",
          sessionToken: "t",
          expiration: new Date("2026-03-01T01:00:00Z"),
          accountId: "123456789012",
        },
        "arn:aws:iam::123456789012:role/r",
      ),
    ).toEqual({
      aws_access_key_id: "ASIA1",
      aws_secret_access_key: "s",
      aws_session_token: "t",
      aws_account_id: "123456789012",
      x_security_token_expires: "2026-03-01T01:00:00.000Z",
      x_iam_ra_role_arn: "arn:aws:iam::123456789012:role/r",
    });
  });
});
