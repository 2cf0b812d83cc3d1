import { once } from "node:events";
import { createServer } from "node:net";

/**
 * A loopback TCP port that was free a moment ago (the OS picks it; the probe is closed before this
 * returns). For servers that must be told their port up front.
 * @public
 */
export async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}
