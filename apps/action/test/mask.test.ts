import { describe, expect, it } from "vitest";
import { materialSecrets, secretFragments } from "../src/mask.ts";

const KEY =
  "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00FF\n\nAAAA1111\r\nBBBB2222\n-----END EC PRIVATE KEY-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nCCCC3333\n-----END CERTIFICATE-----\n";

describe("secretFragments", () => {
  it("is the whole value plus each secret line, without armor and PEM headers", () => {
    expect(secretFragments(KEY)).toEqual([KEY.trim(), "AAAA1111", "BBBB2222"]);
    expect(secretFragments("one-line")).toEqual(["one-line"]);
    expect(secretFragments("  \n")).toEqual([]);
  });
});

describe("materialSecrets", () => {
  it("masks the key and passphrase, never the certificate", () => {
    const secrets = materialSecrets({
      certificate: CERT,
      privateKey: KEY,
      chain: undefined,
      passphrase: "pw",
    });
    expect(secrets).toEqual([KEY.trim(), "AAAA1111", "BBBB2222", "pw"]);
  });

  it("masks a key pasted into the certificate or chain input", () => {
    const secrets = materialSecrets({
      certificate: `${CERT}${KEY}`,
      privateKey: undefined,
      chain: KEY,
      passphrase: undefined,
    });
    expect(secrets).toContain("AAAA1111");
    expect(secrets).not.toContain("CCCC3333");
  });

  it("masks a base64 PKCS#12 archive (it holds the key), line by line", () => {
    expect(
      materialSecrets({
        certificate: "MIIKAAAA\nMIIKBBBB",
        privateKey: undefined,
        chain: undefined,
        passphrase: undefined,
      }),
    ).toEqual(["MIIKAAAA\nMIIKBBBB", "MIIKAAAA", "MIIKBBBB"]);
  });
});
