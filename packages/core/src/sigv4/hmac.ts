import {
  createCanonicalRequest,
  createStringToSign,
  credentialScope,
  deriveSigningKey,
  formatAmzDate,
  hmacSignature,
  parseQueryString,
  sha256Hex,
} from "./canonical.ts";

/**
 * The credentials a request is signed with (`AWS4-HMAC-SHA256`). A long-term key (an IAM user's)
 * has no session token.
 * @public
 */
export interface HmacCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Sent as `X-Amz-Security-Token` when present and non-empty. */
  sessionToken?: string | undefined;
}

/**
 * A request to sign: its URL as it will be sent (path and query already percent-encoded), the
 * headers to sign besides the ones {@link signHmacRequest} adds, and the body.
 * @public
 */
export interface HmacSignableRequest {
  method: string;
  url: URL;
  headers?: Readonly<Record<string, string>> | undefined;
  body: string;
}

/**
 * Signs a request with SigV4 (`AWS4-HMAC-SHA256`, the standard AWS signature): returns the headers
 * to send, which are the request's own (names lower-cased) plus `host`, `x-amz-date`,
 * `x-amz-security-token` (with a session token) and `authorization`. Every header is signed.
 * @public
 */
export function signHmacRequest(
  request: HmacSignableRequest,
  credentials: HmacCredentials,
  scope: { region: string; service: string },
  date: Date,
): Record<string, string> {
  const amzDate = formatAmzDate(date);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  headers.host = request.url.host;
  headers["x-amz-date"] = amzDate;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const signedHeaders = Object.keys(headers).sort();
  const canonical = createCanonicalRequest(
    {
      method: request.method,
      path: request.url.pathname,
      query: parseQueryString(request.url.search.slice(1)),
      headers,
      payloadHash: sha256Hex(request.body),
    },
    signedHeaders,
  );
  const credentialScopeValue = credentialScope(amzDate, scope.region, scope.service);
  const signature = hmacSignature(
    deriveSigningKey(credentials.secretAccessKey, amzDate, scope.region, scope.service),
    createStringToSign("AWS4-HMAC-SHA256", amzDate, credentialScopeValue, canonical),
  );
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScopeValue}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  return headers;
}
