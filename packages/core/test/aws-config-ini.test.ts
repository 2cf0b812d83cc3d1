import { describe, expect, it } from "vitest";
import {
  listProfiles,
  parseAwsIni,
  profileNameOfHeader,
  removeProfile,
  setProfileKeys,
  stringifyAwsIni,
  validateProfileKeys,
  validateProfileName,
} from "../src/aws-config/ini.ts";
import { joinShellArgs, quoteShellArg, splitShellWords } from "../src/aws-config/shell.ts";
import { IamRaError } from "../src/errors.ts";

const CREDS = {
  aws_access_key_id: "accessKeyId",
  aws_secret_access_key: "secretAccessKey",
  aws_session_token: "sessionToken",
};
const setCreds = (text: string, profile: string) =>
  setProfileKeys(text, { kind: "credentials", profile, keys: CREDS }).text;

describe("parseAwsIni / stringifyAwsIni", () => {
  it.each([
    ["empty", ""],
    ["LF", "[default]\nregion = us-east-1\n"],
    ["CRLF", "[default]\r\nregion = us-east-1\r\n"],
    ["no final newline", "[default]\nregion = us-east-1"],
    ["mixed endings and a lone CR", "[a]\r\nx=1\n\ry = 2\r"],
    ["blank lines only", "\n\n\n"],
    ["BOM", "\uFEFF[default]\nregion = eu-west-1\n"],
    ["nested", "[profile a]\ns3 =\n  max_concurrent_requests = 10\n\n  addressing_style = path\nregion=x\n"],
  ])("round-trips %s byte for byte", (_name, text) => {
    expect(stringifyAwsIni(parseAwsIni(text))).toBe(text);
  });

  it("classifies lines as botocore (configparser) reads them", () => {
    const doc = parseAwsIni(
      "# top\nstray\n[default]\n  ; indented comment\nregion: us-east-1\ns3 =\n    max_concurrent_requests = 10\n[profile x] trailing\n",
    );
    expect(doc.lines.map((l) => l.kind)).toEqual([
      "comment",
      "other",
      "section",
      "comment",
      "key",
      "key",
      "continuation",
      "section",
    ]);
    expect(doc.lines[4]).toMatchObject({ key: "region", value: "us-east-1" });
    expect(doc.lines[7]!.header).toBe("profile x");
    expect(doc.sections.map((s) => [s.header, s.start, s.end])).toEqual([
      ["default", 2, 7],
      ["profile x", 7, 8],
    ]);
  });

  it("indented keys are keys, not continuations, when no key is open", () => {
    const doc = parseAwsIni("[default]\n  aws_access_key_id = A\n  aws_secret_access_key = B\n");
    expect(doc.lines.map((l) => l.kind)).toEqual(["section", "key", "key"]);
  });
});

describe("profileNameOfHeader", () => {
  it.each([
    ["default", "config", "default"],
    ["profile default", "config", "default"],
    ["profile dev", "config", "dev"],
    ["profile   dev", "config", "dev"],
    ['profile "my dev"', "config", "my dev"],
    ["dev", "config", undefined],
    ["sso-session corp", "config", undefined],
    ["profile a b", "config", undefined],
    ["profiledev", "config", undefined],
    ["dev", "credentials", "dev"],
    ["profile dev", "credentials", "profile dev"],
    [" default ", "credentials", " default "],
  ] as const)("[%s] in %s → %s", (header, kind, name) => {
    expect(profileNameOfHeader(header, kind)).toBe(name);
  });
});

