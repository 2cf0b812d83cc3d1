// Pure data, no imports: the credential-process fast path bundles this table alone.

/**
 * One credential option as every front end (CLI flag, sidecar flag, environment variable) names it.
 * @public
 */
export interface CredentialOptionSpec {
  /** Kebab-case flag name, e.g. `trust-anchor-arn`. */
  name: string;
  /** Environment variable read when the flag is absent. */
  env: string;
  description: string;
  type: "string" | "boolean" | "integer";
  /** The flag may repeat; front ends join the values with commas. */
  multiple?: boolean;
}

/**
 * The options that say which certificate signs and which session to create, defined once for the
 * CLI (`credential-process`, `update`, `serve`), the sidecar and the docs. Names follow the
 * official helper's flags.
 * @public
 */
export const CREDENTIAL_OPTIONS = [
  {
    name: "certificate",
    env: "IAM_RA_CERTIFICATE",
    type: "string",
    description: "Certificate: PEM (chain and key may follow), DER, or PKCS#12 (.p12/.pfx).",
  },
  {
    name: "private-key",
    env: "IAM_RA_PRIVATE_KEY",
    type: "string",
    description:
      "Private key file (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1; PEM or DER), or a PKCS#11 URI (pkcs11:token=…;object=…).",
  },
  {
    name: "intermediates",
    env: "IAM_RA_INTERMEDIATES",
    type: "string",
    description: "PEM bundle of intermediate CA certificates.",
  },
  {
    name: "private-key-passphrase-file",
    env: "IAM_RA_PRIVATE_KEY_PASSPHRASE_FILE",
    type: "string",
    description:
      "File holding the key or PKCS#12 password (or set IAM_RA_PRIVATE_KEY_PASSPHRASE). Never on the command line.",
  },
  {
    name: "pkcs11-lib",
    env: "IAM_RA_PKCS11_LIB",
    type: "string",
    description:
      "PKCS#11 module for pkcs11: URIs in --certificate/--private-key (default: p11-kit's proxy module).",
  },
  {
    name: "pkcs11-pin-file",
    env: "IAM_RA_PKCS11_PIN_FILE",
    type: "string",
    description: "File holding the token's user PIN (or set IAM_RA_PKCS11_PIN). Never on the command line.",
  },
  {
    name: "pkcs11-key-pin-file",
    env: "IAM_RA_PKCS11_KEY_PIN_FILE",
    type: "string",
    description:
      "File holding a per-key PIN for keys that demand one on every use (or set IAM_RA_PKCS11_KEY_PIN; default: the user PIN).",
  },
  {
    name: "trust-anchor-arn",
    env: "IAM_RA_TRUST_ANCHOR_ARN",
    type: "string",
    description: "Trust anchor ARN.",
  },
  { name: "profile-arn", env: "IAM_RA_PROFILE_ARN", type: "string", description: "Profile ARN." },
  { name: "role-arn", env: "IAM_RA_ROLE_ARN", type: "string", description: "ARN of the role to assume." },
  {
    name: "region",
    env: "IAM_RA_REGION",
    type: "string",
    description: "Region (default: the trust anchor's).",
  },
  {
    name: "session-duration",
    env: "IAM_RA_SESSION_DURATION",
    type: "integer",
    description: "Session duration in seconds, 900–43200 (default 3600).",
  },
  {
    name: "role-session-name",
    env: "IAM_RA_ROLE_SESSION_NAME",
    type: "string",
    description: "Role session name (the profile must accept it).",
  },
  {
    name: "instance-properties",
    env: "IAM_RA_INSTANCE_PROPERTIES",
    type: "string",
    multiple: true,
    description:
      "Instance property key=value sent with CreateSession and recorded on the subject (repeatable; commas separate pairs; at most 50).",
  },
  {
    name: "endpoint",
    env: "IAM_RA_ENDPOINT",
    type: "string",
    description:
      "Custom Roles Anywhere endpoint URL (a base path is signed). Default: AWS_ENDPOINT_URL_ROLESANYWHERE, then AWS_ENDPOINT_URL, as the AWS SDKs read them.",
  },
  {
    name: "use-fips-endpoint",
    env: "IAM_RA_USE_FIPS_ENDPOINT",
    type: "boolean",
    description: "Use the FIPS endpoint.",
  },
  {
    name: "use-dualstack-endpoint",
    env: "IAM_RA_USE_DUALSTACK_ENDPOINT",
    type: "boolean",
    description: "Use the dual-stack endpoint.",
  },
  {
    name: "allow-http",
    env: "IAM_RA_ALLOW_HTTP",
    type: "boolean",
    description:
      "Allow a plain http:// --endpoint off this machine (credentials cross the network unencrypted; loopback is always allowed).",
  },
  {
    name: "no-verify-ssl",
    env: "IAM_RA_NO_VERIFY_SSL",
    type: "boolean",
    description: "Skip TLS certificate verification (testing only).",
  },
  {
    name: "ca-bundle",
    env: "AWS_CA_BUNDLE",
    type: "string",
    description: "Extra CA certificates (PEM) to trust for the endpoint.",
  },
  {
    name: "timeout",
    env: "IAM_RA_TIMEOUT",
    type: "integer",
    description:
      "Deadline of each attempt, whole response included, in milliseconds: 100–120000 (default 10000).",
  },
  {
    name: "max-attempts",
    env: "IAM_RA_MAX_ATTEMPTS",
    type: "integer",
    description:
      "Attempts including the first, 1–10 (default 3); throttling, 5xx and network errors are retried.",
  },
] as const satisfies readonly CredentialOptionSpec[];
