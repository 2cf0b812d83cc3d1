import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { IamRaError } from "../errors.ts";
import { isValidTagValue, parseCertificate } from "../x509/certificate-info.ts";
import { sealKeyEnvelope } from "../x509/envelope.ts";
import { serialToDecimal } from "../x509/material.ts";
import { openNamespace } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

/**
 * Options of {@link migrateNamespace}.
 * @public
 */
export interface MigrateOptions {
  /**
   * CA private keys (PEM) of self-signed scopes imported from the Python `iam-ra`, which kept them as
   * files on one admin's disk; each is checked against the scope's certificate, then sealed with KMS
   * into the bucket like every iam-ra CA key.
   */
  caKeys?: Record<string, string> | undefined;
  /** Report what would change; write nothing. */
  dryRun?: boolean | undefined;
}

/**
 * What `migrate` did or would do.
 * @public
 */
export interface MigrateResult {
  namespace: string;
  /** e.g. `python-iam-ra 2.4.1`, or null when the state was already current. */
  migratedFrom: string | null;
  written: boolean;
  scopes: Array<{
    scope: string;
    mode: string;
    keyInBucket: boolean;
    keyImported: boolean;
    /**
     * Set when the CA's subject has characters AWS refuses in session tags (the Python tool's
     * `IAM Roles Anywhere CA (<ns>/<scope>)` has parentheses): CreateSession then fails for every
     * certificate it issued ("Some attributes fail to be mapped into session tags"). Create a new scope.
     */
    issuerTagProblem: string | null;
  }>;
  /** Roles the Python tool left unbound (any certificate of the scope could assume them). */
  unboundRoles: string[];
  /** Hosts with the Python tool's host stack and two secrets (re-issue with `iam-ra host rotate`). */
  legacyHosts: string[];
}

/**
 * Brings a namespace's state to the current version — including a state.json written by the Python
 * `iam-ra` (v1 or v2), which is found through the same SSM pointer — and imports CA keys that lived
 * on a laptop into the bucket, KMS-sealed. Idempotent.
 * @public
 */
export async function migrateNamespace(
  deps: AdminDeps,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const ns = await openNamespace(deps);
  const stored = await ns.store.read();
  if (!stored) {
    throw new IamRaError("not-initialized", "The namespace has a pointer but no state document.", {
      hint: "Run `iam-ra init` to create one.",
    });
  }
  const state = structuredClone(stored.state);
  const imported = new Set<string>();
  for (const [scope, pem] of Object.entries(options.caKeys ?? {})) {
    const ca = state.cas[scope];
    if (!ca)
      throw new IamRaError("not-found", `There is no CA scope ${scope} to import a key for.`, {
        hint: "See `iam-ra ca list`.",
      });
    if (ca.mode !== "self-signed")
      throw new IamRaError(
        "invalid-input",
        `Scope ${scope} is ${ca.mode}; only self-signed scopes have a key.`,
      );
    const certKeys = [
      ca.certificateKey,
      `${deps.namespace}/scopes/${scope}/ca/certificate.pem`,
      `${deps.namespace}/ca/certificate.pem`,
    ].filter((k): k is string => Boolean(k));
    let certificatePem: string | undefined;
    let certificateKey: string | undefined;
    for (const k of certKeys) {
      certificatePem = await ns.bucket.read(k);
      if (certificatePem) {
        certificateKey = k;
        break;
      }
    }
    if (!certificatePem || !certificateKey) {
      throw new IamRaError("not-found", `The CA certificate of scope ${scope} is not in the bucket.`, {
        hint: `Expected it at ${certKeys[0]}.`,
      });
    }
    const cert = new X509Certificate(certificatePem);
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(pem);
    } catch (cause) {
      throw new IamRaError(
        "private-key-invalid",
        `The CA key given for scope ${scope} is not a private key.`,
        { cause, hint: "Pass the PEM file the Python iam-ra wrote (ca-private-key.pem)." },
      );
    }
    const matches = createPublicKey(key)
      .export({ format: "der", type: "spki" })
      .equals(cert.publicKey.export({ format: "der", type: "spki" }));
    if (!matches) {
      throw new IamRaError(
        "key-certificate-mismatch",
        `The key given for scope ${scope} does not belong to its CA certificate.`,
        {
          hint: `Use ~/.local/share/iam-ra/${deps.namespace}/scopes/${scope}/ca-private-key.pem from the machine that ran init.`,
        },
      );
    }
    const privateKeyKey = `${deps.namespace}/scopes/${scope}/ca/private-key.envelope.json`;
    if (!options.dryRun) {
      const envelope = await sealKeyEnvelope(
        deps.kms,
        ns.kmsKeyArn,
        { "iam-ra:namespace": deps.namespace, "iam-ra:scope": scope },
        key.export({ format: "pem", type: "pkcs8" }).toString(),
      );
      await ns.bucket.write(privateKeyKey, `${JSON.stringify(envelope, null, 2)}\n`, "application/json");
    }
    ca.privateKeyKey = privateKeyKey;
    ca.certificateKey = certificateKey;
    ca.certificate = {
      serialNumber: serialToDecimal(cert.serialNumber),
      fingerprintSha256: cert.fingerprint256,
      subject: cert.subject.split("\n").join(","),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
    };
    imported.add(scope);
  }
  const changed = stored.migratedFrom !== undefined || imported.size > 0;
  let written = false;
  if (changed && !options.dryRun) {
    await ns.store.update((draft) => {
      // Only the imported key's fields: a concurrent change to the scope (e.g. its CRL) is kept.
      for (const scope of imported) {
        const target = draft.cas[scope];
        const source = state.cas[scope]!;
        if (!target) continue;
        target.privateKeyKey = source.privateKeyKey;
        target.certificateKey = source.certificateKey;
        target.certificate = source.certificate;
      }
    });
    written = true;
  }
  return {
    namespace: deps.namespace,
    migratedFrom: stored.migratedFrom ?? null,
    written,
    scopes: await Promise.all(
      Object.entries(state.cas).map(async ([scope, ca]) => {
        let issuerTagProblem: string | null = null;
        const pem = ca.certificateKey
          ? await ns.bucket.read(ca.certificateKey).catch(() => undefined)
          : undefined;
        if (pem) {
          const parsed = await parseCertificate(Buffer.from(new X509Certificate(pem).raw));
          const bad = [...(parsed?.subjectFields ?? [])].filter(([, v]) => !isValidTagValue(v));
          if (bad.length > 0)
            issuerTagProblem = `the CA subject's ${bad.map(([k, v]) => `${k}="${v}"`).join(", ")} cannot become the x509Issuer session tags AWS derives, so CreateSession refuses its certificates; set up a new scope (iam-ra ca setup) and move the roles`;
        }
        return {
          scope,
          mode: ca.mode,
          keyInBucket: ca.privateKeyKey !== null,
          keyImported: imported.has(scope),
          issuerTagProblem,
        };
      }),
    ),
    unboundRoles: Object.entries(state.roles)
      .filter(([, r]) => r.binding === null)
      .map(([n]) => n),
    legacyHosts: Object.entries(state.hosts)
      .filter(([, h]) => h.legacy !== null)
      .map(([n]) => n),
  };
}
