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
  K8sCertificateSource,
  K8sConfigMapInput,
  K8sCsiCertificateInput,
  K8sDeploymentInput,
  K8sIssuerInput,
  K8sRoleArns,
  K8sSidecarInput,
  K8sVolumeNames,
} from "./manifests.ts";
export {
  buildAppEnv,
  buildCertificate,
  buildConfigMap,
  buildCsiVolumeAttributes,
  buildDeployment,
  buildDeploymentPatch,
  buildIssuer,
  buildPodVolumes,
  buildSidecarContainer,
  CERTIFICATE_MOUNT_PATH,
  CONFIG_KEYS,
  CONTAINER_CREDENTIALS_URI,
  CSI_DRIVER,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_ENTRYPOINT,
  SIDECAR_IMAGE_REPOSITORY,
  SIDECAR_PORT,
  SIDECAR_UID,
  TOKEN_FILE,
  TOKEN_MOUNT_PATH,
  VOLUME_NAMES,
} from "./manifests.ts";
export type { CertificateSubject } from "./names.ts";
export { certificateSubjectFor, k8sObjectNames, validateK8sName } from "./names.ts";
export type {
  AdmissionContext,
  AdmissionDecision,
  AdmissionRequest,
  AdmissionResponse,
  AdmissionResult,
  JsonPatchOperation,
  ServiceAccountReader,
} from "./webhook/admission.ts";
export {
  ENV_KEPT_ANNOTATION,
  INJECT_LABEL,
  INJECTED_ANNOTATION,
  INJECTED_ENV,
  parseAdmissionReview,
  ROLE_ANNOTATION,
  reviewPodAdmission,
  SYSTEM_NAMESPACES,
} from "./webhook/admission.ts";
export type {
  WebhookConfig,
  WebhookConfigOptions,
  WebhookConfigResult,
  WebhookNamespace,
  WebhookRole,
} from "./webhook/config.ts";
export {
  buildWebhookConfig,
  buildWebhookConfigMap,
  parseWebhookConfig,
  WEBHOOK_CONFIG_KEY,
  WEBHOOK_CONFIG_VERSION,
  WebhookConfigSchema,
} from "./webhook/config.ts";
export type { WebhookInstallInput, WebhookInstallManifest } from "./webhook/install.ts";
export {
  buildWebhookInstallManifests,
  WEBHOOK_CONFIG_MOUNT_PATH,
  WEBHOOK_ENTRYPOINT,
  WEBHOOK_PATH,
  WEBHOOK_PORT,
  WEBHOOK_TLS_MOUNT_PATH,
} from "./webhook/install.ts";
export { WEBHOOK_CONFIG_MAP_NAME, WEBHOOK_NAMESPACE } from "./webhook/names.ts";
export type {
  K8sCertificateMode,
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
