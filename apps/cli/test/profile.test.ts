import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProfileConfigureResult } from "../src/commands/profile/configure.ts";
import type { ProfileListResult } from "../src/commands/profile/list.ts";
import type { ProfileRemoveResult } from "../src/commands/profile/remove.ts";
import {
  awsCallerArn,
  BIN,
  boto3CallerArn,
  exec,
  type Fixture,
  jsSdkCallerArn,
  ROLES,
  runCli,
  startFixture,
} from "./helpers/setup.ts";

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f.close();
});

let n = 0;
function files() {
  const dir = join(f.dir, `profile-case-${++n}`);
  mkdirSync(dir);
  return { config: join(dir, "config"), credentials: join(dir, "credentials") };
}

const EXISTING = [
  "# my AWS config",
  "[default]",
  "region = eu-central-1",
  "",
  "[sso-session corp]",
  "sso_start_url = https://corp.awsapps.com/start",
  "sso_region = eu-west-1",
  "",
  "[profile sso-dev]",
  "sso_session = corp",
  "s3 =",
  "  max_concurrent_requests = 10",
  "",
  "[profile legacy]",
  "credential_process = /usr/local/bin/aws_signing_helper credential-process --certificate /c.pem",
  "",
].join("\n");

const configure = (file: string, args: string[]) =>
  runCli(["profile", "configure", ...args, "--config-file", file, ...f.flags]);

