import type { K8sWorkload, State } from "../state/schema.ts";
import { isValidTagValue } from "../x509/certificate-info.ts";

/** The `CN=` value of a subject as state records it (`CN=…,O=…`). @internal */
export function commonNameOf(subject: string): string | undefined {
  const m = /(?:^|,)\s*CN=((?:\\.|[^,\\])*)/.exec(subject);
  return m?.[1]?.replace(/\\(.)/g, "$1");
}

/** Finds a workload by its name, cluster and Kubernetes namespace, whatever its state key. @internal */
export function findWorkload(
  state: State,
  name: string,
  cluster: string,
  namespace: string,
): { key: string; workload: K8sWorkload } | undefined {
  for (const [key, workload] of Object.entries(state.k8s.workloads)) {
    if (workload.name === name && workload.cluster === cluster && workload.namespace === namespace)
      return { key, workload };
  }
  return undefined;
}

/**
 * The issuer CNs a role's trust policy must admit: its scope CA's (hosts' certificates come from
 * it), then the namespace issuers of the scope where a workload of the role is onboarded (and not
 * being offboarded), sorted.
 * Null when the role cannot be bound to issuers: a Private CA scope (iam-ra does not name its CA),
 * a scope imported without its certificate or whose CA's CN cannot be a session tag, or a role that
 * already binds `x509Issuer/CN` itself.
 * @internal
 */
export function allowedIssuersFor(
  state: State,
  role: string,
  scope: string,
  bindingTag: string,
): string[] | null {
  const ca = state.cas[scope];
  if (ca?.mode !== "self-signed" || !ca.certificate || bindingTag === "x509Issuer/CN") return null;
  const root = commonNameOf(ca.certificate.subject);
  // The list is a CommaDelimitedList parameter; a CN AWS cannot make a session tag admits nothing.
  if (!root || root.includes(",") || !isValidTagValue(root)) return null;
  const issuers = state.k8s.issuers ?? {};
  const cns = new Set<string>();
  for (const w of Object.values(state.k8s.workloads)) {
    // A workload being offboarded no longer counts: its trust goes first.
    const issuer = w.role === role && w.issuer && w.status !== "offboarding" ? issuers[w.issuer] : undefined;
    if (issuer && issuer.scope === scope) cns.add(issuer.commonName);
  }
  return [root, ...[...cns].sort()];
}
