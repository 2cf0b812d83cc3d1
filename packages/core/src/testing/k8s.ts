import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseK8sDuration } from "../k8s/duration.ts";
import { type IssuedCertificate, issueCertificate, type KeyAlgorithm } from "../x509/ca.ts";

type Json = Record<string, unknown>;
const obj = (x: unknown): Json => (x && typeof x === "object" && !Array.isArray(x) ? (x as Json) : {});

/** The list fields of a pod template a strategic-merge patch merges by key, and their keys. */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
};

function merge(base: unknown, patch: unknown, field?: string): unknown {
  if (Array.isArray(patch)) {
    const key = field ? MERGE_KEYS[field] : undefined;
    if (!key || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base) as Json[];
    for (const item of patch as Json[]) {
      const i = out.findIndex((b) => b[key] === item[key]);
      if (i >= 0) out[i] = merge(out[i], item) as Json;
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (patch && typeof patch === "object") {
    const out = structuredClone(obj(base));
    for (const [k, v] of Object.entries(patch as Json)) out[k] = merge(out[k], v, k);
    return out;
  }
  return patch;
}

/**
 * Applies a strategic-merge patch to a Deployment as `kubectl patch` and kustomize do for the fields
 * iam-ra patches: objects merge, and containers, init containers, volumes, env (by `name`) and
 * volume mounts (by `mountPath`) merge item by item; other lists are replaced.
 * @public
 */
export function mergeDeploymentPatch<T>(deployment: T, patch: unknown): T {
  return merge(deployment, patch) as T;
}

/** The files cert-manager writes into a Certificate's Secret. @public */
export interface CertManagerSecretFiles {
  "tls.crt": string;
  "tls.key": string;
  "ca.crt": string;
}

const SUBJECT_ATTRIBUTES: Record<string, string> = {
  countries: "C",
  provinces: "ST",
  localities: "L",
  organizations: "O",
  organizationalUnits: "OU",
};

const KEY_ALGORITHMS: Record<string, KeyAlgorithm> = {
  "ECDSA/256": "EC_P256",
  "ECDSA/384": "EC_P384",
  "RSA/2048": "RSA_2048",
  "RSA/4096": "RSA_4096",
};

/**
 * Plays cert-manager's CA issuer: issues the certificate a `Certificate` object asks for (subject,
 * usages, duration, key algorithm) from the CA in the issuer's `kubernetes.io/tls` Secret, and
 * returns the Secret's files as cert-manager lays them out: `tls.crt` is the leaf followed by the
 * chain without the root, `ca.crt` the root. Refuses what it does not implement, so a test cannot
 * pass on something cert-manager would do differently.
 * @public
 */
export async function issueLikeCertManager(
  certificate: unknown,
  issuerSecret: unknown,
  now: Date = new Date(),
): Promise<CertManagerSecretFiles & { issued: IssuedCertificate }> {
  const spec = obj(obj(certificate).spec);
  const data = obj(obj(issuerSecret).data);
  const text = (key: string) => Buffer.from(String(data[key] ?? ""), "base64").toString("utf8");
  const chain = [
    ...text("tls.crt").matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g),
  ].map((m) => `${m[0]}\n`);
  if (chain.length === 0) throw new Error("the issuer Secret has no tls.crt");
  const usages = (spec.usages as string[] | undefined) ?? [];
  if ([...usages].sort().join(",") !== "client auth,digital signature")
    throw new Error(
      `cannot issue usages ${usages.join(", ")}: iam-ra's issuer only issues client certificates`,
    );
  if (spec.isCA) throw new Error("cannot issue CA certificates");
  const privateKey = obj(spec.privateKey);
  const algorithm = KEY_ALGORITHMS[`${privateKey.algorithm ?? "RSA"}/${privateKey.size ?? 2048}`];
  if (!algorithm) throw new Error(`unsupported private key ${JSON.stringify(privateKey)}`);
  if ((privateKey.encoding ?? "PKCS1") !== "PKCS8") throw new Error("only PKCS8 keys are written here");
  const duration = parseK8sDuration(String(spec.duration ?? "2160h"));
  if (duration === undefined) throw new Error(`bad duration ${String(spec.duration)}`);
  const subject = obj(spec.subject);
  const rdns: string[] = [];
  for (const [field, short] of Object.entries(SUBJECT_ATTRIBUTES))
    for (const value of (subject[field] as string[] | undefined) ?? []) rdns.push(`${short}=${value}`);
  if (typeof spec.commonName === "string") rdns.push(`CN=${spec.commonName}`);
  const issuerCertificate = chain[0]!;
  const issuerNotAfter = new Date(new X509Certificate(issuerCertificate).validTo);
  const issued = await issueCertificate({
    issuer: { certificatePem: issuerCertificate, privateKey: createPrivateKey(text("tls.key")) },
    subject: rdns.join(","),
    notBefore: now,
    // cert-manager never issues past its CA's expiry.
    notAfter: new Date(Math.min(now.getTime() + duration, issuerNotAfter.getTime())),
    keyAlgorithm: algorithm,
    ...(Array.isArray(spec.dnsNames) ? { san: { dns: spec.dnsNames as string[] } } : {}),
  });
  const selfSigned = (pem: string) => {
    const c = new X509Certificate(pem);
    return c.subject === c.issuer && c.verify(c.publicKey);
  };
  const root = chain.find(selfSigned) ?? text("ca.crt");
  return {
    "tls.crt": [issued.certificatePem, ...chain.filter((c) => !selfSigned(c))].join(""),
    "tls.key": issued.privateKeyPem,
    "ca.crt": root,
    issued,
  };
}

const CSI = "csi.cert-manager.io/";
const CSI_SUBJECT: Record<string, string> = {
  organizationalunits: "organizationalUnits",
  organizations: "organizations",
  countries: "countries",
  provinces: "provinces",
  localities: "localities",
};
/** The csi-driver attributes this stand-in reads; anything else it refuses, so a test cannot pass on more. */
const CSI_KNOWN = new Set([
  "issuer-name",
  "issuer-kind",
  "issuer-group",
  "common-name",
  "duration",
  "renew-before",
  "key-algorithm",
  "key-size",
  "key-encoding",
  "reuse-private-key",
  "key-usages",
  "is-ca",
  "certificate-file",
  "privatekey-file",
  "ca-file",
  "fs-group",
  ...Object.keys(CSI_SUBJECT),
]);

/**
 * Plays cert-manager's csi-driver for one pod volume: reads the `csi.cert-manager.io/*` volume
 * attributes (as the driver does on the node), asks the issuer in `issuerSecret` for that
 * certificate as {@link issueLikeCertManager} does, and returns the files under the names the
 * attributes give. Refuses attributes it does not implement and an issuer that is not the one named.
 * @public
 */
export async function issueLikeCsiDriver(
  volumeAttributes: Record<string, string>,
  issuer: { name: string; secret: unknown },
  now: Date = new Date(),
): Promise<{ files: Record<string, string>; issued: IssuedCertificate }> {
  const attr: Record<string, string> = {};
  for (const [key, value] of Object.entries(volumeAttributes)) {
    const name = key.startsWith(CSI) ? key.slice(CSI.length) : undefined;
    if (!name || !CSI_KNOWN.has(name)) throw new Error(`csi-driver stand-in: unsupported attribute ${key}`);
    attr[name] = value;
  }
  if (attr["issuer-name"] !== issuer.name || attr["issuer-kind"] !== "Issuer")
    throw new Error(`csi-driver stand-in: the volume asks for ${attr["issuer-kind"]}/${attr["issuer-name"]}`);
  const subject: Record<string, string[]> = {};
  for (const [key, field] of Object.entries(CSI_SUBJECT))
    if (attr[key] !== undefined) subject[field] = attr[key].split(",");
  const certificate = {
    spec: {
      commonName: attr["common-name"],
      subject,
      duration: attr.duration,
      isCA: attr["is-ca"] === "true",
      usages: (attr["key-usages"] ?? "").split(","),
      privateKey: {
        algorithm: attr["key-algorithm"],
        size: Number(attr["key-size"]),
        encoding: attr["key-encoding"],
      },
    },
  };
  const { issued, ...files } = await issueLikeCertManager(certificate, issuer.secret, now);
  return {
    files: {
      [attr["certificate-file"] ?? "tls.crt"]: files["tls.crt"],
      [attr["privatekey-file"] ?? "tls.key"]: files["tls.key"],
      [attr["ca-file"] ?? "ca.crt"]: files["ca.crt"],
    },
    issued,
  };
}

/**
 * A directory laid out like a mounted Kubernetes Secret: `tls.crt` → `..data/tls.crt` →
 * `..<version>/tls.crt`; `publish` swaps `..data` atomically, as the kubelet does when the Secret
 * changes. `mode` is the files' mode (a Secret volume's defaultMode; default 0600).
 * @public
 */
export function createSecretVolume(options: { mode?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "iam-ra-secret-"));
  const versionDir = (n: number) => `..2026_11_22_${String(n).padStart(2, "0")}`;
  let version = 0;
  const publish = (files: Record<string, string>) => {
    version++;
    const target = versionDir(version);
    mkdirSync(join(dir, target));
    for (const [name, content] of Object.entries(files))
      writeFileSync(join(dir, target, name), content, { mode: options.mode ?? 0o600 });
    symlinkSync(target, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    if (version === 1)
      for (const name of Object.keys(files)) symlinkSync(join("..data", name), join(dir, name));
    else rmSync(join(dir, versionDir(version - 1)), { recursive: true });
  };
  return { dir, publish, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
