/** Kubernetes namespace issuers: intermediate CAs per (cluster, namespace, scope), their CRLs and the roles that trust them. @module */
import { createHash, X509Certificate } from "node:crypto";
import type { DeployResult } from "../cloudformation/deploy.ts";
import { IamRaError } from "../errors.ts";
import { k8sObjectNames } from "../k8s/names.ts";
import type { K8sObject } from "../k8s/workload.ts";
import type { CaScope, K8sIssuer, State } from "../state/schema.ts";
import { issueCertificate } from "../x509/ca.ts";
import { type EncryptedKeyEnvelope, openKeyEnvelope, sealKeyEnvelope } from "../x509/envelope.ts";
import { publishScopeCrl } from "./crl.ts";
import { allowedIssuersFor } from "./issuers.ts";
import { certificateRecord, loadCaIssuer, type Namespace, requireState } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";
import { putRole } from "./role.ts";

export const DAY = 86_400_000;
/** A namespace issuer lives a year (never past its scope CA)… */
export const ISSUER_VALIDITY_DAYS = 365;
/** …and is replaced when `k8s onboard` finds it with less than 90 days left (a leaf lives ≤ 90). */
export const ISSUER_RENEW_DAYS = 90;
export const DEFAULT_DURATION = "24h";
export const DEFAULT_RENEW_BEFORE = "8h";
export const DEFAULT_FS_GROUP = 1000;

export const issuerKey = (cluster: string, namespace: string, scope: string) =>
  `${cluster}/${namespace}/${scope}`;
export const workloadKey = (cluster: string, namespace: string, name: string) =>
  `${cluster}/${namespace}/${name}`;

/**
 * The unique CN of a Kubernetes namespace's issuer, `iam-ra <ns>/<scope> k8s <cluster>/<namespace>`;
 * past X.509's 64 characters it is cut and ends with a hash of the whole, so two never collide.
 * Role trust policies list it in `aws:PrincipalTag/x509Issuer/CN`.
 * @public
 */
export function issuerCommonName(iamRaNamespace: string, scope: string, cluster: string, namespace: string) {
  const full = `iam-ra ${iamRaNamespace}/${scope} k8s ${cluster}/${namespace}`;
  if (full.length <= 64) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 12);
  return `${full.slice(0, 64 - 13)} ${hash}`;
}

interface LoadedIssuer {
  record: K8sIssuer;
  certificatePem: string;
  privateKeyPem: string;
  rootCertificatePem: string;
  outcome: "created" | "renewed" | "unchanged";
}

export async function readIssuerMaterial(deps: AdminDeps, ns: Namespace, record: K8sIssuer, ca: CaScope) {
  const [certificatePem, envelopeText, rootCertificatePem] = await Promise.all([
    ns.bucket.read(record.certificateKey),
    ns.bucket.read(record.privateKeyKey),
    ca.certificateKey ? ns.bucket.read(ca.certificateKey) : undefined,
  ]);
  if (!certificatePem || !envelopeText || !rootCertificatePem) {
    throw new IamRaError(
      "not-found",
      `The objects of issuer ${record.commonName} are missing from the bucket.`,
      {
        hint: "Restore them from the bucket's version history, or offboard the namespace's workloads and onboard them again.",
      },
    );
  }
  const privateKeyPem = await openKeyEnvelope(deps.kms, JSON.parse(envelopeText) as EncryptedKeyEnvelope, {
    kmsKeyArn: ns.kmsKeyArn,
    context: { "iam-ra:namespace": deps.namespace },
  });
  return { certificatePem, privateKeyPem, rootCertificatePem };
}

/**
 * The namespace issuer of (cluster, namespace, scope): read back, or made (or replaced when it has
 * less than {@link ISSUER_RENEW_DAYS} left) as an intermediate CA with path length 0, signed by the
 * scope CA whose key is decrypted here and never leaves. Its key is sealed with KMS into the bucket
 * under a serial-specific key, so a concurrent onboard that wins the state write is used instead.
 */
