import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { issuerCommonName } from "../src/admin/k8s-issuers.ts";
import { resolveDeployment } from "../src/admin/k8s-workload.ts";
import {
  buildWorkloadManifests,
  certificateSubjectFor,
  formatK8sDuration,
  type K8sDeploymentMode,
  type K8sObject,
  manifestFileName,
  parseK8sDuration,
  renderK8sYaml,
  SIDECAR_CONTAINER_NAME,
  toK8sObject,
  validateCertificateTiming,
  type WorkloadManifestsInput,
} from "../src/k8s/index.ts";
import { mergeDeploymentPatch } from "../src/testing/index.ts";
import { isValidTagValue } from "../src/x509/index.ts";

// The builders never parse PEM: stand-ins keep the snapshot stable.
const PEM = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const ISSUER = {
  certificatePem: PEM("CERTIFICATE", "SU5URVJNRURJQVRF"),
  rootCertificatePem: PEM("CERTIFICATE", "Uk9PVA=="),
  privateKeyPem: PEM("PRIVATE KEY", "S0VZ"),
};
const ARNS = {
  trustAnchorArn:
    "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0b4f6b0c-1111-2222-3333-444455556666",
  profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/7c1e2a3b-1111-2222-3333-444455556666",
  roleArn: "arn:aws:iam::123456789012:role/iam-ra-prod-billing-reader",
  region: "eu-west-1",
};

function input(overrides: Partial<WorkloadManifestsInput> = {}): WorkloadManifestsInput {
  return {
    workload: "billing-api",
    namespace: "billing",
    iamRaNamespace: "prod",
    scope: "default",
    issuer: ISSUER,
    certificate: {
      ...certificateSubjectFor({ tag: "x509Subject/OU", value: "billing-reader" }, "billing-api"),
      duration: "24h",
      renewBefore: "8h",
    },
    arns: ARNS,
    sidecarImage: "ghcr.io/iam-ra/sidecar:1.0.0",
    deployment: {
      mode: "deployment",
      name: "billing-api",
      container: "billing-api",
      appImage: "registry.example.com/billing/api:4.2.0",
    },
    ...overrides,
  };
}

/** A user's Deployment that a patch is applied to. */
const existing = (name: string, container: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "billing" },
  spec: {
    selector: { matchLabels: { app: "legacy" } },
    template: {
      metadata: { labels: { app: "legacy" } },
      spec: {
        containers: [
          {
            name: container,
            image: "registry.example.com/legacy:1",
            env: [{ name: "LOG_LEVEL", value: "info" }],
          },
        ],
        volumes: [{ name: "data", emptyDir: {} }],
      },
    },
  },
});

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Secret: Secret as never,
  Issuer: Issuer as never,
  Certificate: Certificate as never,
  ConfigMap: ConfigMap as never,
  Deployment: Deployment as never,
};

/** Validates a plain object (as emitted) against the Kubernetes / cert-manager schema of its kind. */
function validateObject(o: K8sObject): void {
  const Model = MODELS[o.kind];
  if (!Model) throw new Error(`unexpected kind ${o.kind}`);
  const { apiVersion: _a, kind: _k, ...data } = o;
  new Model(data as never).validate();
  expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  expect(o.metadata.name.length).toBeLessThanOrEqual(253);
}

const BINDINGS = ["OU", "CN", "O", "C", "L", "ST"].map((attr) => ({
  tag: `x509Subject/${attr}`,
  value: attr === "C" ? "IE" : "billing-reader",
}));
const TIMINGS = [
  ["24h", "8h"],
  ["1h", "5m"],
  ["2160h", "720h"],
  ["90m", "30m"],
  ["1.5h", "1800s"],
] as const;
const DEPLOYMENTS: K8sDeploymentMode[] = [
  { mode: "deployment", name: "billing-api", container: "billing-api", appImage: "nginx:1.27" },
  {
    mode: "deployment",
    name: "billing.v2",
    container: "app",
    appImage: "registry.example.com:5000/a/b@sha256:abc",
  },
  { mode: "patch", name: "billing-api", container: "billing-api" },
  { mode: "patch", name: "legacy-app", container: "main" },
];
const COMBINATIONS = BINDINGS.flatMap((binding) =>
  TIMINGS.flatMap(([duration, renewBefore]) =>
    DEPLOYMENTS.flatMap((deployment) =>
      [1000, 65532].map((fsGroup) => ({ binding, duration, renewBefore, deployment, fsGroup })),
    ),
  ),
);

