import type { Agent, IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { ConnectionOptions, PeerCertificate } from "node:tls";
import { IamRaError, stripControlCharacters } from "../errors.ts";

/**
 * A response as the CreateSession client needs it.
 * @public
 */
export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Sends one HTTP request. The default is {@link createNodeTransport}; tests pass loopback servers,
 * never a fake of this function.
 * @public
 */
export type HttpTransport = ((request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}) => Promise<HttpResponse>) & {
  /** Opens a connection to `url`'s origin ahead of a request, if the transport can (see {@link NodeTransport}). */
  preconnect?: ((url: URL) => void) | undefined;
};

/**
 * Options of the default transport.
 * @public
 */
export interface NodeTransportOptions {
  /** Environment to read `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` from. Default: no proxy. */
  proxyEnv?: Readonly<Record<string, string | undefined>> | undefined;
  /** Extra trusted CA certificates (PEM), e.g. from `AWS_CA_BUNDLE`. */
  ca?: string | undefined;
  /** Skip TLS verification (`--no-verify-ssl`). Default false. */
  insecureSkipVerify?: boolean | undefined;
  /**
   * The largest response body accepted, in bytes. A peer that sends more (a hostile endpoint or
   * proxy) fails the request with `ERESPONSETOOLARGE` instead of filling memory. Default
   * {@link MAX_RESPONSE_BYTES}.
   */
  maxResponseBytes?: number | undefined;
}

/**
 * The default cap on a response body: CreateSession and STS answers are a few KB, so 256 KiB leaves
 * room for any real answer and bounds what a hostile peer can make us hold.
 * @public
 */
export const MAX_RESPONSE_BYTES = 256 * 1024;

/** A network-level failure (no HTTP response). @public */
export class TransportError extends Error {
  override name = "TransportError";
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    // Node's messages can quote the peer (a certificate's names in a TLS error).
    super(stripControlCharacters(message), options);
    this.code = code;
  }
}

/** The proxy variable that applies to a URL, by name, with its value. */
function proxyFor(
  url: URL,
  env: Readonly<Record<string, string | undefined>>,
): { variable: string; value: string } | undefined {
  const get = (name: string) => {
    for (const variable of [name, name.toLowerCase()]) {
      const value = env[variable];
      if (value !== undefined) return { variable, value };
    }
    return undefined;
  };
  const noProxy = get("NO_PROXY")?.value;
  if (noProxy) {
    const host = url.hostname.toLowerCase();
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    for (const raw of noProxy.split(/[,\s]+/)) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      if (entry === "*") return undefined;
      const [entryHost, entryPort] = entry.split(":") as [string, string | undefined];
      if (entryPort && entryPort !== port) continue;
      const bare = entryHost.replace(/^\*?\./, "");
      if (host === bare || host.endsWith(`.${bare}`)) return undefined;
    }
  }
  const chosen =
    url.protocol === "https:"
      ? (get("HTTPS_PROXY") ?? get("ALL_PROXY"))
      : (get("HTTP_PROXY") ?? get("ALL_PROXY"));
  // An empty value (HTTPS_PROXY="") turns the proxy off.
  return chosen?.value ? chosen : undefined;
}

/**
 * A proxy variable's value as a URL. A value without a scheme (`proxy:3128`) means http, as curl
 * and Go read it. The error names the variable but never shows the value, which may hold a password.
 */
function proxyUrl(proxy: { variable: string; value: string }): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy.value) ? proxy.value : `http://${proxy.value}`;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new IamRaError("invalid-input", `${proxy.variable} is not a usable proxy URL.`, {
      hint: `Set ${proxy.variable} to an http:// or https:// URL such as http://proxy.example.com:3128 (its value is not shown here: it may hold a password).`,
    });
  }
  return url.href;
}

// Built-ins come from process.getBuiltinModule, loaded on first use: `import("node:http")` builds
// an ES namespace of every export, and reading node:http's lazy WebSocket getters loads undici
// (~17 ms of a credential-process cold start). It also needs no require() or import.meta, so the
// same code runs bundled as CommonJS.

/**
 * The default transport: an {@link HttpTransport} that can also open connections ahead of time.
 * @public
 */
export interface NodeTransport extends HttpTransport {
  /**
   * Starts connecting to `url`'s origin now (DNS, TCP and, for https, the TLS handshake), so that
   * work overlaps with whatever the caller does before its request, such as parsing the key and
   * signing. Each call opens one connection, and the next request to that origin uses it (once).
   * A connection that fails or closes before then is dropped quietly: the request connects as
   * usual and reports any error itself. Nothing is opened when a proxy applies to the URL, and an
   * unused connection never keeps the process alive.
   */
  preconnect(url: URL): void;
}

/** How long a preconnected socket may take to connect, or wait unused, before it is dropped. */
const WARM_TIMEOUT_MS = 10_000;

/** Closes a warm socket that waited too long (the `timeout` listener while it is unused). */
function dropWarm(this: Socket): void {
  this.destroy();
}

/** `scheme://host:port`, the key a warm connection is filed under. */
const originOf = (url: URL) => `${url.protocol}//${url.host}`;

/** The URL's host as sockets and certificates name it: an IPv6 address without its brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

/**
 * The default transport: `node:https`/`node:http`, honouring proxy variables (`HTTPS_PROXY`,
 * `HTTP_PROXY`, `NO_PROXY`) and a custom CA bundle. TLS 1.2 minimum.
 * @public
 */
