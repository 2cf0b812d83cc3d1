import { deployStack } from "../cloudformation/deploy.ts";
import { stackName, validateName } from "../cloudformation/names.ts";
import { renderTemplate } from "../cloudformation/template.ts";
import { crlTemplate } from "../cloudformation/templates.ts";
import { IamRaError } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import type { State } from "../state/schema.ts";
import { createCrl, loadX509 } from "../x509/ca.ts";
import { toPem } from "../x509/pem.ts";
import { loadCaIssuer, type Namespace, openNamespace, requireState } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

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
 * The serials a Private CA scope's CRL must list: what iam-ra revoked in the CA (recorded on the
 * scope, so it outlives an offboarded host) and the revoked certificates of its hosts, less those
 * already expired (the CA drops them from its CRL).
 */
function wantedSerials(state: State, scope: string, now: Date): string[] {
  const live = (notAfter: string) => Date.parse(notAfter) > now.getTime();
  const out = new Set<string>();
  for (const r of state.cas[scope]?.pcaRevocations ?? []) if (live(r.notAfter)) out.add(r.serialNumber);
  for (const host of Object.values(state.hosts)) {
    if (host.scope !== scope) continue;
    for (const c of host.certificates)
      if (c.status === "revoked" && live(c.notAfter)) out.add(c.serialNumber);
  }
  return [...out].sort();
}

/** The CRL number extension (RFC 5280 5.2.3) as a decimal string, if the CRL has one. */
function crlNumberOf(crl: { getExtension(type: string): { value: ArrayBuffer } | null }): string | undefined {
  const ext = crl.getExtension("2.5.29.20");
  const der = ext ? Buffer.from(ext.value) : undefined;
  // An INTEGER: tag 0x02, a short length, the big-endian value.
  const length = der?.[1];
  if (der?.[0] !== 0x02 || length === undefined || length > 20 || der.length !== length + 2) return undefined;
  return BigInt(`0x${der.subarray(2).toString("hex") || "0"}`).toString(10);
}

/**
 * Whether CRL `a` was issued after `b`: by CRL number when both have one (monotonic, and finer
 * than thisUpdate's seconds), else by thisUpdate.
 */
function isNewer(
  a: { thisUpdate: string; crlNumber: string | undefined },
  b: { thisUpdate?: string | undefined; crlNumber?: string | undefined } | null | undefined,
): boolean {
  if (!b?.thisUpdate) return true;
  if (a.crlNumber !== undefined && b.crlNumber !== undefined)
    return BigInt(a.crlNumber) > BigInt(b.crlNumber);
  return a.thisUpdate > b.thisUpdate;
}

const abortError = (signal: AbortSignal) =>
  signal.reason instanceof Error
    ? signal.reason
    : new IamRaError("aborted", "Stopped while waiting for the CRL.");

