import { X509Certificate } from "node:crypto";
import { IamRaError } from "../errors.ts";
import { parseArn } from "../rolesanywhere/arn.ts";
import type { CreateSessionResult } from "../rolesanywhere/client.ts";
import { evaluateTrustPolicy } from "../rolesanywhere/trust-policy.ts";
import { derivePrincipalTags, parseCertificate } from "../x509/certificate-info.ts";
import { isExternalSigningKey } from "../x509/external-key.ts";
import type { CredentialMaterial } from "../x509/material.ts";
import type { PcaPort, RolesAnywhereReadPort } from "./ports.ts";

/**
 * One check of `doctor`: `ok: null` means it could not be run (an earlier check failed).
 * @public
 */
export interface DoctorCheck {
  id:
    | "hardware-key"
    | "key-matches-certificate"
    | "certificate-validity"
    | "trust-anchor"
    | "chain-reaches-anchor"
    | "profile"
    | "role-in-profile"
    | "trust-policy"
    | "clock-skew"
    | "create-session";
  ok: boolean | null;
  message: string;
  /** What to do when it failed. */
  fix?: string | undefined;
}

/**
 * The reads `doctor` makes; the CLI builds them from AWS SDK clients.
 * @public
 */
export interface DoctorDeps {
  rolesAnywhere: RolesAnywhereReadPort;
  pca: Pick<PcaPort, "caCertificate">;
  /** The role's trust policy (IAM GetRole), or undefined when the role does not exist. */
  roleTrustPolicy(roleArn: string): Promise<unknown | undefined>;
  /** The service's idea of now (an HTTP Date header), for clock skew. */
  serverTime(): Promise<Date | undefined>;
  clock: { now(): Date };
  /** Loads certificate, chain and key as given (throws with a precise reason). */
  loadMaterial(): Promise<CredentialMaterial>;
  /** A real CreateSession, when asked. */
  createSession?: ((material: CredentialMaterial) => Promise<CreateSessionResult>) | undefined;
}

/**
 * What `doctor` checks: a host's certificate, key and ARNs.
 * @public
 */
export interface DoctorInput {
  trustAnchorArn: string;
  profileArn: string;
  roleArn: string;
  /** Warn when the certificate expires within this many days. Default 30. */
  expiryWarningDays?: number | undefined;
  /**
   * The PKCS#11 URI of the key (or certificate) when it lives on a token or TPM: adds the
   * `hardware-key` check (module loads, token present, PIN accepted, the key signs there). Never
   * carries a PIN (`pin-value` URIs are refused before this).
   */
  hardwareKey?: string | undefined;
}

/**
 * The verdict: `ok` when no check failed.
 * @public
 */
export interface DoctorResult {
  ok: boolean;
  checks: DoctorCheck[];
}

const pemBlocks = (pem: string) =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);

