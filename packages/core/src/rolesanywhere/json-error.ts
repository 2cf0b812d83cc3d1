/**
 * What a Roles Anywhere error answer (REST-JSON) says: the error type (from `x-amzn-ErrorType`, else
 * the body's `code` or `__type`, without its namespace and suffix), the service's message and the
 * request id. Every field is undefined when the answer does not carry it; nothing here is trusted.
 */
export interface JsonErrorAnswer {
  errorType: string | undefined;
  serviceMessage: string | undefined;
  requestId: string | undefined;
}

/** Reads an error answer's type, message and request id (see {@link JsonErrorAnswer}). */
export function readJsonError(headers: Record<string, unknown>, body: string): JsonErrorAnswer {
  let parsed: Record<string, unknown> = {};
  try {
    const value = JSON.parse(body);
    if (value && typeof value === "object") parsed = value as Record<string, unknown>;
  } catch {
    // not JSON
  }
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const rawType = text(headers["x-amzn-errortype"]) ?? text(parsed.code) ?? text(parsed.__type);
  return {
    errorType: rawType?.split(":")[0]?.split("#").at(-1),
    serviceMessage: text(parsed.message) ?? text(parsed.Message),
    requestId: text(headers["x-amzn-requestid"]),
  };
}