/**
 * Imports an AWS Private CA scope's published CRL into Roles Anywhere, which never fetches CRLs
 * itself. The CRL is read from the CA's S3 bucket, its signature checked against the CA
 * certificate, and imported through the scope's CRL stack, unless a CRL at least as recent is
 * already imported (so an old CRL, replayed or simply slower, never replaces a newer one). It must
 * list the wanted serials (`serials`, plus every unexpired revocation state records for the scope).
 * AWS Private CA publishes about 30 minutes after a revocation: with `waitMs`, this polls (riding
 * out transient errors) until then; without, it imports what is there and reports `pending` for
 * what is missing.
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
  const pcaArn = ca.pcaArn;
  const wanted = [...new Set([...(options.serials ?? []), ...wantedSerials(state, scope, deps.clock.now())])];
  const sleep = deps.sleep ?? abortableSleep;
  const deadline = deps.clock.now().getTime() + (options.waitMs ?? 0);
  const x509 = await loadX509();
  const caPem = (await deps.pca.caCertificate(pcaArn)).split(/(?<=-----END CERTIFICATE-----)/)[0]!;
  const caPublicKey = new x509.X509Certificate(caPem).publicKey;
  // Set when another admin's newer CRL was recorded while ours deployed: ours may have landed
  // last, so the newest must be imported again even though state already names it.
  let reimport = false;
  for (let attempt = 0; ; attempt++) {
    if (deps.signal?.aborted) throw abortError(deps.signal);
    const timeLeft = () => deadline - deps.clock.now().getTime();
    const pause = async (why: string) => {
      deps.progress(why);
      await sleep(Math.min(60_000, 5_000 * 2 ** Math.min(attempt, 4), timeLeft()), deps.signal);
    };
    let published: Awaited<ReturnType<typeof deps.pca.publishedCrl>>;
    try {
      published = await deps.pca.publishedCrl(pcaArn);
    } catch (error) {
      // A hiccup (throttling, a dropped connection) must not throw away a long wait.
      if (error instanceof IamRaError || timeLeft() <= 0) throw error;
      await pause(
        `Reading the Private CA's CRL failed (${error instanceof Error ? error.message : String(error)}); retrying`,
      );
      continue;
    }
    if (!published) {
      return {
        state: "no-crl",
        location: null,
        revokedSerials: [],
        missingSerials: wanted,
        crlStackName: ca.crl?.stackName ?? null,
      };
    }
    let crl: InstanceType<typeof x509.X509Crl> | undefined;
    let listed: string[] = [];
    if (published.der) {
      crl = new x509.X509Crl(new Uint8Array(published.der));
      if (!(await crl.verify({ publicKey: caPublicKey }))) {
        throw new IamRaError(
          "untrusted-certificate",
          `The CRL at ${published.location} is not signed by the Private CA of scope ${scope}.`,
          {
            hint: "Check who can write to that bucket; leave the CRL out of Roles Anywhere until it is the CA's own.",
          },
        );
      }
      listed = crl.entries.map((e) => decimal(e.serialNumber)).sort();
    }
    const missing = wanted.filter((s) => !listed.includes(s));
    if (missing.length > 0 && timeLeft() > 0) {
      await pause(
        `Waiting for the Private CA to publish a CRL listing ${missing.length} serial(s) (it does within about 30 minutes of a revocation)`,
      );
      continue;
    }
    let crlStackName = ca.crl?.stackName ?? null;
    if (crl && published.der) {
      const version = { thisUpdate: crl.thisUpdate.toISOString(), crlNumber: crlNumberOf(crl) };
      const current = (await requireState(ns)).cas[scope]?.crl;
      // Import only a CRL newer than the imported one (a CRL from before this feature recorded no
      // version: replace it); after being overtaken, the newest again.
      const same = current?.thisUpdate === version.thisUpdate && current?.crlNumber === version.crlNumber;
      if (isNewer(version, current) || (reimport && same)) {
        deps.progress(`Importing the Private CA's CRL for scope ${scope} (${listed.length} revoked)`);
        const imported = await importCrl(deps, scope, ca.trustAnchorArn, published.der);
        crlStackName = imported.stackName;
        const { result: overtaken } = await ns.store.update((draft) => {
          const record = draft.cas[scope];
          if (!record) return false;
          const recorded = record.crl;
          if (
            recorded?.thisUpdate &&
            isNewer({ thisUpdate: recorded.thisUpdate, crlNumber: recorded.crlNumber }, version)
          )
            return true;
          record.crl = {
            stackName: imported.stackName,
            crlArn: imported.crlId ?? record.crl?.crlArn ?? null,
            revokedSerials: listed,
            thisUpdate: version.thisUpdate,
            ...(version.crlNumber !== undefined ? { crlNumber: version.crlNumber } : {}),
          };
          return false;
        });
        // Another admin imported a newer CRL while this one was deploying, and this deploy may
        // have landed last: import the newest again.
        if (overtaken && attempt < 8) {
          reimport = true;
          continue;
        }
      }
    }
    return {
      state: missing.length === 0 ? "imported" : "pending",
      location: published.location,
      revokedSerials: listed,
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
