import { deployStack } from "../cloudformation/deploy.ts";
import { stackName, validateName } from "../cloudformation/names.ts";
import { renderTemplate } from "../cloudformation/template.ts";
import { crlTemplate } from "../cloudformation/templates.ts";
import { IamRaError } from "../errors.ts";
import type { State } from "../state/schema.ts";
import { createCrl, loadX509 } from "../x509/ca.ts";
import { toPem } from "../x509/pem.ts";
import type { AdminDeps } from "./ports.ts";
import { loadCaIssuer, type Namespace, openNamespace, requireState } from "./workflows.ts";

const DAY = 86_400_000;

/** A decimal serial as the even-length hex a CRL entry (and AWS Private CA) expects. @internal */
export function serialHex(decimal: string): string {
  const hex = BigInt(decimal).toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** Serials of certificates already expired: a CRL need not list them (and must stay small). */
function expiredSerials(state: State, now: Date): Set<string> {
  const out = new Set<string>();
  for (const host of Object.values(state.hosts))
    for (const c of host.certificates) if (Date.parse(c.notAfter) < now.getTime()) out.add(c.serialNumber);
  return out;
}

/**
 * Adds serials to a self-signed scope's revocation list and imports it into Roles Anywhere through
 * the scope's CRL stack (PEM, as the CloudFormation resource passes it to ImportCrl). The list is
 * merged with the latest state inside the conditional write, and published again if another admin
 * revoked something meanwhile, so no revocation is ever lost; expired certificates are dropped.
 * @internal
 */
export async function publishScopeCrl(
  deps: AdminDeps,
  ns: Namespace,
  scope: string,
  serials: readonly string[],
): Promise<{ stackName: string; revokedSerials: string[] } | undefined> {
  const name = stackName(deps.namespace, "crl", scope);
  let wanted = [...serials];
  for (let round = 0; round < 4; round++) {
    const state = await requireState(ns);
    const ca = state.cas[scope];
    if (ca?.mode !== "self-signed") return undefined;
    const now = deps.clock.now();
    const expired = expiredSerials(state, now);
    const all = [...new Set([...(ca.crl?.revokedSerials ?? []), ...wanted])]
      .filter((s) => !expired.has(s))
      .sort();
    deps.progress(`Publishing a CRL for scope ${scope} (${all.length} revoked)`);
    const crl = await createCrl({
      issuer: await loadCaIssuer(deps, ns, ca),
      revoked: all.map((s) => ({ serialNumber: serialHex(s), revocationDate: now })),
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 30 * DAY),
    });
    const deployed = await importCrl(deps, scope, ca.trustAnchorArn, crl);
    const { result: merged } = await ns.store.update((draft) => {
      const record = draft.cas[scope];
      if (!record) return all;
      const union = [...new Set([...(record.crl?.revokedSerials ?? []), ...all])]
        .filter((s) => !expired.has(s))
        .sort();
      record.crl = {
        stackName: name,
        crlArn: deployed.crlId ?? record.crl?.crlArn ?? null,
        revokedSerials: union,
      };
      return union;
    });
    if (merged.length === all.length) return { stackName: name, revokedSerials: all };
    wanted = merged; // someone else revoked meanwhile: publish the union
  }
  return { stackName: name, revokedSerials: wanted };
}

/** CloudFormation's limit for a template passed inline (TemplateBody). */
const CRL_TEMPLATE_LIMIT = 51_200;

/** Imports a CRL (DER) into Roles Anywhere for a scope's trust anchor, through the scope's CRL stack. */
async function importCrl(
  deps: AdminDeps,
  scope: string,
  trustAnchorArn: string,
  der: Uint8Array,
): Promise<{ stackName: string; crlId: string | undefined }> {
  const name = stackName(deps.namespace, "crl", scope);
  const template = crlTemplate(deps.namespace, scope, toPem("X509 CRL", der));
  if (renderTemplate(template).length > CRL_TEMPLATE_LIMIT) {
    throw new IamRaError(
      "invalid-input",
      `The CRL of scope ${scope} (${der.length} bytes) is too large for an inline CloudFormation template.`,
      {
        hint: "Import it directly: aws rolesanywhere import-crl --trust-anchor-arn … --crl-data fileb://crl.der (and keep the CA's revocation list short by letting revoked certificates expire).",
      },
    );
  }
  const deployed = await deployStack({
    cfn: deps.cfn,
    clock: deps.clock,
    sleep: deps.sleep,
    signal: deps.signal,
    stackName: name,
    template,
    parameters: { TrustAnchorArn: trustAnchorArn },
    tags: { "iam-ra:namespace": deps.namespace, "iam-ra:scope": scope },
    onEvent: deps.onStackEvent ? (e) => deps.onStackEvent?.(name, e) : undefined,
  });
  return { stackName: name, crlId: deployed.outputs.CrlId };
}

/** What {@link syncScopeCrl} (and {@link syncPcaCrl}) did. @public */
export interface CrlSyncResult {
  /** `imported`: Roles Anywhere now refuses every wanted serial; `pending`: the CA has not listed them yet; `no-crl`: the CA publishes no CRL. */
  state: "imported" | "pending" | "no-crl";
  /** Where the CA publishes its CRL (`s3://bucket/crl/<id>.crl`), when it does. */
  location: string | null;
  /** Serials (decimal) the imported CRL lists. */
  revokedSerials: string[];
  /** Wanted serials the CA's CRL does not list (yet). */
  missingSerials: string[];
  crlStackName: string | null;
}

