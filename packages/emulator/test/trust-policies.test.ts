import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { createTrustPolicySource, fetchIamTrustPolicy } from "../src/trust-policies.ts";
import { boundTrustPolicy } from "./harness.ts";

const ROLE = "arn:aws:iam::123456789012:role/cached";

/** A loopback IAM that answers GetRole with `answer()`: a policy, or an HTTP status to fail with. */
async function startFakeIam(answer: () => unknown | number) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push(new URLSearchParams(body).get("RoleName") ?? "");
      const value = answer();
      if (typeof value === "number") {
        res.writeHead(value).end("<ErrorResponse/>");
        return;
      }
      const doc = encodeURIComponent(JSON.stringify(value));
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(
        `<GetRoleResponse><GetRoleResult><Role><Arn>${ROLE}</Arn><AssumeRolePolicyDocument>${doc}</AssumeRolePolicyDocument></Role></GetRoleResult></GetRoleResponse>`,
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("trust policies read from IAM", () => {
  it("are reused for the TTL by the emulator's clock; concurrent lookups share one GetRole", async () => {
    let policy: unknown = boundTrustPolicy("one");
    const iam = await startFakeIam(() => policy);
    let now = 0;
    const source = createTrustPolicySource({
      registered: () => undefined,
      fetchFromIam: (arn) => fetchIamTrustPolicy(iam.url, arn),
      ttlMs: 2000,
      now: () => now,
    });
    const first = await Promise.all([source.lookup(ROLE), source.lookup(ROLE), source.lookup(ROLE)]);
    expect(first.map((l) => l.policy)).toEqual([policy, policy, policy]);
    expect(iam.seen).toEqual(["cached"]);

    const old = policy;
    policy = boundTrustPolicy("two");
    now = 1999;
    expect(await source.lookup(ROLE)).toEqual({ policy: old, cached: true });
    expect(await source.lookup(ROLE, { fresh: true })).toEqual({ policy, cached: false });
    now = 4000;
    expect(await source.lookup(ROLE)).toEqual({ policy, cached: false });
    // A clock that went back does not make an entry live forever.
    now = 10;
    expect(await source.lookup(ROLE)).toEqual({ policy, cached: false });
    expect(iam.seen).toHaveLength(4);
  });

  it("a failed lookup, or a role IAM does not know, is not cached", async () => {
    let answer: unknown | number = 500;
    const iam = await startFakeIam(() => answer);
    const source = createTrustPolicySource({
      registered: () => undefined,
      fetchFromIam: (arn) => fetchIamTrustPolicy(iam.url, arn),
      ttlMs: 60_000,
      now: () => 0,
    });
    expect(await source.lookup(ROLE)).toEqual({ policy: undefined, cached: false });
    answer = boundTrustPolicy("x");
    expect(await source.lookup(ROLE)).toEqual({ policy: answer, cached: false });
    expect(await source.lookup(ROLE)).toEqual({ policy: answer, cached: true });

    // IAM unreachable: the error reaches the caller, and the next call asks again.
    let fail = true;
    const flaky = createTrustPolicySource({
      registered: () => undefined,
      fetchFromIam: async (arn) => {
        if (fail) throw new Error("connect ECONNREFUSED");
        return await fetchIamTrustPolicy(iam.url, arn);
      },
      ttlMs: 60_000,
      now: () => 0,
    });
    await expect(flaky.lookup(ROLE)).rejects.toThrow(/ECONNREFUSED/);
    fail = false;
    expect(await flaky.lookup(ROLE)).toEqual({ policy: answer, cached: false });
  });

  it("a registered role wins over IAM and is never cached; ttl 0 asks IAM every time", async () => {
    const iam = await startFakeIam(() => boundTrustPolicy("iam"));
    let registered: { trustPolicy: unknown } | undefined = { trustPolicy: boundTrustPolicy("local") };
    const source = createTrustPolicySource({
      registered: () => registered,
      fetchFromIam: (arn) => fetchIamTrustPolicy(iam.url, arn),
      ttlMs: 0,
      now: () => 0,
    });
    expect(await source.lookup(ROLE)).toEqual({ policy: boundTrustPolicy("local"), cached: false });
    registered = undefined;
    await source.lookup(ROLE);
    await source.lookup(ROLE);
    expect(iam.seen).toEqual(["cached", "cached"]);
  });
});
