import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { createSecureContext } from "node:tls";
import { Counter, Histogram, Registry } from "prom-client";
import {
  type AdmissionResult,
  parseAdmissionReview,
  reviewPodAdmission,
  type ServiceAccountReader,
} from "../../k8s/webhook/admission.ts";
import { parseWebhookConfig, type WebhookConfig } from "../../k8s/webhook/config.ts";
import { listenOrExplain } from "../listen.ts";
import type { Logger } from "../logger.ts";

/** Options of {@link startWebhookServer}. */
export interface WebhookServerOptions {
  host: string;
  port: number;
  /** PEM files of the serving certificate (chain) and key; re-read when they change. */
  tls: { certFile: string; keyFile: string };
  /** The namespace-roles document (the mounted ConfigMap's config.json); re-read when it changes. */
  configFile: string;
  sidecarImage: string;
  dryRun: boolean;
  webhookNamespace?: string | undefined;
  readServiceAccount?: ServiceAccountReader | undefined;
  logger: Logger;
  /** Largest AdmissionReview accepted; larger is answered 413. Default 3 MiB. */
  maxBodyBytes?: number | undefined;
  /** A request (headers and body) must arrive within this. Default 10 s (the API server's own cap is 30 s). */
  requestTimeoutMs?: number | undefined;
  /** How often the certificate and the configuration are checked for changes. Default 10 s. */
  reloadIntervalMs?: number | undefined;
}

