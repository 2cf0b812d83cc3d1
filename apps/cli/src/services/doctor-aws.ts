import { ACMPCAClient, GetCertificateAuthorityCertificateCommand } from "@aws-sdk/client-acm-pca";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { type DoctorResult, runDoctor } from "@iam-ra/core/admin";
import { createRolesAnywhereReader } from "@iam-ra/core/admin/aws";
import { type Arn, createSession, resolveEndpoint, type SessionInputs } from "@iam-ra/core/rolesanywhere";
import { isPkcs11Uri, readCredentialMaterial, redactPkcs11Uri } from "@iam-ra/core/x509";

const notFound = (e: unknown) =>
  e instanceof Error && (e.name === "NoSuchEntityException" || e.name === "NoSuchEntity");

/** Runs doctor with IAM and ACM PCA read through the AWS SDK (loaded only here), Roles Anywhere through core's reader. */
export async function runDoctorWithAws(
  session: SessionInputs,
  anchor: Arn,
  flags: { profile?: string | undefined; "no-session"?: boolean | undefined; expiring: number },
): Promise<DoctorResult> {
  const { trustAnchorArn, profileArn, roleArn } = session.params;
  const region = session.options.region ?? anchor.region;
  const aws = { region, ...(flags.profile ? { profile: flags.profile } : {}), maxAttempts: 2 };
  const raEndpoint =
    session.options.endpoint ?? process.env.AWS_ENDPOINT_URL_ROLESANYWHERE ?? process.env.AWS_ENDPOINT_URL;
  const iamEndpoint = process.env.AWS_ENDPOINT_URL_IAM ?? process.env.AWS_ENDPOINT_URL;
  const iam = new IAMClient({ ...aws, ...(iamEndpoint ? { endpoint: iamEndpoint } : {}) });
  // Roles Anywhere's reads with the admin credentials IAM's client resolves, to the endpoint the
  // session uses (any URL set, as the SDK clients beside it).
  const rolesAnywhere = createRolesAnywhereReader({
    region,
    ...(raEndpoint
      ? { endpoint: raEndpoint, allowHttp: true }
      : { useFips: session.options.useFips, useDualStack: session.options.useDualStack }),
    credentials: () => iam.config.credentials(),
    maxAttempts: 2,
  });
  const pcaEndpoint = process.env.AWS_ENDPOINT_URL_ACM_PCA ?? process.env.AWS_ENDPOINT_URL;
  const pca = new ACMPCAClient({ ...aws, ...(pcaEndpoint ? { endpoint: pcaEndpoint } : {}) });
  const result = await runDoctor(
    {
      clock: { now: () => new Date() },
      loadMaterial: () => readCredentialMaterial(session.material),
      rolesAnywhere,
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
    {
      trustAnchorArn,
      profileArn,
      roleArn,
      expiryWarningDays: flags.expiring,
      hardwareKey: hardwareKeyOf(session),
    },
  );
  return result;
}

/** The token URI (PIN-free) of the key, else of the certificate, when either lives on a token. */
function hardwareKeyOf(session: SessionInputs): string | undefined {
  const source = [session.material.privateKey, session.material.certificate].find(
    (s): s is string => typeof s === "string" && isPkcs11Uri(s),
  );
  return source === undefined ? undefined : redactPkcs11Uri(source);
}
