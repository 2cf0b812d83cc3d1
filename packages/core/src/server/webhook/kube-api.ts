import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import type { ServiceAccountReader } from "../../k8s/webhook/admission.ts";

/** Where a pod finds the API server's CA and its own token (projected, rotated by the kubelet). */
export const IN_CLUSTER = {
  tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
  caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
} as const;

/** Options of {@link createServiceAccountReader}. */
export interface ServiceAccountReaderOptions {
  /** e.g. `https://10.96.0.1:443` (from KUBERNETES_SERVICE_HOST/PORT in a pod). */
  apiUrl: string;
  caFile: string;
  tokenFile: string;
  /** Per request. Default 2 s: well inside the API server's webhook timeout. */
  timeoutMs?: number | undefined;
  /** How long an answer is reused. Default 30 s (an annotation change reaches new pods within it). */
  cacheTtlMs?: number | undefined;
  /** Default 10,000 entries; the cache is emptied when full. */
  cacheSize?: number | undefined;
  now?: () => number;
}

const MAX_RESPONSE = 1024 * 1024;

/**
 * Reads service accounts' annotations from the API server with the pod's own token (needs `get
 * serviceaccounts`, nothing else), over one kept-alive connection, cached briefly. A missing
 * service account is `undefined`; any other failure throws (the webhook then refuses the pod).
 */
export function createServiceAccountReader(options: ServiceAccountReaderOptions): ServiceAccountReader {
  const now = options.now ?? Date.now;
  const ttl = options.cacheTtlMs ?? 30_000;
  const size = options.cacheSize ?? 10_000;
  const cache = new Map<string, { until: number; annotations: Record<string, string> | undefined }>();
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let credentials: { ca: Buffer; token: string; until: number } | undefined;
  const base = new URL(options.apiUrl);

  const readCredentials = async () => {
    // The token is rotated on disk: re-read every minute.
    if (credentials && credentials.until > now()) return credentials;
    const [ca, token] = await Promise.all([readFile(options.caFile), readFile(options.tokenFile, "utf8")]);
    credentials = { ca, token: token.trim(), until: now() + 60_000 };
    return credentials;
  };

  const get = async (path: string) => {
    const { ca, token } = await readCredentials();
    return await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        new URL(path, base),
        {
          method: "GET",
          agent,
          ca,
          headers: { authorization: `Bearer ${token}`, accept: "application/json" },
          timeout: options.timeoutMs ?? 2000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let length = 0;
          res.on("data", (chunk: Buffer) => {
            length += chunk.length;
            if (length > MAX_RESPONSE) {
              req.destroy(new Error("the API server's answer is larger than 1 MiB"));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("the API server did not answer in time")));
      req.on("error", reject);
      req.end();
    });
  };

  return async (namespace, name) => {
    const key = `${namespace}/${name}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.annotations;
    const { status, body } = await get(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`,
    );
    let annotations: Record<string, string> | undefined;
    if (status === 404) annotations = undefined;
    else if (status === 200) {
      const parsed = JSON.parse(body) as { metadata?: { annotations?: Record<string, unknown> } };
      annotations = Object.fromEntries(
        Object.entries(parsed.metadata?.annotations ?? {}).filter(
          (e): e is [string, string] => typeof e[1] === "string",
        ),
      );
    } else throw new Error(`the API server answered ${status}`);
    if (cache.size >= size) cache.clear();
    cache.set(key, { until: now() + ttl, annotations });
    return annotations;
  };
}