const decimal = (hex: string) => BigInt(`0x${hex.replace(/[^0-9a-f]/gi, "") || "0"}`).toString(10);

/**
 * Imports an AWS Private CA scope's published CRL into Roles Anywhere, which never fetches CRLs
 * itself. The CRL is read from the CA's S3 bucket, its signature checked against the CA
 * certificate, and imported through the scope's CRL stack once it lists every wanted serial (by
 * default, every certificate state records as revoked in the scope). AWS Private CA publishes
 * about 30 minutes after a revocation: with `waitMs`, this polls until then; without, it imports
 * what is there and reports `pending` for what is missing.
 * @public
 */
export async function syncPcaCrl(
  deps: AdminDeps,
  ns: Namespace,
  scope: string,
  options: { serials?: readonly string[] | undefined; waitMs?: number | undefined } = {},
): Promise<CrlSyncResult> {
  const state = await requireState(ns);
  const ca = state.cas[scope];
  if (!ca)
    throw new IamRaError("not-found", `There is no CA scope ${scope}.`, { hint: "See `iam-ra ca list`." });
  if (ca.mode === "self-signed" || !ca.pcaArn) {
    throw new IamRaError("invalid-input", `CA scope ${scope} is not an AWS Private CA scope.`, {
      hint: "A self-signed scope's CRL is published by `iam-ra host revoke` itself.",
    });
  }
  const wanted =
    options.serials ??
    Object.values(state.hosts)
      .filter((h) => h.scope === scope)
      .flatMap((h) => h.certificates.filter((c) => c.status === "revoked").map((c) => c.serialNumber));
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = deps.clock.now().getTime() + (options.waitMs ?? 0);
  const x509 = await loadX509();
  const caCertificate = new x509.X509Certificate(
    (await deps.pca.caCertificate(ca.pcaArn)).split(/(?<=-----END CERTIFICATE-----)/)[0]!,
  );
  for (let attempt = 0; ; attempt++) {
    const published = await deps.pca.publishedCrl(ca.pcaArn);
    if (!published) {
      return {
        state: "no-crl",
        location: null,
        revokedSerials: [],
        missingSerials: [...wanted],
        crlStackName: ca.crl?.stackName ?? null,
      };
    }
    let listed: string[] = [];
    let crl: InstanceType<typeof x509.X509Crl> | undefined;
    if (published.der) {
      crl = new x509.X509Crl(new Uint8Array(published.der));
      if (!(await crl.verify({ publicKey: caCertificate.publicKey }))) {
        throw new IamRaError(
          "untrusted-certificate",
          `The CRL at ${published.location} is not signed by the Private CA of scope ${scope}.`,
          {
            hint: "Check who can write to that bucket; leave the CRL out of Roles Anywhere until it is the CA's own.",
          },
        );
      }
      listed = crl.entries.map((e) => decimal(e.serialNumber));
    }
    const missing = wanted.filter((s) => !listed.includes(s));
    const timeLeft = deadline - deps.clock.now().getTime();
    if (missing.length > 0 && timeLeft > 0) {
      const delay = Math.min(60_000, 5_000 * 2 ** attempt, timeLeft);
      deps.progress(
        `Waiting for the Private CA to publish a CRL listing ${missing.length} serial(s) (it does within about 30 minutes of a revocation)`,
      );
      await sleep(delay, deps.signal);
      continue;
    }
    const known = ca.crl?.revokedSerials ?? [];
    const fresh = crl !== undefined && (listed.some((s) => !known.includes(s)) || ca.crl === null);
    let crlStackName = ca.crl?.stackName ?? null;
    if (crl && published.der && fresh) {
      deps.progress(`Importing the Private CA's CRL for scope ${scope} (${listed.length} revoked)`);
      const imported = await importCrl(deps, scope, ca.trustAnchorArn, published.der);
      crlStackName = imported.stackName;
      await ns.store.update((draft) => {
        const record = draft.cas[scope];
        if (record)
          record.crl = {
            stackName: imported.stackName,
            crlArn: imported.crlId ?? record.crl?.crlArn ?? null,
            revokedSerials: [...listed].sort(),
          };
      });
    }
    return {
      state: missing.length === 0 ? "imported" : "pending",
      location: published.location,
      revokedSerials: [...listed].sort(),
      missingSerials: missing,
      crlStackName,
    };
  }
}

/**
 * `iam-ra ca sync-crl`: brings a scope's CRL into Roles Anywhere. A Private CA scope imports the
 * CRL the CA published (see {@link syncPcaCrl}); a self-signed scope publishes its CRL again.
 * @public
 */
export async function syncScopeCrl(
  deps: AdminDeps,
  scope: string,
  options: { waitMs?: number | undefined } = {},
): Promise<CrlSyncResult> {
  validateName("scope", scope);
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const ca = state.cas[scope];
  if (!ca)
    throw new IamRaError("not-found", `There is no CA scope ${scope}.`, { hint: "See `iam-ra ca list`." });
  if (ca.mode !== "self-signed") return await syncPcaCrl(deps, ns, scope, options);
  const published = ca.crl ? await publishScopeCrl(deps, ns, scope, []) : undefined;
  return {
    state: "imported",
    location: null,
    revokedSerials: published?.revokedSerials ?? [],
    missingSerials: [],
    crlStackName: published?.stackName ?? null,
  };
}
