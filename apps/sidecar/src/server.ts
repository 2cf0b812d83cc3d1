import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { open, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { IamRaError } from "@iam-ra/core";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { readCredentialMaterial } from "@iam-ra/core/x509";
import { CONTAINER_CREDENTIALS_PATH, createApp } from "./app.ts";
import type { SidecarConfig } from "./config.ts";
import {
  type CredentialSource,
  type CredentialSourceEvent,
  startCredentialSource,
} from "./credential-source.ts";
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

/** Reads the token file, or creates it with a random token (never overwriting one). */
async function readOrCreateToken(path: string, mode: number, logger: Logger): Promise<string> {
  try {
    const raw = await readFile(path, "utf8");
    const token = raw.trim();
    if (token.length < 16)
      throw new IamRaError("invalid-input", `The token in ${path} is shorter than 16 characters.`, {
        hint: "Delete the file to have a random token created, or write a longer one.",
      });
    // SDKs send the file's bytes verbatim; a trailing newline is not a legal header value.
    if (raw !== token)
      logger("warn", "the token file has surrounding whitespace, which SDKs will send and fail on", { path });
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const token = randomBytes(32).toString("base64url");
  const handle = await open(path, "wx", mode);
  try {
    await handle.writeFile(token); // no newline: SDKs send the bytes as they are
    await handle.chmod(mode); // umask must not widen or narrow what was asked
  } finally {
    await handle.close();
  }
  logger("info", "created the authorization token file", { path, mode: mode.toString(8) });
  return token;
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

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
  const source = startCredentialSource({
    readMaterial: () => readCredentialMaterial({ ...config.session.material, validAt: clock.now() }),
    createSession: (material) =>
      createSession(material, config.session.params, { ...config.session.options, clock }),
    clock,
    sleep: runtime.sleep ?? defaultSleep,
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
  });
  const server = createServer({ keepAliveTimeout: 5000 }, handler);
  server.listen(config.port, config.host);
  try {
    await once(server, "listening");
  } catch (error) {
    await source.stop();
    throw error;
  }
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
