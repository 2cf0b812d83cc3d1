import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CredentialMaterialError } from "../errors.ts";
import { certificateSignatureOid, isEncryptedPkcs8Der, WEAK_SIGNATURE_OIDS } from "./der.ts";
import { type ExternalSigningKey, isExternalSigningKey } from "./external-key.ts";
import { isPem, parsePemBlocks } from "./pem.ts";

/**
 * Signing algorithms of SigV4-X509.
 * @public
 */
export type X509SigningAlgorithm = "AWS4-X509-RSA-SHA256" | "AWS4-X509-ECDSA-SHA256";

/**
 * A certificate, its chain and the matching private key, checked and ready to sign with.
 * @public
 */
export interface CredentialMaterial {
  /** The end-entity certificate. */
  certificate: X509Certificate;
  /** Intermediate certificates to send in `X-Amz-X509-Chain`, leaf excluded. */
  chain: X509Certificate[];
  /** The key in this process, or one that signs on a device ({@link ExternalSigningKey}). */
  privateKey: KeyObject | ExternalSigningKey;
  algorithm: X509SigningAlgorithm;
  /** `RSA` or `EC`. */
  keyType: "RSA" | "EC";
  /** The certificate serial number in decimal, as SigV4-X509 puts it in `Credential=`. */
  serialNumber: string;
}

/**
 * Raw inputs to {@link parseCredentialMaterial}; every field holds file contents, not a path.
 * @public
 */
export interface CredentialMaterialInput {
  /**
   * The certificate: PEM (leaf first, optionally followed by the chain and/or the private key),
   * DER, or a PKCS#12 archive.
   */
  certificate: Uint8Array | string;
  /** The private key, when not inside `certificate`. PEM (PKCS#1, PKCS#8, SEC1, encrypted) or DER. */
  privateKey?: Uint8Array | string | undefined;
  /** A PEM bundle of intermediate certificates. */
  intermediates?: Uint8Array | string | undefined;
  /** Password of an encrypted private key or of a PKCS#12 archive. */
  passphrase?: string | undefined;
  /** A key that signs on a device, in place of `privateKey` (see `readCredentialMaterial`). */
  externalKey?: ExternalSigningKey | undefined;
  /** Check the validity window against this date; omit to skip the check. */
  validAt?: Date | undefined;
}

const KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]);
const SUPPORTED_CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);

function parseCertificateDer(der: Buffer, source: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new CredentialMaterialError(
      "certificate-invalid",
      `The ${source} is not a valid X.509 certificate.`,
      {
        source,
        cause,
        hint: "Pass a PEM or DER certificate (the file usually starts with -----BEGIN CERTIFICATE-----).",
      },
    );
  }
}

function isPkcs12(der: Buffer): boolean {
  // PFX: SEQUENCE { INTEGER 3, ContentInfo ... } — the version is the first element.
  try {
    const off = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
    return der[0] === 0x30 && der[off] === 0x02 && der[off + 1] === 0x01 && der[off + 2] === 0x03;
  } catch {
    return false;
  }
}

function mapKeyError(cause: unknown, encrypted: boolean, hasPassphrase: boolean): CredentialMaterialError {
  const code = (cause as { code?: string }).code ?? "";
  const message = cause instanceof Error ? cause.message : String(cause);
  if (encrypted && !hasPassphrase) {
    return new CredentialMaterialError(
      "private-key-password",
      "The private key is encrypted and no passphrase was given.",
      {
        source: "private-key",
        hint: "Provide the passphrase (IAM_RA_PRIVATE_KEY_PASSPHRASE or --private-key-passphrase-file).",
      },
    );
  }
  if (
    encrypted ||
    /bad decrypt|BAD_DECRYPT|wrong password|mac verify|passphrase/i.test(`${code} ${message}`)
  ) {
    return new CredentialMaterialError(
      "private-key-password",
      "The passphrase does not decrypt the private key.",
      {
        source: "private-key",
        hint: "Check the passphrase; it is the one used when the key was exported or encrypted.",
      },
    );
  }
  if (/unsupported/i.test(`${code} ${message}`)) {
    return new CredentialMaterialError(
      "private-key-unsupported",
      "The private key uses an unsupported format or algorithm.",
      {
        source: "private-key",
        cause,
        hint: "Use an RSA or EC (P-256, P-384, P-521) key in PEM (PKCS#1, PKCS#8 or SEC1), DER or PKCS#12.",
      },
    );
  }
  return new CredentialMaterialError("private-key-invalid", "The private key could not be read.", {
    source: "private-key",
    cause,
    hint: "Pass a PEM or DER private key (PKCS#1, PKCS#8, encrypted PKCS#8 or SEC1 EC).",
  });
}

