/**
 * @iam-ra/sidecar: a credential server for IAM Roles Anywhere (container credentials and IMDSv2),
 * as a library for `iam-ra serve` and tests, and as the image's entry (`main.ts`).
 * @module
 */
export type { AppDeps } from "./app.ts";
export { CONTAINER_CREDENTIALS_PATH, createApp, IMDS_MAX_TTL_SECONDS } from "./app.ts";
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
