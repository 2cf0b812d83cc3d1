/**
 * One PEM block: its label (e.g. `CERTIFICATE`), its headers and the decoded bytes.
 * @public
 */
export interface PemBlock {
  label: string;
  headers: Record<string, string>;
  der: Buffer;
  /** The block as it appeared, for handing to OpenSSL unchanged. */
  text: string;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** True when the bytes look like PEM text. @public */
export function isPem(data: Uint8Array | string): boolean {
  const text =
    typeof data === "string"
      ? data
      : Buffer.from(data)
          .subarray(0, 64 * 1024)
          .toString("latin1");
  return text.includes("-----BEGIN ");
}

/**
 * Every PEM block in a text, in order. Comments and text between blocks are ignored.
 * @public
 */
export function parsePemBlocks(data: Uint8Array | string): PemBlock[] {
  const text = typeof data === "string" ? data : Buffer.from(data).toString("latin1");
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const label = m[1]!;
    const body = m[2]!;
    const headers: Record<string, string> = {};
    const lines = body.split(/\r?\n/);
    let i = 0;
    for (; i < lines.length; i++) {
      const h = /^([A-Za-z-]+):\s*(.*)$/.exec(lines[i]!);
      if (!h) break;
      headers[h[1]!] = h[2]!;
    }
    const b64 = lines.slice(i).join("").replace(/\s+/g, "");
    blocks.push({ label, headers, der: Buffer.from(b64, "base64"), text: m[0] });
  }
  return blocks;
}

/** Encodes DER as PEM with 64-character lines and a trailing newline. @public */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}
