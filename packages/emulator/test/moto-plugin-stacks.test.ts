import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListExportsCommand,
  UpdateStackCommand,
} from "@aws-sdk/client-cloudformation";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createTestPki, type TestPki } from "@iam-ra/core/testing";
import { createCrl, toPem } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { Emulator } from "../src/index.ts";
import { type MotoServer, startMoto } from "../src/testing/index.ts";
import { controlPlane } from "./harness.ts";
import { motoClientConfig, reservePort, startMotoWithEmulator } from "./moto-harness.ts";

// The plugin's fixes of moto, each through what a client of moto sees: Roles Anywhere resources
// updated in place or replaced, stacks forgetting what they rolled back, ExecuteChangeSet outputs
// (iam_ra_moto/stacks.py), IAM role trust-policy updates (iam.py) and atomic S3 conditional writes (s3.py).
let local: Awaited<ReturnType<typeof startMotoWithEmulator>>;
let moto: MotoServer;
let emu: Emulator;
let cfn: CloudFormationClient;
let pki: TestPki;
let crlPem: string;
beforeAll(async () => {
  local = await startMotoWithEmulator();
  ({ moto, emu } = local);
  cfn = new CloudFormationClient(motoClientConfig(moto));
  pki = await createTestPki();
  const now = new Date();
  const der = await createCrl({
    issuer: pki.root,
    revoked: [],
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 86_400_000),
  });
  crlPem = toPem("X509 CRL", der);
}, 60_000);
afterAll(async () => {
  cfn?.destroy();
  await local?.close();
});

const bundle = (pem: string) => ({
  SourceType: "CERTIFICATE_BUNDLE",
  SourceData: { X509CertificateData: pem },
});

/** Two trust anchors and a CRL on one of them. */
function anchorsTemplate(options: {
  source?: string;
  name?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  crlAnchor?: "First" | "Second";
  crlName?: string;
}) {
  return {
    Resources: {
      First: {
        Type: "AWS::RolesAnywhere::TrustAnchor",
        Properties: {
          Name: options.name ?? "first",
          Source: bundle(options.source ?? pki.root.certificatePem),
          ...(options.enabled === undefined ? {} : { Enabled: options.enabled }),
          Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        },
      },
      Second: {
        Type: "AWS::RolesAnywhere::TrustAnchor",
        Properties: { Name: "second", Enabled: true, Source: bundle(pki.root.certificatePem) },
      },
      Revocations: {
        Type: "AWS::RolesAnywhere::CRL",
        Properties: {
          Name: options.crlName ?? "crl",
          CrlData: crlPem,
          TrustAnchorArn: { "Fn::GetAtt": [options.crlAnchor ?? "First", "TrustAnchorArn"] },
          Enabled: true,
        },
      },
    },
    Outputs: {
      FirstId: { Value: { "Fn::GetAtt": ["First", "TrustAnchorId"] } },
      FirstArn: { Value: { "Fn::GetAtt": ["First", "TrustAnchorArn"] }, Export: { Name: "first-arn" } },
      SecondArn: { Value: { "Fn::GetAtt": ["Second", "TrustAnchorArn"] } },
      CrlId: { Value: { "Fn::GetAtt": ["Revocations", "CrlId"] } },
    },
  };
}

async function describe1(stackName: string) {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = Stacks![0]!;
  return {
    status: stack.StackStatus,
    outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!])),
    parameters: Object.fromEntries((stack.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue!])),
  };
}

async function apply(stackName: string, template: object, update = false) {
  const input = { StackName: stackName, TemplateBody: JSON.stringify(template) };
  await cfn.send(update ? new UpdateStackCommand(input) : new CreateStackCommand(input));
  return describe1(stackName);
}

const tagsOf = async (arn: string) =>
  Object.fromEntries(
    (await controlPlane(emu, "GET", `/ListTagsForResource?resourceArn=${encodeURIComponent(arn)}`)).tags.map(
      (t: { key: string; value: string }) => [t.key, t.value],
    ),
  );

