import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import jsonpatch from "fast-json-patch";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Pod } from "kubernetes-models/v1/Pod";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { describe, expect, it } from "vitest";
import {
  type AdmissionContext,
  type AdmissionRequest,
  buildCsiVolumeAttributes,
  buildWebhookConfig,
  buildWebhookInstallManifests,
  buildWorkloadManifests,
  certificateSubjectFor,
  parseAdmissionReview,
  parseK8sYaml,
  parseWebhookConfig,
  renderK8sYaml,
  reviewPodAdmission,
  toK8sObject,
  type WebhookConfig,
} from "../src/k8s/index.ts";
import type { State } from "../src/state/schema.ts";

// biome-ignore lint/suspicious/noExplicitAny: pods are walked as plain JSON
type Obj = Record<string, any>;

const ARNS = {
  trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0b4f6b0c",
  profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/7c1e2a3b",
  roleArn: "arn:aws:iam::123456789012:role/iam-ra-prod-billing-reader",
  region: "eu-west-1",
};

const CONFIG: WebhookConfig = {
  version: 1,
  cluster: "prod-eu",
  namespaces: {
    billing: {
      issuer: "iam-ra-prod-default",
      roles: {
        "billing-reader": {
          ...ARNS,
          commonName: null,
          subject: { organizationalUnits: ["billing-reader"] },
          duration: "24h",
          renewBefore: "8h",
          certificate: { mode: "csi" },
        },
        "billing-writer": {
          ...ARNS,
          roleArn: "arn:aws:iam::123456789012:role/iam-ra-prod-billing-writer",
          commonName: "billing-writer",
          subject: {},
          duration: "12h",
          renewBefore: "4h",
          certificate: { mode: "secret", secretName: "writer-iam-ra-tls" },
        },
      },
    },
  },
};

const context = (overrides: Partial<AdmissionContext> = {}): AdmissionContext => ({
  config: CONFIG,
  sidecarImage: "ghcr.io/iam-ra/sidecar:1.0.0",
  dryRun: false,
  webhookNamespace: "iam-ra-system",
  ...overrides,
});

function pod(overrides: Obj = {}): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "api-7f9c-",
      namespace: "billing",
      annotations: { "iam-ra.dev/role": "billing-reader" },
      labels: { app: "api" },
    },
    spec: { containers: [{ name: "api", image: "registry.example.com/api:1" }] },
    ...overrides,
  };
}

let uid = 0;
function request(object: Obj, namespace = "billing", extra: Obj = {}): AdmissionRequest {
  return {
    uid: `uid-${++uid}`,
    kind: { group: "", version: "v1", kind: "Pod" },
    namespace,
    operation: "CREATE",
    object,
    ...extra,
  } as AdmissionRequest;
}

/** Applies the response's patch (RFC 6902, by fast-json-patch) and validates the pod. */
function patched(original: Obj, response: Obj): Obj {
  expect(response.patchType).toBe("JSONPatch");
  const ops = JSON.parse(Buffer.from(response.patch, "base64").toString("utf8"));
  const result = jsonpatch.applyPatch(structuredClone(original), ops, true, false).newDocument as Obj;
  new Pod(result as never).validate();
  return result;
}

const envOf = (c: Obj) => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value]));

