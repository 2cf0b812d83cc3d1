/** One JSON log line per event. */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Field names whose values never reach a log line, whatever a caller passes. */
const SECRET_FIELD = /secret|token|password|passphrase|private|authorization|credential/i;

/** Replaces the values of secret-looking fields, at any depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? "[redacted]" : redact(v, depth + 1)]),
  );
}

/** A JSON-lines logger writing to `write` (stderr in main), dropping levels below `min`. */
export function createLogger(write: (line: string) => void, min: LogLevel = "info"): Logger {
  return (level, msg, fields = {}) => {
    if (LEVELS[level] < LEVELS[min]) return;
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...(redact(fields) as object) })}\n`,
    );
  };
}