describe("AWS::RolesAnywhere::* updates", () => {
  it("a trust anchor's name, source, tags and Enabled update in place", async () => {
    const created = await apply("ra-anchors", anchorsTemplate({ tags: { team: "a", keep: "1" } }));
    expect(created.status).toBe("CREATE_COMPLETE");
    const id = created.outputs.FirstId!;
    expect(await tagsOf(created.outputs.FirstArn!)).toMatchObject({ team: "a", keep: "1" });

    const updated = await apply(
      "ra-anchors",
      anchorsTemplate({
        name: "renamed",
        source: pki.intermediate.certificatePem,
        tags: { keep: "2" },
        enabled: false,
      }),
      true,
    );
    expect(updated.status).toBe("UPDATE_COMPLETE");
    expect(updated.outputs).toEqual(created.outputs);
    const { trustAnchor } = await controlPlane(emu, "GET", `/trustanchor/${id}`);
    expect(trustAnchor).toMatchObject({
      name: "renamed",
      enabled: false,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.intermediate.certificatePem },
      },
    });
    const tags = await tagsOf(created.outputs.FirstArn!);
    expect(tags.keep).toBe("2");
    expect(tags).not.toHaveProperty("team");

    // Enabled left out: the anchor stays as it is.
    await apply(
      "ra-anchors",
      anchorsTemplate({ name: "renamed", source: pki.intermediate.certificatePem }),
      true,
    );
    expect((await controlPlane(emu, "GET", `/trustanchor/${id}`)).trustAnchor.enabled).toBe(false);
    await cfn.send(new DeleteStackCommand({ StackName: "ra-anchors" }));
  });

  it("a CRL's name updates in place; a new TrustAnchorArn replaces it", async () => {
    const before = await apply("ra-crl", anchorsTemplate({}));
    const renamed = await apply("ra-crl", anchorsTemplate({ crlName: "crl-2" }), true);
    expect(renamed.outputs.CrlId).toBe(before.outputs.CrlId);
    expect((await controlPlane(emu, "GET", `/crl/${before.outputs.CrlId}`)).crl.name).toBe("crl-2");

    const moved = await apply("ra-crl", anchorsTemplate({ crlName: "crl-2", crlAnchor: "Second" }), true);
    expect(moved.status).toBe("UPDATE_COMPLETE");
    expect(moved.outputs.CrlId).not.toBe(before.outputs.CrlId);
    await expect(controlPlane(emu, "GET", `/crl/${before.outputs.CrlId}`)).rejects.toThrow(/404/);
    const { crl } = await controlPlane(emu, "GET", `/crl/${moved.outputs.CrlId}`);
    expect(crl).toMatchObject({ name: "crl-2", trustAnchorArn: moved.outputs.SecondArn });
    expect(emu.state.crls).toHaveLength(1);
    await cfn.send(new DeleteStackCommand({ StackName: "ra-crl" }));
  });

  it("a deleted stack does not bring its resources or exports back when described", async () => {
    await apply("ra-deleted", anchorsTemplate({}));
    const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: "ra-deleted" }));
    const stackId = StackResources![0]!.StackId!;
    expect((await cfn.send(new ListExportsCommand({}))).Exports?.map((e) => e.Name)).toContain("first-arn");
    await cfn.send(new DeleteStackCommand({ StackName: "ra-deleted" }));
    expect(emu.state.trustAnchors).toEqual([]);
    expect((await describe1(stackId)).status).toBe("DELETE_COMPLETE");
    await cfn.send(new DescribeStackResourcesCommand({ StackName: stackId }));
    expect(emu.state.trustAnchors).toEqual([]);
    expect(emu.state.crls).toEqual([]);
    expect((await cfn.send(new ListExportsCommand({}))).Exports?.map((e) => e.Name) ?? []).not.toContain(
      "first-arn",
    );
  });

  it("a rolled-back stack forgets what it undid: no resource comes back when described", async () => {
    // The CRL is refused (not a CRL); the anchors made before it are deleted by the rollback.
    const bad = anchorsTemplate({});
    bad.Resources.Revocations.Properties.CrlData = toPem("X509 CRL", Buffer.from("not a CRL"));
    expect((await apply("ra-refused", bad)).status).toBe("ROLLBACK_COMPLETE");
    const described = await describe1("ra-refused");
    expect(described.outputs).toEqual({});
    await cfn.send(new DescribeStackResourcesCommand({ StackName: "ra-refused" }));
    expect(emu.state.trustAnchors).toEqual([]);
    expect((await cfn.send(new ListExportsCommand({}))).Exports?.map((e) => e.Name) ?? []).not.toContain(
      "first-arn",
    );
    await cfn.send(new DeleteStackCommand({ StackName: "ra-refused" }));
  });

  it("an unreachable emulator fails the resource and rolls the stack back", async () => {
    const nowhere = await startMoto({ rolesAnywhereEndpoint: `http://127.0.0.1:${await reservePort()}` });
    onTestFinished(() => nowhere.close());
    const client = new CloudFormationClient(motoClientConfig(nowhere));
    onTestFinished(() => client.destroy());
    // Without exports: moto evaluates them before it creates resources, outside the rollback.
    const template = anchorsTemplate({});
    const { Export: _, ...firstArn } = template.Outputs.FirstArn;
    const unexported = { ...template, Outputs: { ...template.Outputs, FirstArn: firstArn } };
    await client.send(
      new CreateStackCommand({ StackName: "ra-nowhere", TemplateBody: JSON.stringify(unexported) }),
    );
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: "ra-nowhere" }));
    expect(Stacks![0]!.StackStatus).toBe("ROLLBACK_COMPLETE");
    const { StackEvents } = await client.send(new DescribeStackEventsCommand({ StackName: "ra-nowhere" }));
    expect(StackEvents?.find((e) => e.ResourceStatus === "CREATE_FAILED")).toMatchObject({
      LogicalResourceId: "First",
      ResourceType: "AWS::RolesAnywhere::TrustAnchor",
      ResourceStatusReason: expect.stringMatching(
        /^Resource handler returned message: "cannot reach the Roles Anywhere emulator at http:\/\/127\.0\.0\.1:\d+: .*" \(Service: RolesAnywhere, Status Code: 503, .*\(ServiceUnavailable\)$/,
      ),
    });
  });
});

