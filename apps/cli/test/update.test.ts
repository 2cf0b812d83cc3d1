import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { UpdateResult } from "../src/commands/update.ts";
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
function freshDir(): string {
  const dir = join(f.dir, `case-${++n}`);
  mkdirSync(dir);
  return dir;
}

/** `update --once`; `extra` flags are appended or, when already present, replace the value. */
function update(credentials: string, profile: string, extra: string[] = []) {
  const args = ["--profile", profile, "--credentials-file", credentials, "--role-arn", ROLES[0], ...f.flags];
  for (let i = 0; i < extra.length; i++) {
    const at = args.indexOf(extra[i]!);
    if (at >= 0 && extra[i + 1] !== undefined && !extra[i + 1]!.startsWith("--")) args[at + 1] = extra[++i]!;
    else if (at < 0) args.push(extra[i]!);
  }
  return runCli(["update", "--once", ...args]);
}

const HAND_WRITTEN = [
  "# Hand-written; CRLF on purpose.",
  "[default]",
  "aws_access_key_id=AKIAEXAMPLEDEFAULT",
  "aws_secret_access_key = default-secret",
  "",
  "; the host's own profile",
  "[host]",
  "region = us-east-1",
  "aws_security_token = stale-token-botocore-would-prefer",
  "",
  "[other]",
  "aws_access_key_id = AKIAEXAMPLEOTHER",
  "aws_secret_access_key = other-secret",
].join("\r\n");

