import { execFileSync } from "node:child_process";
import { verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CredentialMaterialError } from "../src/errors.ts";
import { closeAllPkcs11, openPkcs11Key, resetPkcs11Sessions } from "../src/pkcs11/key.ts";
import { parsePkcs11Uri, redactPkcs11Uri } from "../src/pkcs11/uri.ts";
import { signStringToSign } from "../src/rolesanywhere/signer.ts";
import { createSoftHsm, createTestPki, hasSoftHsm, type SoftHsm } from "../src/testing/index.ts";
import { issueCertificateForKey } from "../src/x509/ca.ts";
import { isExternalSigningKey } from "../src/x509/external-key.ts";
import { readCredentialMaterial } from "../src/x509/read.ts";
import { makeTempDir, openssl } from "./helpers/openssl.ts";

describe("PKCS#11 URIs (RFC 7512)", () => {
  test("token, object, id, type and query attributes, percent-decoded", () => {
    const uri = parsePkcs11Uri(
      "pkcs11:token=My%20Token;object=web%3Bkey;id=%01%a2;type=private;serial=42?module-path=/lib/x.so&pin-source=file:/run/pin",
    );
    expect(uri).toEqual({
      token: "My Token",
      object: "web;key",
      id: new Uint8Array([1, 0xa2]),
      type: "private",
      serial: "42",
      modulePath: "/lib/x.so",
      pinSource: "/run/pin",
    });
  });

  test.each([
    ["pkcs11:token=a;token=b", /names "token" twice/],
    ["pkcs11:colour=red", /unknown attribute "colour"/],
    ["pkcs11:object=%zz", /bad percent-escape/],
    ["pkcs11:type=secret", /unknown type "secret"/],
    ["pkcs11:slot-id=x", /slot-id that is not a number/],
    ["file:/tmp/key.pem", /does not start with "pkcs11:"/],
  ])("%s is refused", (text, message) => {
    expect(() => parsePkcs11Uri(text)).toThrow(message);
  });

  test("a PIN in the URI is refused and never repeated", () => {
    let error: unknown;
    try {
      parsePkcs11Uri("pkcs11:token=t;object=k?pin-value=123456");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CredentialMaterialError);
    expect(String((error as Error).message)).not.toContain("123456");
    expect(redactPkcs11Uri("pkcs11:token=t?pin-value=123456")).toBe("pkcs11:token=t?pin-value=***");
  });
});

// Real tokens: SoftHSM2 with keys generated inside them by OpenSC's pkcs11-tool (non-extractable),
// certificates issued for their public keys, and openssl checking every signature.
const available = hasSoftHsm();
if (!available && process.env.CI)
  throw new Error("CI needs softhsm2 and opensc (apt-get install softhsm2 opensc)");

