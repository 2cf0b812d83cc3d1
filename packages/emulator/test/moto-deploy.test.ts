import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import {
  type CfnTemplate,
  deleteStack,
  deployStack,
  fromCloudFormationClient,
  type StackEvent,
  StackFailedError,
} from "@iam-ra/core/cloudformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MotoServer, startMoto } from "../src/testing/index.ts";

let moto: MotoServer;
const aws = () => ({
  endpoint: moto.url,
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  maxAttempts: 1,
});
// The launcher fixes moto's change sets (outputs after ExecuteChangeSet, rollback on failure).
beforeAll(async () => {
  moto = await startMoto({ cloudFormationFixes: true });
}, 60_000);
afterAll(() => moto?.close());

const template = (name: string): CfnTemplate => ({
  AWSTemplateFormatVersion: "2010-09-09",
  Description: "deploy engine test",
  Parameters: { Value: { Type: "String" } },
  Resources: {
    Param: {
      Type: "AWS::SSM::Parameter",
      Properties: { Name: name, Type: "String", Value: { Ref: "Value" } },
    },
  },
  Outputs: { ParamName: { Value: { Ref: "Param" } } },
});
const noSleep = async () => {};

describe("deployStack on moto", () => {
  it("creates, detects no changes, updates, previews with --dry-run, deletes", async () => {
    const cfn = fromCloudFormationClient(new CloudFormationClient(aws()));
    const ssm = new SSMClient(aws());
    const events: StackEvent[] = [];
    const base = { cfn, stackName: "iam-ra-test-engine", template: template("/engine/p"), sleep: noSleep };
    const created = await deployStack({
      ...base,
      parameters: { Value: "one" },
      onEvent: (e) => events.push(e),
    });
    expect(created).toMatchObject({ outcome: "created", outputs: { ParamName: "/engine/p" } });
    expect(events.some((e) => e.status === "CREATE_COMPLETE")).toBe(true);
    expect((await ssm.send(new GetParameterCommand({ Name: "/engine/p" }))).Parameter?.Value).toBe("one");

    expect(await deployStack({ ...base, parameters: { Value: "one" } })).toMatchObject({
      outcome: "unchanged",
    });

    const preview = await deployStack({ ...base, parameters: { Value: "two" }, dryRun: true });
    expect(preview.outcome).toBe("dry-run");
    expect((await ssm.send(new GetParameterCommand({ Name: "/engine/p" }))).Parameter?.Value).toBe("one");

    expect(await deployStack({ ...base, parameters: { Value: "two" } })).toMatchObject({
      outcome: "updated",
      outputs: { ParamName: "/engine/p" },
    });
    expect((await ssm.send(new GetParameterCommand({ Name: "/engine/p" }))).Parameter?.Value).toBe("two");

    expect(await deleteStack(base)).toBe("deleted");
    expect(await deleteStack(base)).toBe("absent");
    await expect(ssm.send(new GetParameterCommand({ Name: "/engine/p" }))).rejects.toThrow();
  });

  it("a failing creation: the cause from the events, the stack cleaned up, a re-run succeeds", async () => {
    const cfn = fromCloudFormationClient(new CloudFormationClient(aws()));
    const ssm = new SSMClient(aws());
    // Something else already owns the parameter name, so the stack's resource fails.
    await deployStack({
      cfn,
      stackName: "iam-ra-test-owner",
      template: template("/engine/taken"),
      parameters: { Value: "x" },
      sleep: noSleep,
    });
    const base = { cfn, stackName: "iam-ra-test-fails", template: template("/engine/taken"), sleep: noSleep };
    const error = await deployStack({ ...base, parameters: { Value: "y" } }).catch((e) => e);
    expect(error).toBeInstanceOf(StackFailedError);
    // AWS rolls the stack back with the cause in its events; moto refuses ExecuteChangeSet with it.
    expect(error.message).toMatch(/^Stack iam-ra-test-fails ended [A-Z_]+: .*(already exists|exist)/i);
    expect(error.hint).toMatch(/run the command again/);
    expect(await cfn.describeStack("iam-ra-test-fails")).toSatisfy(
      (s) => s === undefined || s.status === "DELETE_COMPLETE",
    );
    expect((await ssm.send(new GetParameterCommand({ Name: "/engine/taken" }))).Parameter?.Value).toBe("x");
    // The cause goes away; the same command now works.
    await deleteStack({ cfn, stackName: "iam-ra-test-owner", sleep: noSleep });
    expect(await deployStack({ ...base, parameters: { Value: "y" } })).toMatchObject({ outcome: "created" });
  });

  it("a dry run of a new stack leaves nothing behind", async () => {
    const cfn = fromCloudFormationClient(new CloudFormationClient(aws()));
    const r = await deployStack({
      cfn,
      stackName: "iam-ra-test-dry",
      template: template("/engine/dry"),
      parameters: { Value: "x" },
      dryRun: true,
      sleep: noSleep,
    });
    expect(r.outcome).toBe("dry-run");
    const after = await cfn.describeStack("iam-ra-test-dry");
    expect(after === undefined || after.status === "DELETE_COMPLETE").toBe(true);
  });
});
