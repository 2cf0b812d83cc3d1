import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Container, type IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IProbe } from "kubernetes-models/v1/Probe";
import { Secret } from "kubernetes-models/v1/Secret";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import { type IVolume, Volume } from "kubernetes-models/v1/Volume";
import { IamRaError } from "../errors.ts";
import type { CertificateSubject } from "./names.ts";

/** Port the sidecar listens on, on the pod's loopback only. @public */
export const SIDECAR_PORT = 9911;
/** Name of the sidecar in `initContainers`. @public */
export const SIDECAR_CONTAINER_NAME = "iam-ra";
/** The sidecar image's repository; the CLI tags it with its own version. @public */
export const SIDECAR_IMAGE_REPOSITORY = "ghcr.io/iam-ra/sidecar";
/** The sidecar image's `ENTRYPOINT` (docker/sidecar.Containerfile); probes run it with `healthcheck`. @public */
export const SIDECAR_ENTRYPOINT: readonly string[] = ["node", "/app/main.js"];
/** The user and group the sidecar image runs as. @public */
export const SIDECAR_UID = 1000;
/** Where the certificate Secret is mounted (as a directory, so cert-manager's renewals reach it). @public */
export const CERTIFICATE_MOUNT_PATH = "/var/run/iam-ra/certificate";
/** Where the shared in-memory volume holding the token file is mounted. @public */
export const TOKEN_MOUNT_PATH = "/var/run/iam-ra/token";
/** The token file the sidecar writes and the application's SDK sends. @public */
export const TOKEN_FILE = `${TOKEN_MOUNT_PATH}/token`;
/** What the application's SDK calls for credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI). @public */
export const CONTAINER_CREDENTIALS_URI = `http://127.0.0.1:${SIDECAR_PORT}/v1/credentials`;
/** The keys of the workload's ConfigMap. @public */
export const CONFIG_KEYS = {
  trustAnchorArn: "trust-anchor-arn",
  profileArn: "profile-arn",
  roleArn: "role-arn",
  region: "region",
} as const;

/** The default names of the pod's two iam-ra volumes (the webhook picks others when these are taken). @public */
export const VOLUME_NAMES: K8sVolumeNames = { certificate: "iam-ra-certificate", token: "iam-ra-token" };
const TOKEN_VOLUME = VOLUME_NAMES.token;
/** cert-manager's csi-driver, which issues each pod its own certificate from a key made on the node. @public */
export const CSI_DRIVER = "csi.cert-manager.io";
const MANAGED_BY = { "app.kubernetes.io/managed-by": "iam-ra" };

/** Input of {@link buildIssuer}. @public */
export interface K8sIssuerInput {
  /** The Kubernetes namespace. */
  namespace: string;
  /** The `Issuer`'s name; see {@link k8sObjectNames}. */
  name: string;
  secretName: string;
  /** The namespace's intermediate CA certificate (PEM). */
  certificatePem: string;
  /** The scope CA's certificate (PEM), so cert-manager puts it in each Secret's `ca.crt`. */
  rootCertificatePem: string;
  /** The intermediate's PKCS#8 key (PEM). Secret. */
  privateKeyPem: string;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const pemBody = (pem: string) => `${pem.trim()}\n`;

/**
 * A namespaced cert-manager CA `Issuer` and its `kubernetes.io/tls` Secret: `tls.crt` is the
 * intermediate followed by the scope CA (cert-manager then writes leaf + intermediate to each
 * certificate's `tls.crt`, and the scope CA to `ca.crt`), `tls.key` the intermediate's key.
 * @public
 */
export function buildIssuer(input: K8sIssuerInput): { secret: Secret; issuer: Issuer } {
  const labels = { ...MANAGED_BY, "app.kubernetes.io/component": "issuer" };
  const secret = new Secret({
    metadata: { name: input.secretName, namespace: input.namespace, labels },
    type: "kubernetes.io/tls",
    data: {
      "tls.crt": b64(pemBody(input.certificatePem) + pemBody(input.rootCertificatePem)),
      "tls.key": b64(pemBody(input.privateKeyPem)),
      "ca.crt": b64(pemBody(input.rootCertificatePem)),
    },
  });
  const issuer = new Issuer({
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: { ca: { secretName: input.secretName } },
  });
  secret.validate();
  issuer.validate();
  return { secret, issuer };
}

/** Input of {@link buildCertificate}. @public */
export interface K8sCertificateInput {
  namespace: string;
  name: string;
  /** The Secret cert-manager writes `tls.crt`, `tls.key` and `ca.crt` into. */
  secretName: string;
  issuerName: string;
  /** From {@link certificateSubjectFor}. */
  commonName: string;
  subject?: CertificateSubject | undefined;
  /** Go durations, checked by {@link validateCertificateTiming}. */
  duration: string;
  renewBefore: string;
  workload: string;
}

/**
 * A cert-manager `Certificate` for the sidecar: ECDSA P-256 key (PKCS#8, new key at each renewal),
 * `digital signature` + `client auth` usages only, the subject the role's trust policy expects.
 * @public
 */
export function buildCertificate(input: K8sCertificateInput): Certificate {
  const labels = { ...MANAGED_BY, "app.kubernetes.io/name": input.workload };
  const certificate = new Certificate({
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      secretName: input.secretName,
      secretTemplate: { labels },
      commonName: input.commonName,
      ...(input.subject ? { subject: input.subject } : {}),
      duration: input.duration,
      renewBefore: input.renewBefore,
      privateKey: { algorithm: "ECDSA", size: 256, encoding: "PKCS8", rotationPolicy: "Always" },
      usages: ["digital signature", "client auth"],
      isCA: false,
      revisionHistoryLimit: 2,
      issuerRef: { group: "cert-manager.io", kind: "Issuer", name: input.issuerName },
    },
  });
  certificate.validate();
  return certificate;
}

