/**
 * The admin plane's workflows (init, CA scopes, roles, hosts, destroy) over narrow ports; the CLI
 * builds the ports from AWS SDK clients with `createAwsAdminDeps` from `@iam-ra/core/admin/aws` (a
 * separate entry, so importing the workflows does not load the AWS SDK).
 * @module
 */
export type { CrlSyncResult } from "./crl.ts";
export { syncPcaCrl, syncScopeCrl } from "./crl.ts";
export type { DoctorCheck, DoctorDeps, DoctorInput, DoctorResult } from "./doctor.ts";
export { runDoctor } from "./doctor.ts";
export type {
  K8sClusterResult,
  K8sIssuerSummary,
  K8sListResult,
  K8sObjectReference,
  OffboardWorkloadResult,
  OnboardWorkloadOptions,
  OnboardWorkloadResult,
  TeardownClusterResult,
  WebhookManifestsOptions,
  WebhookManifestsResult,
} from "./k8s.ts";
export {
  buildWebhookManifests,
  issuerCommonName,
  listK8s,
  offboardWorkload,
  onboardWorkload,
  setUpCluster,
  teardownCluster,
} from "./k8s.ts";
export type { MigrateOptions, MigrateResult } from "./migrate.ts";
export { migrateNamespace } from "./migrate.ts";
export type { AdminDeps, BucketPort, PcaPort, RolesAnywhereReadPort, SecretsPort } from "./ports.ts";
export { validateAdminInput } from "./validate.ts";
export type {
  CaSetupOptions,
  CaSetupResult,
  DestroyResult,
  HostOptions,
  HostResult,
  InitOptions,
  InitResult,
  Namespace,
  RoleOptions,
  RoleResult,
} from "./workflows.ts";
export {
  deleteCa,
  deleteRole,
  destroyNamespace,
  initNamespace,
  offboardHost,
  onboardHost,
  openNamespace,
  putRole,
  readNamespaceState,
  revokeHost,
  setUpCa,
} from "./workflows.ts";
