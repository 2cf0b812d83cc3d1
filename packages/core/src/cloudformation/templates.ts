import type { AttributeMapping } from "../rolesanywhere/attribute-mappings.ts";
import { type CfnTemplate, type CfnValue, getAtt, ref, sub } from "./template.ts";

const tags = (pairs: Record<string, string | { Ref: string }>) =>
  Object.entries(pairs).map(([Key, Value]) => ({ Key, Value }));

/** Every bucket iam-ra makes: no public access of any kind, and no ACLs (the owner owns all). */
const PRIVATE_BUCKET = {
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
  OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
};

/** A bucket policy statement refusing plain HTTP to the bucket (a logical id) and its objects. */
const tlsOnly = (bucket: string) => ({
  Sid: "TlsOnly",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: [getAtt(bucket, "Arn"), sub(`\${${bucket}.Arn}/*`)],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
});

/** Identifies templates and their version in stack metadata. */
const metadata = (kind: string) => ({ "iam-ra": { template: kind, version: 1 } });

/**
 * The namespace's foundation: a KMS key (rotation on, a key policy that keeps the account in charge
 * and lets only the account's principals use it, through S3 and for envelope encryption of CA keys), a
 * versioned, KMS-encrypted, public-access-blocked bucket that refuses plain HTTP, and the SSM
 * parameters that point at both and at the state document. The bucket is retained on stack deletion
 * so `destroy` can empty it first (or keep it with `--retain-bucket`).
 * @public
 */
export function initTemplate(namespace: string): CfnTemplate {
  const keyPolicy = {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" },
        Action: "kms:*",
        Resource: "*",
      },
      {
        // Decrypting is for the bucket and host secrets (through S3 and Secrets Manager) and for
        // iam-ra's own CA-key envelopes of this namespace (bound by their encryption context) only.
        Sid: "DecryptOnlyForThisNamespace",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: {
          StringNotEquals: {
            "kms:ViaService": [
              "s3.${AWS::Region}.${AWS::URLSuffix}",
              "secretsmanager.${AWS::Region}.${AWS::URLSuffix}",
            ],
            "kms:EncryptionContext:iam-ra:namespace": namespace,
          },
        },
      },
    ],
  };
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `iam-ra namespace ${namespace}: state bucket, KMS key, SSM pointers`,
    Metadata: metadata("init"),
    Resources: {
      Key: {
        Type: "AWS::KMS::Key",
        // Kept when the stack goes: `destroy` schedules its deletion itself, except with
        // --retain-bucket, whose objects would otherwise become unreadable.
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: {
          Description: `iam-ra ${namespace}: encrypts the state bucket and CA private keys`,
          EnableKeyRotation: true,
          PendingWindowInDays: 7,
          // A string: moto (and CloudFormation) accept both; ${} placeholders are substituted.
          KeyPolicy: sub(JSON.stringify(keyPolicy)),
          // Tagged through the stack's tags (CloudFormation propagates them).
        },
      },
      KeyAlias: {
        Type: "AWS::KMS::Alias",
        Properties: { AliasName: `alias/iam-ra-${namespace}`, TargetKeyId: ref("Key") },
      },
      Bucket: {
        Type: "AWS::S3::Bucket",
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: {
          VersioningConfiguration: { Status: "Enabled" },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                ServerSideEncryptionByDefault: {
                  SSEAlgorithm: "aws:kms",
                  KMSMasterKeyID: getAtt("Key", "Arn"),
                },
                BucketKeyEnabled: true,
              },
            ],
          },
          ...PRIVATE_BUCKET,
          Tags: tags({ "iam-ra:namespace": namespace }),
        },
      },
      BucketPolicy: {
        Type: "AWS::S3::BucketPolicy",
        Properties: {
          Bucket: ref("Bucket"),
          PolicyDocument: {
            Version: "2012-10-17",
            Statement: [tlsOnly("Bucket")],
          },
        },
      },
      BucketNameParameter: {
        Type: "AWS::SSM::Parameter",
        Properties: { Name: `/iam-ra/${namespace}/bucket-name`, Type: "String", Value: ref("Bucket") },
      },
      KeyArnParameter: {
        Type: "AWS::SSM::Parameter",
        Properties: { Name: `/iam-ra/${namespace}/kms-key-arn`, Type: "String", Value: getAtt("Key", "Arn") },
      },
      StateLocationParameter: {
        Type: "AWS::SSM::Parameter",
        Properties: {
          Name: `/iam-ra/${namespace}/state-location`,
          Type: "String",
          Value: sub(`s3://\${Bucket}/${namespace}/state.json`),
        },
      },
    },
    Outputs: {
      BucketName: { Value: ref("Bucket") },
      KeyArn: { Value: getAtt("Key", "Arn") },
      StateLocation: { Value: sub(`s3://\${Bucket}/${namespace}/state.json`) },
    },
  };
}