describe("workload manifests", () => {
  it("webhook mode: only the namespace issuer, and the Certificate unless csi-driver makes each pod's", () => {
    const parts = (certificateMode: "csi" | "secret") =>
      buildWorkloadManifests(input({ deployment: { mode: "webhook" }, certificateMode })).map((m) => m.part);
    expect(parts("csi")).toEqual(["ca-secret", "issuer"]);
    expect(parts("secret")).toEqual(["ca-secret", "issuer", "certificate"]);
  });

  it.each(COMBINATIONS)(
    "validate against the Kubernetes and cert-manager schemas: $binding.tag $duration/$renewBefore $deployment.mode $deployment.name fsGroup $fsGroup",
    ({ binding, duration, renewBefore, deployment, fsGroup }) => {
      const timing = validateCertificateTiming({ duration, renewBefore });
      const manifests = buildWorkloadManifests(
        input({
          certificate: { ...certificateSubjectFor(binding, "billing-api"), ...timing },
          deployment,
          fsGroup,
        }),
      );
      expect(manifests.map((m) => m.part)).toEqual([
        "ca-secret",
        "issuer",
        "certificate",
        "config-map",
        deployment.mode === "patch" ? "deployment-patch" : "deployment",
      ]);
      // What is emitted (the rendered YAML, read back) is what must validate.
      const docs = parseAllDocuments(renderK8sYaml(manifests.map((m) => m.object)));
      const objects = docs.map((d) => d.toJS() as K8sObject);
      expect(objects).toEqual(manifests.map((m) => toK8sObject(m.object)));
      for (const o of objects.slice(0, 4)) validateObject(o);
      const last = objects[4]!;
      const applied =
        deployment.mode === "patch"
          ? mergeDeploymentPatch(existing(deployment.name, deployment.container), last)
          : last;
      validateObject(applied as K8sObject);
      // biome-ignore lint/suspicious/noExplicitAny: walking a parsed manifest
      const spec = (applied as { spec: { template: { spec: Record<string, any> } } }).spec.template.spec;
      // The sidecar: native, configured from the ConfigMap, certificate as a directory.
      const sidecar = spec.initContainers.find((c: { name: string }) => c.name === SIDECAR_CONTAINER_NAME);
      expect(sidecar.restartPolicy).toBe("Always");
      expect(JSON.stringify(spec)).not.toContain("subPath");
      expect(spec.securityContext.fsGroup).toBe(fsGroup);
      const app = spec.containers.find(
        (c: { name: string }) => c.name === (deployment as { container: string }).container,
      );
      expect(app.env).toEqual(
        expect.arrayContaining([
          { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: "http://127.0.0.1:9911/v1/credentials" },
          { name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", value: "/var/run/iam-ra/token/token" },
        ]),
      );
      if (deployment.mode === "patch") {
        // The rest of the Deployment is kept.
        expect(app.image).toBe("registry.example.com/legacy:1");
        expect(app.env[0]).toEqual({ name: "LOG_LEVEL", value: "info" });
        expect(spec.volumes.map((v: { name: string }) => v.name)).toEqual([
          "data",
          "iam-ra-certificate",
          "iam-ra-token",
        ]);
      }
      // The Certificate carries the binding the role's trust policy checks.
      // biome-ignore lint/suspicious/noExplicitAny: walking a parsed manifest
      const certificate = objects[2]! as unknown as { spec: Record<string, any> };
      const attr = binding.tag.slice("x509Subject/".length);
      if (attr === "CN") expect(certificate.spec.commonName).toBe(binding.value);
      else expect(Object.values(certificate.spec.subject)).toEqual([[binding.value]]);
      expect(certificate.spec).toMatchObject({
        duration: timing.duration,
        renewBefore: timing.renewBefore,
        usages: ["digital signature", "client auth"],
        privateKey: { algorithm: "ECDSA", size: 256 },
      });
    },
  );

  it("render one full set (snapshot)", () => {
    const manifests = buildWorkloadManifests(input());
    expect(manifests.map((m, i) => [manifestFileName(i, m), m.sensitive])).toEqual([
      ["01-ca-secret-iam-ra-prod-default-ca.yaml", true],
      ["02-issuer-iam-ra-prod-default.yaml", false],
      ["03-certificate-billing-api-iam-ra.yaml", false],
      ["04-config-map-billing-api-iam-ra.yaml", false],
      ["05-deployment-billing-api.yaml", false],
    ]);
    expect(renderK8sYaml(manifests.map((m) => m.object))).toMatchInlineSnapshot(`
      "---
      apiVersion: v1
      kind: Secret
      metadata:
        name: iam-ra-prod-default-ca
        namespace: billing
        labels:
          app.kubernetes.io/managed-by: iam-ra
          app.kubernetes.io/component: issuer
      type: kubernetes.io/tls
      data:
        tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClNVNVVSVkpOUlVSSlFWUkYKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQotLS0tLUJFR0lOIENFUlRJRklDQVRFLS0tLS0KVWs5UFZBPT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
        tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tClMwVloKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=
        ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClVrOVBWQT09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
      ---
      apiVersion: cert-manager.io/v1
      kind: Issuer
      metadata:
        name: iam-ra-prod-default
        namespace: billing
        labels:
          app.kubernetes.io/managed-by: iam-ra
          app.kubernetes.io/component: issuer
      spec:
        ca:
          secretName: iam-ra-prod-default-ca
      ---
      apiVersion: cert-manager.io/v1
      kind: Certificate
      metadata:
        name: billing-api-iam-ra
        namespace: billing
        labels:
          app.kubernetes.io/managed-by: iam-ra
          app.kubernetes.io/name: billing-api
      spec:
        secretName: billing-api-iam-ra-tls
        secretTemplate:
          labels:
            app.kubernetes.io/managed-by: iam-ra
            app.kubernetes.io/name: billing-api
        commonName: billing-api
        subject:
          organizationalUnits:
            - billing-reader
        duration: 24h
        renewBefore: 8h
        privateKey:
          algorithm: ECDSA
          size: 256
          encoding: PKCS8
          rotationPolicy: Always
        usages:
          - digital signature
          - client auth
        isCA: false
        revisionHistoryLimit: 2
        issuerRef:
          group: cert-manager.io
          kind: Issuer
          name: iam-ra-prod-default
      ---
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: billing-api-iam-ra
        namespace: billing
        labels:
          app.kubernetes.io/managed-by: iam-ra
          app.kubernetes.io/name: billing-api
      data:
        trust-anchor-arn: arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0b4f6b0c-1111-2222-3333-444455556666
        profile-arn: arn:aws:rolesanywhere:eu-west-1:123456789012:profile/7c1e2a3b-1111-2222-3333-444455556666
        role-arn: arn:aws:iam::123456789012:role/iam-ra-prod-billing-reader
        region: eu-west-1
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: billing-api
        namespace: billing
        labels:
          app.kubernetes.io/managed-by: iam-ra
          app.kubernetes.io/name: billing-api
      spec:
        replicas: 1
        selector:
          matchLabels:
            app.kubernetes.io/name: billing-api
        template:
          metadata:
            labels:
              app.kubernetes.io/name: billing-api
          spec:
            securityContext:
              runAsNonRoot: true
              fsGroup: 1000
              seccompProfile:
                type: RuntimeDefault
            initContainers:
              - name: iam-ra
                image: ghcr.io/iam-ra/sidecar:1.0.0
                restartPolicy: Always
                env:
                  - name: IAM_RA_CERTIFICATE
                    value: /var/run/iam-ra/certificate/tls.crt
                  - name: IAM_RA_PRIVATE_KEY
                    value: /var/run/iam-ra/certificate/tls.key
                  - name: IAM_RA_TRUST_ANCHOR_ARN
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: trust-anchor-arn
                  - name: IAM_RA_PROFILE_ARN
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: profile-arn
                  - name: IAM_RA_ROLE_ARN
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: role-arn
                  - name: IAM_RA_REGION
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: region
                  - name: IAM_RA_HOST
                    value: 127.0.0.1
                  - name: IAM_RA_PORT
                    value: "9911"
                  - name: IAM_RA_TOKEN_FILE
                    value: /var/run/iam-ra/token/token
                  - name: IAM_RA_TOKEN_FILE_MODE
                    value: "0640"
                volumeMounts:
                  - name: iam-ra-certificate
                    mountPath: /var/run/iam-ra/certificate
                    readOnly: true
                  - name: iam-ra-token
                    mountPath: /var/run/iam-ra/token
                startupProbe:
                  exec:
                    command:
                      - node
                      - /app/main.js
                      - healthcheck
                      - /readyz
                  timeoutSeconds: 3
                  periodSeconds: 2
                  failureThreshold: 60
                readinessProbe:
                  exec:
                    command:
                      - node
                      - /app/main.js
                      - healthcheck
                      - /readyz
                  timeoutSeconds: 3
                  periodSeconds: 10
                  failureThreshold: 3
                livenessProbe:
                  exec:
                    command:
                      - node
                      - /app/main.js
                      - healthcheck
                      - /healthz
                  timeoutSeconds: 3
                  periodSeconds: 20
                  failureThreshold: 3
                resources:
                  requests:
                    cpu: 10m
                    memory: 48Mi
                  limits:
                    cpu: 200m
                    memory: 128Mi
                securityContext:
                  runAsNonRoot: true
                  readOnlyRootFilesystem: true
                  allowPrivilegeEscalation: false
                  capabilities:
                    drop:
                      - ALL
                  seccompProfile:
                    type: RuntimeDefault
                  runAsUser: 1000
                  runAsGroup: 1000
            containers:
              - name: billing-api
                image: registry.example.com/billing/api:4.2.0
                env:
                  - name: AWS_CONTAINER_CREDENTIALS_FULL_URI
                    value: http://127.0.0.1:9911/v1/credentials
                  - name: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
                    value: /var/run/iam-ra/token/token
                  - name: AWS_REGION
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: region
                volumeMounts:
                  - name: iam-ra-token
                    mountPath: /var/run/iam-ra/token
                    readOnly: true
                resources:
                  requests:
                    cpu: 100m
                    memory: 128Mi
                  limits:
                    cpu: 500m
                    memory: 256Mi
                securityContext:
                  runAsNonRoot: true
                  readOnlyRootFilesystem: true
                  allowPrivilegeEscalation: false
                  capabilities:
                    drop:
                      - ALL
                  seccompProfile:
                    type: RuntimeDefault
            volumes:
              - name: iam-ra-certificate
                secret:
                  secretName: billing-api-iam-ra-tls
                  defaultMode: 288
              - name: iam-ra-token
                emptyDir:
                  medium: Memory
                  sizeLimit: 1Mi
      "
    `);
  });

  it("render the patch variant (snapshot)", () => {
    const [, , , , patch] = buildWorkloadManifests(
      input({ deployment: { mode: "patch", name: "legacy-app", container: "main" } }),
    );
    expect(renderK8sYaml([patch!.object])).toMatchInlineSnapshot(`
      "---
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: legacy-app
        namespace: billing
      spec:
        template:
          spec:
            securityContext:
              fsGroup: 1000
            initContainers:
              - name: iam-ra
                image: ghcr.io/iam-ra/sidecar:1.0.0
                restartPolicy: Always
                env:
                  - name: IAM_RA_CERTIFICATE
                    value: /var/run/iam-ra/certificate/tls.crt
                  - name: IAM_RA_PRIVATE_KEY
                    value: /var/run/iam-ra/certificate/tls.key
                  - name: IAM_RA_TRUST_ANCHOR_ARN
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: trust-anchor-arn
                  - name: IAM_RA_PROFILE_ARN
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: profile-arn
                  - name: IAM_RA_ROLE_ARN
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: role-arn
                  - name: IAM_RA_REGION
                    valueFrom:
                      configMapKeyRef:
                        name: billing-api-iam-ra
                        key: region
                  - name: IAM_RA_HOST
                    value: 127.0.0.1
                  - name: IAM_RA_PORT
                    value: "9911"
                  - name: IAM_RA_TOKEN_FILE
                    value: /var/run/iam-ra/token/token
                  - name: IAM_RA_TOKEN_FILE_MODE
                    value: "0640"
                volumeMounts:
                  - name: iam-ra-certificate
                    mountPath: /var/run/iam-ra/certificate
                    readOnly: true
                  - name: iam-ra-token
                    mountPath: /var/run/iam-ra/token
                startupProbe:
                  exec:
                    command:
                      - node
                      - /app/main.js
                      - healthcheck
                      - /readyz
                  timeoutSeconds: 3
                  periodSeconds: 2
                  failureThreshold: 60
                readinessProbe:
                  exec:
                    command:
                      - node
                      - /app/main.js
                      - healthcheck
                      - /readyz
                  timeoutSeconds: 3
                  periodSeconds: 10
                  failureThreshold: 3
                livenessProbe:
                  exec:
                    command:
                      - node
                      - /app/main.js
                      - healthcheck
                      - /healthz
                  timeoutSeconds: 3
                  periodSeconds: 20
                  failureThreshold: 3
                resources:
                  requests:
                    cpu: 10m
                    memory: 48Mi
                  limits:
                    cpu: 200m
                    memory: 128Mi
                securityContext:
                  runAsNonRoot: true
                  readOnlyRootFilesystem: true
                  allowPrivilegeEscalation: false
                  capabilities:
                    drop:
                      - ALL
                  seccompProfile:
                    type: RuntimeDefault
                  runAsUser: 1000
                  runAsGroup: 1000
            containers:
              - name: main
                env:
                  - name: AWS_CONTAINER_CREDENTIALS_FULL_URI
                    value: http://127.0.0.1:9911/v1/credentials
                  - name: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
                    value: /var/run/iam-ra/token/token
                volumeMounts:
                  - name: iam-ra-token
                    mountPath: /var/run/iam-ra/token
                    readOnly: true
            volumes:
              - name: iam-ra-certificate
                secret:
                  secretName: billing-api-iam-ra-tls
                  defaultMode: 288
              - name: iam-ra-token
                emptyDir:
                  medium: Memory
                  sizeLimit: 1Mi
      "
    `);
  });

  it.each([
    [{ workload: "Billing" }, /not a valid Kubernetes workload name/],
    [{ namespace: "has_underscore" }, /not a valid Kubernetes namespace name/],
    [{ sidecarImage: "two words" }, /not a container image reference/],
    [
      { deployment: { mode: "deployment", name: "x", container: "x", appImage: "" } as K8sDeploymentMode },
      /not a container image reference/,
    ],
    [{ deployment: { mode: "patch", name: "x", container: "Main" } as K8sDeploymentMode }, /container name/],
  ])("refuses bad input %j", (overrides, message) => {
    expect(() => buildWorkloadManifests(input(overrides as Partial<WorkloadManifestsInput>))).toThrow(
      message,
    );
  });

  it.each(["x509SAN/DNS", "x509SAN/URI", "x509Issuer/CN", "x509Subject/emailAddress"])(
    "refuses a binding cert-manager cannot express: %s",
    (tag) => {
      expect(() => certificateSubjectFor({ tag, value: "v" }, "w")).toThrow(
        expect.objectContaining({ code: "invalid-input" }),
      );
    },
  );
});

describe("durations", () => {
  it.each([
    ["24h", 86_400_000, "24h"],
    ["90m", 5_400_000, "1h30m"],
    ["1h30m", 5_400_000, "1h30m"],
    ["2160h0m0s", 7_776_000_000, "2160h"],
    ["1.5h", 5_400_000, "1h30m"],
    ["45s", 45_000, "45s"],
  ])("%s", (text, ms, normal) => {
    expect(parseK8sDuration(text)).toBe(ms);
    expect(formatK8sDuration(ms)).toBe(normal);
  });

  it.each(["", "24", "1d", "-1h", "1h 30m", "0.0001s", "h"])("refuses %j", (text) => {
    expect(parseK8sDuration(text)).toBeUndefined();
  });

  it.each([
    ["30m", "5m", /between 1h and 2160h/],
    ["2161h", "8h", /between 1h and 2160h/],
    ["24h", "24h", /shorter than the duration/],
    ["24h", "1m", /at least 5m/],
    ["24h", "eight hours", /at least 5m/],
  ])("certificate timing %s/%s is refused", (duration, renewBefore, message) => {
    expect(() => validateCertificateTiming({ duration, renewBefore })).toThrow(message);
  });
});

describe("issuer common names", () => {
  it("are unique per (namespace, scope, cluster, Kubernetes namespace), at most 64 characters, valid tags", () => {
    const names = [
      issuerCommonName("prod", "default", "eu-1", "billing"),
      issuerCommonName("prod", "default", "eu-1", "payments"),
      issuerCommonName("prod", "default", "eu-2", "billing"),
      issuerCommonName("prod", "k8s", "eu-1", "billing"),
      issuerCommonName("staging", "default", "eu-1", "billing"),
      issuerCommonName("a".repeat(20), "b".repeat(20), "c".repeat(40), "d".repeat(63)),
      issuerCommonName("a".repeat(20), "b".repeat(20), "c".repeat(40), `${"d".repeat(62)}e`),
    ];
    expect(names[0]).toBe("iam-ra prod/default k8s eu-1/billing");
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(64);
      expect(isValidTagValue(n)).toBe(true);
      expect(n).not.toContain(",");
    }
  });
});

