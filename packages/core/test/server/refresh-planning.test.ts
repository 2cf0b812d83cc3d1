import { describe, expect, it } from "vitest";
import { planRefresh, retryDelay } from "../../src/server/credential-source.ts";

const MIN = 60_000;

describe("refresh planning", () => {
  it.each([
    // [lifetime, expected time left when refreshing]
    [60 * MIN, 30 * MIN],
    [12 * 60 * MIN, 6 * 60 * MIN],
    [30 * MIN, 20 * MIN],
    [15 * MIN, 14 * MIN],
  ])("a %i ms session is refreshed with %i ms left", (lifetime, left) => {
    const obtained = new Date("2026-11-22T12:00:00Z");
    const expiry = new Date(obtained.getTime() + lifetime);
    expect(expiry.getTime() - planRefresh(obtained, expiry).getTime()).toBe(left);
    // Always before stock SDKs would start refreshing (15 min left), when the session allows it.
    if (lifetime > 16 * MIN) expect(left).toBeGreaterThan(15 * MIN);
  });

  it("backs off with jitter between 0.25 s and 60 s", () => {
    expect(retryDelay(1, () => 0)).toBe(250);
    expect(retryDelay(1, () => 0.999)).toBeLessThanOrEqual(2250);
    expect(retryDelay(30, () => 0.999)).toBeLessThanOrEqual(60_250);
  });
});