describe("iam-ra profile configure", () => {
  it("one certificate, two roles: profiles the aws CLI, boto3 and the JS SDK use; the rest of the file untouched", async () => {
    const { config, credentials } = files();
    writeFileSync(config, EXISTING);
    const args = [
      `reader=${ROLES[0]}`,
      `writer=${ROLES[1]}`,
      "--cache",
      "--output",
      "json",
      "--set",
      "cli_pager=",
      "--json",
    ];
    const r = await configure(config, args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as ProfileConfigureResult;
    expect(result.written).toBe(true);
    expect(result.profiles.map((p) => [p.name, p.roleArn, p.created])).toEqual([
      ["reader", ROLES[0], true],
      ["writer", ROLES[1], true],
    ]);
    const text = readFileSync(config, "utf8");
    expect(
      text.startsWith(
        `${EXISTING}\n[profile reader]\ncredential_process = ${BIN} credential-process --certificate '`,
      ),
    ).toBe(true);
    expect(result.profiles[0]!.credentialProcess).toContain(`'${join(f.certDir, "cert.pem")}'`);
    expect(result.profiles[0]!.credentialProcess).toMatch(
      / --role-arn arn:aws:iam::123456789012:role\/reader .*--cache$/,
    );
    expect(statSync(config).mode & 0o777).toBe(0o600);

    const both = { config, credentials };
    // The certificate path has a space: botocore's shlex split and the JS SDK's shell both get it right.
    expect(await awsCallerArn(f.emu, "writer", both)).toMatch(
      /^arn:aws:sts::123456789012:assumed-role\/writer\//,
    );
    expect(await boto3CallerArn(f.emu, "reader", both)).toMatch(/assumed-role\/reader\//);
    expect(await jsSdkCallerArn(f.emu, "writer", both)).toMatch(/assumed-role\/writer\//);
    const get = async (key: string, profile: string) =>
      (
        await exec("aws", ["configure", "get", key, "--profile", profile], {
          env: { ...process.env, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials },
        })
      ).stdout.trim();
    expect(await get("region", "reader")).toBe("us-east-1");
    expect(await get("output", "writer")).toBe("json");
    expect(await get("region", "default")).toBe("eu-central-1");

    // Idempotent: the same command leaves the same bytes and writes nothing.
    const again = await configure(config, args);
    expect(JSON.parse(again.stdout).written).toBe(false);
    expect(readFileSync(config, "utf8")).toBe(text);
  });

  it("--default also writes [default] in place; a changed role replaces credential_process in place", async () => {
    const { config, credentials } = files();
    writeFileSync(config, EXISTING);
    expect((await configure(config, ["ci", "--role-arn", ROLES[0], "--default"])).code).toBe(0);
    const first = readFileSync(config, "utf8");
    expect(first).toMatch(/^# my AWS config\n\[default\]\nregion = us-east-1\ncredential_process = /);
    expect(await awsCallerArn(f.emu, "default", { config, credentials })).toMatch(/assumed-role\/reader\//);
    expect((await configure(config, ["ci", "--role-arn", ROLES[1], "--default"])).code).toBe(0);
    const second = readFileSync(config, "utf8");
    expect(second.split("\n").length).toBe(first.split("\n").length);
    expect(await awsCallerArn(f.emu, "ci", { config, credentials })).toMatch(/assumed-role\/writer\//);
  });

  it("--command names the executable, as shell words", async () => {
    const { config, credentials } = files();
    const r = await configure(config, [
      "ci",
      "--role-arn",
      ROLES[0],
      "--command",
      `${process.execPath} '${BIN}'`,
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(config, "utf8")).toContain(
      `credential_process = ${process.execPath} ${BIN} credential-process `,
    );
    expect(await awsCallerArn(f.emu, "ci", { config, credentials })).toMatch(/assumed-role\/reader\//);
  });

  it.each([
    ["no profile name", [], /No profile name/, /NAME=ROLE_ARN/],
    ["a name without a role", ["ci"], /has no role/, /--role-arn/],
    ["a malformed role", ["ci=arn:aws:iam::1:user/x"], /not a valid role ARN/, /looks like/],
    ["a name with a space", [`my ci=${ROLES[0]}`], /not a usable profile name/, /ci-reader/],
    ["the same name twice", [`a=${ROLES[0]}`, `a=${ROLES[1]}`], /given twice/, /once/],
    [
      "--set credential_process",
      [`a=${ROLES[0]}`, "--set", "credential_process=x"],
      /cannot change/,
      /--command/,
    ],
    [
      "--set of a static key",
      [`a=${ROLES[0]}`, "--set", "aws_secret_access_key=x"],
      /static keys would shadow/,
      /credentials file/,
    ],
    ["--set without =", [`a=${ROLES[0]}`, "--set", "novalue"], /not key=value/, /--set key=value/],
    [
      "--default with a default profile",
      [`default=${ROLES[0]}`, "--default"],
      /--default with a profile named default/,
      /Drop/,
    ],
  ])("%s: exit 1, one clear line, no stack", async (_name, args, message, hint) => {
    const { config } = files();
    const r = await configure(config, args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses PEM text for a key without echoing it, and paths the JS SDK would cut", async () => {
    const { config } = files();
    const pem = readFileSync(join(f.certDir, "key.pem"), "utf8");
    const r = await runCli(["profile", "configure", `ci=${ROLES[0]}`, "--config-file", config, ...f.flags], {
      IAM_RA_PRIVATE_KEY: pem,
    });
    // The flag on the command line wins over the variable: replace it through the env only.
    expect(r.code).toBe(0);
    const onlyEnv = f.flags.filter(
      (_, i, all) => all[i] !== "--private-key" && all[i - 1] !== "--private-key",
    );
    const r2 = await runCli(["profile", "configure", `ci=${ROLES[0]}`, "--config-file", config, ...onlyEnv], {
      IAM_RA_PRIVATE_KEY: pem,
    });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/--private-key holds PEM text/);
    expect(r2.stderr).not.toMatch(/PRIVATE KEY-----|MII/);

    const hashDir = join(f.dir, "dir #1");
    mkdirSync(hashDir, { recursive: true });
    writeFileSync(join(hashDir, "cert.pem"), readFileSync(join(f.certDir, "cert.pem")));
    const withHash = f.flags.map((a) => (a === join(f.certDir, "cert.pem") ? join(hashDir, "cert.pem") : a));
    const r3 = await runCli(["profile", "configure", `ci=${ROLES[0]}`, "--config-file", config, ...withHash]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/reads as a comment/);
  });

  it("a key in a token: the pkcs11: URI is kept as it is (not checked as a file, not made a path)", async () => {
    const { config } = files();
    const uri = "pkcs11:token=host;object=iam-ra;type=private";
    const flags = [...f.flags];
    flags[flags.indexOf("--private-key") + 1] = uri;
    const r = await runCli(["profile", "configure", `hw=${ROLES[0]}`, "--config-file", config, ...flags]);
    expect(r.stderr).not.toMatch(/cannot be read/);
    expect(r.code).toBe(0);
    expect(readFileSync(config, "utf8")).toContain(` --private-key '${uri}' `);
  });

  it("a missing certificate file is reported before anything is written", async () => {
    const { config } = files();
    const flags = f.flags.map((a) => (a.endsWith("cert.pem") ? join(f.dir, "nope.pem") : a));
    const r = await runCli(["profile", "configure", `ci=${ROLES[0]}`, "--config-file", config, ...flags]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--certificate file .*nope\.pem cannot be read/);
    expect(() => statSync(config)).toThrow();
  });
});

describe("iam-ra profile list / remove", () => {
  it("lists both files, marks what iam-ra wrote, removes only that unless --force", async () => {
    const { config, credentials } = files();
    writeFileSync(config, EXISTING);
    writeFileSync(credentials, "[hand]\naws_access_key_id = AKIAHAND\naws_secret_access_key = x\n");
    await configure(config, [`reader=${ROLES[0]}`]);
    const up = await runCli([
      "update",
      "--once",
      "--profile",
      "reader",
      "--credentials-file",
      credentials,
      "--role-arn",
      ROLES[0],
      ...f.flags,
    ]);
    expect(up.code).toBe(0);
    const listArgs = ["--config-file", config, "--credentials-file", credentials];
    const list = JSON.parse(
      (await runCli(["profile", "list", ...listArgs, "--json"])).stdout,
    ) as ProfileListResult;
    expect(list.profiles.map((p) => [p.file, p.name, p.managed, p.roleArn])).toEqual([
      ["config", "default", false, undefined],
      ["config", "sso-dev", false, undefined],
      ["config", "legacy", false, undefined],
      ["config", "reader", true, ROLES[0]],
      ["credentials", "hand", false, undefined],
      ["credentials", "reader", true, ROLES[0]],
    ]);
    expect(list.profiles.at(-1)!.expires).toMatch(/Z$/);
    const human = await runCli(["profile", "list", ...listArgs]);
    expect(human.stdout).toMatch(
      /^\* reader\s+config, arn:aws:iam::123456789012:role\/reader, region us-east-1$/m,
    );
    expect(human.stdout).not.toMatch(/AKIA|ASIA|aws_secret/);

    const removed = JSON.parse(
      (await runCli(["profile", "remove", "reader", ...listArgs, "--json"])).stdout,
    ) as ProfileRemoveResult;
    expect(removed.removed.map((r) => r.file)).toEqual(["config", "credentials"]);
    expect(readFileSync(config, "utf8")).toBe(EXISTING);
    expect(readFileSync(credentials, "utf8")).toBe(
      "[hand]\naws_access_key_id = AKIAHAND\naws_secret_access_key = x\n",
    );

    const refused = await runCli(["profile", "remove", "legacy", ...listArgs]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/was not written by iam-ra/);
    expect(refused.stderr).toMatch(/--force/);
    const missing = await runCli(["profile", "remove", "nope", ...listArgs]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/There is no profile nope/);
    const forced = await runCli(["profile", "remove", "legacy", "--force", ...listArgs]);
    expect(forced.code).toBe(0);
    // The last section goes with the blank line before it.
    expect(readFileSync(config, "utf8")).toBe(
      EXISTING.slice(0, EXISTING.indexOf("\n\n[profile legacy]") + 1),
    );
  });
});
