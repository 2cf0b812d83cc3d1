import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "@iam-ra/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/index.ts";
import { BIN } from "./helpers/setup.ts";

// A corpus of bad inputs walked over every command: each case changes ONE thing of an otherwise
// well-formed command line (every AWS endpoint is a closed port, so anything that reaches AWS fails as
// a network error, never as bad input). Each must end, within the deadline, with a non-zero exit, the
// documented error document with --json (one paragraph and a hint without), a code that names bad
// input (not a network, AWS or internal error: input is checked before any call), no stack trace, no
// secret echoed, and nothing written.

// biome-ignore lint/suspicious/noExplicitAny: oclif's flag and arg definitions are walked as data
type Any = any;

const DEADLINE_MS = 20_000;
const KEY_TEXT =
  "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKc7rX0Hn1e3d0d8S6yCq8D8Qj5cQe3qK0zJjK6d1z2x\n-----END PRIVATE KEY-----";
/** Codes that mean the input got past validation (or crashed): never an answer to bad input. */
const NOT_BAD_INPUT = new Set([
  "network",
  "timeout",
  "service-unavailable",
  "throttled",
  "access-denied",
  "not-initialized",
  "stack-failed",
  "not-found",
  "in-use",
  "state-conflict",
  "internal",
]);
/** Commands without --json (the credential_process protocol prints only credentials on stdout). */
const NO_JSON = new Set(["credential-process"]);
const STACK = /\n\s+at |node_modules\/|\(node:internal/;

let dir: string;
let cert: string;
let key: string;
let fifo: string;
let aFile: string;
let aDir: string;
const TA = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/8d6a2f5c-2f1e-4a3b-9c4d-5e6f7a8b9c0d";
const PROFILE = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const ROLE = "arn:aws:iam::123456789012:role/reader";
const CLOSED = "http://127.0.0.1:1";

/** An otherwise valid command line per command (placeholders resolved once the files exist). */
function baseline(id: string): string[] | undefined {
  const cred = [
    "--certificate",
    "CERT",
    "--private-key",
    "KEY",
    "--trust-anchor-arn",
    TA,
    "--profile-arn",
    PROFILE,
    "--role-arn",
    ROLE,
    "--endpoint",
    CLOSED,
    "--max-attempts",
    "1",
  ];
  const table: Record<string, string[]> = {
    "ca:delete": ["--scope", "s1", "--yes"],
    "ca:list": [],
    "ca:setup": ["--scope", "s1"],
    "ca:sync-crl": ["--scope", "s1"],
    destroy: ["--yes"],
    doctor: cred,
    "host:list": [],
    "host:offboard": ["h1", "--yes"],
    "host:onboard": ["h1", "--role", "app"],
    "host:revoke": ["h1", "--yes"],
    "host:rotate": ["h1"],
    init: [],
    "k8s:list": [],
    "k8s:offboard": ["w1", "--cluster", "c1", "--k8s-namespace", "ns1", "--yes"],
    "k8s:onboard": [
      "w1",
      "--role",
      "app",
      "--cluster",
      "c1",
      "--k8s-namespace",
      "ns1",
      "--app-image",
      "registry.example.com/app:1",
    ],
    "k8s:setup": ["c1"],
    "k8s:teardown": ["c1", "--yes"],
    "k8s:webhook:config": ["--cluster", "c1"],
    "k8s:webhook:install": ["--cluster", "c1"],
    migrate: [],
    "role:create": ["app"],
    "role:delete": ["app", "--yes"],
    "role:list": [],
    "role:update": ["app"],
    status: [],
    "credential-process": cred,
    "credentials:status": cred,
    demo: [],
    emulator: ["--port", "0"],
    "profile:configure": ["p1", ...cred, "--config-file", "CONFIG"],
    "profile:list": ["--config-file", "CONFIG"],
    "profile:remove": ["p1", "--config-file", "CONFIG", "--force"],
    "read-certificate-data": ["--certificate", "CERT"],
    serve: [...cred, "--port", "0"],
    "service:install": cred,
    "sign-string": ["--certificate", "CERT", "--private-key", "KEY"],
    update: [...cred, "--profile", "p1", "--once", "--credentials-file", "CREDENTIALS"],
  };
  return table[id];
}

const ADMIN = new Set([
  "ca:delete",
  "ca:list",
  "ca:setup",
  "ca:sync-crl",
  "destroy",
  "host:list",
  "host:offboard",
  "host:onboard",
  "host:revoke",
  "host:rotate",
  "init",
  "k8s:list",
  "k8s:offboard",
  "k8s:onboard",
  "k8s:setup",
  "k8s:teardown",
  "k8s:webhook:config",
  "k8s:webhook:install",
  "migrate",
  "role:create",
  "role:delete",
  "role:list",
  "role:update",
  "status",
]);
const NAME_ARGS = new Set(["hostname", "name", "workload", "cluster", "profile"]);
const ARN_FLAGS = new Set(["trust-anchor-arn", "profile-arn", "role-arn", "pca-arn", "policy"]);
/** Files a command reads whatever else it is given. */
const INPUT_FILES = new Set(["certificate", "private-key", "intermediates", "csr", "ca-key-file"]);
/** Where a command writes, given as an existing regular file or directory of the wrong kind. */
const OUTPUT_DIRS: Record<string, string[]> = {
  "output-dir": ["host:onboard", "host:rotate"],
  output: ["k8s:onboard", "k8s:webhook:config", "k8s:webhook:install"],
};
const OUTPUT_FILES: Record<string, string[]> = {
  "config-file": ["profile:configure", "profile:list", "profile:remove"],
  "credentials-file": ["update"],
  "token-file": ["serve"],
};

interface Case {
  id: string;
  what: string;
  argv: string[];
  /** Text that must appear nowhere in the output (secrets). */
  secret?: string;
}

/** Replaces the flag's value (or adds the flag) in argv. */
function withFlag(argv: string[], flag: string, value: string): string[] {
  const i = argv.indexOf(`--${flag}`);
  if (i === -1) return [...argv, `--${flag}`, value];
  const out = [...argv];
  out[i + 1] = value;
  return out;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const [id, command] of Object.entries(COMMANDS as Record<string, Any>)) {
    const base = baseline(id);
    if (!base) throw new Error(`no baseline command line for ${id}: add one`);
    const words = id.split(":");
    const add = (what: string, argv: string[], secret?: string) =>
      cases.push({ id, what, argv: [...words, ...argv], ...(secret ? { secret } : {}) });
    add("unknown flag", [...base, "--no-such-flag"]);
    if (id === "demo") continue; // its one valid run is the whole demo
    const flags: Record<string, Any> = command.flags ?? {};
    const args: Record<string, Any> = command.args ?? {};
    // A required argument left out.
    const firstArg = Object.entries(args)[0];
    if (firstArg?.[1].required) add("missing argument", base.slice(1));
    for (const [name, a] of Object.entries(args)) {
      // profile remove takes any name that exists, hand-written ones too: "no such profile" is the answer.
      if (!NAME_ARGS.has(name) || id === "profile:remove") continue;
      const at = Object.keys(args).indexOf(name);
      for (const bad of ["bad name;$(id)", "x".repeat(300)]) {
        const argv = [...base];
        if (a.required || argv.length > at) argv[at] = bad;
        else argv.unshift(bad);
        add(`${name} "${bad.slice(0, 20)}"`, argv);
      }
    }
    for (const [name, f] of Object.entries(flags)) {
      if (f.type !== "option") continue;
      const isInt = f.kind === "integer";
      if (isInt) {
        for (const bad of ["-1", "abc", "1e99"]) add(`--${name} ${bad}`, withFlag(base, name, bad));
      } else if (f.options) {
        add(`--${name} bogus`, withFlag(base, name, "bogus"));
      } else if (ARN_FLAGS.has(name)) {
        for (const bad of ["not-an-arn", "arn:aws:s3:::bucket"])
          add(`--${name} ${bad}`, withFlag(base, name, bad));
      } else if (INPUT_FILES.has(name)) {
        for (const [label, path] of [
          ["/dev/zero", "/dev/zero"],
          ["a directory", "DIR"],
          ["a missing file", "/nonexistent/iam-ra/file.pem"],
          ["a FIFO", "FIFO"],
        ] as const)
          add(`--${name} ${label}`, withFlag(base, name, path));
      } else if (name === "endpoint") {
        for (const bad of ["ftp://example.com", "http://example.com", "not a url"])
          add(`--endpoint ${bad}`, withFlag(base, name, bad));
      } else if (name === "region" || name === "account-id") {
        add(`--${name} mars-1`, withFlag(base, name, name === "region" ? "mars-1" : "12"));
      } else if (["duration", "renew-before", "wait"].includes(name)) {
        add(`--${name} forever`, withFlag(base, name, "forever"));
      }
      if (OUTPUT_DIRS[name]?.includes(id)) add(`--${name} is a file`, withFlag(base, name, "FILE"));
      if (OUTPUT_FILES[name]?.includes(id)) add(`--${name} is a directory`, withFlag(base, name, "DIR"));
    }
    // Key text where a path belongs: refused without being repeated anywhere.
    const stringFlag = Object.entries(flags).find(
      ([n, f]) => f.type === "option" && !f.options && !(f.kind === "integer") && n !== "endpoint",
    )?.[0];
    if (stringFlag) add(`key text in --${stringFlag}`, withFlag(base, stringFlag, KEY_TEXT), "MC4CAQAw");
    if (ADMIN.has(id)) {
      add("-n Bad_NS", [...base, "-n", "Bad_NS"]);
      add("--region mars-1", [...base, "--region", "mars-1"]);
    }
  }
  return cases;
}

