import { CredentialMaterialError, type IamRaErrorCode } from "../errors.ts";
import type { Pkcs11Uri } from "./uri.ts";

// pkcs11js is an optional peer dependency: typed here by the few members we call, loaded only when
// a PKCS#11 source is asked for, so installs and bundles without it stay pure JavaScript.
export type Handle = Buffer;
export interface Attribute {
  type: number;
  value?: Buffer | number | boolean | string;
}
export interface Pkcs11Module {
  load(path: string): void;
  C_Initialize(options?: unknown): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): {
    label: string;
    manufacturerID: string;
    model: string;
    serialNumber: string;
    flags: number;
  };
  C_GetMechanismList(slot: Handle): number[];
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_CloseAllSessions(slot: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_FindObjectsInit(session: Handle, template: Attribute[]): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Attribute[]): Attribute[];
  C_SignInit(session: Handle, mechanism: { mechanism: number }, key: Handle): void;
  C_Sign(session: Handle, data: Buffer, out: Buffer): Buffer;
}
export interface Pkcs11Binding {
  PKCS11: new () => Pkcs11Module;
}

// PKCS#11 v2.40 constants (the binding's names are not needed for these few).
export const CKF_SERIAL_SESSION = 0x4;
export const CKF_LOGIN_REQUIRED = 0x4;
export const CKU_USER = 1;
export const CKU_CONTEXT_SPECIFIC = 2;
export const CKA_CLASS = 0x0;
export const CKA_VALUE = 0x11;
export const CKA_LABEL = 0x3;
export const CKA_ID = 0x102;
export const CKA_KEY_TYPE = 0x100;
export const CKA_EC_PARAMS = 0x180;
export const CKA_ALWAYS_AUTHENTICATE = 0x202;
export const CKO_CERTIFICATE = 1;
export const CKO_PRIVATE_KEY = 3;
export const CKK_RSA = 0;
export const CKK_EC = 3;
export const CKM_RSA_PKCS = 0x1;
export const CKM_SHA256_RSA_PKCS = 0x40;
export const CKM_ECDSA = 0x1041;

/** Return values after which the session is re-opened and the call tried once more (a token reset). */
export const RECONNECT = new Set([
  0x30 /* DEVICE_ERROR */, 0x32 /* DEVICE_REMOVED */, 0x60 /* KEY_HANDLE_INVALID */,
  0x82 /* OBJECT_HANDLE_INVALID */, 0xb0 /* SESSION_CLOSED */, 0xb3 /* SESSION_HANDLE_INVALID */,
  0xe0 /* TOKEN_NOT_PRESENT */, 0xe1 /* TOKEN_NOT_RECOGNIZED */, 0x101 /* USER_NOT_LOGGED_IN */,
  0x190 /* CRYPTOKI_NOT_INITIALIZED */,
]);
export const CKR_USER_ALREADY_LOGGED_IN = 0x100;
export const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;

/** DER prefix of a SHA-256 DigestInfo, for CKM_RSA_PKCS (the token pads; we hash). */
export const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");
export const CURVES: Record<string, string> = {
  "06082a8648ce3d030107": "prime256v1",
  "06052b81040022": "secp384r1",
  "06052b81040023": "secp521r1",
};

/**
 * Where the module and PINs come from. PINs are values here: the caller reads them from a file
 * or the environment, never from argv.
 * @public
 */
export interface Pkcs11Options {
  /** The PKCS#11 module. Default: the URI's `module-path`, then p11-kit's proxy module. */
  modulePath?: string | undefined;
  /** The token's user PIN. Default: read from the URI's `pin-source` file. */
  pin?: string | undefined;
  /** A per-key (context-specific) PIN, for keys that demand one on every use. Default: `pin`. */
  keyPin?: string | undefined;
}

/** Where p11-kit's proxy module is on common systems (it forwards to every configured module). */
export const P11_KIT_PROXY = [
  "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
  "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
  "/usr/lib64/p11-kit-proxy.so",
  "/usr/lib/p11-kit-proxy.so",
  "/opt/homebrew/lib/p11-kit-proxy.dylib",
  "/usr/local/lib/p11-kit-proxy.dylib",
];

export const fail = (code: IamRaErrorCode, message: string, hint: string, cause?: unknown) =>
  new CredentialMaterialError(code, message, { source: "pkcs11", hint, ...(cause ? { cause } : {}) });

/** A CK_ULONG attribute (little-endian, 4 or 8 bytes on the platforms we run on). */
export const ulong = (value: unknown): number =>
  Buffer.isBuffer(value)
    ? value.length === 8
      ? Number(value.readBigUInt64LE())
      : value.readUIntLE(0, Math.min(value.length, 6))
    : Number(value);

/** The PKCS#11 return value of an error thrown by the binding (0 when it is not one). */
export const ckr = (error: unknown): number => {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : 0;
};

export async function loadBinding(): Promise<Pkcs11Binding> {
  try {
    const loaded = (await import("pkcs11js")) as unknown as Pkcs11Binding & { default?: Pkcs11Binding };
    return loaded.default ?? loaded;
  } catch (cause) {
    throw fail(
      "tool-missing",
      "PKCS#11 keys need the optional package pkcs11js, which is not installed (or did not build).",
      'Install it where iam-ra loads it from: for the CLI, npm install --prefix "$(npm root -g)/@iam-ra/cli" pkcs11js; for the library, npm install pkcs11js in your project. It builds a native addon (a C++ compiler and python3 are needed).',
      cause,
    );
  }
}

/** The module to load: the option, the URI's module-path, else p11-kit's proxy. */
export function resolveModulePath(uri: Pkcs11Uri, options: Pkcs11Options): string {
  const chosen = options.modulePath ?? uri.modulePath;
  if (chosen) return chosen;
  const { existsSync } = process.getBuiltinModule("node:fs");
  const proxy = P11_KIT_PROXY.find((path) => existsSync(path));
  if (proxy) return proxy;
  throw fail(
    "invalid-input",
    "No PKCS#11 module was given, and p11-kit's proxy module is not installed.",
    "Pass --pkcs11-lib (or IAM_RA_PKCS11_LIB) with the module's path, e.g. /usr/lib/softhsm/libsofthsm2.so, or install p11-kit.",
  );
}

/** Loaded modules, once per process: C_Initialize may be called only once per module. */
export const modules = new Map<string, Pkcs11Module>();

export async function openModule(path: string): Promise<Pkcs11Module> {
  const cached = modules.get(path);
  if (cached) return cached;
  const { PKCS11 } = await loadBinding();
  const module = new PKCS11();
  const { statSync } = process.getBuiltinModule("node:fs");
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) {
    throw fail(
      "file-not-found",
      `The PKCS#11 module ${path} does not exist.`,
      "Check --pkcs11-lib (or IAM_RA_PKCS11_LIB).",
    );
  }
  try {
    module.load(path);
  } catch (cause) {
    throw fail(
      "invalid-input",
      `${path} is not a PKCS#11 module (it could not be loaded as one).`,
      "Pass the token's PKCS#11 library (.so/.dylib), e.g. /usr/lib/softhsm/libsofthsm2.so or opensc-pkcs11.so.",
      cause,
    );
  }
  try {
    module.C_Initialize();
  } catch (cause) {
    if (ckr(cause) !== CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      throw fail(
        "invalid-input",
        `The PKCS#11 module ${path} failed to initialise.`,
        "Check the module's configuration (e.g. SOFTHSM2_CONF).",
        cause,
      );
    }
  }
  modules.set(path, module);
  return module;
}
