import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CredentialMaterialError } from "../src/errors.ts";
import { certificateSignatureOid } from "../src/x509/der.ts";
import { parseCredentialMaterial } from "../src/x509/material.ts";
import { makeTempDir, openssl, read, write } from "./helpers/openssl.ts";

// Material made by openssl (an implementation we did not write), so each message is checked
// against the real thing a user would hold.
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("iam-ra-messages-"));
  write(dir, "ca.cnf", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
  write(dir, "leaf.cnf", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n");
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"]);
  openssl(dir, [
    "req",
    "-x509",
    "-key",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "30",
    "-subj",
    "/CN=Message CA",
  ]);
  openssl(dir, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaf.key"]);
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key"]);
  openssl(dir, ["req", "-new", "-key", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf"]);
  for (const digest of ["sha1", "sha256"]) {
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      `-${digest}`,
      "-days",
      "10",
      "-extfile",
      "leaf.cnf",
      "-out",
      `leaf-${digest}.pem`,
    ]);
  }
  // The CA's own certificate and key, offered as if they were a host's.
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-sha256",
    "-days",
    "10",
    "-extfile",
    "ca.cnf",
    "-out",
    "leaf-ca.pem",
  ]);
});
afterAll(() => cleanup());

const refusal = async (input: Parameters<typeof parseCredentialMaterial>[0]) => {
  const error = await parseCredentialMaterial(input).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CredentialMaterialError);
  return error as CredentialMaterialError;
};

describe("material errors name the real cause", () => {
  test("random bytes as the key are not called an encrypted key", async () => {
    const error = await refusal({ certificate: read(dir, "leaf-sha256.pem"), privateKey: randomBytes(600) });
    expect(error.code).toBe("private-key-invalid");
    expect(error.message).toMatch(/neither PEM nor a DER key/);
    expect(error.message).not.toMatch(/is encrypted|passphrase/i);
  });

  test("an encrypted DER key without a passphrase still asks for one", async () => {
    openssl(dir, [
      "pkcs8",
      "-topk8",
      "-in",
      "leaf.key",
      "-outform",
      "DER",
      "-out",
      "enc.der",
      "-passout",
      "pass:pw",
    ]);
    const error = await refusal({
      certificate: read(dir, "leaf-sha256.pem"),
      privateKey: read(dir, "enc.der"),
    });
    expect(error.code).toBe("private-key-password");
    const material = await parseCredentialMaterial({
      certificate: read(dir, "leaf-sha256.pem"),
      privateKey: read(dir, "enc.der"),
      passphrase: "pw",
    });
    expect(material.keyType).toBe("RSA");
  });

  test("a key file holding two keys is refused, whichever comes first", async () => {
    for (const order of [
      ["leaf.key", "other.key"],
      ["other.key", "leaf.key"],
    ] as const) {
      const two = Buffer.concat(order.map((name) => read(dir, name)));
      const error = await refusal({ certificate: read(dir, "leaf-sha256.pem"), privateKey: two });
      expect(error.message).toBe("The key input holds 2 private keys; iam-ra needs exactly one.");
    }
  });

  test("a CA certificate in the end-entity place says so, not 'pass --intermediates'", async () => {
    const error = await refusal({ certificate: read(dir, "leaf-ca.pem"), privateKey: read(dir, "leaf.key") });
    expect(error.message).toMatch(/is a CA certificate; Roles Anywhere signs with an end-entity certificate/);
    expect(error.hint).not.toMatch(/intermediates/);
  });

  test("a SHA-1 signed leaf is refused naming the algorithm; SHA-256 passes", async () => {
    expect(certificateSignatureOid(new Uint8Array(Buffer.from("not der")))).toBeUndefined();
    const error = await refusal({
      certificate: read(dir, "leaf-sha1.pem"),
      privateKey: read(dir, "leaf.key"),
    });
    expect(error.message).toBe(
      "The certificate is signed with ecdsa-with-SHA1; Roles Anywhere accepts only SHA-256 or stronger signatures.",
    );
    const ok = await parseCredentialMaterial({
      certificate: read(dir, "leaf-sha256.pem"),
      privateKey: read(dir, "leaf.key"),
    });
    expect(ok.algorithm).toBe("AWS4-X509-RSA-SHA256");
  });
});
