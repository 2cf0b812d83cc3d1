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

// ANSI escape sequences (CSI, OSC and two-byte ESC forms), then any control character left: C0
// (tabs and line breaks included: a message is one line), DEL, C1, and the bidirectional
// overrides that make text read differently than it is (U+202A–U+202E, U+2066–U+2069).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
const ANSI_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;

/**
 * Text a peer sent (a service's error message, a certificate's names in a TLS error), made safe
 * for a terminal or a log line: escape sequences removed, every other control character (line
 * breaks included) replaced by one space. Printable text, including non-ASCII, is kept.
 * @public
 */
export function stripControlCharacters(text: string): string {
  return text.replace(ANSI_SEQUENCE, "").replace(CONTROL_CHARACTER, " ");
}

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
  /** The service's own message, with control characters removed ({@link stripControlCharacters}). */
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
    // Everything here may come from the peer, so none of it reaches a terminal as sent.
    super(code, stripControlCharacters(message), options);
    this.statusCode = details.statusCode;
    this.errorType = details.errorType === undefined ? undefined : stripControlCharacters(details.errorType);
    this.serviceMessage =
      details.serviceMessage === undefined ? undefined : stripControlCharacters(details.serviceMessage);
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