const outcomes = new Map<string, number>();
let cases: Case[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "iam-ra-bad-input-"));
  const pki = await createTestPki();
  const leaf = await pki.issueLeaf({ subject: "CN=corpus,OU=hosts", issuer: "root" });
  cert = join(dir, "cert.pem");
  key = join(dir, "key.pem");
  writeFileSync(cert, leaf.certificatePem);
  writeFileSync(key, leaf.privateKeyPem, { mode: 0o600 });
  fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  aFile = join(dir, "a-file");
  writeFileSync(aFile, "not a directory\n");
  aDir = join(dir, "a-dir");
  mkdirSync(aDir);
});
afterAll(() => {
  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  const lines = [...outcomes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `  ${k}: ${n}`);
  console.log(
    `bad-input corpus: ${total} command lines over ${Object.keys(COMMANDS).length} commands\n${lines.join("\n")}`,
  );
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one command line in a fresh home and working directory, under a deadline. */
async function run(argv: string[]) {
  const home = mkdtempSync(join(dir, "home-"));
  const resolved = argv.map((a) =>
    a === "DIR"
      ? aDir
      : a === "FILE"
        ? aFile
        : a === "FIFO"
          ? fifo
          : a === "CONFIG"
            ? join(home, "config")
            : a === "CREDENTIALS"
              ? join(home, "credentials")
              : a,
  );
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "corpus-secret-access-key",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: CLOSED,
    AWS_CONFIG_FILE: join(home, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
    NO_COLOR: "1",
  };
  const started = Date.now();
  const result = await new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...resolved],
      { env, cwd: home, timeout: DEADLINE_MS, killSignal: "SIGKILL", maxBuffer: 4 << 20 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as Any).code ?? null) : 0,
          signal: error ? ((error as Any).signal ?? null) : null,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
    child.stdin?.end();
  });
  const left = readdirSync(home);
  rmSync(home, { recursive: true, force: true });
  return { ...result, ms: Date.now() - started, left };
}

