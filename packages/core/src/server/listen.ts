import { once } from "node:events";
import type { Server } from "node:net";
import { IamRaError } from "../errors.ts";

/**
 * Starts listening and waits until it does; a port in use, a privileged port or an address this
 * host does not have (or a name that does not resolve) becomes an `invalid-input` error naming the
 * port or address and what to do.
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
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      throw new IamRaError(
        "invalid-input",
        `Cannot listen on ${host}: no such address on this host (${code}).`,
        {
          hint: "Pass an IP address of this host to --host (127.0.0.1 or ::1, without brackets; 0.0.0.0 with --allow-remote).",
        },
      );
    }
    throw error;
  }
}
