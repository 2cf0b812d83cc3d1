import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@iam-ra/core/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import type { ServiceInstallResult } from "../src/commands/service/install.ts";
import { quoteSystemdArg, unitNameFor } from "../src/services/systemd.ts";
import { BIN, exec, ROLES, runCli, startFixture } from "./helpers/setup.ts";

const TA = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-0000-0000-000000000001";
const PROFILE = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-0000-0000-000000000002";
const ROLE = "arn:aws:iam::123456789012:role/app";

const hasSystemdAnalyze = (() => {
  try {
    execFileSync("systemd-analyze", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

function workDir() {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-units-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const certs = join(dir, "pki dir");
  mkdirSync(certs);
  writeFileSync(join(certs, "cert.pem"), "");
  writeFileSync(join(certs, "key.pem"), "", { mode: 0o600 });
  writeFileSync(join(certs, "pass word"), "hunter2-not-in-any-unit\n", { mode: 0o600 });
  return { dir, certs };
}

/** The flags every case needs: certificate, key, the three ARNs and the user. */
const baseArgs = (certs: string) => [
  "--certificate",
  join(certs, "cert.pem"),
  "--private-key",
  join(certs, "key.pem"),
  "--trust-anchor-arn",
  TA,
  "--profile-arn",
  PROFILE,
  "--role-arn",
  ROLE,
  "--user",
  "root",
];

function install(certs: string, extra: string[]) {
  return runCli(["service", "install", ...baseArgs(certs), ...extra], { IAM_RA_PRIVATE_KEY_PASSPHRASE: "" });
}

const setting = (content: string, key: string) =>
  content
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

describe("iam-ra service install", () => {
  it("builds both units: absolute node and script, passphrase by LoadCredential, only the needed path writable", async () => {
    const { dir, certs } = workDir();
    const credentials = join(dir, "home dir", ".aws", "credentials");
    const r = await install(certs, [
      "--profile",
      "ci",
      "--credentials-file",
      credentials,
      "--private-key-passphrase-file",
      join(certs, "pass word"),
      "--session-duration",
      "3600",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as ServiceInstallResult;
    expect(result.written).toBe(false);
    expect(result.units.map((u) => u.name)).toEqual(["iam-ra-serve.service", "iam-ra-update-ci.service"]);
    const [serve, update] = result.units.map((u) => u.content);
    const script = realpathSync(BIN);

    for (const unit of [serve!, update!]) {
      expect(unit).not.toContain("hunter2");
      expect(setting(unit, "User")).toEqual(["root"]);
      expect(setting(unit, "Restart")).toEqual(["on-failure"]);
      expect(setting(unit, "NoNewPrivileges")).toEqual(["yes"]);
      expect(setting(unit, "ProtectSystem")).toEqual(["strict"]);
      expect(setting(unit, "PrivateTmp")).toEqual(["yes"]);
      expect(setting(unit, "LoadCredential")).toEqual([`iam-ra-key-passphrase:${join(certs, "pass word")}`]);
      expect(setting(unit, "Environment")).toEqual([]);
      expect(setting(unit, "ExecStart")[0]).toContain(
        " --private-key-passphrase-file %d/iam-ra-key-passphrase",
      );
      expect(setting(unit, "ExecStart")[0]).toContain(` --certificate "${join(certs, "cert.pem")}"`);
      expect(setting(unit, "ExecStart")[0]).toContain(" --session-duration 3600");
      expect(unit).toMatch(/^\[Install\]\nWantedBy=multi-user\.target$/m);
    }
    expect(
      setting(update!, "ExecStart")[0]!.startsWith(
        `${process.execPath} ${script} update --profile ci --credentials-file "${credentials}" `,
      ),
    ).toBe(true);
    expect(setting(update!, "ReadWritePaths")).toEqual([`"${join(dir, "home dir", ".aws")}"`]);
    expect(
      setting(serve!, "ExecStart")[0]!.startsWith(
        `${process.execPath} ${script} serve --host 127.0.0.1 --port 9911 --token-file /run/iam-ra/token `,
      ),
    ).toBe(true);
    expect(setting(serve!, "RuntimeDirectory")).toEqual(["iam-ra"]);
    expect(setting(serve!, "ReadWritePaths")).toEqual([]);
    expect(setting(serve!, "CapabilityBoundingSet")).toEqual([""]);
  });

  it.runIf(hasSystemdAnalyze)(
    "--write: systemd-analyze verify accepts every unit, and rates them well exposed",
    async () => {
      const { dir, certs } = workDir();
      const out = join(dir, "units");
      const r = await install(certs, [
        "--write",
        "--dir",
        out,
        "--profile",
        "my+profile",
        "--credentials-file",
        join(dir, "creds", "credentials"),
        "--private-key-passphrase-file",
        join(certs, "pass word"),
        "--port",
        "80",
        "--imds",
        "--token-file",
        join(dir, "tokens", "token"),
        "--group",
        "root",
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        /note: systemctl daemon-reload && systemctl enable --now iam-ra-serve\.service/,
      );
      const names = readdirSync(out).sort();
      expect(names).toEqual(["iam-ra-serve.service", "iam-ra-update-my\\x2bprofile.service"]);
      for (const name of names) {
        const path = join(out, name);
        expect(statSync(path).mode & 0o777).toBe(0o644);
        const verify = await exec("systemd-analyze", ["verify", "--man=no", path]).then(
          (v) => ({ code: 0, stderr: v.stderr }),
          (e: { code: number; stderr: string }) => e,
        );
        expect(verify).toEqual({ code: 0, stderr: "" });
        const security = await exec("systemd-analyze", [
          "security",
          "--offline=yes",
          "--threshold=30",
          path,
        ]).then(
          () => 0,
          (e: { code: number }) => e.code,
        );
        expect(security).toBe(0);
      }
      const serve = readFileSync(join(out, "iam-ra-serve.service"), "utf8");
      expect(setting(serve, "AmbientCapabilities")).toEqual(["CAP_NET_BIND_SERVICE"]);
      expect(setting(serve, "ReadWritePaths")).toEqual([join(dir, "tokens")]);
      expect(setting(serve, "ExecStart")[0]).toContain(" --port 80 ");
      expect(setting(serve, "ExecStart")[0]).toContain(" --imds ");
      expect(setting(serve, "ExecStart")[0]).toContain(" --token-file-mode 0640 ");
      expect(setting(serve, "Group")).toEqual(["root"]);
    },
  );

  it("the units' ExecStart lines run: update --once fills the file, serve starts listening", async () => {
    const fx = await startFixture();
    onTestFinished(() => fx.close());
    const credentials = join(fx.dir, "creds", "credentials");
    const token = join(fx.dir, "run dir", "token");
    mkdirSync(join(fx.dir, "run dir"));
    const r = await runCli([
      "service",
      "install",
      "--json",
      "--user",
      "root",
      "--role-arn",
      ROLES[0],
      ...fx.flags,
      "--credentials-file",
      credentials,
      "--token-file",
      token,
      "--port",
      String(await freePort()),
    ]);
    expect(r.code).toBe(0);
    const units = (JSON.parse(r.stdout) as ServiceInstallResult).units;
    const words = (kind: string) =>
      splitExecStart(setting(units.find((u) => u.kind === kind)!.content, "ExecStart")[0]!);

    const [node, ...updateArgs] = words("update");
    await exec(node!, [...updateArgs, "--once"]);
    expect(readFileSync(credentials, "utf8")).toMatch(/^\[default\]\naws_access_key_id = ASIA/);

    const [serveNode, ...serveArgs] = words("serve");
    const child = spawn(serveNode!, [...serveArgs, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    const [first] = (await once(child.stdout, "data")) as [Buffer];
    const listening = JSON.parse(first.toString().split("\n")[0]!) as { credentialsUri: string };
    // 503 until the first session is in; then 200.
    let creds: Response;
    for (let tries = 0; ; tries++) {
      creds = await fetch(listening.credentialsUri, {
        headers: { authorization: readFileSync(token, "utf8") },
      });
      if (creds.status !== 503 || tries > 100) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(creds.status).toBe(200);
    expect(((await creds.json()) as { AccessKeyId: string }).AccessKeyId).toMatch(/^ASIA/);
    child.kill("SIGTERM");
    await once(child, "exit");
  });

  it("--unit picks one unit; the human output is the unit file itself", async () => {
    const { certs } = workDir();
    const r = await install(certs, ["--unit", "update"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# \/etc\/systemd\/system\/iam-ra-update-default\.service\n# Generated by/);
    expect(r.stdout).not.toContain("iam-ra-serve");
  });

  it.each([
    ["no certificate", (a: string[]) => a.slice(4), /No certificate/, /--certificate/],
    [
      "a bad role ARN",
      (a: string[]) => a.map((x) => (x === ROLE ? "nope" : x)),
      /not a valid role ARN/,
      /looks like/,
    ],
    ["a bad user", (a: string[]) => [...a.slice(0, -1), "bad user"], /is not a user name/, /--user/],
  ])("%s: exit 1, one clear line", async (_name, mutate, message, hint) => {
    const { certs } = workDir();
    const base = baseArgs(certs);
    const r = await runCli(["service", "install", ...mutate(base)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** Splits an ExecStart= line the way systemd does, for the quoting we emit (no specifiers left). */
function splitExecStart(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!;
    words.push(raw.replace(/%%/g, "%").replace(/\$\$/g, "$"));
  }
  return words;
}

describe("systemd quoting", () => {
  it.each([
    ["/usr/bin/node", "/usr/bin/node"],
    ["/a b/c", '"/a b/c"'],
    ["50%", "50%%"],
    ["$HOME", "$$HOME"],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["", '""'],
  ])("%j → %s", (arg, quoted) => {
    expect(quoteSystemdArg(arg)).toBe(quoted);
  });

  it("refuses control characters, escapes odd unit names", () => {
    expect(() => quoteSystemdArg("a\nb")).toThrow(/control character/);
    expect(unitNameFor("update", "prod.admin")).toBe("iam-ra-update-prod.admin.service");
    expect(unitNameFor("update", "a/b")).toBe("iam-ra-update-a\\x2fb.service");
  });
});
