import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, X509Certificate } from "node:crypto";
import { IamRaError } from "../errors.ts";
import { toPem } from "./pem.ts";

/**
 * Node's WebCrypto (for @peculiar/x509), read when a certificate is made: reading it loads all of
 * WebCrypto, which a module-level import would do at every start of every command.
 */
const web = (): Crypto => globalThis.crypto as Crypto;

/**
 * Key algorithms iam-ra generates.
 * @public
 */
export type KeyAlgorithm = "EC_P256" | "EC_P384" | "EC_P521" | "RSA_2048" | "RSA_3072" | "RSA_4096";

/** Every supported {@link KeyAlgorithm}. @public */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = [
  "EC_P256",
  "EC_P384",
  "EC_P521",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
];

/**
 * A certificate with its private key, as PEM and as Node objects.
 * @public
 */
export interface IssuedCertificate {
  certificatePem: string;
  /** PKCS#8 PEM. Treat as secret: write it 0600, never log it. */
  privateKeyPem: string;
  certificate: X509Certificate;
  privateKey: KeyObject;
}

/**
 * An issuer: a CA certificate and the key that signs with it.
 * @public
 */
export interface CertificateIssuer {
  certificatePem: string;
  privateKey: KeyObject;
}

/**
 * Validity and identity of a certificate to create.
 * @public
 */
export interface CertificateSpec {
  /** Distinguished name, e.g. `CN=web-1,OU=app-readers,O=Example`. */
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** Hex serial; default 16 random bytes (positive). */
  serialNumber?: string | undefined;
  /** Default `EC_P256`. */
  keyAlgorithm?: KeyAlgorithm | undefined;
}

type X509Module = typeof import("@peculiar/x509");

/** Loads @peculiar/x509 after its polyfill (lazily). @internal */
export async function loadX509(): Promise<X509Module> {
  // @peculiar/x509 needs the reflect-metadata polyfill before it loads; both stay off the import
  // graph of callers that never create certificates.
  await import("reflect-metadata");
  const mod = await import("@peculiar/x509");
  // Bundlers may hand a CommonJS build back as the default export only.
  return ("X509CertificateGenerator" in mod ? mod : (mod as { default: X509Module }).default) as X509Module;
}

function keyGenParams(alg: KeyAlgorithm): EcKeyGenParams | RsaHashedKeyGenParams {
  switch (alg) {
    case "EC_P256":
      return { name: "ECDSA", namedCurve: "P-256" };
    case "EC_P384":
      return { name: "ECDSA", namedCurve: "P-384" };
    case "EC_P521":
      return { name: "ECDSA", namedCurve: "P-521" };
    default:
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: Number(alg.slice(4)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      };
  }
}

function signingAlgorithmForSpec(alg: KeyAlgorithm): Algorithm | EcdsaParams {
  if (alg.startsWith("RSA")) return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
  return {
    name: "ECDSA",
    hash: alg === "EC_P384" ? "SHA-384" : alg === "EC_P521" ? "SHA-512" : "SHA-256",
  } as EcdsaParams;
}

function signingAlgorithmFor(key: KeyObject): Algorithm | EcdsaParams {
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return {
      name: "ECDSA",
      hash: curve === "secp384r1" ? "SHA-384" : curve === "secp521r1" ? "SHA-512" : "SHA-256",
    } as EcdsaParams;
  }
  if (key.asymmetricKeyType === "rsa") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
  throw new IamRaError(
    "private-key-unsupported",
    `Cannot sign certificates with a ${key.asymmetricKeyType} key.`,
    {
      hint: "Use an EC or RSA CA key.",
    },
  );
}

/** The WebCrypto import parameters of a Node key (EC curve names differ between the two APIs). */
function webCryptoParams(key: KeyObject): EcKeyImportParams | RsaHashedImportParams {
  return key.asymmetricKeyType === "ec"
    ? {
        name: "ECDSA",
        namedCurve: { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[
          key.asymmetricKeyDetails?.namedCurve ?? ""
        ] as string,
      }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

async function toCryptoKey(key: KeyObject): Promise<CryptoKey> {
  const der = key.export({ format: "der", type: "pkcs8" });
  return (await web().subtle.importKey("pkcs8", der, webCryptoParams(key), true, ["sign"])) as CryptoKey;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, and no leading zero byte
  return bytes.toString("hex");
}

async function generateKeys(alg: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await web().subtle.generateKey(keyGenParams(alg), true, ["sign", "verify"])) as CryptoKeyPair;
}

async function finish(cert: { rawData: ArrayBuffer }, keys: CryptoKeyPair): Promise<IssuedCertificate> {
  const pkcs8 = Buffer.from(await web().subtle.exportKey("pkcs8", keys.privateKey as CryptoKey));
  const privateKeyPem = toPem("PRIVATE KEY", pkcs8);
  return {
    certificatePem: toPem("CERTIFICATE", Buffer.from(cert.rawData)),
    privateKeyPem,
    certificate: new X509Certificate(Buffer.from(cert.rawData)),
    privateKey: createPrivateKey(privateKeyPem),
  };
}

/**
 * Creates a self-signed root CA (basicConstraints CA, keyCertSign + cRLSign), suitable as a Roles
 * Anywhere `CERTIFICATE_BUNDLE` trust anchor.
 * @public
 */
export async function createSelfSignedCa(
  spec: CertificateSpec & { pathLength?: number | undefined },
): Promise<IssuedCertificate> {
  const x509 = await loadX509();
  const keys = await generateKeys(spec.keyAlgorithm ?? "EC_P256");
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: spec.serialNumber ?? randomSerial(),
      name: spec.subject,
      notBefore: spec.notBefore,
      notAfter: spec.notAfter,
      keys,
      signingAlgorithm: signingAlgorithmForSpec(spec.keyAlgorithm ?? "EC_P256"),
      extensions: [
        new x509.BasicConstraintsExtension(true, spec.pathLength, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, web()),
      ],
    },
    web(),
  );
  return await finish(cert, keys);
}

