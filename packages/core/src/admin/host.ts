/** Hosts: `host onboard` and `host rotate` (a certificate from the scope's CA, kept in Secrets Manager). @module */
import { validateName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";
import type { CaScope, CertificateRecord, Host, HostCertificate, Role, State } from "../state/schema.ts";
import { createCsr, issueCertificate, issueCertificateForKey, parseCsr } from "../x509/ca.ts";
import {
  certificateRecord,
  DAY,
  loadCaIssuer,
  nsTags,
  openNamespace,
  requireState,
  secretName,
} from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";
import { revokeHost } from "./revoke.ts";

/** Options of {@link onboardHost}. @public */
export interface HostOptions {
  role?: string | undefined;
  validityDays?: number | undefined;
  /** The host's CSR (PEM): its key never leaves the host. */
  csrPem?: string | undefined;
  /** Extra DNS names (the hostname is always one). */
  dnsNames?: string[] | undefined;
  /** `onboard` refuses an existing host; `rotate` requires one. */
  mode: "onboard" | "rotate";
  /** Rotation: revoke the certificate it replaces. */
  revokePrevious?: boolean | undefined;
}

/** What `host onboard|rotate` produced (the key only when iam-ra generated it). @public */
export interface HostResult {
  hostname: string;
  role: string;
  scope: string;
  region: string;
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  secretArn: string;
  certificate: CertificateRecord & { keySource: "generated" | "csr" };
  certificatePem: string;
  chainPem: string;
  /** PKCS#8 PEM, only when generated here. Secret: the CLI writes it 0600 and never prints it. */
  privateKeyPem: string | null;
  revoked: string[];
}

function subjectFor(
  hostname: string,
  binding: { tag: string; value: string },
): { subject: string; dns: string[] } {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
  const attr = binding.tag.startsWith("x509Subject/") ? binding.tag.slice("x509Subject/".length) : undefined;
  if (attr === "CN") return { subject: `CN=${esc(binding.value)}`, dns: [hostname] };
  if (attr) return { subject: `CN=${esc(hostname)},${attr}=${esc(binding.value)}`, dns: [hostname] };
  return { subject: `CN=${esc(hostname)}`, dns: [hostname] };
}

/** A validated `host onboard|rotate`: what {@link onboardHost} issues. @public */
export interface HostPlan {
  /** The host as state has it now (undefined: onboarded for the first time). */
  existing: Host | undefined;
  roleName: string;
  role: Role;
  ca: CaScope;
  binding: { tag: string; value: string };
  validityDays: number;
  /** The certificate's subject (RFC 4514) and DNS names. */
  subject: string;
  dnsNames: string[];
  keySource: "generated" | "csr";
  /** Decimal serials of the host's active certificates (the ones a rotation replaces). */
  previousSerials: string[];
}

/**
 * Checks a host onboarding or rotation against state (the host, its role and the role's scope) and
 * works out the certificate's subject from the role's binding; throws what `onboardHost` would
 * refuse, before any AWS call. Pure.
 * @public
 */
export function planHost(state: State, hostname: string, options: HostOptions): HostPlan {
  validateName("hostname", hostname);
  const existing = state.hosts[hostname];
  if (options.mode === "onboard" && existing) {
    throw new IamRaError("already-exists", `Host ${hostname} is already onboarded (role ${existing.role}).`, {
      hint: `Use \`iam-ra host rotate ${hostname}\` for a new certificate, or offboard it first.`,
    });
  }
  if (options.mode === "rotate" && !existing) {
    throw new IamRaError("not-found", `There is no host ${hostname}.`, {
      hint: `Onboard it with \`iam-ra host onboard ${hostname} --role …\`.`,
    });
  }
  const roleName = options.role ?? existing?.role;
  if (!roleName) throw new IamRaError("invalid-input", "No role was given.", { hint: "Pass --role." });
  const role = state.roles[roleName];
  if (!role)
    throw new IamRaError("not-found", `There is no role ${roleName}.`, { hint: "See `iam-ra role list`." });
  const ca = state.cas[role.scope];
  if (!ca)
    throw new IamRaError("not-found", `Role ${roleName}'s CA scope ${role.scope} is gone.`, {
      hint: "Re-create the scope or move the role.",
    });
  const binding = role.binding ?? { tag: "x509Subject/CN", value: hostname };
  const days = options.validityDays ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new IamRaError("invalid-input", `Validity ${days} days is outside 1–3650.`, {
      hint: "Pass --validity-days between 1 and 3650.",
    });
  }
  const { subject, dns } = subjectFor(hostname, binding);
  return {
    existing,
    roleName,
    role,
    ca,
    binding,
    validityDays: days,
    subject,
    dnsNames: [...dns, ...(options.dnsNames ?? [])],
    keySource: options.csrPem ? "csr" : "generated",
    previousSerials:
      existing?.certificates.filter((c) => c.status === "active").map((c) => c.serialNumber) ?? [],
  };
}

