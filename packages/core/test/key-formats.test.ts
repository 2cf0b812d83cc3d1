import { createPublicKey, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialMaterialError } from "../src/errors.ts";
import { parseCredentialMaterial } from "../src/x509/material.ts";
import { readCredentialMaterial } from "../src/x509/read.ts";
import { buildOpensslPki, makeTempDir, openssl, read, write } from "./helpers/openssl.ts";

let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir());
  buildOpensslPki(dir);
  // Every key encoding openssl can produce, from the same two keys.
  openssl(dir, ["pkey", "-in", "rsa2048.key", "-traditional", "-out", "rsa-pkcs1.pem"]);
  openssl(dir, ["pkey", "-in", "rsa2048.key", "-outform", "DER", "-out", "rsa-pkcs8.der"]);
  openssl(dir, ["rsa", "-in", "rsa2048.key", "-outform", "DER", "-traditional", "-out", "rsa-pkcs1.der"]);
  openssl(dir, [
    "pkcs8",
    "-topk8",
    "-in",
    "rsa2048.key",
    "-v2",
    "aes-256-cbc",
    "-v2prf",
    "hmacWithSHA256",
    "-passout",
    "pass:s3cret",
    "-out",
    "rsa-enc-aes.pem",
  ]);
  openssl(dir, [
    "pkcs8",
    "-topk8",
    "-in",
    "ecp256.key",
    "-v2",
    "aes-128-cbc",
    "-scrypt",
    "-passout",
    "pass:s3cret",
    "-out",
    "ec-enc-scrypt.pem",
  ]);
  openssl(dir, [
    "pkcs8",
    "-topk8",
    "-in",
    "ecp256.key",
    "-v2",
    "aes-256-cbc",
    "-v2prf",
    "hmacWithSHA1",
    "-passout",
    "pass:s3cret",
    "-outform",
    "DER",
    "-out",
    "ec-enc.der",
  ]);
  openssl(dir, [
    "rsa",
    "-in",
    "rsa2048.key",
    "-aes256",
    "-traditional",
    "-passout",
    "pass:s3cret",
    "-out",
    "rsa-legacy-enc.pem",
  ]);
  openssl(dir, ["ec", "-in", "ecp256.key", "-out", "ec-sec1.pem"]);
  openssl(dir, ["ec", "-in", "ecp256.key", "-outform", "DER", "-out", "ec-sec1.der"]);
  openssl(dir, ["x509", "-in", "ecp256.pem", "-outform", "DER", "-out", "ecp256.der"]);
  write(
    dir,
    "ecp256-combo.pem",
    Buffer.concat([read(dir, "ecp256.pem"), read(dir, "inter.pem"), read(dir, "ecp256.key")]),
  );
  write(dir, "ecp256-fullchain.pem", Buffer.concat([read(dir, "ecp256.pem"), read(dir, "inter.pem")]));
  openssl(dir, [
    "pkcs12",
    "-export",
    "-inkey",
    "ecp256.key",
    "-in",
    "ecp256.pem",
    "-certfile",
    "inter.pem",
    "-passout",
    "pass:p12pass",
    "-out",
    "ec-modern.p12",
  ]);
  openssl(dir, [
    "pkcs12",
    "-export",
    "-inkey",
    "rsa2048.key",
    "-in",
    "rsa2048.pem",
    "-certfile",
    "inter.pem",
    "-passout",
    "pass:p12pass",
    "-out",
    "rsa-modern.p12",
  ]);
  openssl(dir, [
    "pkcs12",
    "-export",
    "-inkey",
    "rsa2048.key",
    "-in",
    "rsa2048.pem",
    "-keypbe",
    "PBE-SHA1-3DES",
    "-certpbe",
    "PBE-SHA1-3DES",
    "-macalg",
    "sha1",
    "-passout",
    "pass:",
    "-out",
    "rsa-legacy-empty.p12",
  ]);
  openssl(dir, ["genpkey", "-algorithm", "ED25519", "-out", "ed25519.key"]);
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-out", "k1.key"]);
});
afterAll(() => cleanup());

const f = (name: string) => `${dir}/${name}`;

async function expectFailure(promise: Promise<unknown>, code: string): Promise<CredentialMaterialError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialMaterialError);
  expect((error as CredentialMaterialError).code).toBe(code);
  expect((error as CredentialMaterialError).hint).toBeTruthy();
  return error as CredentialMaterialError;
}

