import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestPki, type TestPki } from "@iam-ra/core/testing";
import type { KeyAlgorithm } from "@iam-ra/core/x509";
import {
  createBoundTrustPolicy,
  type Emulator,
  type RolesAnywhereSetUp,
  setUpRolesAnywhere,
  startEmulator,
} from "@iam-ra/emulator";
import { parse } from "yaml";

export const ACTION_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROLE_ARN = "arn:aws:iam::123456789012:role/ci-deploy";
/** A role in another account that trusts ROLE_ARN: the target of role chaining. */
export const CHAINED_ROLE_ARN = "arn:aws:iam::210987654321:role/chained-deploy";

interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: string; description: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post: string; "post-if"?: string };
}

/** action.yml, parsed. */
export function readActionYml(): ActionYml {
  return parse(readFileSync(join(ACTION_DIR, "action.yml"), "utf8")) as ActionYml;
}

/**
 * Reads a file-command file (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE) the way the runner does: both
 * `name<<DELIMITER` heredocs and `name=value` lines, in order. Anything else is an error.
 */
export function parseFileCommands(text: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, i + 1);
      if (end === -1) throw new Error(`unterminated heredoc for ${name}`);
      entries.push([name, lines.slice(i + 1, end).join("\n")]);
      i = end;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`not a file command line: ${line}`);
    entries.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return entries;
}

/** The result of one step, as the runner would see it. */
export interface StepResult {
  code: number;
  stdout: string;
  stderr: string;
  /** GITHUB_ENV entries, in order. */
  envEntries: Array<[string, string]>;
  /** GITHUB_ENV as the runner applies it: the last value of each name wins. */
  env: Record<string, string>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  runnerTemp: string;
}

/** `::error::…` lines of a step's stdout. */
export const errorLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("::error::"));

/**
 * A job: a copy of the action folder (action.yml and dist only, away from any node_modules, as a
 * published action is checked out), a RUNNER_TEMP and a HOME, and the environment the steps
 * accumulate through GITHUB_ENV.
 */
export class Job {
  readonly dir = mkdtempSync(join(tmpdir(), "iam-ra-action-job-"));
  readonly actionDir = join(this.dir, "action");
  readonly runnerTemp = join(this.dir, "runner-temp");
  readonly home = join(this.dir, "home");
  /** Variables earlier steps exported: the runner hands them to every later step. */
  jobEnv: Record<string, string> = {};
  #steps = 0;

  constructor() {
    mkdirSync(this.actionDir);
    cpSync(join(ACTION_DIR, "action.yml"), join(this.actionDir, "action.yml"));
    cpSync(join(ACTION_DIR, "dist"), join(this.actionDir, "dist"), { recursive: true });
    mkdirSync(this.runnerTemp);
    mkdirSync(this.home);
  }

  /**
   * Runs `node dist/index.js` (or post.js) as the runner does: INPUT_* for each input (action.yml's
   * defaults filled in, names upper-cased with spaces as underscores and hyphens kept), fresh
   * GITHUB_ENV/GITHUB_OUTPUT/GITHUB_STATE files, STATE_* from the main step for the post step.
   * GITHUB_ENV is then applied to the job, as the runner does between steps.
   */
  async step(
    entry: "index" | "post",
    inputs: Record<string, string>,
    options: { env?: Record<string, string>; state?: Record<string, string>; unset?: string[] } = {},
  ): Promise<StepResult> {
    const n = ++this.#steps;
    const files = { GITHUB_ENV: "", GITHUB_OUTPUT: "", GITHUB_STATE: "" } as Record<string, string>;
    for (const name of Object.keys(files)) {
      files[name] = join(this.dir, `${name.toLowerCase()}-${n}`);
      writeFileSync(files[name], "");
    }
    const yml = readActionYml();
    const inputEnv: Record<string, string> = {};
    for (const [name, spec] of Object.entries(yml.inputs)) {
      if (spec.default !== undefined)
        inputEnv[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = spec.default;
    }
    for (const [name, value] of Object.entries(inputs)) {
      if (!(name in yml.inputs)) throw new Error(`action.yml declares no input ${name}`);
      inputEnv[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
    }
    const stateEnv = Object.fromEntries(
      Object.entries(options.state ?? {}).map(([k, v]) => [`STATE_${k}`, v]),
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      LANG: "C.UTF-8",
      RUNNER_TEMP: this.runnerTemp,
      GITHUB_ACTIONS: "true",
      ...this.jobEnv,
      ...options.env,
      ...inputEnv,
      ...stateEnv,
      ...files,
    };
    for (const name of options.unset ?? []) delete env[name];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [join(this.actionDir, "dist", `${entry}.js`)],
          { cwd: this.dir, env, timeout: 60_000 },
          (error, stdout, stderr) => {
            const exit = error ? (typeof error.code === "number" ? error.code : -1) : 0;
            resolve({ code: exit, stdout, stderr });
          },
        );
      },
    );
    const envEntries = parseFileCommands(readFileSync(files.GITHUB_ENV!, "utf8"));
    const envMap = Object.fromEntries(envEntries);
    Object.assign(this.jobEnv, envMap);
    return {
      code,
      stdout,
      stderr,
      envEntries,
      env: envMap,
      outputs: Object.fromEntries(parseFileCommands(readFileSync(files.GITHUB_OUTPUT!, "utf8"))),
      state: Object.fromEntries(parseFileCommands(readFileSync(files.GITHUB_STATE!, "utf8"))),
      runnerTemp: this.runnerTemp,
    };
  }

  /** The environment a later `run:` step of the job sees (for stock clients). */
  runEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.home,
      LANG: "C.UTF-8",
      AWS_CONFIG_FILE: join(this.dir, "no-config"),
      ...this.jobEnv,
      ...extra,
    };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The Roles Anywhere world the action signs into. */
