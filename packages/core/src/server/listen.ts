import { once } from "node:events";
import type { Server } from "node:net";
import { IamRaError } from "../errors.ts";

/**
 * Starts listening and waits until it does; a port in use, a privileged port or an address this
 * host does not have becomes an `invalid-input` error naming the port and what to do.
 * @internal
 */
export async function listenOrExplain(server: Server, port: number, host: string): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, "listening");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw new IamRaError(
        "invalid-input",
        code === "EADDRINUSE"
          ? `Port ${port} on ${host} is already in use.`
          : `Cannot listen on ${host}:${port} (${code}).`,
        { hint: "Pass another --port (or stop what holds it: ss -ltnp | grep :PORT)." },
      );
    }
    throw error;
  }
}
