import { randomBytes } from "node:crypto";
import { lstat, open, readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname } from "node:path";
import { IamRaError } from "../errors.ts";
import { createSession } from "../rolesanywhere/client.ts";
import { abortableSleep } from "../sleep.ts";
import { readCredentialMaterial } from "../x509/read.ts";
import { CONTAINER_CREDENTIALS_PATH, createApp } from "./app.ts";
import { isLoopback, type SidecarConfig } from "./config.ts";
import {
  type CredentialSource,
  type CredentialSourceEvent,
  startCredentialSource,
} from "./credential-source.ts";
import { listenOrExplain } from "./listen.ts";
import type { Logger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";

/** A running sidecar. */
export interface Sidecar {
  /** Base URL, e.g. `http://127.0.0.1:9911`. */
  url: string;
  /** What to give the application as `AWS_CONTAINER_CREDENTIALS_FULL_URI` (when enabled). */
  credentialsUri: string;
  source: CredentialSource;
  /** Stops accepting connections, lets in-flight requests finish, stops refreshing. Idempotent. */
  close(): Promise<void>;
}

/** Injected for tests: time and sleep of the refresh loop. */
export interface SidecarRuntime {
  logger: Logger;
  clock?: { now(): Date } | undefined;
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  pollIntervalMs?: number | undefined;
}

/**
 * Reads the token file, or creates it with a random token (never overwriting one). An existing
 * file is trusted only when it is a regular file (not a link) of this user that others cannot
 * write (a local user who created it first would know the token) and not every user can read.
 */
async function readOrCreateToken(path: string, mode: number, logger: Logger): Promise<string> {
  const me = process.getuid?.();
  const hint = `Remove ${path} (iam-ra creates it with a random token), or point --token-file at a path only this user can write.`;
  const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    if (error.code === "ENOTDIR") {
      throw new IamRaError(
        "invalid-input",
        `The token file's directory ${dirname(path)} is not a directory.`,
        { hint },
      );
    }
    throw new IamRaError("file-permission", `The token file ${path} cannot be checked (${error.code}).`, {
      hint,
    });
  });
  if (existing) {
    const refuse = (why: string) =>
      new IamRaError("file-permission", `The token file ${path} ${why}; it is not trusted.`, { hint });
    if (existing.isSymbolicLink()) throw refuse("is a symlink");
    if (existing.isDirectory())
      throw new IamRaError("invalid-input", `The token file ${path} is a directory.`, {
        hint: "Pass a file path for --token-file (it is created when missing).",
      });
    if (!existing.isFile()) throw refuse("is not a regular file");
    if (me !== undefined && existing.uid !== me)
      throw refuse(`belongs to another user (uid ${existing.uid})`);
    if (existing.mode & 0o022)
      throw refuse(`is writable by other users (mode ${(existing.mode & 0o777).toString(8)})`);
    // Every local user could read the token and take the credentials with it.
    if (existing.mode & 0o004)
      throw new IamRaError(
        "file-permission",
        `The token file ${path} is readable by every user (mode ${(existing.mode & 0o777).toString(8)}); it is not trusted.`,
        { hint: `Narrow it (chmod 600 ${path}, or 640 for a group that shares it) and start again.` },
      );
    const raw = (await readFile(path, "utf8")).slice(0, 4096);
    const token = raw.trim();
    if (token.length < 16)
      throw new IamRaError("invalid-input", `The token in ${path} is shorter than 16 characters.`, {
        hint: "Delete the file to have a random token created, or write a longer one.",
      });
    // SDKs send the file's bytes verbatim; a trailing newline is not a legal header value.
    if (raw !== token)
      logger("warn", "the token file has surrounding whitespace, which SDKs will send and fail on", { path });
    return token;
  }
  const dir = dirname(path);
  const parent = await stat(dir).catch(() => undefined);
  if (!parent?.isDirectory()) {
    throw new IamRaError("invalid-input", `The token file's directory ${dir} does not exist.`, {
      hint: `Create it first (mkdir -p ${dir}), or pass another --token-file.`,
    });
  }
  const token = randomBytes(32).toString("base64url");
  // O_EXCL: a file or link planted between the check and here makes this fail, never get the token.
  const handle = await open(path, "wx", mode).catch((error: NodeJS.ErrnoException) => {
    throw new IamRaError("file-permission", `The token file ${path} cannot be created (${error.code}).`, {
      hint,
    });
  });
  try {
    await handle.writeFile(token); // no newline: SDKs send the bytes as they are
    await handle.chmod(mode); // umask must not widen or narrow what was asked
  } finally {
    await handle.close();
  }
  logger("info", "created the authorization token file", { path, mode: mode.toString(8) });
  return token;
}

