import { once } from "node:events";
import { createServer } from "node:net";
import { type Emulator, startEmulator } from "../src/index.ts";
import { type MotoServer, startMoto } from "../src/testing/index.ts";

/** What every SDK client of these tests passes: moto's endpoint, fixed credentials, no retries. */
export function motoClientConfig(moto: MotoServer) {
  return {
    endpoint: moto.url,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  };
}

/** A loopback port nobody listens on (yet). */
export async function reservePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** moto with the Roles Anywhere plugin and an emulator, each knowing the other's URL. */
export async function startMotoWithEmulator(): Promise<{
  moto: MotoServer;
  emu: Emulator;
  close(): Promise<void>;
}> {
  const port = await reservePort();
  const moto = await startMoto({ rolesAnywhereEndpoint: `http://127.0.0.1:${port}` });
  const emu = await startEmulator({ port, iamEndpoint: moto.url, acmPcaEndpoint: moto.url });
  return {
    moto,
    emu,
    async close() {
      await emu.close();
      await moto.close();
    },
  };
}
