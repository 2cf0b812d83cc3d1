import { type FSWatcher, watch } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { CreateSessionResult } from "../rolesanywhere/client.ts";
import {
  backoffDelay,
  planRefresh as planRefreshWith,
  SERVER_BACKOFF,
  SERVER_REFRESH_POLICY,
  stillValid,
} from "../rolesanywhere/refresh.ts";
import type { CredentialMaterial } from "../x509/material.ts";

/** Credentials as the server hands them out. */
export interface HeldCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  accountId: string;
  roleArn: string;
  obtainedAt: Date;
}

/** What the server and /metrics read about the source. */
export interface CredentialSourceStatus {
  credentials: HeldCredentials | undefined;
  certificate: { subject: string; serialNumber: string; notAfter: Date; fingerprint: string } | undefined;
  lastRefresh: { at: Date; ok: boolean; error?: string } | undefined;
  nextRefreshAt: Date | undefined;
}

/** Events the source reports (to logs and metrics). */
export type CredentialSourceEvent =
  | { type: "refresh"; ok: true; latencyMs: number; expiration: Date }
  | { type: "refresh"; ok: false; latencyMs: number; error: unknown }
  | { type: "rotation"; ok: true; fingerprint: string }
  | { type: "rotation"; ok: false; error: unknown };

/** Everything the source needs from outside; tests pass a fixed clock and an instant sleep. */
export interface CredentialSourceDeps {
  /** Reads certificate, chain and key as a checked pair (throws on a mismatch). */
  readMaterial(): Promise<CredentialMaterial>;
  /** One CreateSession; `signal` aborts when the source stops, so a slow call does not hold it. */
  createSession(material: CredentialMaterial, signal: AbortSignal): Promise<CreateSessionResult>;
  clock: { now(): Date };
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
  onEvent(event: CredentialSourceEvent): void;
  /** Files whose change means a rotation (certificate, key, chain). Empty: no watching. */
  watchPaths: readonly string[];
  /** Poll interval for rotations missed by fs.watch. Default 10 s. */
  pollIntervalMs?: number | undefined;
}

/** A background credential holder: fetch, refresh before expiry, survive outages, pick up rotations. */
export interface CredentialSource {
  /** Credentials still valid now, or undefined. Never blocks on the network. */
  current(): HeldCredentials | undefined;
  status(): CredentialSourceStatus;
  /** Resolves after the first refresh attempt (successful or not). */
  readonly firstAttempt: Promise<void>;
  /** Re-reads the files now; on a valid new pair, mints a session at once. */
  checkRotation(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * When the server refreshes: the refresh engine's {@link SERVER_REFRESH_POLICY} (at half-life, but
 * with at least 20 minutes left, since stock SDKs start refreshing at 15).
 */
export function planRefresh(obtainedAt: Date, expiration: Date): Date {
  return planRefreshWith(obtainedAt, expiration, SERVER_REFRESH_POLICY);
}

/** Backoff after `failures` consecutive failures: the engine's {@link SERVER_BACKOFF} (0.25 s to 60 s). */
export function retryDelay(failures: number, random: () => number): number {
  return backoffDelay(failures, random, SERVER_BACKOFF);
}

/** The realpaths and mtimes of the watched files: equal signatures mean nothing rotated. */
async function signature(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    paths.map(async (p) => {
      try {
        const real = await realpath(p);
        const s = await stat(real);
        return `${real}:${s.size}:${s.mtimeMs}:${s.ino}`;
      } catch {
        return `${p}:missing`;
      }
    }),
  );
  return parts.join("|");
}

