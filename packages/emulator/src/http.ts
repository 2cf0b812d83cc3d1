import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";

/** A request as the emulator's handlers see it. */
export interface EmulatorRequest {
  method: string;
  /** The wire path, percent-encoded, without the query (used for signature checks). */
  rawPath: string;
  /** The path below the emulator's base path, decoded (used for routing). */
  route: string;
  rawQuery: string;
  query: Array<[string, string]>;
  headers: IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
}

/** An error answered the way AWS answers it. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** A restJson1 request's body: a JSON object, or {} when empty; anything else is a SerializationException. */
export function jsonBody(req: EmulatorRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const v = JSON.parse(req.body.toString("utf8"));
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError(400, "SerializationException", "The request body is not valid JSON.");
}

/** Sends a restJson1 answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": requestId,
  });
  res.end(text);
}

/** Sends a restJson1 error: `x-amzn-ErrorType` header and `{ "message": … }`. */
export function sendJsonError(res: ServerResponse, error: ApiError, requestId: string): void {
  const text = JSON.stringify({ message: error.message });
  res.writeHead(error.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-errortype": error.type,
    "x-amzn-requestid": requestId,
  });
  res.end(text);
}

/** Sends an awsQuery (XML) answer. */
export function sendXml(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    "content-type": "text/xml",
    "content-length": Buffer.byteLength(xml),
    "x-amzn-requestid": requestId,
  });
  res.end(xml);
}

/** Escapes text for XML. */
export function xmlEscape(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );
}

/** An awsQuery error document. */
export function queryErrorXml(error: ApiError, requestId: string): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${xmlEscape(error.type)}</Code><Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

export const newRequestId = (): string => randomUUID();