describe("a corpus of bad inputs over every command", () => {
  cases = corpus();
  it("covers every command", () => {
    expect(new Set(cases.map((c) => c.id))).toEqual(new Set(Object.keys(COMMANDS)));
    expect(cases.length).toBeGreaterThan(200);
  });

  it.concurrent.each(cases.map((c, i) => [`${c.id} — ${c.what}`, c, i] as const))(
    "%s",
    async (_, c, i) => {
      const json = !NO_JSON.has(c.id);
      const r = await run(json ? [...c.argv, "--json"] : c.argv);
      const tally = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      expect(r.signal, `hung past ${DEADLINE_MS} ms: ${c.argv.join(" ")}`).toBeNull();
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(STACK);
      if (c.secret) expect(r.stdout + r.stderr).not.toContain(c.secret);
      expect(r.stdout + r.stderr).not.toContain("corpus-secret-access-key");
      if (!json) {
        // The credential_process protocol: stdout is for credentials only; the error on stderr.
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/^iam-ra: [^\n]+\n {2}hint: [^\n]+\n$/);
        expect(r.stderr).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:1|timed out/);
        expect(r.left, "files left behind").toEqual([]);
        tally(`exit ${r.code}, stderr only`);
        return;
      }
      let doc: Any;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        throw new Error(
          `--json did not print one JSON document: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`,
        );
      }
      if (c.id === "doctor" && "checks" in doc) {
        // doctor diagnoses: a bad file or endpoint is a failed check in its report, not an error.
        const failed = (doc.checks as Any[]).filter((check) => check.ok === false);
        expect(doc.ok).toBe(false);
        expect(failed.length).toBeGreaterThan(0);
        expect(failed[0].message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:1/);
        expect(r.left, "files left behind").toEqual([]);
        tally(`exit ${r.code}, doctor report: ${failed[0].id}`);
        return;
      }
      expect(Object.keys(doc)).toEqual(["error"]);
      expect(doc.error).toMatchObject({
        code: expect.any(String),
        message: expect.any(String),
        hint: expect.any(String),
      });
      expect(NOT_BAD_INPUT.has(doc.error.code), `${doc.error.code}: ${doc.error.message}`).toBe(false);
      expect(r.left, "files left behind").toEqual([]);
      tally(`exit ${r.code}, ${doc.error.code}`);
      // Without --json (every third case, to bound the run): one paragraph and a hint on stderr.
      if (i % 3 === 0) {
        const human = await run(c.argv);
        expect(human.signal).toBeNull();
        expect(human.code).toBe(r.code);
        expect(human.stderr).toMatch(/^iam-ra: [^\n]+(\n {2}hint: [^\n]+)?\n$/);
        expect(human.stderr).toMatch(/\n {2}hint: /);
        expect(human.stdout + human.stderr).not.toMatch(STACK);
        if (c.secret) expect(human.stdout + human.stderr).not.toContain(c.secret);
      }
    },
    DEADLINE_MS * 2 + 10_000,
  );
});
