import { describe, expect, it } from "vitest";
import { INPUT_DEFAULTS, type InputName, parseInputs } from "../src/inputs.ts";
import { readActionYml } from "./helpers.ts";

const TA = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/11111111-2222-3333-4444-555555555555";
const PROFILE = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/66666666-7777-8888-9999-000000000000";
const ROLE = "arn:aws:iam::123456789012:role/ci";

const reader =
  (inputs: Partial<Record<InputName, string>>) =>
  (name: InputName): string =>
    inputs[name] ?? "";
const base = {
  certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
  "private-key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
  "trust-anchor-arn": TA,
  "profile-arn": PROFILE,
  "role-to-assume": ROLE,
};

describe("action.yml and the code agree", () => {
  it("declares exactly the inputs the code reads, with the same defaults", () => {
    const yml = readActionYml();
    expect(Object.keys(yml.inputs).sort()).toEqual(Object.keys(INPUT_DEFAULTS).sort());
    for (const [name, spec] of Object.entries(yml.inputs)) {
      expect(spec.default ?? "", name).toBe(INPUT_DEFAULTS[name as InputName]);
      expect(spec.description.length, name).toBeGreaterThan(20);
      expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
    expect(
      Object.entries(yml.inputs)
        .filter(([, s]) => s.required)
        .map(([n]) => n),
    ).toEqual(["role-to-assume"]);
  });

  it("runs on node24 with a main and a post step, and declares every output the code sets", () => {
    const yml = readActionYml();
    expect(yml.runs).toEqual({
      using: "node24",
      main: "dist/index.js",
      post: "dist/post.js",
      "post-if": "always()",
    });
    expect(Object.keys(yml.outputs).sort()).toEqual([
      "authenticated-arn",
      "aws-access-key-id",
      "aws-account-id",
      "aws-expiration",
      "aws-secret-access-key",
      "aws-session-token",
      "expiration",
    ]);
  });
});

describe("parseInputs", () => {
  it("applies the documented defaults", () => {
    const config = parseInputs(reader(base));
    expect(config).toEqual({
      source: {
        kind: "certificate",
        material: {
          certificate: base.certificate,
          privateKey: base["private-key"],
          chain: undefined,
          passphrase: undefined,
        },
        trustAnchorArn: TA,
        profileArn: PROFILE,
        endpoint: undefined,
      },
      roleArn: ROLE,
      roleSessionName: undefined,
      durationSeconds: 3600,
      region: undefined,
      stsEndpoint: undefined,
      awsProfile: undefined,
      outputCredentials: false,
      outputEnvCredentials: true,
      maskAccountId: false,
      allowedAccountIds: [],
      retryMaxAttempts: 12,
      specialCharactersWorkaround: false,
      unsetCurrentCredentials: false,
      expiryWarningDays: 30,
    });
  });

  it("output-env-credentials follows aws-profile unless set", () => {
    expect(parseInputs(reader({ ...base, "aws-profile": "ci" })).outputEnvCredentials).toBe(false);
    expect(
      parseInputs(reader({ ...base, "aws-profile": "ci", "output-env-credentials": "TRUE" }))
        .outputEnvCredentials,
    ).toBe(true);
    expect(parseInputs(reader({ ...base, "output-env-credentials": "False" })).outputEnvCredentials).toBe(
      false,
    );
  });

  it("keeps the passphrase as given except one trailing newline", () => {
    const config = parseInputs(reader({ ...base, "private-key-passphrase": "  spaced out \n" }));
    expect(config.source.kind === "certificate" && config.source.material.passphrase).toBe("  spaced out ");
  });

  it("reads allowed-account-ids as a comma-separated list", () => {
    expect(
      parseInputs(reader({ ...base, "allowed-account-ids": " 111122223333 ,444455556666," }))
        .allowedAccountIds,
    ).toEqual(["111122223333", "444455556666"]);
    expect(() => parseInputs(reader({ ...base, "allowed-account-ids": "11112222333" }))).toThrow(
      'The allowed-account-ids input holds "11112222333", which is not a 12-digit account id.',
    );
  });

  it("role-chaining needs no certificate, refuses one, and caps the duration at one hour", () => {
    const chain = { "role-chaining": "true", "role-to-assume": ROLE };
    expect(parseInputs(reader(chain)).source).toEqual({ kind: "environment" });
    expect(() => parseInputs(reader({ ...chain, "role-duration-seconds": "3601" }))).toThrow(
      'The role-duration-seconds input is "3601", not a whole number from 900 to 3600.',
    );
    expect(() => parseInputs(reader({ ...chain, "profile-arn": PROFILE }))).toThrow(
      /so profile-arn would be ignored/,
    );
    expect(parseInputs(reader({ ...base, "role-duration-seconds": "43200" })).durationSeconds).toBe(43200);
  });

  it.each([
    [{ "aws-region": "Europe" }, 'The aws-region input "Europe" is not a region name.'],
    [
      { "sts-endpoint": "ftp://sts" },
      'The sts-endpoint input "ftp://sts" is not an http(s) URL without query or fragment.',
    ],
    [{ endpoint: "http://127.0.0.1:1/?x=1" }, /The endpoint input .* is not an http\(s\) URL/],
    [{ "aws-profile": "my profile" }, 'The aws-profile input "my profile" is not a usable profile name.'],
    [{ "role-session-name": "a" }, 'The role-session-name input "a" is not a valid session name.'],
    [{ "retry-max-attempts": "0" }, 'The retry-max-attempts input is "0", not a whole number from 1 to 100.'],
    [
      { "retry-max-attempts": "1.5" },
      'The retry-max-attempts input is "1.5", not a whole number from 1 to 100.',
    ],
    [{ "mask-aws-account-id": "on" }, 'The mask-aws-account-id input is "on", not a boolean.'],
    [
      { "role-to-assume": "arn:aws:iam::123456789012:user/ci" },
      /The role-to-assume input ".*" is not a role ARN\./,
    ],
    [{ "profile-arn": "" }, "The profile-arn input is missing."],
  ] as const)("refuses %o", (extra, message) => {
    expect(() => parseInputs(reader({ ...base, ...extra }))).toThrow(message);
  });
});
