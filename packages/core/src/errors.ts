/**
 * Typed errors shared by every iam-ra package.
 *
 * Every error carries a stable `code` and, where the user can act, a `hint` that names the next
 * step. Apps map these in exactly one place (the CLI's base command, the action's `run`, the
 * sidecar's error handler).
 * @module
 */

/**
 * Stable error codes. `internal` is a bug; every other code is something the user can fix.
 * @public
 */
export type IamRaErrorCode =
  | "invalid-input"
  | "file-not-found"
  | "file-permission"
  | "certificate-invalid"
  | "certificate-expired"
  | "certificate-not-yet-valid"
  | "private-key-invalid"
  | "private-key-password"
  | "private-key-unsupported"
  | "key-certificate-mismatch"
  | "arn-invalid"
  | "region-mismatch"
  | "endpoint-invalid"
  | "access-denied"
  | "invalid-signature"
  | "untrusted-certificate"
  | "certificate-revoked"
  | "profile-disabled"
  | "trust-anchor-disabled"
  | "role-not-in-profile"
  | "duration-invalid"
  | "session-name-not-allowed"
  | "resource-not-found"
  | "validation"
  | "throttled"
  | "service-unavailable"
  | "network"
  | "timeout"
  | "not-initialized"
  | "state-conflict"
  | "already-exists"
  | "not-found"
  | "in-use"
  | "stack-failed"
  | "aborted"
  | "tool-missing"
  | "internal";

/** Options shared by all {@link IamRaError} constructors. @public */
export interface IamRaErrorOptions {
  /** The next step for the user, one sentence. */
  hint?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error iam-ra throws on purpose.
 * @public
 */
export class IamRaError extends Error {
  override name = "IamRaError";
  readonly code: IamRaErrorCode;
  readonly hint: string | undefined;

  constructor(code: IamRaErrorCode, message: string, options: IamRaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }

  /** True when the error is the user's to fix (bad input, permissions, expired material). */
  get isUserError(): boolean {
    return this.code !== "internal";
  }
}

/**
 * A certificate, private key or chain could not be used.
 * @public
 */
export class CredentialMaterialError extends IamRaError {
  override name = "CredentialMaterialError";
  /** Which input was at fault: `certificate`, `private-key`, `intermediates`, `pkcs12`. */
  readonly source: string | undefined;

  constructor(code: IamRaErrorCode, message: string, options: IamRaErrorOptions & { source?: string } = {}) {
    super(code, message, options);
    this.source = options.source;
  }
}

/**
 * Roles Anywhere (or another AWS service) answered with an error.
 * @public
 */
export class ServiceError extends IamRaError {
  override name = "ServiceError";
  /** HTTP status, 0 when no response arrived. */
  readonly statusCode: number;
  /** The service's error type, e.g. `AccessDeniedException`. */
  readonly errorType: string | undefined;
  /** The service's own message, verbatim. */
  readonly serviceMessage: string | undefined;
  readonly requestId: string | undefined;
  /** Whether the call may succeed when retried. */
  readonly retryable: boolean;

  constructor(
    code: IamRaErrorCode,
    message: string,
    details: {
      statusCode: number;
      errorType?: string | undefined;
      serviceMessage?: string | undefined;
      requestId?: string | undefined;
      retryable: boolean;
    },
    options: IamRaErrorOptions = {},
  ) {
    super(code, message, options);
    this.statusCode = details.statusCode;
    this.errorType = details.errorType;
    this.serviceMessage = details.serviceMessage;
    this.requestId = details.requestId;
    this.retryable = details.retryable;
  }
}

/**
 * Describes any thrown value in one line, never including a stack.
 * @public
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
