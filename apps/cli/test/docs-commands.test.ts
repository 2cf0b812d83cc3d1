import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  checkInvocation,
  extractDocCommands,
  findCommand,
  findIamRaInvocations,
  parseCliReference,
  readFencedBlocks,
} from "./helpers/doc-commands.ts";

// The shell commands the docs print, proven runnable as printed: every `iam-ra …` line names a
// command of docs/cli-reference.md (generated from the oclif metadata, see cli-reference.test.ts)
// with flags it has; the built CLI's own help knows each of them; and the ones that need no AWS run.

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../bin/run.js", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const read = (file: string) => readFileSync(join(REPO, file), "utf8");
const DOCS = [
  "README.md",
  ...readdirSync(join(REPO, "docs"))
    .filter((f) => f.endsWith(".md") && f !== "cli-reference.md")
    .map((f) => `docs/${f}`),
];
const reference = parseCliReference(read("docs/cli-reference.md"));
// The README's inline commands too (`iam-ra --help` in its install table); the other docs' inline
// code also names unit files, certificate CNs and syntax fragments.
const commands = DOCS.flatMap((file) =>
  extractDocCommands(file, read(file), { inline: file === "README.md" }),
);

/** Runs the built CLI with no stdin in a throw-away HOME, so nothing a test runs reads ~/.aws. */
function iamRaEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: home, NO_COLOR: "1" };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-docs-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("the iam-ra commands printed in README.md and docs/*.md", () => {
  it("are all found: sh/bash/console fences, ini credential_process lines, the README's inline code", () => {
    expect(commands.length).toBeGreaterThan(40);
    const files = new Set(commands.map((c) => c.where.split(":")[0]));
    for (const file of [
      "README.md",
      "docs/quickstart.md",
      "docs/admin.md",
      "docs/hosts.md",
      "docs/emulator.md",
    ])
      expect(files).toContain(file);
    expect(commands.map((c) => c.argv.join(" "))).toContain("--help");
  });

  it("each names a command of docs/cli-reference.md, with flags and arguments it takes", () => {
    const problems = commands.flatMap((c) =>
      checkInvocation(c.argv, reference).map((p) => `${c.where}: ${p}\n    ${c.text}`),
    );
    expect(problems).toEqual([]);
  });

  it("each command and flag they use is in the built CLI's own --help", async () => {
    const used = new Map<string, Set<string>>();
    for (const c of commands) {
      const found = findCommand(c.argv, reference);
      if (!found) continue;
      const flags = used.get(found.command.id) ?? new Set<string>();
      for (const word of found.rest) {
        const flag = /^(--[a-z0-9-]+|-[A-Za-z])(=|$)/.exec(word)?.[1];
        if (flag && flag !== "--help" && flag !== "--json") flags.add(flag);
      }
      used.set(found.command.id, flags);
    }
    expect(used.size).toBeGreaterThan(20);
    const home = tempDir();
    const missing: string[] = [];
    const queue = [...used];
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [id, flags] = next;
          const { stdout } = await exec(process.execPath, [BIN, ...id.split(" "), "--help"], {
            env: iamRaEnv(home),
            timeout: 30_000,
          });
          for (const flag of flags) {
            // oclif lists `-R, --role=<value>` and `    --yes`.
            const listed = flag.startsWith("--")
              ? new RegExp(`${flag}(?![\\w-])`).test(stdout)
              : stdout.includes(`${flag}, --`);
            if (!listed) missing.push(`iam-ra ${id} --help does not list ${flag}`);
          }
        }
      }),
    );
    expect(missing).toEqual([]);
  });

  it("iam-ra --help and iam-ra --version run", async () => {
    const home = tempDir();
    const help = await exec(process.execPath, [BIN, "--help"], { env: iamRaEnv(home), timeout: 30_000 });
    expect(help.stdout).toMatch(/^USAGE\n\s+\$ iam-ra \[COMMAND\]/m);
    const version = await exec(process.execPath, [BIN, "--version"], {
      env: iamRaEnv(home),
      timeout: 30_000,
    });
    const { version: cliVersion } = JSON.parse(read("apps/cli/package.json")) as { version: string };
    expect(version.stdout).toContain(`@iam-ra/cli/${cliVersion}`);
  });

  it("the emulator commands run as printed (on a free port instead of the printed one) and answer", async () => {
    const printed = commands.filter((c) => c.argv[0] === "emulator" && !c.argv.includes("--help"));
    expect(printed.map((c) => c.where.split(":")[0]).sort()).toEqual([
      "docs/emulator.md",
      "docs/quickstart.md",
    ]);
    for (const c of printed) {
      const cwd = tempDir();
      // Another test or program may hold the printed port (4566): the same command on port 0.
      const argv = c.argv.map((word, i) => (c.argv[i - 1] === "--port" ? "0" : word));
      const child = spawn(process.execPath, [BIN, ...argv], {
        cwd,
        env: iamRaEnv(cwd),
        stdio: ["ignore", "pipe", "pipe"],
      });
      onTestFinished(() => {
        if (child.exitCode === null) child.kill("SIGKILL");
      });
      const url = await listeningUrl(child, `${c.where}: ${c.text}`);
      const caOut = argv[argv.indexOf("--tls-ca-out") + 1];
      const status = argv.includes("--tls")
        ? await httpsStatus(`${url}/_emulator/health`, readFileSync(resolve(cwd, caOut!)))
        : (await fetch(`${url}/_emulator/health`)).status;
      expect(status, c.where).toBe(200);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code, c.where).toBe(0);
    }
  });
});

