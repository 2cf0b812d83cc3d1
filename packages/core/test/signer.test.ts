import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveEndpoint } from "../src/rolesanywhere/endpoint.ts";
import {
  buildCreateSessionRequest,
  createSignedCreateSessionRequest,
  signRequestX509,
} from "../src/rolesanywhere/signer.ts";
import { readCredentialMaterial } from "../src/x509/read.ts";
import { buildOpensslPki, makeTempDir, openssl, write } from "./helpers/openssl.ts";
import { runOracle } from "./helpers/oracle.ts";
import {
  GOLDEN_CERT_PEM,
  GOLDEN_DATE,
  GOLDEN_KEY_PEM,
  GOLDEN_PARAMS,
  GOLDEN_SERIAL_DECIMAL,
} from "./signer.fixture.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const cert = new X509Certificate(GOLDEN_CERT_PEM);
const goldenIdentity = {
  certificateDer: cert.raw,
  serialNumber: GOLDEN_SERIAL_DECIMAL,
  algorithm: "AWS4-X509-RSA-SHA256" as const,
  privateKey: createPrivateKey(GOLDEN_KEY_PEM),
};
const endpoint = resolveEndpoint({ region: "us-east-1" });

describe("golden vectors", () => {
  it("payload hashes match the published values", () => {
    // From the research notes (checked there with openssl against a third-party vector).
    const body = (d: number, name?: string) =>
      buildCreateSessionRequest({
        endpoint,
        params: { ...GOLDEN_PARAMS, durationSeconds: d, roleSessionName: name },
        certificateDer: cert.raw,
        date: GOLDEN_DATE,
      }).body;
    expect(sha256(body(3600))).toBe("1a15f67f6619aa540b13e9a4c37d149fb2c9bdea25d82b73a3878826694dfe27");
    expect(sha256(body(900))).toBe("ab3319db4aad2f204e6a2e6b2f27bbb319323c7c6141d0b0ca86ea708cc14bd7");
    expect(sha256(body(3600, "x"))).toBe("e67367bb6f8efac0b14f2531b4aa28711ea7674317b1475bac1d3858dd92475c");
  });

  it("canonical request, string to sign and Authorization, byte for byte", () => {
    const signed = createSignedCreateSessionRequest({
      endpoint,
      params: GOLDEN_PARAMS,
      identity: goldenIdentity,
      date: GOLDEN_DATE,
    });
    const certB64 = cert.raw.toString("base64");
    const expectedCanonical = [
      "POST",
      "/sessions",
      "profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A12345678%3Aprofile%2Fe6a5cf90-8983-4f32-bacf-75614d7e3343&roleArn=arn%3Aaws%3Aiam%3A%3A12345678%3Arole%2Fsomerole&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A12345678%3Atrust-anchor%2Fe6a5cf90-fc93-478a-bacf-75614d7e3343",
      "content-type:application/json",
      "host:rolesanywhere.us-east-1.amazonaws.com",
      "x-amz-date:20231119T150000Z",
      `x-amz-x509:${certB64}`,
      "",
      "content-type;host;x-amz-date;x-amz-x509",
      "1a15f67f6619aa540b13e9a4c37d149fb2c9bdea25d82b73a3878826694dfe27",
    ].join("\n");
    expect(signed.canonicalRequest).toBe(expectedCanonical);
    expect(signed.stringToSign).toBe(
      `AWS4-X509-RSA-SHA256\n20231119T150000Z\n20231119/us-east-1/rolesanywhere/aws4_request\n${sha256(expectedCanonical)}`,
    );
    expect(signed.headers.authorization).toBe(
      `AWS4-X509-RSA-SHA256 Credential=${GOLDEN_SERIAL_DECIMAL}/20231119/us-east-1/rolesanywhere/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=${signed.signature}`,
    );
    expect(signed.url.href).toBe(
      `https://rolesanywhere.us-east-1.amazonaws.com/sessions?${expectedCanonical.split("\n")[2]}`,
    );
  });

  it("the credential id is the serial in decimal (converted by Python when the fixture was made)", () => {
    expect(cert.serialNumber).toBe("4176248E0C5F2B7A9D3E1C08F6A5B4C3D2E17E43");
    expect(GOLDEN_SERIAL_DECIMAL).toBe("373719072415810714757089472268626652618951851587");
  });

  it("a custom endpoint with a base path signs the path it sends", () => {
    const ep = resolveEndpoint({ region: "eu-west-1", endpoint: "http://127.0.0.1:8443/base/ra/" });
    const signed = createSignedCreateSessionRequest({
      endpoint: ep,
      params: GOLDEN_PARAMS,
      identity: goldenIdentity,
      date: GOLDEN_DATE,
    });
    expect(signed.path).toBe("/base/ra/sessions");
    expect(signed.url.pathname).toBe("/base/ra/sessions");
    expect(signed.canonicalRequest.split("\n")[1]).toBe("/base/ra/sessions");
    expect(signed.headers.host).toBe("127.0.0.1:8443");
    expect(signed.stringToSign.split("\n")[2]).toBe("20231119/eu-west-1/rolesanywhere/aws4_request");
  });

  it("is deterministic for RSA given the clock", () => {
    const a = createSignedCreateSessionRequest({
      endpoint,
      params: GOLDEN_PARAMS,
      identity: goldenIdentity,
      date: GOLDEN_DATE,
    });
    const b = createSignedCreateSessionRequest({
      endpoint,
      params: GOLDEN_PARAMS,
      identity: goldenIdentity,
      date: GOLDEN_DATE,
    });
    expect(a.signature).toBe(b.signature);
  });
});

