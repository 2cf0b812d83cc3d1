/**
 * @iam-ra/emulator: a local AWS IAM Roles Anywhere service for tests and demos.
 * @module
 */

export type { TrustDecision, TrustRequest } from "@iam-ra/core/rolesanywhere";
export { evaluateTrustPolicy } from "@iam-ra/core/rolesanywhere";
export type { Emulator, EmulatorLogEntry, EmulatorOptions } from "./server.ts";
export { startEmulator } from "./server.ts";
export type { RolesAnywhereSetUp, SetUpRolesAnywhereOptions } from "./setup.ts";
export { createBoundTrustPolicy, setUpRolesAnywhere } from "./setup.ts";
export type { EmulatorStateData, RoleRecord } from "./state.ts";
export { createEmulatorTls, type EmulatorTls, emulatorTlsFromFlags } from "./tls.ts";
