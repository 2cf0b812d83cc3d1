/** A logged-in session on the token that holds a key; PINs a token refused are never tried again. @internal @module */
import { createHash } from "node:crypto";
import { readSecretFile } from "../files.ts";
import {
  type Attribute,
  CKA_CLASS,
  CKA_ID,
  CKA_LABEL,
  CKF_LOGIN_REQUIRED,
  CKF_SERIAL_SESSION,
  CKR_USER_ALREADY_LOGGED_IN,
  CKU_USER,
  ckr,
  fail,
  type Handle,
  type Pkcs11Module,
} from "./module.ts";
import { describePkcs11Selector, type Pkcs11Uri } from "./uri.ts";

export const trimmed = (text: string) => text.replace(/[\s\0]+$/, "");

/** PINs a token refused in this process, by token: never tried again, so a token does not lock. */
export const refusedPins = new Map<string, Set<string>>();
export const pinDigest = (pin: string) => createHash("sha256").update(pin).digest("hex");

/** The user PIN from the URI's `pin-source` file: a regular file of at most 4 KiB, else refused. */
export async function readPinSource(uri: Pkcs11Uri): Promise<string | undefined> {
  if (!uri.pinSource) return undefined;
  return await readSecretFile(uri.pinSource, "PIN (pin-source)");
}

/** One open session on the token that holds the key, logged in, re-opened after a reset. */
export class TokenSession {
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