describe("key and certificate formats", () => {
  const cases: Array<
    [
      string,
      { certificate: string; privateKey?: string; intermediates?: string; passphrase?: string },
      string,
      number,
    ]
  > = [
    ["PKCS#8 PEM (RSA)", { certificate: "rsa2048.pem", privateKey: "rsa2048.key" }, "RSA", 0],
    ["PKCS#1 PEM", { certificate: "rsa2048.pem", privateKey: "rsa-pkcs1.pem" }, "RSA", 0],
    ["PKCS#1 DER", { certificate: "rsa2048.pem", privateKey: "rsa-pkcs1.der" }, "RSA", 0],
    ["PKCS#8 DER", { certificate: "rsa2048.pem", privateKey: "rsa-pkcs8.der" }, "RSA", 0],
    [
      "encrypted PKCS#8 AES/PBKDF2-SHA256",
      { certificate: "rsa2048.pem", privateKey: "rsa-enc-aes.pem", passphrase: "s3cret" },
      "RSA",
      0,
    ],
    [
      "encrypted PKCS#8 scrypt",
      { certificate: "ecp256.pem", privateKey: "ec-enc-scrypt.pem", passphrase: "s3cret" },
      "EC",
      0,
    ],
    [
      "encrypted PKCS#8 DER (HMAC-SHA1, as ACM exports)",
      { certificate: "ecp256.pem", privateKey: "ec-enc.der", passphrase: "s3cret" },
      "EC",
      0,
    ],
    [
      "legacy encrypted PEM",
      { certificate: "rsa2048.pem", privateKey: "rsa-legacy-enc.pem", passphrase: "s3cret" },
      "RSA",
      0,
    ],
    ["SEC1 EC PEM", { certificate: "ecp256.pem", privateKey: "ec-sec1.pem" }, "EC", 0],
    ["SEC1 EC DER", { certificate: "ecp256.pem", privateKey: "ec-sec1.der" }, "EC", 0],
    ["DER certificate", { certificate: "ecp256.der", privateKey: "ecp256.key" }, "EC", 0],
    ["P-384", { certificate: "ecp384.pem", privateKey: "ecp384.key" }, "EC", 0],
    ["P-521", { certificate: "ecp521.pem", privateKey: "ecp521.key" }, "EC", 0],
    ["combined cert+chain+key PEM", { certificate: "ecp256-combo.pem" }, "EC", 1],
    ["chain after the leaf", { certificate: "ecp256-fullchain.pem", privateKey: "ecp256.key" }, "EC", 1],
    [
      "separate intermediates bundle",
      { certificate: "ecp256.pem", privateKey: "ecp256.key", intermediates: "inter.pem" },
      "EC",
      1,
    ],
    [
      "PKCS#12 AES/PBKDF2 (OpenSSL 3 default), EC",
      { certificate: "ec-modern.p12", passphrase: "p12pass" },
      "EC",
      1,
    ],
    ["PKCS#12 AES/PBKDF2, RSA", { certificate: "rsa-modern.p12", passphrase: "p12pass" }, "RSA", 1],
    ["PKCS#12 legacy 3DES/SHA1, empty password", { certificate: "rsa-legacy-empty.p12" }, "RSA", 0],
  ];
  it.each(cases)("%s", async (_name, input, keyType, chainLength) => {
    const material = await readCredentialMaterial({
      certificate: f(input.certificate),
      privateKey: input.privateKey && f(input.privateKey),
      intermediates: input.intermediates && f(input.intermediates),
      passphrase: input.passphrase,
      validAt: new Date(),
    });
    expect(material.keyType).toBe(keyType);
    expect(material.chain).toHaveLength(chainLength);
    expect(material.certificate.publicKey.equals(createPublicKey(material.privateKey as KeyObject))).toBe(
      true,
    );
    // Decimal serial matches openssl's hex serial.
    const hex = openssl(dir, [
      "x509",
      "-noout",
      "-serial",
      "-in",
      f(
        input.certificate.endsWith(".p12")
          ? `${input.certificate.startsWith("ec") ? "ecp256" : "rsa2048"}.pem`
          : input.certificate.replace(".der", ".pem").replace("-combo", "").replace("-fullchain", ""),
      ),
    ])
      .toString()
      .trim()
      .replace("serial=", "");
    expect(material.serialNumber).toBe(BigInt(`0x${hex}`).toString(10));
  });
});

