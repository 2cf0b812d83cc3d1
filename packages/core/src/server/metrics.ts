import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CredentialSourceEvent, CredentialSourceStatus } from "./credential-source.ts";

/** The sidecar's Prometheus metrics, in a registry of their own (no global default metrics). */
export interface SidecarMetrics {
  registry: Registry;
  /** Counts one HTTP answer. */
  countRequest(route: string, status: number): void;
  /** Records a refresh or rotation event. */
  record(event: CredentialSourceEvent): void;
}

/** Creates the metrics; gauges read the source's status at scrape time. */
export function createMetrics(status: () => CredentialSourceStatus): SidecarMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "iam_ra_http_requests_total",
    help: "HTTP requests answered, by route and status.",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  const refreshes = new Counter({
    name: "iam_ra_refresh_total",
    help: "CreateSession refresh attempts, by result.",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const rotations = new Counter({
    name: "iam_ra_certificate_rotations_total",
    help: "Certificate rotations seen, by result (accepted, or refused for a bad pair).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "iam_ra_create_session_duration_seconds",
    help: "CreateSession latency, retries included.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: "iam_ra_certificate_not_after_seconds",
    help: "notAfter of the certificate in use, as a Unix time.",
    registers: [registry],
    collect() {
      const cert = status().certificate;
      if (cert) this.set(cert.notAfter.getTime() / 1000);
    },
  });
  new Gauge({
    name: "iam_ra_credentials_expiration_seconds",
    help: "Expiration of the credentials being served, as a Unix time (absent when none are valid).",
    registers: [registry],
    collect() {
      const c = status().credentials;
      if (c) this.set(c.expiration.getTime() / 1000);
      else this.reset();
    },
  });
  new Gauge({
    name: "iam_ra_credentials_valid",
    help: "1 while valid credentials are held, else 0.",
    registers: [registry],
    collect() {
      this.set(status().credentials ? 1 : 0);
    },
  });
  // Label lookups hash their values; the request path reuses each child instead.
  const requestChildren = new Map<string, { inc(): void }>();
  // Pre-create the label sets so dashboards see zeros rather than absent series.
  refreshes.inc({ result: "success" }, 0);
  refreshes.inc({ result: "failure" }, 0);
  rotations.inc({ result: "accepted" }, 0);
  rotations.inc({ result: "refused" }, 0);
  return {
    registry,
    countRequest(route, status) {
      const key = `${route} ${status}`;
      let child = requestChildren.get(key);
      if (!child) {
        child = requests.labels(route, String(status));
        requestChildren.set(key, child);
      }
      child.inc();
    },
    record(event) {
      if (event.type === "refresh") {
        refreshes.inc({ result: event.ok ? "success" : "failure" });
        latency.observe(event.latencyMs / 1000);
      } else {
        rotations.inc({ result: event.ok ? "accepted" : "refused" });
      }
    },
  };
}
