import { IamRaError } from "../errors.ts";
import type { Pkcs11Options } from "../pkcs11/module.ts";
import type { ReadCredentialMaterialOptions } from "../x509/read.ts";
import type { CreateSessionOptions } from "./client.ts";
import type { CreateSessionParams } from "./signer.ts";
import { createNodeTransport } from "./transport.ts";

/** File reading (fs/promises) loads only when a file is given: it pulls in readline at start-up. */
const files = () => import("../files.ts");

/** The largest CA bundle read (a system bundle of every public root is ~200 KB). */
const MAX_CA_BUNDLE_BYTES = 4 * 1024 * 1024;

/**
 * Option values keyed by option name (flags already merged with their environment variables).
 * @public
 */
export type CredentialOptionValues = Partial<Record<string, string | boolean | number | undefined>>;

/**
 * What a CreateSession needs, resolved from option values.
 * @public
 */
export interface SessionInputs {
  /** Paths (or PEM text) of the certificate, key and chain, plus the passphrase. */
  material: Omit<ReadCredentialMaterialOptions, "validAt"> & { certificate: string };
  params: CreateSessionParams;
  options: Omit<CreateSessionOptions, "signal">;
  /** What the user should hear before anything runs (TLS checks off, plain http): one line each. */
  warnings: string[];
}

/** The ranges the numeric options accept, so a typo fails before any work rather than hanging. */
const RANGES = {
  timeout: { min: 100, max: 120_000, unit: "milliseconds", example: "10000" },
  "max-attempts": { min: 1, max: 10, unit: "attempts", example: "3" },
} as const;

/** A numeric option in its range, or undefined when absent. */
function boundedInteger(values: CredentialOptionValues, name: keyof typeof RANGES): number | undefined {
  const raw = values[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  const { min, max, unit, example } = RANGES[name];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IamRaError(
      "invalid-input",
      `--${name} must be a whole number from ${min} to ${max} ${unit}, not "${String(raw)}".`,
      {
        hint: `Pass --${name} ${example}${name === "timeout" ? ' (it is a deadline: 0 no longer means "never")' : ""}.`,
      },
    );
  }
  return value;
}

/**
 * The Roles Anywhere endpoint: the option, else the AWS SDKs' service-specific and global endpoint
 * variables (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), so `iam-ra` and the admin
 * commands reach the same place.
 * @public
 */
export function resolveEndpointOption(
  values: CredentialOptionValues,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const explicit = stringOption(values.endpoint);
  if (explicit) return explicit;
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? "")) return undefined;
  return stringOption(env.AWS_ENDPOINT_URL_ROLESANYWHERE) ?? stringOption(env.AWS_ENDPOINT_URL);
}

/** A non-empty string value, or undefined. @public */
export const stringOption = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : undefined;

/**
 * The key or PKCS#12 password: from `private-key-passphrase-file`, else
 * `IAM_RA_PRIVATE_KEY_PASSPHRASE` in `env`. Never from a flag value.
 * @public
 */
export async function readPassphrase(
  values: CredentialOptionValues,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const file = stringOption(values["private-key-passphrase-file"]);
  if (file) return await (await files()).readSecretFile(file, "passphrase");
  return env.IAM_RA_PRIVATE_KEY_PASSPHRASE;
}

/** A PIN from its file option, else its environment variable; undefined when neither is set. */
async function readPin(
  values: CredentialOptionValues,
  env: Readonly<Record<string, string | undefined>>,
  option: "pkcs11-pin-file" | "pkcs11-key-pin-file",
  variable: "IAM_RA_PKCS11_PIN" | "IAM_RA_PKCS11_KEY_PIN",
): Promise<string | undefined> {
  const file = stringOption(values[option]);
  if (!file) return env[variable] || undefined;
  return await (await files()).readSecretFile(file, "PIN");
}

/**
 * The PKCS#11 module and PINs for `pkcs11:` certificate and key sources: the module from
 * `pkcs11-lib`, PINs from their files or `IAM_RA_PKCS11_PIN`/`IAM_RA_PKCS11_KEY_PIN`.
 * @public
 */