describe("clear errors", () => {
  it("wrong passphrase on encrypted PKCS#8", async () => {
    await expectFailure(
      readCredentialMaterial({
        certificate: f("rsa2048.pem"),
        privateKey: f("rsa-enc-aes.pem"),
        passphrase: "nope",
      }),
      "private-key-password",
    );
  });
  it("missing passphrase", async () => {
    const e = await expectFailure(
      readCredentialMaterial({ certificate: f("rsa2048.pem"), privateKey: f("rsa-enc-aes.pem") }),
      "private-key-password",
    );
    expect(e.message).toMatch(/no passphrase/);
  });
  it("wrong passphrase on legacy PEM", async () => {
    await expectFailure(
      readCredentialMaterial({
        certificate: f("rsa2048.pem"),
        privateKey: f("rsa-legacy-enc.pem"),
        passphrase: "nope",
      }),
      "private-key-password",
    );
  });
  it("wrong PKCS#12 password", async () => {
    await expectFailure(
      readCredentialMaterial({ certificate: f("ec-modern.p12"), passphrase: "nope" }),
      "private-key-password",
    );
  });
  it("key and certificate that do not match", async () => {
    const e = await expectFailure(
      readCredentialMaterial({ certificate: f("rsa2048.pem"), privateKey: f("ecp256.key") }),
      "key-certificate-mismatch",
    );
    expect(e.message).toBe("The private key does not belong to the certificate.");
  });
  it("not a certificate", async () => {
    await expectFailure(
      readCredentialMaterial({ certificate: f("ext.cnf"), privateKey: f("ecp256.key") }),
      "certificate-invalid",
    );
  });
  it("a key given as the certificate", async () => {
    await expectFailure(readCredentialMaterial({ certificate: f("ecp256.key") }), "certificate-invalid");
  });
  it("unsupported algorithm (Ed25519)", async () => {
    await expectFailure(
      readCredentialMaterial({ certificate: f("ecp256.pem"), privateKey: f("ed25519.key") }),
      "private-key-unsupported",
    );
  });
  it("unsupported curve (secp256k1)", async () => {
    const e = await expectFailure(
      readCredentialMaterial({ certificate: f("ecp256.pem"), privateKey: f("k1.key") }),
      "private-key-unsupported",
    );
    expect(e.message).toMatch(/secp256k1/);
  });
  it("expired", async () => {
    await expectFailure(
      readCredentialMaterial({
        certificate: f("ecp256.pem"),
        privateKey: f("ecp256.key"),
        validAt: new Date(Date.now() + 400 * 86_400_000),
      }),
      "certificate-expired",
    );
  });
  it("not yet valid", async () => {
    await expectFailure(
      readCredentialMaterial({
        certificate: f("ecp256.pem"),
        privateKey: f("ecp256.key"),
        validAt: new Date(Date.now() - 86_400_000),
      }),
      "certificate-not-yet-valid",
    );
  });
  it("missing file", async () => {
    await expectFailure(
      readCredentialMaterial({ certificate: f("nope.pem"), privateKey: f("ecp256.key") }),
      "file-not-found",
    );
  });
  it("no private key at all", async () => {
    await expectFailure(
      parseCredentialMaterial({ certificate: read(dir, "ecp256.pem") }),
      "private-key-invalid",
    );
  });
  it("intermediates bundle with a key inside", async () => {
    await expectFailure(
      readCredentialMaterial({
        certificate: f("ecp256.pem"),
        privateKey: f("ecp256.key"),
        intermediates: f("ecp256-combo.pem"),
      }),
      "certificate-invalid",
    );
  });
  it("never puts key material or the passphrase in the message", async () => {
    const e = await expectFailure(
      readCredentialMaterial({
        certificate: f("rsa2048.pem"),
        privateKey: f("rsa-enc-aes.pem"),
        passphrase: "hunter2-secret",
      }),
      "private-key-password",
    );
    expect(`${e.message} ${e.hint}`).not.toMatch(/hunter2|PRIVATE KEY/);
  });
});
