/**
 * Test helpers of @iam-ra/emulator: moto_server, optionally with the Roles Anywhere plugin that lets
 * moto's CloudFormation create `AWS::RolesAnywhere::*` resources in an emulator.
 * @module
 */

export { type MotoServer, motoRolesAnywhereLauncher, type StartMotoOptions, startMoto } from "./moto.ts";