/** Input of {@link buildConfigMap}. @public */
export interface K8sConfigMapInput {
  namespace: string;
  name: string;
  workload: string;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  region: string;
}

/** The workload's ConfigMap with the ARNs and region (keys {@link CONFIG_KEYS}). @public */
export function buildConfigMap(input: K8sConfigMapInput): ConfigMap {
  const configMap = new ConfigMap({
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...MANAGED_BY, "app.kubernetes.io/name": input.workload },
    },
    data: {
      [CONFIG_KEYS.trustAnchorArn]: input.trustAnchorArn,
      [CONFIG_KEYS.profileArn]: input.profileArn,
      [CONFIG_KEYS.roleArn]: input.roleArn,
      [CONFIG_KEYS.region]: input.region,
    },
  });
  configMap.validate();
  return configMap;
}

/** The names of the pod's certificate and token volumes. @public */
export interface K8sVolumeNames {
  certificate: string;
  token: string;
}

/** The ARNs and region the sidecar is configured with. @public */
export interface K8sRoleArns {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  region: string;
}

/** What the pod needs to run the sidecar. @public */
export interface K8sSidecarInput {
  /** The sidecar image, e.g. `ghcr.io/iam-ra/sidecar:1.2.3`. */
  image: string;
  /** The workload's ConfigMap ({@link CONFIG_KEYS}) the ARNs and region are read from, unless `arns` is given. */
  configMapName?: string | undefined;
  /** The ARNs and region as literal values (what the webhook injects: it has no per-workload ConfigMap). */
  arns?: K8sRoleArns | undefined;
  /** Default {@link VOLUME_NAMES}. */
  volumeNames?: K8sVolumeNames | undefined;
}

const fromConfig = (name: string, configMap: string, key: string): IEnvVar => ({
  name,
  valueFrom: { configMapKeyRef: { name: configMap, key } },
});

const probe = (path: "/healthz" | "/readyz", extra: IProbe): IProbe => ({
  // The sidecar listens on the pod's loopback, which an httpGet probe (sent to the pod IP) cannot
  // reach: the image's own healthcheck command asks it from inside the container.
  exec: { command: [...SIDECAR_ENTRYPOINT, "healthcheck", path] },
  timeoutSeconds: 3,
  ...extra,
});

const RESTRICTED: ISecurityContext = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/**
 * The sidecar as a native sidecar (an init container with `restartPolicy: Always`): it starts
 * before the application, which only starts once its startup probe (`/readyz`: credentials held)
 * passes, and it stops after it. Configured through the environment only.
 * @public
 */
