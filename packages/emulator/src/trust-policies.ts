/**
 * Role trust policies: the ones registered with the emulator, else IAM's (GetRole at an endpoint
 * such as moto), remembered for a short while so a busy emulator does not ask IAM on every call.
 * @module
 */
import type { TrustDecision } from "@iam-ra/core/rolesanywhere";

/** How long an IAM trust policy is reused by default: AWS's own changes take effect within seconds. */
export const DEFAULT_TRUST_POLICY_TTL_MS = 2000;

const DUMMY_AUTH =
  "AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00";

/** Reads a role's trust policy with IAM's GetRole; undefined when IAM does not answer with one. */
export async function fetchIamTrustPolicy(endpoint: string, roleArn: string): Promise<unknown | undefined> {
  const name = roleArn.split("/").at(-1)!;
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: DUMMY_AUTH },
    body: new URLSearchParams({ Action: "GetRole", RoleName: name, Version: "2010-05-08" }).toString(),
  });
  if (!res.ok) return undefined;
  // Query-protocol XML; the policy document arrives URL-encoded inside it (IAM's documented form).
  const { XMLParser } = await import("fast-xml-parser");
  const parsed = new XMLParser({ parseTagValue: false }).parse(await res.text()) as {
    GetRoleResponse?: { GetRoleResult?: { Role?: { Arn?: string; AssumeRolePolicyDocument?: string } } };
  };
  const role = parsed.GetRoleResponse?.GetRoleResult?.Role;
  if (!role?.AssumeRolePolicyDocument || (role.Arn && role.Arn !== roleArn)) return undefined;
  try {
    return JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument));
  } catch {
    return undefined;
  }
}

/** A trust policy as looked up: `cached` when it may be up to the TTL old. */
export interface TrustPolicyLookup {
  policy: unknown | undefined;
  cached: boolean;
}

/** Where CreateSession and STS read trust policies; `fresh` skips any cache. */
export type TrustPolicySource = (
  roleArn: string,
  options?: { fresh?: boolean },
) => Promise<TrustPolicyLookup>;

/** Options of {@link createTrustPolicySource}. */
export interface TrustPolicySourceOptions {
  /** A role registered with the emulator (putRole); it wins over IAM and is never cached. */
  registered: (roleArn: string) => { trustPolicy: unknown } | undefined;
  /** Asks IAM; undefined when the role is unknown. Absent: only registered roles exist. */
  fetchFromIam?: ((roleArn: string) => Promise<unknown | undefined>) | undefined;
  /** How long a policy IAM returned is reused; 0 asks IAM every time. */
  ttlMs: number;
  /** Milliseconds; the emulator's clock. */
  now: () => number;
}

interface Entry {
  /** When the lookup started; the TTL counts from here, so a policy is never older than it says. */
  startedAt: number;
  /** Settled: the policy found. Pending: the lookup every concurrent caller shares. */
  result: Promise<unknown | undefined>;
  settled: boolean;
}

/**
 * A {@link TrustPolicySource} with a cache in front of IAM. Only a found policy is kept, for
 * `ttlMs`; a role IAM does not know, and a failed call, are asked again next time. Concurrent
 * lookups of one role share one GetRole call (single flight). A clock that goes back expires the
 * entry. `clear()` forgets everything (the emulator's reset).
 */
export function createTrustPolicySource(options: TrustPolicySourceOptions): {
  lookup: TrustPolicySource;
  clear: () => void;
} {
  const entries = new Map<string, Entry>();
  const fetchFromIam = options.fetchFromIam;
  const lookup: TrustPolicySource = async (roleArn, { fresh = false } = {}) => {
    const role = options.registered(roleArn);
    if (role) return { policy: role.trustPolicy, cached: false };
    if (!fetchFromIam) return { policy: undefined, cached: false };
    const now = options.now();
    const current = entries.get(roleArn);
    if (current) {
      if (!current.settled) return { policy: await current.result, cached: false };
      const age = now - current.startedAt;
      if (!fresh && age >= 0 && age < options.ttlMs) return { policy: await current.result, cached: true };
    }
    const entry: Entry = { startedAt: now, result: fetchFromIam(roleArn), settled: false };
    entries.set(roleArn, entry);
    const forget = () => {
      if (entries.get(roleArn) === entry) entries.delete(roleArn);
    };
    try {
      const policy = await entry.result;
      entry.settled = true;
      if (policy === undefined || options.ttlMs <= 0) forget();
      return { policy, cached: false };
    } catch (error) {
      forget();
      throw error;
    }
  };
  return { lookup, clear: () => entries.clear() };
}

/**
 * Decides with a role's trust policy. A refusal based on a cached policy is checked again against
 * a fresh one, so a trust policy that now allows takes effect at once; one that no longer allows
 * takes effect once the cached copy expires, as in AWS, where IAM changes need seconds to spread.
 */
export async function decideTrust(
  source: TrustPolicySource,
  roleArn: string,
  decide: (policy: unknown | undefined) => TrustDecision,
): Promise<TrustDecision> {
  const first = await source(roleArn);
  const decision = decide(first.policy);
  if (decision.allowed || !first.cached) return decision;
  return decide((await source(roleArn, { fresh: true })).policy);
}
