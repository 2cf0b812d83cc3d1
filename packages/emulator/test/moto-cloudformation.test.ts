import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  type Parameter,
  UpdateStackCommand,
} from "@aws-sdk/client-cloudformation";
import { createSession } from "@iam-ra/core/rolesanywhere";
import { createTestPki, type TestPki } from "@iam-ra/core/testing";
import { createCrl, type IssuedCertificate, parseCredentialMaterial, toPem } from "@iam-ra/core/x509";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Emulator, startEmulator } from "../src/index.ts";
import { type MotoServer, startMoto } from "../src/testing/index.ts";
import { controlPlane } from "./harness.ts";

const exec = promisify(execFile);

/**
 * A stack as a Roles Anywhere user would write it for real AWS: an IAM role whose trust policy binds
 * the certificate's subject OU and the trust anchor (aws:SourceArn), a trust anchor for the CA, a CRL,
 * and a profile listing the role.
 */
const TEMPLATE = {
  AWSTemplateFormatVersion: "2010-09-09",
  Description: "iam-ra: a workload role reachable with IAM Roles Anywhere",
  Parameters: {
    CaCertificate: { Type: "String", Description: "PEM of the CA the trust anchor trusts" },
    CrlData: { Type: "String", Description: "The CA's CRL, PEM (as AWS's handler passes it to ImportCrl)" },
    CrlEnabled: { Type: "String", AllowedValues: ["true", "false"], Default: "true" },
    TeamOu: { Type: "String", Default: "payments" },
    SessionSeconds: { Type: "Number", Default: 3600, MinValue: 900, MaxValue: 43200 },
    ProfileEnabled: { Type: "String", AllowedValues: ["true", "false"], Default: "true" },
    Environment: { Type: "String", Default: "test" },
  },
  Resources: {
    TrustAnchor: {
      Type: "AWS::RolesAnywhere::TrustAnchor",
      Properties: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        Name: { "Fn::Sub": "${AWS::StackName}-anchor" },
        Enabled: true,
        Source: {
          SourceType: "CERTIFICATE_BUNDLE",
          SourceData: { X509CertificateData: { Ref: "CaCertificate" } },
        },
        NotificationSettings: [{ Enabled: true, Event: "CA_CERTIFICATE_EXPIRY", Threshold: 45 }],
        Tags: [{ Key: "environment", Value: { Ref: "Environment" } }],
      },
    },
    Revocations: {
      Type: "AWS::RolesAnywhere::CRL",
      Properties: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        Name: { "Fn::Sub": "${AWS::StackName}-crl" },
        CrlData: { Ref: "CrlData" },
        TrustAnchorArn: { "Fn::GetAtt": ["TrustAnchor", "TrustAnchorArn"] },
        Enabled: { Ref: "CrlEnabled" },
      },
    },
    WorkloadRole: {
      Type: "AWS::IAM::Role",
      Properties: {
        Description: "Assumed through Roles Anywhere by certificates of one team",
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "rolesanywhere.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
              Condition: {
                StringEquals: { "aws:PrincipalTag/x509Subject/OU": { Ref: "TeamOu" } },
                ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": ["TrustAnchor", "TrustAnchorArn"] } },
              },
            },
          ],
        },
      },
    },
    Profile: {
      Type: "AWS::RolesAnywhere::Profile",
      Properties: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        Name: { "Fn::Sub": "${AWS::StackName}-profile" },
        Enabled: { Ref: "ProfileEnabled" },
        RoleArns: [{ "Fn::GetAtt": ["WorkloadRole", "Arn"] }],
        DurationSeconds: { Ref: "SessionSeconds" },
        AcceptRoleSessionName: false,
        Tags: [{ Key: "environment", Value: { Ref: "Environment" } }],
      },
    },
  },
  Outputs: {
    TrustAnchorArn: { Value: { "Fn::GetAtt": ["TrustAnchor", "TrustAnchorArn"] } },
    TrustAnchorId: { Value: { Ref: "TrustAnchor" } },
    ProfileArn: { Value: { "Fn::GetAtt": ["Profile", "ProfileArn"] } },
    ProfileId: { Value: { "Fn::GetAtt": ["Profile", "ProfileId"] } },
    CrlId: { Value: { Ref: "Revocations" } },
    RoleArn: { Value: { "Fn::GetAtt": ["WorkloadRole", "Arn"] } },
  },
};

