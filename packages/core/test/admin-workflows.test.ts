/**
 * The admin workflows against in-memory fakes of their ports (test/helpers/fake-admin.ts): every
 * behaviour the CLI journeys reach on moto, here in milliseconds and pointing at the workflow.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deleteCa, planCaDelete, planCaSetup, setUpCa } from "../src/admin/ca.ts";
import { destroyNamespace, planDestroy } from "../src/admin/destroy.ts";
import { onboardHost, planHost } from "../src/admin/host.ts";
import { initNamespace } from "../src/admin/init.ts";
import { openNamespace, readNamespaceState } from "../src/admin/namespace.ts";
import { offboardHost, planRevocation, revokeHost } from "../src/admin/revoke.ts";
import { deleteRole, planRole, planRoleDelete, putRole } from "../src/admin/role.ts";
import { IamRaError } from "../src/errors.ts";
import { createCsr } from "../src/x509/ca.ts";
import { createFakeAws } from "./helpers/fake-admin.ts";

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof IamRaError) return e.code;
    throw e;
  }
  throw new Error("expected a refusal");
};

async function initialised(namespace = "test") {
  const aws = createFakeAws({ namespace });
  await initNamespace(aws.deps);
  return aws;
}

async function withRole(namespace = "test") {
  const aws = await initialised(namespace);
  await putRole(aws.deps, "web", {
    mode: "create",
    policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
  });
  return aws;
}

describe("init", () => {
  it("deploys the init stack, writes state behind the SSM pointer and sets up the default CA", async () => {
    const aws = createFakeAws({ namespace: "prod" });
    const result = await initNamespace(aws.deps);
    expect(result.outcome).toBe("created");
    expect(result.stateLocation).toBe(`s3://${result.bucket}/prod/state.json`);
    expect(aws.parameters.get("/iam-ra/prod/state-location")).toBe(result.stateLocation);
    expect(aws.parameters.get("/iam-ra/prod/kms-key-arn")).toBe(result.kmsKeyArn);
    expect(result.ca).toMatchObject({ outcome: "created", scope: "default", mode: "self-signed" });
    const state = await readNamespaceState(aws.deps);
    expect(state.init?.bucketName).toBe(result.bucket);
    expect(Object.keys(state.cas)).toEqual(["default"]);
    // The CA key is in the bucket only as a KMS envelope; its certificate is a CA certificate.
    const objects = aws.buckets.get(result.bucket!)!;
    const envelope = JSON.parse(objects.get("prod/scopes/default/ca/private-key.envelope.json")!.body);
    expect(envelope.format).toBe("iam-ra-envelope-v1");
    expect(JSON.stringify(envelope)).not.toContain("PRIVATE KEY");
    const cert = new X509Certificate(objects.get("prod/scopes/default/ca/certificate.pem")!.body);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain("iam-ra prod/default CA");
  });

  it("is safe to re-run: nothing is replaced and state is kept", async () => {
    const aws = await initialised();
    const before = await readNamespaceState(aws.deps);
    const again = await initNamespace(aws.deps);
    expect(again.outcome).toBe("unchanged");
    expect(again.ca?.outcome).toBe("unchanged");
    const after = await readNamespaceState(aws.deps);
    expect(after.cas.default?.trustAnchorArn).toBe(before.cas.default?.trustAnchorArn);
    expect(after.cas.default?.certificate?.fingerprintSha256).toBe(
      before.cas.default?.certificate?.fingerprintSha256,
    );
  });

  it("--dry-run creates nothing", async () => {
    const aws = createFakeAws();
    const result = await initNamespace(aws.deps, { dryRun: true });
    expect(result.outcome).toBe("dry-run");
    expect([...aws.stacks.values()].filter((s) => s.status !== "DELETE_COMPLETE")).toEqual([]);
    expect(aws.parameters.size).toBe(0);
    expect(aws.buckets.size).toBe(0);
  });

  it("commands on a namespace that was never initialised say to run init", async () => {
    const aws = createFakeAws({ namespace: "nope" });
    expect(await code(openNamespace(aws.deps))).toBe("not-initialized");
    expect(await code(putRole(aws.deps, "web", { mode: "create" }))).toBe("not-initialized");
  });
});

describe("CA scopes", () => {
  it("a failed trust-anchor deploy leaves no CA objects and no scope behind", async () => {
    const aws = await initialised();
    aws.failNextDeploy("iam-ra-test-ca-extra", "Trust anchor limit exceeded");
    const err = await setUpCa(aws.deps, "extra", { mode: "self-signed" }).catch((e) => e);
    expect(err).toBeInstanceOf(IamRaError);
    expect(err.code).toBe("stack-failed");
    expect(err.message).toContain("Trust anchor limit exceeded");
    const state = await readNamespaceState(aws.deps);
    expect(state.cas.extra).toBeUndefined();
    const bucket = aws.buckets.get(state.init!.bucketName)!;
    expect([...bucket.keys()].filter((k) => k.includes("/scopes/extra/"))).toEqual([]);
    // The rolled-back stack was removed, so a retry creates it afresh.
    expect(aws.stacks.get("iam-ra-test-ca-extra")?.status ?? "DELETE_COMPLETE").toBe("DELETE_COMPLETE");
    expect((await setUpCa(aws.deps, "extra", { mode: "self-signed" })).outcome).toBe("created");
  });

  it("a Roles Anywhere answering for another region is refused, and the stack deleted again", async () => {
    const aws = await initialised();
    aws.anchorRegion = "us-east-2";
    const err = await setUpCa(aws.deps, "other", { mode: "self-signed" }).catch((e) => e);
    expect(err.code).toBe("region-mismatch");
    expect(err.message).toContain("us-east-2");
    expect(aws.stacks.get("iam-ra-test-ca-other")?.status).toBe("DELETE_COMPLETE");
    const state = await readNamespaceState(aws.deps);
    expect(state.cas.other).toBeUndefined();
    expect([...aws.buckets.get(state.init!.bucketName)!.keys()].some((k) => k.includes("/other/"))).toBe(
      false,
    );
  });

  it("plans refuse bad input before any AWS call", async () => {
    const aws = await initialised();
    const state = await readNamespaceState(aws.deps);
    expect(() => planCaSetup(state, "x", { mode: "self-signed", validityYears: 31 })).toThrow(/outside 1–30/);
    expect(() => planCaSetup(state, "x", { mode: "pca-existing" })).toThrow(/needs the Private CA's ARN/);
    expect(() => planCaSetup(state, "x", { mode: "pca-new", keyAlgorithm: "EC_P521" })).toThrow(
      /no EC_P521 keys/,
    );
    expect(() => planCaSetup(state, "default", { mode: "pca-new" })).toThrow(/already exists/);
    expect(planCaSetup(state, "default", { mode: "self-signed" })).toMatchObject({ kind: "existing" });
    expect(planCaSetup(state, "x", { mode: "pca-new", keyAlgorithm: "EC_P384" })).toMatchObject({
      kind: "create",
      stackName: "iam-ra-test-ca-x",
      pcaKeyAlgorithm: "EC_secp384r1",
    });
    const calls = aws.calls.length;
    expect(await code(setUpCa(aws.deps, "x", { mode: "self-signed", validityYears: 0 }))).toBe(
      "invalid-input",
    );
    expect(aws.calls.slice(calls)).toEqual([]);
  });

  it("delete refuses while a role uses the scope, then removes stack, objects and record", async () => {
    const aws = await withRole();
    await setUpCa(aws.deps, "spare", { mode: "self-signed" });
    await putRole(aws.deps, "api", { mode: "create", scope: "spare" });
    expect(await code(deleteCa(aws.deps, "spare"))).toBe("in-use");
    const snapshot = await readNamespaceState(aws.deps);
    expect(() => planCaDelete(snapshot, "spare")).toThrow(/used by role\(s\) api/);
    expect(() => planCaDelete(snapshot, "missing")).toThrow(/no CA scope missing/);
    await deleteRole(aws.deps, "api");
    const done = await deleteCa(aws.deps, "spare");
    expect(done.deleted).toEqual(["iam-ra-test-ca-spare"]);
    const state = await readNamespaceState(aws.deps);
    expect(state.cas.spare).toBeUndefined();
    expect([...aws.buckets.get(state.init!.bucketName)!.keys()].some((k) => k.includes("/spare/"))).toBe(
      false,
    );
  });
});

describe("roles", () => {
  it("create deploys one stack with the binding and policies; update keeps what it is not given", async () => {
    const aws = await withRole();
    const state = await readNamespaceState(aws.deps);
    const role = state.roles.web!;
    expect(role.binding).toEqual({ tag: "x509Subject/OU", value: "web" });
    expect(role.roleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(role.profileArn).toMatch(/^arn:aws:rolesanywhere:eu-west-1:123456789012:profile\//);
    const stack = aws.stacks.get("iam-ra-test-role-web")!;
    expect(stack.parameters).toMatchObject({
      TrustAnchorArn: state.cas.default!.trustAnchorArn,
      BindingValue: "web",
      ManagedPolicyArns: "arn:aws:iam::aws:policy/ReadOnlyAccess",
      SessionDuration: "3600",
    });
    const updated = await putRole(aws.deps, "web", { mode: "update", sessionDurationSeconds: 7200 });
    expect(updated.outcome).toBe("updated");
    expect(updated.policies).toEqual(["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    expect(aws.stacks.get("iam-ra-test-role-web")!.parameters.MaxSessionDuration).toBe("7200");
    // The same input again changes nothing.
    expect((await putRole(aws.deps, "web", { mode: "put" })).outcome).toBe("unchanged");
  });

  it("--dry-run reports the changes and creates nothing", async () => {
    const aws = await initialised();
    const plan = await putRole(aws.deps, "db", { mode: "create", dryRun: true });
    expect(plan.outcome).toBe("dry-run");
    expect(plan.changes.map((c) => c.logicalResourceId).sort()).toEqual(["Profile", "Role"]);
    expect(aws.stacks.get("iam-ra-test-role-db")?.status ?? "DELETE_COMPLETE").toBe("DELETE_COMPLETE");
    expect((await readNamespaceState(aws.deps)).roles.db).toBeUndefined();
  });

  it("plans refuse what the role stack or IAM would refuse", async () => {
    const aws = await withRole();
    const state = await readNamespaceState(aws.deps);
    expect(() => planRole(state, "web", { mode: "create" })).toThrow(/already exists/);
    expect(() => planRole(state, "nope", { mode: "update" })).toThrow(/no role nope/);
    expect(() => planRole(state, "x", { mode: "create", scope: "none" })).toThrow(/no CA scope none/);
    expect(() => planRole(state, "x", { mode: "create", policies: ["ReadOnlyAccess"] })).toThrow(
      /not a managed policy ARN/,
    );
    expect(() => planRole(state, "x", { mode: "create", sessionDurationSeconds: 600 })).toThrow(/900–43200/);
    expect(() => planRole(state, "x", { mode: "create", bindingTag: "OU" })).toThrow(/principal tag/);
    expect(planRole(state, "web", { mode: "update", bindingTag: "x509Subject/CN" })).toMatchObject({
      scope: "default",
      policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      binding: { tag: "x509Subject/CN", value: "web" },
      stackName: "iam-ra-test-role-web",
    });
  });

  it("attribute mappings go on the profile and into state; one that drops the binding is refused", async () => {
    const aws = await initialised();
    const state = await readNamespaceState(aws.deps);
    expect(() =>
      planRole(state, "m", {
        mode: "create",
        attributeMappings: [{ certificateField: "x509Subject", specifiers: ["CN"] }],
      }),
    ).toThrow(/do not map x509Subject\/OU/);
    // The issuer binding of a self-signed scope needs x509Issuer/CN mapped too.
    expect(() =>
      planRole(state, "m", {
        mode: "create",
        attributeMappings: [{ certificateField: "x509Issuer", specifiers: ["O"] }],
      }),
    ).toThrow(/do not map x509Issuer\/CN/);
    const result = await putRole(aws.deps, "m", {
      mode: "create",
      attributeMappings: [{ certificateField: "x509Subject", specifiers: ["OU"] }],
    });
    expect(result.attributeMappings).toEqual([{ certificateField: "x509Subject", specifiers: ["OU"] }]);
    const profile = aws.stacks.get("iam-ra-test-role-m")!.resources.get("Profile")!;
    expect(profile.properties.AttributeMappings).toEqual([
      { CertificateField: "x509Subject", MappingRules: [{ Specifier: "OU" }] },
    ]);
    expect((await readNamespaceState(aws.deps)).roles.m!.attributeMappings).toEqual(result.attributeMappings);
    // Kept on update unless changed; null goes back to AWS's defaults.
    expect(
      (await putRole(aws.deps, "m", { mode: "update", sessionDurationSeconds: 1800 })).attributeMappings,
    ).toEqual(result.attributeMappings);
    await putRole(aws.deps, "m", { mode: "update", attributeMappings: null });
    expect(
      aws.stacks.get("iam-ra-test-role-m")!.resources.get("Profile")!.properties.AttributeMappings,
    ).toBeUndefined();
    expect((await readNamespaceState(aws.deps)).roles.m!.attributeMappings).toBeUndefined();
  });

  it("delete refuses while hosts use it; --force offboards and revokes them first", async () => {
    const aws = await withRole();
    await onboardHost(aws.deps, "h1.example.com", { mode: "onboard", role: "web" });
    expect(await code(deleteRole(aws.deps, "web"))).toBe("in-use");
    expect(planRoleDelete(await readNamespaceState(aws.deps), "web", true).offboardHosts).toEqual([
      "h1.example.com",
    ]);
    await deleteRole(aws.deps, "web", true);
    const state = await readNamespaceState(aws.deps);
    expect(state.roles.web).toBeUndefined();
    expect(state.hosts["h1.example.com"]).toBeUndefined();
    expect(aws.secrets.size).toBe(0);
    // The host's certificate was revoked through the scope's CRL before it went.
    expect(state.cas.default!.crl?.revokedSerials).toHaveLength(1);
    expect(aws.stacks.get("iam-ra-test-role-web")?.status).toBe("DELETE_COMPLETE");
  });
});

describe("hosts", () => {
  it("onboard issues from the scope CA with the role's binding and stores certificate and key", async () => {
    const aws = await withRole();
    const host = await onboardHost(aws.deps, "h1.example.com", {
      mode: "onboard",
      role: "web",
      dnsNames: ["alias.example.com"],
    });
    const cert = new X509Certificate(host.certificatePem);
    expect(cert.subject.split("\n")).toEqual(["CN=h1.example.com", "OU=web"]);
    expect(cert.subjectAltName).toBe("DNS:h1.example.com, DNS:alias.example.com");
    const state = await readNamespaceState(aws.deps);
    const caPem = aws.buckets
      .get(state.init!.bucketName)!
      .get("test/scopes/default/ca/certificate.pem")!.body;
    expect(cert.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    const secret = JSON.parse(aws.secrets.get("iam-ra/test/hosts/h1.example.com")!.value);
    expect(secret).toMatchObject({
      certificate: host.certificatePem,
      trustAnchorArn: state.cas.default!.trustAnchorArn,
      roleArn: state.roles.web!.roleArn,
      region: "eu-west-1",
    });
    expect(secret.privateKey).toBe(host.privateKeyPem);
    expect(aws.secrets.get("iam-ra/test/hosts/h1.example.com")!.kmsKeyArn).toBe(state.init!.kmsKeyArn);
    expect(state.hosts["h1.example.com"]!.certificates).toMatchObject([
      { status: "active", keySource: "generated", serialNumber: host.certificate.serialNumber },
    ]);
  });

  it("a CSR keeps the key on the host: only the certificate is stored", async () => {
    const aws = await withRole();
    const csr = await createCsr("CN=ignored");
    const host = await onboardHost(aws.deps, "h2", { mode: "onboard", role: "web", csrPem: csr.csrPem });
    expect(host.privateKeyPem).toBeNull();
    expect(host.certificate.keySource).toBe("csr");
    expect(JSON.parse(aws.secrets.get("iam-ra/test/hosts/h2")!.value).privateKey).toBeUndefined();
    expect(new X509Certificate(host.certificatePem).subject.split("\n")).toEqual(["CN=h2", "OU=web"]);
  });

  it("rotate --revoke-previous replaces the certificate and refuses the old one through the CRL", async () => {
    const aws = await withRole();
    const first = await onboardHost(aws.deps, "h1", { mode: "onboard", role: "web" });
    aws.clock.advance(60_000);
    const second = await onboardHost(aws.deps, "h1", { mode: "rotate", revokePrevious: true });
    expect(second.certificate.serialNumber).not.toBe(first.certificate.serialNumber);
    expect(second.revoked).toEqual([first.certificate.serialNumber]);
    const state = await readNamespaceState(aws.deps);
    expect(state.hosts.h1!.certificates.map((c) => c.status)).toEqual(["revoked", "active"]);
    expect(state.cas.default!.crl?.revokedSerials).toEqual([first.certificate.serialNumber]);
    expect(aws.stacks.get("iam-ra-test-crl-default")?.status).toBe("CREATE_COMPLETE");
  });

  it("plans refuse unknown hosts, roles and serials", async () => {
    const aws = await withRole();
    await onboardHost(aws.deps, "h1", { mode: "onboard", role: "web" });
    const state = await readNamespaceState(aws.deps);
    expect(() => planHost(state, "h1", { mode: "onboard", role: "web" })).toThrow(/already onboarded/);
    expect(() => planHost(state, "h9", { mode: "rotate" })).toThrow(/no host h9/);
    expect(() => planHost(state, "h9", { mode: "onboard" })).toThrow(/No role was given/);
    expect(() => planHost(state, "h9", { mode: "onboard", role: "db" })).toThrow(/no role db/);
    expect(() => planHost(state, "h9", { mode: "onboard", role: "web", validityDays: 0 })).toThrow(/1–3650/);
    expect(planHost(state, "h1", { mode: "rotate" })).toMatchObject({
      roleName: "web",
      subject: "CN=h1,OU=web",
      previousSerials: [state.hosts.h1!.certificates[0]!.serialNumber],
    });
    expect(() => planRevocation(state, "h1", { serials: ["12345"] })).toThrow(/not the decimal serial/);
    expect(() => planRevocation(state, "h1", { serials: ["0xAB"] })).toThrow(/not the decimal serial/);
    expect(() => planRevocation(state, "nope")).toThrow(/no host nope/);
  });

  it("a host whose state update fails leaves no secret behind", async () => {
    const aws = await withRole();
    // Another admin removes the state document mid-way: the update fails, the new secret goes.
    const state = await readNamespaceState(aws.deps);
    const objects = aws.buckets.get(state.init!.bucketName)!;
    const realPut = aws.deps.secrets.put;
    aws.deps.secrets.put = async (...args) => {
      const arn = await realPut(...args);
      objects.delete("test/state.json");
      return arn;
    };
    await expect(onboardHost(aws.deps, "h1", { mode: "onboard", role: "web" })).rejects.toThrow();
    expect(aws.secrets.size).toBe(0);
  });

  it("offboard revokes, deletes the secret and forgets the host", async () => {
    const aws = await withRole();
    const host = await onboardHost(aws.deps, "h1", { mode: "onboard", role: "web" });
    const out = await offboardHost(aws.deps, "h1");
    expect(out).toMatchObject({ revoked: [host.certificate.serialNumber], secretDeleted: true });
    expect(out.refusedByRolesAnywhere).toBe(true);
    expect(aws.secrets.size).toBe(0);
    expect((await readNamespaceState(aws.deps)).hosts.h1).toBeUndefined();
    expect(await code(revokeHost(aws.deps, "h1"))).toBe("not-found");
  });
});

describe("destroy", () => {
  it("removes secrets, CRL, role, CA and init stacks, the bucket, and retires the KMS key", async () => {
    const aws = await withRole();
    await onboardHost(aws.deps, "h1", { mode: "onboard", role: "web" });
    await revokeHost(aws.deps, "h1");
    const state = await readNamespaceState(aws.deps);
    const plan = planDestroy(state, "test");
    expect(plan).toMatchObject({
      crlStacks: ["iam-ra-test-crl-default"],
      roleStacks: ["iam-ra-test-role-web"],
      caStacks: ["iam-ra-test-ca-default"],
    });
    const result = await destroyNamespace(aws.deps);
    expect(result.stacks).toEqual([
      "iam-ra-test-crl-default",
      "iam-ra-test-role-web",
      "iam-ra-test-ca-default",
      "iam-ra-test-init",
    ]);
    expect(result).toMatchObject({ secrets: 1, bucket: "deleted" });
    expect(aws.buckets.size).toBe(0);
    expect(aws.parameters.size).toBe(0);
    expect(aws.secrets.size).toBe(0);
    expect(aws.retiredKeys.get(state.init!.kmsKeyArn)).toBe(7);
    expect([...aws.stacks.values()].every((s) => s.status === "DELETE_COMPLETE")).toBe(true);
    // Re-running after everything is gone is fine.
    expect((await destroyNamespace(aws.deps)).stacks).toEqual([]);
  });

  it("--retain-bucket keeps the bucket and the KMS key, and drops only the state document", async () => {
    const aws = await withRole();
    const { init } = await readNamespaceState(aws.deps);
    // CloudFormation cannot delete a non-empty bucket: the init stack fails to delete it, and says so.
    const err = await destroyNamespace(aws.deps, { retainBucket: true }).catch((e) => e);
    expect(err.code).toBe("stack-failed");
    expect(err.message).toContain("not empty");
    expect(aws.buckets.get(init!.bucketName)?.has("test/state.json")).toBe(false);
    expect(aws.retiredKeys.size).toBe(0);
  });

  it("refuses while Kubernetes clusters are registered, unless they are to be forgotten", () => {
    const state = {
      k8s: { clusters: { c1: {} }, workloads: {}, issuers: {} },
      hosts: {},
      roles: {},
      cas: {},
    } as unknown as Parameters<typeof planDestroy>[0];
    expect(() => planDestroy(state, "test")).toThrow(/still has Kubernetes cluster\(s\) c1/);
    expect(planDestroy(state, "test", { forgetClusters: true }).forgotten.clusters).toEqual(["c1"]);
  });
});
