import { createHash, type KeyObject, verify as verifySignature, type X509Certificate } from "node:crypto";
import { CredentialMaterialError, type IamRaErrorCode } from "../errors.ts";
import type { ExternalSigningKey } from "../x509/material.ts";
import { describePkcs11Selector, type Pkcs11Uri, parsePkcs11Uri, redactPkcs11Uri } from "./uri.ts";

// pkcs11js is an optional peer dependency: typed here by the few members we call, loaded only when
// a PKCS#11 source is asked for, so installs and bundles without it stay pure JavaScript.
type Handle = Buffer;
interface Attribute {
  type: number;
  value?: Buffer | number | boolean | string;
}
interface Pkcs11Module {
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
interface Pkcs11Binding {
  PKCS11: new () => Pkcs11Module;
}

// PKCS#11 v2.40 constants (the binding's names are not needed for these few).
const CKF_SERIAL_SESSION = 0x4;
const CKF_LOGIN_REQUIRED = 0x4;
const CKU_USER = 1;
const CKU_CONTEXT_SPECIFIC = 2;
const CKA_CLASS = 0x0;
const CKA_VALUE = 0x11;
const CKA_LABEL = 0x3;
const CKA_ID = 0x102;
const CKA_KEY_TYPE = 0x100;
const CKA_EC_PARAMS = 0x180;
const CKA_ALWAYS_AUTHENTICATE = 0x202;
const CKO_CERTIFICATE = 1;
const CKO_PRIVATE_KEY = 3;
const CKK_RSA = 0;
const CKK_EC = 3;
const CKM_RSA_PKCS = 0x1;
const CKM_SHA256_RSA_PKCS = 0x40;
const CKM_ECDSA = 0x1041;

/** Return values after which the session is re-opened and the call tried once more (a token reset). */
const RECONNECT = new Set([
  0x30 /* DEVICE_ERROR */, 0x32 /* DEVICE_REMOVED */, 0x60 /* KEY_HANDLE_INVALID */,
  0x82 /* OBJECT_HANDLE_INVALID */, 0xb0 /* SESSION_CLOSED */, 0xb3 /* SESSION_HANDLE_INVALID */,
  0xe0 /* TOKEN_NOT_PRESENT */, 0xe1 /* TOKEN_NOT_RECOGNIZED */, 0x101 /* USER_NOT_LOGGED_IN */,
  0x190 /* CRYPTOKI_NOT_INITIALIZED */,
]);
const CKR_USER_ALREADY_LOGGED_IN = 0x100;
const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;

/** DER prefix of a SHA-256 DigestInfo, for CKM_RSA_PKCS (the token pads; we hash). */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");
const CURVES: Record<string, string> = {
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
const P11_KIT_PROXY = [
  "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
  "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
  "/usr/lib64/p11-kit-proxy.so",
  "/usr/lib/p11-kit-proxy.so",
  "/opt/homebrew/lib/p11-kit-proxy.dylib",
  "/usr/local/lib/p11-kit-proxy.dylib",
];

const fail = (code: IamRaErrorCode, message: string, hint: string, cause?: unknown) =>
  new CredentialMaterialError(code, message, { source: "pkcs11", hint, ...(cause ? { cause } : {}) });

/** A CK_ULONG attribute (little-endian, 4 or 8 bytes on the platforms we run on). */
const ulong = (value: unknown): number =>
  Buffer.isBuffer(value)
    ? value.length === 8
      ? Number(value.readBigUInt64LE())
      : value.readUIntLE(0, Math.min(value.length, 6))
    : Number(value);

/** The PKCS#11 return value of an error thrown by the binding (0 when it is not one). */
const ckr = (error: unknown): number => {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : 0;
};

async function loadBinding(): Promise<Pkcs11Binding> {
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
function resolveModulePath(uri: Pkcs11Uri, options: Pkcs11Options): string {
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
const modules = new Map<string, Pkcs11Module>();

async function openModule(path: string): Promise<Pkcs11Module> {
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

const trimmed = (text: string) => text.replace(/[\s\0]+$/, "");

/** PINs a token refused in this process, by token: never tried again, so a token does not lock. */
const refusedPins = new Map<string, Set<string>>();
const pinDigest = (pin: string) => createHash("sha256").update(pin).digest("hex");

function readPinSource(uri: Pkcs11Uri): string | undefined {
  if (!uri.pinSource) return undefined;
  try {
    const { readFileSync } = process.getBuiltinModule("node:fs");
    return readFileSync(uri.pinSource, "utf8").replace(/\r?\n$/, "");
  } catch (cause) {
    throw fail(
      "file-not-found",
      `The PIN file ${uri.pinSource} (pin-source) cannot be read.`,
      "Check the pin-source path and that this user may read it.",
      cause,
    );
  }
}

/** One open session on the token that holds the key, logged in, re-opened after a reset. */
class TokenSession {
  session: Handle | undefined;
  slot: Handle | undefined;
  tokenName = "";
  readonly module: Pkcs11Module;
  readonly uri: Pkcs11Uri;
  readonly pin: string | undefined;

  constructor(module: Pkcs11Module, uri: Pkcs11Uri, pin: string | undefined) {
    this.module = module;
    this.uri = uri;
    this.pin = pin;
  }

  open(): Handle {
    const slots = this.module
      .C_GetSlotList(true)
      .map((slot, index) => ({ slot, index, info: this.module.C_GetTokenInfo(slot) }));
    const matching = slots.filter(({ info, index }) => {
      const u = this.uri;
      return (
        (u.token === undefined || trimmed(info.label) === u.token) &&
        (u.manufacturer === undefined || trimmed(info.manufacturerID) === u.manufacturer) &&
        (u.serial === undefined || trimmed(info.serialNumber) === u.serial) &&
        (u.model === undefined || trimmed(info.model) === u.model) &&
        (u.slotId === undefined || u.slotId === index)
      );
    });
    const list = slots
      .map(({ info }) => `"${trimmed(info.label)}" (serial ${trimmed(info.serialNumber)})`)
      .join(", ");
    if (matching.length === 0) {
      throw fail(
        "not-found",
        `No token matches ${describePkcs11Selector(this.uri)}; tokens present: ${list || "none"}.`,
        "Check token= (and serial=) in the URI, and that the token is plugged in.",
      );
    }
    if (matching.length > 1) {
      throw fail(
        "invalid-input",
        `${matching.length} tokens match ${describePkcs11Selector(this.uri)}: ${matching.map(({ info }) => `"${trimmed(info.label)}" (serial ${trimmed(info.serialNumber)})`).join(", ")}.`,
        "Add token= or serial= to the URI so it names one token.",
      );
    }
    const { slot, info } = matching[0]!;
    this.slot = slot;
    this.tokenName = trimmed(info.label);
    const session = this.module.C_OpenSession(slot, CKF_SERIAL_SESSION);
    if (info.flags & CKF_LOGIN_REQUIRED) this.login(session, CKU_USER, this.pin, "user PIN");
    this.session = session;
    return session;
  }

  login(session: Handle, userType: number, pin: string | undefined, what: string): void {
    if (pin === undefined) {
      throw fail(
        "private-key-password",
        `The token "${this.tokenName}" needs its ${what}, and none was given.`,
        "Set IAM_RA_PKCS11_PIN, or pass --pkcs11-pin-file (or pin-source=file:/path in the URI). Never put a PIN on the command line.",
      );
    }
    const tried = refusedPins.get(this.tokenName);
    if (tried?.has(pinDigest(pin))) {
      throw fail(
        "private-key-password",
        `The ${what} for token "${this.tokenName}" was refused before; iam-ra does not try it again, so the token does not lock.`,
        "Fix the PIN and restart.",
      );
    }
    try {
      this.module.C_Login(session, userType, pin);
    } catch (cause) {
      const code = ckr(cause);
      if (code === CKR_USER_ALREADY_LOGGED_IN) return;
      if (
        code === 0xa0 /* PIN_INCORRECT */ ||
        code === 0xa1 /* PIN_INVALID */ ||
        code === 0xa2 /* PIN_LEN_RANGE */
      ) {
        refusedPins.set(this.tokenName, (tried ?? new Set()).add(pinDigest(pin)));
        throw fail(
          "private-key-password",
          `The token "${this.tokenName}" refused the ${what}.`,
          "Check the PIN; tokens lock after a few wrong ones, so do not retry blindly.",
          cause,
        );
      }
      if (code === 0xa4 /* PIN_LOCKED */ || code === 0xa3 /* PIN_EXPIRED */) {
        throw fail(
          "private-key-password",
          `The ${what} of token "${this.tokenName}" is ${code === 0xa4 ? "locked" : "expired"}.`,
          "Unlock or reset it with the token's own tool (e.g. softhsm2-util, yubico-piv-tool --action unblock-pin), then retry.",
          cause,
        );
      }
      throw cause;
    }
  }

  close(): void {
    if (this.session === undefined) return;
    try {
      this.module.C_CloseSession(this.session);
    } catch {
      // already gone with a reset
    }
    this.session = undefined;
  }

  find(session: Handle, objectClass: number): Array<{ handle: Handle; label: string; id: string }> {
    const template: Attribute[] = [{ type: CKA_CLASS, value: objectClass }];
    if (this.uri.object !== undefined) template.push({ type: CKA_LABEL, value: this.uri.object });
    if (this.uri.id !== undefined) template.push({ type: CKA_ID, value: Buffer.from(this.uri.id) });
    this.module.C_FindObjectsInit(session, template);
    let handles: Handle[];
    try {
      handles = this.module.C_FindObjects(session, 16);
    } finally {
      this.module.C_FindObjectsFinal(session);
    }
    return handles.map((handle) => {
      const [label, id] = this.module.C_GetAttributeValue(session, handle, [
        { type: CKA_LABEL },
        { type: CKA_ID },
      ]);
      return {
        handle,
        label: Buffer.isBuffer(label?.value) ? label.value.toString("utf8") : "",
        id: Buffer.isBuffer(id?.value) ? id.value.toString("hex") : "",
      };
    });
  }

  /** The one object of a class the URI selects, with clear errors for none or several. */
  findOne(session: Handle, objectClass: number, what: string): Handle {
    const found = this.find(session, objectClass);
    const selector = describePkcs11Selector(this.uri);
    if (found.length === 0) {
      throw fail(
        "not-found",
        `Token "${this.tokenName}" holds no ${what} matching ${selector}.`,
        `Check object= (label) and id= in the URI; list the token's objects with: pkcs11-tool --module <lib> --login --list-objects.`,
      );
    }
    if (found.length > 1) {
      throw fail(
        "invalid-input",
        `${found.length} ${what}s on token "${this.tokenName}" match ${selector}: ${found
          .map((o) => `object=${o.label};id=${o.id}`)
          .sort()
          .join(", ")}.`,
        "Add object= or id= to the URI so it names exactly one.",
      );
    }
    return found[0]!.handle;
  }
}

/** A key held in a PKCS#11 token, as the signer uses it. @internal */
class Pkcs11SigningKey implements ExternalSigningKey {
  readonly kind = "pkcs11";
  keyType: "RSA" | "EC" = "RSA";
  namedCurve: string | undefined;
  readonly description: string;
  private readonly token: TokenSession;
  private readonly keyPin: string | undefined;
  private handle: Handle | undefined;
  private mechanism = CKM_ECDSA;
  private alwaysAuthenticate = false;

  constructor(token: TokenSession, keyPin: string | undefined, uriText: string) {
    this.token = token;
    this.keyPin = keyPin;
    this.description = redactPkcs11Uri(uriText);
  }

  /** Opens the session and finds the key (again, after a reset). */
  connect(): void {
    const session = this.token.open();
    const handle = this.token.findOne(session, CKO_PRIVATE_KEY, "private key");
    // One attribute a call: a token answers CKR_ATTRIBUTE_TYPE_INVALID for the whole template when
    // one does not apply (EC parameters on an RSA key, ALWAYS_AUTHENTICATE on older tokens).
    const attribute = (type: number) => {
      try {
        return this.token.module.C_GetAttributeValue(session, handle, [{ type }])[0]?.value;
      } catch {
        return undefined;
      }
    };
    const keyType = ulong(attribute(CKA_KEY_TYPE));
    const mechanisms = new Set(this.token.module.C_GetMechanismList(this.token.slot!));
    if (keyType === CKK_RSA) {
      this.keyType = "RSA";
      this.mechanism = mechanisms.has(CKM_SHA256_RSA_PKCS) ? CKM_SHA256_RSA_PKCS : CKM_RSA_PKCS;
    } else if (keyType === CKK_EC) {
      this.keyType = "EC";
      this.mechanism = CKM_ECDSA;
      const params = attribute(CKA_EC_PARAMS);
      this.namedCurve = Buffer.isBuffer(params) ? CURVES[params.toString("hex")] : undefined;
      if (!this.namedCurve) {
        throw fail(
          "private-key-unsupported",
          `The token's EC key is on a curve Roles Anywhere does not support.`,
          "Use a P-256, P-384 or P-521 key.",
        );
      }
    } else {
      throw fail(
        "private-key-unsupported",
        `The token's key is of type ${keyType}, not RSA or EC.`,
        "Use an RSA or EC (P-256, P-384, P-521) key.",
      );
    }
    if (!mechanisms.has(this.mechanism)) {
      throw fail(
        "private-key-unsupported",
        `Token "${this.token.tokenName}" does not offer the signing mechanism an ${this.keyType} key needs (${this.keyType === "RSA" ? "CKM_RSA_PKCS" : "CKM_ECDSA"}).`,
        "Use a token or key type that can sign with PKCS#1 v1.5 (RSA) or ECDSA.",
      );
    }
    const always = attribute(CKA_ALWAYS_AUTHENTICATE);
    this.alwaysAuthenticate = Buffer.isBuffer(always) ? always[0] === 1 : always === true;
    this.handle = handle;
  }

  signSha256(data: Buffer): Buffer {
    try {
      return this.signOnce(data);
    } catch (error) {
      if (!RECONNECT.has(ckr(error))) throw this.mapSignError(error);
    }
    // The token was reset, removed and re-inserted, or the session dropped: start again, once.
    this.token.close();
    try {
      try {
        this.token.module.C_Initialize();
      } catch (error) {
        if (ckr(error) !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
      }
      this.connect();
      return this.signOnce(data);
    } catch (error) {
      throw this.mapSignError(error);
    }
  }

  close(): void {
    this.token.close();
  }

  private signOnce(data: Buffer): Buffer {
    if (this.token.session === undefined || this.handle === undefined) this.connect();
    const session = this.token.session!;
    const digest = createHash("sha256").update(data).digest();
    const input =
      this.mechanism === CKM_SHA256_RSA_PKCS
        ? data
        : this.mechanism === CKM_RSA_PKCS
          ? Buffer.concat([SHA256_DIGEST_INFO, digest])
          : digest;
    this.token.module.C_SignInit(session, { mechanism: this.mechanism }, this.handle!);
    if (this.alwaysAuthenticate)
      this.token.login(session, CKU_CONTEXT_SPECIFIC, this.keyPin ?? this.token.pin, "key PIN");
    const signature = this.token.module.C_Sign(session, input, Buffer.alloc(1024));
    return this.keyType === "EC" ? rawEcdsaToDer(signature) : signature;
  }

  private mapSignError(error: unknown): unknown {
    if (error instanceof CredentialMaterialError) return error;
    const code = ckr(error);
    if (code === 0x70 /* MECHANISM_INVALID */ || code === 0x68 /* KEY_FUNCTION_NOT_PERMITTED */) {
      return fail(
        "private-key-unsupported",
        `Token "${this.token.tokenName}" refused to sign with this key (${(error as Error).message}).`,
        "Check that the key may sign (CKA_SIGN) with PKCS#1 v1.5 or ECDSA.",
        error,
      );
    }
    if (RECONNECT.has(code)) {
      return fail(
        "service-unavailable",
        `Token "${this.token.tokenName}" is not available (${(error as Error).message}).`,
        "Check that the token is present and its service (pcscd, tpm2-abrmd) is running.",
        error,
      );
    }
    return fail(
      "internal",
      `Signing on token "${this.token.tokenName}" failed: ${(error as Error).message}.`,
      "This may be a token or module fault; retry, and report it if it persists.",
      error,
    );
  }
}

/** ECDSA as PKCS#11 returns it (r || s) in the DER form SigV4-X509 and X.509 use. */
function rawEcdsaToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const integer = (bytes: Buffer) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let value = bytes.subarray(i);
    if (value[0]! & 0x80) value = Buffer.concat([Buffer.of(0), value]);
    return Buffer.concat([Buffer.of(0x02, value.length), value]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  const length = body.length < 0x80 ? Buffer.of(body.length) : Buffer.of(0x81, body.length);
  return Buffer.concat([Buffer.of(0x30), length, body]);
}

/** Open keys, by module, URI and PINs: a long-running server keeps one session and login. */
const openKeys = new Map<string, Pkcs11SigningKey>();

/**
 * Opens the private key a PKCS#11 URI names (once per process, then reused), logged in with the
 * user PIN. Its `signSha256` signs on the token; the key never leaves it.
 * @public
 */
export async function openPkcs11Key(
  uriText: string,
  options: Pkcs11Options = {},
): Promise<ExternalSigningKey> {
  const uri = parsePkcs11Uri(uriText);
  const modulePath = resolveModulePath(uri, options);
  const pin = options.pin ?? readPinSource(uri);
  const cacheKey = JSON.stringify([
    modulePath,
    uriText,
    pin === undefined ? "" : pinDigest(pin),
    options.keyPin === undefined ? "" : pinDigest(options.keyPin),
  ]);
  const cached = openKeys.get(cacheKey);
  if (cached) return cached;
  const module = await openModule(modulePath);
  const key = new Pkcs11SigningKey(new TokenSession(module, uri, pin), options.keyPin, uriText);
  try {
    key.connect();
  } catch (error) {
    key.close();
    throw error instanceof CredentialMaterialError
      ? error
      : fail(
          "invalid-input",
          `The PKCS#11 key ${key.description} could not be opened: ${(error as Error).message}.`,
          "Check the URI, the module and the token.",
          error,
        );
  }
  openKeys.set(cacheKey, key);
  return key;
}

/**
 * Reads a certificate (DER) a PKCS#11 URI names from its token.
 * @public
 */
export async function readPkcs11Certificate(
  uriText: string,
  options: Pkcs11Options = {},
): Promise<Uint8Array> {
  const uri = parsePkcs11Uri(uriText);
  const module = await openModule(resolveModulePath(uri, options));
  const token = new TokenSession(module, uri, options.pin ?? readPinSource(uri));
  const session = token.open();
  try {
    const handle = token.findOne(session, CKO_CERTIFICATE, "certificate");
    const [value] = module.C_GetAttributeValue(session, handle, [{ type: CKA_VALUE }]);
    if (!Buffer.isBuffer(value?.value))
      throw fail(
        "certificate-invalid",
        `The certificate object on token "${token.tokenName}" has no value.`,
        "Store the certificate's DER as the object's value.",
      );
    return new Uint8Array(value.value);
  } finally {
    token.close();
  }
}

/**
 * Whether a key on a token belongs to a certificate: it signs a challenge that the certificate's
 * public key verifies (works for any key type, and proves the token can sign).
 * @internal
 */
export function externalKeyMatches(key: ExternalSigningKey, certificate: X509Certificate): boolean {
  const challenge = Buffer.from(`iam-ra key check ${certificate.serialNumber}`);
  const signature = key.signSha256(challenge);
  return verifySignature(
    "sha256",
    challenge,
    { key: certificate.publicKey as KeyObject, dsaEncoding: "der" },
    signature,
  );
}

/**
 * Closes every session of every loaded module, as a token reset does (tests of the reconnect).
 * @internal
 */
export function resetPkcs11Sessions(): void {
  for (const module of modules.values()) {
    for (const slot of module.C_GetSlotList(true)) module.C_CloseAllSessions(slot);
  }
}

/** Finalizes every loaded module (tests, and a clean process exit). @internal */
export function closeAllPkcs11(): void {
  for (const key of openKeys.values()) key.close();
  openKeys.clear();
  for (const module of modules.values()) {
    try {
      module.C_Finalize();
    } catch {
      // already finalized
    }
  }
  modules.clear();
  refusedPins.clear();
}
