import { createHash, X509Certificate } from "node:crypto";
import { IamRaError } from "@iam-ra/core";
import { CREDENTIAL_OPTIONS, readPkcs11Options } from "@iam-ra/core/rolesanywhere";
import { isPem, parsePemBlocks, readCertificateSource, serialToDecimal } from "@iam-ra/core/x509";
import { BaseCommand, flagsFromSpecs } from "../base-command.ts";
import { Flags } from "../runtime/flags.ts";

/** The PKCS#11 options of credential-process, for a `pkcs11:` --certificate. */
const PKCS11_FLAGS = CREDENTIAL_OPTIONS.filter((s) => ["pkcs11-lib", "pkcs11-pin-file"].includes(s.name));

export interface ReadCertificateDataResult {
  keyType: "RSA" | "EC";
  certificateData: string;
  serialNumber: string;
  supportedAlgorithms: string[];
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
}

export class ReadCertificateData extends BaseCommand {
  static override summary =
    "Print a certificate's data as the official helper does (plus subject, issuer, validity).";
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate cert.pem",
    "<%= config.bin %> <%= command.id %> --certificate cert.pem --json",
    "<%= config.bin %> <%= command.id %> --certificate 'pkcs11:token=ci;object=host'",
  ];
  static override flags = {
    ...flagsFromSpecs(PKCS11_FLAGS),
    certificate: Flags.string({
      description:
        "Certificate: a PEM or DER file (regular file, at most 1 MiB), or a PKCS#11 URI (pkcs11:…).",
      env: "IAM_RA_CERTIFICATE",
      required: true,
    }),
  };

  async run(): Promise<ReadCertificateDataResult> {
    const { flags } = await this.parse(ReadCertificateData);
    const pkcs11 = /^pkcs11:/i.test(flags.certificate)
      ? await readPkcs11Options(flags, process.env)
      : undefined;
    const data = Buffer.from(await readCertificateSource(flags.certificate, { pkcs11 }));
    const der = isPem(data) ? parsePemBlocks(data).find((b) => b.label === "CERTIFICATE")?.der : data;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der ?? Buffer.alloc(0));
    } catch {
      throw new IamRaError("certificate-invalid", `${flags.certificate} is not an X.509 certificate.`, {
        hint: "Pass a PEM or DER certificate.",
      });
    }
    const ec = cert.publicKey.asymmetricKeyType === "ec";
    const result: ReadCertificateDataResult = {
      keyType: ec ? "EC" : "RSA",
      certificateData: cert.raw.toString("base64"),
      serialNumber: serialToDecimal(cert.serialNumber),
      supportedAlgorithms: ec
        ? ["ECDSASHA256", "ECDSASHA384", "ECDSASHA512"]
        : ["RSASHA256", "RSASHA384", "RSASHA512"],
      subject: cert.subject.replace(/\n/g, ", "),
      issuer: cert.issuer.replace(/\n/g, ", "),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
      fingerprintSha256: createHash("sha256").update(cert.raw).digest("hex"),
    };
    if (!this.jsonEnabled()) this.log(JSON.stringify(result, null, 2));
    return result;
  }
}
