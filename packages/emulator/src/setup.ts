import type { Emulator } from "./server.ts";

/**
 * A trust policy that lets Roles Anywhere assume a role only for certificates whose subject
 * attribute (default `OU`) equals `value`: the binding iam-ra puts on every role it creates.
 * @public
 */
export function createBoundTrustPolicy(value: string, attribute = "OU"): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        Condition: { StringEquals: { [`aws:PrincipalTag/x509Subject/${attribute}`]: value } },
      },
    ],
  };
}

/**
 * Options of {@link setUpRolesAnywhere}.
 * @public
 */
export interface SetUpRolesAnywhereOptions {
  /** PEM of the CA the trust anchor trusts. */
  caCertificatePem: string;
  /** Roles to create, each with its trust policy; all are listed in the profile. */
  roles: ReadonlyArray<{ roleArn: string; trustPolicy: unknown }>;
  /** Profile session duration. Default 3600. */
  durationSeconds?: number | undefined;
  acceptRoleSessionName?: boolean | undefined;
  name?: string | undefined;
}

/**
 * The ARNs {@link setUpRolesAnywhere} created.
 * @public
 */
export interface RolesAnywhereSetUp {
  trustAnchorArn: string;
  trustAnchorId: string;
  profileArn: string;
  profileId: string;
}

/**
 * Creates, through the emulator's own control-plane API, a trust anchor for a CA, a profile listing
 * the roles, and the roles' trust policies: the set-up most tests need, in one call.
 * @public
 */
export async function setUpRolesAnywhere(
  emu: Pick<Emulator, "url" | "putRole">,
  options: SetUpRolesAnywhereOptions,
): Promise<RolesAnywhereSetUp> {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${emu.url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        // The control plane wants a SigV4 header; it does not check IAM permissions.
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIDSETUP/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00",
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const name = options.name ?? "test";
  const { trustAnchor } = await call("/trustanchors", {
    name,
    enabled: true,
    source: {
      sourceType: "CERTIFICATE_BUNDLE",
      sourceData: { x509CertificateData: options.caCertificatePem },
    },
  });
  const { profile } = await call("/profiles", {
    name,
    enabled: true,
    roleArns: options.roles.map((r) => r.roleArn),
    durationSeconds: options.durationSeconds ?? 3600,
    acceptRoleSessionName: options.acceptRoleSessionName ?? false,
  });
  for (const role of options.roles) emu.putRole(role.roleArn, role.trustPolicy);
  return {
    trustAnchorArn: trustAnchor.trustAnchorArn,
    trustAnchorId: trustAnchor.trustAnchorId,
    profileArn: profile.profileArn,
    profileId: profile.profileId,
  };
}
