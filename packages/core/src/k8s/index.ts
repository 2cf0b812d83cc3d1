/**
 * Kubernetes manifests for workloads that get AWS credentials through the iam-ra sidecar: typed
 * builders (kubernetes-models and the cert-manager models) that validate what they build, and
 * YAML rendering with the `yaml` library.
 * @module
 */
export {
  CERTIFICATE_DURATION_LIMITS,
  formatK8sDuration,
  parseK8sDuration,
  validateCertificateTiming,
} from "./duration.ts";
export type {
  K8sCertificateInput,
  K8sConfigMapInput,
  K8sDeploymentInput,
  K8sIssuerInput,
  K8sSidecarInput,
} from "./manifests.ts";
export {
  buildAppEnv,
  buildCertificate,
  buildConfigMap,
  buildDeployment,
  buildDeploymentPatch,
  buildIssuer,
  buildPodVolumes,
  buildSidecarContainer,
  CERTIFICATE_MOUNT_PATH,
  CONFIG_KEYS,
  CONTAINER_CREDENTIALS_URI,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_ENTRYPOINT,
  SIDECAR_IMAGE_REPOSITORY,
  SIDECAR_PORT,
  SIDECAR_UID,
  TOKEN_FILE,
  TOKEN_MOUNT_PATH,
} from "./manifests.ts";
export type { CertificateSubject } from "./names.ts";
export { certificateSubjectFor, k8sObjectNames, validateK8sName } from "./names.ts";
export type {
  K8sDeploymentMode,
  K8sManifest,
  K8sManifestPart,
  K8sObject,
  WorkloadManifestsInput,
} from "./workload.ts";
export {
  buildWorkloadManifests,
  manifestFileName,
  parseK8sYaml,
  renderK8sYaml,
  toK8sObject,
} from "./workload.ts";