describe("reviewPodAdmission", () => {
  it("injects the native sidecar, a csi certificate bound to the role, the token volume and the env", async () => {
    const original = pod();
    const decision = await reviewPodAdmission(request(original), context());
    expect(decision).toMatchObject({ result: "injected", role: "billing-reader", namespace: "billing" });
    expect(decision.review.response).toMatchObject({ uid: `uid-${uid}`, allowed: true });
    const out = patched(original, decision.review.response);
    expect(out.metadata.annotations).toEqual({
      "iam-ra.dev/role": "billing-reader",
      "iam-ra.dev/injected": "billing-reader",
    });
    const [sidecar] = out.spec.initContainers;
    expect(sidecar).toMatchObject({
      name: "iam-ra",
      restartPolicy: "Always",
      image: "ghcr.io/iam-ra/sidecar:1.0.0",
    });
    expect(envOf(sidecar)).toMatchObject({
      IAM_RA_ROLE_ARN: ARNS.roleArn,
      IAM_RA_PROFILE_ARN: ARNS.profileArn,
      IAM_RA_TRUST_ANCHOR_ARN: ARNS.trustAnchorArn,
      IAM_RA_REGION: "eu-west-1",
      IAM_RA_TOKEN_FILE: "/var/run/iam-ra/token/token",
    });
    expect(out.spec.volumes).toEqual([
      {
        name: "iam-ra-certificate",
        csi: {
          driver: "csi.cert-manager.io",
          readOnly: true,
          volumeAttributes: buildCsiVolumeAttributes({
            issuerName: "iam-ra-prod-default",
            commonName: "default",
            subject: { organizationalUnits: ["billing-reader"] },
            duration: "24h",
            renewBefore: "8h",
            fsGroup: 1000,
          }),
        },
      },
      { name: "iam-ra-token", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    ]);
    const attributes = out.spec.volumes[0].csi.volumeAttributes;
    expect(attributes).toMatchObject({
      "csi.cert-manager.io/issuer-name": "iam-ra-prod-default",
      "csi.cert-manager.io/issuer-kind": "Issuer",
      "csi.cert-manager.io/common-name": "default",
      "csi.cert-manager.io/organizationalunits": "billing-reader",
      "csi.cert-manager.io/duration": "24h",
      "csi.cert-manager.io/renew-before": "8h",
      "csi.cert-manager.io/key-algorithm": "ECDSA",
      "csi.cert-manager.io/key-size": "256",
      "csi.cert-manager.io/key-encoding": "PKCS8",
      "csi.cert-manager.io/key-usages": "digital signature,client auth",
      "csi.cert-manager.io/fs-group": "1000",
    });
    expect(out.spec.securityContext).toEqual({ fsGroup: 1000 });
    expect(envOf(out.spec.containers[0])).toEqual({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9911/v1/credentials",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/iam-ra/token/token",
      AWS_REGION: "eu-west-1",
    });
    expect(out.spec.containers[0].volumeMounts).toEqual([
      { name: "iam-ra-token", mountPath: "/var/run/iam-ra/token", readOnly: true },
    ]);
    // Injecting the patched pod again changes nothing.
    const again = await reviewPodAdmission(request(out), context());
    expect(again).toMatchObject({ result: "skipped", reason: "already injected" });
    expect(again.review.response).toEqual({ uid: `uid-${uid}`, allowed: true });
  });

  it("secret mode mounts the role's Certificate Secret; a CN-bound role's common name is the binding", async () => {
    const original = pod({
      metadata: { namespace: "billing", annotations: { "iam-ra.dev/role": "billing-writer" } },
    });
    const out = patched(original, (await reviewPodAdmission(request(original), context())).review.response);
    expect(out.spec.volumes[0]).toEqual({
      name: "iam-ra-certificate",
      secret: { secretName: "writer-iam-ra-tls", defaultMode: 0o440 },
    });
    expect(envOf(out.spec.initContainers[0]).IAM_RA_ROLE_ARN).toMatch(/billing-writer$/);
  });

  it("several containers and init containers: the sidecar first, every other container gets env and mount", async () => {
    const original = pod({
      spec: {
        serviceAccountName: "api",
        securityContext: { runAsNonRoot: true, fsGroup: 2000 },
        initContainers: [
          { name: "migrate", image: "m:1", env: [{ name: "X", value: "1" }] },
          { name: "proxy", image: "p:1", restartPolicy: "Always" },
        ],
        containers: [
          { name: "api", image: "a:1" },
          { name: "worker", image: "w:1", volumeMounts: [{ name: "data", mountPath: "/data" }] },
        ],
        volumes: [{ name: "data", emptyDir: {} }],
      },
    });
    const out = patched(original, (await reviewPodAdmission(request(original), context())).review.response);
    expect(out.spec.initContainers.map((c: Obj) => c.name)).toEqual(["iam-ra", "migrate", "proxy"]);
    for (const c of [...out.spec.containers, ...out.spec.initContainers.slice(1)]) {
      expect(envOf(c).AWS_CONTAINER_CREDENTIALS_FULL_URI, c.name).toBe(
        "http://127.0.0.1:9911/v1/credentials",
      );
      expect(c.volumeMounts.at(-1), c.name).toEqual({
        name: "iam-ra-token",
        mountPath: "/var/run/iam-ra/token",
        readOnly: true,
      });
    }
    expect(envOf(out.spec.initContainers[1]).X).toBe("1");
    expect(out.spec.containers[1].volumeMounts[0]).toEqual({ name: "data", mountPath: "/data" });
    expect(out.spec.volumes.map((v: Obj) => v.name)).toEqual(["data", "iam-ra-certificate", "iam-ra-token"]);
    // The pod's own fsGroup is kept and given to csi-driver; the common name is the service account.
    expect(out.spec.securityContext).toEqual({ runAsNonRoot: true, fsGroup: 2000 });
    expect(out.spec.volumes[1].csi.volumeAttributes).toMatchObject({
      "csi.cert-manager.io/fs-group": "2000",
      "csi.cert-manager.io/common-name": "api",
    });
  });

  it("colliding names: the pod's own env is kept (and said so), taken volume names get a suffix", async () => {
    const original = pod({
      metadata: {
        namespace: "billing",
        annotations: { "iam-ra.dev/role": "billing-reader", "team/owner": "billing" },
      },
      spec: {
        containers: [
          {
            name: "api",
            image: "a:1",
            env: [
              { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: "http://127.0.0.1:1234/creds" },
              { name: "AWS_REGION", value: "us-east-2" },
            ],
          },
          { name: "side", image: "s:1" },
        ],
        volumes: [
          { name: "iam-ra-token", emptyDir: {} },
          { name: "iam-ra-token-2", emptyDir: {} },
          { name: "iam-ra-certificate", emptyDir: {} },
        ],
      },
    });
    const decision = await reviewPodAdmission(request(original), context());
    expect(decision.reason).toMatch(/kept the pod's own api\/AWS_CONTAINER_CREDENTIALS_FULL_URI/);
    const out = patched(original, decision.review.response);
    expect(out.metadata.annotations).toEqual({
      "iam-ra.dev/role": "billing-reader",
      "team/owner": "billing",
      "iam-ra.dev/injected": "billing-reader",
      "iam-ra.dev/env-kept": "api/AWS_CONTAINER_CREDENTIALS_FULL_URI",
    });
    expect(envOf(out.spec.containers[0])).toEqual({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:1234/creds",
      AWS_REGION: "us-east-2",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/iam-ra/token/token",
    });
    expect(envOf(out.spec.containers[1]).AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe(
      "http://127.0.0.1:9911/v1/credentials",
    );
    expect(out.spec.volumes.map((v: Obj) => v.name)).toEqual([
      "iam-ra-token",
      "iam-ra-token-2",
      "iam-ra-certificate",
      "iam-ra-certificate-2",
      "iam-ra-token-3",
    ]);
    const sidecar = out.spec.initContainers[0];
    expect(sidecar.volumeMounts.map((m: Obj) => m.name)).toEqual(["iam-ra-certificate-2", "iam-ra-token-3"]);
    expect(out.spec.containers[1].volumeMounts).toEqual([
      { name: "iam-ra-token-3", mountPath: "/var/run/iam-ra/token", readOnly: true },
    ]);
  });

  it("refuses a role not onboarded in the namespace, naming the ones it may use", async () => {
    const decision = await reviewPodAdmission(
      request(
        pod({ metadata: { namespace: "billing", annotations: { "iam-ra.dev/role": "payments-admin" } } }),
      ),
      context(),
    );
    expect(decision.result).toBe("denied");
    expect(decision.review.response).toMatchObject({
      allowed: false,
      status: {
        code: 403,
        message: expect.stringMatching(
          /"payments-admin".*not onboarded in namespace billing; it may use: billing-reader, billing-writer/,
        ),
      },
    });
    const elsewhere = await reviewPodAdmission(
      request(pod({ metadata: { annotations: { "iam-ra.dev/role": "billing-reader" } } }), "payments"),
      context(),
    );
    expect(elsewhere.review.response.status?.message).toMatch(
      /not onboarded in namespace payments; it may use no role/,
    );
  });

  it("leaves alone: unannotated pods, system namespaces, opted-out pods, pods that already run the sidecar, other kinds", async () => {
    const bare = pod({ metadata: { namespace: "billing" } });
    expect(await reviewPodAdmission(request(bare), context())).toMatchObject({
      result: "skipped",
      reason: "no iam-ra.dev/role annotation",
      review: { response: { allowed: true } },
    });
    for (const ns of ["kube-system", "iam-ra-system"]) {
      expect((await reviewPodAdmission(request(pod(), ns), context())).reason).toBe(`system namespace ${ns}`);
    }
    const optedOut = pod();
    optedOut.metadata.labels = { "iam-ra.dev/inject": "disabled" };
    expect((await reviewPodAdmission(request(optedOut), context())).reason).toBe("the pod opts out");
    const manual = pod({
      spec: { initContainers: [{ name: "iam-ra", image: "x" }], containers: [{ name: "a" }] },
    });
    expect((await reviewPodAdmission(request(manual), context())).reason).toMatch(/already runs/);
    const update = await reviewPodAdmission(request(pod(), "billing", { operation: "UPDATE" }), context());
    expect(update).toMatchObject({ result: "skipped", review: { response: { allowed: true } } });
    expect(update.review.response.patch).toBeUndefined();
  });

  it("reads the role from the service account when the pod names none; pod annotations win", async () => {
    const seen: string[] = [];
    const readServiceAccount = async (namespace: string, name: string) => {
      seen.push(`${namespace}/${name}`);
      return name === "api" ? { "iam-ra.dev/role": "billing-writer" } : undefined;
    };
    const fromSa = pod({
      metadata: { namespace: "billing" },
      spec: { serviceAccountName: "api", containers: [{ name: "a", image: "a" }] },
    });
    const decision = await reviewPodAdmission(request(fromSa), context({ readServiceAccount }));
    expect(decision).toMatchObject({ result: "injected", role: "billing-writer" });
    expect(decision.reason).toMatch(/from the service account api/);
    expect(patched(fromSa, decision.review.response).metadata.annotations).toEqual({
      "iam-ra.dev/injected": "billing-writer",
    });
    // No service account annotation: allowed as is. Unconfigured namespaces are never looked up.
    const plain = pod({ metadata: { namespace: "billing" } });
    expect((await reviewPodAdmission(request(plain), context({ readServiceAccount }))).result).toBe(
      "skipped",
    );
    await reviewPodAdmission(request(plain, "elsewhere"), context({ readServiceAccount }));
    expect(seen).toEqual(["billing/api", "billing/default"]);
    // The pod's annotation wins and no lookup happens.
    await reviewPodAdmission(request(pod()), context({ readServiceAccount }));
    expect(seen).toHaveLength(2);
    // The API server failing: refused (retried by the controller) rather than started without credentials.
    const failing = await reviewPodAdmission(
      request(plain),
      context({
        readServiceAccount: async () => {
          throw new Error("connect ECONNREFUSED");
        },
      }),
    );
    expect(failing).toMatchObject({
      result: "error",
      review: { response: { allowed: false, status: { code: 500 } } },
    });
    expect(failing.reason).toMatch(/Could not read service account billing\/default.*ECONNREFUSED/);
  });

  it("dry run: allowed unchanged, with a warning and an audit annotation saying what would change", async () => {
    const decision = await reviewPodAdmission(request(pod()), context({ dryRun: true }));
    expect(decision.result).toBe("would-inject");
    expect(decision.patch?.length).toBeGreaterThan(3);
    expect(decision.review.response).toEqual({
      uid: `uid-${uid}`,
      allowed: true,
      warnings: [expect.stringMatching(/dry run.*would inject the iam-ra sidecar for role billing-reader/)],
      auditAnnotations: { "would-inject": "billing-reader" },
    });
  });

  it("refuses hostNetwork pods, a container named like the sidecar, a taken token mount path; no config loaded", async () => {
    const cases: Array<[Obj, RegExp]> = [
      [{ hostNetwork: true, containers: [{ name: "a", image: "a" }] }, /hostNetwork/],
      [{ containers: [{ name: "iam-ra", image: "a" }] }, /container named iam-ra/],
      [
        {
          containers: [
            { name: "a", image: "a", volumeMounts: [{ name: "x", mountPath: "/var/run/iam-ra/token" }] },
          ],
        },
        /already mounts \/var\/run\/iam-ra\/token/,
      ],
    ];
    for (const [spec, message] of cases) {
      const d = await reviewPodAdmission(request(pod({ spec })), context());
      expect(d.result).toBe("denied");
      expect(d.review.response.status?.message).toMatch(message);
    }
    const unloaded = await reviewPodAdmission(request(pod()), context({ config: undefined }));
    expect(unloaded.review.response).toMatchObject({ allowed: false, status: { code: 503 } });
  });
});

describe("parseAdmissionReview", () => {
  it("accepts a v1 review and says what is wrong with others", () => {
    const ok = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: request(pod()) };
    expect(parseAdmissionReview(ok)).toMatchObject({ ok: true, request: { uid: expect.any(String) } });
    const bad: Array<[unknown, RegExp]> = [
      [null, /not an AdmissionReview/],
      [{ ...ok, apiVersion: "admission.k8s.io/v1beta1" }, /apiVersion/],
      [{ ...ok, request: undefined }, /request/],
      [{ ...ok, request: { ...ok.request, uid: "" } }, /request\.uid/],
      [{ ...ok, request: { ...ok.request, kind: "Pod" } }, /request\.kind/],
    ];
    for (const [body, message] of bad) {
      const r = parseAdmissionReview(body);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(message);
    }
  });

  it("a pod without containers is refused, not crashed on", async () => {
    const d = await reviewPodAdmission(request({ metadata: {}, spec: {} }), context());
    expect(d.review.response).toMatchObject({ allowed: false, status: { code: 400 } });
  });
});

describe("the namespace-roles document", () => {
  it("round-trips through parseWebhookConfig; bad documents name the problem", () => {
    expect(parseWebhookConfig(JSON.stringify(CONFIG))).toEqual({ ok: true, config: CONFIG });
    const broken = structuredClone(CONFIG) as Obj;
    broken.namespaces.billing.roles["billing-reader"].roleArn = "nope";
    expect(parseWebhookConfig(JSON.stringify(broken))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^namespaces\.billing\.roles\.billing-reader\.roleArn: /),
    });
    const timing = structuredClone(CONFIG) as Obj;
    timing.namespaces.billing.roles["billing-reader"].duration = "10m";
    expect(parseWebhookConfig(JSON.stringify(timing))).toMatchObject({
      ok: false,
      message: /between 1h and 2160h/,
    });
    expect(parseWebhookConfig("{")).toMatchObject({ ok: false, message: /not JSON/ });
    expect(parseWebhookConfig(JSON.stringify({ ...CONFIG, version: 2 }))).toMatchObject({ ok: false });
  });

  it("is built from state: active workloads of the cluster give their namespace their role", () => {
    const now = "2026-12-01T00:00:00.000Z";
    const certificate = {
      serialNumber: "01",
      subject: "CN=x",
      notBefore: now,
      notAfter: now,
      fingerprint: "f",
    };
    const issuer = (ns: string, status?: "retiring") => ({
      cluster: "prod-eu",
      namespace: ns,
      scope: "default",
      issuerName: "iam-ra-prod-default",
      secretName: "iam-ra-prod-default-ca",
      commonName: `iam-ra prod/default k8s prod-eu/${ns}`,
      certificate,
      certificateKey: "k",
      privateKeyKey: "k",
      previousSerials: [],
      ...(status ? { status } : {}),
      createdAt: now,
      updatedAt: now,
    });
    const workload = (name: string, ns: string, role: string, extra: Obj = {}) => ({
      name,
      cluster: "prod-eu",
      namespace: ns,
      role,
      scope: "default",
      issuer: `prod-eu/${ns}/default`,
      manifest: {
        duration: "12h",
        renewBefore: "4h",
        mode: "patch",
        deployment: name,
        container: name,
        appImage: null,
        fsGroup: 1000,
      },
      createdAt: now,
      updatedAt: now,
      ...extra,
    });
    const role = (name: string, tag: string) => ({
      stackName: `s-${name}`,
      roleArn: `arn:aws:iam::123456789012:role/iam-ra-prod-${name}`,
      profileArn: `arn:aws:rolesanywhere:eu-west-1:123456789012:profile/${name}`,
      scope: "default",
      policies: [],
      sessionDurationSeconds: 3600,
      binding: { tag, value: name },
      createdAt: now,
      updatedAt: now,
    });
    const state = {
      region: "eu-west-1",
      cas: { default: { trustAnchorArn: ARNS.trustAnchorArn } },
      roles: {
        reader: role("reader", "x509Subject/OU"),
        writer: role("writer", "x509Subject/CN"),
        old: role("old", "x509Subject/OU"),
      },
      k8s: {
        clusters: {},
        issuers: {
          "prod-eu/billing/default": issuer("billing"),
          "prod-eu/gone/default": issuer("gone", "retiring"),
        },
        workloads: {
          a: workload("b-api", "billing", "reader"),
          b: workload("a-writer", "billing", "writer"),
          c: workload("c-old", "billing", "old", { status: "offboarding" }),
          d: workload("x", "gone", "reader"),
          e: workload("y", "billing", "reader", { cluster: "other" }),
        },
      },
    } as unknown as State;
    const csi = buildWebhookConfig(state, { cluster: "prod-eu", iamRaNamespace: "prod" });
    expect(csi).toEqual({
      version: 1,
      cluster: "prod-eu",
      namespaces: {
        billing: {
          issuer: "iam-ra-prod-default",
          roles: {
            reader: {
              trustAnchorArn: ARNS.trustAnchorArn,
              profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/reader",
              roleArn: "arn:aws:iam::123456789012:role/iam-ra-prod-reader",
              region: "eu-west-1",
              commonName: null,
              subject: { organizationalUnits: ["reader"] },
              duration: "12h",
              renewBefore: "4h",
              certificate: { mode: "csi" },
            },
            writer: expect.objectContaining({ commonName: "writer", subject: {} }),
          },
        },
      },
    });
    expect(parseWebhookConfig(JSON.stringify(csi)).ok).toBe(true);
    const secret = buildWebhookConfig(state, {
      cluster: "prod-eu",
      iamRaNamespace: "prod",
      certificateMode: "secret",
    });
    expect(secret.namespaces.billing?.roles.reader?.certificate).toEqual({
      mode: "secret",
      secretName: "b-api-iam-ra-tls",
    });
  });
});