export async function readPkcs11Options(
  values: CredentialOptionValues,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Pkcs11Options> {
  const modulePath = stringOption(values["pkcs11-lib"]);
  const pin = await readPin(values, env, "pkcs11-pin-file", "IAM_RA_PKCS11_PIN");
  const keyPin = await readPin(values, env, "pkcs11-key-pin-file", "IAM_RA_PKCS11_KEY_PIN");
  return {
    ...(modulePath ? { modulePath } : {}),
    ...(pin !== undefined ? { pin } : {}),
    ...(keyPin !== undefined ? { keyPin } : {}),
  };
}

/**
 * Parses `key=value` pairs separated by commas (repeated flags arrive joined with commas) into
 * CreateSession instance properties, within the API's limits: at most 50 pairs, keys and values of
 * 1–200 characters. A value may contain `=`; the first one splits.
 * @returns undefined when the text is empty or absent.
 * @public
 */
export function parseInstanceProperties(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const hint =
    "Pass --instance-properties key=value (repeatable), or IAM_RA_INSTANCE_PROPERTIES=k1=v1,k2=v2.";
  const out: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const at = pair.indexOf("=");
    const key = at < 0 ? "" : pair.slice(0, at).trim();
    const value = at < 0 ? "" : pair.slice(at + 1).trim();
    if (!key || !value)
      throw new IamRaError("invalid-input", `Instance property "${pair}" is not key=value.`, { hint });
    if (key.length > 200 || value.length > 200)
      throw new IamRaError(
        "invalid-input",
        `Instance property "${key}": keys and values are 1–200 characters.`,
        {
          hint,
        },
      );
    out[key] = value;
  }
  if (Object.keys(out).length > 50)
    throw new IamRaError("invalid-input", "At most 50 instance properties can be sent.", { hint });
  return out;
}

/**
 * Turns option values into CreateSession inputs: material sources, parameters and client options
 * (transport with the proxy variables and CA bundle of `env`). Throws when no certificate is given.
 * @public
 */
export async function resolveSessionInputs(
  values: CredentialOptionValues,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SessionInputs> {
  const certificate = stringOption(values.certificate);
  if (!certificate) {
    throw new IamRaError("invalid-input", "No certificate was given.", {
      hint: "Pass --certificate (or set IAM_RA_CERTIFICATE).",
    });
  }
  // Every check that needs no IO comes first.
  const timeoutMs = boundedInteger(values, "timeout");
  const maxAttempts = boundedInteger(values, "max-attempts");
  const endpoint = resolveEndpointOption(values, env);
  // oclif hands a repeatable flag over as an array; the other front ends join it with commas.
  const rawProperties: unknown = values["instance-properties"];
  const instanceProperties = parseInstanceProperties(
    Array.isArray(rawProperties) ? rawProperties.join(",") : stringOption(values["instance-properties"]),
  );
  const insecureSkipVerify = Boolean(values["no-verify-ssl"]);
  const allowHttp = Boolean(values["allow-http"]);
  const warnings: string[] = [];
  if (insecureSkipVerify) {
    warnings.push(
      "TLS certificate verification is off (--no-verify-ssl): anyone on the network path can read the credentials. Use --ca-bundle for a private CA instead.",
    );
  }
  if (allowHttp && endpoint?.startsWith("http:")) {
    warnings.push(`The endpoint ${endpoint} is plain http: the credentials cross the network unencrypted.`);
  }
  const privateKey = stringOption(values["private-key"]);
  const intermediates = stringOption(values.intermediates);
  const passphrase = await readPassphrase(values, env);
  const onToken = [certificate, privateKey].some((v) => v !== undefined && /^pkcs11:/i.test(v));
  const pkcs11 = onToken ? await readPkcs11Options(values, env) : undefined;
  const caBundle = stringOption(values["ca-bundle"]);
  const duration = values["session-duration"];
  let ca: string | undefined;
  if (caBundle) {
    const bytes = await (await files()).readBoundedFile(caBundle, {
      what: "CA bundle",
      maxBytes: MAX_CA_BUNDLE_BYTES,
    });
    ca = Buffer.from(bytes).toString("utf8");
  }
  return {
    material: {
      certificate,
      ...(privateKey ? { privateKey } : {}),
      ...(intermediates ? { intermediates } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(pkcs11 ? { pkcs11 } : {}),
    },
    params: {
      trustAnchorArn: stringOption(values["trust-anchor-arn"]) ?? "",
      profileArn: stringOption(values["profile-arn"]) ?? "",
      roleArn: stringOption(values["role-arn"]) ?? "",
      durationSeconds: duration === undefined ? undefined : Number(duration),
      roleSessionName: stringOption(values["role-session-name"]),
      instanceProperties,
    },
    options: {
      region: stringOption(values.region),
      endpoint,
      allowHttp,
      useFips: Boolean(values["use-fips-endpoint"]),
      useDualStack: Boolean(values["use-dualstack-endpoint"]),
      timeoutMs,
      maxAttempts,
      transport: createNodeTransport({ proxyEnv: env, ca, insecureSkipVerify }),
    },
    warnings,
  };
}
