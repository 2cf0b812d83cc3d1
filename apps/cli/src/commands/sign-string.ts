import { createHash, createPublicKey, sign } from "node:crypto";
import { readCredentialMaterial } from "@iam-ra/core/x509";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.ts";

export interface SignStringResult {
  signature: string;
  digest: string;
}

/** The fixed test message of the official helper: text || "1" || SHA256("IAM RA" || public key). */
export function fixedSigningMessage(publicKeyBytes: Buffer): Buffer {
  const inner = createHash("sha256")
    .update(Buffer.concat([Buffer.from("IAM RA"), publicKeyBytes]))
    .digest();
  return Buffer.concat([
    Buffer.from("AWS Roles Anywhere Credential Helper Signing Test"),
    Buffer.from("1"),
    inner,
  ]);
}

export class SignString extends BaseCommand {
  static override summary =
    "Sign the helper's fixed test string with the private key (to check key access and algorithms).";
  static override examples = [
    "<%= config.bin %> <%= command.id %> --certificate cert.pem --private-key key.pem --format text",
  ];
  static override flags = {
    certificate: Flags.string({
      description: "Certificate (or PKCS#12/combined PEM). [env: IAM_RA_CERTIFICATE]",
      env: "IAM_RA_CERTIFICATE",
      required: true,
    }),
    "private-key": Flags.string({
      description: "Private key file. [env: IAM_RA_PRIVATE_KEY]",
      env: "IAM_RA_PRIVATE_KEY",
    }),
    format: Flags.string({
      options: ["json", "text", "bin"],
      default: "json",
      description: "Output: a JSON string of hex, plain hex, or raw bytes.",
    }),
    digest: Flags.string({
      options: ["SHA256", "SHA384", "SHA512"],
      default: "SHA256",
      description: "Digest algorithm.",
    }),
  };

  async run(): Promise<SignStringResult> {
    const { flags } = await this.parse(SignString);
    const material = await readCredentialMaterial({
      certificate: flags.certificate,
      privateKey: flags["private-key"],
      passphrase: process.env.IAM_RA_PRIVATE_KEY_PASSPHRASE,
    });
    const pub = createPublicKey(material.privateKey);
    const pubBytes =
      material.keyType === "RSA"
        ? pub.export({ format: "der", type: "pkcs1" })
        : (() => {
            const jwk = pub.export({ format: "jwk" });
            return Buffer.concat([
              Buffer.from([4]),
              Buffer.from(jwk.x!, "base64url"),
              Buffer.from(jwk.y!, "base64url"),
            ]);
          })();
    const signature = sign(flags.digest.replace("SHA", "sha"), fixedSigningMessage(pubBytes), {
      key: material.privateKey,
      dsaEncoding: "der",
    });
    const result = { signature: signature.toString("hex"), digest: flags.digest };
    if (!this.jsonEnabled()) {
      if (flags.format === "bin") process.stdout.write(signature);
      else if (flags.format === "text") this.log(result.signature);
      else this.log(JSON.stringify(result.signature));
    }
    return result;
  }
}