/** Finds a path leaf → intermediates → one of the anchors, checking every signature. */
function chainToAnchor(
  leaf: X509Certificate,
  chain: X509Certificate[],
  anchors: X509Certificate[],
): string | undefined {
  let current = leaf;
  const pool = [...chain];
  for (let depth = 0; depth < 6; depth++) {
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) return undefined;
    const next = pool.findIndex((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (next === -1) {
      return `no certificate in the chain or the trust anchor issued "${current.subject.replace(/\n/g, ",")}" (issuer "${current.issuer.replace(/\n/g, ",")}")`;
    }
    current = pool.splice(next, 1)[0]!;
  }
  return "the chain is longer than 5 certificates";
}

/**
 * Diagnoses why a certificate would (not) get credentials: key/certificate pair, validity, trust
 * anchor and chain, profile and role, the role's trust-policy conditions against the certificate's
 * principal tags, clock skew, and — when asked — a real CreateSession. Each failure says how to fix it.
 * @public
 */
export async function runDoctor(deps: DoctorDeps, input: DoctorInput): Promise<DoctorResult> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => checks.push(c);
  const skipped = (id: DoctorCheck["id"], why: string) =>
    add({ id, ok: null, message: `not checked: ${why}` });
  const now = deps.clock.now();

  let material: CredentialMaterial | undefined;
  try {
    material = await deps.loadMaterial();
    if (input.hardwareKey !== undefined) {
      const key = material.privateKey;
      add({
        id: "hardware-key",
        ok: true,
        message: isExternalSigningKey(key)
          ? `the module loads, the token answers, the PIN is accepted and the ${key.keyType} key ${key.description} signs on it`
          : `the module loads, the token answers and the certificate ${input.hardwareKey} is read from it`,
      });
    }
    add({
      id: "key-matches-certificate",
      ok: true,
      message: `the ${material.keyType} key matches the certificate`,
    });
  } catch (e) {
    // With a token, whatever failed (module, token, PIN, object, signature) is the token's check.
    add({
      id: input.hardwareKey === undefined ? "key-matches-certificate" : "hardware-key",
      ok: false,
      message: e instanceof Error ? e.message : String(e),
      fix: e instanceof IamRaError ? e.hint : "Pass the key that belongs to this certificate.",
    });
    if (input.hardwareKey !== undefined) skipped("key-matches-certificate", "the token could not be used");
  }

  if (material) {
    const cert = material.certificate;
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    const days = Math.floor((to.getTime() - now.getTime()) / 86_400_000);
    if (now < from)
      add({
        id: "certificate-validity",
        ok: false,
        message: `not valid until ${from.toISOString()}`,
        fix: "Check this machine's clock, or wait.",
      });
    else if (now > to)
      add({
        id: "certificate-validity",
        ok: false,
        message: `expired ${to.toISOString()}`,
        fix: "Issue a new certificate (iam-ra host rotate).",
      });
    else
      add({
        id: "certificate-validity",
        ok: true,
        message: `valid until ${to.toISOString()} (${days} days)${days < (input.expiryWarningDays ?? 30) ? " — rotate it soon" : ""}`,
      });
  } else skipped("certificate-validity", "no certificate");

  const readFailure = (id: DoctorCheck["id"], e: unknown) =>
    add({
      id,
      ok: null,
      message: `could not be read: ${e instanceof Error ? e.message : String(e)}`,
      fix: "Run doctor with AWS credentials that may read Roles Anywhere and IAM (--profile), or rely on the create-session check.",
    });
  let anchorRead = true;
  const anchor = await deps.rolesAnywhere.trustAnchor(input.trustAnchorArn).catch((e: unknown) => {
    anchorRead = false;
    readFailure("trust-anchor", e);
    return undefined;
  });
  if (!anchorRead) {
    // reported above
  } else if (!anchor)
    add({
      id: "trust-anchor",
      ok: false,
      message: `trust anchor ${input.trustAnchorArn} not found`,
      fix: "Check the ARN and the region.",
    });
  else if (!anchor.enabled)
    add({
      id: "trust-anchor",
      ok: false,
      message: "the trust anchor is disabled",
      fix: "Enable it (aws rolesanywhere enable-trust-anchor).",
    });
  else add({ id: "trust-anchor", ok: true, message: `trust anchor enabled (${anchor.sourceType})` });

  if (material && anchor) {
    let anchorPem = anchor.certificatePem;
    if (!anchorPem && anchor.sourceType === "AWS_ACM_PCA") {
      const pcaArn = anchor.pcaArn;
      anchorPem = pcaArn ? await deps.pca.caCertificate(pcaArn).catch(() => undefined) : undefined;
    }
    if (!anchorPem) skipped("chain-reaches-anchor", "the trust anchor's CA certificate could not be read");
    else {
      const anchors = pemBlocks(anchorPem).map((p) => new X509Certificate(p));
      const problem = chainToAnchor(material.certificate, material.chain, anchors);
      if (problem)
        add({
          id: "chain-reaches-anchor",
          ok: false,
          message: problem,
          fix: "Pass the intermediate certificates (--intermediates), or use a certificate from this trust anchor's CA.",
        });
      else
        add({
          id: "chain-reaches-anchor",
          ok: true,
          message: `the chain reaches the trust anchor (${material.chain.length} intermediate(s))`,
        });
    }
  } else skipped("chain-reaches-anchor", material ? "no trust anchor" : "no certificate");

  let profileRead = true;
  const profile = await deps.rolesAnywhere.profile(input.profileArn).catch((e: unknown) => {
    profileRead = false;
    readFailure("profile", e);
    return undefined;
  });
  if (!profileRead) {
    // reported above
  } else if (!profile)
    add({
      id: "profile",
      ok: false,
      message: `profile ${input.profileArn} not found`,
      fix: "Check the ARN and the region.",
    });
  else if (!profile.enabled)
    add({
      id: "profile",
      ok: false,
      message: "the profile is disabled",
      fix: "Enable it (aws rolesanywhere enable-profile).",
    });
  else
    add({ id: "profile", ok: true, message: `profile enabled, sessions up to ${profile.durationSeconds} s` });
  if (profile) {
    if (profile.roleArns.includes(input.roleArn))
      add({ id: "role-in-profile", ok: true, message: "the profile lists the role" });
    else
      add({
        id: "role-in-profile",
        ok: false,
        message: `the profile does not list ${input.roleArn}`,
        fix: `Use one of ${profile.roleArns.join(", ") || "(none)"} or add the role to the profile.`,
      });
  } else skipped("role-in-profile", "no profile");

  let policyError: unknown;
  const policy = await deps.roleTrustPolicy(input.roleArn).catch((e: unknown) => {
    policyError = e;
    return undefined;
  });
  if (policyError !== undefined) readFailure("trust-policy", policyError);
  else if (policy === undefined)
    add({
      id: "trust-policy",
      ok: false,
      message: `role ${input.roleArn} not found (or not readable)`,
      fix: "Check the role ARN and iam:GetRole permission.",
    });
  else if (!material) skipped("trust-policy", "no certificate");
  else {
    const parsed = await parseCertificate(Buffer.from(material.certificate.raw));
    const { tags, invalid } = derivePrincipalTags(parsed!);
    const context = new Map<string, string>([
      ["aws:SourceArn", input.trustAnchorArn],
      ["aws:SourceAccount", parseArn(input.trustAnchorArn)?.accountId ?? ""],
    ]);
    for (const [k, v] of tags) {
      context.set(`aws:PrincipalTag/${k}`, v);
      context.set(`aws:RequestTag/${k}`, v);
    }
    const cn = parsed!.subjectFields.get("CN");
    if (cn) context.set("sts:SourceIdentity", cn);
    const decision = evaluateTrustPolicy(policy, {
      principal: { type: "Service", id: "rolesanywhere.amazonaws.com" },
      actions: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      context,
    });
    if (invalid.length > 0)
      add({
        id: "trust-policy",
        ok: false,
        message: `certificate attributes cannot become session tags: ${invalid.join(", ")}`,
        fix: "Issue a certificate whose subject uses only letters, digits, spaces and _ . : / = + - @.",
      });
    else if (decision.allowed)
      add({ id: "trust-policy", ok: true, message: "the role's trust policy admits this certificate" });
    else
      add({
        id: "trust-policy",
        ok: false,
        message: `the role's trust policy refuses this certificate: ${decision.reason}`,
        fix: `The certificate's tags are ${[...tags].map(([k, v]) => `${k}=${v}`).join(", ")}; issue one for this role (iam-ra host onboard --role …) or use the role it was issued for.`,
      });
  }

  const server = await deps.serverTime().catch(() => undefined);
  if (!server) skipped("clock-skew", "the service's time could not be read");
  else {
    const skew = Math.round((now.getTime() - server.getTime()) / 1000);
    if (Math.abs(skew) > 300)
      add({
        id: "clock-skew",
        ok: false,
        message: `this clock is ${skew} s off the service's`,
        fix: "Sync the clock (e.g. chronyc makestep / timedatectl set-ntp true); AWS refuses over 5 minutes.",
      });
    else add({ id: "clock-skew", ok: true, message: `clock within ${Math.abs(skew)} s of the service's` });
  }

  if (deps.createSession) {
    if (!material) skipped("create-session", "no certificate");
    else {
      try {
        const r = await deps.createSession(material);
        add({
          id: "create-session",
          ok: true,
          message: `CreateSession succeeded: ${r.assumedRoleArn ?? r.roleArn ?? "credentials issued"}`,
        });
      } catch (e) {
        add({
          id: "create-session",
          ok: false,
          message: e instanceof Error ? e.message : String(e),
          fix: e instanceof IamRaError ? e.hint : undefined,
        });
      }
    }
  }
  return { ok: checks.every((c) => c.ok !== false), checks };
}
