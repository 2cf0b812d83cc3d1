/**
 * The standard SigV4 signature of core's own AWS calls (STS, Roles Anywhere's reads), checked against
 * two independent signers: the AWS SDK's `@smithy/signature-v4` and botocore's `SigV4Auth`.
 */
import { execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { type HmacCredentials, signHmacRequest } from "../src/sigv4/hmac.ts";

const DATE = new Date("2026-12-04T05:06:07Z");

interface Case {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  credentials: HmacCredentials;
  region: string;
  service: string;
}

const CASES: Case[] = [
  {
    name: "an STS POST with a session token",
    method: "POST",
    url: "https://sts.us-east-1.amazonaws.com/",
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: "Action=GetCallerIdentity&Version=2011-06-15",
    credentials: {
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      sessionToken: "FwoGZX//token+/=",
    },
    region: "us-east-1",
    service: "sts",
  },
  {
    name: "a Roles Anywhere GET with a long-term key",
    method: "GET",
    url: "https://rolesanywhere.eu-west-2.amazonaws.com/trustanchor/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
    headers: {},
    body: "",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    region: "eu-west-2",
    service: "rolesanywhere",
  },
  {
    name: "a base path, a port and an encoded query",
    method: "GET",
    url: "http://127.0.0.1:4566/base%20path/profile/x?b=2&a=%2F%20c&a=1",
    headers: { "X-Extra": "  two  spaces  " },
    body: "",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "tok" },
    region: "us-gov-west-1",
    service: "rolesanywhere",
  },
];

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) =>
  typeof d === "string"
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** node:crypto in the shape the SDK signer takes (a hash, or an HMAC when given a secret). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

async function smithyAuthorization(c: Case): Promise<string> {
  const url = new URL(c.url);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prior = query[k];
    query[k] = prior === undefined ? v : [...(Array.isArray(prior) ? prior : [prior]), v];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: c.credentials.accessKeyId,
      secretAccessKey: c.credentials.secretAccessKey,
      ...(c.credentials.sessionToken ? { sessionToken: c.credentials.sessionToken } : {}),
    },
    region: c.region,
    service: c.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: c.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      // The path as sent (already encoded, as the SDK's serializers leave it): the signer encodes it again.
      path: url.pathname,
      query,
      headers: { ...c.headers, host: url.host },
      body: c.body,
    },
    { signingDate: DATE },
  );
  return signed.headers.authorization as string;
}

function botocoreAuthorizations(cases: Case[]): string[] {
  const script = `
import json, sys, datetime
import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
auth.get_current_datetime = lambda: datetime.datetime(2026, 12, 4, 5, 6, 7)
out = []
for c in json.load(sys.stdin):
    cr = c["credentials"]
    req = AWSRequest(method=c["method"], url=c["url"], data=c["body"].encode(), headers=c["headers"])
    auth.SigV4Auth(Credentials(cr["accessKeyId"], cr["secretAccessKey"], cr.get("sessionToken")), c["service"], c["region"]).add_auth(req)
    out.append(req.headers["Authorization"])
print(json.dumps(out))
`;
  return JSON.parse(
    execFileSync("python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" }),
  ) as string[];
}

describe("signHmacRequest", () => {
  const ours = CASES.map((c) =>
    signHmacRequest(
      { method: c.method, url: new URL(c.url), headers: c.headers, body: c.body },
      c.credentials,
      { region: c.region, service: c.service },
      DATE,
    ),
  );

  it("signs as the AWS SDK's signer does", async () => {
    for (const [i, c] of CASES.entries()) {
      expect(ours[i]!.authorization, c.name).toBe(await smithyAuthorization(c));
    }
  });

  it("signs as botocore does", () => {
    const boto = botocoreAuthorizations(CASES);
    for (const [i, c] of CASES.entries()) expect(ours[i]!.authorization, c.name).toBe(boto[i]);
  });

  it("adds host, the date and the session token, and keeps the request's headers lower-cased", () => {
    expect(ours[0]).toMatchObject({
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      host: "sts.us-east-1.amazonaws.com",
      "x-amz-date": "20261204T050607Z",
      "x-amz-security-token": "FwoGZX//token+/=",
    });
    expect(ours[1]).not.toHaveProperty("x-amz-security-token");
    expect(ours[2]!.host).toBe("127.0.0.1:4566");
  });

  it("a different secret gives a different signature (the oracles compare something)", () => {
    const c = CASES[1]!;
    const other = signHmacRequest(
      { method: c.method, url: new URL(c.url), body: c.body },
      { ...c.credentials, secretAccessKey: "other" },
      { region: c.region, service: c.service },
      DATE,
    );
    expect(other.authorization).not.toBe(ours[1]!.authorization);
  });
});
