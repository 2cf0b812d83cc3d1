import { readBoundedFile } from "../files.ts";
import { type CredentialMaterial, parseCredentialMaterial } from "./material.ts";

/**
 * Where a piece of credential material comes from: a file path, PEM text, or bytes.
 * A string that starts with `-----BEGIN` is PEM text; any other string is a path.
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
 * Reads certificate, key and chain (files or contents) and checks them with
 * {@link parseCredentialMaterial}.
 * @public
 */
export async function readCredentialMaterial(
  options: ReadCredentialMaterialOptions,
): Promise<CredentialMaterial> {
  const [certificate, privateKey, intermediates] = await Promise.all([
    load(options.certificate, "certificate"),
    load(options.privateKey, "private-key"),
    load(options.intermediates, "intermediates"),
  ]);
  return await parseCredentialMaterial({
    certificate: certificate!,
    privateKey,
    intermediates,
    passphrase: options.passphrase,
    validAt: options.validAt,
  });
}