/** Starts the refresh loop at once; call `stop()` to end it. */
export function startCredentialSource(deps: CredentialSourceDeps): CredentialSource {
  const stopping = new AbortController();
  let wake = new AbortController();
  let material: CredentialMaterial | undefined;
  let held: HeldCredentials | undefined;
  let lastRefresh: CredentialSourceStatus["lastRefresh"];
  let nextRefreshAt: Date | undefined;
  let failures = 0;
  let lastSignature = "";
  let rotationPending: Promise<void> | undefined;
  let rotationWoke = false;

  const valid = () => stillValid(held, deps.clock.now());

  /** Loads the pair; a bad pair keeps the previous one and is reported, never used. */
  const loadMaterial = async (): Promise<boolean> => {
    const sig = await signature(deps.watchPaths);
    if (material && sig === lastSignature) return false;
    try {
      const next = await deps.readMaterial();
      lastSignature = sig;
      const changed = !material || material.certificate.fingerprint256 !== next.certificate.fingerprint256;
      if (changed && material)
        deps.onEvent({ type: "rotation", ok: true, fingerprint: next.certificate.fingerprint256 });
      material = next;
      return changed;
    } catch (error) {
      lastSignature = sig; // report a bad pair once, not on every poll
      deps.onEvent({ type: "rotation", ok: false, error });
      if (!material) throw error;
      return false;
    }
  };

  const refresh = async () => {
    const started = deps.clock.now();
    const t0 = performance.now();
    try {
      await loadMaterial();
      const result = await deps.createSession(material!, stopping.signal);
      const c = result.credentials;
      held = {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration,
        accountId: result.accountId,
        roleArn: result.roleArn ?? "",
        obtainedAt: started,
      };
      failures = 0;
      lastRefresh = { at: started, ok: true };
      nextRefreshAt = planRefresh(started, c.expiration);
      deps.onEvent({
        type: "refresh",
        ok: true,
        latencyMs: performance.now() - t0,
        expiration: c.expiration,
      });
    } catch (error) {
      if (stopping.signal.aborted) return; // cut short by stop(): not a failure worth reporting
      failures++;
      lastRefresh = { at: started, ok: false, error: error instanceof Error ? error.message : String(error) };
      nextRefreshAt = new Date(started.getTime() + retryDelay(failures, deps.random));
      deps.onEvent({ type: "refresh", ok: false, latencyMs: performance.now() - t0, error });
    }
  };

  const sleepUntil = async (at: Date) => {
    const ms = Math.max(0, at.getTime() - deps.clock.now().getTime());
    const signal = AbortSignal.any([stopping.signal, wake.signal]);
    try {
      await deps.sleep(ms, signal);
    } catch {
      // woken by a rotation or stopped
    }
    if (wake.signal.aborted) wake = new AbortController();
  };

  let resolveFirst!: () => void;
  const firstAttempt = new Promise<void>((resolve) => {
    resolveFirst = resolve;
  });
  const loop = (async () => {
    await refresh();
    resolveFirst();
    while (!stopping.signal.aborted) {
      await sleepUntil(nextRefreshAt ?? deps.clock.now());
      if (stopping.signal.aborted) break;
      if (!nextRefreshAt || deps.clock.now().getTime() >= nextRefreshAt.getTime() || rotationWoke) {
        rotationWoke = false;
        await refresh();
      }
    }
  })();

  const checkRotation = () => {
    rotationPending ??= (async () => {
      try {
        if (!material) return; // the loop is still retrying the first load
        if (await loadMaterial()) {
          rotationWoke = true;
          wake.abort();
        }
      } finally {
        rotationPending = undefined;
      }
    })();
    return rotationPending;
  };

  // Kubernetes swaps a Secret volume by re-pointing the `..data` symlink: the directory sees the
  // event, not the file. Watch each directory, debounce, and poll in case an event is lost.
  const watchers: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;
  const onChange = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void checkRotation(), 200);
  };
  for (const dir of new Set(deps.watchPaths.map((p) => dirname(p)))) {
    try {
      watchers.push(watch(dir, { persistent: false }, onChange));
    } catch {
      // not watchable (e.g. removed): the poll still runs
    }
  }
  const poll =
    deps.watchPaths.length > 0
      ? setInterval(() => void checkRotation(), deps.pollIntervalMs ?? 10_000)
      : undefined;
  poll?.unref();

  return {
    current: valid,
    status: () => ({
      credentials: valid(),
      certificate: material
        ? {
            subject: material.certificate.subject.replace(/\n/g, ", "),
            serialNumber: material.serialNumber,
            notAfter: new Date(material.certificate.validTo),
            fingerprint: material.certificate.fingerprint256,
          }
        : undefined,
      lastRefresh,
      nextRefreshAt,
    }),
    firstAttempt,
    checkRotation,
    async stop() {
      stopping.abort();
      clearInterval(poll);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
      await loop;
    },
  };
}
