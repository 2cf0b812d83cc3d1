import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Path of the botocore + cryptography SigV4-X509 oracle (an implementation we did not write). */
export const ORACLE_PATH = fileURLToPath(new URL("../oracle/sigv4_x509.py", import.meta.url));

/** Runs the Python oracle with one JSON request. */
export function runOracle<T>(request: Record<string, unknown>): T {
  const out = execFileSync("python3", [ORACLE_PATH], {
    input: JSON.stringify(request),
    stdio: ["pipe", "pipe", "pipe"],
  });
  return JSON.parse(out.toString()) as T;
}