describe("docs/quickstart.md", () => {
  it("uses files of this checkout that exist (the CLI's bin, the moto launcher)", () => {
    const shell = readFencedBlocks(read("docs/quickstart.md"))
      .filter((b) => b.info === "sh")
      .flatMap((b) => b.body)
      .join("\n");
    const paths = [...shell.matchAll(/(?:^|[\s/])((?:apps|packages)\/[\w./-]+)/g)].map((m) => m[1]!);
    expect(paths).toEqual(
      expect.arrayContaining(["apps/cli/bin/run.js", "packages/emulator/moto/launcher.py"]),
    );
    expect(paths.filter((p) => !existsSync(join(REPO, p)))).toEqual([]);
  });
});

describe("the doc command checker", () => {
  it("finds iam-ra behind env assignments, sudo, pipes, && and $(…), and not in other programs' arguments", () => {
    expect(
      findIamRaInvocations(
        'FOO=1 sudo iam-ra k8s list -c a | kubectl apply -f - && eval "$(iam-ra profile list --json)" # iam-ra x',
      ),
    ).toEqual([
      ["profile", "list", "--json"],
      ["k8s", "list", "-c", "a"],
    ]);
    expect(findIamRaInvocations("echo iam-ra init > /dev/null; /usr/local/bin/iam-ra status 2>&1")).toEqual([
      ["status"],
    ]);
  });

  it("reports unknown commands and flags, bracketed options and wrong argument counts", () => {
    const check = (line: string) => checkInvocation(findIamRaInvocations(line)[0]!, reference);
    expect(check("iam-ra host onboard web-1 --role app --output-dir ./web-1")).toEqual([]);
    expect(check("iam-ra host onbaord web-1")).toEqual([
      "no command `iam-ra host onbaord web-1` in docs/cli-reference.md",
    ]);
    expect(check("iam-ra host onboard web-1 --roles app")).toEqual([
      "`iam-ra host onboard` has no flag --roles",
    ]);
    expect(check("iam-ra init -q")).toEqual(["`iam-ra init` has no flag -q"]);
    expect(check("iam-ra host onboard --role app")).toEqual(["`iam-ra host onboard` needs HOSTNAME"]);
    expect(check("iam-ra role list extra")).toEqual(["`iam-ra role list` takes 0 argument(s), not 1"]);
    expect(check("iam-ra doctor --certificate c.pem [--json]")).toEqual([
      "`[--json]`: brackets for an optional flag are not shell (a reader's paste passes them on)",
    ]);
    expect(check("iam-ra profile configure a=arn:1 b=arn:2 --default")).toEqual([]);
    expect(check("iam-ra k8s webhook --help")).toEqual([]);
  });
});

/** The URL `iam-ra emulator` prints when it listens; rejects with its output when it exits first. */
async function listeningUrl(child: ChildProcess, what: string): Promise<string> {
  let out = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    out += String(chunk);
  });
  return await new Promise<string>((resolveUrl, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += String(chunk);
      const url = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) resolveUrl(url);
    });
    child.once("exit", (code) => reject(new Error(`${what}\nexited ${code} before listening:\n${out}`)));
  });
}

/** The status of an https GET that trusts only `ca`. */
async function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return await new Promise<number>((resolveStatus, reject) => {
    get(url, { ca }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    }).on("error", reject);
  });
}