export function buildSidecarContainer(input: K8sSidecarInput): Container {
  const names = input.volumeNames ?? VOLUME_NAMES;
  const { arns, configMapName } = input;
  const setting = (name: string, key: keyof typeof CONFIG_KEYS): IEnvVar => {
    if (arns) return { name, value: arns[key] };
    if (configMapName) return fromConfig(name, configMapName, CONFIG_KEYS[key]);
    throw new IamRaError("internal", "The sidecar needs either its ARNs or the ConfigMap holding them.");
  };
  const container = new Container({
    name: SIDECAR_CONTAINER_NAME,
    image: input.image,
    restartPolicy: "Always",
    env: [
      { name: "IAM_RA_CERTIFICATE", value: `${CERTIFICATE_MOUNT_PATH}/tls.crt` },
      { name: "IAM_RA_PRIVATE_KEY", value: `${CERTIFICATE_MOUNT_PATH}/tls.key` },
      setting("IAM_RA_TRUST_ANCHOR_ARN", "trustAnchorArn"),
      setting("IAM_RA_PROFILE_ARN", "profileArn"),
      setting("IAM_RA_ROLE_ARN", "roleArn"),
      setting("IAM_RA_REGION", "region"),
      { name: "IAM_RA_HOST", value: "127.0.0.1" },
      { name: "IAM_RA_PORT", value: String(SIDECAR_PORT) },
      { name: "IAM_RA_TOKEN_FILE", value: TOKEN_FILE },
      // Group-readable: the pod's fsGroup owns the in-memory volume, so the application reads it.
      { name: "IAM_RA_TOKEN_FILE_MODE", value: "0640" },
    ],
    volumeMounts: [
      { name: names.certificate, mountPath: CERTIFICATE_MOUNT_PATH, readOnly: true },
      { name: names.token, mountPath: TOKEN_MOUNT_PATH },
    ],
    startupProbe: probe("/readyz", { periodSeconds: 2, failureThreshold: 60 }),
    readinessProbe: probe("/readyz", { periodSeconds: 10, failureThreshold: 3 }),
    livenessProbe: probe("/healthz", { periodSeconds: 20, failureThreshold: 3 }),
    resources: {
      requests: { cpu: "10m", memory: "48Mi" },
      limits: { cpu: "200m", memory: "128Mi" },
    },
    securityContext: { ...RESTRICTED, runAsUser: SIDECAR_UID, runAsGroup: SIDECAR_UID },
  });
  container.validate();
  return container;
}

