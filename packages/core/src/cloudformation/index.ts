/**
 * CloudFormation for the admin plane: templates as typed values, safe names, and the deploy engine.
 * @module
 */
export { fromCloudFormationClient } from "./aws.ts";
export type {
  CloudFormationPort,
  DeployOptions,
  DeployResult,
  StackChange,
  StackDescription,
  StackEvent,
  StackInput,
} from "./deploy.ts";
export { deleteStack, deployStack, StackFailedError } from "./deploy.ts";
export type { NameKind } from "./names.ts";
export { iamRoleName, stackName, validateName } from "./names.ts";
export type { CfnParameter, CfnResource, CfnTemplate, CfnValue } from "./template.ts";
export { getAtt, ref, renderTemplate, sub } from "./template.ts";
export type { RoleTemplateOptions } from "./templates.ts";
export { caTemplate, crlTemplate, initTemplate, roleTemplate } from "./templates.ts";
