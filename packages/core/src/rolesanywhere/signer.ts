import { type KeyObject, sign } from "node:crypto";
import {
  createCanonicalRequest,
  createStringToSign,
  credentialScope,
  defaultSignedHeaders,
  formatAmzDate,
  type SignableRequest,
  sha256Hex,
  uriEncode,
} from "../sigv4/canonical.ts";
import { type ExternalSigningKey, isExternalSigningKey } from "../x509/external-key.ts";
import type { X509SigningAlgorithm } from "../x509/material.ts";
import type { ResolvedEndpoint } from "./endpoint.ts";

/** The SigV4 service name of IAM Roles Anywhere. @public */
export const ROLES_ANYWHERE_SERVICE = "rolesanywhere";

/**
 * What a CreateSession call asks for.
 * @public
 */
export interface CreateSessionParams {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  /** 900–43200 seconds. Default 3600 (always sent, as the official helper does). */
  durationSeconds?: number | undefined;
  /** Needs `acceptRoleSessionName` on the profile. */
  roleSessionName?: string | undefined;
  /**
   * Key/value pairs describing the instance (at most 50; keys and values 1–200 characters), which
   * Roles Anywhere records on the subject. Default: none sent (the official helper never sends any).
   */
  instanceProperties?: Readonly<Record<string, string>> | undefined;
}

/**
 * An HTTP request ready to send.
 * @public
 */
export interface HttpRequestSpec {
  method: "POST";
  url: URL;
  /** The wire path, e.g. `/sessions` or `/base/sessions`. */
  path: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body: string;
}

/**
 * A signed CreateSession request and the intermediate values, for diagnostics and tests.
 * @public
 */
export interface SignedCreateSessionRequest extends HttpRequestSpec {
  canonicalRequest: string;
  stringToSign: string;
  /** Lower-case hex. */
  signature: string;
}

/** Identity inputs of the signer. @public */
export interface SigningIdentity {
  /** DER of the end-entity certificate. */
  certificateDer: Uint8Array;
  /** DER of each intermediate, in order, leaf excluded. */
  chainDer?: readonly Uint8Array[] | undefined;
  /** Decimal serial number of the certificate. */
  serialNumber: string;
  algorithm: X509SigningAlgorithm;
  privateKey: KeyObject | ExternalSigningKey;
}

/**
 * Builds the unsigned CreateSession request: ARNs in the query string (as the official helper
 * sends them), `durationSeconds`, `roleSessionName` and `instanceProperties` in a compact JSON body.
 * @public
 */
export function buildCreateSessionRequest(options: {
  endpoint: ResolvedEndpoint;
  params: CreateSessionParams;
  certificateDer: Uint8Array;
  chainDer?: readonly Uint8Array[] | undefined;
  date: Date;
}): HttpRequestSpec {
  const { endpoint, params } = options;
  const body: Record<string, unknown> = { durationSeconds: params.durationSeconds ?? 3600 };
  if (params.roleSessionName !== undefined) body.roleSessionName = params.roleSessionName;
  if (params.instanceProperties && Object.keys(params.instanceProperties).length > 0)
    body.instanceProperties = { ...params.instanceProperties };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    host: endpoint.url.host,
    "x-amz-date": formatAmzDate(options.date),
    "x-amz-x509": Buffer.from(options.certificateDer).toString("base64"),
  };
  if (options.chainDer && options.chainDer.length > 0) {
    headers["x-amz-x509-chain"] = options.chainDer
      .map((der) => Buffer.from(der).toString("base64"))
      .join(",");
  }
  const query: Array<[string, string]> = [
    ["profileArn", params.profileArn],
    ["roleArn", params.roleArn],
    ["trustAnchorArn", params.trustAnchorArn],
  ];
  const path = `${endpoint.url.pathname.replace(/\/+$/, "")}/sessions`;
  const search = query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
  // One parse of the final URL (cheaper than a copy and two setters).
  const url = new URL(`${path}?${search}`, endpoint.url.origin);
  return { method: "POST", url, path, query, headers, body: JSON.stringify(body) };
}

/**
 * Signs a string to sign with an X.509 private key: RSASSA-PKCS1-v1_5 for RSA, DER-encoded ECDSA
 * for EC. Both hash with SHA-256 on every curve.
 * @public
 */
export function signStringToSign(stringToSign: string, privateKey: KeyObject | ExternalSigningKey): Buffer {
  const data = Buffer.from(stringToSign, "utf8");
  return isExternalSigningKey(privateKey)
    ? privateKey.signSha256(data)
    : sign("sha256", data, { key: privateKey, dsaEncoding: "der" });
}

/**
 * Signs a request with SigV4-X509 and returns it with its `Authorization` header.
 * Every header present is signed (`content-type;host;x-amz-date;x-amz-x509[;x-amz-x509-chain]`).
 * @public
 */
export function signRequestX509(
  request: HttpRequestSpec,
  identity: Pick<SigningIdentity, "serialNumber" | "algorithm" | "privateKey">,
  region: string,
  service = ROLES_ANYWHERE_SERVICE,
): SignedCreateSessionRequest {
  const signedHeaders = defaultSignedHeaders(request.headers);
  const signable: SignableRequest = {
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers,
    payloadHash: sha256Hex(request.body),
  };
  const canonicalRequest = createCanonicalRequest(signable, signedHeaders);
  const amzDate = request.headers["x-amz-date"]!;
  const scope = credentialScope(amzDate, region, service);
  const stringToSign = createStringToSign(identity.algorithm, amzDate, scope, canonicalRequest);
  const signature = signStringToSign(stringToSign, identity.privateKey).toString("hex");
  const authorization = `${identity.algorithm} Credential=${identity.serialNumber}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  return {
    ...request,
    headers: { ...request.headers, authorization },
    canonicalRequest,
    stringToSign,
    signature,
  };
}

/**
 * Builds and signs a CreateSession request in one step.
 * @public
 */
export function createSignedCreateSessionRequest(options: {
  endpoint: ResolvedEndpoint;
  params: CreateSessionParams;
  identity: SigningIdentity;
  date: Date;
}): SignedCreateSessionRequest {
  const request = buildCreateSessionRequest({
    endpoint: options.endpoint,
    params: options.params,
    certificateDer: options.identity.certificateDer,
    chainDer: options.identity.chainDer,
    date: options.date,
  });
  return signRequestX509(request, options.identity, options.endpoint.signingRegion);
}
