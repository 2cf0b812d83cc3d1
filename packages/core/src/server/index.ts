/**
 * The credential server behind `iam-ra serve` and the sidecar image: container credentials and
 * IMDSv2, refreshed in the background, with rotation and metrics (which need the optional peer
 * `prom-client`). The admission webhook's HTTPS server is `@iam-ra/core/server/webhook`, apart so
 * that importing the credential server never loads the Kubernetes models.
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
