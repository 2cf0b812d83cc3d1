import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSerial, parseSerialFlag } from "../src/services/serial.ts";
import { formatTable } from "../src/services/table.ts";
import { createIamRa } from "./helpers/cli.ts";
import { type LocalAws, startLocalAws } from "./helpers/local-aws.ts";
import { runCli } from "./helpers/setup.ts";

const exec = promisify(execFile);
const NO_STACK = /\n\s+at |node_modules|oclif/;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iam-ra-edges-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("usage errors: one compact document with --json, one paragraph without", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["unknown flag", ["status", "--nope"], /Nonexistent flag: --nope/],
    ["missing argument", ["role", "create"], /Missing 1 required arg: name/],
    ["bad option value", ["ca", "setup", "--scope", "s", "--key-algorithm", "nope"], /--key-algorithm/],
    [
      "not an integer",
      ["status", "--expiring", "soon"],
      /--expiring: Expected an integer but received: soon/,
    ],
    ["unknown command", ["staus"], /There is no command "staus"/],
  ];
  it.each(cases)("%s", async (_, args, message) => {
    const json = await runCli([...args, "--json"]);
    expect(json.code).toBe(2);
    expect(json.stdout.length).toBeLessThan(1000);
    const doc = JSON.parse(json.stdout);
    expect(Object.keys(doc)).toEqual(["error"]);
    expect(doc.error).toMatchObject({ name: "IamRaError", code: "invalid-input", hint: expect.any(String) });
    expect(doc.error.message).toMatch(message);
    const human = await runCli(args);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe("");
    expect(human.stderr).toMatch(message);
    expect(human.stderr).toMatch(/\n {2}hint: /);
    expect(human.stderr).not.toMatch(NO_STACK);
    expect(human.stderr).not.toMatch(/USAGE|FLAGS/);
  });

  it("a mistyped command gets a did-you-mean, topics included; nothing is run", async () => {
    expect((await runCli(["staus"])).stderr).toMatch(/Did you mean `iam-ra status`\?/);
    expect((await runCli(["host", "onbord"])).stderr).toMatch(/Did you mean `iam-ra host onboard`\?/);
    expect((await runCli(["xyzzy"])).stderr).not.toMatch(/Did you mean/);
  });
});

describe("negative numbers name the real cause, never 'ambiguous'", () => {
  const material = () => {
    const cert = join(dir, "c.pem");
    writeFileSync(cert, "not a certificate");
    return ["--certificate", cert, "--private-key", cert];
  };
  const cases: Array<[string[], RegExp]> = [
    [["credential-process", "--max-attempts", "-1"], /--max-attempts must be a whole number from 1 to 10/],
    [["credential-process", "--timeout", "-1"], /--timeout must be a whole number from 100 to 120000/],
    [["serve", "--port", "-1"], /--port: Expected an integer greater than or equal to 0 but received: -1/],
    [
      ["update", "--profile", "p", "--timeout", "-1"],
      /--timeout: Expected an integer greater than or equal to 0/,
    ],
    [["host", "onboard", "h", "--role", "r", "--validity-days", "-1"], /greater than or equal to 1/],
    [["ca", "setup", "--scope", "s", "--ca-validity-years", "-1"], /greater than or equal to 1/],
  ];
  it.each(cases)("%j", async (args, message) => {
    const r = await runCli([...args, ...(args[0] === "credential-process" ? material() : [])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/ambiguous/);
    expect(r.stderr).not.toMatch(NO_STACK);
  });
});

describe("read-certificate-data reads only bounded regular files", () => {
  it("device, FIFO, directory, 2 MiB file: a clear error within seconds", async () => {
    const fifo = join(dir, "fifo");
    await exec("mkfifo", [fifo]);
    const big = join(dir, "big.pem");
    writeFileSync(big, Buffer.alloc(2 * 1024 * 1024));
    const cases: Array<[string, RegExp]> = [
      ["/dev/zero", /is a device, not a regular file/],
      [fifo, /is a FIFO, not a regular file/],
      [dir, /is a directory, not a regular file/],
      [big, /is larger than 1048576 bytes/],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(["read-certificate-data", "--certificate", path, "--json"]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error.message).toMatch(message);
    }
  }, 30_000);
});

describe("profile names: update and service install follow profile configure's rule", () => {
  it("a name with a space is refused by all three, before any work", async () => {
    const configure = await runCli([
      "profile",
      "configure",
      "my profile",
      "--role-arn",
      "arn:aws:iam::1:role/r",
    ]);
    const update = await runCli(["update", "--profile", "my profile", "--once"]);
    for (const r of [configure, update]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/"my profile" is not a usable profile name/);
    }
  });
});

