import { createHash, createHmac } from "node:crypto";

/**
 * A header map as it goes on the wire: names in any case, values as strings (or repeated values).
 * @public
 */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The parts of an HTTP request that SigV4 signs.
 * @public
 */
export interface SignableRequest {
  method: string;
  /** The path exactly as sent on the wire (already percent-encoded), without the query. */
  path: string;
  /** Query parameters, decoded. Repeated keys are allowed. */
  query: ReadonlyArray<readonly [string, string]>;
  headers: HeaderMap;
  /** Lower-case hex SHA-256 of the body bytes. */
  payloadHash: string;
}

/** `YYYYMMDDTHHMMSSZ`. @public */
export function formatAmzDate(date: Date): string {
  // toISOString's checks (an invalid date throws RangeError), then its fields without a regex.
  const iso = date.toISOString();
  if (iso.length !== 24) return iso.replace(/[-:]/g, "").replace(/\.\d{3}/, ""); // years past 9999
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/**
 * Parses an `X-Amz-Date` value; returns undefined when it is not exactly `YYYYMMDDTHHMMSSZ`.
 * @public
 */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) || formatAmzDate(date) !== value ? undefined : date;
}

/** Lower-case hex SHA-256. @public */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;
const SUB_DELIMS = /[!'()*]/;

/**
 * RFC 3986 percent-encoding as SigV4 defines it: only `A-Z a-z 0-9 - _ . ~` stay as they are.
 * @param encodeSlash - false keeps `/` (for paths).
 * @public
 */
export function uriEncode(value: string, encodeSlash = true): string {
  if (UNRESERVED.test(value)) return value; // most names and ARN pieces: nothing to encode
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // A lone surrogate: encoded as its UTF-8 replacement character, as Buffer.from reads it.
    encoded = encodeURIComponent(Buffer.from(value, "utf8").toString("utf8"));
  }
  // encodeURIComponent leaves !'()* as they are; SigV4 encodes them.
  if (SUB_DELIMS.test(encoded))
    encoded = encoded.replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return encodeSlash || !encoded.includes("%2F") ? encoded : encoded.replace(/%2F/g, "/");
}

/**
 * The canonical URI of a non-S3 service: dot segments removed, then every segment of the wire
 * path encoded once more (so `%2F` on the wire becomes `%252F`).
 * @public
 */
export function canonicalUri(wirePath: string): string {
  if (wirePath === "" || wirePath === "/") return "/";
  const segments: string[] = [];
  for (const segment of wirePath.split("/").slice(1)) {
    if (segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.map((s) => uriEncode(s)).join("/")}`;
}

/** The canonical query string: encoded pairs sorted by key, then by value. @public */
export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/**
 * Splits a raw query string (`a=1&b=%2F`) into decoded pairs. `+` is read as a space, as AWS does.
 * @public
 */
export function parseQueryString(raw: string): Array<[string, string]> {
  if (raw === "") return [];
  return raw.split("&").map((part) => {
    const eq = part.indexOf("=");
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? "" : part.slice(eq + 1);
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    return [decode(key), decode(value)];
  });
}

/** Trims a header value and folds runs of spaces into one, as SigV4 requires. */
function canonicalHeaderValue(value: string | readonly string[]): string {
  const one = (v: string) => {
    const trimmed = v.trim();
    return trimmed.includes("  ") ? trimmed.replace(/ {2,}/g, " ") : trimmed;
  };
  return typeof value === "string" ? one(value) : value.map(one).join(",");
}

/** Finds a header value regardless of the name's case. @public */
export function getHeader(headers: HeaderMap, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower && value !== undefined)
      return typeof value === "string" ? value : value.join(",");
  }
  return undefined;
}

/**
 * The canonical headers block (each `name:value\n`) for the given signed header names.
 * Throws when a signed header is missing from the request.
 * @public
 */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  const byName = new Map<string, string | readonly string[]>();
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = key.toLowerCase();
    const prev = byName.get(lower);
    byName.set(lower, prev === undefined ? value : [...[prev].flat(), ...[value].flat()]);
  }
  return signedHeaders
    .map((name) => {
      const value = byName.get(name);
      if (value === undefined) throw new Error(`signed header "${name}" is not in the request`);
      return `${name}:${canonicalHeaderValue(value)}\n`;
    })
    .join("");
}

/**
 * The SigV4 canonical request.
 * @param signedHeaders - lower-case names, sorted.
 * @public
 */
export function createCanonicalRequest(request: SignableRequest, signedHeaders: readonly string[]): string {
  return [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQueryString(request.query),
    canonicalHeaders(request.headers, signedHeaders),
    signedHeaders.join(";"),
    request.payloadHash,
  ].join("\n");
}

/** `YYYYMMDD/region/service/aws4_request`. @public */
export function credentialScope(amzDate: string, region: string, service: string): string {
  return `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`;
}

/** The SigV4 string to sign. @public */
export function createStringToSign(
  algorithm: string,
  amzDate: string,
  scope: string,
  canonicalRequest: string,
): string {
  return `${algorithm}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

const UNSIGNED = new Set(["authorization", "user-agent", "x-amzn-trace-id", "expect", "content-length"]);

/** The sorted, lower-case names of every header except those SigV4 must not sign. @public */
export function defaultSignedHeaders(headers: HeaderMap): string[] {
  const unsigned = UNSIGNED;
  return [...new Set(Object.keys(headers).map((h) => h.toLowerCase()))]
    .filter((h) => !unsigned.has(h))
    .sort();
}

/**
 * The fields of a SigV4 `Authorization` header.
 * @public
 */
export interface ParsedAuthorization {
  algorithm: string;
  /** The credential id: an access key id, or a certificate serial for SigV4-X509. */
  credentialId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/**
 * Parses `ALG Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`.
 * Returns undefined when the header does not have that shape.
 * @public
 */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m = /^(\S+) +(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq === -1) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) return undefined;
  const scope = credential.split("/");
  if (scope.length !== 5) return undefined;
  const [credentialId, date, region, service, terminator] = scope as [string, string, string, string, string];
  return {
    algorithm: m[1]!,
    credentialId,
    date,
    region,
    service,
    terminator,
    signedHeaders: signedHeaders.split(";"),
    signature,
  };
}

/** The SigV4 HMAC signing key for a secret, date, region and service. @public */
export function deriveSigningKey(secret: string, amzDate: string, region: string, service: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(amzDate.slice(0, 8)).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** Hex HMAC-SHA256 of a string to sign with a derived key (standard `AWS4-HMAC-SHA256`). @public */
export function hmacSignature(signingKey: Buffer, stringToSign: string): string {
  return createHmac("sha256", signingKey).update(stringToSign).digest("hex");
}