export interface World extends RolesAnywhereSetUp {
  emu: Emulator;
  pki: TestPki;
  /** A leaf the role's trust policy accepts (OU=ci), from the root or the intermediate CA. */
  issue(options?: {
    issuer?: "root" | "intermediate";
    notBefore?: Date;
    notAfter?: Date;
    keyAlgorithm?: KeyAlgorithm;
  }): Promise<{ certificatePem: string; privateKeyPem: string; serialHex: string }>;
}

/**
 * An emulator with a trust anchor for the test root CA, a profile listing ROLE_ARN (bound to
 * OU=ci) and, for chaining, CHAINED_ROLE_ARN in another account that trusts ROLE_ARN.
 */
export async function createWorld(): Promise<World> {
  const emu = await startEmulator();
  const pki = await createTestPki();
  const setUp = await setUpRolesAnywhere(emu, {
    caCertificatePem: pki.root.certificatePem,
    roles: [{ roleArn: ROLE_ARN, trustPolicy: createBoundTrustPolicy("ci") }],
  });
  emu.putRole(CHAINED_ROLE_ARN, {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: ROLE_ARN }, Action: "sts:AssumeRole" }],
  });
  return {
    emu,
    pki,
    ...setUp,
    async issue(options = {}) {
      const leaf = await pki.issueLeaf({
        subject: "CN=github-actions,OU=ci",
        issuer: options.issuer ?? "root",
        ...(options.notBefore ? { notBefore: options.notBefore } : {}),
        // Well past certificate-expiry-warning-days, so only the expiry tests see a warning.
        notAfter: options.notAfter ?? new Date(Date.now() + 90 * 86_400_000),
        ...(options.keyAlgorithm ? { keyAlgorithm: options.keyAlgorithm } : {}),
      });
      return {
        certificatePem: leaf.certificatePem,
        privateKeyPem: leaf.privateKeyPem,
        serialHex: leaf.certificate.serialNumber.toLowerCase(),
      };
    },
  };
}

/**
 * Lines of a PEM private key that are secret: the base64 body. None may appear in any log line
 * other than an `::add-mask::` registration.
 */
export function keyBodyLines(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("-----") && !l.includes(":"));
}

/**
 * The secrets whose `::add-mask::` registration is missing from stdout, or comes after a line that
 * contains them: the runner masks only what it was told before the line arrives.
 */
export function maskedTooLate(stdout: string, secrets: string[]): string[] {
  const lines = stdout.split("\n");
  return secrets.filter((secret) => {
    const maskAt = lines.indexOf(`::add-mask::${secret}`);
    const printedAt = lines.findIndex((l) => !l.startsWith("::add-mask::") && l.includes(secret));
    return maskAt === -1 || (printedAt !== -1 && printedAt < maskAt);
  });
}

/** Lines other than `::add-mask::` registrations that contain any of the secrets. */
export function leakingLines(output: string, secrets: string[]): string[] {
  return output
    .split("\n")
    .filter((l) => !l.startsWith("::add-mask::") && secrets.some((s) => s !== "" && l.includes(s)));
}