describe("admin commands without a region", () => {
  it("say so with the next step, before any AWS call", async () => {
    const config = join(dir, "config-without-region");
    writeFileSync(config, "[default]\noutput = json\n");
    const env = {
      AWS_REGION: "",
      AWS_DEFAULT_REGION: "",
      AWS_PROFILE: "",
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials"),
      // Nothing listens here: a call would fail differently.
      AWS_ENDPOINT_URL: "http://127.0.0.1:1",
    };
    for (const args of [
      ["host", "list"],
      ["status", "--json"],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(" ")).toBe(1);
      const expected = "No AWS region is configured.";
      const hint = "Pass --region, or set AWS_REGION, or set a region in your AWS profile.";
      if (args.includes("--json")) {
        expect(JSON.parse(result.stdout).error).toMatchObject({
          code: "invalid-input",
          message: expected,
          hint,
        });
      } else {
        expect(result.stderr).toBe(`iam-ra: ${expected}\n  hint: ${hint}\n`);
      }
    }
  });
});

describe("presentation helpers", () => {
  it("serials: hex for people, decimal or hex accepted back", () => {
    expect(formatSerial("255")).toBe("ff");
    expect(parseSerialFlag("ff")).toBe("255");
    expect(parseSerialFlag("0x0A")).toBe("10");
    expect(parseSerialFlag("de:ad")).toBe(String(0xdead));
    expect(parseSerialFlag("255")).toBe("255");
    expect(() => parseSerialFlag("zz")).toThrow(/not a serial number/);
  });
  it("tables: a header, aligned columns, no trailing spaces", () => {
    expect(
      formatTable(
        ["A", "LONG"],
        [
          ["xyz", "1"],
          ["", "22"],
        ],
      ),
    ).toBe("A    LONG\nxyz  1\n     22");
  });
});

describe("help", () => {
  it("each topic has its own description; no flag says [env: …] twice", async () => {
    const root = (await runCli(["--help"])).stdout;
    for (const [topic, first] of [
      ["ca", "list"],
      ["host", "list"],
      ["role", "list"],
      ["credentials", "status"],
    ]) {
      const topicHelp = (await runCli([topic!, "--help"])).stdout;
      const summary = topicHelp.split("\n")[0]!;
      expect(root).toContain(summary.slice(0, 30));
      const command = (await runCli([topic!, first!, "--help"])).stdout;
      expect(command.startsWith(summary)).toBe(false);
    }
    for (const args of [["read-certificate-data"], ["sign-string"], ["credentials", "status"]]) {
      const help = (await runCli([...args, "--help"])).stdout.replace(/\s+/g, " ");
      for (const m of help.matchAll(/env: (\w+)/g))
        expect(help.match(new RegExp(`env: ${m[1]}\\b`, "g"))?.length, `${args.join(" ")} ${m[1]}`).toBe(1);
    }
  });
});

describe("status exits 1 when a check fails", () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  }, 60_000);
  afterAll(async () => {
    await aws?.close();
  });
  it("all green → 0; a disabled trust anchor → ERROR and exit 1, report kept", async () => {
    const iamRa = createIamRa(() => aws.env);
    const init = await iamRa(["init", "-n", "st"]);
    expect(init.code).toBe(0);
    const ok = await iamRa(["status", "-n", "st"]);
    expect(ok.code).toBe(0);
    const id = init.json.ca.trustAnchorArn.split("/").at(-1);
    await exec(
      "aws",
      ["rolesanywhere", "disable-trust-anchor", "--trust-anchor-id", id, "--endpoint-url", aws.emu.url],
      { env: aws.env },
    );
    const failed = await iamRa(["status", "-n", "st"]);
    expect(failed.code).toBe(1);
    expect(failed.json.checks).toContainEqual(
      expect.objectContaining({ level: "error", message: "trust anchor is disabled" }),
    );
    const human = await runCli(["status", "-n", "st"], aws.env);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/ERROR ca default: trust anchor is disabled/);
  }, 120_000);
});
