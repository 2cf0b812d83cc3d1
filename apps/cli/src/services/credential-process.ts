import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { IamRaError } from "@iam-ra/core";
import { createNodeTransport, createSession } from "@iam-ra/core/rolesanywhere";
import { readCredentialMaterial } from "@iam-ra/core/x509";
import type { CredentialFlagValues } from "./credential-options.ts";

/** The `credential_process` document (AWS CLI / SDK contract). */
export interface CredentialProcessOutput {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** Refresh cached credentials this long before they expire (botocore's advisory window). */
const CACHE_MARGIN_MS = 15 * 60_000;

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

async function readPassphrase(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const file = str(flags["private-key-passphrase-file"]);
  if (file) {
    try {
      return (await readFile(file, "utf8")).replace(/\r?\n$/, "");
    } catch {
      throw new IamRaError("file-not-found", `The passphrase file ${file} cannot be read.`, {
        hint: "Check --private-key-passphrase-file (or IAM_RA_PRIVATE_KEY_PASSPHRASE_FILE).",
      });
    }
  }
  return env.IAM_RA_PRIVATE_KEY_PASSPHRASE;
}

function cacheDir(flags: CredentialFlagValues, env: NodeJS.ProcessEnv): string {
  return (
    str(flags["cache-dir"]) ??
    join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "iam-ra", "credential-process")
  );
}

/** The cache key: the certificate file's bytes plus every input that changes the session. */
async function cacheKey(flags: CredentialFlagValues): Promise<string> {
  const hash = createHash("sha256");
  hash.update(await readFile(String(flags.certificate)));
  for (const name of [
    "trust-anchor-arn",
    "profile-arn",
    "role-arn",
    "region",
    "session-duration",
    "role-session-name",
    "endpoint",
  ]) {
    hash.update(`\0${name}=${String(flags[name] ?? "")}`);
  }
  return hash.digest("hex");
}

async function readCache(path: string, now: Date): Promise<CredentialProcessOutput | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, "utf8")) as CredentialProcessOutput;
    if (doc.Version === 1 && new Date(doc.Expiration).getTime() - now.getTime() > CACHE_MARGIN_MS) return doc;
  } catch {
    // missing or unreadable: a miss
  }
  return undefined;
}

async function writeCache(dir: string, path: string, doc: CredentialProcessOutput): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(doc));
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/**
 * Runs `credential-process`: returns the document to print. Uses the cache when asked.
 */
export async function runCredentialProcess(
  flags: CredentialFlagValues,
  env: NodeJS.ProcessEnv,
  now = new Date(),
): Promise<CredentialProcessOutput> {
  const certificate = str(flags.certificate);
  if (!certificate) {
    throw new IamRaError("invalid-input", "No certificate was given.", {
      hint: "Pass --certificate (or set IAM_RA_CERTIFICATE).",
    });
  }
  let cachePath: string | undefined;
  let dir: string | undefined;
  if (flags.cache) {
    dir = cacheDir(flags, env);
    try {
      cachePath = join(dir, `${await cacheKey(flags)}.json`);
    } catch {
      cachePath = undefined; // unreadable certificate: let the full path report it
    }
    if (cachePath) {
      const hit = await readCache(cachePath, now);
      if (hit) return hit;
    }
  }
  const material = await readCredentialMaterial({
    certificate,
    privateKey: str(flags["private-key"]),
    intermediates: str(flags.intermediates),
    passphrase: await readPassphrase(flags, env),
    validAt: now,
  });
  const duration = flags["session-duration"];
  const result = await createSession(
    material,
    {
      trustAnchorArn: str(flags["trust-anchor-arn"]) ?? "",
      profileArn: str(flags["profile-arn"]) ?? "",
      roleArn: str(flags["role-arn"]) ?? "",
      durationSeconds: duration === undefined ? undefined : Number(duration),
      roleSessionName: str(flags["role-session-name"]),
    },
    {
      region: str(flags.region),
      endpoint: str(flags.endpoint),
      useFips: Boolean(flags["use-fips-endpoint"]),
      useDualStack: Boolean(flags["use-dualstack-endpoint"]),
      timeoutMs: flags.timeout === undefined ? undefined : Number(flags.timeout),
      maxAttempts: flags["max-attempts"] === undefined ? undefined : Number(flags["max-attempts"]),
      transport: createNodeTransport({
        proxyEnv: env,
        ca: str(flags["ca-bundle"]) ? await readFile(String(flags["ca-bundle"]), "utf8") : undefined,
        insecureSkipVerify: Boolean(flags["no-verify-ssl"]),
      }),
    },
  );
  const doc: CredentialProcessOutput = {
    Version: 1,
    AccessKeyId: result.credentials.accessKeyId,
    SecretAccessKey: result.credentials.secretAccessKey,
    SessionToken: result.credentials.sessionToken,
    Expiration: result.credentials.expirationText,
  };
  if (cachePath && dir) await writeCache(dir, cachePath, doc);
  return doc;
}