/** A running webhook server. */
export interface WebhookServer {
  url: string;
  /** Re-reads the certificate and the configuration now (also done every reload interval). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Results as metrics label them. */
const RESULTS: readonly (AdmissionResult | "rejected")[] = [
  "injected",
  "would-inject",
  "skipped",
  "denied",
  "error",
  "rejected",
];

function createWebhookMetrics() {
  const registry = new Registry();
  const admissions = new Counter({
    name: "iam_ra_webhook_admissions_total",
    help: "AdmissionReviews answered, by result (rejected: a malformed, oversized or wrongly typed request).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "iam_ra_webhook_admission_duration_seconds",
    help: "Time from the request's arrival to its answer, by result.",
    labelNames: ["result"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [registry],
  });
  const reloads = new Counter({
    name: "iam_ra_webhook_reloads_total",
    help: "Reloads of the serving certificate and the namespace-roles configuration, by what and result.",
    labelNames: ["what", "result"] as const,
    registers: [registry],
  });
  const children = new Map(
    RESULTS.map((r) => [r, { count: admissions.labels(r), time: latency.labels(r) }] as const),
  );
  for (const what of ["certificate", "config"])
    for (const r of ["ok", "failed"]) reloads.inc({ what, result: r }, 0);
  return {
    registry,
    admission(result: AdmissionResult | "rejected", seconds: number) {
      const child = children.get(result)!;
      child.count.inc();
      child.time.observe(seconds);
    },
    reload(what: "certificate" | "config", ok: boolean) {
      reloads.inc({ what, result: ok ? "ok" : "failed" });
    },
  };
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Reads the body, refusing more than `max` bytes (413) and giving up with the socket's timeout. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > max) throw new HttpError(413, `The AdmissionReview is larger than ${max} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, `The AdmissionReview is larger than ${max} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/**
 * Starts the admission webhook: HTTPS, `POST /mutate` (AdmissionReview v1, JSON only, bounded),
 * `GET /healthz`, `/readyz` (ready once a configuration and a certificate are loaded) and `/metrics`
 * (Prometheus text). The certificate and configuration are re-read on change; a bad new one is
 * logged and the previous one kept.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { logger } = options;
  const maxBody = options.maxBodyBytes ?? 3 * 1024 * 1024;
  const metrics = createWebhookMetrics();
  let config: WebhookConfig | undefined;
  let configHash = "";
  let tlsHash = "";

  const loadTls = async () => {
    const [cert, key] = await Promise.all([readFile(options.tls.certFile), readFile(options.tls.keyFile)]);
    const hash = sha256(Buffer.concat([cert, key]));
    if (hash === tlsHash) return undefined;
    // Checked before use: a mismatched pair (caught mid-rotation) keeps the previous one.
    createSecureContext({ cert, key });
    tlsHash = hash;
    return { cert, key };
  };
  const loadConfig = async () => {
    const text = await readFile(options.configFile, "utf8");
    const hash = sha256(text);
    if (hash === configHash) return;
    const parsed = parseWebhookConfig(text);
    if (!parsed.ok) throw new Error(`${options.configFile}: ${parsed.message}`);
    config = parsed.config;
    configHash = hash;
    const namespaces = Object.entries(config.namespaces);
    logger("info", "namespace-roles configuration loaded", {
      cluster: config.cluster,
      namespaces: namespaces.length,
      roles: namespaces.reduce((n, [, ns]) => n + Object.keys(ns.roles).length, 0),
    });
    metrics.reload("config", true);
  };

  const initialTls = await loadTls();
  await loadConfig().catch((error: unknown) => {
    metrics.reload("config", false);
    logger("error", "the namespace-roles configuration is not usable; not ready", {
      error: (error as Error).message,
    });
  });

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const url = req.url ?? "/";
    const path = url.split("?", 1)[0];
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === "/healthz" && req.method === "GET") return send(200, "ok\n", "text/plain");
    if (path === "/readyz" && req.method === "GET")
      return config ? send(200, "ok\n", "text/plain") : send(503, "no configuration loaded\n", "text/plain");
    if (path === "/metrics" && req.method === "GET") {
      return send(200, await metrics.registry.metrics(), metrics.registry.contentType);
    }
    if (path !== "/mutate") return send(404, JSON.stringify({ error: `no route ${path}` }));
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const reject = (status: number, message: string) => {
      metrics.admission("rejected", elapsed());
      logger("warn", "admission request rejected", { status, error: message });
      // The peer may still be sending: answer, then stop reading.
      res.setHeader("connection", "close");
      send(status, JSON.stringify({ error: message }));
    };
    if (req.method !== "POST") return reject(405, "POST an AdmissionReview to /mutate.");
    const type = (req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
    if (type !== "application/json")
      return reject(415, `Content-Type ${type || "(none)"} is not application/json.`);
    let review: unknown;
    try {
      review = JSON.parse((await readBody(req, maxBody)).toString("utf8"));
    } catch (error) {
      if (error instanceof HttpError) return reject(error.status, error.message);
      if (error instanceof SyntaxError) return reject(400, `The body is not JSON: ${error.message}`);
      return reject(400, `The request could not be read: ${(error as Error).message}`);
    }
    const parsed = parseAdmissionReview(review);
    if (!parsed.ok) return reject(400, parsed.message);
    const decision = await reviewPodAdmission(parsed.request, {
      config,
      sidecarImage: options.sidecarImage,
      dryRun: options.dryRun,
      readServiceAccount: options.readServiceAccount,
      webhookNamespace: options.webhookNamespace,
    });
    const seconds = elapsed();
    metrics.admission(decision.result, seconds);
    const pod = (parsed.request.object as { metadata?: { name?: string; generateName?: string } } | undefined)
      ?.metadata;
    logger(decision.result === "error" ? "error" : "info", "admission", {
      uid: parsed.request.uid,
      namespace: decision.namespace,
      pod: pod?.name || pod?.generateName,
      result: decision.result,
      role: decision.role,
      reason: decision.reason,
      ...(options.dryRun && decision.patch ? { wouldPatch: decision.patch.map((p) => p.path) } : {}),
      latencyMs: Math.round(seconds * 1e4) / 10,
    });
    send(200, JSON.stringify(decision.review));
  };

  const server: Server = createServer(
    {
      ...(initialTls ?? {}),
      // Whole-request deadlines: a trickling peer cannot hold a connection open.
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      headersTimeout: Math.min(options.requestTimeoutMs ?? 10_000, 10_000),
      keepAliveTimeout: 30_000,
      minVersion: "TLSv1.2",
    },
    (req, res) => {
      handler(req, res).catch((error: unknown) => {
        logger("error", "admission handler failed", { error: (error as Error).message });
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "internal error" }));
        } else res.destroy();
      });
    },
  );
  await listenOrExplain(server, options.port, options.host);
  const address = server.address() as { port: number; address: string };
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  const url = `https://${host}:${address.port}`;
  logger("info", "webhook serving", { url, dryRun: options.dryRun });

  const reload = async () => {
    try {
      const fresh = await loadTls();
      if (fresh) {
        server.setSecureContext({ ...fresh, minVersion: "TLSv1.2" });
        metrics.reload("certificate", true);
        logger("info", "serving certificate reloaded", {});
      }
    } catch (error) {
      metrics.reload("certificate", false);
      logger("error", "serving certificate not reloaded; keeping the previous one", {
        error: (error as Error).message,
      });
    }
    try {
      await loadConfig();
    } catch (error) {
      metrics.reload("config", false);
      logger("error", "namespace-roles configuration not reloaded; keeping the previous one", {
        error: (error as Error).message,
      });
    }
  };
  const timer = setInterval(() => void reload(), options.reloadIntervalMs ?? 10_000);
  timer.unref();
  let closing: Promise<void> | undefined;
  return {
    url,
    reload,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        const closed = new Promise((resolve) => server.close(resolve));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        await closed;
        clearTimeout(force);
      })();
      return closing;
    },
  };
}
