import { IamRaError } from "../errors.ts";

/**
 * An ARN split into its parts.
 * @public
 */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  /** Everything after the account, e.g. `trust-anchor/1234…` or `role/path/name`. */
  resource: string;
}

/**
 * Parses an ARN; returns undefined when it is not one.
 * @public
 */
export function parseArn(value: string): Arn | undefined {
  const m = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/.exec(value);
  if (!m) return undefined;
  return { partition: m[1]!, service: m[2]!, region: m[3]!, accountId: m[4]!, resource: m[5]! };
}

/** What {@link validateArn} checks for. @public */
export type ArnKind = "trust-anchor" | "profile" | "role" | "crl";

const KIND_RULES: Record<ArnKind, { service: string; prefix: string; regional: boolean; flag: string }> = {
  "trust-anchor": {
    service: "rolesanywhere",
    prefix: "trust-anchor/",
    regional: true,
    flag: "--trust-anchor-arn",
  },
  profile: { service: "rolesanywhere", prefix: "profile/", regional: true, flag: "--profile-arn" },
  crl: { service: "rolesanywhere", prefix: "crl/", regional: true, flag: "--crl-arn" },
  role: { service: "iam", prefix: "role/", regional: false, flag: "--role-arn" },
};

/**
 * Parses an ARN of the given kind, or throws an error that says what a valid one looks like.
 * @public
 */
export function validateArn(value: string | undefined, kind: ArnKind): Arn {
  const rule = KIND_RULES[kind];
  const example =
    kind === "role"
      ? "arn:aws:iam::123456789012:role/MyRole"
      : `arn:aws:rolesanywhere:us-east-1:123456789012:${rule.prefix}00000000-0000-0000-0000-000000000000`;
  if (value === undefined || value === "") {
    throw new IamRaError("arn-invalid", `The ${kind} ARN is missing.`, {
      hint: `Pass ${rule.flag} ${example}`,
    });
  }
  const arn = parseArn(value.trim());
  const ok =
    arn &&
    arn.service === rule.service &&
    arn.resource.startsWith(rule.prefix) &&
    arn.resource.length > rule.prefix.length &&
    arn.accountId !== "" &&
    (rule.regional ? arn.region !== "" : arn.region === "");
  if (!ok || !arn) {
    throw new IamRaError("arn-invalid", `"${value}" is not a valid ${kind} ARN.`, {
      hint: `A ${kind} ARN looks like ${example}`,
    });
  }
  return arn;
}

/** The last `/`-segment of a role ARN's resource: `role/path/name` → `name`. @public */
export function roleNameFromArn(arn: Arn): string {
  return arn.resource.split("/").at(-1) ?? "";
}
