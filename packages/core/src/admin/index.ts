/**
 * The admin plane's workflows (init, CA scopes, roles, hosts, destroy) over narrow ports; the CLI
 * builds the ports from AWS SDK clients with {@link createAwsAdminDeps}.
 * @module
 */
export type { AwsAdminClients } from "./aws.ts";
export { createAwsAdminDeps } from "./aws.ts";
export type { DoctorCheck, DoctorDeps, DoctorInput, DoctorResult } from "./doctor.ts";
export { runDoctor } from "./doctor.ts";
export type { AdminDeps, BucketPort, PcaPort, RolesAnywhereReadPort, SecretsPort } from "./ports.ts";
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
