import { describe, expect, it } from "vitest";
import {
  checkAttributeMappings,
  mapsPrincipalTag,
  parseAttributeMappings,
} from "../src/rolesanywhere/attribute-mappings.ts";

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
  });
});
