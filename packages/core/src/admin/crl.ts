import { deployStack } from "../cloudformation/deploy.ts";
import { stackName } from "../cloudformation/names.ts";
import { crlTemplate } from "../cloudformation/templates.ts";
import type { State } from "../state/schema.ts";
import { createCrl } from "../x509/ca.ts";
import { toPem } from "../x509/pem.ts";
import type { AdminDeps } from "./ports.ts";
import { loadCaIssuer, type Namespace, requireState } from "./workflows.ts";

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
    const deployed = await deployStack({
      cfn: deps.cfn,
      clock: deps.clock,
      sleep: deps.sleep,
      signal: deps.signal,
      stackName: name,
      template: crlTemplate(deps.namespace, scope),
      parameters: { TrustAnchorArn: ca.trustAnchorArn, CrlPem: toPem("X509 CRL", crl) },
      tags: { "iam-ra:namespace": deps.namespace, "iam-ra:scope": scope },
      onEvent: deps.onStackEvent ? (e) => deps.onStackEvent?.(name, e) : undefined,
    });
    const { result: merged } = await ns.store.update((draft) => {
      const record = draft.cas[scope];
      if (!record) return all;
      const union = [...new Set([...(record.crl?.revokedSerials ?? []), ...all])]
        .filter((s) => !expired.has(s))
        .sort();
      record.crl = {
        stackName: name,
        crlArn: deployed.outputs.CrlId ?? record.crl?.crlArn ?? null,
        revokedSerials: union,
      };
      return union;
    });
    if (merged.length === all.length) return { stackName: name, revokedSerials: all };
    wanted = merged; // someone else revoked meanwhile: publish the union
  }
  return { stackName: name, revokedSerials: wanted };
}