/** The environment the application container gets: the stock SDKs' container-credentials variables. @public */
export function buildAppEnv(configMapName: string, options: { region: boolean }): IEnvVar[] {
  return [
    { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: CONTAINER_CREDENTIALS_URI },
    { name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", value: TOKEN_FILE },
    ...(options.region ? [fromConfig("AWS_REGION", configMapName, CONFIG_KEYS.region)] : []),
  ];
}

/** What cert-manager's csi-driver is asked for: {@link buildCsiVolumeAttributes}. @public */
export interface K8sCsiCertificateInput {
  /** The namespace's cert-manager `Issuer` (a namespaced CA issuer; see {@link k8sObjectNames}). */
  issuerName: string;
  commonName: string;
  /** The role's binding (e.g. `organizationalUnits: [role]`). */
  subject?: CertificateSubject | undefined;
  /** Go durations, checked by {@link validateCertificateTiming}. */
  duration: string;
  renewBefore: string;
  /** The group that owns the files (the pod's fsGroup), so the sidecar reads them. */
  fsGroup: number;
}

const CSI_SUBJECT_KEYS: Record<string, string> = {
  organizationalUnits: "organizationalunits",
  organizations: "organizations",
  countries: "countries",
  provinces: "provinces",
  localities: "localities",
};

/**
 * The `csi.cert-manager.io/*` volume attributes of a per-pod certificate: the same subject, key
 * (ECDSA P-256, PKCS#8, a new key each renewal) and usages as {@link buildCertificate}, from the
 * namespace's issuer; the key is made on the node and never stored in the API server.
 * @public
 */
export function buildCsiVolumeAttributes(input: K8sCsiCertificateInput): Record<string, string> {
  const attributes: Record<string, string> = {
    "csi.cert-manager.io/issuer-name": input.issuerName,
    "csi.cert-manager.io/issuer-kind": "Issuer",
    "csi.cert-manager.io/issuer-group": "cert-manager.io",
    "csi.cert-manager.io/common-name": input.commonName,
  };
  for (const [field, values] of Object.entries(input.subject ?? {})) {
    const key = CSI_SUBJECT_KEYS[field];
    if (!key || !Array.isArray(values)) {
      throw new IamRaError("invalid-input", `The subject field ${field} cannot be asked of csi-driver.`);
    }
    // csi-driver splits these lists on commas.
    if (values.some((v) => String(v).includes(","))) {
      throw new IamRaError("invalid-input", `The ${field} value "${values.join(",")}" holds a comma.`, {
        hint: "csi-driver splits subject lists on commas: bind the role to a value without one.",
      });
    }
    attributes[`csi.cert-manager.io/${key}`] = values.join(",");
  }
  return {
    ...attributes,
    "csi.cert-manager.io/duration": input.duration,
    "csi.cert-manager.io/renew-before": input.renewBefore,
    "csi.cert-manager.io/key-algorithm": "ECDSA",
    "csi.cert-manager.io/key-size": "256",
    "csi.cert-manager.io/key-encoding": "PKCS8",
    "csi.cert-manager.io/reuse-private-key": "false",
    "csi.cert-manager.io/key-usages": "digital signature,client auth",
    "csi.cert-manager.io/is-ca": "false",
    "csi.cert-manager.io/certificate-file": "tls.crt",
    "csi.cert-manager.io/privatekey-file": "tls.key",
    "csi.cert-manager.io/ca-file": "ca.crt",
    "csi.cert-manager.io/fs-group": String(input.fsGroup),
  };
}

/** Where the pod's certificate comes from: a Secret cert-manager keeps, or csi-driver per pod. @public */
export type K8sCertificateSource = { secretName: string } | { csi: K8sCsiCertificateInput };

/**
 * The pod's two volumes: the certificate (a Secret as a directory, never `subPath`, which renewals do
 * not reach, group-readable by the fsGroup only; or a csi-driver volume), and a small in-memory
 * volume for the token.
 * @param certificate - a Secret's name, or a {@link K8sCertificateSource}
 * @public
 */
export function buildPodVolumes(
  certificate: string | K8sCertificateSource,
  names: K8sVolumeNames = VOLUME_NAMES,
): Volume[] {
  const source: K8sCertificateSource =
    typeof certificate === "string" ? { secretName: certificate } : certificate;
  const volumes: IVolume[] = [
    "csi" in source
      ? {
          name: names.certificate,
          csi: { driver: CSI_DRIVER, readOnly: true, volumeAttributes: buildCsiVolumeAttributes(source.csi) },
        }
      : { name: names.certificate, secret: { secretName: source.secretName, defaultMode: 0o440 } },
    { name: names.token, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
  ];
  return volumes.map((v) => {
    const volume = new Volume(v);
    volume.validate();
    return volume;
  });
}

/** Input of {@link buildDeployment} and {@link buildDeploymentPatch}. @public */
export interface K8sDeploymentInput extends K8sSidecarInput {
  configMapName: string;
  /** The Secret cert-manager keeps the workload's certificate in (unless `csi`). */
  certificateSecretName: string;
  namespace: string;
  /** The Deployment's name. */
  name: string;
  /** The application container's name. */
  container: string;
  workload: string;
  /** The pod's fsGroup: it owns the token file (mode 0640) and the certificate files (0440). */
  fsGroup: number;
  /** A csi-driver certificate per pod instead of the `certificateSecretName` Secret. */
  csi?: Omit<K8sCsiCertificateInput, "fsGroup"> | undefined;
}

const certificateSourceOf = (input: K8sDeploymentInput): K8sCertificateSource =>
  input.csi ? { csi: { ...input.csi, fsGroup: input.fsGroup } } : { secretName: input.certificateSecretName };

const TOKEN_MOUNT = { name: TOKEN_VOLUME, mountPath: TOKEN_MOUNT_PATH, readOnly: true };

/**
 * A complete Deployment: the application container (`appImage`) with the container-credentials
 * environment and the token volume (read-only), the sidecar, the two volumes, a restricted
 * security context and resource requests/limits.
 * @public
 */
export function buildDeployment(input: K8sDeploymentInput & { appImage: string }): Deployment {
  const labels = { "app.kubernetes.io/name": input.workload };
  const app: IContainer = {
    name: input.container,
    image: input.appImage,
    env: buildAppEnv(input.configMapName, { region: true }),
    volumeMounts: [TOKEN_MOUNT],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    securityContext: RESTRICTED,
  };
  const deployment = new Deployment({
    metadata: { name: input.name, namespace: input.namespace, labels: { ...MANAGED_BY, ...labels } },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            fsGroup: input.fsGroup,
            seccompProfile: { type: "RuntimeDefault" },
          },
          initContainers: [buildSidecarContainer(input).toJSON()],
          containers: [app],
          volumes: buildPodVolumes(certificateSourceOf(input)).map((v) => v.toJSON()),
        },
      },
    },
  });
  deployment.validate();
  return deployment;
}

/**
 * A strategic-merge patch (`kubectl patch deployment … --patch-file`, or a kustomize `patches:`
 * entry) that adds the sidecar, the volumes, the fsGroup and the application container's
 * environment to an existing Deployment; lists merge by name, so the rest of it is kept. It is not
 * a whole Deployment, so its parts are validated one by one.
 * @public
 */
export function buildDeploymentPatch(input: K8sDeploymentInput): Deployment {
  const app = new Container({
    name: input.container,
    env: buildAppEnv(input.configMapName, { region: false }),
    volumeMounts: [TOKEN_MOUNT],
  });
  app.validate();
  const spec = {
    template: {
      spec: {
        securityContext: { fsGroup: input.fsGroup },
        initContainers: [buildSidecarContainer(input).toJSON()],
        containers: [app.toJSON()],
        volumes: buildPodVolumes(certificateSourceOf(input)).map((v) => v.toJSON()),
      },
    },
  };
  // A patch leaves `selector` (required in a whole Deployment) to the Deployment it patches.
  return new Deployment({
    metadata: { name: input.name, namespace: input.namespace },
    spec: spec as NonNullable<Deployment["spec"]>,
  });
}
