import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import forge from "node-forge";
import { CredentialMaterialError } from "../errors.ts";

/**
 * A PKCS#12 archive's certificates and key.
 * @internal
 */
export interface Pkcs12Contents {
  certificates: X509Certificate[];
  privateKey: KeyObject;
}

/**
 * Opens a PKCS#12 archive (legacy RC2/3DES or modern PBES2 AES/PBKDF2) with a password.
 * @internal
 */
export function parsePkcs12(der: Buffer, password: string): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary")));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, password);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/mac|password|decrypt|invalid/i.test(message)) {
      throw new CredentialMaterialError(
        "private-key-password",
        "The password does not open the PKCS#12 archive.",
        {
          source: "pkcs12",
          hint: "Provide the archive's export password (IAM_RA_PRIVATE_KEY_PASSPHRASE or --private-key-passphrase-file).",
        },
      );
    }
    throw new CredentialMaterialError(
      "private-key-unsupported",
      `The PKCS#12 archive could not be read: ${message}.`,
      {
        source: "pkcs12",
        cause,
        hint: "Re-export it with: openssl pkcs12 -export -inkey key.pem -in cert.pem -out bundle.p12",
      },
    );
  }
  const certificates: X509Certificate[] = [];
  let privateKey: KeyObject | undefined;
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      if (bag.type === forge.pki.oids.certBag && bag.cert) {
        const certDer = forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes();
        certificates.push(new X509Certificate(Buffer.from(certDer, "binary")));
      } else if (bag.type === forge.pki.oids.certBag && bag.asn1) {
        certificates.push(new X509Certificate(Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), "binary")));
      } else if (
        (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) &&
        privateKey === undefined
      ) {
        if (bag.key) {
          privateKey = createPrivateKey(forge.pki.privateKeyToPem(bag.key));
        } else if (bag.asn1) {
          // forge decodes only RSA keys; for EC it leaves the (already decrypted) PrivateKeyInfo.
          const der = Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), "binary");
          privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
        }
      }
    }
  }
  if (!privateKey) {
    throw new CredentialMaterialError("private-key-invalid", "The PKCS#12 archive holds no private key.", {
      source: "pkcs12",
      hint: "Export the archive together with its key (openssl pkcs12 -export -inkey ...).",
    });
  }
  if (certificates.length === 0) {
    throw new CredentialMaterialError("certificate-invalid", "The PKCS#12 archive holds no certificate.", {
      source: "pkcs12",
    });
  }
  return { certificates, privateKey };
}
