import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
export const BIN = fileURLToPath(new URL("../../bin/run.js", import.meta.url));

/** What `iam-ra … --json` answered: the exit code, stdout parsed (or null) and stderr. */
export interface CliResult {
  code: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON documents of many shapes, checked field by field
  json: any;
  stderr: string;
}

/** Runs the built `iam-ra` with `--json` in `env` (default: the one `defaultEnv` gives at call time). */
export function createIamRa(defaultEnv: () => NodeJS.ProcessEnv) {
  return async (args: string[], env: NodeJS.ProcessEnv = defaultEnv()): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [BIN, ...args, "--json"], {
        env,
        maxBuffer: 10e6,
      });
      return { code: 0, json: JSON.parse(stdout), stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      let json: unknown = null;
      try {
        json = JSON.parse(err.stdout);
      } catch {
        // not JSON: a crash, reported through stderr
      }
      return { code: err.code, json, stderr: err.stderr };
    }
  };
}

/** What `iam-ra credential-process` gave: the credential_process document, or the error on stderr. */
export type CredentialProcessResult =
  // biome-ignore lint/suspicious/noExplicitAny: the credential_process document, checked field by field
  { ok: true; doc: any; stderr: string } | { ok: false; stderr: string };

/** Runs `iam-ra credential-process` for a certificate and key file against an emulator. */
export function createCredentialProcess(local: () => { env: NodeJS.ProcessEnv; endpoint: string }) {
  return async (
    files: { certificate: string; privateKey: string },
    arns: { trustAnchorArn: string; profileArn: string; roleArn: string },
  ): Promise<CredentialProcessResult> => {
    const { env, endpoint } = local();
    // biome-ignore format: one flag and its value per line
    const args = [
      BIN, "credential-process",
      "--certificate", files.certificate,
      "--private-key", files.privateKey,
      "--trust-anchor-arn", arns.trustAnchorArn,
      "--profile-arn", arns.profileArn,
      "--role-arn", arns.roleArn,
      "--endpoint", endpoint,
    ];
    return await exec(process.execPath, args, { env }).then(
      (r) => ({ ok: true as const, doc: JSON.parse(r.stdout), stderr: r.stderr }),
      (e: { stderr: string }) => ({ ok: false as const, stderr: e.stderr }),
    );
  };
}