// The six TestUpdate cases of aws/rolesanywhere-credential-helper (signer_test.go), with our
// deliberate differences noted: a new section is separated by a blank line and the file keeps its
// final-newline convention; the last line of a section is never dropped; duplicate sections lose
// the stale keys so no reader can pick them up.
describe("setProfileKeys: the official helper's TestUpdate cases", () => {
  it("test-space-separated-keys", () => {
    expect(
      setCreds(
        "test\ntest\ntest\n[test profile]\naws_access_key_id = test\n[test]\naws_secret_access_key = test",
        "test profile",
      ),
    ).toBe(
      "test\ntest\ntest\n[test profile]\naws_access_key_id = accessKeyId\naws_secret_access_key = secretAccessKey\naws_session_token = sessionToken\n[test]\naws_secret_access_key = test",
    );
  });

  it("test-profile-with-other-keys", () => {
    expect(
      setCreds(
        "test\ntest\ntest\n[test profile]\naws_access_key_id = test\ntest_key = test\n[test]\naws_secret_access_key = test",
        "test profile",
      ),
    ).toBe(
      "test\ntest\ntest\n[test profile]\naws_access_key_id = accessKeyId\ntest_key = test\naws_secret_access_key = secretAccessKey\naws_session_token = sessionToken\n[test]\naws_secret_access_key = test",
    );
  });

  it("test-commented-profile: a commented header does not match; the section is appended", () => {
    expect(
      setCreds(
        "test\ntest\ntest\n# [test profile]\naws_access_key_id = test\n[test]\naws_secret_access_key = test",
        "test profile",
      ),
    ).toBe(
      "test\ntest\ntest\n# [test profile]\naws_access_key_id = test\n[test]\naws_secret_access_key = test\n\n[test profile]\naws_access_key_id = accessKeyId\naws_secret_access_key = secretAccessKey\naws_session_token = sessionToken",
    );
  });

  it("test-profile-does-not-exist", () => {
    expect(setCreds("test\ntest\ntest\n[test]\naws_secret_access_key = test\n", "test profile")).toBe(
      "test\ntest\ntest\n[test]\naws_secret_access_key = test\n\n[test profile]\naws_access_key_id = accessKeyId\naws_secret_access_key = secretAccessKey\naws_session_token = sessionToken\n",
    );
  });

  it("test-first-word-in-profile-matches: [test] only, and its last line is kept (Go drops it)", () => {
    expect(
      setCreds(
        "test\ntest\ntest\n[test profile]\naws_access_key_id = test\n[test]\naws_secret_access_key = test",
        "test",
      ),
    ).toBe(
      "test\ntest\ntest\n[test profile]\naws_access_key_id = test\n[test]\naws_secret_access_key = secretAccessKey\naws_access_key_id = accessKeyId\naws_session_token = sessionToken",
    );
  });

  it("test-multiple-profiles-with-same-name: the first is edited, the stale keys leave the second", () => {
    const r = setProfileKeys(
      "test\ntest\ntest\n[test]\ntest_key = test\n[test profile]\naws_access_key_id = test\n[test]\naws_secret_access_key = test",
      { kind: "credentials", profile: "test", keys: CREDS },
    );
    expect(r.text).toBe(
      "test\ntest\ntest\n[test]\ntest_key = test\naws_access_key_id = accessKeyId\naws_secret_access_key = secretAccessKey\naws_session_token = sessionToken\n[test profile]\naws_access_key_id = test\n[test]",
    );
    expect(r.duplicateSections).toBe(1);
  });

  it("regression: a header on the very last line is filled, not duplicated", () => {
    expect(setCreds("[a]\nx = 1\n[test]", "test")).toBe(
      "[a]\nx = 1\n[test]\naws_access_key_id = accessKeyId\naws_secret_access_key = secretAccessKey\naws_session_token = sessionToken",
    );
  });
});

