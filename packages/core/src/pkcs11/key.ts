import { createHash, type KeyObject, verify as verifySignature, type X509Certificate } from "node:crypto";
import { CredentialMaterialError } from "../errors.ts";
import type { ExternalSigningKey } from "../x509/external-key.ts";
import {
  CKA_ALWAYS_AUTHENTICATE,
  CKA_EC_PARAMS,
  CKA_KEY_TYPE,
  CKA_VALUE,
  CKK_EC,
  CKK_RSA,
  CKM_ECDSA,
  CKM_RSA_PKCS,
  CKM_SHA256_RSA_PKCS,
  CKO_CERTIFICATE,
  CKO_PRIVATE_KEY,
  CKR_CRYPTOKI_ALREADY_INITIALIZED,
  CKU_CONTEXT_SPECIFIC,
  CURVES,
  ckr,
  fail,
  type Handle,
  modules,
  openModule,
  type Pkcs11Options,
  RECONNECT,
  resolveModulePath,
  SHA256_DIGEST_INFO,
  ulong,
} from "./module.ts";
import { pinDigest, readPinSource, refusedPins, TokenSession } from "./session.ts";
import { parsePkcs11Uri, redactPkcs11Uri } from "./uri.ts";

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
  const pin = options.pin ?? (await readPinSource(uri));
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
  const token = new TokenSession(module, uri, options.pin ?? (await readPinSource(uri)));
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
