import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

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
  /** The executable. Default `moto_server` from PATH. */
  command?: string | undefined;
  /** Arguments before `-H`/`-p` (e.g. a launcher script run by `python3`). Default none. */
  args?: readonly string[] | undefined;
  /** Give up waiting for the first answer after this long. Default 30 000 ms. */
  startTimeoutMs?: number | undefined;
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Starts moto_server on a free loopback port and waits until it answers. Tests call
 * `close()` (e.g. in `afterAll`); the process is also killed if the test runner exits.
 * @public
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    options.command ?? "moto_server",
    [...(options.args ?? []), "-H", "127.0.0.1", "-p", String(port)],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" } },
  );
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
