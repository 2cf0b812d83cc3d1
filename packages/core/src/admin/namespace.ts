/**
 * What every admin workflow shares: opening a namespace (SSM pointer → bucket → state store), its
 * object keys, names and tags, and the CA issuer of a self-signed scope.
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { validateName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";
import type { CaScope, CertificateRecord, State } from "../state/schema.ts";
import { createStateStore, type StateStore } from "../state/store.ts";
import { type EncryptedKeyEnvelope, openKeyEnvelope } from "../x509/envelope.ts";
import { serialToDecimal } from "../x509/material.ts";
import type { AdminDeps, BucketPort } from "./ports.ts";

/** An opened namespace: its bucket and state store. @public */
export interface Namespace {
  bucket: BucketPort;
  store: StateStore;
  bucketName: string;
  kmsKeyArn: string;
}

/** @internal */
export const DAY = 86_400_000;
/** The object key of a scope CA file in the namespace bucket. @internal */
export const scopeKey = (deps: AdminDeps, scope: string, file: string) =>
  `${deps.namespace}/scopes/${scope}/ca/${file}`;
/** The Secrets Manager name of a host's certificate. @internal */
export const secretName = (deps: AdminDeps, hostname: string) => `iam-ra/${deps.namespace}/hosts/${hostname}`;
/** Tags every namespace resource carries. @internal */
export const nsTags = (deps: AdminDeps, extra: Record<string, string> = {}) => ({
  "iam-ra:namespace": deps.namespace,
  ...extra,
});

/** What every stack deploy/delete of a workflow shares. @internal */
export function deployOptions(deps: AdminDeps) {
  return {
    cfn: deps.cfn,
    clock: deps.clock,
    sleep: deps.sleep,
    signal: deps.signal,
  };
}

/** Live stack events for `name`, when the app listens. @internal */
export function eventsFor(deps: AdminDeps, name: string) {
  return deps.onStackEvent
    ? (e: Parameters<NonNullable<AdminDeps["onStackEvent"]>>[1]) => deps.onStackEvent?.(name, e)
    : undefined;
}

/** Opens an initialised namespace (SSM pointer → bucket); throws `not-initialized` otherwise. @public */
export async function openNamespace(deps: AdminDeps): Promise<Namespace> {
  validateName("namespace", deps.namespace);
  const [location, kmsKeyArn] = await Promise.all([
    deps.parameter(`/iam-ra/${deps.namespace}/state-location`),
    deps.parameter(`/iam-ra/${deps.namespace}/kms-key-arn`),
  ]);
  const m = location ? /^s3:\/\/([^/]+)\/(.+)$/.exec(location) : null;
  if (!m || !kmsKeyArn) {
    throw new IamRaError(
      "not-initialized",
      `Namespace ${deps.namespace} is not initialised in ${deps.region}.`,
      {
        hint: `Run \`iam-ra init --namespace ${deps.namespace} --region ${deps.region}\` first (or pass the region you used).`,
      },
    );
  }
  const bucket = deps.bucket(m[1]!, kmsKeyArn);
  return {
    bucket,
    bucketName: m[1]!,
    kmsKeyArn,
    store: createStateStore({ objects: bucket, key: m[2]!, clock: deps.clock, sleep: deps.sleep }),
  };
}

/** @internal */
export async function requireState(ns: Namespace): Promise<State> {
  const stored = await ns.store.read();
  if (!stored?.state.init) {
    throw new IamRaError("not-initialized", "The namespace has a bucket but no state.", {
      hint: "Run `iam-ra init` again; it is safe to re-run.",
    });
  }
  return stored.state;
}

/** @internal */
export function certificateRecord(pem: string): CertificateRecord {
  const cert = new X509Certificate(pem);
  return {
    serialNumber: serialToDecimal(cert.serialNumber),
    fingerprintSha256: cert.fingerprint256,
    subject: cert.subject.split("\n").join(","),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/** Decrypts a scope CA's key (KMS envelope) for issuing; it stays in memory. @internal */
export async function loadCaIssuer(deps: AdminDeps, ns: Namespace, ca: CaScope) {
  if (!ca.certificateKey || !ca.privateKeyKey) {
    throw new IamRaError("not-found", "This scope's CA key is not in the namespace bucket.", {
      hint: "A scope imported from the Python iam-ra keeps its key on one laptop: run `iam-ra migrate --ca-key-file <path>` there.",
    });
  }
  const [certificatePem, envelopeText] = await Promise.all([
    ns.bucket.read(ca.certificateKey),
    ns.bucket.read(ca.privateKeyKey),
  ]);
  if (!certificatePem || !envelopeText) {
    throw new IamRaError(
      "not-found",
      "The scope's CA certificate or key object is missing from the bucket.",
      {
        hint: "Restore it from the bucket's version history.",
      },
    );
  }
  const pem = await openKeyEnvelope(deps.kms, JSON.parse(envelopeText) as EncryptedKeyEnvelope, {
    kmsKeyArn: ns.kmsKeyArn,
    context: { "iam-ra:namespace": deps.namespace },
  });
  return { certificatePem, privateKey: createPrivateKey(pem) };
}

/** The region field of an ARN (`arn:partition:service:region:…`), when it has one. @internal */
export function arnRegion(arn: string | undefined): string | undefined {
  const region = arn?.split(":")[3];
  return region ? region : undefined;
}

/** Reads the namespace state (for list commands). @public */
export async function readNamespaceState(deps: AdminDeps): Promise<State> {
  return await requireState(await openNamespace(deps));
}
