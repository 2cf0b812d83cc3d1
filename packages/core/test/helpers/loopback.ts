import { once } from "node:events";
import type { Server } from "node:http";
import { onTestFinished } from "vitest";

/**
 * Listens on a free loopback port until the test ends (open connections closed too); the port.
 * Each test's peers (fake STS, Roles Anywhere, hostile endpoints) are real servers on loopback.
 */
export async function listenForTest(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as { port: number }).port;
}