export function createNodeTransport(options: NodeTransportOptions = {}): NodeTransport {
  const agents = new Map<string, Agent>();
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const warm = new Map<string, Socket[]>();
  const proxyEnv = options.proxyEnv ?? {};
  const tlsOptions = (url: URL): ConnectionOptions => ({
    minVersion: "TLSv1.2",
    rejectUnauthorized: !options.insecureSkipVerify,
    ...(options.ca ? { ca: options.ca } : {}),
    // Through a CONNECT proxy the TLS socket loses the target host, so an IP endpoint would be
    // checked against "localhost"; check the URL's own host instead.
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      process.getBuiltinModule("node:tls").checkServerIdentity(hostOf(url), cert),
  });
  /**
   * A warm connection to the request's origin that is still usable, taken out of the pool: its
   * idle timeout is off (the request sets its own) and it keeps the process alive again.
   */
  const takeWarm = (url: URL): Socket | undefined => {
    const pool = warm.get(originOf(url));
    for (let socket = pool?.shift(); socket; socket = pool?.shift()) {
      // A server that closed it (an idle timeout) leaves it unwritable or destroyed.
      if (!socket.destroyed && socket.writable) {
        return socket.setTimeout(0).off("timeout", dropWarm).ref();
      }
    }
    return undefined;
  };
  const transport: HttpTransport = async (request) => {
    const isHttps = request.url.protocol === "https:";
    const { request: send } = process.getBuiltinModule(isHttps ? "node:https" : "node:http");
    const proxyVariable = proxyFor(request.url, proxyEnv);
    const proxy = proxyVariable ? proxyUrl(proxyVariable) : undefined;
    let agent: Agent | undefined;
    if (proxy) {
      agent = agents.get(proxy);
      if (!agent) {
        const { HttpsProxyAgent } = await import("https-proxy-agent");
        agent = new HttpsProxyAgent(proxy, {
          ...(options.ca ? { ca: options.ca } : {}),
          rejectUnauthorized: !options.insecureSkipVerify,
          minVersion: "TLSv1.2",
        }) as unknown as Agent;
        agents.set(proxy, agent);
      }
    }
    const socket = proxy ? undefined : takeWarm(request.url);
    return await new Promise<HttpResponse>((resolve, reject) => {
      let req: ReturnType<typeof send>;
      try {
        req = send(
          request.url,
          {
            method: request.method,
            headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
            ...(agent ? { agent } : {}),
            // Without an agent, http uses this socket for the request and closes it after. It
            // then knows no default port, which the Host header needs.
            ...(socket ? { createConnection: () => socket, defaultPort: isHttps ? 443 : 80 } : {}),
            ...(isHttps ? tlsOptions(request.url) : {}),
            signal: request.signal,
          },
          onResponse,
        );
      } catch (error) {
        // Refused before http took the socket (a header it does not accept): close it here.
        socket?.destroy();
        throw error;
      }
      // The request's whole deadline: connecting, sending and the complete response. An idle
      // timeout alone lets a peer that trickles a byte now and then hold the caller forever.
      const deadline = setTimeout(() => {
        req.destroy(new TransportError("ETIMEDOUT", `no complete response within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      const tooLarge = () =>
        new TransportError(
          "ERESPONSETOOLARGE",
          `the response is larger than ${maxResponseBytes} bytes (refused; a real answer is a few KB)`,
        );
      function onResponse(res: import("node:http").IncomingMessage) {
        const declared = Number(res.headers["content-length"]);
        if (declared > maxResponseBytes) {
          req.destroy(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxResponseBytes) req.destroy(tooLarge());
          else chunks.push(c);
        });
        res.on("end", () => {
          clearTimeout(deadline);
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
        res.on("error", (e) => {
          clearTimeout(deadline);
          reject(e instanceof TransportError ? e : new TransportError("ECONNRESET", e.message, { cause: e }));
        });
      }
      req.setTimeout(request.timeoutMs, () => {
        req.destroy(new TransportError("ETIMEDOUT", `no response within ${request.timeoutMs} ms`));
      });
      req.on("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(deadline);
        if (e instanceof TransportError) reject(e);
        else if (e.name === "AbortError") reject(e);
        else reject(new TransportError(e.code ?? "ENETWORK", e.message, { cause: e }));
      });
      req.end(request.body);
    });
  };
  return Object.assign(transport, {
    preconnect(url: URL): void {
      if (proxyFor(url, proxyEnv)) return;
      const host = hostOf(url);
      const isHttps = url.protocol === "https:";
      const port = Number(url.port || (isHttps ? 443 : 80));
      const socket: Socket = isHttps
        ? process.getBuiltinModule("node:tls").connect({
            host,
            port,
            // SNI takes a name, never an address.
            ...(process.getBuiltinModule("node:net").isIP(host) ? {} : { servername: host }),
            ...tlsOptions(url),
          })
        : process.getBuiltinModule("node:net").connect({ host, port });
      // No Nagle delay, as http's own agents connect.
      socket.setNoDelay(true);
      // Until a request takes it, a failure only drops it (a destroyed socket is skipped), and
      // so does a connection attempt or an idle spell longer than a request's default timeout.
      socket.on("error", () => {});
      socket.setTimeout(WARM_TIMEOUT_MS, dropWarm);
      socket.unref();
      const origin = originOf(url);
      const pool = warm.get(origin) ?? warm.set(origin, []).get(origin)!;
      pool.push(socket);
      socket.once("close", () => {
        const at = pool.indexOf(socket);
        if (at >= 0) pool.splice(at, 1);
      });
    },
  });
}