/**
 * Options of {@link issueCertificate}.
 * @public
 */
export interface IssueCertificateOptions extends CertificateSpec {
  issuer: CertificateIssuer;
  /** Make an intermediate CA instead of an end-entity certificate. */
  ca?: { pathLength?: number | undefined } | undefined;
  /** Subject alternative names. */
  san?: { dns?: string[]; uri?: string[]; email?: string[]; ip?: string[]; dirName?: string[] } | undefined;
  /** An end-entity certificate's extended key usage. Default `clientAuth` (Roles Anywhere's). */
  extendedKeyUsage?: "clientAuth" | "serverAuth" | undefined;
}

/**
 * Issues a certificate signed by a CA: end-entity certificates get digitalSignature and the
 * clientAuth extended key usage (what Roles Anywhere expects), plus authority/subject key ids.
 * @public
 */
export async function issueCertificate(options: IssueCertificateOptions): Promise<IssuedCertificate> {
  const keys = await generateKeys(options.keyAlgorithm ?? "EC_P256");
  const cert = await buildCertificate(options, keys.publicKey);
  return await finish(cert, keys);
}

async function buildCertificate(
  options: Omit<IssueCertificateOptions, "keyAlgorithm">,
  publicKey: CryptoKey,
): Promise<{ rawData: ArrayBuffer }> {
  const x509 = await loadX509();
  const issuerCert = new x509.X509Certificate(options.issuer.certificatePem);
  const signingKey = await toCryptoKey(options.issuer.privateKey);
  const extensions: InstanceType<X509Module["Extension"]>[] = [
    new x509.BasicConstraintsExtension(options.ca !== undefined, options.ca?.pathLength, true),
    options.ca
      ? new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        )
      : new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    await x509.AuthorityKeyIdentifierExtension.create(issuerCert, false, web()),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, web()),
  ];
  if (!options.ca)
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        [x509.ExtendedKeyUsage[options.extendedKeyUsage ?? "clientAuth"]],
        false,
      ),
    );
  const san = options.san;
  if (
    san &&
    (san.dns?.length || san.uri?.length || san.email?.length || san.ip?.length || san.dirName?.length)
  ) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...(san.dns ?? []).map((value) => ({ type: "dns" as const, value })),
        ...(san.uri ?? []).map((value) => ({ type: "url" as const, value })),
        ...(san.email ?? []).map((value) => ({ type: "email" as const, value })),
        ...(san.ip ?? []).map((value) => ({ type: "ip" as const, value })),
        ...(san.dirName ?? []).map((value) => ({ type: "dn" as const, value })),
      ]),
    );
  }
  return await x509.X509CertificateGenerator.create(
    {
      serialNumber: options.serialNumber ?? randomSerial(),
      subject: options.subject,
      issuer: issuerCert.subjectName,
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      publicKey,
      signingKey,
      signingAlgorithm: signingAlgorithmFor(options.issuer.privateKey),
      extensions,
    },
    web(),
  );
}

/**
 * A certificate signing request, checked: its self-signature verifies and its key is one Roles
 * Anywhere accepts.
 * @public
 */
export interface ParsedCsr {
  /** The subject the requester asked for (iam-ra decides the subject it issues). */
  requestedSubject: string;
  publicKey: KeyObject;
  keyType: "EC" | "RSA";
}

/**
 * Parses a PEM (or DER) PKCS#10 CSR and verifies its signature, so only the holder of the private
 * key can have it certified.
 * @public
 */