describe("csi mode of the printed manifests", () => {
  it("has no Certificate; the Deployment mounts a csi-driver volume asking for the role's subject", () => {
    const manifests = buildWorkloadManifests({
      workload: "billing-api",
      namespace: "billing",
      iamRaNamespace: "prod",
      scope: "default",
      issuer: { certificatePem: "c", rootCertificatePem: "r", privateKeyPem: "k" },
      certificate: {
        ...certificateSubjectFor({ tag: "x509Subject/OU", value: "billing-reader" }, "billing-api"),
        duration: "24h",
        renewBefore: "8h",
      },
      arns: ARNS,
      sidecarImage: "ghcr.io/iam-ra/sidecar:1.0.0",
      deployment: { mode: "deployment", name: "billing-api", container: "api", appImage: "a:1" },
      fsGroup: 3000,
      certificateMode: "csi",
    });
    expect(manifests.map((m) => m.part)).toEqual(["ca-secret", "issuer", "config-map", "deployment"]);
    const [deployment] = parseK8sYaml(renderK8sYaml([manifests[3]!.object])) as Obj[];
    new Deployment(deployment as never).validate();
    expect(deployment!.spec.template.spec.volumes[0]).toEqual({
      name: "iam-ra-certificate",
      csi: {
        driver: "csi.cert-manager.io",
        readOnly: true,
        volumeAttributes: expect.objectContaining({
          "csi.cert-manager.io/issuer-name": "iam-ra-prod-default",
          "csi.cert-manager.io/common-name": "billing-api",
          "csi.cert-manager.io/organizationalunits": "billing-reader",
          "csi.cert-manager.io/fs-group": "3000",
        }),
      },
    });
  });

  it("refuses subject values csi-driver would split", () => {
    expect(() =>
      buildCsiVolumeAttributes({
        issuerName: "i",
        commonName: "c",
        subject: { organizationalUnits: ["a,b"] },
        duration: "24h",
        renewBefore: "8h",
        fsGroup: 1,
      }),
    ).toThrow(/comma/);
  });
});