/**
 * A CA scope's trust anchor. `self-signed`: the CA certificate (public) is a parameter — no Lambda,
 * and no private key ever passes through CloudFormation. `pca-existing`: an AWS Private CA by ARN.
 * `pca-new`: a new root Private CA, self-signed and activated, then trusted.
 * @public
 */
export function caTemplate(
  namespace: string,
  scope: string,
  mode: "self-signed" | "pca-existing" | "pca-new",
): CfnTemplate {
  const parameters: CfnTemplate["Parameters"] = {};
  const resources: CfnTemplate["Resources"] = {};
  let source: CfnValue;
  if (mode === "self-signed") {
    parameters.CACertificatePem = {
      Type: "String",
      Description: "PEM of the scope's self-signed CA certificate (public).",
      AllowedPattern: "^-----BEGIN CERTIFICATE-----[\\s\\S]+-----END CERTIFICATE-----\\s*$",
    };
    source = {
      SourceType: "CERTIFICATE_BUNDLE",
      SourceData: { X509CertificateData: ref("CACertificatePem") },
    };
  } else if (mode === "pca-existing") {
    parameters.PcaArn = {
      Type: "String",
      AllowedPattern: "^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\\d{12}:certificate-authority/[0-9a-f-]+$",
    };
    source = { SourceType: "AWS_ACM_PCA", SourceData: { AcmPcaArn: ref("PcaArn") } };
  } else {
    parameters.KeyAlgorithm = {
      Type: "String",
      Default: "EC_prime256v1",
      AllowedValues: ["EC_prime256v1", "EC_secp384r1", "RSA_2048", "RSA_4096"],
    };
    parameters.ValidityYears = { Type: "Number", Default: 10, MinValue: 1, MaxValue: 30 };
    parameters.CommonName = { Type: "String", Default: `iam-ra ${namespace}/${scope}`, MaxLength: 64 };
    // The CA publishes its CRL here after each revocation; iam-ra imports it into Roles Anywhere
    // (which does not fetch CRLs itself). SSE-S3: the Private CA cannot write with a KMS key it
    // has no grant for. Private; emptied by `ca delete` before the stack goes.
    resources.CrlBucket = {
      Type: "AWS::S3::Bucket",
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
        ...PRIVATE_BUCKET,
        Tags: tags({ "iam-ra:namespace": namespace, "iam-ra:scope": scope }),
      },
    };
    resources.CrlBucketPolicy = {
      Type: "AWS::S3::BucketPolicy",
      Properties: {
        Bucket: ref("CrlBucket"),
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "PrivateCaWritesCrls",
              Effect: "Allow",
              Principal: { Service: "acm-pca.amazonaws.com" },
              Action: ["s3:PutObject", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:GetBucketLocation"],
              Resource: [getAtt("CrlBucket", "Arn"), sub("${CrlBucket.Arn}/*")],
              Condition: {
                StringEquals: { "aws:SourceAccount": ref("AWS::AccountId") },
                // Any CA of this account and region (the CA's own ARN would be a circular reference).
                ArnLike: {
                  "aws:SourceArn": sub(
                    "arn:${AWS::Partition}:acm-pca:${AWS::Region}:${AWS::AccountId}:certificate-authority/*",
                  ),
                },
              },
            },
            tlsOnly("CrlBucket"),
          ],
        },
      },
    };
    resources.Authority = {
      Type: "AWS::ACMPCA::CertificateAuthority",
      DependsOn: "CrlBucketPolicy",
      Properties: {
        Type: "ROOT",
        KeyAlgorithm: ref("KeyAlgorithm"),
        SigningAlgorithm: { "Fn::If": ["IsEc", "SHA256WITHECDSA", "SHA256WITHRSA"] },
        Subject: { CommonName: ref("CommonName") },
        RevocationConfiguration: {
          CrlConfiguration: {
            Enabled: true,
            ExpirationInDays: 7,
            S3BucketName: ref("CrlBucket"),
            S3ObjectAcl: "BUCKET_OWNER_FULL_CONTROL",
            // The bucket is private: a distribution point URL in certificates would lead nowhere.
            CrlDistributionPointExtensionConfiguration: { OmitExtension: true },
          },
        },
        Tags: tags({ "iam-ra:namespace": namespace, "iam-ra:scope": scope }),
      },
    };
    resources.AuthorityCertificate = {
      Type: "AWS::ACMPCA::Certificate",
      Properties: {
        CertificateAuthorityArn: ref("Authority"),
        CertificateSigningRequest: getAtt("Authority", "CertificateSigningRequest"),
        SigningAlgorithm: { "Fn::If": ["IsEc", "SHA256WITHECDSA", "SHA256WITHRSA"] },
        TemplateArn: sub("arn:${AWS::Partition}:acm-pca:::template/RootCACertificate/V1"),
        Validity: { Type: "YEARS", Value: ref("ValidityYears") },
      },
    };
    resources.Activation = {
      Type: "AWS::ACMPCA::CertificateAuthorityActivation",
      Properties: {
        CertificateAuthorityArn: ref("Authority"),
        Certificate: getAtt("AuthorityCertificate", "Certificate"),
        Status: "ACTIVE",
      },
    };
    source = { SourceType: "AWS_ACM_PCA", SourceData: { AcmPcaArn: ref("Authority") } };
  }
  resources.TrustAnchor = {
    Type: "AWS::RolesAnywhere::TrustAnchor",
    ...(mode === "pca-new" ? { DependsOn: "Activation" } : {}),
    Properties: {
      Name: `iam-ra-${namespace}-${scope}`,
      Enabled: true,
      Source: source,
      NotificationSettings: [
        { Enabled: true, Event: "CA_CERTIFICATE_EXPIRY", Threshold: 45, Channel: "ALL" },
        { Enabled: true, Event: "END_ENTITY_CERTIFICATE_EXPIRY", Threshold: 45, Channel: "ALL" },
      ],
      Tags: tags({ "iam-ra:namespace": namespace, "iam-ra:scope": scope }),
    },
  };
  resources.TrustAnchorArnParameter = {
    Type: "AWS::SSM::Parameter",
    Properties: {
      Name: `/iam-ra/${namespace}/scopes/${scope}/trust-anchor-arn`,
      Type: "String",
      Value: getAtt("TrustAnchor", "TrustAnchorArn"),
    },
  };
  const outputs: CfnTemplate["Outputs"] = {
    TrustAnchorArn: { Value: getAtt("TrustAnchor", "TrustAnchorArn") },
  };
  if (mode === "pca-new") {
    outputs.PcaArn = { Value: ref("Authority") };
    outputs.CrlBucketName = { Value: ref("CrlBucket") };
  }
  if (mode === "pca-existing") outputs.PcaArn = { Value: ref("PcaArn") };
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `iam-ra namespace ${namespace}: CA scope ${scope} (${mode})`,
    Metadata: metadata(`ca-${mode}`),
    Parameters: parameters,
    ...(mode === "pca-new"
      ? {
          Conditions: {
            IsEc: {
              "Fn::Or": [
                { "Fn::Equals": [ref("KeyAlgorithm"), "EC_prime256v1"] },
                { "Fn::Equals": [ref("KeyAlgorithm"), "EC_secp384r1"] },
              ],
            },
          },
        }
      : {}),
    Resources: resources,
    Outputs: outputs,
  };
}

