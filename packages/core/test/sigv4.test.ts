import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { formatAmzDate, parseAmzDate, uriEncode } from "../src/sigv4/canonical.ts";

const SAMPLES = [
  "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
  "arn:aws:iam::123456789012:role/path/to/Role+Name=1,2@x",
  "unreserved-_.~AZaz09",
  "sub-delims !$&'()*+,;= and gen-delims :/?#[]@",
  'space, tab\t, newline\n, percent %41 and quote " < > \\ ^ ` { | }',
  "non-ASCII: é ü ß € 日本 😀",
  Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join(""),
];

describe("uriEncode (SigV4 URI encoding)", () => {
  it("matches Python's urllib.parse.quote with only unreserved characters kept", () => {
    const expected = JSON.parse(
      execFileSync(
        "python3",
        [
          "-c",
          "import json,sys,urllib.parse as u; v=json.load(sys.stdin); print(json.dumps([[u.quote(s, safe='~'), u.quote(s, safe='~/')] for s in v]))",
        ],
        { input: JSON.stringify(SAMPLES), encoding: "utf8" },
      ),
    ) as Array<[string, string]>;
    expect(SAMPLES.map((s) => [uriEncode(s), uriEncode(s, false)])).toEqual(expected);
  });

  it("encodes a lone surrogate as the UTF-8 replacement character", () => {
    expect(uriEncode("a\ud800b")).toBe("a%EF%BF%BDb");
  });
});

describe("formatAmzDate", () => {
  it("is YYYYMMDDTHHMMSSZ in UTC, milliseconds dropped, and round-trips through parseAmzDate", () => {
    expect(formatAmzDate(new Date("2026-12-04T05:07:09.999Z"))).toBe("20261204T050709Z");
    expect(formatAmzDate(new Date("1999-01-02T03:04:05Z"))).toBe("19990102T030405Z");
    expect(parseAmzDate(formatAmzDate(new Date("2030-02-28T23:59:59Z")))?.toISOString()).toBe(
      "2030-02-28T23:59:59.000Z",
    );
    expect(formatAmzDate(new Date("+010000-01-01T00:00:00Z"))).toBe("+0100000101T000000Z");
    expect(() => formatAmzDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});
