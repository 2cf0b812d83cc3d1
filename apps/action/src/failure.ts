import { asIamRaError, CredentialMaterialError, IamRaError, type IamRaErrorCode } from "@iam-ra/core";
import { StsError } from "@iam-ra/core/sts";

/**
 * Hints in the action's own words. Core words its hints for the CLI (`--private-key`,
 * `IAM_RA_…`, `iam-ra host rotate`, "the key file"); for its certificate and key errors, and for
 * any hint that names a CLI flag, the entry for the error's code is shown instead.
 */
const ACTION_HINTS: Partial<Record<IamRaErrorCode, string>> = {
  "private-key-password":
    "Set private-key-passphrase to the password the private key (or PKCS#12 archive) was encrypted with.",
  "private-key-invalid":
    "Set private-key to the PEM text of the key (-----BEGIN … PRIVATE KEY-----), or put a combined PEM or a base64 PKCS#12 archive in certificate.",
  "private-key-unsupported":
    "Use an RSA or EC (P-256, P-384, P-521) key, or re-export the PKCS#12 archive with openssl pkcs12 -export.",
  "key-certificate-mismatch":
    "Set private-key to the key of this certificate: the two public keys differ (check that both secrets were updated together).",
  "certificate-invalid":
    "Set certificate to the PEM text of the certificate (-----BEGIN CERTIFICATE-----) or a base64 PKCS#12 archive, and certificate-chain to PEM certificates only.",
  "certificate-expired":
    "Issue a new certificate and update the secret the certificate input reads (every certificate of the chain must be valid too).",
  "certificate-not-yet-valid": "Check the runner's clock, or wait until the certificate's notBefore.",
  "certificate-revoked": "This certificate was revoked; issue a new one and update the certificate secret.",
  "untrusted-certificate":
    "The chain does not reach an enabled trust anchor: set certificate-chain to the intermediate CA certificates, or check the trust anchor's CA and that it is enabled.",
  "duration-invalid": "Lower role-duration-seconds to at most the profile's durationSeconds (900–43200).",
  "session-name-not-allowed": "Remove role-session-name, or set acceptRoleSessionName on the profile.",
  throttled:
    "CreateSession allows 10 requests per second per account: raise retry-max-attempts or spread the jobs out.",
  "arn-invalid": "Check trust-anchor-arn, profile-arn and role-to-assume.",
  "endpoint-invalid": "Set endpoint to a URL such as https://rolesanywhere.us-east-1.amazonaws.com.",
  "profile-disabled": "Enable the profile (aws rolesanywhere enable-profile --profile-id …).",
  "invalid-input": "Check the action's inputs.",
};

/** STS's errors in the action's words, by the service's error type; any other keeps core's hint. */
const STS_HINTS: Record<string, string> = {
  ExpiredToken: "The credentials expired; run this action again to get fresh ones.",
  InvalidClientTokenId:
    "STS does not accept these credentials: check aws-region and sts-endpoint (they must reach the STS of the partition that issued them) and the runner's clock.",
  RegionDisabledException:
    "Activate STS in this region (IAM account settings), or set aws-region to an active region.",
  ValidationError:
    "Check role-to-assume, role-session-name and role-duration-seconds (chained sessions last at most 3600 s).",
};
STS_HINTS.SignatureDoesNotMatch = STS_HINTS.InvalidClientTokenId!;

const CLI_WORDING = /(^|[\s(])--[a-z]|IAM_RA_|iam-ra /;

/** The hint to show for an error: core's own, unless it speaks of files and flags. */
function hintOf(error: IamRaError): string | undefined {
  if (error instanceof StsError) {
    if (error.retryable) return "STS kept failing; raise retry-max-attempts or re-run the job.";
    return STS_HINTS[error.errorType ?? ""] ?? error.hint;
  }
  const cliWorded =
    error instanceof CredentialMaterialError || error.hint === undefined || CLI_WORDING.test(error.hint);
  return cliWorded ? (ACTION_HINTS[error.code] ?? error.hint) : error.hint;
}

/**
 * The one line a failed step shows: what went wrong, then the next step. Never a stack (the
 * caller logs that at debug level) and never input values beyond what the error message names.
 */
export function describeFailure(error: unknown): string {
  // Anything not an IamRaError is a bug, worded by core's one printer of unexpected errors (the
  // action's debug log has the stack).
  const failure = asIamRaError(error, "iam-ra-action");
  const hint = error instanceof IamRaError ? hintOf(failure) : failure.hint;
  return `${failure.message}${hint ? ` Hint: ${hint}` : ""}`.replace(/\s*\r?\n\s*/g, " ");
}