export async function ensureIssuer(
  deps: AdminDeps,
  ns: Namespace,
  scope: string,
  cluster: string,
  namespace: string,
): Promise<LoadedIssuer> {
  const key = issuerKey(cluster, namespace, scope);
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await requireState(ns);
    const ca = state.cas[scope]!;
    const existing = state.k8s.issuers?.[key];
    const now = deps.clock.now();
    const existingEnd = existing ? Date.parse(existing.certificate.notAfter) : 0;
    // Kept while it has 90 days left, or when a new one could not outlive it (the scope CA ends first).
    const scopeEnd = ca.certificate ? Date.parse(ca.certificate.notAfter) : Number.POSITIVE_INFINITY;
    // A retiring issuer is being revoked: never hand it out again, make a new one.
    const reusable = existing && existing.status !== "retiring";
    if (reusable && (existingEnd - now.getTime() > ISSUER_RENEW_DAYS * DAY || existingEnd >= scopeEnd)) {
      return {
        record: existing,
        ...(await readIssuerMaterial(deps, ns, existing, ca)),
        outcome: "unchanged",
      };
    }
    const root = await loadCaIssuer(deps, ns, ca);
    const rootNotAfter = Date.parse(new X509Certificate(root.certificatePem).validTo);
    const commonName = existing?.commonName ?? issuerCommonName(deps.namespace, scope, cluster, namespace);
    deps.progress(
      `${existing ? "Renewing" : "Creating"} the issuer of ${cluster}/${namespace} (${commonName})`,
    );
    const issued = await issueCertificate({
      issuer: root,
      subject: `CN=${commonName},O=iam-ra`,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(Math.min(now.getTime() + ISSUER_VALIDITY_DAYS * DAY, rootNotAfter)),
      keyAlgorithm: "EC_P256",
      ca: { pathLength: 0 },
    });
    const certificate = certificateRecord(issued.certificatePem);
    const prefix = `${deps.namespace}/k8s/${cluster}/${namespace}/${scope}/issuer/${certificate.serialNumber}`;
    const envelope = await sealKeyEnvelope(
      deps.kms,
      ns.kmsKeyArn,
      { "iam-ra:namespace": deps.namespace, "iam-ra:scope": scope, "iam-ra:k8s-issuer": key },
      issued.privateKeyPem,
    );
    const names = k8sObjectNames({ iamRaNamespace: deps.namespace, scope, workload: "-" });
    const record: K8sIssuer = {
      cluster,
      namespace,
      scope,
      issuerName: names.issuer,
      secretName: names.caSecret,
      commonName,
      certificate,
      certificateKey: `${prefix}/certificate.pem`,
      privateKeyKey: `${prefix}/private-key.envelope.json`,
      previousSerials: existing ? [...existing.previousSerials, existing.certificate.serialNumber] : [],
      createdAt: existing?.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    };
    await ns.bucket.write(record.privateKeyKey, `${JSON.stringify(envelope, null, 2)}\n`, "application/json");
    await ns.bucket.write(record.certificateKey, issued.certificatePem, "application/x-pem-file");
    const { result: won } = await ns.store.update((draft) => {
      const current = draft.k8s.issuers?.[key];
      if (current?.certificate.serialNumber !== existing?.certificate.serialNumber) return false;
      draft.k8s.issuers = { ...draft.k8s.issuers, [key]: record };
      return true;
    });
    if (!won) {
      // Another admin made (or renewed) it first: use theirs.
      await Promise.all([ns.bucket.remove(record.privateKeyKey), ns.bucket.remove(record.certificateKey)]);
      continue;
    }
    if (existing) {
      await Promise.all([
        ns.bucket.remove(existing.privateKeyKey).catch(() => {}),
        ns.bucket.remove(existing.certificateKey).catch(() => {}),
      ]);
    }
    return {
      record,
      certificatePem: issued.certificatePem,
      privateKeyPem: issued.privateKeyPem,
      rootCertificatePem: root.certificatePem,
      outcome: existing ? "renewed" : "created",
    };
  }
  throw new IamRaError(
    "state-conflict",
    `The issuer of ${cluster}/${namespace} kept changing under this onboard.`,
    {
      hint: "Another admin is onboarding the same namespace; retry in a moment.",
    },
  );
}

/**
 * Removes namespace issuers no workload uses any more: the record first (atomically with that
 * check), then a CRL revoking their certificates is published for the scope's trust anchor, then
 * their objects are deleted. Returns the issuers removed.
 */
