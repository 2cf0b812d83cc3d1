import { readBoundedFile } from "../files.ts";
import type { Pkcs11Options } from "../pkcs11/module.ts";
import { isPkcs11Uri } from "../pkcs11/uri.ts";
import { type CredentialMaterial, parseCredentialMaterial } from "./material.ts";

/**
 * Where a piece of credential material comes from: a file path, PEM text, bytes, or (certificate
 * and private key) a PKCS#11 URI. A string that starts with `-----BEGIN` is PEM text, one that
 * starts with `pkcs11:` names an object on a token; any other string is a path.
 * @public
 */
export type MaterialSource = string | Uint8Array;

/**
 * Inputs of {@link readCredentialMaterial}.
 * @public
 */
export interface ReadCredentialMaterialOptions {
  certificate: MaterialSource;
  privateKey?: MaterialSource | undefined;
  intermediates?: MaterialSource | undefined;
  passphrase?: string | undefined;
  /** Check validity at this date (omit to skip). */
  validAt?: Date | undefined;
  /** Module and PINs for `pkcs11:` sources. */
  pkcs11?: Pkcs11Options | undefined;
}

async function load(
  source: MaterialSource | undefined,
  what: string,
): Promise<Uint8Array | string | undefined> {
  if (source === undefined) return undefined;
  if (typeof source !== "string") return source;
  if (source.trimStart().startsWith("-----BEGIN")) return source;
  return await readBoundedFile(source, { what });
}

/**
 * The bytes of one certificate (PEM or DER, as stored) from a file or a `pkcs11:` URI. Files are
 * read as {@link readCredentialMaterial} reads them: regular files only, size-capped.
 * @public
 */
export async function readCertificateSource(
  source: string,
  options: { pkcs11?: Pkcs11Options | undefined } = {},
): Promise<Uint8Array> {
  if (!isPkcs11Uri(source)) return await readBoundedFile(source, { what: "certificate" });
  const { readPkcs11Certificate } = await import("../pkcs11/key.ts");
  return await readPkcs11Certificate(source, options.pkcs11);
}

/**
 * Reads certificate, key and chain (files or contents) and checks them with
 * {@link parseCredentialMaterial}.
 * @public
 */
export async function readCredentialMaterial(
  options: ReadCredentialMaterialOptions,
): Promise<CredentialMaterial> {
  const { certificate, privateKey } = options;
  const onToken = (source: MaterialSource | undefined): source is string =>
    typeof source === "string" && isPkcs11Uri(source);
  // Loaded only when a token is named: the binding is an optional native dependency.
  const pkcs11 = onToken(certificate) || onToken(privateKey) ? await import("../pkcs11/key.ts") : undefined;
  const [certificateData, privateKeyData, intermediates, externalKey] = await Promise.all([
    onToken(certificate)
      ? pkcs11!.readPkcs11Certificate(certificate, options.pkcs11)
      : load(certificate, "certificate"),
    onToken(privateKey) ? undefined : load(privateKey, "private-key"),
    load(options.intermediates, "intermediates"),
    onToken(privateKey) ? pkcs11!.openPkcs11Key(privateKey, options.pkcs11) : undefined,
  ]);
  return await parseCredentialMaterial({
    certificate: certificateData!,
    privateKey: privateKeyData,
    intermediates,
    passphrase: options.passphrase,
    validAt: options.validAt,
    externalKey,
  });
}
