import { describe, expect, it } from "vitest";
import {
  checkAttributeMappings,
  mapsPrincipalTag,
  parseAttributeMappings,
} from "../src/rolesanywhere/attribute-mappings.ts";
import { createTestPki } from "../src/testing/index.ts";
import { derivePrincipalTags, parseCertificate } from "../src/x509/certificate-info.ts";

describe("attribute mappings", () => {
  it("parses --attribute-mapping values: per field, default alone, nothing", () => {
    expect(parseAttributeMappings(["x509Subject=CN, OU", "x509SAN=DNS,Name/*"])).toEqual([
      { certificateField: "x509Subject", specifiers: ["CN", "OU"] },
      { certificateField: "x509SAN", specifiers: ["DNS", "Name/*"] },
    ]);
    expect(parseAttributeMappings(["default"])).toBeNull();
    expect(parseAttributeMappings(undefined)).toBeUndefined();
    expect(parseAttributeMappings([])).toBeUndefined();
  });

  it("refuses what Roles Anywhere would, saying which part is wrong", () => {
    expect(() => parseAttributeMappings(["x509Foo=CN"])).toThrow(/does not name a certificate field/);
    expect(() => parseAttributeMappings(["x509Subject=CN", "x509Subject=OU"])).toThrow(/mapped twice/);
    expect(() => parseAttributeMappings(["x509Subject="])).toThrow(/1–50 specifiers/);
    expect(() => parseAttributeMappings(["x509SAN=IP"])).toThrow(/"IP" is not a specifier of x509SAN/);
    expect(() => parseAttributeMappings(["x509Issuer=C N"])).toThrow(/not a specifier of x509Issuer/);
    expect(() => parseAttributeMappings(["default", "x509Subject=CN"])).toThrow(/cannot be combined/);
    expect(checkAttributeMappings([{ certificateField: "x509Issuer", specifiers: ["CN", "CN"] }])).toEqual([
      { certificateField: "x509Issuer", specifiers: ["CN"] },
    ]);
    // As Roles Anywhere stores them: the SAN's Name and Name/ are Name/*.
    expect(parseAttributeMappings(["x509SAN=DNS,Name", "x509Subject=Name"])).toEqual([
      { certificateField: "x509SAN", specifiers: ["DNS", "Name/*"] },
      { certificateField: "x509Subject", specifiers: ["Name"] },
    ]);
    expect(parseAttributeMappings(["x509SAN=Name/,Name/*"])).toEqual([
      { certificateField: "x509SAN", specifiers: ["Name/*"] },
    ]);
  });

  it("knows which principal tags a profile maps (unlisted fields keep AWS's defaults)", () => {
    expect(mapsPrincipalTag(null, "x509Subject/OU")).toBe(true);
    expect(mapsPrincipalTag(null, "x509SAN/DNS")).toBe(true);
    expect(mapsPrincipalTag(null, "x509SAN/Name/CN")).toBe(true);
    const only = [{ certificateField: "x509Subject" as const, specifiers: ["CN"] }];
    expect(mapsPrincipalTag(only, "x509Subject/OU")).toBe(false);
    expect(mapsPrincipalTag(only, "x509Subject/CN")).toBe(true);
    expect(mapsPrincipalTag(only, "x509Issuer/CN")).toBe(true);
    const san = [{ certificateField: "x509SAN" as const, specifiers: ["URI", "Name/*"] }];
    expect(mapsPrincipalTag(san, "x509SAN/DNS")).toBe(false);
    expect(mapsPrincipalTag(san, "x509SAN/Name/OU")).toBe(true);
    expect(mapsPrincipalTag([{ certificateField: "x509Issuer", specifiers: ["*"] }], "x509Issuer/O")).toBe(
      true,
    );
    // AWS reads `Name` and `Name/` as `Name/*`; `Name/<attr>` maps that attribute only.
    for (const name of ["Name", "Name/", "Name/*"]) {
      expect(mapsPrincipalTag([{ certificateField: "x509SAN", specifiers: [name] }], "x509SAN/Name/CN")).toBe(
        true,
      );
    }
    const cn = [{ certificateField: "x509SAN" as const, specifiers: ["Name/CN"] }];
    expect(mapsPrincipalTag(cn, "x509SAN/Name/CN")).toBe(true);
    expect(mapsPrincipalTag(cn, "x509SAN/Name/O")).toBe(false);
  });

  it("derives x509SAN/Name/<attr> tags from the SAN's first directory name, as AWS documents", async () => {
    const pki = await createTestPki();
    const leaf = await pki.issueLeaf({
      subject: "CN=host",
      san: { dns: ["a.example.com", "b.example.com"], dirName: ["CN=svc-a, O=example", "CN=svc-b"] },
    });
    const cert = await parseCertificate(
      Buffer.from(leaf.certificatePem.replace(/-----[^-]+-----|\s/g, ""), "base64"),
    );
    const { tags } = derivePrincipalTags(cert!);
    expect([...tags].filter(([k]) => k.startsWith("x509SAN/"))).toEqual([
      ["x509SAN/DNS", "a.example.com"],
      ["x509SAN/Name/CN", "svc-a"],
      ["x509SAN/Name/O", "example"],
    ]);
  });
});
