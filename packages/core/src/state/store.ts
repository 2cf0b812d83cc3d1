import { IamRaError } from "../errors.ts";
import { backoffDelay } from "../rolesanywhere/refresh.ts";
import { parseState, serializeState } from "./migrate.ts";
import type { State } from "./schema.ts";

/**
 * The object storage the state lives in (S3 in production): conditional writes are what make
 * concurrent admins safe.
 * @public
 */
export interface StateObjectPort {
  /** The object and its ETag, or undefined when absent. */
  get(key: string): Promise<{ body: string; etag: string } | undefined>;
  /**
   * Writes only if the condition holds (`ifMatch`: the object still has this ETag; `ifNoneMatch: "*"`:
   * it does not exist yet). Returns `"conflict"` when the condition failed (HTTP 412/409).
   */
  put(
    key: string,
    body: string,
    condition: { ifMatch: string } | { ifNoneMatch: "*" },
  ): Promise<{ etag: string } | "conflict">;
}

/**
 * Options of {@link createStateStore}.
 * @public
 */
export interface StateStoreOptions {
  objects: StateObjectPort;
  /** Object key of the document, e.g. `prod/state.json`. */
  key: string;
  clock?: { now(): Date } | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
  /** Attempts of a conflicting update before giving up. Default 10. */
  maxAttempts?: number | undefined;
}

/**
 * A state document read from the store, with the ETag a conditional write must match.
 * @public
 */
export interface StoredState {
  state: State;
  etag: string;
  /** Set when the document was written by an older iam-ra (or the Python one) and migrated on read. */
  migratedFrom: string | undefined;
}

/**
 * Reads and writes one namespace's state with optimistic concurrency.
 * @public
 */
export interface StateStore {
  read(): Promise<StoredState | undefined>;
  /** Writes a new document; fails with `state-exists` if one is already there. */
  create(state: State): Promise<StoredState>;
  /**
   * Applies `change` to the latest state and writes it only if nobody wrote in between; on a
   * conflict it re-reads and re-applies `change` (so `change` must be a pure function of the state it
   * is given). `change` may throw an IamRaError to abort without writing.
   */
  update<T>(change: (draft: State) => T | Promise<T>): Promise<{ state: State; result: T; attempts: number }>;
}

/** Creates a {@link StateStore}. @public */
export function createStateStore(options: StateStoreOptions): StateStore {
  const clock = options.clock ?? { now: () => new Date() };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 10;

  const read = async (): Promise<StoredState | undefined> => {
    const object = await options.objects.get(options.key);
    if (!object) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(object.body);
    } catch {
      throw new IamRaError("invalid-input", `The state document ${options.key} is not JSON.`, {
        hint: "Restore a previous version from the bucket's version history.",
      });
    }
    const parsed = parseState(json, clock.now());
    if (!parsed.ok) {
      throw new IamRaError(
        "invalid-input",
        `The state document ${options.key} is not valid: ${parsed.issues.slice(0, 5).join("; ")}.`,
        {
          hint: "Restore a previous version from the bucket's version history, or run `iam-ra migrate`.",
        },
      );
    }
    return { state: parsed.state, etag: object.etag, migratedFrom: parsed.migratedFrom };
  };

  return {
    read,
    async create(state) {
      const written = await options.objects.put(options.key, serializeState(state), { ifNoneMatch: "*" });
      if (written === "conflict") {
        throw new IamRaError("state-conflict", `State already exists at ${options.key}.`, {
          hint: "Another `iam-ra init` ran first; re-run to reuse it.",
        });
      }
      return { state, etag: written.etag, migratedFrom: undefined };
    },
    async update(change) {
      for (let attempt = 1; ; attempt++) {
        const current = await read();
        if (!current) {
          throw new IamRaError("not-initialized", "This namespace has no state.", {
            hint: "Run `iam-ra init` first (same --namespace and region).",
          });
        }
        const draft = structuredClone(current.state);
        const result = await change(draft);
        draft.updatedAt = clock.now().toISOString();
        const check = parseState(draft, clock.now());
        if (!check.ok) {
          throw new IamRaError(
            "internal",
            `Refusing to write invalid state: ${check.issues.slice(0, 3).join("; ")}.`,
          );
        }
        const written = await options.objects.put(options.key, serializeState(draft), {
          ifMatch: current.etag,
        });
        if (written !== "conflict") return { state: draft, result, attempts: attempt };
        if (attempt >= maxAttempts) {
          throw new IamRaError(
            "state-conflict",
            `The state kept changing under this update (${attempt} attempts).`,
            {
              hint: "Another admin is writing the same namespace; retry in a moment.",
            },
          );
        }
        await sleep(backoffDelay(attempt, random, { baseMs: 50, maxMs: 2000, jitter: "full" }));
      }
    },
  };
}