describe("iam-ra update --once", () => {
  it("fills one profile of a hand-written file; every other byte stays; the aws CLI, boto3 and the JS SDK use it", async () => {
    const dir = freshDir();
    const credentials = join(dir, "credentials");
    writeFileSync(credentials, HAND_WRITTEN, { mode: 0o644 });
    const r = await update(credentials, "host", ["--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as UpdateResult;
    expect(result).toMatchObject({
      profile: "host",
      credentialsFile: credentials,
      state: "written",
      refreshes: 1,
    });
    expect(new Date(result.expiration!).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);

    const after = readFileSync(credentials, "utf8");
    const head = HAND_WRITTEN.slice(0, HAND_WRITTEN.indexOf("aws_security_token"));
    const tail = HAND_WRITTEN.slice(HAND_WRITTEN.indexOf("\r\n\r\n[other]"));
    expect(after.startsWith(`${head}aws_access_key_id = ASIA`)).toBe(true);
    expect(after).not.toContain("aws_security_token");
    expect(after.endsWith(`\r\nx_iam_ra_role_arn = arn:aws:iam::123456789012:role/reader${tail}`)).toBe(true);
    expect(after).toMatch(/\r\nx_security_token_expires = \d{4}-\d\d-\d\dT[\d:.]+Z\r\n/);
    expect(after.split("\n").every((line, i, all) => i === all.length - 1 || line.endsWith("\r"))).toBe(true);
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["credentials"]);

    const files = { config: join(dir, "no-config"), credentials };
    expect(await awsCallerArn(f.emu, "host", files)).toMatch(
      /^arn:aws:sts::123456789012:assumed-role\/reader\//,
    );
    expect(await boto3CallerArn(f.emu, "host", files)).toMatch(/assumed-role\/reader\//);
    expect(await jsSdkCallerArn(f.emu, "host", files)).toMatch(/assumed-role\/reader\//);
  });

  it("a second run replaces the keys in place; nothing else moves", async () => {
    const credentials = join(freshDir(), "credentials");
    await update(credentials, "ci");
    const first = readFileSync(credentials, "utf8");
    await update(credentials, "ci");
    const second = readFileSync(credentials, "utf8");
    expect(second).not.toBe(first);
    const shape = (s: string) => s.replace(/= .*/g, "= …");
    expect(shape(second)).toBe(shape(first));
    expect(first.startsWith("[ci]\naws_access_key_id = ")).toBe(true);
  });

  it("writes through a symlinked credentials file and keeps the link", async () => {
    const dir = freshDir();
    mkdirSync(join(dir, "real"));
    writeFileSync(join(dir, "real", "credentials"), "[keep]\nx = 1\n");
    symlinkSync("real/credentials", join(dir, "credentials"));
    expect((await update(join(dir, "credentials"), "ci")).code).toBe(0);
    expect(lstatSync(join(dir, "credentials")).isSymbolicLink()).toBe(true);
    const text = readFileSync(join(dir, "real", "credentials"), "utf8");
    expect(text.startsWith("[keep]\nx = 1\n\n[ci]\naws_access_key_id = ")).toBe(true);
    expect(statSync(join(dir, "real", "credentials")).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "real"))).toEqual(["credentials"]);
  });

  it("says so on every run when TLS verification is off", async () => {
    const credentials = join(freshDir(), "credentials");
    const r = await update(credentials, "ci", ["--no-verify-ssl"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /iam-ra update: warning: TLS certificate verification is off \(--no-verify-ssl\)/,
    );
  });

  it("creates a missing directory 0700 and file 0600", async () => {
    const dir = freshDir();
    const credentials = join(dir, ".aws", "credentials");
    expect((await update(credentials, "default")).code).toBe(0);
    expect(statSync(join(dir, ".aws")).mode & 0o777).toBe(0o700);
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
  });

  it("eight processes writing eight profiles at once: all eight present, the file intact", async () => {
    const dir = freshDir();
    const credentials = join(dir, "credentials");
    writeFileSync(credentials, HAND_WRITTEN);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => update(credentials, `p${i}`)));
    expect(results.map((r) => [r.code, r.stderr.replace(/ to .*/s, "")])).toEqual(
      results.map((_, i) => [0, `iam-ra update: wrote profile "p${i}"`]),
    );
    const script =
      "import json,sys; from botocore.configloader import raw_config_parse; print(json.dumps(raw_config_parse(sys.argv[1])))";
    const parsed = JSON.parse((await exec("python3", ["-c", script, credentials])).stdout) as Record<
      string,
      Record<string, string>
    >;
    for (let i = 0; i < 8; i++) expect(parsed[`p${i}`]?.aws_access_key_id).toMatch(/^ASIA/);
    expect(parsed.other).toEqual({
      aws_access_key_id: "AKIAEXAMPLEOTHER",
      aws_secret_access_key: "other-secret",
    });
    expect(readFileSync(credentials, "utf8").startsWith(HAND_WRITTEN)).toBe(true);
    expect(readdirSync(dir)).toEqual(["credentials"]);
  });

  it.each([
    ["a malformed role ARN", ["--role-arn", "arn:nope"], /not a valid role ARN/, /looks like/],
    ["a profile name with a bracket", ["--profile", "a]b"], /not a usable profile name/, /--profile/],
    [
      "a directory where the file should be",
      ["--credentials-file", "DIR"],
      /The AWS config or credentials path .* is a directory, not a regular file/,
      /Pass the path of a regular AWS config or credentials file/,
    ],
    ["a key that is not there", ["--private-key", "/nonexistent/key.pem"], /does not exist/, /path/],
  ])("%s: one clear line, exit 1, no stack, no secrets", async (_name, extra, message, hint) => {
    const dir = freshDir();
    const args = extra.map((a) => (a === "DIR" ? dir : a));
    const r = await update(join(dir, "credentials"), "ci", args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/PRIVATE KEY|aws_secret_access_key|ASIA/);
  });
});

describe("iam-ra update (refresh loop)", () => {
  it("writes, keeps running, and stops cleanly on SIGTERM", async () => {
    const credentials = join(freshDir(), "credentials");
    const child = spawn(
      process.execPath,
      [
        BIN,
        "update",
        "--profile",
        "loop",
        "--credentials-file",
        credentials,
        "--role-arn",
        ROLES[1],
        ...f.flags,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    while (!stderr.includes("next refresh")) await once(child.stderr, "data");
    expect(stderr).toMatch(/wrote profile "loop" to .*credentials; expires \S+Z, next refresh \S+Z/);
    expect(readFileSync(credentials, "utf8")).toContain(
      "x_iam_ra_role_arn = arn:aws:iam::123456789012:role/writer",
    );
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopped\n$/);
    expect(stderr).not.toMatch(/aws_secret_access_key|ASIA/);
  });
});
