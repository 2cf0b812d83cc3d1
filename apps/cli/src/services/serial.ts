/**
 * Certificate serial numbers in human output: lowercase hexadecimal without colons, as
 * `openssl x509 -serial` prints them (in lowercase). `--json` keeps the decimal `serialNumber`
 * iam-ra stores.
 * @module
 */
import { IamRaError } from "@iam-ra/core";

/** A decimal serial as iam-ra prints it to people: hex, e.g. `0x1f3a…` → `1f3a…`. */
export function formatSerial(decimal: string): string {
  return /^\d+$/.test(decimal) ? BigInt(decimal).toString(16) : decimal;
}

/**
 * A `--serial` value → the decimal iam-ra stores. Hex as printed (`0x` and colons optional) when it
 * has a letter or a `0x`; digits only are the decimal of `--json`. (A random serial's hex has a
 * letter but for about 1 in 3 million; the host's own serials are checked before anything is revoked.)
 */
export function parseSerialFlag(value: string): string {
  const text = value.trim().toLowerCase().replaceAll(":", "");
  if (/^\d+$/.test(text)) return BigInt(text).toString();
  const hex = text.startsWith("0x") ? text.slice(2) : text;
  if (/^[0-9a-f]+$/.test(hex)) return BigInt(`0x${hex}`).toString();
  throw new IamRaError("invalid-input", `--serial ${value} is not a serial number.`, {
    hint: "Pass the serial as `iam-ra host list` prints it (hexadecimal, e.g. 3f2a9c…).",
  });
}
