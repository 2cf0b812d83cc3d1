import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createCrl } from "@iam-ra/core/x509";
import { describe, expect, it, onTestFinished } from "vitest";
import { controlPlane, createWorld, ROLE_ARN, trustPolicyWhere } from "./harness.ts";

const exec = promisify(execFile);
const ALL_OPERATIONS = fileURLToPath(new URL("./boto/all_operations.py", import.meta.url));

describe("every operation of botocore's rolesanywhere model, driven by boto3", () => {
  it("is served (an operation botocore adds and the emulator lacks fails here), with AWS's defaults", async () => {
    const w = await createWorld();
    const dir = mkdtempSync(join(tmpdir(), "iam-ra-all-ops-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "ca.pem"), w.pki.root.certificatePem);
    const crl = await createCrl({
      issuer: w.pki.root,
      revoked: [],
      thisUpdate: w.clock.now(),
      nextUpdate: new Date(w.clock.now().getTime() + 86_400_000),
    });
    writeFileSync(join(dir, "crl.der"), crl);
    const { stdout } = await exec("python3", [
      ALL_OPERATIONS,
      w.emu.url,
      join(dir, "ca.pem"),
      join(dir, "crl.der"),
    ]);
    const result = JSON.parse(stdout) as {
      called: string[];
      model: string[];
      errors: Record<string, string>;
      trustAnchor: { notificationSettings: unknown[] };
      profile: { attributeMappings: unknown[] };
    };
    expect(result.errors).toEqual({});
    expect(result.called).toEqual(result.model);
    expect(result.model.length).toBeGreaterThanOrEqual(30);
    // CreateTrustAnchor: the given setting (configured by the account) over AWS's defaults.
    expect(result.trustAnchor.notificationSettings).toEqual([
      {
        enabled: true,
        event: "CA_CERTIFICATE_EXPIRY",
        threshold: 30,
        channel: "ALL",
        configuredBy: "123456789012",
      },
      {
        enabled: true,
        event: "END_ENTITY_CERTIFICATE_EXPIRY",
        threshold: 45,
        channel: "ALL",
        configuredBy: "rolesanywhere.amazonaws.com",
      },
    ]);
    // CreateProfile: the default mapping (every subject and issuer attribute; SAN DNS, URI, Name).
    expect(result.profile.attributeMappings).toEqual([
      { certificateField: "x509Subject", mappingRules: [{ specifier: "*" }] },
      { certificateField: "x509Issuer", mappingRules: [{ specifier: "*" }] },
      {
        certificateField: "x509SAN",
        mappingRules: [{ specifier: "DNS" }, { specifier: "URI" }, { specifier: "Name/*" }],
      },
    ]);
  });

  it("refuses what the model refuses: unknown events, thresholds out of range, unknown fields", async () => {
    const w = await createWorld();
    await expect(
      controlPlane(w.emu, "PATCH", "/put-notifications-settings", {
        trustAnchorId: w.trustAnchorId,
        notificationSettings: [{ enabled: true, event: "CA_CERTIFICATE_EXPIRY", threshold: 361 }],
      }),
    ).rejects.toThrow(/400 .*threshold must be between 1 and 360/);
    await expect(
      controlPlane(w.emu, "PATCH", "/put-notifications-settings", {
        trustAnchorId: w.trustAnchorId,
        notificationSettings: [{ enabled: true, event: "SOMETHING" }],
      }),
    ).rejects.toThrow(/400 .*event must be one of/);
    await expect(
      controlPlane(w.emu, "PUT", `/profiles/${w.profileId}/mappings`, {
        certificateField: "x509Extension",
        mappingRules: [{ specifier: "x" }],
      }),
    ).rejects.toThrow(/400 .*certificateField must be one of/);
    await expect(
      controlPlane(w.emu, "PATCH", "/put-notifications-settings", {
        trustAnchorId: "00000000-0000-0000-0000-000000000000",
        notificationSettings: [],
      }),
    ).rejects.toThrow(/404/);
  });
});

describe("attribute mappings decide which certificate fields become session tags", () => {
  it("a role bound to the subject's OU is refused once the mapping drops OU, and admitted when it comes back", async () => {
    const w = await createWorld(); // app-reader trusts x509Subject/OU=readers
    const leaf = await w.pki.issueLeaf({ subject: "CN=mapped,OU=readers" });
    await expect(w.call(leaf)).resolves.toBeDefined();
    // Only the subject's CN is mapped: no x509Subject/OU tag, so the trust policy's condition fails.
    const put = await controlPlane(w.emu, "PUT", `/profiles/${w.profileId}/mappings`, {
      certificateField: "x509Subject",
      mappingRules: [{ specifier: "CN" }],
    });
    expect(put.profile.attributeMappings).toContainEqual({
      certificateField: "x509Subject",
      mappingRules: [{ specifier: "CN" }],
    });
    await expect(w.call(leaf)).rejects.toThrow(/trust policy denies it/);
    // OU mapped again (next to CN): admitted.
    await controlPlane(w.emu, "PUT", `/profiles/${w.profileId}/mappings`, {
      certificateField: "x509Subject",
      mappingRules: [{ specifier: "CN" }, { specifier: "OU" }],
    });
    await expect(w.call(leaf)).resolves.toBeDefined();
    // Deleting the OU specifier, then the whole subject field: refused again.
    const del = await controlPlane(
      w.emu,
      "DELETE",
      `/profiles/${w.profileId}/mappings?certificateField=x509Subject&specifiers=OU`,
    );
    expect(del.profile.attributeMappings).toContainEqual({
      certificateField: "x509Subject",
      mappingRules: [{ specifier: "CN" }],
    });
    await expect(w.call(leaf)).rejects.toThrow(/trust policy denies it/);
    await controlPlane(w.emu, "DELETE", `/profiles/${w.profileId}/mappings?certificateField=x509Subject`);
    const { profile } = await controlPlane(w.emu, "GET", `/profile/${w.profileId}`);
    expect(profile.attributeMappings.map((m: { certificateField: string }) => m.certificateField)).toEqual([
      "x509Issuer",
      "x509SAN",
    ]);
    await expect(w.call(leaf)).rejects.toThrow(/trust policy denies it/);
  });

  it("the SAN's first directory name becomes x509SAN/Name/<attr> tags: by default (Name/*), with Name (shown as Name/*) or Name/<attr>", async () => {
    const w = await createWorld();
    w.emu.putRole(
      ROLE_ARN,
      trustPolicyWhere({ StringEquals: { "aws:PrincipalTag/x509SAN/Name/CN": "svc-a" } }),
    );
    const leaf = await w.pki.issueLeaf({ subject: "CN=dn", san: { dirName: ["CN=svc-a, O=example"] } });
    const other = await w.pki.issueLeaf({ subject: "CN=dn", san: { dirName: ["CN=svc-b", "CN=svc-a"] } });
    await expect(w.call(leaf)).resolves.toBeDefined();
    // Only the first directory name counts.
    await expect(w.call(other)).rejects.toThrow(/trust policy denies it/);
    const mapSan = (...specifiers: string[]) =>
      controlPlane(w.emu, "PUT", `/profiles/${w.profileId}/mappings`, {
        certificateField: "x509SAN",
        mappingRules: specifiers.map((specifier) => ({ specifier })),
      });
    await mapSan("DNS");
    await expect(w.call(leaf)).rejects.toThrow(/trust policy denies it/);
    for (const specifier of ["Name", "Name/"]) {
      await mapSan("DNS");
      const put = await mapSan(specifier);
      expect(put.profile.attributeMappings).toContainEqual({
        certificateField: "x509SAN",
        mappingRules: [{ specifier: "Name/*" }],
      });
      await expect(w.call(leaf)).resolves.toBeDefined();
    }
    await mapSan("Name/O");
    await expect(w.call(leaf)).rejects.toThrow(/trust policy denies it/);
    await mapSan("Name/CN");
    await expect(w.call(leaf)).resolves.toBeDefined();
  });

  it("an unmappable attribute value only fails CreateSession when its field is mapped", async () => {
    const w = await createWorld();
    // A subject attribute no session tag can hold (a character outside STS's tag charset).
    const leaf = await w.pki.issueLeaf({ subject: "CN=odd#name,OU=readers" });
    await expect(w.call(leaf)).rejects.toThrow(/fail to be mapped into session tags/);
    await controlPlane(w.emu, "PUT", `/profiles/${w.profileId}/mappings`, {
      certificateField: "x509Subject",
      mappingRules: [{ specifier: "OU" }],
    });
    await expect(w.call(leaf)).resolves.toBeDefined();
  });
});
