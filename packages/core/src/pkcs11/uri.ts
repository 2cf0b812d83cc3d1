import { CredentialMaterialError } from "../errors.ts";

/**
 * A PKCS#11 URI (RFC 7512) as iam-ra uses it: which token, which object, and where the module and
 * PIN come from. Attributes the URI leaves out match anything.
 * @public
 */
export interface Pkcs11Uri {
  /** Token attributes: `token` (label), `manufacturer`, `serial`, `model`. */
  token?: string | undefined;
  manufacturer?: string | undefined;
  serial?: string | undefined;
  model?: string | undefined;
  /** `slot-id`, a decimal slot number. */
  slotId?: number | undefined;
  /** `object`: the object's label (CKA_LABEL). */
  object?: string | undefined;
  /** `id`: the object's CKA_ID bytes. */
  id?: Uint8Array | undefined;
  /** `type`: which kind of object the URI names (`private`, `cert`, …). */
  type?: "private" | "cert" | "public" | "secret-key" | "data" | undefined;
  /** Query `module-path`: the PKCS#11 module to load. */
  modulePath?: string | undefined;
  /** Query `pin-source`: a `file:` URI or path to read the user PIN from. */
  pinSource?: string | undefined;
}

const TYPES = new Set(["private", "cert", "public", "secret-key", "data"]);
const PATH_ATTRIBUTES = new Set([
  "token",
  "manufacturer",
  "serial",
  "model",
  "slot-id",
  "slot-description",
  "slot-manufacturer",
  "object",
  "id",
  "type",
  "library-manufacturer",
  "library-description",
  "library-version",
]);

/** True when a credential option names a PKCS#11 object rather than a file. @public */
export const isPkcs11Uri = (value: string): boolean => /^pkcs11:/i.test(value.trim());

function invalid(uri: string, why: string): CredentialMaterialError {
  return new CredentialMaterialError("invalid-input", `The PKCS#11 URI ${redactPkcs11Uri(uri)} ${why}`, {
    source: "pkcs11",
    hint: "Write it as in RFC 7512, e.g. pkcs11:token=my-token;object=my-key;type=private (list objects with: p11tool --list-all or pkcs11-tool --list-objects).",
  });
}

/** Percent-decodes one value; the bytes, since `id` is binary. */
function decode(uri: string, value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === "%") {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/i.test(hex)) throw invalid(uri, `has a bad percent-escape near "%${hex}".`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch, "utf8"));
  }
  return Buffer.from(bytes);
}

/**
 * The URI with any PIN value replaced, for messages and logs.
 * @public
 */
export function redactPkcs11Uri(uri: string): string {
  return uri.replace(/([?&;]pin-value=)[^&;]*/gi, "$1***");
}

/**
 * Parses a PKCS#11 URI. Refuses `pin-value` (a PIN in a URI ends up in argv and logs) and
 * attributes RFC 7512 does not define, naming them.
 * @public
 */
export function parsePkcs11Uri(text: string): Pkcs11Uri {
  const uri = text.trim();
  if (!isPkcs11Uri(uri)) throw invalid(uri, 'does not start with "pkcs11:".');
  const rest = uri.slice("pkcs11:".length);
  const queryAt = rest.indexOf("?");
  const path = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : "";
  const result: Pkcs11Uri = {};
  const seen = new Set<string>();
  for (const part of path.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw invalid(uri, `has an attribute without a value: "${part}".`);
    const name = part.slice(0, eq).toLowerCase();
    const raw = part.slice(eq + 1);
    if (!PATH_ATTRIBUTES.has(name)) throw invalid(uri, `has an unknown attribute "${name}".`);
    if (seen.has(name)) throw invalid(uri, `names "${name}" twice.`);
    seen.add(name);
    const value = decode(uri, raw);
    if (name === "id") result.id = new Uint8Array(value);
    else if (name === "slot-id") {
      if (!/^\d+$/.test(value.toString("utf8"))) throw invalid(uri, "has a slot-id that is not a number.");
      result.slotId = Number(value.toString("utf8"));
    } else if (name === "type") {
      const type = value.toString("utf8");
      if (!TYPES.has(type)) throw invalid(uri, `has an unknown type "${type}".`);
      result.type = type as Pkcs11Uri["type"];
    } else if (name === "token") result.token = value.toString("utf8");
    else if (name === "manufacturer") result.manufacturer = value.toString("utf8");
    else if (name === "serial") result.serial = value.toString("utf8");
    else if (name === "model") result.model = value.toString("utf8");
    else if (name === "object") result.object = value.toString("utf8");
    // Slot and library descriptions are accepted and not matched on (the token names the key).
  }
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? "" : decode(uri, part.slice(eq + 1)).toString("utf8");
    if (name === "pin-value") {
      throw new CredentialMaterialError(
        "invalid-input",
        "The PKCS#11 URI carries a PIN (pin-value); a PIN in a URI is visible to every local user and in logs.",
        {
          source: "pkcs11",
          hint: "Remove pin-value and give the PIN through IAM_RA_PKCS11_PIN, --pkcs11-pin-file or pin-source=file:/path.",
        },
      );
    }
    if (name === "module-path") result.modulePath = value;
    else if (name === "pin-source") result.pinSource = value.replace(/^file:(\/\/)?/i, "");
    else if (name !== "module-name") throw invalid(uri, `has an unknown query attribute "${name}".`);
  }
  return result;
}

/** Describes what a URI selects, for messages: `token "t", object "k"`. */
export function describePkcs11Selector(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.token !== undefined) parts.push(`token "${uri.token}"`);
  if (uri.serial !== undefined) parts.push(`serial "${uri.serial}"`);
  if (uri.slotId !== undefined) parts.push(`slot ${uri.slotId}`);
  if (uri.object !== undefined) parts.push(`object "${uri.object}"`);
  if (uri.id !== undefined) parts.push(`id ${Buffer.from(uri.id).toString("hex")}`);
  return parts.length ? parts.join(", ") : "any object";
}
