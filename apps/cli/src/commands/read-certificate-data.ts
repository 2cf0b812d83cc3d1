import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { IamRaError } from "@iam-ra/core";
import { isPem, parsePemBlocks, serialToDecimal } from "@iam-ra/core/x509";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.ts";

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
  ];
  static override flags = {
    certificate: Flags.string({
      description: "Certificate file (PEM or DER). [env: IAM_RA_CERTIFICATE]",
      env: "IAM_RA_CERTIFICATE",
      required: true,
    }),
  };

  async run(): Promise<ReadCertificateDataResult> {
    const { flags } = await this.parse(ReadCertificateData);
    let data: Buffer;
    try {
      data = await readFile(flags.certificate);
    } catch {
      throw new IamRaError("file-not-found", `The certificate file ${flags.certificate} cannot be read.`, {
        hint: "Check the --certificate path.",
      });
    }
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
