/** Taking hosts out: `host revoke` (CRL import or Private CA revocation) and `host offboard`. @module */
import { deleteStack } from "../cloudformation/deploy.ts";
import { IamRaError } from "../errors.ts";
import type { CaScope, Host, State } from "../state/schema.ts";
import { type CrlSyncResult, publishScopeCrl, serialHex, syncPcaCrl } from "./crl.ts";
import {
  certificateRecord,
  deployOptions,
  eventsFor,
  type Namespace,
  openNamespace,
  requireState,
} from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

/** A validated `host revoke`: the host, its scope and the serials to revoke. @public */
export interface RevocationPlan {
  host: Host;
  ca: CaScope;
  /** Decimal serials, normalised. */
  serials: string[];
  /** Every certificate the serials may name (with its expiry). */
  known: Array<{ serialNumber: string; notAfter: string }>;
}

/**
 * Checks a revocation against state: the host and its scope exist and every serial is one of the
 * host's certificates (default: its active ones). Pure.
 * @public
 */
export function planRevocation(
  state: State,
  hostname: string,
  options: {
    serials?: string[] | undefined;
    extraCertificates?: Array<{ serialNumber: string; notAfter: string }> | undefined;
  } = {},
): RevocationPlan {
  const host = state.hosts[hostname];
  if (!host)
    throw new IamRaError("not-found", `There is no host ${hostname}.`, { hint: "See `iam-ra host list`." });
  const ca = state.cas[host.scope];
  if (!ca) throw new IamRaError("not-found", `The host's CA scope ${host.scope} is gone.`);
  const known = [...host.certificates, ...(options.extraCertificates ?? [])];
  const serials = (
    options.serials ?? host.certificates.filter((c) => c.status === "active").map((c) => c.serialNumber)
  ).map((s) => {
    if (!/^\d+$/.test(s) || !known.some((c) => c.serialNumber === BigInt(s).toString())) {
      throw new IamRaError(
        "invalid-input",
        `${s} is not the decimal serial of a certificate of ${hostname}.`,
        {
          hint: `See \`iam-ra host list\` for the host's certificates and their serials.`,
        },
      );
    }
    return BigInt(s).toString();
  });
  return { host, ca, serials, known };
}

/**
 * Revokes a host's certificates (default: the active ones) so CreateSession refuses them: for a
 * self-signed scope, a new CRL signed by the scope CA is imported into Roles Anywhere (the CRL
 * stack); for a Private CA scope, the certificate is revoked in the Private CA.
 * @public
 */
export async function revokeHost(
  deps: AdminDeps,
  hostname: string,
  options: {
    /** Decimal serials of the host's certificates (default: its active ones). */
    serials?: string[] | undefined;
    /** Private CA scopes: how long to wait for the CA to publish a CRL listing the serials. */
    waitMs?: number | undefined;
    /** @internal A certificate known only from elsewhere (a Python iam-ra host's secret). */
    extraCertificates?: Array<{ serialNumber: string; notAfter: string }> | undefined;
  } = {},
): Promise<{
  hostname: string;
  /** The host's CA scope. */
  scope: string;
  revoked: string[];
  crlStackName: string | null;
  /**
   * True once an imported CRL lists every revoked serial, so CreateSession refuses them. A
   * Private CA publishes its CRL up to about 30 minutes after a revocation; until iam-ra imports
   * it (`iam-ra ca sync-crl`), this is false.
   */
  refusedByRolesAnywhere: boolean;
  /** Private CA scopes: the state of the CA's CRL (see {@link syncPcaCrl}); null for self-signed. */
  pcaCrl: "imported" | "pending" | "no-crl" | null;
  /** Private CA scopes: why the CRL could not be imported (the revocation itself stands). */
  crlError: string | null;
}> {
  const ns = await openNamespace(deps);
  const { host, ca, serials, known } = planRevocation(await requireState(ns), hostname, options);
  const base = { hostname, scope: host.scope, revoked: serials, crlError: null };
  if (ca.mode === "self-signed") {
    if (serials.length === 0)
      return { ...base, crlStackName: ca.crl?.stackName ?? null, refusedByRolesAnywhere: true, pcaCrl: null };
    const crlStackName = (await publishScopeCrl(deps, ns, host.scope, serials))?.stackName ?? null;
    await markRevoked(deps, ns, hostname, host.scope, serials, null);
    return { ...base, crlStackName, refusedByRolesAnywhere: true, pcaCrl: null };
  }
  for (const s of serials) {
    deps.progress(`Revoking serial ${s} in AWS Private CA`);
    await deps.pca.revoke(ca.pcaArn!, serialHex(s));
    // One at a time, so a failure half-way leaves state saying exactly what was revoked.
    const notAfter = known.find((c) => c.serialNumber === s)!.notAfter;
    await markRevoked(deps, ns, hostname, host.scope, [s], notAfter);
  }
  // Roles Anywhere never fetches CRLs: bring the CA's published one over. That may fail (S3
  // access, a stack) without undoing the revocation: say so, and how to finish.
  let sync: CrlSyncResult;
  try {
    sync = await syncPcaCrl(deps, ns, host.scope, { serials, waitMs: options.waitMs });
  } catch (error) {
    if (error instanceof IamRaError && error.code === "aborted") throw error;
    const message = error instanceof Error ? error.message : String(error);
    deps.progress(
      `Revoked in the Private CA, but importing its CRL failed (${message}): fix that, then run \`iam-ra ca sync-crl --scope ${host.scope}\``,
    );
    return {
      ...base,
      crlStackName: ca.crl?.stackName ?? null,
      refusedByRolesAnywhere: false,
      pcaCrl: "pending",
      crlError: message,
    };
  }
  if (sync.state === "no-crl") {
    deps.progress(
      `The Private CA of scope ${host.scope} publishes no CRL, so Roles Anywhere keeps accepting the certificate until it expires: enable a CRL in the CA's revocation configuration, then run \`iam-ra ca sync-crl --scope ${host.scope}\``,
    );
  } else if (sync.state === "pending") {
    deps.progress(
      `The Private CA has not published a CRL listing the serial(s) yet (it does within about 30 minutes): run \`iam-ra ca sync-crl --scope ${host.scope} --wait 45m\` to import it`,
    );
  }
  return {
    ...base,
    crlStackName: sync.crlStackName,
    refusedByRolesAnywhere: sync.state === "imported",
    pcaCrl: sync.state,
  };
}