export async function parseCsr(csr: string | Uint8Array): Promise<ParsedCsr> {
  const x509 = await loadX509();
  let req: InstanceType<X509Module["Pkcs10CertificateRequest"]>;
  try {
    req = new x509.Pkcs10CertificateRequest(typeof csr === "string" ? csr : Buffer.from(csr));
  } catch (cause) {
    throw new IamRaError("invalid-input", "The CSR is not a PKCS#10 certificate request (PEM or DER).", {
      cause,
      hint: "Create one with e.g. `openssl req -new -key host.key -subj /CN=host -out host.csr`.",
    });
  }
  if (!(await req.verify(web()))) {
    throw new IamRaError("invalid-input", "The CSR's signature does not verify.", {
      hint: "Re-create the CSR with the host's private key.",
    });
  }
  const publicKey = createPublicKey({ key: Buffer.from(req.publicKey.rawData), format: "der", type: "spki" });
  const type = publicKey.asymmetricKeyType;
  if (type !== "ec" && type !== "rsa") {
    throw new IamRaError("private-key-unsupported", `A ${type} key cannot be used with Roles Anywhere.`, {
      hint: "Use an EC (P-256/P-384/P-521) or RSA (2048+) key.",
    });
  }
  if (type === "rsa" && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new IamRaError("private-key-unsupported", "RSA keys under 2048 bits are refused.", {
      hint: "Use an RSA key of 2048 bits or more, or an EC key.",
    });
  }
  return { requestedSubject: req.subject, publicKey, keyType: type === "ec" ? "EC" : "RSA" };
}

/**
 * Creates a key pair and a PKCS#10 CSR for it (for AWS Private CA issuance when iam-ra generates the
 * host key itself).
 * @public
 */
export async function createCsr(
  subject: string,
  keyAlgorithm: KeyAlgorithm = "EC_P256",
): Promise<{ csrPem: string; privateKeyPem: string }> {
  const x509 = await loadX509();
  const keys = await generateKeys(keyAlgorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: subject,
      keys,
      signingAlgorithm: signingAlgorithmForSpec(keyAlgorithm),
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false)],
    },
    web(),
  );
  const pkcs8 = Buffer.from(await web().subtle.exportKey("pkcs8", keys.privateKey as CryptoKey));
  return { csrPem: csr.toString("pem"), privateKeyPem: toPem("PRIVATE KEY", pkcs8) };
}

/**
 * Issues an end-entity certificate for a public key (from {@link parseCsr}): the private key never
 * leaves the host. Returns the certificate only.
 * @public
 */
export async function issueCertificateForKey(
  options: Omit<IssueCertificateOptions, "keyAlgorithm" | "ca">,
  publicKey: KeyObject,
): Promise<{ certificatePem: string; certificate: X509Certificate }> {
  const spki = publicKey.export({ format: "der", type: "spki" });
  const key = (await web().subtle.importKey("spki", spki, webCryptoParams(publicKey), true, [
    "verify",
  ])) as CryptoKey;
  const cert = await buildCertificate(options, key);
  return {
    certificatePem: toPem("CERTIFICATE", Buffer.from(cert.rawData)),
    certificate: new X509Certificate(Buffer.from(cert.rawData)),
  };
}

/**
 * Options of {@link createCrl}.
 * @public
 */
export interface CreateCrlOptions {
  issuer: CertificateIssuer;
  /** Revoked serials (hex) with their revocation dates. */
  revoked: Array<{ serialNumber: string; revocationDate: Date }>;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * Creates a DER CRL signed by the issuer.
 * @public
 */
export async function createCrl(options: CreateCrlOptions): Promise<Buffer> {
  const x509 = await loadX509();
  const issuerCert = new x509.X509Certificate(options.issuer.certificatePem);
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: issuerCert.subjectName,
      thisUpdate: options.thisUpdate,
      nextUpdate: options.nextUpdate,
      signingKey: await toCryptoKey(options.issuer.privateKey),
      signingAlgorithm: signingAlgorithmFor(options.issuer.privateKey),
      entries: options.revoked.map((r) => ({
        serialNumber: r.serialNumber,
        revocationDate: r.revocationDate,
      })),
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuerCert, false, web())],
    },
    web(),
  );
  return Buffer.from(crl.rawData);
}

/** A TLS server's certificate chain and key, and the CA its clients trust. @public */
export interface ServingCertificate {
  /** The serving certificate, then its CA (PEM). */
  certificatePem: string;
  privateKeyPem: string;
  /** The CA to trust (PEM). */
  caCertificatePem: string;
}

/**
 * Makes a self-signed CA and, from it, a TLS server certificate (serverAuth) for `dnsNames` and
 * `ips`, valid from a minute ago for `days` (default 30). For local servers (the emulator's https,
 * test webhooks); nothing is written.
 * @public
 */
export async function createServingCertificate(options: {
  commonName: string;
  dnsNames?: string[] | undefined;
  ips?: string[] | undefined;
  caName?: string | undefined;
  days?: number | undefined;
}): Promise<ServingCertificate> {
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + (options.days ?? 30) * 86_400_000);
  const ca = await createSelfSignedCa({
    subject: `CN=${options.caName ?? `${options.commonName} CA`}`,
    notBefore,
    notAfter,
  });
  const leaf = await issueCertificate({
    subject: `CN=${options.commonName}`,
    issuer: ca,
    notBefore,
    notAfter,
    extendedKeyUsage: "serverAuth",
    san: { dns: options.dnsNames ?? [], ip: options.ips ?? [] },
  });
  return {
    certificatePem: `${leaf.certificatePem.trim()}\n${ca.certificatePem.trim()}\n`,
    privateKeyPem: leaf.privateKeyPem,
    caCertificatePem: ca.certificatePem,
  };
}
