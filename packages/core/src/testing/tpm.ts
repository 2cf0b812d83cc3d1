import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import type { KeyObject } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.ts";
import { createPkcs11Tool, readTokenPublicKey } from "./softhsm.ts";

/** Where Debian's libtpm2-pkcs11-1 puts the TPM's PKCS#11 module. @public */
export const TPM2_PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so";

/**
 * A software TPM 2.0 (swtpm) behind a resource manager (tpm2-abrmd on a private D-Bus), with a
 * tpm2-pkcs11 token: keys are created in the TPM by `tpm2_ptool` and used through PKCS#11.
 * @public
 */
export interface SoftwareTpm {
  module: string;
  /** TPM2_PKCS11_TCTI, TPM2_PKCS11_STORE and the D-Bus address the module needs. */
  env: Record<string, string>;
  token: string;
  /** Creates a key in the TPM (`ecc256`, `ecc384`, `rsa2048`) under the token; its public key. */
  addKey(algorithm: "ecc256" | "ecc384" | "rsa2048", label: string): KeyObject;
  stop(): Promise<void>;
}

const which = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Whether swtpm, tpm2-abrmd, D-Bus, tpm2-pkcs11 and its tools are installed. @public */
export const hasSoftwareTpm = (): boolean =>
  existsSync(TPM2_PKCS11_MODULE) &&
  ["swtpm", "tpm2-abrmd", "dbus-daemon", "tpm2_ptool", "tpm2_getrandom", "pkcs11-tool"].every(which);

/** Whether something accepts TCP connections on a loopback port. */
async function accepts(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return await new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts a software TPM with one tpm2-pkcs11 token (user PIN `pin`).
 * @public
 */
export async function startSoftwareTpm(options: {
  token: string;
  pin: string;
  /**
   * Give the TPM's owner hierarchy this password first (as a managed machine's TPM has); the
   * tpm2-pkcs11 store is then initialised with it, once, by the admin.
   */
  ownerAuth?: string | undefined;
}): Promise<SoftwareTpm> {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-tpm-"));
  const state = join(dir, "state");
  const store = join(dir, "store");
  mkdirSync(state);
  mkdirSync(store);
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await startSwtpm(state, children);
    // A private session bus, so tpm2-abrmd's well-known name is ours alone.
    const busConfig = join(dir, "bus.conf");
    writeFileSync(
      busConfig,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${join(dir, "bus")}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
    );
    const bus = spawn("dbus-daemon", [`--config-file=${busConfig}`, "--nofork", "--nopidfile"], {
      stdio: "ignore",
    });
    children.push(bus);
    const address = `unix:path=${join(dir, "bus")}`;
    const env = {
      ...process.env,
      DBUS_SESSION_BUS_ADDRESS: address,
      TPM2TOOLS_TCTI: "tabrmd:bus_type=session",
      TPM2_PKCS11_TCTI: "tabrmd:bus_type=session",
      TPM2_PKCS11_STORE: store,
    };
    for (let i = 0; i < 50 && !existsSync(join(dir, "bus")); i++)
      await new Promise((r) => setTimeout(r, 100));
    const rootFlag = process.getuid?.() === 0 ? ["--allow-root"] : [];
    children.push(
      spawn("tpm2-abrmd", [...rootFlag, "--session", `--tcti=swtpm:host=127.0.0.1,port=${port}`], {
        env,
        stdio: ["ignore", "ignore", "pipe"],
      }),
    );
    const manager = children.at(-1)!;
    let managerLog = "";
    manager.stderr?.on("data", (chunk: Buffer) => {
      managerLog = (managerLog + chunk.toString()).slice(-4000);
    });
    for (let i = 0; ; i++) {
      try {
        execFileSync("tpm2_getrandom", ["4"], { env, stdio: ["ignore", "ignore", "pipe"] });
        break;
      } catch (error) {
        if (i >= 100)
          throw new Error(
            `the software TPM did not answer: ${String((error as { stderr?: Buffer }).stderr ?? error)}; tpm2-abrmd: ${managerLog}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const ptool = (args: string[]) =>
      execFileSync("tpm2_ptool", [...args, "--path", store], { env, stdio: ["ignore", "pipe", "pipe"] });
    if (options.ownerAuth !== undefined) {
      execFileSync("tpm2_changeauth", ["-c", "owner", options.ownerAuth], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      ptool(["init", `--hierarchy-auth=${options.ownerAuth}`]);
    } else ptool(["init"]);
    ptool([
      "addtoken",
      "--pid=1",
      `--label=${options.token}`,
      `--userpin=${options.pin}`,
      `--sopin=so-${options.pin}`,
    ]);
    const tool = createPkcs11Tool(TPM2_PKCS11_MODULE, env);
    return {
      module: TPM2_PKCS11_MODULE,
      env: {
        DBUS_SESSION_BUS_ADDRESS: address,
        TPM2_PKCS11_TCTI: env.TPM2_PKCS11_TCTI,
        TPM2_PKCS11_STORE: store,
      },
      token: options.token,
      addKey(algorithm, label) {
        ptool([
          "addkey",
          `--algorithm=${algorithm}`,
          `--label=${options.token}`,
          `--key-label=${label}`,
          `--userpin=${options.pin}`,
        ]);
        return readTokenPublicKey(tool, options.token, label, join(dir, `${label}.pub.der`));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts swtpm on a free port pair (its TCTI finds the control channel on the next port up) and
 * waits until it accepts connections: tpm2-abrmd connects once at start and exits if the TPM is not
 * listening yet. A port taken in between (swtpm exits) is retried on another pair; a slow start
 * (a loaded machine) gets 20 s.
 */
async function startSwtpm(state: string, children: ChildProcess[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const ctrl = port + 1;
    const swtpm = spawn(
      "swtpm",
      [
        "socket",
        "--tpmstate",
        `dir=${state}`,
        "--tpm2",
        "--server",
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        "--ctrl",
        `type=tcp,port=${ctrl},bindaddr=127.0.0.1`,
        "--flags",
        "not-need-init,startup-clear",
      ],
      { stdio: "ignore" },
    );
    children.push(swtpm);
    const deadline = Date.now() + 20_000;
    while (swtpm.exitCode === null && swtpm.signalCode === null && Date.now() < deadline) {
      if (await accepts(port)) return port;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (swtpm.exitCode === null && swtpm.signalCode === null) {
      throw new Error(`swtpm did not start listening on 127.0.0.1:${port} within 20 s`);
    }
    if (attempt >= 5) throw new Error(`swtpm exited (${swtpm.exitCode ?? swtpm.signalCode}) five times`);
  }
}
