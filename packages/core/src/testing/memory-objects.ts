import { createHash } from "node:crypto";
import type { StateObjectPort } from "../state/store.ts";

/**
 * An in-memory {@link StateObjectPort} with S3's conditional-write semantics, for unit tests.
 * (Integration tests use moto's S3, which implements If-Match/If-None-Match for real.)
 * @public
 */
export interface MemoryObjectStore extends StateObjectPort {
  readonly objects: Map<string, { body: string; etag: string }>;
  /** Number of writes refused for a failed condition. */
  readonly conflicts: number;
}

/** Creates a {@link MemoryObjectStore}. @public */
export function createMemoryObjectStore(): MemoryObjectStore {
  const objects = new Map<string, { body: string; etag: string }>();
  let conflicts = 0;
  return {
    objects,
    get conflicts() {
      return conflicts;
    },
    async get(key) {
      await Promise.resolve(); // a real round trip lets other writers interleave
      const o = objects.get(key);
      return o ? { ...o } : undefined;
    },
    async put(key, body, condition) {
      await Promise.resolve();
      const current = objects.get(key);
      const ok = "ifMatch" in condition ? current?.etag === condition.ifMatch : current === undefined;
      if (!ok) {
        conflicts++;
        return "conflict";
      }
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      objects.set(key, { body, etag });
      return { etag };
    },
  };
}
