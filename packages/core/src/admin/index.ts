/**
 * The admin plane's workflows over narrow ports, one module each (namespace, init, ca, role, host,
 * revoke, crl, k8s, migrate, doctor, destroy); each validates with a pure `plan…(state, input)` before
 * its IO. The CLI builds the ports from AWS SDK clients with `createAwsAdminDeps` from
 * `@iam-ra/core/admin/aws` (a separate entry, so importing the workflows does not load the AWS SDK).
 * @module
 */

// The Kubernetes name and duration checks an admin command runs on its input, from their own light
// modules: importing them through @iam-ra/core/k8s would load every Kubernetes model.
export { parseK8sDuration } from "../k8s/duration.ts";
export { validateK8sName } from "../k8s/names.ts";
export type { CaSetupOptions, CaSetupResult } from "./ca.ts";
export { deleteCa, setUpCa } from "./ca.ts";
export type { CrlSyncResult } from "./crl.ts";
export { syncPcaCrl, syncScopeCrl } from "./crl.ts";
export type { DestroyResult } from "./destroy.ts";
export { destroyNamespace } from "./destroy.ts";
export type { DoctorCheck, DoctorDeps, DoctorInput, DoctorResult } from "./doctor.ts";
export { runDoctor } from "./doctor.ts";
export type { HostOptions, HostResult } from "./host.ts";
export { onboardHost } from "./host.ts";
export type { InitOptions, InitResult } from "./init.ts";
export { initNamespace } from "./init.ts";
export type {
  K8sClusterResult,
  K8sListResult,
  TeardownClusterResult,
  WebhookManifestsOptions,
  WebhookManifestsResult,
} from "./k8s-cluster.ts";
export { buildWebhookManifests, listK8s, setUpCluster, teardownCluster } from "./k8s-cluster.ts";
export type { K8sIssuerSummary, K8sObjectReference } from "./k8s-issuers.ts";
export { issuerCommonName } from "./k8s-issuers.ts";
export type {
  OffboardWorkloadResult,
  OnboardWorkloadOptions,
  OnboardWorkloadResult,
} from "./k8s-workload.ts";
export { offboardWorkload, onboardWorkload } from "./k8s-workload.ts";
export type { MigrateOptions, MigrateResult } from "./migrate.ts";
export { migrateNamespace } from "./migrate.ts";
export type { Namespace } from "./namespace.ts";
export { openNamespace, readNamespaceState } from "./namespace.ts";
export type { AdminDeps, BucketPort, PcaPort, RolesAnywhereReadPort, SecretsPort } from "./ports.ts";
export { offboardHost, revokeHost } from "./revoke.ts";
export type { RoleOptions, RoleResult } from "./role.ts";
export { deleteRole, putRole } from "./role.ts";
export { validateAdminInput } from "./validate.ts";
