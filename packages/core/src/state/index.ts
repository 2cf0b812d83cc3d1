/**
 * The admin-side state: one versioned, schema-validated document per (account, region, namespace),
 * stored with optimistic concurrency and migrated on read.
 * @module
 */
export { fromS3Client } from "./aws.ts";
export type { ParseStateResult } from "./migrate.ts";
export { createEmptyState, parseState, serializeState } from "./migrate.ts";
export type {
  CaMode,
  CaScope,
  CertificateRecord,
  Host,
  HostCertificate,
  K8sIssuer,
  K8sWorkload,
  Role,
  RoleBinding,
  State,
} from "./schema.ts";
export { STATE_VERSION, StateSchema } from "./schema.ts";
export type { StateObjectPort, StateStore, StateStoreOptions, StoredState } from "./store.ts";
export { createStateStore } from "./store.ts";
