import * as v from "valibot";

/**
 * The current version of the state document. Older documents (ours, and the Python `iam-ra`'s v1/v2
 * layouts) are migrated on read by {@link migrateState}.
 * @public
 */
export const STATE_VERSION = 4;

const Arn = v.pipe(
  v.string(),
  v.regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+$/, "not an ARN"),
);
const IsoDate = v.pipe(v.string(), v.isoTimestamp());

/** How a CA scope's certificates are issued. @public */
export const CaModeSchema = v.picklist(["self-signed", "pca-new", "pca-existing"]);

/** Certificate facts kept in state (never key material). @public */
export const CertificateRecordSchema = v.object({
  serialNumber: v.pipe(v.string(), v.regex(/^\d+$/)),
  fingerprintSha256: v.pipe(v.string(), v.regex(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/)),
  subject: v.string(),
  notBefore: IsoDate,
  notAfter: IsoDate,
});

/** A CA scope: one trust anchor, one CloudFormation stack. @public */
export const CaScopeSchema = v.object({
  stackName: v.string(),
  mode: CaModeSchema,
  trustAnchorArn: Arn,
  pcaArn: v.nullable(Arn),
  keyAlgorithm: v.picklist(["EC_P256", "EC_P384", "EC_P521", "RSA_2048", "RSA_3072", "RSA_4096"]),
  /** The CA certificate (self-signed mode), its PEM in S3 at `certificateKey`. */
  certificate: v.nullable(CertificateRecordSchema),
  certificateKey: v.nullable(v.string()),
  /** The envelope-encrypted CA private key in S3 (self-signed mode). */
  privateKeyKey: v.nullable(v.string()),
  /** The CRL stack, once a certificate of this scope was revoked. */
  crl: v.nullable(
    v.object({
      stackName: v.string(),
      crlArn: v.nullable(v.string()),
      revokedSerials: v.array(v.string()),
      /** Private CA scopes: the imported CRL's thisUpdate; an older CRL is never imported over it. */
      thisUpdate: v.optional(IsoDate),
      /** Private CA scopes: the imported CRL's CRL number (decimal), compared before thisUpdate. */
      crlNumber: v.optional(v.pipe(v.string(), v.regex(/^\d+$/))),
    }),
  ),
  /**
   * Private CA scopes: every certificate iam-ra revoked in the CA and not yet expired, so a CRL
   * import (`ca sync-crl`) knows what it must list even after the host record is gone.
   */
  pcaRevocations: v.optional(
    v.array(v.object({ serialNumber: v.pipe(v.string(), v.regex(/^\d+$/)), notAfter: IsoDate })),
  ),
  createdAt: IsoDate,
});

/** How a role is bound to certificates: a principal-tag condition in its trust policy. @public */
export const RoleBindingSchema = v.object({
  /** e.g. `x509Subject/OU`. */
  tag: v.pipe(v.string(), v.regex(/^x509(Subject|Issuer|SAN)\/[A-Za-z]+$/)),
  value: v.string(),
});

