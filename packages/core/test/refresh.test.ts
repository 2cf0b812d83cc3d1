import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  CALL_BACKOFF,
  planRefresh,
  SDK_REFRESH_POLICY,
  SERVER_BACKOFF,
  SERVER_REFRESH_POLICY,
  stillValid,
  UPDATE_BACKOFF,
} from "../src/rolesanywhere/refresh.ts";
import { abortableSleep } from "../src/sleep.ts";

const MIN = 60_000;
const T0 = new Date("2026-11-22T12:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
/** Validity left when the policy renews a session of `lifetime` minted at T0. */
const leftAtRefresh = (lifetime: number, policy = SDK_REFRESH_POLICY) =>
  lifetime - (planRefresh(T0, at(lifetime), policy).getTime() - T0.getTime());

describe("planRefresh", () => {
  it.each([
    // [lifetime, validity left at renewal]
    [12 * 60 * MIN, 15 * MIN],
    [60 * MIN, 15 * MIN],
    [30 * MIN, 15 * MIN],
    [20 * MIN, 10 * MIN],
    [15 * MIN, 7.5 * MIN],
  ])("SDK policy: a %i ms session is renewed with %i ms left", (lifetime, left) => {
    expect(leftAtRefresh(lifetime)).toBe(left);
  });

  it.each([
    [12 * 60 * MIN, 6 * 60 * MIN],
    [60 * MIN, 30 * MIN],
    [30 * MIN, 20 * MIN],
    [15 * MIN, 14 * MIN],
  ])("server policy: a %i ms session is renewed with %i ms left", (lifetime, left) => {
    expect(leftAtRefresh(lifetime, SERVER_REFRESH_POLICY)).toBe(left);
  });

  it("never renews sooner than minAgeMs after minting, even for expired credentials", () => {
    expect(planRefresh(T0, at(-MIN))).toEqual(at(1000));
    expect(planRefresh(T0, at(500), SERVER_REFRESH_POLICY)).toEqual(at(MIN));
  });

  it("a custom margin moves the SDK window, half-life still winning for short sessions", () => {
    const policy = { ...SDK_REFRESH_POLICY, maxLeftMs: 5 * MIN };
    expect(leftAtRefresh(60 * MIN, policy)).toBe(5 * MIN);
    expect(leftAtRefresh(8 * MIN, policy)).toBe(4 * MIN);
  });
});

describe("backoffDelay", () => {
  it("full jitter: anywhere below min(max, base × 2^retry), rounded down", () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, () => 0.999999, CALL_BACKOFF))).toEqual([199, 399, 799]);
    expect(backoffDelay(1, () => 0, CALL_BACKOFF)).toBe(0);
    expect(backoffDelay(30, () => 0.5, CALL_BACKOFF)).toBe(10_000);
  });

  it("equal jitter: in the upper half of the ceiling, never at once", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, () => 0, UPDATE_BACKOFF))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect(backoffDelay(1, () => 0.999_999, UPDATE_BACKOFF)).toBe(1000);
    expect(backoffDelay(1, () => 0, SERVER_BACKOFF)).toBe(250);
    expect(backoffDelay(1, () => 0.5, SERVER_BACKOFF)).toBe(375);
  });

  it("is capped, however many failures", () => {
    expect(backoffDelay(1000, () => 1, UPDATE_BACKOFF)).toBe(5 * MIN);
    expect(backoffDelay(1000, () => 1, SERVER_BACKOFF)).toBe(MIN);
    expect(backoffDelay(1000, () => 0, SERVER_BACKOFF)).toBe(MIN / 2);
  });
});

describe("stillValid", () => {
  const held = { expiration: at(2 * MIN) };
  it("keeps the last good credentials until they expire, minus a safety margin", () => {
    expect(stillValid(held, T0)).toBe(held);
    expect(stillValid(held, at(2 * MIN))).toBeUndefined();
    expect(stillValid(held, at(MIN - 1), MIN)).toBe(held);
    expect(stillValid(held, at(MIN), MIN)).toBeUndefined();
    expect(stillValid(undefined, T0)).toBeUndefined();
  });
});

describe("abortableSleep", () => {
  it("rejects with the signal's reason on abort, and at once when already aborted", async () => {
    const controller = new AbortController();
    const pending = abortableSleep(60 * MIN, controller.signal);
    controller.abort(new Error("stopped"));
    await expect(pending).rejects.toThrow("stopped");
    await expect(abortableSleep(60 * MIN, controller.signal)).rejects.toThrow("stopped");
  });
});
