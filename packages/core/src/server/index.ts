/**
 * The long-running servers: the credential server (container credentials and IMDSv2, refreshed
 * in the background) behind `iam-ra serve` and the sidecar image, and the admission webhook's
 * HTTPS server. Their metrics need the optional peer `prom-client`.
 * @module
 */
export type { AppDeps } from "./app.ts";
export {
  CONTAINER_CREDENTIALS_PATH,
  createApp,
  IMDS_MAX_TTL_SECONDS,
  isAllowedCredentialHost,
} from "./app.ts";
export type { SidecarConfig } from "./config.ts";
export { mergeEnv, resolveSidecarConfig, SERVER_OPTIONS, SIDECAR_OPTIONS } from "./config.ts";
export type {
  CredentialSource,
  CredentialSourceDeps,
  CredentialSourceEvent,
  CredentialSourceStatus,
  HeldCredentials,
} from "./credential-source.ts";
export { planRefresh, retryDelay, startCredentialSource } from "./credential-source.ts";
export type { Logger, LogLevel } from "./logger.ts";
export { createLogger, redact } from "./logger.ts";
export type { SidecarMetrics } from "./metrics.ts";
export { createMetrics } from "./metrics.ts";
export type { Sidecar, SidecarRuntime } from "./server.ts";
export { startSidecar } from "./server.ts";
export type { ServiceAccountReaderOptions } from "./webhook-kube.ts";
export { createServiceAccountReader, IN_CLUSTER } from "./webhook-kube.ts";
export type { WebhookServer, WebhookServerOptions } from "./webhook-server.ts";
export { startWebhookServer } from "./webhook-server.ts";