/** A role and its Roles Anywhere profile. @public */
export const RoleSchema = v.object({
  stackName: v.string(),
  roleArn: Arn,
  profileArn: Arn,
  scope: v.string(),
  policies: v.array(Arn),
  sessionDurationSeconds: v.pipe(v.number(), v.integer(), v.minValue(900), v.maxValue(43200)),
  /** Null only for roles imported from the Python `iam-ra`, which bound nothing; `role update` binds them. */
  binding: v.nullable(RoleBindingSchema),
  /**
   * The issuer CNs the deployed trust policy admits (`aws:PrincipalTag/x509Issuer/CN`): the scope
   * CA's, then the Kubernetes namespace issuers of the role's workloads. Absent: deployed without
   * that condition (roles of Private CA scopes, and roles not updated since it was introduced).
   */
  allowedIssuers: v.optional(v.array(v.string())),
  /**
   * The profile's attribute mappings iam-ra set (`role create|update --attribute-mapping`): the
   * fields listed replace AWS's default rules for those fields. Absent: AWS's defaults.
   */
  attributeMappings: v.optional(
    v.array(
      v.object({
        certificateField: v.picklist(["x509Subject", "x509Issuer", "x509SAN"]),
        specifiers: v.array(v.string()),
      }),
    ),
  ),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

/** A host's certificate, current or past. @public */
export const HostCertificateSchema = v.object({
  ...CertificateRecordSchema.entries,
  status: v.picklist(["active", "superseded", "revoked"]),
  /** `generated`: key made by iam-ra; `csr`: the host kept its key and sent a CSR. */
  keySource: v.picklist(["generated", "csr"]),
  revokedAt: v.nullable(IsoDate),
});

/** A host onboarded to a role. @public */
export const HostSchema = v.object({
  role: v.string(),
  scope: v.string(),
  /** Secrets Manager secret holding `{certificate, privateKey?, chain}` (JSON). */
  secretArn: v.nullable(Arn),
  certificates: v.array(HostCertificateSchema),
  /** What the Python `iam-ra` created for this host (a host stack with two secrets), if imported. */
  legacy: v.nullable(
    v.object({
      stackName: v.string(),
      certificateSecretArn: v.nullable(v.string()),
      privateKeySecretArn: v.nullable(v.string()),
    }),
  ),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

/** A Kubernetes cluster registered with `k8s setup`. @public */
export const K8sClusterSchema = v.object({
  name: v.string(),
  createdAt: IsoDate,
});

/**
 * A Kubernetes namespace's issuer for one CA scope: an intermediate CA (path length 0) signed by the
 * scope CA, its key sealed with KMS in the bucket, served to cert-manager as a namespaced `Issuer`.
 * Keyed `<cluster>/<namespace>/<scope>` in `k8s.issuers`.
 * @public
 */
export const K8sIssuerSchema = v.object({
  cluster: v.string(),
  namespace: v.string(),
  scope: v.string(),
  /** The cert-manager `Issuer` and its CA `Secret`, in `namespace`. */
  issuerName: v.string(),
  secretName: v.string(),
  /** Unique per issuer: role trust policies list it in `aws:PrincipalTag/x509Issuer/CN`. */
  commonName: v.string(),
  certificate: CertificateRecordSchema,
  certificateKey: v.string(),
  privateKeyKey: v.string(),
  /** Serials of the certificates this issuer had before a renewal (revoked with it). */
  previousSerials: v.array(v.string()),
  /** `retiring`: being revoked; onboarding issues a new issuer rather than reuse it. */
  status: v.optional(v.picklist(["retiring"])),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

/** How a workload's manifests were generated (re-onboarding without flags keeps them). @public */
export const K8sWorkloadManifestSchema = v.object({
  duration: v.string(),
  renewBefore: v.string(),
  /** `webhook`: no Deployment; the admission webhook injects the sidecar (deployment and container unused). */
  mode: v.picklist(["deployment", "patch", "webhook"]),
  /** Where pods get the certificate: a `Certificate`'s Secret, or cert-manager's csi-driver. Absent: secret. */
  certificates: v.optional(v.picklist(["secret", "csi"])),
  deployment: v.string(),
  container: v.string(),
  appImage: v.nullable(v.string()),
  fsGroup: v.number(),
});

/**
 * A workload onboarded with `k8s onboard`, keyed `<cluster>/<namespace>/<name>` (the Python
 * `iam-ra` keyed them by name; those records have no `issuer`, `scope` or `manifest`).
 * @public
 */
export const K8sWorkloadSchema = v.object({
  name: v.string(),
  cluster: v.string(),
  namespace: v.string(),
  role: v.string(),
  /** The role's CA scope when onboarded. */
  scope: v.optional(v.string()),
  /** Key of its namespace issuer in `k8s.issuers`. */
  issuer: v.optional(v.string()),
  manifest: v.optional(K8sWorkloadManifestSchema),
  /**
   * `offboarding`: `k8s offboard` started; the workload no longer counts for trust policies, and
   * its record goes once AWS is updated (re-running offboard finishes the job). Absent: active.
   */
  status: v.optional(v.picklist(["offboarding"])),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

/** The whole state document of one (account, region, namespace). @public */
export const StateSchema = v.object({
  version: v.literal(STATE_VERSION),
  namespace: v.string(),
  region: v.string(),
  accountId: v.pipe(v.string(), v.regex(/^\d{12}$/)),
  init: v.nullable(
    v.object({
      stackName: v.string(),
      bucketName: v.string(),
      kmsKeyArn: Arn,
      createdAt: IsoDate,
    }),
  ),
  cas: v.record(v.string(), CaScopeSchema),
  roles: v.record(v.string(), RoleSchema),
  hosts: v.record(v.string(), HostSchema),
  k8s: v.object({
    clusters: v.record(v.string(), K8sClusterSchema),
    workloads: v.record(v.string(), K8sWorkloadSchema),
    /** Absent in documents written before namespace issuers existed. */
    issuers: v.optional(v.record(v.string(), K8sIssuerSchema)),
  }),
  updatedAt: IsoDate,
});

/** @public */
export type CaMode = v.InferOutput<typeof CaModeSchema>;
/** @public */
export type CaScope = v.InferOutput<typeof CaScopeSchema>;
/** @public */
export type Role = v.InferOutput<typeof RoleSchema>;
/** @public */
export type RoleBinding = v.InferOutput<typeof RoleBindingSchema>;
/** @public */
export type Host = v.InferOutput<typeof HostSchema>;
/** @public */
export type HostCertificate = v.InferOutput<typeof HostCertificateSchema>;
/** @public */
export type CertificateRecord = v.InferOutput<typeof CertificateRecordSchema>;
/** @public */
export type K8sWorkload = v.InferOutput<typeof K8sWorkloadSchema>;
/** @public */
export type K8sIssuer = v.InferOutput<typeof K8sIssuerSchema>;
/** @public */
export type State = v.InferOutput<typeof StateSchema>;