/**
 * Options of {@link roleTemplate}.
 * @public
 */
export interface RoleTemplateOptions {
  namespace: string;
  role: string;
  /** The principal tag the trust policy binds, e.g. `x509Subject/OU`. */
  bindingTag: string;
  /**
   * Also require the certificate's issuer CN (`aws:PrincipalTag/x509Issuer/CN`) to be one of the
   * `AllowedIssuers` parameter's: the scope CA and the Kubernetes namespace issuers where the role
   * is onboarded. Default false (for Private CA scopes, whose issuer iam-ra does not name).
   */
  issuerBinding?: boolean | undefined;
  /** The profile's attribute mappings for these fields (others keep AWS's defaults). Default none. */
  attributeMappings?: readonly AttributeMapping[] | undefined;
}

/**
 * An IAM role and its Roles Anywhere profile. The trust policy admits Roles Anywhere only from the
 * scope's trust anchor (`aws:SourceArn`) and only for certificates whose bound attribute equals the
 * role's value (`aws:PrincipalTag/<tag>`), so a certificate issued for one role cannot assume another;
 * with `issuerBinding`, only for certificates issued by one of the allowed CAs, so a Kubernetes
 * namespace's issuer cannot mint certificates for roles not onboarded there.
 * @public
 */
export function roleTemplate(options: RoleTemplateOptions): CfnTemplate {
  const { namespace, role } = options;
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `iam-ra namespace ${namespace}: role ${role} and its Roles Anywhere profile`,
    Metadata: metadata("role"),
    Parameters: {
      TrustAnchorArn: {
        Type: "String",
        AllowedPattern: "^arn:aws[a-z-]*:rolesanywhere:[a-z0-9-]+:\\d{12}:trust-anchor/[0-9a-zA-Z-]+$",
      },
      BindingValue: {
        Type: "String",
        MinLength: 1,
        MaxLength: 256,
        Description: "Value the certificate's bound attribute must have.",
      },
      SessionDuration: { Type: "Number", Default: 3600, MinValue: 900, MaxValue: 43200 },
      // The role's maximum must be at least an hour (IAM), and at least the profile's duration.
      MaxSessionDuration: { Type: "Number", Default: 3600, MinValue: 3600, MaxValue: 43200 },
      ManagedPolicyArns: { Type: "CommaDelimitedList", Default: "" },
      ...(options.issuerBinding
        ? {
            AllowedIssuers: {
              Type: "CommaDelimitedList",
              Description: "Common names of the CAs whose certificates may assume the role.",
            },
          }
        : {}),
    },
    Conditions: {
      HasPolicies: { "Fn::Not": [{ "Fn::Equals": [{ "Fn::Join": ["", ref("ManagedPolicyArns")] }, ""] }] },
    },
    Resources: {
      Role: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: `iam-ra-${namespace}-${role}`,
          Description: `iam-ra ${namespace}: assumed through Roles Anywhere by certificates bound to ${role}`,
          MaxSessionDuration: ref("MaxSessionDuration"),
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "rolesanywhere.amazonaws.com" },
                Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                Condition: {
                  ArnEquals: { "aws:SourceArn": ref("TrustAnchorArn") },
                  StringEquals: {
                    [`aws:PrincipalTag/${options.bindingTag}`]: ref("BindingValue"),
                    ...(options.issuerBinding
                      ? { "aws:PrincipalTag/x509Issuer/CN": ref("AllowedIssuers") }
                      : {}),
                  },
                },
              },
            ],
          },
          ManagedPolicyArns: { "Fn::If": ["HasPolicies", ref("ManagedPolicyArns"), { Ref: "AWS::NoValue" }] },
          Tags: tags({ "iam-ra:namespace": namespace, "iam-ra:role": role }),
        },
      },
      Profile: {
        Type: "AWS::RolesAnywhere::Profile",
        Properties: {
          Name: `iam-ra-${namespace}-${role}`,
          Enabled: true,
          DurationSeconds: ref("SessionDuration"),
          RoleArns: [getAtt("Role", "Arn")],
          ...(options.attributeMappings?.length
            ? {
                AttributeMappings: options.attributeMappings.map((m) => ({
                  CertificateField: m.certificateField,
                  MappingRules: m.specifiers.map((s) => ({ Specifier: s })),
                })),
              }
            : {}),
          Tags: tags({ "iam-ra:namespace": namespace, "iam-ra:role": role }),
        },
      },
    },
    Outputs: {
      RoleArn: { Value: getAtt("Role", "Arn") },
      ProfileArn: { Value: getAtt("Profile", "ProfileArn") },
    },
  };
}