describe("moto's CloudFormation, IAM and S3 as AWS behaves", () => {
  it("ExecuteChangeSet leaves the stack with its new template's outputs and parameters", async () => {
    const template = {
      Parameters: { Value: { Type: "String" } },
      Resources: {
        Param: {
          Type: "AWS::SSM::Parameter",
          Properties: { Name: "/plugin/change-sets", Type: "String", Value: { Ref: "Value" } },
        },
      },
      Outputs: { Echo: { Value: { Ref: "Value" } }, Name: { Value: { Ref: "Param" } } },
    };
    const change = async (type: "CREATE" | "UPDATE", value: string) => {
      const name = `cs-${type.toLowerCase()}`;
      await cfn.send(
        new CreateChangeSetCommand({
          StackName: "change-sets",
          ChangeSetName: name,
          ChangeSetType: type,
          TemplateBody: JSON.stringify(template),
          Parameters: [{ ParameterKey: "Value", ParameterValue: value }],
        }),
      );
      await cfn.send(new ExecuteChangeSetCommand({ StackName: "change-sets", ChangeSetName: name }));
      return describe1("change-sets");
    };
    const created = await change("CREATE", "one");
    expect(created.outputs).toEqual({ Echo: "one", Name: "/plugin/change-sets" });
    expect(created.parameters).toEqual({ Value: "one" });
    const updated = await change("UPDATE", "two");
    expect(updated.outputs).toEqual({ Echo: "two", Name: "/plugin/change-sets" });
    expect(updated.parameters).toEqual({ Value: "two" });
    await cfn.send(new DeleteStackCommand({ StackName: "change-sets" }));
  });

  it("UpdateStack applies an IAM role's new trust policy", async () => {
    const iam = new IAMClient(motoClientConfig(moto));
    onTestFinished(() => iam.destroy());
    const trusting = (service: string) => ({
      Resources: {
        Role: {
          Type: "AWS::IAM::Role",
          Properties: {
            RoleName: "plugin-trust",
            Description: `trusts ${service}`,
            AssumeRolePolicyDocument: {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
            },
          },
        },
      },
    });
    const trustedService = async () => {
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: "plugin-trust" }));
      return JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)).Statement[0].Principal.Service;
    };
    await apply("iam-trust", trusting("ec2.amazonaws.com"));
    expect(await trustedService()).toBe("ec2.amazonaws.com");
    expect((await apply("iam-trust", trusting("rolesanywhere.amazonaws.com"), true)).status).toBe(
      "UPDATE_COMPLETE",
    );
    expect(await trustedService()).toBe("rolesanywhere.amazonaws.com");
    await cfn.send(new DeleteStackCommand({ StackName: "iam-trust" }));
  });

  it("S3 conditional writes are atomic: of writers racing with one ETag, exactly one wins", async () => {
    const s3 = new S3Client({ ...motoClientConfig(moto), forcePathStyle: true });
    onTestFinished(() => s3.destroy());
    await s3.send(new CreateBucketCommand({ Bucket: "cas" }));
    for (let round = 0; round < 10; round++) {
      const key = `state-${round}.json`;
      // Create-if-absent races, then compare-and-swap races on the winner's ETag.
      const creates = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          s3.send(new PutObjectCommand({ Bucket: "cas", Key: key, Body: `create ${i}`, IfNoneMatch: "*" })),
        ),
      );
      const created = creates.filter((r) => r.status === "fulfilled");
      expect(created).toHaveLength(1);
      const etag = (created[0] as PromiseFulfilledResult<{ ETag?: string }>).value.ETag!;
      const swaps = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          s3.send(new PutObjectCommand({ Bucket: "cas", Key: key, Body: `swap ${i}`, IfMatch: etag })),
        ),
      );
      expect(swaps.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const lost of [...creates, ...swaps].filter((r) => r.status === "rejected")) {
        expect((lost as PromiseRejectedResult).reason).toMatchObject({ $metadata: { httpStatusCode: 412 } });
      }
    }
  });
});
