import { ACMPCAClient, GetCertificateAuthorityCertificateCommand } from "@aws-sdk/client-acm-pca";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetProfileCommand, GetTrustAnchorCommand, RolesAnywhereClient } from "@aws-sdk/client-rolesanywhere";
import { IamRaError } from "@iam-ra/core";
import { type DoctorResult, runDoctor } from "@iam-ra/core/admin";
import { createSession, parseArn, resolveEndpoint, resolveSessionInputs } from "@iam-ra/core/rolesanywhere";
import { readCredentialMaterial } from "@iam-ra/core/x509";
import { Flags } from "@oclif/core";
import { BaseCommand, flagsFromSpecs } from "../base-command.ts";
import { CREDENTIAL_FLAGS, type CredentialFlagValues } from "../services/credential-options.ts";

const notFound = (e: unknown) =>
  e instanceof Error &&
  (e.name === "ResourceNotFoundException" || e.name === "NoSuchEntityException" || e.name === "NoSuchEntity");

export class Doctor extends BaseCommand {
  static override summary =
    "Diagnose a certificate, key and ARNs: everything that decides whether CreateSession succeeds.";
  static override description =
    `Checks, each with its fix: the key matches the certificate; the certificate is valid
(and not about to expire); the trust anchor exists and is enabled; the chain reaches it; the profile exists,
is enabled and lists the role; the role's trust policy admits this certificate's principal tags; this
machine's clock is within 5 minutes of AWS's; and finally a real CreateSession (--no-session skips it).
Reading the trust anchor, profile and role needs AWS credentials (--profile); without them those checks
are reported as not run. Exit 1 when any check fails.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate cert.pem --private-key key.pem --trust-anchor-arn … --profile-arn … --role-arn …",
    "<%= config.bin %> <%= command.id %> … --profile admin --json",
  ];
  static override flags = {
    ...flagsFromSpecs(CREDENTIAL_FLAGS),
    profile: Flags.string({
      char: "p",
      description: "AWS profile to read Roles Anywhere and IAM with. [env: AWS_PROFILE]",
      env: "AWS_PROFILE",
    }),
    "no-session": Flags.boolean({ description: "Do not try a real CreateSession." }),
    expiring: Flags.integer({ description: "Warn when the certificate expires within N days.", default: 30 }),
  };

  async run(): Promise<DoctorResult> {
    const { flags } = await this.parse(Doctor);
    const values = flags as CredentialFlagValues;
    const session = await resolveSessionInputs(values, process.env);
    const { trustAnchorArn, profileArn, roleArn } = session.params;
    const anchor = parseArn(trustAnchorArn);
    if (!anchor || !parseArn(profileArn) || !parseArn(roleArn)) {
      throw new IamRaError("arn-invalid", "doctor needs --trust-anchor-arn, --profile-arn and --role-arn.", {
        hint: "Pass the three ARNs (they are in the host's config or `iam-ra host onboard` output).",
      });
    }
    const region = session.options.region ?? anchor.region;
    const aws = { region, ...(flags.profile ? { profile: flags.profile } : {}), maxAttempts: 2 };
    const raEndpoint =
      session.options.endpoint ?? process.env.AWS_ENDPOINT_URL_ROLESANYWHERE ?? process.env.AWS_ENDPOINT_URL;
    const ra = new RolesAnywhereClient({ ...aws, ...(raEndpoint ? { endpoint: raEndpoint } : {}) });
    const iamEndpoint = process.env.AWS_ENDPOINT_URL_IAM ?? process.env.AWS_ENDPOINT_URL;
    const iam = new IAMClient({ ...aws, ...(iamEndpoint ? { endpoint: iamEndpoint } : {}) });
    const pcaEndpoint = process.env.AWS_ENDPOINT_URL_ACM_PCA ?? process.env.AWS_ENDPOINT_URL;
    const pca = new ACMPCAClient({ ...aws, ...(pcaEndpoint ? { endpoint: pcaEndpoint } : {}) });
    const id = (arn: string) => arn.split("/").at(-1)!;
    const result = await runDoctor(
      {
        clock: { now: () => new Date() },
        loadMaterial: () => readCredentialMaterial(session.material),
        rolesAnywhere: {
          async trustAnchor(arn) {
            try {
              const { trustAnchor: t } = await ra.send(new GetTrustAnchorCommand({ trustAnchorId: id(arn) }));
              const data = t?.source?.sourceData as
                | { x509CertificateData?: string; acmPcaArn?: string }
                | undefined;
              return t
                ? {
                    enabled: t.enabled ?? false,
                    sourceType: t.source?.sourceType ?? "",
                    certificatePem: data?.x509CertificateData,
                    pcaArn: data?.acmPcaArn,
                  }
                : undefined;
            } catch (e) {
              if (notFound(e)) return undefined;
              throw e;
            }
          },
          async profile(arn) {
            try {
              const { profile: p } = await ra.send(new GetProfileCommand({ profileId: id(arn) }));
              return p
                ? {
                    enabled: p.enabled ?? false,
                    roleArns: p.roleArns ?? [],
                    durationSeconds: p.durationSeconds ?? 3600,
                  }
                : undefined;
            } catch (e) {
              if (notFound(e)) return undefined;
              throw e;
            }
          },
        },
        pca: {
          async caCertificate(arn) {
            const out = await pca.send(
              new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: arn }),
            );
            return [out.Certificate, out.CertificateChain].filter(Boolean).join("\n");
          },
        },
        async roleTrustPolicy(arn) {
          try {
            const { Role } = await iam.send(new GetRoleCommand({ RoleName: arn.split("/").at(-1)! }));
            return Role?.AssumeRolePolicyDocument
              ? JSON.parse(decodeURIComponent(Role.AssumeRolePolicyDocument))
              : undefined;
          } catch (e) {
            if (notFound(e)) return undefined;
            throw e;
          }
        },
        async serverTime() {
          const url = resolveEndpoint({ region, endpoint: session.options.endpoint }).url;
          const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(5000) });
          const date = res.headers.get("date");
          return date ? new Date(date) : undefined;
        },
        ...(flags["no-session"]
          ? {}
          : { createSession: (m) => createSession(m, session.params, session.options) }),
      },
      { trustAnchorArn, profileArn, roleArn, expiryWarningDays: flags.expiring },
    );
    if (!this.jsonEnabled()) {
      for (const c of result.checks) {
        const mark = c.ok === true ? "ok  " : c.ok === false ? "FAIL" : "--  ";
        this.log(`${mark} ${c.id.padEnd(24)} ${c.message}`);
        if (c.ok === false && c.fix) this.log(`     ${"".padEnd(24)} fix: ${c.fix}`);
      }
      this.log(result.ok ? "\nAll checks passed." : "\nSome checks failed.");
    }
    if (!result.ok) process.exitCode = 1;
    return result;
  }
}