/**
 * Issues a host certificate for a role (from the scope's CA or Private CA), stores it in Secrets
 * Manager through the API, and records its serial, fingerprint and validity. `rotate` really
 * replaces it: new certificate (and key, unless a CSR is given), new secret value, state updated.
 * @public
 */
export async function onboardHost(
  deps: AdminDeps,
  hostname: string,
  options: HostOptions,
): Promise<HostResult> {
  validateName("hostname", hostname);
  const ns = await openNamespace(deps);
  const plan = planHost(await requireState(ns), hostname, options);
  const { existing, roleName, role, ca, binding, subject, keySource } = plan;
  const days = plan.validityDays;
  const now = deps.clock.now();
  let certificatePem: string;
  let chainPem = "";
  let privateKeyPem: string | null = null;
  if (ca.mode === "self-signed") {
    deps.progress(`Issuing a certificate for ${hostname} (${subject}) from scope ${role.scope}`);
    const issuer = await loadCaIssuer(deps, ns, ca);
    const spec = {
      issuer,
      subject,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + days * DAY),
      san: { dns: plan.dnsNames },
    };
    if (options.csrPem) {
      const csr = await parseCsr(options.csrPem);
      certificatePem = (await issueCertificateForKey(spec, csr.publicKey)).certificatePem;
    } else {
      const issued = await issueCertificate({ ...spec, keyAlgorithm: "EC_P256" });
      certificatePem = issued.certificatePem;
      privateKeyPem = issued.privateKeyPem;
    }
  } else {
    const pcaArn = ca.pcaArn!;
    const info = await deps.pca.describe(pcaArn);
    if (info.status !== "ACTIVE")
      throw new IamRaError("invalid-input", `The Private CA is ${info.status}.`, {
        hint: "It must be ACTIVE to issue.",
      });
    let csrPem = options.csrPem;
    if (csrPem) {
      const csr = await parseCsr(csrPem);
      if (binding.tag.startsWith("x509Subject/")) {
        const attr = binding.tag.slice("x509Subject/".length);
        if (!csr.requestedSubject.split(/,\s*/).includes(`${attr}=${binding.value}`)) {
          throw new IamRaError(
            "invalid-input",
            `The CSR's subject must contain ${attr}=${binding.value} (AWS Private CA keeps the CSR's subject).`,
            {
              hint: `Re-create it, e.g. openssl req -new -key host.key -subj "/CN=${hostname}/${attr}=${binding.value}".`,
            },
          );
        }
      }
    } else {
      const made = await createCsr(subject);
      csrPem = made.csrPem;
      privateKeyPem = made.privateKeyPem;
    }
    deps.progress(`Issuing a certificate for ${hostname} from AWS Private CA`);
    const issued = await deps.pca.issue(pcaArn, csrPem, days, info.signingAlgorithm || "SHA256WITHECDSA");
    certificatePem = `${issued.certificatePem.trim()}\n`;
    chainPem = issued.chainPem;
  }
  const record = certificateRecord(certificatePem);
  const secretValue = JSON.stringify({
    certificate: certificatePem,
    chain: chainPem,
    ...(privateKeyPem ? { privateKey: privateKeyPem } : {}),
    trustAnchorArn: ca.trustAnchorArn,
    profileArn: role.profileArn,
    roleArn: role.roleArn,
    region: deps.region,
  });
  deps.progress(`Storing the certificate${privateKeyPem ? " and key" : ""} in Secrets Manager`);
  const secretArn = await deps.secrets.put(
    secretName(deps, hostname),
    secretValue,
    ns.kmsKeyArn,
    nsTags(deps, { "iam-ra:hostname": hostname, "iam-ra:role": roleName }),
  );
  const previous = plan.previousSerials;
  try {
    await ns.store.update((draft) => {
      const at = deps.clock.now().toISOString();
      const before = draft.hosts[hostname];
      const certificates: HostCertificate[] = (before?.certificates ?? []).map((c) =>
        c.status === "active" ? { ...c, status: "superseded" as const } : c,
      );
      certificates.push({ ...record, status: "active", keySource, revokedAt: null });
      const host: Host = {
        role: roleName,
        scope: role.scope,
        secretArn,
        certificates,
        legacy: before?.legacy ?? null,
        createdAt: before?.createdAt ?? at,
        updatedAt: at,
      };
      draft.hosts[hostname] = host;
    });
  } catch (e) {
    if (!existing) await deps.secrets.remove(secretArn).catch(() => {});
    throw e;
  }
  let revoked: string[] = [];
  if (options.mode === "rotate" && options.revokePrevious && previous.length > 0) {
    revoked = (await revokeHost(deps, hostname, { serials: previous })).revoked;
  }
  return {
    hostname,
    role: roleName,
    scope: role.scope,
    region: deps.region,
    trustAnchorArn: ca.trustAnchorArn,
    profileArn: role.profileArn,
    roleArn: role.roleArn,
    secretArn,
    certificate: { ...record, keySource },
    certificatePem,
    chainPem,
    privateKeyPem,
    revoked,
  };
}