describe("signatures against openssl and botocore", () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = makeTempDir());
    buildOpensslPki(dir);
    write(dir, "golden.key", GOLDEN_KEY_PEM);
  });
  afterAll(() => cleanup());

  it("RSA signature is byte-equal to openssl dgst -sha256 -sign", () => {
    const signed = createSignedCreateSessionRequest({
      endpoint,
      params: GOLDEN_PARAMS,
      identity: goldenIdentity,
      date: GOLDEN_DATE,
    });
    write(dir, "sts.txt", signed.stringToSign);
    const ours = Buffer.from(signed.signature, "hex");
    const theirs = openssl(dir, ["dgst", "-sha256", "-sign", "golden.key", "sts.txt"]);
    expect(ours.equals(theirs)).toBe(true);
  });

  it.each(["rsa2048", "ecp256", "ecp384", "ecp521"])(
    "%s: openssl verifies, and botocore's canonicalisation agrees",
    async (name) => {
      const material = await readCredentialMaterial({
        certificate: `${dir}/${name}.pem`,
        privateKey: `${dir}/${name}.key`,
        intermediates: `${dir}/inter.pem`,
      });
      const ep = resolveEndpoint({ region: "us-east-1", endpoint: "http://127.0.0.1:9/prefix" });
      const params = {
        trustAnchorArn: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta",
        profileArn: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
        roleArn: "arn:aws:iam::123456789012:role/path/with spaces+plus",
        roleSessionName: "s=1,2@x",
        durationSeconds: 900,
      };
      const signed = createSignedCreateSessionRequest({
        endpoint: ep,
        params,
        identity: {
          certificateDer: material.certificate.raw,
          chainDer: material.chain.map((c) => c.raw),
          serialNumber: material.serialNumber,
          algorithm: material.algorithm,
          privateKey: material.privateKey,
        },
        date: new Date(),
      });
      expect(signed.headers.authorization).toMatch(
        new RegExp(`^${material.algorithm} Credential=${material.serialNumber}/`),
      );
      expect(signed.headers.authorization).toContain(
        "SignedHeaders=content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain,",
      );
      // openssl verifies the raw signature over the string to sign with the certificate's key (SHA-256 on every curve).
      write(dir, "sts.txt", signed.stringToSign);
      write(dir, "sig.bin", Buffer.from(signed.signature, "hex"));
      openssl(dir, ["x509", "-in", `${name}.pem`, "-pubkey", "-noout", "-out", "pub.pem"]);
      expect(
        openssl(dir, [
          "dgst",
          "-sha256",
          "-verify",
          "pub.pem",
          "-signature",
          "sig.bin",
          "sts.txt",
        ]).toString(),
      ).toMatch(/Verified OK/);
      if (material.keyType === "EC") {
        // Strict DER: SEQUENCE of two minimal INTEGERs.
        const parsed = openssl(dir, ["asn1parse", "-inform", "DER", "-in", "sig.bin"]).toString();
        expect(parsed.match(/prim: INTEGER/g)).toHaveLength(2);
      }
      // botocore (an implementation we did not write) recomputes the canonical request and verifies.
      const verdict = runOracle<{ ok: boolean; reason: string; canonicalRequest: string }>({
        mode: "verify",
        method: "POST",
        url: signed.url.href,
        headers: signed.headers,
        body: signed.body,
      });
      expect(verdict.reason).toBe("");
      expect(verdict.ok).toBe(true);
      expect(verdict.canonicalRequest).toBe(signed.canonicalRequest);
    },
  );

  it("the oracle rejects a tampered request (it can fail)", async () => {
    const material = await readCredentialMaterial({
      certificate: `${dir}/ecp256.pem`,
      privateKey: `${dir}/ecp256.key`,
    });
    const request = buildCreateSessionRequest({
      endpoint,
      params: GOLDEN_PARAMS,
      certificateDer: material.certificate.raw,
      date: new Date(),
    });
    const signed = signRequestX509(request, material, "us-east-1");
    const verdict = runOracle<{ ok: boolean }>({
      mode: "verify",
      method: "POST",
      url: signed.url.href,
      headers: signed.headers,
      body: signed.body.replace("3600", "3601"),
    });
    expect(verdict.ok).toBe(false);
  });
});
