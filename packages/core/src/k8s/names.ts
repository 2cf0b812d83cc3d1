import type { ICertificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { IamRaError } from "../errors.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Checks a Kubernetes name: a DNS-1123 label (namespaces, container names; at most 63
 * characters) or subdomain (object names; at most 253). Throws `invalid-input`.
 * @public
 */
export function validateK8sName(kind: string, value: string, rule: "label" | "subdomain" = "label"): void {
  const max = rule === "label" ? 63 : 253;
  if (!(rule === "label" ? DNS_LABEL : DNS_SUBDOMAIN).test(value) || value.length > max) {
    throw new IamRaError("invalid-input", `"${value}" is not a valid Kubernetes ${kind} name.`, {
      hint: `Use lower-case letters, digits and hyphens${rule === "subdomain" ? " (and dots)" : ""}, at most ${max} characters, starting and ending with a letter or digit.`,
    });
  }
}

/**
 * The names iam-ra gives a workload's objects. The issuer's are per (iam-ra namespace, scope) so
 * that several iam-ra namespaces and scopes can share a Kubernetes namespace.
 * @public
 */
export function k8sObjectNames(input: { iamRaNamespace: string; scope: string; workload: string }): {
  issuer: string;
  caSecret: string;
  certificate: string;
  certificateSecret: string;
  configMap: string;
} {
  const issuer = `iam-ra-${input.iamRaNamespace}-${input.scope}`;
  return {
    issuer,
    caSecret: `${issuer}-ca`,
    certificate: `${input.workload}-iam-ra`,
    certificateSecret: `${input.workload}-iam-ra-tls`,
    configMap: `${input.workload}-iam-ra`,
  };
}

/** The cert-manager `subject` fields a role binding can be expressed in. @public */
export type CertificateSubject = NonNullable<ICertificate["spec"]["subject"]>;

const SUBJECT_FIELDS: Record<string, keyof CertificateSubject> = {
  OU: "organizationalUnits",
  O: "organizations",
  C: "countries",
  L: "localities",
  ST: "provinces",
};

/**
 * How a role's binding (`aws:PrincipalTag/x509Subject/<attr>` = value) is expressed in a
 * Certificate: `x509Subject/CN` sets the common name; OU, O, C, L and ST set that subject field
 * (the common name is then the workload's name). Other tags cannot be asked of cert-manager's CA
 * issuer and are refused.
 * @public
 */
export function certificateSubjectFor(
  binding: { tag: string; value: string },
  workload: string,
): { commonName: string; subject: CertificateSubject | undefined } {
  const attr = binding.tag.startsWith("x509Subject/") ? binding.tag.slice("x509Subject/".length) : undefined;
  if (attr === "CN") return { commonName: binding.value, subject: undefined };
  const field = attr === undefined ? undefined : SUBJECT_FIELDS[attr];
  if (!field) {
    throw new IamRaError(
      "invalid-input",
      `A role bound to ${binding.tag} cannot be expressed in a cert-manager Certificate.`,
      {
        hint: "Bind the role to x509Subject/OU (default), CN, O, C, L or ST: `iam-ra role update <role> --binding-tag x509Subject/OU`.",
      },
    );
  }
  return { commonName: workload, subject: { [field]: [binding.value] } };
}