export async function retireUnusedIssuers(
  deps: AdminDeps,
  ns: Namespace,
  keys: string[],
): Promise<K8sIssuer[]> {
  if (keys.length === 0) return [];
  // Marked `retiring` first (atomically with the in-use check, so onboarding stops handing them
  // out), revoked next, forgotten last, and only if still the same certificate: should publishing
  // fail, the records stay retiring and a re-run retries.
  const unused = (state: State, key: string) => {
    const record = state.k8s.issuers?.[key];
    const inUse = Object.values(state.k8s.workloads).some(
      (w) => w.issuer === key && w.status !== "offboarding",
    );
    return record && !inUse ? record : undefined;
  };
  const { result: marked } = await ns.store.update((draft) => {
    const out: Array<{ key: string; record: K8sIssuer }> = [];
    for (const key of new Set(keys)) {
      const record = unused(draft, key);
      if (!record) continue;
      record.status = "retiring";
      out.push({ key, record: { ...record } });
    }
    return out;
  });
  const byScope = new Map<string, string[]>();
  for (const { record: r } of marked)
    byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r.certificate.serialNumber, ...r.previousSerials]);
  for (const [scope, serials] of byScope) await publishCrl(deps, ns, scope, serials);
  const { result: retired } = await ns.store.update((draft) => {
    const out: K8sIssuer[] = [];
    for (const { key, record } of marked) {
      const current = draft.k8s.issuers?.[key];
      if (
        current?.status !== "retiring" ||
        current.certificate.serialNumber !== record.certificate.serialNumber
      )
        continue;
      out.push(current);
      delete draft.k8s.issuers![key];
    }
    return out;
  });
  for (const r of retired)
    await Promise.all([ns.bucket.remove(r.privateKeyKey), ns.bucket.remove(r.certificateKey)]);
  return retired;
}

/** Adds serials to the scope's CRL and imports it into Roles Anywhere (the scope's CRL stack). */
export async function publishCrl(
  deps: AdminDeps,
  ns: Namespace,
  scope: string,
  serials: string[],
): Promise<void> {
  await publishScopeCrl(deps, ns, scope, serials);
}

/**
 * Re-deploys roles whose trust policy does not admit exactly the issuers state says it should
 * (a no-op deploy when nothing changed). Returns the roles whose stack changed.
 */
export async function syncRoles(
  deps: AdminDeps,
  ns: Namespace,
  names: Iterable<string>,
): Promise<Array<{ name: string; outcome: DeployResult["outcome"]; allowedIssuers: string[] | null }>> {
  const out: Array<{ name: string; outcome: DeployResult["outcome"]; allowedIssuers: string[] | null }> = [];
  for (const name of new Set(names)) {
    const state = await requireState(ns);
    const role = state.roles[name];
    if (!role?.binding) continue;
    const wanted = allowedIssuersFor(state, name, role.scope, role.binding.tag);
    if (JSON.stringify(wanted ?? undefined) === JSON.stringify(role.allowedIssuers)) continue;
    const result = await putRole(deps, name, { mode: "update" });
    out.push({ name, outcome: result.outcome, allowedIssuers: result.allowedIssuers });
  }
  return out;
}

/** A namespace issuer as results show it. @public */
export interface K8sIssuerSummary {
  cluster: string;
  namespace: string;
  scope: string;
  issuerName: string;
  secretName: string;
  commonName: string;
  serialNumber: string;
  notAfter: string;
}

export const summary = (r: K8sIssuer): K8sIssuerSummary => ({
  cluster: r.cluster,
  namespace: r.namespace,
  scope: r.scope,
  issuerName: r.issuerName,
  secretName: r.secretName,
  commonName: r.commonName,
  serialNumber: r.certificate.serialNumber,
  notAfter: r.certificate.notAfter,
});

/** A reference to an object to delete (`kubectl delete -f -` reads these). @public */
export type K8sObjectReference = Pick<K8sObject, "apiVersion" | "kind" | "metadata">;

export const reference = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string,
): K8sObjectReference => ({
  apiVersion,
  kind,
  metadata: { name, namespace },
});

export function issuerReferences(r: K8sIssuer): K8sObjectReference[] {
  return [
    reference("cert-manager.io/v1", "Issuer", r.issuerName, r.namespace),
    reference("v1", "Secret", r.secretName, r.namespace),
  ];
}
