import { IamRaError } from "@iam-ra/core";
import { Flags } from "../runtime/flags.ts";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `90s`, `45m`, `2h` (a bare number is minutes) as milliseconds; at most 24 hours. */
export function parseWait(input: string): number {
  const match = /^(\d+)\s*([smh]?)$/.exec(input.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] || "m") as keyof typeof UNIT_MS] : Number.NaN;
  if (!Number.isFinite(ms) || ms > 24 * UNIT_MS.h) {
    throw new IamRaError("invalid-input", `--wait ${input} is not a duration of at most 24 hours.`, {
      hint: "Write it as 90s, 45m or 2h (a bare number is minutes).",
    });
  }
  return ms;
}

/**
 * `--wait`: how long to wait for an AWS Private CA to publish a CRL listing the revoked serials
 * (it does within about 30 minutes of a revocation) before importing it into Roles Anywhere.
 */
export const waitFlag = Flags.custom<number>({
  description:
    "Private CA scopes: wait up to this long (90s, 45m, 2h) for the CA to publish a CRL listing the revoked serials, then import it. Default: import what is published now.",
  helpValue: "<duration>",
  parse: async (input) => parseWait(input),
});
