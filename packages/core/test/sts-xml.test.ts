import { describe, expect, test } from "vitest";
import { findElement, parseXml, XmlSyntaxError } from "../src/sts/xml.ts";

const ASSUME_ROLE = `<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
    <Credentials><SessionToken>a&amp;b&#x2F;c&#47;</SessionToken><Expiration>2026-01-01T00:00:00Z</Expiration></Credentials>
  </AssumeRoleResult>
  <!-- a comment --><ResponseMetadata><RequestId><![CDATA[id-<1>]]></RequestId></ResponseMetadata>
</AssumeRoleResponse>
`;

describe("parseXml", () => {
  test("reads elements, references, CDATA and comments of an STS answer", () => {
    const root = parseXml(ASSUME_ROLE);
    expect(root.name).toBe("AssumeRoleResponse");
    expect(findElement(root, "AssumeRoleResult", "Credentials", "SessionToken")?.text).toBe("a&b/c/");
    expect(findElement(root, "AssumeRoleResult", "AssumedRoleUser", "Arn")?.text).toBe(
      "arn:aws:sts::123456789012:assumed-role/r/s",
    );
    expect(findElement(root, "ResponseMetadata", "RequestId")?.text).toBe("id-<1>");
    expect(findElement(root, "Nope")).toBeUndefined();
  });

  test("matches prefixed names by their local part", () => {
    expect(findElement(parseXml("<a:R><a:X>1</a:X></a:R>"), "X")?.text).toBe("1");
  });

  test.each([
    ["a DOCTYPE", '<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'],
    ["an unknown entity", "<r>&e;</r>"],
    ["an unterminated reference", "<r>a &amp b</r>"],
    ["a character reference out of range", "<r>&#x110000;</r>"],
    ["mismatched tags", "<r><a></b></r>"],
    ["a missing end tag", "<r><a>x</a>"],
    ["content after the root", "<r/><s/>"],
    ["no root element", "not xml"],
    ["an empty body", ""],
    ["nesting too deep", `${"<a>".repeat(40)}${"</a>".repeat(40)}`],
  ])("refuses %s", (_, text) => {
    expect(() => parseXml(text)).toThrow(XmlSyntaxError);
  });

  test("a large flat body is parsed in linear time", () => {
    const body = `<r>${"<a>x</a>".repeat(100_000)}</r>`;
    const started = performance.now();
    expect(parseXml(body).children).toHaveLength(100_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