describe("setProfileKeys", () => {
  const keys = { region: "eu-west-1", output: "json" };

  it("creates a file from nothing, with a final newline", () => {
    const r = setProfileKeys("", { kind: "config", profile: "dev", keys });
    expect(r).toEqual({
      text: "[profile dev]\nregion = eu-west-1\noutput = json\n",
      changed: true,
      created: true,
      duplicateSections: 0,
    });
    expect(setProfileKeys("", { kind: "config", profile: "default", keys }).text).toBe(
      "[default]\nregion = eu-west-1\noutput = json\n",
    );
  });

  it("keeps every other byte: comments, CRLF, spacing, other profiles", () => {
    const before =
      "; managed by hand\r\n[default]\r\nregion=us-east-1\r\n\r\n# the dev profile\r\n[profile dev]\r\nregion   =   us-west-2 \r\noutput = text\r\n\r\n[profile other]\r\nregion = ap-south-1\r\n";
    const r = setProfileKeys(before, { kind: "config", profile: "dev", keys });
    expect(r.text).toBe(
      "; managed by hand\r\n[default]\r\nregion=us-east-1\r\n\r\n# the dev profile\r\n[profile dev]\r\nregion   =   eu-west-1\r\noutput = json\r\n\r\n[profile other]\r\nregion = ap-south-1\r\n",
    );
  });

  it("appends missing keys after the section's last setting, in the section's style, before trailing comments", () => {
    const before = "[profile dev]\n  region=us-east-1\n\n# about prod\n[profile prod]\nregion = x\n";
    expect(setProfileKeys(before, { kind: "config", profile: "dev", keys }).text).toBe(
      "[profile dev]\n  region=eu-west-1\n  output=json\n\n# about prod\n[profile prod]\nregion = x\n",
    );
  });

  it("fills an empty section right after its header", () => {
    expect(
      setProfileKeys("[profile dev]\n\n[profile x]\n", { kind: "config", profile: "dev", keys }).text,
    ).toBe("[profile dev]\nregion = eu-west-1\noutput = json\n\n[profile x]\n");
  });

  it("is idempotent: the same keys again change nothing", () => {
    const once = setProfileKeys("# hi\n[default]\nregion = x", { kind: "config", profile: "dev", keys }).text;
    const twice = setProfileKeys(once, { kind: "config", profile: "dev", keys });
    expect(twice.text).toBe(once);
    expect(twice.changed).toBe(false);
  });

  it("matches keys case-insensitively (botocore lower-cases them) and drops repeated ones", () => {
    const before = "[dev]\nAWS_ACCESS_KEY_ID = old\naws_access_key_id = older\nregion = x\n";
    expect(
      setProfileKeys(before, { kind: "credentials", profile: "dev", keys: { aws_access_key_id: "new" } })
        .text,
    ).toBe("[dev]\nAWS_ACCESS_KEY_ID = new\nregion = x\n");
  });

  it("removeKeys deletes a key everywhere in the profile, but never adds a section for it", () => {
    const before = "[dev]\naws_security_token = stale\nx = 1\n[dev]\naws_security_token = stale2\n";
    expect(
      setProfileKeys(before, {
        kind: "credentials",
        profile: "dev",
        keys: { x: "2" },
        removeKeys: ["AWS_SECURITY_TOKEN"],
      }).text,
    ).toBe("[dev]\nx = 2\n[dev]\n");
    expect(
      setProfileKeys("", { kind: "credentials", profile: "dev", keys: {}, removeKeys: ["x"] }).changed,
    ).toBe(false);
  });

  it("replacing a nested setting drops its nested lines; other nested settings stay", () => {
    const before = "[profile a]\ns3 =\n  max_concurrent_requests = 10\nsts =\n  x = 1\nregion = r\n";
    expect(setProfileKeys(before, { kind: "config", profile: "a", keys: { s3: "none" } }).text).toBe(
      "[profile a]\ns3 = none\nsts =\n  x = 1\nregion = r\n",
    );
  });

  it("a key inside a nested block is not the profile's key", () => {
    const before = "[profile a]\ns3 =\n  region = nested\n";
    expect(setProfileKeys(before, { kind: "config", profile: "a", keys: { region: "top" } }).text).toBe(
      "[profile a]\ns3 =\n  region = nested\nregion = top\n",
    );
  });

  it("[profile x] in config is not [x] in credentials, and vice versa", () => {
    const text = "[dev]\nregion = a\n[profile dev]\nregion = b\n";
    expect(setProfileKeys(text, { kind: "config", profile: "dev", keys: { region: "c" } }).text).toBe(
      "[dev]\nregion = a\n[profile dev]\nregion = c\n",
    );
    expect(setProfileKeys(text, { kind: "credentials", profile: "dev", keys: { region: "c" } }).text).toBe(
      "[dev]\nregion = c\n[profile dev]\nregion = b\n",
    );
  });

  it("[default] and [profile default] are the same profile in config", () => {
    const r = setProfileKeys("[profile default]\nregion = a\n[default]\nregion = b\noutput = text\n", {
      kind: "config",
      profile: "default",
      keys: { region: "c" },
    });
    expect(r.text).toBe("[profile default]\nregion = c\n[default]\noutput = text\n");
    expect(r.duplicateSections).toBe(1);
  });

  it("a section appended to a file without a final newline keeps it without", () => {
    expect(setProfileKeys("[a]\nx = 1", { kind: "credentials", profile: "b", keys: { y: "2" } }).text).toBe(
      "[a]\nx = 1\n\n[b]\ny = 2",
    );
    expect(
      setProfileKeys("[a]\nx = 1\n\n", { kind: "credentials", profile: "b", keys: { y: "2" } }).text,
    ).toBe("[a]\nx = 1\n\n[b]\ny = 2\n");
  });

  it("keeps a BOM and CRLF when appending", () => {
    expect(
      setProfileKeys("\uFEFF[a]\r\nx = 1\r\n", { kind: "credentials", profile: "b", keys: { y: "2" } }).text,
    ).toBe("\uFEFF[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2\r\n");
  });

  it.each([
    ["a newline in a value", "dev", { region: "a\nb" }, /line break/],
    ["an injected section", "dev", { region: "x\n[default]" }, /line break/],
    ["a bad key", "dev", { "a b": "x" }, /not a valid key/],
    ["a JS comment in a value", "dev", { credential_process: "run '/a #b'" }, /comment/],
    ["a profile name with a bracket", "de]v", { region: "x" }, /not a usable profile name/],
    ["__proto__", "__proto__", { region: "x" }, /__proto__/],
    ["a space in a config profile name", "my dev", { region: "x" }, /not a usable profile name/],
  ])("refuses %s with invalid-input", (_name, profile, keys, message) => {
    const run = () => setProfileKeys("", { kind: "config", profile, keys });
    expect(run).toThrow(IamRaError);
    expect(run).toThrow(message);
  });

  it("validators report every problem at once", () => {
    expect(validateProfileKeys({ ok: "fine", " bad": "x", v: " padded" })).toHaveLength(2);
    expect(validateProfileName("my profile", "credentials")).toBeUndefined();
    expect(validateProfileName("my profile", "config")).toMatch(/not a usable/);
    expect(validateProfileName(" x", "credentials")).toMatch(/not a usable/);
  });
});

