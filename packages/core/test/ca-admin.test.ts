import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createTestPki } from "../src/testing/index.ts";
import {
  issueCertificateForKey,
  type KmsPort,
  openKeyEnvelope,
  parseCsr,
  sealKeyEnvelope,
} from "../src/x509/index.ts";
import { makeTempDir, openssl, read, write } from "./helpers/openssl.ts";

const { dir, cleanup } = makeTempDir();
afterAll(cleanup);

/** A stand-in KMS: data keys wrapped under a local master key, bound to the encryption context. */
function localKms(): KmsPort & { calls: number } {
  const master = randomBytes(32);
  const wrap = (data: Buffer, ctx: Record<string, string>) => {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", master, iv);
    c.setAAD(Buffer.from(JSON.stringify(ctx)));
    return Buffer.concat([iv, c.update(data), c.final(), c.getAuthTag()]);
  };
  return {
    calls: 0,
    async generateDataKey(_arn, ctx) {
      this.calls++;
      const plaintext = randomBytes(32);
      return { plaintext, ciphertext: wrap(plaintext, ctx) };
    },
    async decrypt(blob, ctx) {
      this.calls++;
      const b = Buffer.from(blob);
      const d = createDecipheriv("aes-256-gcm", master, b.subarray(0, 12));
      d.setAAD(Buffer.from(JSON.stringify(ctx)));
      d.setAuthTag(b.subarray(b.length - 16));
      return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
    },
  };
}

describe("signing a host's CSR (the key never leaves the host)", () => {
  it("issues a clientAuth certificate for the CSR's key, with the subject iam-ra decides; openssl agrees", async () => {
    const pki = await createTestPki();
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "host.key"]);
    openssl(dir, ["req", "-new", "-key", "host.key", "-subj", "/CN=asked-for-anything", "-out", "host.csr"]);
    const csr = await parseCsr(read(dir, "host.csr").toString());
    expect(csr.requestedSubject).toBe("CN=asked-for-anything");
    const now = new Date();
    const issued = await issueCertificateForKey(
      {
        issuer: pki.root,
        subject: "CN=web-1,OU=web",
        notBefore: now,
        notAfter: new Date(now.getTime() + 86_400_000),
        san: { dns: ["web-1.example.com"] },
      },
      csr.publicKey,
    );
    write(dir, "host.crt", issued.certificatePem);
    write(dir, "ca.crt", pki.root.certificatePem);
    expect(
      openssl(dir, ["verify", "-CAfile", "ca.crt", "-purpose", "sslclient", "host.crt"]).toString(),
    ).toMatch(/OK/);
    // The certificate carries the host's own public key.
    const fromCert = openssl(dir, ["x509", "-in", "host.crt", "-noout", "-pubkey"]).toString();
    const fromKey = openssl(dir, ["ec", "-in", "host.key", "-pubout"]).toString();
    expect(fromCert).toBe(fromKey);
    expect(issued.certificate.subject).toBe("CN=web-1\nOU=web");
  });

  it("refuses a CSR whose signature does not verify, and garbage", async () => {
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k2.key"]);
    openssl(dir, ["req", "-new", "-key", "k2.key", "-subj", "/CN=x", "-outform", "DER", "-out", "x.csr.der"]);
    const der = Buffer.from(read(dir, "x.csr.der"));
    der[der.length - 5]! ^= 0xff; // inside the signature
    await expect(parseCsr(der)).rejects.toMatchObject({
      code: "invalid-input",
      message: expect.stringMatching(/signature/),
    });
    await expect(parseCsr("not a csr")).rejects.toMatchObject({
      code: "invalid-input",
      hint: expect.stringMatching(/openssl req/),
    });
  });
});

describe("CA key envelope encryption", () => {
  it("round-trips; the envelope holds no plaintext; a wrong context or a flipped byte fails", async () => {
    const kms = localKms();
    const pki = await createTestPki();
    const context = { "iam-ra:namespace": "prod", "iam-ra:scope": "default" };
    const env = await sealKeyEnvelope(
      kms,
      "arn:aws:kms:eu-west-1:111122223333:key/k",
      context,
      pki.root.privateKeyPem,
    );
    expect(JSON.stringify(env)).not.toContain("PRIVATE KEY");
    expect(await openKeyEnvelope(kms, env)).toBe(pki.root.privateKeyPem);
    await expect(
      openKeyEnvelope(kms, { ...env, context: { ...context, "iam-ra:scope": "other" } }),
    ).rejects.toThrow();
    // Pinned to the namespace's key and context: an envelope from elsewhere is refused before KMS is asked.
    const calls = kms.calls;
    await expect(
      openKeyEnvelope(kms, env, { kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/other", context }),
    ).rejects.toMatchObject({ code: "invalid-input", message: expect.stringMatching(/another key/) });
    await expect(
      openKeyEnvelope(kms, env, { kmsKeyArn: env.kmsKeyArn, context: { "iam-ra:namespace": "staging" } }),
    ).rejects.toMatchObject({ code: "invalid-input" });
    expect(kms.calls).toBe(calls);
    expect(
      await openKeyEnvelope(kms, env, { kmsKeyArn: env.kmsKeyArn, context: { "iam-ra:namespace": "prod" } }),
    ).toBe(pki.root.privateKeyPem);
    const ct = Buffer.from(env.ciphertext, "base64");
    ct[0]! ^= 1;
    await expect(openKeyEnvelope(kms, { ...env, ciphertext: ct.toString("base64") })).rejects.toMatchObject({
      code: "invalid-input",
      message: expect.stringMatching(/altered/),
    });
  });
});
