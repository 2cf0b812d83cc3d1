import { once } from "node:events";
import { createServer } from "node:net";
import { type Emulator, startEmulator } from "@iam-ra/emulator";
import { type MotoServer, startMoto } from "@iam-ra/emulator/testing";

/** moto (IAM, S3, SSM, KMS, CloudFormation with AWS::RolesAnywhere::*) and our emulator, wired together. */
export interface LocalAws {
  moto: MotoServer;
  emu: Emulator;
  /** The environment a stock AWS client (or iam-ra) needs to use them. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startLocalAws(): Promise<LocalAws> {
  // The emulator and moto each need the other's URL: reserve the emulator's port first.
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  const moto = await startMoto({ rolesAnywhereEndpoint: `http://127.0.0.1:${port}` });
  const emu = await startEmulator({ port, iamEndpoint: moto.url, acmPcaEndpoint: moto.url });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ENDPOINT_URL: moto.url,
    AWS_ENDPOINT_URL_ROLESANYWHERE: emu.url,
    AWS_CONFIG_FILE: "/nonexistent/iam-ra-test-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/iam-ra-test-credentials",
    AWS_MAX_ATTEMPTS: "1",
  };
  const local: LocalAws = {
    moto,
    emu,
    env,
    // A test may replace `emu` (restart it on the same port): close whichever runs now.
    async close() {
      await local.emu.close();
      await moto.close();
    },
  };
  return local;
}