describe.skipIf(!available)("keys on a SoftHSM2 token", () => {
  let hsm: SoftHsm;
  let dir: string;
  let cleanupDir: () => void;
  const PIN = "123456";
  const KEYS = [
    { keyType: "rsa:2048", label: "rsa", id: "01" },
    { keyType: "EC:prime256v1", label: "p256", id: "02" },
    { keyType: "EC:secp384r1", label: "p384", id: "03" },
    { keyType: "EC:secp521r1", label: "p521", id: "04" },
  ];
  const certs = new Map<string, string>();

  beforeAll(async () => {
    hsm = createSoftHsm();
    // SoftHSM reads its configuration when the module is first loaded in this process.
    process.env.SOFTHSM2_CONF = hsm.conf;
    ({ dir, cleanup: cleanupDir } = makeTempDir("iam-ra-p11-"));
    hsm.initToken("main", PIN);
    hsm.initToken("twins", PIN);
    hsm.initToken("locked", PIN);
    const pki = await createTestPki();
    for (const key of KEYS) {
      const publicKey = hsm.generateKey("main", PIN, key);
      const { certificatePem, certificate } = await issueCertificateForKey(
        {
          subject: `CN=${key.label},OU=readers`,
          issuer: pki.intermediate,
          notBefore: new Date(Date.now() - 86_400_000),
          notAfter: new Date(Date.now() + 86_400_000),
        },
        publicKey,
      );
      certs.set(key.label, certificatePem);
      hsm.writeCertificate("main", PIN, certificate.raw, { label: key.label, id: key.id });
    }
    hsm.generateKey("twins", PIN, { keyType: "EC:prime256v1", label: "same", id: "0a" });
    hsm.generateKey("twins", PIN, { keyType: "EC:prime256v1", label: "same", id: "0b" });
  });
  afterAll(() => {
    closeAllPkcs11();
    hsm?.cleanup();
    cleanupDir?.();
  });

  const options = () => ({ modulePath: hsm.module, pin: PIN });

  test("the keys were made inside the token and cannot leave it", () => {
    const listing = hsm.listObjects("main", PIN);
    expect(listing.match(/never extractable/g)?.length).toBe(KEYS.length);
  });

  test.each(KEYS)("$keyType: the token signs what openssl verifies with the certificate", async (key) => {
    const material = await readCredentialMaterial({
      certificate: certs.get(key.label)!,
      privateKey: `pkcs11:token=main;object=${key.label};type=private`,
      pkcs11: options(),
      validAt: new Date(),
    });
    expect(isExternalSigningKey(material.privateKey)).toBe(true);
    expect(material.algorithm).toBe(
      key.keyType.startsWith("rsa") ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256",
    );
    const text =
      "AWS4-X509-ECDSA-SHA256\n20261203T120000Z\n20261203/eu-west-1/rolesanywhere/aws4_request\nabc";
    const signature = signStringToSign(text, material.privateKey);
    writeFileSync(join(dir, `${key.label}.txt`), text);
    writeFileSync(join(dir, `${key.label}.sig`), signature);
    writeFileSync(join(dir, `${key.label}.pem`), certs.get(key.label)!);
    openssl(dir, ["x509", "-in", `${key.label}.pem`, "-pubkey", "-noout", "-out", `${key.label}.pub`]);
    const out = openssl(dir, [
      "dgst",
      "-sha256",
      "-verify",
      `${key.label}.pub`,
      "-signature",
      `${key.label}.sig`,
      `${key.label}.txt`,
    ]);
    expect(out.toString()).toContain("Verified OK");
  });

  test("the certificate can come from the token too; only it is sent, no token chain", async () => {
    const material = await readCredentialMaterial({
      certificate: "pkcs11:token=main;object=p256;type=cert",
      privateKey: "pkcs11:token=main;object=p256;type=private",
      pkcs11: options(),
    });
    expect(material.certificate.subject).toContain("CN=p256");
    expect(material.chain).toEqual([]);
  });

  test("a key that does not belong to the certificate is refused", async () => {
    const error = await readCredentialMaterial({
      certificate: certs.get("p384")!,
      privateKey: "pkcs11:token=main;object=p256;type=private",
      pkcs11: options(),
    }).catch((e: unknown) => e);
    expect((error as CredentialMaterialError).code).toBe("key-certificate-mismatch");
  });

  test("the session survives a token reset: signing re-opens and logs in again", async () => {
    const key = await openPkcs11Key("pkcs11:token=main;object=p256", options());
    const before = key.signSha256(Buffer.from("one"));
    resetPkcs11Sessions();
    const after = key.signSha256(Buffer.from("two"));
    const material = await readCredentialMaterial({
      certificate: certs.get("p256")!,
      privateKey: "pkcs11:token=main;object=p256",
      pkcs11: options(),
    });
    const pub = material.certificate.publicKey;
    expect(verify("sha256", Buffer.from("one"), { key: pub, dsaEncoding: "der" }, before)).toBe(true);
    expect(verify("sha256", Buffer.from("two"), { key: pub, dsaEncoding: "der" }, after)).toBe(true);
  });

  const refusal = async (uri: string, opts: Record<string, string | undefined> = options()) => {
    const error = await openPkcs11Key(uri, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialMaterialError);
    return error as CredentialMaterialError;
  };

  test("a wrong PIN is refused once, then never tried again (the token must not lock)", async () => {
    const first = await refusal("pkcs11:token=locked", { modulePath: hsm.module, pin: "000000" });
    expect(first.message).toBe('The token "locked" refused the user PIN.');
    expect(first.message + first.hint).not.toContain("000000");
    const second = await refusal("pkcs11:token=locked;object=x", { modulePath: hsm.module, pin: "000000" });
    expect(second.message).toMatch(/was refused before; iam-ra does not try it again/);
  });

  test("no PIN for a token that needs one says where to put it", async () => {
    const error = await refusal("pkcs11:token=main;object=rsa", { modulePath: hsm.module });
    expect(error.message).toBe('The token "main" needs its user PIN, and none was given.');
    expect(error.hint).toMatch(/IAM_RA_PKCS11_PIN/);
  });

  test("an ambiguous URI lists what it matches", async () => {
    const error = await refusal("pkcs11:token=twins;object=same");
    expect(error.message).toBe(
      '2 private keys on token "twins" match token "twins", object "same": object=same;id=0a, object=same;id=0b.',
    );
  });

  test("a missing object or token names what is there", async () => {
    expect((await refusal("pkcs11:token=main;object=nope")).message).toBe(
      'Token "main" holds no private key matching token "main", object "nope".',
    );
    expect((await refusal("pkcs11:token=ghost")).message).toMatch(
      /^No token matches token "ghost"; tokens present: .*"main"/,
    );
  });

  test("a missing module, and a library that is not PKCS#11, are told apart", async () => {
    const missing = await refusal("pkcs11:token=main", { modulePath: "/nonexistent/libp11.so", pin: PIN });
    expect(missing.message).toBe("The PKCS#11 module /nonexistent/libp11.so does not exist.");
    const libc = execFileSync("sh", [
      "-c",
      "ls /lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1",
    ])
      .toString()
      .trim();
    const notPkcs11 = await refusal("pkcs11:token=main", { modulePath: libc, pin: PIN });
    expect(notPkcs11.message).toBe(`${libc} is not a PKCS#11 module (it could not be loaded as one).`);
  });
});
