import { createHash, sign } from "node:crypto";
import { IamRaError } from "@iam-ra/core";
import { CREDENTIAL_OPTIONS, readPassphrase, readPkcs11Options } from "@iam-ra/core/rolesanywhere";
import { isExternalSigningKey, readCredentialMaterial } from "@iam-ra/core/x509";
import { BaseCommand, flagsFromSpecs } from "../base-command.ts";
import { Flags } from "../runtime/flags.ts";

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
      description: "Certificate (or PKCS#12/combined PEM).",
      env: "IAM_RA_CERTIFICATE",
      required: true,
    }),
    "private-key": Flags.string({
      description: "Private key file, or a PKCS#11 URI (pkcs11:token=…;object=…).",
      env: "IAM_RA_PRIVATE_KEY",
    }),
    ...flagsFromSpecs(
      CREDENTIAL_OPTIONS.filter((o) =>
        ["private-key-passphrase-file", "pkcs11-lib", "pkcs11-pin-file", "pkcs11-key-pin-file"].includes(
          o.name,
        ),
      ),
    ),
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
      passphrase: await readPassphrase(flags, process.env),
      pkcs11: await readPkcs11Options(flags, process.env),
    });
    const key = material.privateKey;
    if (isExternalSigningKey(key) && flags.digest !== "SHA256") {
      throw new IamRaError("invalid-input", `A key on a token signs with SHA256 here, not ${flags.digest}.`, {
        hint: "Drop --digest (SigV4-X509 always uses SHA256).",
      });
    }
    const pub = material.certificate.publicKey;
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
    const message = fixedSigningMessage(pubBytes);
    const signature = isExternalSigningKey(key)
      ? key.signSha256(message)
      : sign(flags.digest.replace("SHA", "sha"), message, { key, dsaEncoding: "der" });
    const result = { signature: signature.toString("hex"), digest: flags.digest };
    if (!this.jsonEnabled()) {
      if (flags.format === "bin") process.stdout.write(signature);
      else if (flags.format === "text") this.log(result.signature);
      else this.log(JSON.stringify(result.signature));
    }
    return result;
  }
}