function parsePrivateKey(data: Uint8Array | string, passphrase: string | undefined): KeyObject {
  const pem = isPem(data);
  if (pem) {
    const blocks = parsePemBlocks(data).filter((b) => KEY_LABELS.has(b.label));
    const block = blocks[0];
    if (!block) {
      throw new CredentialMaterialError("private-key-invalid", "No private key was found in the PEM input.", {
        source: "private-key",
        hint: "The key file should contain a -----BEGIN ... PRIVATE KEY----- block.",
      });
    }
    // Which one signs would be a guess; so would silently using the first.
    if (blocks.length > 1) {
      throw new CredentialMaterialError(
        "private-key-invalid",
        `The key input holds ${blocks.length} private keys; iam-ra needs exactly one.`,
        {
          source: "private-key",
          hint: "Keep only the key that belongs to the certificate in the file (compare with: openssl pkey -pubout).",
        },
      );
    }
    const encrypted =
      block.label === "ENCRYPTED PRIVATE KEY" || (block.headers["Proc-Type"] ?? "").includes("ENCRYPTED");
    try {
      return createPrivateKey({
        key: block.text,
        format: "pem",
        ...(passphrase !== undefined && passphrase !== ""
          ? { passphrase }
          : encrypted
            ? { passphrase: "" }
            : {}),
      });
    } catch (cause) {
      throw mapKeyError(cause, encrypted, passphrase !== undefined && passphrase !== "");
    }
  }
  const der = Buffer.from(data);
  const attempts: Array<Parameters<typeof createPrivateKey>[0]> = [
    { key: der, format: "der", type: "pkcs8" },
    { key: der, format: "der", type: "pkcs1" },
    { key: der, format: "der", type: "sec1" },
  ];
  for (const attempt of attempts) {
    try {
      return createPrivateKey(attempt);
    } catch {
      // try the next encoding
    }
  }
  if (!isEncryptedPkcs8Der(der)) {
    throw new CredentialMaterialError(
      "private-key-invalid",
      "The private key is neither PEM nor a DER key (PKCS#8, PKCS#1, SEC1 or encrypted PKCS#8).",
      {
        source: "private-key",
        hint: "Check that --private-key names the key file (not the certificate or another file): a PEM key starts with -----BEGIN ... PRIVATE KEY-----.",
      },
    );
  }
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8", passphrase: passphrase ?? "" });
  } catch (cause) {
    throw mapKeyError(cause, true, passphrase !== undefined && passphrase !== "");
  }
}

/** Checks a key's algorithm and returns its SigV4-X509 algorithm. */
function algorithmOf(key: KeyObject | ExternalSigningKey): {
  algorithm: X509SigningAlgorithm;
  keyType: "RSA" | "EC";
} {
  if (isExternalSigningKey(key)) {
    return {
      algorithm: key.keyType === "RSA" ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256",
      keyType: key.keyType,
    };
  }
  const type = key.asymmetricKeyType;
  if (type === "rsa") return { algorithm: "AWS4-X509-RSA-SHA256", keyType: "RSA" };
  if (type === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
    if (!SUPPORTED_CURVES.has(curve)) {
      throw new CredentialMaterialError(
        "private-key-unsupported",
        `EC curve "${curve}" is not supported by IAM Roles Anywhere.`,
        {
          source: "private-key",
          hint: "Use a P-256, P-384 or P-521 key.",
        },
      );
    }
    return { algorithm: "AWS4-X509-ECDSA-SHA256", keyType: "EC" };
  }
  throw new CredentialMaterialError(
    "private-key-unsupported",
    `Key type "${type}" is not supported by IAM Roles Anywhere.`,
    {
      source: "private-key",
      hint: "Use an RSA or EC (P-256, P-384, P-521) key.",
    },
  );
}