/**
 * Records a revocation: the host's certificates become `revoked`, and a Private CA scope keeps the
 * serial (with its expiry) so a later CRL import knows to expect it.
 */
async function markRevoked(
  deps: AdminDeps,
  ns: Namespace,
  hostname: string,
  scope: string,
  serials: string[],
  pcaNotAfter: string | null,
): Promise<void> {
  await ns.store.update((draft) => {
    const at = deps.clock.now().toISOString();
    const h = draft.hosts[hostname];
    if (h) {
      h.certificates = h.certificates.map((c) =>
        serials.includes(c.serialNumber) && c.status !== "revoked"
          ? { ...c, status: "revoked" as const, revokedAt: at }
          : c,
      );
      h.updatedAt = at;
    }
    const record = draft.cas[scope];
    if (record && pcaNotAfter) {
      const live = (record.pcaRevocations ?? []).filter(
        (r) => Date.parse(r.notAfter) > deps.clock.now().getTime() && !serials.includes(r.serialNumber),
      );
      record.pcaRevocations = [
        ...live,
        ...serials.map((serialNumber) => ({ serialNumber, notAfter: pcaNotAfter })),
      ];
    }
  });
}

/** Removes a host: revokes its certificates (unless `revoke: false`), deletes its secret and record. @public */
export async function offboardHost(
  deps: AdminDeps,
  hostname: string,
  options: { revoke?: boolean | undefined; waitMs?: number | undefined } = {},
): Promise<{
  hostname: string;
  /** The host's CA scope. */
  scope: string;
  revoked: string[];
  secretDeleted: boolean;
  /** As {@link revokeHost}: whether CreateSession now refuses the revoked certificates. */
  refusedByRolesAnywhere: boolean;
}> {
  const ns = await openNamespace(deps);
  const state = await requireState(ns);
  const host = state.hosts[hostname];
  if (!host)
    throw new IamRaError("not-found", `There is no host ${hostname}.`, { hint: "See `iam-ra host list`." });
  // A host issued by the Python iam-ra: its certificate is only in that tool's secret; revoke it by
  // its serial, then delete that tool's host stack (which deletes both of its secrets).
  let legacy: Array<{ serialNumber: string; notAfter: string }> = [];
  if (host.legacy?.certificateSecretArn && options.revoke !== false && host.certificates.length === 0) {
    const pem = await deps.secrets.get(host.legacy.certificateSecretArn);
    if (pem?.includes("BEGIN CERTIFICATE")) legacy = [certificateRecord(pem)];
  }
  const revocation =
    options.revoke === false
      ? undefined
      : await revokeHost(deps, hostname, {
          ...(legacy.length > 0
            ? { serials: legacy.map((c) => c.serialNumber), extraCertificates: legacy }
            : {}),
          waitMs: options.waitMs,
        });
  const revoked = revocation?.revoked ?? [];
  if (host.secretArn) await deps.secrets.remove(host.secretArn);
  if (host.legacy) {
    deps.progress(`Deleting ${host.legacy.stackName} (the Python iam-ra's host stack and secrets)`);
    await deleteStack({
      ...deployOptions(deps),
      stackName: host.legacy.stackName,
      onEvent: eventsFor(deps, host.legacy.stackName),
    });
  }
  await ns.store.update((draft) => {
    delete draft.hosts[hostname];
  });
  return {
    hostname,
    scope: host.scope,
    revoked,
    secretDeleted: host.secretArn !== null || host.legacy !== null,
    refusedByRolesAnywhere: revocation?.refusedByRolesAnywhere ?? false,
  };
}
