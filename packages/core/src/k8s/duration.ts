import { IamRaError } from "../errors.ts";

const UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000 };

/**
 * Reads a duration the way cert-manager does (Go's `time.ParseDuration`), limited to hours,
 * minutes and seconds: `24h`, `90m`, `1h30m`, `2160h0m0s`, `1.5h`. Returns milliseconds, or
 * undefined when the text is not such a duration or is not a whole number of seconds.
 * @public
 */
export function parseK8sDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?[hms])+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return Number.isInteger(ms / 1000) ? ms : undefined;
}

/**
 * Writes milliseconds as the shortest Go duration without zero parts: `24h`, `1h30m`, `45m10s`.
 * @public
 */
export function formatK8sDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const out = `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
  return out || "0s";
}

/** Bounds of a workload certificate's lifetime. @public */
export const CERTIFICATE_DURATION_LIMITS = {
  /** cert-manager refuses shorter certificates. */
  minDurationMs: 3_600_000,
  /** Namespace issuers are renewed with 90 days left, so a leaf never outlives its issuer. */
  maxDurationMs: 90 * 86_400_000,
  /** The sidecar needs time to pick up the new certificate before the old one expires. */
  minRenewBeforeMs: 5 * 60_000,
} as const;

/**
 * Checks and normalises a Certificate's `duration` and `renewBefore`: duration 1h–2160h (90 days),
 * renewBefore at least 5m and shorter than the duration. Throws `invalid-input` naming the fix.
 * @returns both in Go form, e.g. `{ duration: "24h", renewBefore: "8h" }`.
 * @public
 */
export function validateCertificateTiming(input: { duration: string; renewBefore: string }): {
  duration: string;
  renewBefore: string;
} {
  const duration = parseK8sDuration(input.duration);
  const renewBefore = parseK8sDuration(input.renewBefore);
  const limits = CERTIFICATE_DURATION_LIMITS;
  if (duration === undefined || duration < limits.minDurationMs || duration > limits.maxDurationMs) {
    throw new IamRaError(
      "invalid-input",
      `Certificate duration "${input.duration}" is not between 1h and 2160h.`,
      {
        hint: "Pass --duration as a Go duration between 1h and 2160h (90 days), e.g. 24h.",
      },
    );
  }
  if (renewBefore === undefined || renewBefore < limits.minRenewBeforeMs || renewBefore >= duration) {
    throw new IamRaError(
      "invalid-input",
      `renewBefore "${input.renewBefore}" must be at least 5m and shorter than the duration (${input.duration}).`,
      { hint: "Pass --renew-before as a Go duration, e.g. a third of --duration (8h for 24h)." },
    );
  }
  return { duration: formatK8sDuration(duration), renewBefore: formatK8sDuration(renewBefore) };
}
