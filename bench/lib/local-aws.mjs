// Shared by the benches of admin commands: local AWS as the CLI's tests use it — moto with the Roles
// Anywhere launcher, and the built emulator in its own process (a bench may block in execFileSync
// while the CLI works) checking trust policies against moto's IAM — and the environment that points
// the CLI at them, in a fresh temporary HOME. Needs the builds (packages/emulator, apps/cli).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./world.mjs";

/**
 * Starts moto and the emulator; `close()` stops both and removes the directory.
 * @param {string} name  names the temporary directory (`iam-ra-bench-<name>-…`)
 */
export async function startLocalAws(name) {
  const { startMoto } = await import(join(root, "packages/emulator/dist/testing/index.js")).catch(() => {
    console.error("bench: build first: npx -y pnpm@10.34.9 -r run build");
    process.exit(2);
  });
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  await new Promise((r) => probe.close(r));
  const emulatorUrl = `http://127.0.0.1:${port}`;
  const moto = await startMoto({ rolesAnywhereEndpoint: emulatorUrl });
  const emulator = spawn(
    process.execPath,
    [
      join(root, "packages/emulator/bin/iam-ra-emulator.js"),
      "--port",
      String(port),
      "--iam-endpoint",
      moto.url,
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  await once(emulator.stdout, "data");
  emulator.stdout.resume();
  const dir = mkdtempSync(join(tmpdir(), `iam-ra-bench-${name}-`));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: moto.url,
    AWS_ENDPOINT_URL_ROLESANYWHERE: emulatorUrl,
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    NODE_NO_WARNINGS: "1",
  };
  return {
    moto,
    dir,
    env,
    async close() {
      emulator.kill("SIGTERM");
      await moto.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