const describeError = (error: unknown) =>
  error instanceof Error
    ? {
        error: error.message,
        code: (error as { code?: string }).code,
        hint: (error as { hint?: string }).hint,
      }
    : { error: String(error) };

/** Starts the credential source and the HTTP server. */
export async function startSidecar(config: SidecarConfig, runtime: SidecarRuntime): Promise<Sidecar> {
  const { logger } = runtime;
  const clock = runtime.clock ?? { now: () => new Date() };
  // Everything that can be wrong with the configuration fails here, before binding or calling AWS:
  // the certificate and key (missing, expired, mismatched), then the token file.
  await readCredentialMaterial({ ...config.session.material, validAt: clock.now() });
  const token = config.tokenFile
    ? await readOrCreateToken(config.tokenFile, config.tokenFileMode, logger)
    : undefined;
  let metrics: ReturnType<typeof createMetrics> | undefined;
  const onEvent = (event: CredentialSourceEvent) => {
    metrics?.record(event);
    if (event.type === "refresh") {
      if (event.ok)
        logger("info", "credentials refreshed", {
          expiration: event.expiration.toISOString(),
          latencyMs: Math.round(event.latencyMs),
        });
      else logger("error", "credential refresh failed", describeError(event.error));
    } else if (event.ok) logger("info", "certificate rotated", { fingerprint: event.fingerprint });
    else logger("error", "rotated certificate refused; keeping the previous one", describeError(event.error));
  };
  // Bound first: a port in use or a bad address is said at once, before any AWS call. The handler
  // is attached right after (before any connection can be read), once the source exists.
  // Bounded: a local peer cannot hold the server with many slow or idle connections (the timeouts
  // are checked every second, not every 30 s as by default).
  const server = createServer({
    keepAliveTimeout: 5000,
    headersTimeout: 5000,
    requestTimeout: 10_000,
    connectionsCheckingInterval: 1000,
  });
  server.maxConnections = 1024;
  await listenOrExplain(server, config.port, config.host);
  const source = startCredentialSource({
    readMaterial: () => readCredentialMaterial({ ...config.session.material, validAt: clock.now() }),
    createSession: (material, signal) =>
      createSession(material, config.session.params, { ...config.session.options, clock, signal }),
    clock,
    sleep: runtime.sleep ?? abortableSleep,
    random: Math.random,
    onEvent,
    watchPaths: config.watchPaths,
    pollIntervalMs: runtime.pollIntervalMs,
  });
  metrics = createMetrics(() => source.status());
  const handler = createApp({
    source,
    metrics,
    clock,
    authorizationToken: token,
    imds: config.imds,
    extraHosts: [config.host],
    remote: !isLoopback(config.host),
  });
  server.on("request", handler);
  const address = server.address() as { port: number; address: string };
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger("info", "serving", {
    url,
    containerCredentials: token ? `${url}${CONTAINER_CREDENTIALS_PATH}` : "disabled",
    imds: config.imds.enabled,
  });
  let closing: Promise<void> | undefined;
  return {
    url,
    credentialsUri: `${url}${CONTAINER_CREDENTIALS_PATH}`,
    source,
    close() {
      closing ??= (async () => {
        const closed = new Promise((resolve) => server.close(resolve));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        await Promise.all([closed, source.stop()]);
        clearTimeout(force);
      })();
      return closing;
    },
  };
}