/**
 * The certificate's validity window relative to a date.
 * @returns `undefined` when valid, else the problem.
 * @public
 */
export function checkValidity(cert: X509Certificate, at: Date): "expired" | "not-yet-valid" | undefined {
  if (at.getTime() > new Date(cert.validTo).getTime()) return "expired";
  if (at.getTime() < new Date(cert.validFrom).getTime()) return "not-yet-valid";
  return undefined;
}

/** The serial number in decimal (SigV4-X509 `Credential=`). @public */
export function serialToDecimal(hexSerial: string): string {
  return BigInt(`0x${hexSerial.replace(/:/g, "") || "0"}`).toString(10);
}

function certificatesFrom(data: Uint8Array | string, source: string): X509Certificate[] {
  if (isPem(data)) {
    const blocks = parsePemBlocks(data);
    const other = blocks.find((b) => b.label !== "CERTIFICATE");
    if (other && source === "intermediates") {
      throw new CredentialMaterialError(
        "certificate-invalid",
        `The intermediates bundle holds a "${other.label}" block.`,
        {
          source,
          hint: "An intermediates bundle may only contain CERTIFICATE blocks.",
        },
      );
    }
    return blocks.filter((b) => b.label === "CERTIFICATE").map((b) => parseCertificateDer(b.der, source));
  }
  return [parseCertificateDer(Buffer.from(data), source)];
}

/** The certificate a device key belongs to: the one whose public key verifies its signature. */
async function findExternalLeaf(
  candidates: X509Certificate[],
  key: ExternalSigningKey,
): Promise<X509Certificate | undefined> {
  const { externalKeyMatches } = await import("../pkcs11/key.ts");
  return candidates.find((c) => externalKeyMatches(key, c));
}

/**
 * Refuses what Roles Anywhere refuses in the signing certificate itself, so the user hears the
 * real cause instead of a chain or trust-anchor hint: a CA certificate in the end-entity place,
 * and MD5 or SHA-1 signatures.
 */
function checkEndEntity(leaf: X509Certificate): void {
  if (leaf.ca) {
    throw new CredentialMaterialError(
      "certificate-invalid",
      `The certificate (${leaf.subject.replace(/\n/g, ", ")}) is a CA certificate; Roles Anywhere signs with an end-entity certificate.`,
      {
        source: "certificate",
        hint: "Pass the certificate issued to this host or workload (basicConstraints CA:FALSE), not its CA's.",
      },
    );
  }
  // Node 24 reads the OID itself (a getter); older lines walk the DER, which costs more at a cold start.
  const oid =
    (leaf as { signatureAlgorithmOid?: string }).signatureAlgorithmOid ?? certificateSignatureOid(leaf.raw);
  const weak = WEAK_SIGNATURE_OIDS[oid ?? ""];
  if (weak) {
    throw new CredentialMaterialError(
      "certificate-invalid",
      `The certificate is signed with ${weak}; Roles Anywhere accepts only SHA-256 or stronger signatures.`,
      {
        source: "certificate",
        hint: "Have the CA issue a new certificate signed with SHA-256 (openssl: -sha256).",
      },
    );
  }
}

/**
 * Parses and checks a certificate, its chain and its private key, from file contents.
 *
 * Accepts PEM or DER certificates, a chain after the leaf or in `intermediates`, combined
 * certificate+key PEM, PKCS#12 (`.p12`/`.pfx`), and PKCS#1, PKCS#8, encrypted PKCS#8, legacy
 * encrypted PEM and SEC1 keys. Throws {@link CredentialMaterialError} saying exactly what is wrong.
 * @public
 */
