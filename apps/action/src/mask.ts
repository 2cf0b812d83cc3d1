import type { MaterialInputs } from "./inputs.ts";

const ARMOR_RE = /^(-----(BEGIN|END) [A-Z0-9 ]+-----|[A-Za-z-]+:.*)$/;
const KEY_BLOCK_RE = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----[\s\S]*?-----END \1-----/g;

/**
 * The strings to register as secrets for one secret text: the whole value, and each of its lines,
 * because the runner matches a multi-line secret only as a whole. PEM armor and header lines are
 * not secret and are skipped, so the log does not turn every `-----BEGIN …` into `***`.
 */
export function secretFragments(text: string): string[] {
  const whole = text.trim();
  if (whole === "") return [];
  const lines = whole
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !ARMOR_RE.test(line));
  return [...new Set([whole, ...lines])];
}

/**
 * Every secret fragment of the material inputs: the key, the passphrase, a PKCS#12 archive (its
 * base64 text holds the encrypted key) and any private key block pasted into the certificate or
 * chain input. Certificates themselves are public and stay readable.
 */
export function materialSecrets(material: MaterialInputs): string[] {
  const out: string[] = [];
  const keyBlocksOf = (text: string) => [...text.matchAll(KEY_BLOCK_RE)].map((m) => m[0]);
  if (material.privateKey !== undefined) out.push(...secretFragments(material.privateKey));
  if (material.passphrase !== undefined && material.passphrase !== "") {
    out.push(material.passphrase, ...secretFragments(material.passphrase));
  }
  if (!material.certificate.includes("-----BEGIN")) out.push(...secretFragments(material.certificate));
  for (const text of [material.certificate, material.chain ?? ""]) {
    for (const block of keyBlocksOf(text)) out.push(...secretFragments(block));
  }
  return [...new Set(out)];
}