/** An anchor for an ACM private CA (in moto) and a profile with the session options set. */
const PCA_TEMPLATE = {
  AWSTemplateFormatVersion: "2010-09-09",
  Description: "iam-ra: workloads whose certificates an ACM private CA issues",
  Parameters: { PrivateCaArn: { Type: "String" } },
  Resources: {
    TrustAnchor: {
      Type: "AWS::RolesAnywhere::TrustAnchor",
      Properties: {
        Name: "private-ca",
        Enabled: true,
        Source: { SourceType: "AWS_ACM_PCA", SourceData: { AcmPcaArn: { Ref: "PrivateCaArn" } } },
      },
    },
    Role: {
      Type: "AWS::IAM::Role",
      Properties: {
        RoleName: "pca-workload",
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "rolesanywhere.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
              Condition: { StringEquals: { "aws:PrincipalTag/x509Subject/OU": "pca" } },
            },
          ],
        },
      },
    },
    Profile: {
      Type: "AWS::RolesAnywhere::Profile",
      Properties: {
        Name: "pca-workloads",
        Enabled: true,
        RoleArns: [{ "Fn::GetAtt": ["Role", "Arn"] }],
        DurationSeconds: 7200,
        AcceptRoleSessionName: true,
        ManagedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        SessionPolicy:
          '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}',
        Tags: [{ Key: "team", Value: "pca" }],
      },
    },
  },
  Outputs: {
    TrustAnchorArn: { Value: { "Fn::GetAtt": ["TrustAnchor", "TrustAnchorArn"] } },
    ProfileArn: { Value: { "Fn::GetAtt": ["Profile", "ProfileArn"] } },
    RoleArn: { Value: { "Fn::GetAtt": ["Role", "Arn"] } },
  },
};

/** The same stack with a create-only property changed: the profile must be replaced. */
function withInstanceProperties() {
  const template = structuredClone(TEMPLATE);
  (template.Resources.Profile.Properties as Record<string, unknown>).RequireInstanceProperties = true;
  return template;
}

const STACK = "ra-workload";
const ANCHOR_ARN = /^arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor\/[0-9a-f-]{36}$/;
const PROFILE_ARN = /^arn:aws:rolesanywhere:us-east-1:123456789012:profile\/[0-9a-f-]{36}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let moto: MotoServer;
let emu: Emulator;
let cfn: CloudFormationClient;
let pki: TestPki;
let revokedLeaf: IssuedCertificate;
let crlBase64: string;

beforeAll(async () => {
  // Each side needs the other's URL: the emulator reads roles from moto's IAM, moto's
  // CloudFormation calls the emulator. Reserve the emulator's port first.
  const port = await freePort();
  moto = await startMoto({ rolesAnywhereEndpoint: `http://127.0.0.1:${port}` });
  emu = await startEmulator({ port, iamEndpoint: moto.url, acmPcaEndpoint: moto.url });
  cfn = new CloudFormationClient({
    endpoint: moto.url,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
  pki = await createTestPki();
  revokedLeaf = await pki.issueLeaf({ subject: "CN=revoked,OU=payments", issuer: "root" });
  const now = new Date();
  crlBase64 = (
    await createCrl({
      issuer: pki.root,
      revoked: [{ serialNumber: revokedLeaf.certificate.serialNumber, revocationDate: now }],
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + 86_400_000),
    })
  ).toString("base64");
}, 60_000);

afterAll(async () => {
  cfn?.destroy();
  await emu?.close();
  await moto?.close();
});

function parameters(overrides: Record<string, string> = {}): Parameter[] {
  const values: Record<string, string> = {
    CaCertificate: pki.root.certificatePem,
    CrlData: toPem("X509 CRL", Buffer.from(crlBase64, "base64")),
    ...overrides,
  };
  return Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
}

async function describeStack() {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: STACK }));
  const stack = Stacks![0]!;
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
  return { status: stack.StackStatus, outputs };
}