describe("buildWebhookInstallManifests", () => {
  const MODELS: Record<string, new (data: never) => { validate(): void }> = {
    Namespace,
    ServiceAccount,
    ClusterRole,
    ClusterRoleBinding,
    ConfigMap,
    Issuer,
    Certificate,
    Deployment,
    PodDisruptionBudget,
    Service,
    NetworkPolicy,
    MutatingWebhookConfiguration,
  };

  it("every object validates against its schema after a YAML round trip", () => {
    const manifests = buildWebhookInstallManifests({ image: "ghcr.io/iam-ra/sidecar:1.0.0", config: CONFIG });
    const objects = parseK8sYaml(renderK8sYaml(manifests.map((m) => m.object))) as Obj[];
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/iam-ra-system",
      "ServiceAccount/iam-ra-webhook",
      "ClusterRole/iam-ra-webhook",
      "ClusterRoleBinding/iam-ra-webhook",
      "ConfigMap/iam-ra-webhook-namespace-roles",
      "Issuer/iam-ra-webhook-selfsigned",
      "Certificate/iam-ra-webhook-ca",
      "Issuer/iam-ra-webhook-ca",
      "Certificate/iam-ra-webhook-tls",
      "Deployment/iam-ra-webhook",
      "PodDisruptionBudget/iam-ra-webhook",
      "Service/iam-ra-webhook",
      "NetworkPolicy/iam-ra-webhook",
      "MutatingWebhookConfiguration/iam-ra-webhook",
    ]);
    for (const o of objects) new MODELS[o.kind]!(o as never).validate();
    const byKind = (kind: string) => objects.find((o) => o.kind === kind)!;
    expect(parseWebhookConfig(byKind("ConfigMap").data["config.json"])).toEqual({ ok: true, config: CONFIG });
    const deployment = byKind("Deployment");
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.command).toEqual(["node", "/app/webhook.js"]);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    const webhook = byKind("MutatingWebhookConfiguration");
    expect(webhook.metadata.annotations).toEqual({
      "cert-manager.io/inject-ca-from": "iam-ra-system/iam-ra-webhook-tls",
    });
    expect(webhook.webhooks[0]).toMatchObject({
      failurePolicy: "Fail",
      timeoutSeconds: 5,
      sideEffects: "None",
      clientConfig: { service: { name: "iam-ra-webhook", namespace: "iam-ra-system", path: "/mutate" } },
      namespaceSelector: {
        matchLabels: { "iam-ra.dev/inject": "enabled" },
        matchExpressions: [
          {
            key: "kubernetes.io/metadata.name",
            operator: "NotIn",
            values: ["kube-system", "kube-public", "kube-node-lease", "iam-ra-system"],
          },
        ],
      },
    });
    const serving = objects.filter((o) => o.kind === "Certificate")[1]!;
    expect(serving.spec.dnsNames).toEqual([
      "iam-ra-webhook.iam-ra-system.svc",
      "iam-ra-webhook.iam-ra-system.svc.cluster.local",
    ]);
    expect(byKind("PodDisruptionBudget").spec.minAvailable).toBe(1);
  });

  it("options: namespace, failure policy, timeout (bounded), dry run", () => {
    const objects = buildWebhookInstallManifests({
      image: "i:1",
      config: CONFIG,
      namespace: "platform",
      failurePolicy: "Ignore",
      timeoutSeconds: 10,
      dryRun: true,
    }).map((m) => toK8sObject(m.object as never)) as Obj[];
    const webhook = objects.at(-1)!;
    expect(webhook.webhooks[0]).toMatchObject({ failurePolicy: "Ignore", timeoutSeconds: 10 });
    const env = objects.find((o) => o.kind === "Deployment")!.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "IAM_RA_WEBHOOK_DRY_RUN", value: "true" });
    expect(() => buildWebhookInstallManifests({ image: "i", config: CONFIG, timeoutSeconds: 31 })).toThrow(
      /1–30 seconds/,
    );
    expect(() => buildWebhookInstallManifests({ image: "i", config: CONFIG, namespace: "Bad_NS" })).toThrow(
      /namespace/,
    );
  });
});