/**
 * A certificate revocation list imported into Roles Anywhere for a scope's trust anchor.
 * @public
 */
export function crlTemplate(namespace: string, scope: string, crlPem: string): CfnTemplate {
  if (!/^-----BEGIN X509 CRL-----[\s\S]+-----END X509 CRL-----\s*$/.test(crlPem)) {
    throw new TypeError("crlTemplate needs a PEM X509 CRL");
  }
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `iam-ra namespace ${namespace}: revoked certificates of scope ${scope}`,
    Metadata: metadata("crl"),
    Parameters: {
      TrustAnchorArn: { Type: "String" },
    },
    Resources: {
      Crl: {
        Type: "AWS::RolesAnywhere::CRL",
        Properties: {
          Name: `iam-ra-${namespace}-${scope}`,
          // In the template, not a parameter: parameter values stop at 4,096 bytes (a few dozen
          // revocations); an inline template holds 51,200 (see CRL_TEMPLATE_LIMIT).
          CrlData: crlPem,
          TrustAnchorArn: ref("TrustAnchorArn"),
          Enabled: true,
          Tags: tags({ "iam-ra:namespace": namespace, "iam-ra:scope": scope }),
        },
      },
    },
    Outputs: { CrlId: { Value: getAtt("Crl", "CrlId") } },
  };
}
