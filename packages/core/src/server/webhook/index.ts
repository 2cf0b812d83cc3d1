/**
 * The admission webhook's HTTPS server (`webhook.js` in the sidecar image) and its reader of
 * service-account annotations from the API server. Metrics need the optional peer `prom-client`.
 * @module
 */
export type { ServiceAccountReaderOptions } from "./kube-api.ts";
export { createServiceAccountReader, IN_CLUSTER } from "./kube-api.ts";
export type { WebhookServer, WebhookServerOptions } from "./server.ts";
export { startWebhookServer } from "./server.ts";