async function session(leaf: IssuedCertificate, outputs: Record<string, string>, durationSeconds?: number) {
  const material = await parseCredentialMaterial({
    certificate: leaf.certificatePem,
    privateKey: leaf.privateKeyPem,
  });
  return createSession(
    material,
    {
      trustAnchorArn: outputs.TrustAnchorArn!,
      profileArn: outputs.ProfileArn!,
      roleArn: outputs.RoleArn!,
      durationSeconds,
      // Some stacks' profiles require instance properties (RequireInstanceProperties: true).
      instanceProperties: { host: "cfn-test" },
    },
    { endpoint: emu.url, maxAttempts: 1 },
  );
}

async function failedEvents(stackName: string) {
  const { StackEvents } = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName }));
  return (StackEvents ?? [])
    .filter((e) => e.ResourceStatus?.endsWith("_FAILED"))
    .map(({ LogicalResourceId, ResourceType, ResourceStatus, ResourceStatusReason }) => ({
      LogicalResourceId,
      ResourceType,
      ResourceStatus,
      ResourceStatusReason,
    }));
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "iam-ra-cfn-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const leafFor = (ou: string) => pki.issueLeaf({ subject: `CN=worker,OU=${ou}`, issuer: "root" });

describe("CloudFormation stacks with Roles Anywhere resources (moto + emulator)", () => {
  it("the templates are valid for AWS CloudFormation (cfn-lint)", async () => {
    const dir = await tempDir();
    const files: string[] = [];
    for (const [name, template] of [
      ["stack.json", TEMPLATE],
      ["replaced.json", withInstanceProperties()],
      ["pca.json", PCA_TEMPLATE],
    ] as const) {
      files.push(join(dir, name));
      await writeFile(files.at(-1)!, JSON.stringify(template, null, 2));
    }
    // Exit code 0: no error, warning or informational finding.
    const result = await exec("cfn-lint", ["--regions", "us-east-1", "--", ...files]).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(result).toEqual({ code: 0, stdout: "" });
  });

  it("CreateStack creates the role in IAM and the anchor, CRL and profile in the emulator", async () => {
    await cfn.send(
      new CreateStackCommand({
        StackName: STACK,
        TemplateBody: JSON.stringify(TEMPLATE),
        Parameters: parameters(),
        Capabilities: ["CAPABILITY_IAM"],
        Tags: [{ Key: "owner", Value: "platform" }],
      }),
    );
    const { status, outputs } = await describeStack();
    expect(status).toBe("CREATE_COMPLETE");
    expect(outputs.TrustAnchorArn).toMatch(ANCHOR_ARN);
    expect(outputs.ProfileArn).toMatch(PROFILE_ARN);
    expect(outputs.TrustAnchorId).toMatch(UUID);
    expect(outputs.ProfileId).toMatch(UUID);
    expect(outputs.CrlId).toMatch(UUID);
    expect(outputs.TrustAnchorArn!.endsWith(`/${outputs.TrustAnchorId}`)).toBe(true);
    expect(outputs.ProfileArn!.endsWith(`/${outputs.ProfileId}`)).toBe(true);
    expect(outputs.RoleArn).toMatch(/^arn:aws:iam::123456789012:role\/ra-workload-WorkloadRole-/);

    // Ref is the id (the physical resource id), as in AWS.
    const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: STACK }));
    const physical = Object.fromEntries(
      (StackResources ?? []).map((r) => [r.LogicalResourceId!, [r.ResourceType, r.PhysicalResourceId]]),
    );
    expect(physical.TrustAnchor).toEqual(["AWS::RolesAnywhere::TrustAnchor", outputs.TrustAnchorId]);
    expect(physical.Profile).toEqual(["AWS::RolesAnywhere::Profile", outputs.ProfileId]);
    expect(physical.Revocations).toEqual(["AWS::RolesAnywhere::CRL", outputs.CrlId]);

    const { trustAnchor } = await controlPlane(emu, "GET", `/trustanchor/${outputs.TrustAnchorId}`);
    expect(trustAnchor).toMatchObject({
      trustAnchorArn: outputs.TrustAnchorArn,
      name: "ra-workload-anchor",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: pki.root.certificatePem },
      },
      // The template's setting, configured by the account, over AWS's defaults for both events.
      notificationSettings: [
        {
          enabled: true,
          event: "CA_CERTIFICATE_EXPIRY",
          threshold: 45,
          channel: "ALL",
          configuredBy: "123456789012",
        },
        {
          enabled: true,
          event: "END_ENTITY_CERTIFICATE_EXPIRY",
          threshold: 45,
          channel: "ALL",
          configuredBy: "rolesanywhere.amazonaws.com",
        },
      ],
    });
    const { profile } = await controlPlane(emu, "GET", `/profile/${outputs.ProfileId}`);
    expect(profile).toMatchObject({
      profileArn: outputs.ProfileArn,
      name: "ra-workload-profile",
      enabled: true,
      roleArns: [outputs.RoleArn],
      durationSeconds: 3600,
      acceptRoleSessionName: false,
      requireInstanceProperties: false,
    });
    const { crl } = await controlPlane(emu, "GET", `/crl/${outputs.CrlId}`);
    expect(crl).toMatchObject({
      name: "ra-workload-crl",
      enabled: true,
      trustAnchorArn: outputs.TrustAnchorArn,
      crlData: crlBase64,
    });

    // Template tags, stack tags and CloudFormation's system tags, as AWS tags the resource.
    const { tags } = await controlPlane(
      emu,
      "GET",
      `/ListTagsForResource?resourceArn=${encodeURIComponent(outputs.ProfileArn!)}`,
    );
    expect(Object.fromEntries(tags.map((t: { key: string; value: string }) => [t.key, t.value]))).toEqual({
      environment: "test",
      owner: "platform",
      "aws:cloudformation:stack-name": STACK,
      "aws:cloudformation:stack-id": expect.stringMatching(
        /^arn:aws:cloudformation:us-east-1:123456789012:stack\/ra-workload\//,
      ),
      "aws:cloudformation:logical-id": "Profile",
    });
  });

  it("CreateSession: the role's trust policy is read from moto's IAM and binds the OU", async () => {
    const { outputs } = await describeStack();
    const ok = await session(await leafFor("payments"), outputs);
    const roleName = outputs.RoleArn!.split("/").at(-1)!;
    expect(ok.assumedRoleArn).toMatch(
      new RegExp(`^arn:aws:sts::123456789012:assumed-role/${roleName}/[^/]+$`),
    );
    // Another team's certificate from the same CA: the trust policy refuses it.
    await expect(session(await leafFor("marketing"), outputs)).rejects.toMatchObject({ statusCode: 403 });
    // The certificate the stack's CRL revokes.
    await expect(session(revokedLeaf, outputs)).rejects.toMatchObject({
      code: "certificate-revoked",
      statusCode: 403,
    });
  });

  it("UpdateStack updates the anchor, CRL and profile in place", async () => {
    const before = await describeStack();
    await cfn.send(
      new UpdateStackCommand({
        StackName: STACK,
        TemplateBody: JSON.stringify(TEMPLATE),
        Parameters: parameters({ SessionSeconds: "900", CrlEnabled: "false", Environment: "staging" }),
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    const { status, outputs } = await describeStack();
    expect(status).toBe("UPDATE_COMPLETE");
    // In place: same ids.
    expect(outputs).toEqual(before.outputs);

    const { profile } = await controlPlane(emu, "GET", `/profile/${outputs.ProfileId}`);
    expect(profile).toMatchObject({ durationSeconds: 900, enabled: true });
    const { crl } = await controlPlane(emu, "GET", `/crl/${outputs.CrlId}`);
    expect(crl.enabled).toBe(false);
    const { tags } = await controlPlane(
      emu,
      "GET",
      `/ListTagsForResource?resourceArn=${encodeURIComponent(outputs.TrustAnchorArn!)}`,
    );
    expect(tags).toContainEqual({ key: "environment", value: "staging" });

    const leaf = await leafFor("payments");
    // core asks for 3600 s by default: more than the profile now allows.
    await expect(session(leaf, outputs)).rejects.toMatchObject({ statusCode: 400 });
    const ok = await session(leaf, outputs, 900);
    const lifetime = ok.credentials.expiration.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(800_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
    // The CRL is disabled: the revoked certificate is accepted again.
    await expect(session(revokedLeaf, outputs, 900)).resolves.toBeDefined();

    // Disable the profile: CreateSession is refused.
    await cfn.send(
      new UpdateStackCommand({
        StackName: STACK,
        TemplateBody: JSON.stringify(TEMPLATE),
        Parameters: parameters({
          SessionSeconds: "900",
          CrlEnabled: "false",
          Environment: "staging",
          ProfileEnabled: "false",
        }),
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    expect((await controlPlane(emu, "GET", `/profile/${outputs.ProfileId}`)).profile.enabled).toBe(false);
    await expect(session(leaf, outputs, 900)).rejects.toMatchObject({ statusCode: 403 });
  });

  it("UpdateStack replaces the profile when a create-only property changes", async () => {
    const before = await describeStack();
    await cfn.send(
      new UpdateStackCommand({
        StackName: STACK,
        TemplateBody: JSON.stringify(withInstanceProperties()),
        Parameters: parameters(),
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    const { status, outputs } = await describeStack();
    expect(status).toBe("UPDATE_COMPLETE");
    expect(outputs.ProfileId).toMatch(UUID);
    expect(outputs.ProfileId).not.toBe(before.outputs.ProfileId);
    expect(outputs.ProfileArn).toMatch(PROFILE_ARN);
    expect(outputs.TrustAnchorId).toBe(before.outputs.TrustAnchorId);
    await expect(controlPlane(emu, "GET", `/profile/${before.outputs.ProfileId}`)).rejects.toThrow(/404/);
    const { profile } = await controlPlane(emu, "GET", `/profile/${outputs.ProfileId}`);
    expect(profile).toMatchObject({
      requireInstanceProperties: true,
      enabled: true,
      durationSeconds: 3600,
      roleArns: [outputs.RoleArn],
    });
    expect(emu.state.profiles).toHaveLength(1);
    // The CRL is enabled again (parameter back to its default).
    expect((await controlPlane(emu, "GET", `/crl/${outputs.CrlId}`)).crl.enabled).toBe(true);
    await expect(session(await leafFor("payments"), outputs)).resolves.toBeDefined();
  });

  it("an update the emulator refuses rolls back to the previous template and parameters", async () => {
    const before = await describeStack();
    const leaf = await leafFor("payments");
    await cfn.send(
      new UpdateStackCommand({
        StackName: STACK,
        TemplateBody: JSON.stringify(withInstanceProperties()),
        // The profile update succeeds; the anchor's new source (a leaf, not a CA) is refused.
        Parameters: parameters({ CaCertificate: leaf.certificatePem, SessionSeconds: "1800" }),
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    const { status, outputs } = await describeStack();
    expect(status).toBe("UPDATE_ROLLBACK_COMPLETE");
    expect(outputs).toEqual(before.outputs);
    expect(await failedEvents(STACK)).toEqual([
      {
        LogicalResourceId: "TrustAnchor",
        ResourceType: "AWS::RolesAnywhere::TrustAnchor",
        ResourceStatus: "UPDATE_FAILED",
        ResourceStatusReason: expect.stringContaining("CA certificates"),
      },
    ]);
    const { trustAnchor } = await controlPlane(emu, "GET", `/trustanchor/${outputs.TrustAnchorId}`);
    expect(trustAnchor.source.sourceData.x509CertificateData).toBe(pki.root.certificatePem);
    const { profile } = await controlPlane(emu, "GET", `/profile/${outputs.ProfileId}`);
    expect(profile.durationSeconds).toBe(3600);
    await expect(session(leaf, outputs)).resolves.toBeDefined();
  });

  it("DeleteStack deletes the anchor, CRL and profile from the emulator", async () => {
    const { outputs } = await describeStack();
    await cfn.send(new DeleteStackCommand({ StackName: STACK }));
    for (const path of [
      `/trustanchor/${outputs.TrustAnchorId}`,
      `/profile/${outputs.ProfileId}`,
      `/crl/${outputs.CrlId}`,
    ]) {
      await expect(controlPlane(emu, "GET", path), path).rejects.toThrow(/404/);
    }
    expect(emu.state.trustAnchors).toEqual([]);
    expect(emu.state.profiles).toEqual([]);
    expect(emu.state.crls).toEqual([]);
    await expect(session(await leafFor("payments"), outputs)).rejects.toMatchObject({ statusCode: 404 });
  });

  it("`aws cloudformation deploy` (change sets) with an AWS_ACM_PCA anchor for moto's private CA", async () => {
    const setup = fileURLToPath(new URL("./fixtures/moto_setup.py", import.meta.url));
    const pca = JSON.parse((await exec("python3", [setup, moto.url, "pca"])).stdout);
    const dir = await tempDir();
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
    };
    const aws = (...args: string[]) => exec("aws", ["--endpoint-url", moto.url, ...args], { env });
    const file = join(dir, "pca.json");
    await writeFile(file, JSON.stringify(PCA_TEMPLATE));
    await aws(
      "cloudformation",
      "deploy",
      "--stack-name",
      "ra-pca",
      "--template-file",
      file,
      "--capabilities",
      "CAPABILITY_NAMED_IAM",
      "--parameter-overrides",
      `PrivateCaArn=${pca.caArn}`,
    );
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: "ra-pca" }));
    const outputs = Object.fromEntries(Stacks![0]!.Outputs!.map((o) => [o.OutputKey!, o.OutputValue!]));
    expect(Stacks![0]!.StackStatus).toBe("CREATE_COMPLETE");
    expect(outputs.RoleArn).toBe("arn:aws:iam::123456789012:role/pca-workload");
    const anchorId = outputs.TrustAnchorArn!.split("/").at(-1);
    const { trustAnchor } = await controlPlane(emu, "GET", `/trustanchor/${anchorId}`);
    expect(trustAnchor.source).toEqual({ sourceType: "AWS_ACM_PCA", sourceData: { acmPcaArn: pca.caArn } });
    const { profile } = await controlPlane(emu, "GET", `/profile/${outputs.ProfileArn!.split("/").at(-1)}`);
    expect(profile).toMatchObject({
      enabled: true,
      durationSeconds: 7200,
      acceptRoleSessionName: true,
      managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      sessionPolicy: PCA_TEMPLATE.Resources.Profile.Properties.SessionPolicy,
    });

    // The private CA's certificate opens a session with a session name; a stranger's does not.
    const material = await parseCredentialMaterial({
      certificate: pca.certificatePem,
      privateKey: pca.privateKeyPem,
      intermediates: pca.chainPem || undefined,
    });
    const params = {
      trustAnchorArn: outputs.TrustAnchorArn!,
      profileArn: outputs.ProfileArn!,
      roleArn: outputs.RoleArn!,
    };
    const ok = await createSession(
      material,
      { ...params, roleSessionName: "nightly-job" },
      { endpoint: emu.url, maxAttempts: 1 },
    );
    expect(ok.assumedRoleArn).toBe("arn:aws:sts::123456789012:assumed-role/pca-workload/nightly-job");
    const stranger = await pki.issueLeaf({ subject: "CN=x,OU=pca", issuer: "root" });
    await expect(
      createSession(
        await parseCredentialMaterial({
          certificate: stranger.certificatePem,
          privateKey: stranger.privateKeyPem,
        }),
        params,
        { endpoint: emu.url, maxAttempts: 1 },
      ),
    ).rejects.toMatchObject({ code: "untrusted-certificate" });

    await cfn.send(new DeleteStackCommand({ StackName: "ra-pca" }));
    expect(emu.state.trustAnchors).toEqual([]);
    expect(emu.state.profiles).toEqual([]);
  });

  it("a resource the emulator refuses rolls the stack back, as in AWS", async () => {
    // The anchor is created first; the CRL (invalid data) fails; the rollback deletes the anchor.
    await cfn.send(
      new CreateStackCommand({
        StackName: "ra-bad-crl",
        TemplateBody: JSON.stringify(TEMPLATE),
        Parameters: parameters({ CrlData: toPem("X509 CRL", Buffer.from("not a CRL")) }),
        Capabilities: ["CAPABILITY_IAM"],
      }),
    );
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: "ra-bad-crl" }));
    expect(Stacks![0]!.StackStatus).toBe("ROLLBACK_COMPLETE");
    const failed = await failedEvents("ra-bad-crl");
    expect(failed).toEqual([
      {
        LogicalResourceId: "Revocations",
        ResourceType: "AWS::RolesAnywhere::CRL",
        ResourceStatus: "CREATE_FAILED",
        ResourceStatusReason: expect.stringMatching(
          /^Resource handler returned message: "Invalid CRL data.*" \(Service: RolesAnywhere, Status Code: 400, /,
        ),
      },
    ]);
    expect(emu.state.trustAnchors).toEqual([]);
    expect(emu.state.crls).toEqual([]);
    await cfn.send(new DeleteStackCommand({ StackName: "ra-bad-crl" }));
  });
});