describe("removeProfile", () => {
  it("removes the section and its separating blank line, keeping the next section's comment", () => {
    const before =
      "[default]\nregion = a\n\n[profile dev]\nregion = b\n# about prod\n\n[profile prod]\nregion = c\n";
    expect(removeProfile(before, { kind: "config", profile: "dev" })).toEqual({
      text: "[default]\nregion = a\n\n# about prod\n\n[profile prod]\nregion = c\n",
      removed: 1,
    });
  });

  it("removes a last section with the blank lines before it and keeps the final-newline convention", () => {
    expect(removeProfile("[a]\nx = 1\n\n[b]\ny = 2", { kind: "credentials", profile: "b" }).text).toBe(
      "[a]\nx = 1",
    );
    expect(
      removeProfile("[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2\r\n", { kind: "credentials", profile: "b" }).text,
    ).toBe("[a]\r\nx = 1\r\n");
  });

  it("removes every duplicate, and nothing when absent", () => {
    expect(removeProfile("[b]\n[a]\nx=1\n[b]\ny=2\n", { kind: "credentials", profile: "b" })).toEqual({
      text: "[a]\nx=1\n",
      removed: 2,
    });
    const text = "[a]\nx=1";
    expect(removeProfile(text, { kind: "credentials", profile: "zzz" })).toEqual({ text, removed: 0 });
    expect(removeProfile("[a]\nx=1\n", { kind: "credentials", profile: "a" }).text).toBe("");
  });
});

describe("listProfiles", () => {
  it("lists profiles with lower-cased keys, first section first, counting duplicates", () => {
    const text =
      "[default]\nRegion = a\n[sso-session corp]\nsso_region = x\n[profile dev]\ncredential_process = iam-ra credential-process\ns3 =\n  max = 1\n[profile dev]\nregion = z\n[orphan]\n";
    expect(listProfiles(text, "config")).toEqual([
      { name: "default", keys: { region: "a" }, line: 1, sections: 1 },
      {
        name: "dev",
        keys: { credential_process: "iam-ra credential-process", s3: "" },
        line: 5,
        sections: 2,
      },
    ]);
  });
});

describe("shell words (credential_process)", () => {
  it.each([
    ["/usr/bin/iam-ra", "/usr/bin/iam-ra"],
    ["/home/me/my certs/cert.pem", "'/home/me/my certs/cert.pem'"],
    ["it's", "'it'\\''s'"],
    ["$HOME", "'$HOME'"],
    ["", "''"],
    ["~/x", "'~/x'"],
  ])("quotes %j as %s and splits it back", (arg, quoted) => {
    expect(quoteShellArg(arg)).toBe(quoted);
    expect(splitShellWords(`a ${quoted} b`)).toEqual(["a", arg, "b"]);
  });

  it("splits like shlex.split", () => {
    expect(splitShellWords(`a "b c" d\\ e 'f"g' "h\\"i" "j\\k"`)).toEqual([
      "a",
      "b c",
      "d e",
      'f"g',
      'h"i',
      "j\\k",
    ]);
    expect(splitShellWords("a 'b")).toBeUndefined();
    expect(splitShellWords("a \\")).toBeUndefined();
    expect(joinShellArgs(["x", "y z"])).toBe("x 'y z'");
  });
});
