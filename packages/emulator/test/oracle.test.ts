import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { formatAmzDate } from "@iam-ra/core/sigv4";
import { describe, expect, it } from "vitest";
import { createWorld, type World } from "./harness.ts";
import { sendRaw } from "./raw.ts";

// The botocore + cryptography signer lives with core's tests; it is an implementation we did not write.
const ORACLE = fileURLToPath(new URL("../../core/test/oracle/sigv4_x509.py", import.meta.url));

function pythonSign(
  w: World,
  leaf: { certificatePem: string; privateKeyPem: string },
  layout: "query" | "body",
  extra: Record<string, unknown> = {},
) {
  const q = new URLSearchParams({
    profileArn: w.params.profileArn,
    roleArn: w.params.roleArn,
    trustAnchorArn: w.params.trustAnchorArn,
  });
  const url = layout === "query" ? `${w.emu.url}/sessions?${q.toString()}` : `${w.emu.url}/sessions`;
  const body = JSON.stringify(
    layout === "query" ? { durationSeconds: 900 } : { ...w.params, durationSeconds: 900 },
  );
  const out = execFileSync("python3", [ORACLE], {
    input: JSON.stringify({
      mode: "sign",
      url,
      region: "us-east-1",
      amzDate: formatAmzDate(w.clock.now()),
      body,
      certPem: leaf.certificatePem,
      keyPem: leaf.privateKeyPem,
      chainPems: [w.pki.intermediate.certificatePem],
      contentType: "application/x-amz-json-1.0",
      ...extra,
    }),
  });
  const { headers } = JSON.parse(out.toString()) as { headers: Record<string, string> };
  return { url, body, headers };
}

describe("requests signed by botocore (not our signer) are accepted", () => {
  it.each([
    ["query", "EC_P256"],
    ["body", "EC_P384"],
    ["body", "RSA_2048"],
    ["query", "RSA_2048"],
  ] as const)("ARNs in the %s, %s key", async (layout, keyAlgorithm) => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf({ keyAlgorithm });
    const r = pythonSign(w, leaf, layout);
    const res = await sendRaw(r.url, "POST", r.headers, r.body);
    expect(res.body).toContain("credentialSet");
    expect(res.status).toBe(201);
    const set = JSON.parse(res.body).credentialSet[0];
    expect(set.credentials.expiration).toBe(
      new Date(w.clock.now().getTime() + 900_000).toISOString().replace(".000Z", "Z"),
    );
  });

  it("and rejected when the body is changed after signing", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const r = pythonSign(w, leaf, "body");
    const res = await sendRaw(r.url, "POST", r.headers, r.body.replace("900", "901"));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).message).toBe("Invalid signature");
  });
});
