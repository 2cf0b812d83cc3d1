import { createHash } from "node:crypto";
import { IamRaError } from "../errors.ts";

/** What a name is for; each kind has its own rule. @public */
export type NameKind = "namespace" | "scope" | "role" | "hostname" | "cluster" | "workload";

const RULES: Record<NameKind, { re: RegExp; max: number; example: string }> = {
  namespace: { re: /^[a-z][a-z0-9-]*$/, max: 20, example: "prod" },
  scope: { re: /^[a-z][a-z0-9-]*$/, max: 20, example: "default" },
  // Roles Anywhere profile names (iam-ra-<ns>-<role>) allow only letters, digits, spaces, - and _.
  role: { re: /^[A-Za-z][A-Za-z0-9_-]*$/, max: 40, example: "web-reader" },
  hostname: {
    re: /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
    max: 253,
    example: "web-1.example.com",
  },
  cluster: { re: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, max: 40, example: "prod-eu" },
  workload: { re: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, max: 52, example: "billing-api" },
};

/**
 * Checks a user-given name before any AWS call; throws an `invalid-input` error naming the rule.
 * Role names are further limited so that `iam-ra-<namespace>-<role>` fits IAM's 64 characters.
 * @public
 */
export function validateName(kind: NameKind, value: string, namespace?: string): void {
  const rule = RULES[kind];
  let max = rule.max;
  if (kind === "role" && namespace !== undefined) max = Math.min(max, 64 - `iam-ra-${namespace}-`.length);
  if (!rule.re.test(value) || value.length > max) {
    throw new IamRaError("invalid-input", `"${value}" is not a valid ${kind} name.`, {
      hint: `Use ${kind === "hostname" ? "a DNS name" : "letters, digits and hyphens, starting with a letter"}, at most ${max} characters (e.g. ${rule.example}).`,
    });
  }
}

/**
 * A CloudFormation stack name for a resource of the namespace: `iam-ra-<ns>-<kind>-<name>`, with
 * characters stacks refuse (dots, underscores…) turned into hyphens, and names over 128 characters
 * shortened with a hash so two long names never collide.
 * @public
 */
export function stackName(namespace: string, kind: string, name?: string): string {
  const raw = ["iam-ra", namespace, kind, ...(name === undefined ? [] : [name])].join("-");
  let safe = raw
    .replace(/[^A-Za-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/-$/, "");
  if (safe !== raw || safe.length > 128) {
    const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
    safe = `${safe.slice(0, 128 - 9)}-${hash}`;
  }
  return safe;
}

/** The IAM role (and Roles Anywhere profile) name of an iam-ra role. @public */
export const iamRoleName = (namespace: string, role: string) => `iam-ra-${namespace}-${role}`;
