import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "@iam-ra/core/testing";

/**
 * The Python launcher that runs moto_server with CloudFormation models for
 * `AWS::RolesAnywhere::TrustAnchor`, `::Profile` and `::CRL` backed by an iam-ra emulator
 * (`IAM_RA_EMULATOR_URL=<emulator url> python3 <this path> -H 127.0.0.1 -p 5000`). It ships next to
 * the package's code (`moto/launcher.py` in `@iam-ra/emulator`, with `moto/requirements.txt`, the moto
 * version it supports: the launcher refuses another unless `IAM_RA_MOTO_ANY_VERSION=1` is set).
 * @public
 */
export const motoRolesAnywhereLauncher: string = fileURLToPath(
  new URL("../../moto/launcher.py", import.meta.url),
);

/**
 * A running moto_server (local AWS: CloudFormation, S3, SSM, IAM, KMS, STS, ACM PCA, Secrets Manager).
 * @public
 */
export interface MotoServer {
  /** Base URL, e.g. `http://127.0.0.1:41235`; pass it as every SDK client's `endpoint`. */
  readonly url: string;
  /** Clears every service's state (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Options of {@link startMoto}.
 * @public
 */
export interface StartMotoOptions {
  /**
   * The executable. Default `moto_server` from PATH; with `rolesAnywhereEndpoint`, the Python
   * interpreter that runs the launcher (default `python3`).
   */
  command?: string | undefined;
  /**
   * Arguments before `-H`/`-p` (e.g. a launcher script run by `python3`); with
   * `rolesAnywhereEndpoint`, arguments after the launcher's path. Default none.
   */
  args?: readonly string[] | undefined;
  /**
   * Teach moto's CloudFormation `AWS::RolesAnywhere::TrustAnchor`, `::Profile` and `::CRL`: their
   * create/update/delete call the Roles Anywhere control plane at this URL (an iam-ra emulator's
   * `url`). Runs {@link motoRolesAnywhereLauncher} instead of plain `moto_server`.
   */
  rolesAnywhereEndpoint?: string | undefined;
  /**
   * Run the launcher (and with it its fixes of moto's CloudFormation: change-set outputs, rollback on
   * failure) even without a Roles Anywhere endpoint. Implied by `rolesAnywhereEndpoint`.
   */
  cloudFormationFixes?: boolean | undefined;
  /**
   * Extra environment of the process, over this one's (e.g. `IAM_RA_MOTO_ANY_VERSION: "1"`). Default
   * none.
   */
  env?: Readonly<Record<string, string>> | undefined;
  /** Give up waiting for the first answer after this long. Default 30 000 ms. */
  startTimeoutMs?: number | undefined;
}

/**
 * Starts moto_server on a free loopback port and waits until it answers. Tests call
 * `close()` (e.g. in `afterAll`); the process is also killed if the test runner exits.
 * @public
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MOTO_ALLOW_NONEXISTENT_REGION: "true",
    ...options.env,
  };
  let command = options.command ?? "moto_server";
  let args = [...(options.args ?? [])];
  if (options.rolesAnywhereEndpoint !== undefined || options.cloudFormationFixes) {
    if (!existsSync(motoRolesAnywhereLauncher)) {
      throw new Error(`The moto Roles Anywhere launcher is missing: ${motoRolesAnywhereLauncher}`);
    }
    command = options.command ?? "python3";
    args = [motoRolesAnywhereLauncher, ...args];
    if (options.rolesAnywhereEndpoint !== undefined) env.IAM_RA_EMULATOR_URL = options.rolesAnywhereEndpoint;
    env.PYTHONDONTWRITEBYTECODE = "1";
  }
  const child: ChildProcess = spawn(command, [...args, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = once(child, "exit");
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `moto_server exited before answering (${child.exitCode ?? child.signalCode}): ${stderr}`,
      );
    }
    try {
      const res = await fetch(`${url}/moto-api/data.json`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`moto_server did not answer on ${url} within the timeout: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
      await res.arrayBuffer();
    },
    async close() {
      process.off("exit", kill);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(kill, 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