export async function parseCredentialMaterial(input: CredentialMaterialInput): Promise<CredentialMaterial> {
  let leafCandidates: X509Certificate[];
  let privateKey: KeyObject | ExternalSigningKey | undefined = input.externalKey;
  let extraChain: X509Certificate[] = [];

  const certData = input.certificate;
  if (!isPem(certData) && isPkcs12(Buffer.from(certData))) {
    if (input.privateKey !== undefined) {
      throw new CredentialMaterialError("invalid-input", "A PKCS#12 archive already holds the private key.", {
        source: "pkcs12",
        hint: "Pass the .p12/.pfx file alone, without a separate private key.",
      });
    }
    // Loaded on demand: node-forge is large and credential-process start-up is measured.
    const { parsePkcs12 } = await import("./pkcs12.ts");
    const p12 = parsePkcs12(Buffer.from(certData), input.passphrase ?? "");
    leafCandidates = p12.certificates;
    privateKey = p12.privateKey;
  } else {
    leafCandidates = certificatesFrom(certData, "certificate");
    if (leafCandidates.length === 0) {
      throw new CredentialMaterialError(
        "certificate-invalid",
        "No certificate was found in the certificate input.",
        {
          source: "certificate",
          hint: "The certificate file should contain a -----BEGIN CERTIFICATE----- block (or be DER).",
        },
      );
    }
    if (privateKey) {
      // signs on its device
    } else if (input.privateKey !== undefined) {
      privateKey = parsePrivateKey(input.privateKey, input.passphrase);
    } else if (isPem(certData) && parsePemBlocks(certData).some((b) => KEY_LABELS.has(b.label))) {
      privateKey = parsePrivateKey(certData, input.passphrase);
    }
  }
  if (input.intermediates !== undefined) extraChain = certificatesFrom(input.intermediates, "intermediates");
  if (!privateKey) {
    throw new CredentialMaterialError("private-key-invalid", "No private key was given.", {
      source: "private-key",
      hint: "Pass --private-key, a combined certificate+key PEM, or a PKCS#12 archive.",
    });
  }
  const { algorithm, keyType } = algorithmOf(privateKey);
  const key = privateKey;
  const leaf = isExternalSigningKey(key)
    ? await findExternalLeaf(leafCandidates, key)
    : leafCandidates.find((c) => c.checkPrivateKey(key));
  if (!leaf) {
    throw new CredentialMaterialError(
      "key-certificate-mismatch",
      "The private key does not belong to the certificate.",
      {
        source: "private-key",
        hint: "Pass the key that was generated with this certificate's request (their public keys differ).",
      },
    );
  }
  checkEndEntity(leaf);
  if (input.validAt) {
    const problem = checkValidity(leaf, input.validAt);
    if (problem === "expired") {
      throw new CredentialMaterialError(
        "certificate-expired",
        `The certificate expired on ${new Date(leaf.validTo).toISOString()}.`,
        {
          source: "certificate",
          hint: "Issue a new certificate (iam-ra host rotate) and point to it.",
        },
      );
    }
    if (problem === "not-yet-valid") {
      throw new CredentialMaterialError(
        "certificate-not-yet-valid",
        `The certificate is not valid before ${new Date(leaf.validFrom).toISOString()}.`,
        {
          source: "certificate",
          hint: "Check this machine's clock, or wait until the certificate's notBefore.",
        },
      );
    }
  }
  const chain = [...leafCandidates.filter((c) => c !== leaf), ...extraChain].filter(
    (c, i, all) => all.findIndex((o) => o.raw.equals(c.raw)) === i && !c.raw.equals(leaf.raw),
  );
  return {
    certificate: leaf,
    chain,
    privateKey,
    algorithm,
    keyType,
    serialNumber: serialToDecimal(leaf.serialNumber),
  };
}
