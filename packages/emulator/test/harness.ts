import { request as httpsRequest } from "node:https";
import type { CreateSessionParams } from "@iam-ra/core/rolesanywhere";
import {
  type CreateSessionOptions,
  type CreateSessionResult,
  createSession,
} from "@iam-ra/core/rolesanywhere";
import { createTestPki, FixedClock, type TestPki } from "@iam-ra/core/testing";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { onTestFinished } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../src/index.ts";

export const ROLE_ARN = "arn:aws:iam::123456789012:role/app-reader";
export const OTHER_ROLE_ARN = "arn:aws:iam::123456789012:role/app-writer";

/** A trust policy that binds a role to certificates whose subject OU matches. */
export function boundTrustPolicy(ou: string, extra: Record<string, unknown> = {}) {
  return trustPolicyWhere({ StringEquals: { "aws:PrincipalTag/x509Subject/OU": ou }, ...extra });
}

/** A role trust policy that lets Roles Anywhere in (all three actions) under `condition`. */
export function trustPolicyWhere(condition: Record<string, unknown>) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "rolesanywhere.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        Condition: condition,
      },
    ],
  };
}

/** Calls the emulator's control plane over HTTP with a (fake) SigV4 header, as any SDK would. */
export async function controlPlane(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes, read field by field in tests
): Promise<any> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00",
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/**
 * A control-plane POST to an emulator serving https, trusting only `ca` (PEM): what {@link
 * controlPlane} does over http (fetch takes no per-request CA).
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes, read field by field in tests
export function controlPlaneOverTls(url: string, ca: string, path: string, body: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${url}${path}`,
      {
        method: "POST",
        ca,
        headers: {
          "content-type": "application/json",
          authorization:
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00",
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve(JSON.parse(text)));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

export interface World {
  emu: Emulator;
  clock: FixedClock;
  pki: TestPki;
  trustAnchorArn: string;
  trustAnchorId: string;
  profileArn: string;
  profileId: string;
  params: CreateSessionParams;
  /** Runs CreateSession with core's client for a leaf certificate, with the chain by default. */
  call(
    leaf: { certificatePem: string; privateKeyPem: string },
    overrides?: Partial<CreateSessionParams>,
    options?: CreateSessionOptions & { chain?: boolean },
  ): Promise<CreateSessionResult>;
}

/** Starts an emulator with a trust anchor (the test root), a profile with two roles, and role trust policies. */
export async function createWorld(
  options: EmulatorOptions & { acceptRoleSessionName?: boolean } = {},
): Promise<World> {
  const clock = new FixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const emu = await startEmulator({ clock, ...options });
  onTestFinished(() => emu.close());
  const pki = await createTestPki({ at: clock.now() });
  const { trustAnchor } = await controlPlane(emu, "POST", "/trustanchors", {
    name: "test-anchor",
    enabled: true,
    source: {
      sourceType: "CERTIFICATE_BUNDLE",
      sourceData: { x509CertificateData: pki.root.certificatePem },
    },
  });
  const { profile } = await controlPlane(emu, "POST", "/profiles", {
    name: "test-profile",
    enabled: true,
    roleArns: [ROLE_ARN, OTHER_ROLE_ARN],
    durationSeconds: 3600,
    acceptRoleSessionName: options.acceptRoleSessionName ?? false,
  });
  emu.putRole(ROLE_ARN, boundTrustPolicy("readers"));
  emu.putRole(OTHER_ROLE_ARN, boundTrustPolicy("writers"));
  const params = {
    trustAnchorArn: trustAnchor.trustAnchorArn,
    profileArn: profile.profileArn,
    roleArn: ROLE_ARN,
  };
  return {
    emu,
    clock,
    pki,
    trustAnchorArn: trustAnchor.trustAnchorArn,
    trustAnchorId: trustAnchor.trustAnchorId,
    profileArn: profile.profileArn,
    profileId: profile.profileId,
    params,
    call: async (leaf, overrides = {}, callOptions = {}) => {
      const material = await parseCredentialMaterial({
        certificate: leaf.certificatePem,
        privateKey: leaf.privateKeyPem,
        intermediates: callOptions.chain === false ? undefined : pki.intermediate.certificatePem,
      });
      return await createSession(
        material,
        { ...params, ...overrides },
        { endpoint: emu.url, clock, maxAttempts: 1, ...callOptions },
      );
    },
  };
}
