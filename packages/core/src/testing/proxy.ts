import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";

/** A CONNECT proxy on loopback, as a self-hosted runner or a corporate network puts in front. @public */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY/HTTP_PROXY. */
  url: string;
  /** The `host:port` of every tunnel opened, in order. */
  tunnels: string[];
  close(): Promise<void>;
}

/** Starts a CONNECT proxy on a free loopback port that records the tunnels it opens. @public */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    tunnels.push(target);
    // host:port, where an IPv6 host comes in brackets: split at the last colon.
    const colon = target.lastIndexOf(":");
    const host = target.slice(0, colon).replace(/^\[|\]$/g, "");
    let connected = false;
    const upstream = connect(Number(target.slice(colon + 1)), host, () => {
      connected = true;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    // An unreachable target gets an answer, as a real proxy gives, instead of a silent hang.
    upstream.on("error", () => {
      if (!connected) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      else client.destroy();
    });
    client.on("error", () => upstream.destroy());
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
