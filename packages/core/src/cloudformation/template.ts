/**
 * CloudFormation templates as typed values: plain objects serialised with JSON.stringify, so no
 * template is ever built from strings.
 * @module
 */

/** An intrinsic function or a literal. @public */
export type CfnValue =
  | string
  | number
  | boolean
  | CfnValue[]
  | { [key: string]: CfnValue }
  | { Ref: string }
  | { "Fn::GetAtt": [string, string] }
  | { "Fn::Sub": string | [string, Record<string, CfnValue>] }
  | { "Fn::If": [string, CfnValue, CfnValue] };

/** A template parameter. @public */
export interface CfnParameter {
  Type: "String" | "Number" | "CommaDelimitedList" | "AWS::SSM::Parameter::Value<String>";
  Description?: string;
  Default?: string | number;
  AllowedValues?: Array<string | number>;
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  MinLength?: number;
  MaxLength?: number;
  NoEcho?: boolean;
}

/** A resource. @public */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: "Delete" | "Retain" | "RetainExceptOnCreate" | "Snapshot";
  UpdateReplacePolicy?: "Delete" | "Retain" | "Snapshot";
}

/** A whole template. @public */
export interface CfnTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Metadata?: Record<string, CfnValue>;
  Parameters?: Record<string, CfnParameter>;
  Conditions?: Record<string, CfnValue>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Description?: string; Value: CfnValue; Condition?: string }>;
}

/** `{ "Ref": name }`. @public */
export const ref = (name: string) => ({ Ref: name });
/** `{ "Fn::GetAtt": [resource, attribute] }`. @public */
export const getAtt = (resource: string, attribute: string): { "Fn::GetAtt": [string, string] } => ({
  "Fn::GetAtt": [resource, attribute],
});
/** `{ "Fn::Sub": text }`. @public */
export const sub = (text: string) => ({ "Fn::Sub": text });

/** The serialized template body for CreateStack/CreateChangeSet. @public */
export function renderTemplate(template: CfnTemplate): string {
  return `${JSON.stringify(template, null, 2)}\n`;
}
