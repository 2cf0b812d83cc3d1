import * as v from "valibot";
import { STATE_VERSION, type State, StateSchema } from "./schema.ts";

/**
 * The outcome of reading a state document: the current-version state, or what is wrong with it.
 * @public
 */
export type ParseStateResult =
  | { ok: true; state: State; migratedFrom: string | undefined }
  | { ok: false; issues: string[] };

type Loose = Record<string, unknown>;
const obj = (x: unknown): Loose => (x && typeof x === "object" && !Array.isArray(x) ? (x as Loose) : {});
const str = (x: unknown): string | null => (typeof x === "string" && x !== "" ? x : null);

/** A new, empty state for a namespace. @public */
export function createEmptyState(namespace: string, region: string, accountId: string, now: Date): State {
  return {
    version: STATE_VERSION,
    namespace,
    region,
    accountId,
    init: null,
    cas: {},
    roles: {},
    hosts: {},
    k8s: { clusters: {}, workloads: {} },
    updatedAt: now.toISOString(),
  };
}

/**
 * Converts a state.json written by the Python `iam-ra` (v1: one `ca`; v2: `cas` by scope; snake_case
 * fields) into the current layout. Facts it never recorded (certificate serials, session durations,
 * role bindings) are left empty for `iam-ra status`/`doctor` to point out.
 */
function fromPython(doc: Loose, now: Date): unknown {
  const ns = str(doc.namespace) ?? "default";
  const at = now.toISOString();
  const init = doc.init ? obj(doc.init) : null;
  const kmsKeyArn = init ? str(init.kms_key_arn) : null;
  const rawCasForAccount = doc.cas ? obj(doc.cas) : doc.ca ? { default: doc.ca } : {};
  const accountId =
    [
      kmsKeyArn,
      ...Object.values(obj(doc.roles)).map((r) => str(obj(r).role_arn)),
      ...Object.values(rawCasForAccount).map((c) => str(obj(c).trust_anchor_arn)),
    ]
      .map((a) => a?.split(":")[4])
      .find((a) => a && /^\d{12}$/.test(a)) ?? "";
  const cas: Loose = {};
  const rawCas = doc.cas ? obj(doc.cas) : doc.ca ? { default: doc.ca } : {};
  for (const [scope, raw] of Object.entries(rawCas)) {
    const ca = obj(raw);
    const mode = str(ca.mode) ?? "self-signed";
    cas[scope] = {
      stackName: str(ca.stack_name) ?? `iam-ra-${ns}-ca-${scope}`,
      mode,
      trustAnchorArn: str(ca.trust_anchor_arn),
      pcaArn: str(ca.pca_arn),
      keyAlgorithm: "EC_P256",
      certificate: null,
      certificateKey: mode === "self-signed" ? `${ns}/scopes/${scope}/ca/certificate.pem` : null,
      privateKeyKey: null,
      crl: null,
      createdAt: at,
    };
  }
  const roles: Loose = {};
  for (const [name, raw] of Object.entries(obj(doc.roles))) {
    const r = obj(raw);
    roles[name] = {
      stackName: str(r.stack_name) ?? `iam-ra-${ns}-role-${name}`,
      roleArn: str(r.role_arn),
      profileArn: str(r.profile_arn),
      scope: str(r.scope) ?? "default",
      policies: Array.isArray(r.policies) ? r.policies.filter((p) => typeof p === "string") : [],
      sessionDurationSeconds: 3600,
      binding: null,
      createdAt: at,
      updatedAt: at,
    };
  }
  const hosts: Loose = {};
  for (const [name, raw] of Object.entries(obj(doc.hosts))) {
    const h = obj(raw);
    const role = str(h.role_name) ?? "";
    hosts[name] = {
      role,
      scope: str(obj(obj(doc.roles)[role]).scope) ?? "default",
      secretArn: null,
      certificates: [],
      legacy: {
        stackName: str(h.stack_name) ?? `iam-ra-${ns}-host-${name}`,
        certificateSecretArn: str(h.certificate_secret_arn),
        privateKeySecretArn: str(h.private_key_secret_arn),
      },
      createdAt: at,
      updatedAt: at,
    };
  }
  const clusters: Loose = {};
  for (const name of Object.keys(obj(doc.k8s_clusters))) clusters[name] = { name, createdAt: at };
  const workloads: Loose = {};
  for (const [name, raw] of Object.entries(obj(doc.k8s_workloads))) {
    const w = obj(raw);
    workloads[name] = {
      name,
      cluster: str(w.cluster_name) ?? "",
      namespace: str(w.namespace) ?? "default",
      role: str(w.role_name) ?? name,
      createdAt: at,
      updatedAt: at,
    };
  }
  return {
    version: STATE_VERSION,
    namespace: ns,
    region: str(doc.region) ?? "",
    accountId,
    init: init
      ? {
          stackName: str(init.stack_name) ?? `iam-ra-${ns}-init`,
          bucketName: (str(init.bucket_arn) ?? "").replace(/^arn:aws[a-z-]*:s3:::/, ""),
          kmsKeyArn,
          createdAt: at,
        }
      : null,
    cas,
    roles,
    hosts,
    k8s: { clusters, workloads },
    updatedAt: at,
  };
}

/**
 * Reads any state document we know — ours (validated), or the Python `iam-ra`'s v1/v2 — into the
 * current version. Never throws for bad input: it says what is wrong instead.
 * @public
 */
export function parseState(json: unknown, now: Date): ParseStateResult {
  const doc = obj(json);
  let migratedFrom: string | undefined;
  let candidate: unknown = json;
  if (typeof doc.version === "string" || "ca" in doc || "k8s_clusters" in doc || "k8s_workloads" in doc) {
    migratedFrom = `python-iam-ra ${typeof doc.version === "string" ? doc.version : "v1"}`;
    candidate = fromPython(doc, now);
  } else if (doc.version === 3) {
    // v4 only added optional fields (workload and issuer status, Private CA revocations, CRL
    // thisUpdate); the bump keeps an older iam-ra from rewriting state without them.
    candidate = { ...doc, version: STATE_VERSION };
    migratedFrom = "iam-ra state v3";
  } else if (typeof doc.version === "number" && doc.version > STATE_VERSION) {
    return {
      ok: false,
      issues: [
        `state version ${doc.version} is newer than this iam-ra understands (${STATE_VERSION}); upgrade iam-ra`,
      ],
    };
  }
  const result = v.safeParse(StateSchema, candidate);
  if (!result.success) {
    return {
      ok: false,
      issues: result.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`),
    };
  }
  return { ok: true, state: result.output, migratedFrom };
}

/** Serializes state the way it is stored: 2-space JSON and a final newline. @public */
export function serializeState(state: State): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
