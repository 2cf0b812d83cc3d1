import {
  createSignedCreateSessionRequest,
  resolveEndpoint,
  type SignedCreateSessionRequest,
} from "@iam-ra/core/rolesanywhere";
import { parseCredentialMaterial } from "@iam-ra/core/x509";
import { describe, expect, it } from "vitest";
import { createWorld, type World } from "./harness.ts";
import { sendRaw } from "./raw.ts";

async function signedRequest(
  w: World,
  leafPem: { certificatePem: string; privateKeyPem: string },
  at = w.clock.now(),
) {
  const material = await parseCredentialMaterial({
    certificate: leafPem.certificatePem,
    privateKey: leafPem.privateKeyPem,
    intermediates: w.pki.intermediate.certificatePem,
  });
  return createSignedCreateSessionRequest({
    endpoint: resolveEndpoint({ region: "us-east-1", endpoint: w.emu.url }),
    params: w.params,
    identity: {
      certificateDer: material.certificate.raw,
      chainDer: material.chain.map((c) => c.raw),
      serialNumber: material.serialNumber,
      algorithm: material.algorithm,
      privateKey: material.privateKey,
    },
    date: at,
  });
}

const send = (
  req: SignedCreateSessionRequest,
  over: Partial<{ url: string; headers: Record<string, string>; body: string }> = {},
) => sendRaw(over.url ?? req.url.href, "POST", over.headers ?? req.headers, over.body ?? req.body);

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flipChar(value: string, index: number): string {
  const c = value[index]!;
  const replacement =
    c === "A"
      ? "B"
      : c === "0"
        ? "1"
        : /[a-z]/.test(c)
          ? c.toUpperCase() === c
            ? "a"
            : c.toUpperCase()
          : "A";
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

describe("every mutation of a valid request is rejected", () => {
  it("named mutations", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf();
    const other = await w.pki.issueLeaf({ subject: "CN=other,OU=readers" });
    const req = await signedRequest(w, leaf);
    const auth = req.headers.authorization!;
    const otherReq = await signedRequest(w, other);

    const mutations: Record<string, Parameters<typeof send>[1]> = {
      "content-type header": { headers: { ...req.headers, "content-type": "application/x-amz-json-1.0" } },
      "host header": { headers: { ...req.headers, host: "rolesanywhere.us-east-1.amazonaws.com" } },
      "x-amz-date +1s": {
        headers: {
          ...req.headers,
          "x-amz-date": req.headers["x-amz-date"]!.replace(/(\d)Z$/, (_m, d) => `${(Number(d) + 1) % 10}Z`),
        },
      },
      "x-amz-x509 swapped for another certificate": {
        headers: { ...req.headers, "x-amz-x509": otherReq.headers["x-amz-x509"]! },
      },
      "x-amz-x509-chain dropped": {
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "x-amz-x509-chain")),
      },
      "x-amz-x509-chain replaced by the leaf": {
        headers: { ...req.headers, "x-amz-x509-chain": req.headers["x-amz-x509"]! },
      },
      "body changed": { body: req.body.replace("3600", "1800") },
      "query ARN changed": { url: req.url.href.replace("role%2Fapp-reader", "role%2Fapp-writer") },
      "serial in Credential +1": {
        headers: {
          ...req.headers,
          authorization: auth.replace(/Credential=(\d+)/, (_m, s) => `Credential=${BigInt(s) + 1n}`),
        },
      },
      "credential region": {
        headers: { ...req.headers, authorization: auth.replace("/us-east-1/", "/us-west-2/") },
      },
      "credential service": {
        headers: { ...req.headers, authorization: auth.replace("/rolesanywhere/", "/sts/") },
      },
      "credential date": {
        headers: {
          ...req.headers,
          authorization: auth.replace(/Credential=(\d+)\/(\d{8})/, (_m, s) => `Credential=${s}/19990101`),
        },
      },
      "algorithm label": {
        headers: {
          ...req.headers,
          authorization: auth.replace("AWS4-X509-ECDSA-SHA256", "AWS4-X509-RSA-SHA256"),
        },
      },
      "signed headers without host": {
        headers: { ...req.headers, authorization: auth.replace("content-type;host;", "content-type;") },
      },
      "signature bit flipped": {
        headers: {
          ...req.headers,
          authorization: auth.replace(/Signature=(.)/, (_m, c) => `Signature=${c === "0" ? "1" : "0"}`),
        },
      },
      "signature truncated": { headers: { ...req.headers, authorization: auth.slice(0, -2) } },
      "no authorization": {
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "authorization")),
      },
      "signature of another request": {
        headers: { ...req.headers, authorization: otherReq.headers.authorization! },
      },
      "date 6 minutes old (re-signed)": {
        headers: (await signedRequest(w, leaf, new Date(w.clock.now().getTime() - 6 * 60_000))).headers,
      },
    };
    for (const [name, mutation] of Object.entries(mutations)) {
      const res = await send(req, mutation);
      expect([name, res.status]).not.toEqual([name, 201]);
      expect(res.status, name).toBeGreaterThanOrEqual(400);
      expect(JSON.parse(res.body).message, name).toBeTruthy();
      expect(res.headers["x-amzn-errortype"], name).toBeTruthy();
    }
    // The unmutated request is accepted (after all the mutations, so they did not break state).
    const ok = await send(req);
    expect(ok.status).toBe(201);
  });

  it("random single-character mutations of signed parts (seeded)", async () => {
    const w = await createWorld();
    const leaf = await w.pki.issueLeaf({ keyAlgorithm: "RSA_2048" });
    const req = await signedRequest(w, leaf);
    const random = prng(20261122);
    const targets = [
      "content-type",
      "host",
      "x-amz-date",
      "x-amz-x509",
      "x-amz-x509-chain",
      "body",
      "signature",
    ] as const;
    let rejected = 0;
    for (let i = 0; i < 60; i++) {
      const target = targets[i % targets.length]!;
      let headers = { ...req.headers };
      let body = req.body;
      if (target === "body") body = flipChar(body, Math.floor(random() * body.length));
      else if (target === "signature") {
        const at = headers.authorization!.indexOf("Signature=") + 10 + Math.floor(random() * 64);
        headers = { ...headers, authorization: flipChar(headers.authorization!, at) };
      } else
        headers = {
          ...headers,
          [target]: flipChar(headers[target]!, Math.floor(random() * headers[target]!.length)),
        };
      if (JSON.stringify(headers) === JSON.stringify(req.headers) && body === req.body) continue;
      const res = await send(req, { headers, body });
      expect(res.status, `${target} mutation #${i}`).not.toBe(201);
      rejected++;
    }
    expect(rejected).toBeGreaterThan(50);
    expect((await send(req)).status).toBe(201);
  });
});
