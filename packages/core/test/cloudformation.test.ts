import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CfnTemplate,
  caTemplate,
  crlTemplate,
  initTemplate,
  renderTemplate,
  roleTemplate,
  stackName,
  validateName,
} from "../src/cloudformation/index.ts";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "iam-ra-cfn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEMPLATES: Record<string, CfnTemplate> = {
  init: initTemplate("prod"),
  "ca-self-signed": caTemplate("prod", "default", "self-signed"),
  "ca-pca-existing": caTemplate("prod", "team-a", "pca-existing"),
  "ca-pca-new": caTemplate("prod", "pca", "pca-new"),
  role: roleTemplate({ namespace: "prod", role: "web-reader", bindingTag: "x509Subject/OU" }),
  "role-issuer-bound": roleTemplate({
    namespace: "prod",
    role: "web-reader",
    bindingTag: "x509Subject/OU",
    issuerBinding: true,
  }),
  "role-mapped": roleTemplate({
    namespace: "prod",
    role: "web-reader",
    bindingTag: "x509Subject/OU",
    issuerBinding: true,
    attributeMappings: [
      { certificateField: "x509Subject", specifiers: ["OU"] },
      { certificateField: "x509SAN", specifiers: ["DNS", "Name/*"] },
    ],
  }),
  crl: crlTemplate(
    "prod",
    "default",
    "-----BEGIN X509 CRL-----\nMIIBMDCB1gIBATAKBggqhkjOPQQDAjAZMRcwFQYDVQQDDA5pYW0tcmEgcHJvZC9k\n-----END X509 CRL-----\n",
  ),
};

describe("templates", () => {
  it("every template passes cfn-lint (one run over all of them)", async () => {
    const files = Object.entries(TEMPLATES).map(([name, t]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, renderTemplate(t));
      return file;
    });
    // cfn-lint exits non-zero on any error or warning; informational findings (I…) are allowed.
    const result = await exec("cfn-lint", [
      "--format",
      "parseable",
      "--regions",
      "us-east-1",
      "eu-west-1",
      "--",
      ...files,
    ]).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    const findings = result.out.split("\n").filter((l) => /:(E|W)\d+:/.test(l));
    expect(findings).toEqual([]);
  }, 60_000);

  it("cfn-lint is a real oracle: it rejects a broken template", async () => {
    const broken = structuredClone(TEMPLATES.role!);
    (broken.Resources.Profile!.Properties as Record<string, unknown>).DurationSeconds = "forever";
    const file = join(dir, "broken.json");
    writeFileSync(file, renderTemplate(broken));
    await expect(exec("cfn-lint", ["--", file])).rejects.toMatchObject({
      stdout: expect.stringMatching(/E\d+/),
    });
  }, 60_000);

  it("the role's trust policy binds the trust anchor and the certificate attribute", () => {
    const role = TEMPLATES.role!.Resources.Role!.Properties!;
    expect(role.AssumeRolePolicyDocument).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": [
              "sts:AssumeRole",
              "sts:TagSession",
              "sts:SetSourceIdentity",
            ],
            "Condition": {
              "ArnEquals": {
                "aws:SourceArn": {
                  "Ref": "TrustAnchorArn",
                },
              },
              "StringEquals": {
                "aws:PrincipalTag/x509Subject/OU": {
                  "Ref": "BindingValue",
                },
              },
            },
            "Effect": "Allow",
            "Principal": {
              "Service": "rolesanywhere.amazonaws.com",
            },
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it("an issuer-bound role also requires the certificate's issuer CN to be an allowed one", () => {
    const template = TEMPLATES["role-issuer-bound"]!;
    expect(template.Parameters?.AllowedIssuers).toMatchObject({ Type: "CommaDelimitedList" });
    const statement = (
      template.Resources.Role!.Properties!.AssumeRolePolicyDocument as {
        Statement: Array<{ Condition: Record<string, unknown> }>;
      }
    ).Statement[0]!;
    expect(statement.Condition).toMatchInlineSnapshot(`
      {
        "ArnEquals": {
          "aws:SourceArn": {
            "Ref": "TrustAnchorArn",
          },
        },
        "StringEquals": {
          "aws:PrincipalTag/x509Issuer/CN": {
            "Ref": "AllowedIssuers",
          },
          "aws:PrincipalTag/x509Subject/OU": {
            "Ref": "BindingValue",
          },
        },
      }
    `);
    // Without the option the template is exactly what roles deployed before it have.
    expect(TEMPLATES.role!.Parameters).not.toHaveProperty("AllowedIssuers");
  });

  it("no template carries private key material or Lambda custom resources", () => {
    for (const t of Object.values(TEMPLATES)) {
      const text = renderTemplate(t);
      expect(text).not.toMatch(/PRIVATE KEY|Custom::|AWS::Lambda|AWS::Serverless/);
    }
    expect(TEMPLATES.init!.Resources.Bucket).toMatchObject({ DeletionPolicy: "Retain" });
  });
});

describe("names", () => {
  it.each([
    ["namespace", "prod"],
    ["scope", "team-a"],
    ["role", "web_reader-2"],
    ["hostname", "web-1.eu-west-1.example.com"],
  ] as const)("accepts %s %s", (kind, value) => {
    expect(() => validateName(kind, value, "prod")).not.toThrow();
  });

  it.each([
    ["namespace", "Prod"],
    ["namespace", "a".repeat(21)],
    ["scope", "1st"],
    ["role", "has space"],
    ["role", "web.reader@x"],
    ["role", "r".repeat(60)],
    ["hostname", "bad_host"],
    ["hostname", "-lead.example.com"],
    ["cluster", "UPPER"],
  ] as const)("refuses %s %j before any AWS call", (kind, value) => {
    expect(() => validateName(kind, value, "prod")).toThrow(
      expect.objectContaining({ code: "invalid-input", hint: expect.stringMatching(/at most/) }),
    );
  });

  it("derives valid, collision-free stack names from any valid hostname", () => {
    const a = stackName("prod", "host", "web.example.com");
    const b = stackName("prod", "host", "web-example-com");
    expect(a).toMatch(/^[A-Za-z][-A-Za-z0-9]*$/);
    expect(a).not.toBe(b);
    const long = stackName("prod", "host", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}`);
    expect(long.length).toBeLessThanOrEqual(128);
    expect(stackName("prod", "init")).toBe("iam-ra-prod-init");
    expect(stackName("prod", "role", "web")).toBe("iam-ra-prod-role-web");
  });
});