describe("what k8s onboard emits: webhook objects, a whole Deployment or a patch", () => {
  const whole = {
    mode: "deployment" as const,
    deployment: "api",
    container: "api",
    appImage: "registry.example.com/api:1",
    duration: "24h",
    renewBefore: "8h",
    fsGroup: 1000,
  };
  it("--deployment without --app-image is a patch, even after a whole Deployment was emitted", () => {
    expect(resolveDeployment("api", { deployment: "api-v2" }, whole)).toEqual({
      mode: "patch",
      name: "api-v2",
      container: "api",
    });
    expect(resolveDeployment("api", { deployment: "api-v2" }, undefined)).toEqual({
      mode: "patch",
      name: "api-v2",
      container: "api",
    });
  });
  it("re-onboarding keeps what was recorded when nothing is said", () => {
    expect(resolveDeployment("api", {}, whole)).toEqual({
      mode: "deployment",
      name: "api",
      container: "api",
      appImage: "registry.example.com/api:1",
    });
    expect(resolveDeployment("api", {}, { ...whole, mode: "webhook" })).toEqual({ mode: "webhook" });
  });
  it("contradictions are refused before anything is done", () => {
    expect(() => resolveDeployment("api", { patch: true, appImage: "x:1" }, undefined)).toThrow(
      /--app-image makes a whole Deployment/,
    );
    expect(() => resolveDeployment("api", { webhook: true, deployment: "api" }, undefined)).toThrow(
      /--webhook injects the sidecar/,
    );
    expect(() => resolveDeployment("api", {}, undefined)).toThrow(/Neither an application image/);
  });
});
