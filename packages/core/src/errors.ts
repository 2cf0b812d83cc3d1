/**
 * Typed errors shared by every iam-ra package.
 *
 * Every error carries a stable `code` and, where the user can act, a `hint` that names the next
 * step. Apps map these in exactly one place (the CLI's base command, the action's `run`, the
 * sidecar's error handler).
 * @module
 */

/**
 * Stable error codes, one per meaning (the `code` of `--json` errors and of every {@link IamRaError}).
 * `internal` is a bug; every other code is something the user can fix.
 * @public
 */
export type IamRaErrorCode =
  /** A flag, argument, option or request parameter is malformed or out of range (ours or a service's ValidationException). */
  | "invalid-input"
  /** A local file or directory that was named does not exist. */
  | "file-not-found"
  /** A local file is unsafe or unreadable: its mode, owner, a symlink or a special file. */
  | "file-permission"
  /** A certificate cannot be parsed or is unfit (not a client certificate, a weak signature, a broken chain). */
  | "certificate-invalid"
  | "certificate-expired"
  | "certificate-not-yet-valid"
  /** A private key cannot be parsed. */
  | "private-key-invalid"
  /** An encrypted private key (or a token PIN) needs a password that was wrong or not given. */
  | "private-key-password"
  /** A private key of a kind SigV4-X509 cannot sign with. */
  | "private-key-unsupported"
  | "key-certificate-mismatch"
  | "arn-invalid"
  /** An ARN, endpoint or resource belongs to another region than the one in use. */
  | "region-mismatch"
  | "endpoint-invalid"
  /** AWS refused the caller (AccessDenied; a trust policy or permission that does not allow it). */
  | "access-denied"
  /** Roles Anywhere could not verify the request's signature. */
  | "invalid-signature"
  /** The certificate does not chain to the trust anchor. */
  | "untrusted-certificate"
  | "certificate-revoked"
  | "profile-disabled"
  | "trust-anchor-disabled"
  | "role-not-in-profile"
  /** A session duration outside what the profile or role allows. */
  | "duration-invalid"
  | "session-name-not-allowed"
  /** A thing that was named does not exist: a role, host, scope, profile, trust anchor, object or AWS resource. */
  | "not-found"
  /** AWS throttled the calls (after the retries). */
  | "throttled"
  /** AWS answered 5xx (after the retries). */
  | "service-unavailable"
  /** A connection failed (DNS, refused, reset, TLS). */
  | "network"
  /** A deadline passed (a request, a stack, a wait). */
  | "timeout"
  /** The namespace has no init stack or state: run `iam-ra init`. */
  | "not-initialized"
  /** Another writer changed the state or a file at the same time, and retries did not settle it. */
  | "state-conflict"
  | "already-exists"
  /** Refused because something else still uses it (a scope used by roles, a role used by hosts). */
  | "in-use"
  /** A CloudFormation stack failed (the message names the resource and the reason). */
  | "stack-failed"
  /** Stopped by a signal or the caller's AbortSignal. */
  | "aborted"
  /** An external program iam-ra needs is not installed (e.g. systemctl, a PKCS#11 module). */
  | "tool-missing"
  /** A bug in iam-ra: the message says so and how to report it. */
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
 * The key under which an error lists the iam-ra error classes it is an instance of. A registered
 * symbol, so every copy of this module (two installed versions of @iam-ra/core, or bundles that
 * each carry one) uses the same key.
 */
const ERROR_CLASSES = Symbol.for("@iam-ra/core.error-classes");

/** The error classes an instance of `target` belongs to: each class's own `errorClass`, leaf first. */
function errorClassesOf(target: unknown): string[] {
  const classes: string[] = [];
  for (let c = target; typeof c === "function" && c !== Error; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, "errorClass")) classes.push((c as unknown as { errorClass: string }).errorClass);
  }
  return classes;
}

/** `value instanceof errorClass`, by its prototype chain or, for another copy's error, its list. */
function isErrorOfClass(errorClass: { errorClass: string; prototype: unknown }, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(errorClass, value)) return true;
  if (typeof value !== "object" || value === null || !Object.hasOwn(errorClass, "errorClass")) return false;
  const classes = (value as { [ERROR_CLASSES]?: unknown })[ERROR_CLASSES];
  return Array.isArray(classes) && classes.includes(errorClass.errorClass);
}

/**
 * Base class of every error iam-ra throws on purpose.
 *
 * `instanceof` also recognises an error made by another copy of this module: a program that bundles
 * parts of @iam-ra/core into separate files (the GitHub Action loads its rarely used parts on
 * demand), or an application with two installed versions, still tells an iam-ra error and its
 * class from a bug. Each class names itself in a static `errorClass`; a subclass declares its own.
 * @public
 */
export class IamRaError extends Error {
  /** This class's name among the classes an error lists (see the class description). */
  static readonly errorClass: string = "IamRaError";

  /** The prototype chain first; then the classes an error from another copy lists. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof asks about (a subclass too)
    return isErrorOfClass(this, value);
  }

  override name = "IamRaError";
  readonly code: IamRaErrorCode;
  readonly hint: string | undefined;

  constructor(code: IamRaErrorCode, message: string, options: IamRaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    // Not enumerable: equality checks, JSON and inspection see the error as before.
    Object.defineProperty(this, ERROR_CLASSES, { value: errorClassesOf(new.target) });
  }

  /** True when the error is the user's to fix (bad input, permissions, expired material). */
  get isUserError(): boolean {
    return this.code !== "internal";
  }
}

/** Where bugs are reported; every unexpected error names it. @public */
export const BUG_REPORT_URL = "https://github.com/iam-ra/iam-ra/issues";

/**
 * Any thrown value as an {@link IamRaError}: an `IamRaError` stays as it is; anything else is a bug
 * (`internal`), worded as one — the program it happened in and where to report it. Every app prints
 * errors through this, so an unexpected error reads the same everywhere.
 * @public
 */
export function asIamRaError(error: unknown, program = "iam-ra"): IamRaError {
  if (error instanceof IamRaError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  return new IamRaError("internal", `Unexpected error (a bug in ${program}): ${err.name}: ${err.message}`, {
    hint: `Please report it at ${BUG_REPORT_URL} with what you ran and its output (DEBUG=iam-ra* adds the stack trace; remove secrets first).`,
    cause: error,
  });
}

/**
 * An error as a program prints it on stderr: `<program>: <message>` and, when there is one (not
 * empty), `  hint: <next step>`, each on one line with control characters removed (messages quote peers).
 * @public
 */
export function formatError(error: IamRaError, program = "iam-ra"): string {
  const hint = error.hint ? `  hint: ${stripControlCharacters(error.hint)}\n` : "";
  return `${program}: ${stripControlCharacters(error.message)}\n${hint}`;
}

/**
 * A certificate, private key or chain could not be used.
 * @public
 */
export class CredentialMaterialError extends IamRaError {
  static override readonly errorClass: string = "CredentialMaterialError";
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
  static override readonly errorClass: string = "ServiceError";
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
