import type { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import type { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import type { Deployment } from "kubernetes-models/apps/v1/Deployment";
import type { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { Secret } from "kubernetes-models/v1/Secret";
import { Document, parseAllDocuments } from "yaml";
import { IamRaError } from "../errors.ts";
import {
  buildCertificate,
  buildConfigMap,
  buildDeployment,
  buildDeploymentPatch,
  buildIssuer,
} from "./manifests.ts";
import { type CertificateSubject, k8sObjectNames, validateK8sName } from "./names.ts";

/** What an emitted object is for. @public */
export type K8sManifestPart =
  | "ca-secret"
  | "issuer"
  | "certificate"
  | "config-map"
  | "deployment"
  | "deployment-patch"
  | "webhook-config";

/**
 * One emitted object. `sensitive` objects hold key material (the issuer's Secret): written 0600,
 * never logged.
 * @public
 */
export interface K8sManifest {
  part: K8sManifestPart;
  object: Secret | Issuer | Certificate | ConfigMap | Deployment;
  sensitive: boolean;
}

/** How the workload's pod gets the sidecar. @public */
export type K8sDeploymentMode =
  /** A whole Deployment running `appImage`. */
  | { mode: "deployment"; name: string; container: string; appImage: string }
  /** A strategic-merge patch for an existing Deployment (`kubectl patch`, kustomize `patches:`). */
  | { mode: "patch"; name: string; container: string }
  /**
   * No Deployment: the admission webhook injects the sidecar into pods annotated with the role.
   * Only the namespace issuer (and, with Secret certificates, the `Certificate`) is emitted.
   */
  | { mode: "webhook" };

/** Input of {@link buildWorkloadManifests}. @public */
export interface WorkloadManifestsInput {
  /** The workload's name (DNS label): names its Certificate, Secret and ConfigMap. */
  workload: string;
  /** The Kubernetes namespace. */
  namespace: string;
  iamRaNamespace: string;
  scope: string;
  issuer: { certificatePem: string; rootCertificatePem: string; privateKeyPem: string };
  certificate: {
    commonName: string;
    subject?: CertificateSubject | undefined;
    duration: string;
    renewBefore: string;
  };
  arns: { trustAnchorArn: string; profileArn: string; roleArn: string; region: string };
  sidecarImage: string;
  deployment: K8sDeploymentMode;
  /** Default 1000 (the sidecar image's group). */
  fsGroup?: number | undefined;
  /**
   * `secret` (default): a `Certificate` whose Secret every replica mounts. `csi`: no `Certificate`;
   * each pod asks cert-manager's csi-driver for its own, its key made on the node and never
   * stored in the API server.
   */
  certificateMode?: K8sCertificateMode | undefined;
}

/** Where a workload's certificate lives: see {@link WorkloadManifestsInput.certificateMode}. @public */
export type K8sCertificateMode = "secret" | "csi";

/**
 * Every object a workload needs, in apply order: the namespace issuer's Secret and `Issuer`, the
 * `Certificate` (not in csi mode), the ConfigMap, and the Deployment (or a patch for an existing
 * one). Each is validated against its schema as it is built.
 * @public
 */
export function buildWorkloadManifests(input: WorkloadManifestsInput): K8sManifest[] {
  validateK8sName("namespace", input.namespace);
  validateK8sName("workload", input.workload);
  if (input.deployment.mode !== "webhook") {
    validateK8sName("deployment", input.deployment.name, "subdomain");
    validateK8sName("container", input.deployment.container);
  }
  validateImage(input.sidecarImage);
  if (input.deployment.mode === "deployment") validateImage(input.deployment.appImage);
  const names = k8sObjectNames({
    iamRaNamespace: input.iamRaNamespace,
    scope: input.scope,
    workload: input.workload,
  });
  const { secret, issuer } = buildIssuer({
    namespace: input.namespace,
    name: names.issuer,
    secretName: names.caSecret,
    ...input.issuer,
  });
  const certificate = buildCertificate({
    namespace: input.namespace,
    name: names.certificate,
    secretName: names.certificateSecret,
    issuerName: names.issuer,
    workload: input.workload,
    ...input.certificate,
  });
  const configMap = buildConfigMap({
    namespace: input.namespace,
    name: names.configMap,
    workload: input.workload,
    ...input.arns,
  });
  const csi = input.certificateMode === "csi";
  const issuerObjects: K8sManifest[] = [
    { part: "ca-secret", object: secret, sensitive: true },
    { part: "issuer", object: issuer, sensitive: false },
    ...(csi ? [] : [{ part: "certificate" as const, object: certificate, sensitive: false }]),
  ];
  const deployment = input.deployment;
  if (deployment.mode === "webhook") return issuerObjects;
  const pod = {
    ...(csi ? { csi: { issuerName: names.issuer, ...input.certificate } } : {}),
    namespace: input.namespace,
    name: deployment.name,
    container: deployment.container,
    workload: input.workload,
    image: input.sidecarImage,
    configMapName: names.configMap,
    certificateSecretName: names.certificateSecret,
    fsGroup: input.fsGroup ?? 1000,
  };
  const last: K8sManifest =
    deployment.mode === "deployment"
      ? {
          part: "deployment",
          object: buildDeployment({ ...pod, appImage: deployment.appImage }),
          sensitive: false,
        }
      : { part: "deployment-patch", object: buildDeploymentPatch(pod), sensitive: false };
  return [...issuerObjects, { part: "config-map", object: configMap, sensitive: false }, last];
}

function validateImage(image: string): void {
  if (!/^[a-z0-9][\w./:@-]*$/i.test(image)) {
    throw new IamRaError("invalid-input", `"${image}" is not a container image reference.`, {
      hint: "Pass e.g. --app-image registry.example.com/team/app:1.4.2.",
    });
  }
}

/** A plain object with `apiVersion`, `kind` and `metadata`, as `kubectl` reads it. @public */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
} & Record<string, unknown>;

/** The plain object of a model (what is rendered and what `--json` prints). @public */
export function toK8sObject(object: { toJSON(): unknown } | K8sObject): K8sObject {
  return ("toJSON" in object && typeof object.toJSON === "function" ? object.toJSON() : object) as K8sObject;
}

/**
 * Renders objects as one multi-document YAML stream (`---` before each), ready for
 * `kubectl apply -f -`. Rendering is the `yaml` library's; nothing is assembled by hand.
 * @public
 */
export function renderK8sYaml(objects: ReadonlyArray<{ toJSON(): unknown } | K8sObject>): string {
  return objects
    .map((o) => new Document(toK8sObject(o)).toString({ directives: true, lineWidth: 0 }))
    .join("");
}

/**
 * Reads a multi-document YAML stream (as {@link renderK8sYaml} writes it) back into plain objects;
 * empty documents are skipped. Throws on a YAML syntax error.
 * @public
 */
export function parseK8sYaml(text: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0]!;
    const value = doc.toJS() as K8sObject | null;
    return value === null ? [] : [value];
  });
}

/**
 * A file name for an object written with `--output DIR`: apply order first, so `kubectl apply -f
 * DIR` creates the issuer before the Certificate, e.g. `03-certificate-billing-api-iam-ra.yaml`.
 * @public
 */
export function manifestFileName(
  index: number,
  manifest: { part: string; object: { toJSON(): unknown } | K8sObject },
): string {
  const name = toK8sObject(manifest.object).metadata.name;
  return `${String(index + 1).padStart(2, "0")}-${manifest.part}-${name}.yaml`;
}
