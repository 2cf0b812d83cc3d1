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

const BEGIN = "-----BEGIN ";
const DASHES = "-----";

/** True when the bytes look like PEM text. @public */
export function isPem(data: Uint8Array | string): boolean {
  const text =
    typeof data === "string"
      ? data
      : Buffer.from(data)
          .subarray(0, 64 * 1024)
          .toString("latin1");
  return text.includes(BEGIN);
}

/** A label character: `A-Z`, `0-9` or a space. */
function isLabelChar(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 32;
}

/**
 * Where the body of a block whose `-----BEGIN ` starts at `at` begins, with its label: after
 * `-----BEGIN LABEL-----` and a line break. Undefined when no block header starts there.
 */
function headerAt(text: string, at: number): { label: string; bodyStart: number } | undefined {
  let i = at + BEGIN.length;
  while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
  if (i === at + BEGIN.length || !text.startsWith(DASHES, i)) return undefined;
  const label = text.slice(at + BEGIN.length, i);
  i += DASHES.length;
  if (text.charCodeAt(i) === 13) i++; // \r
  return text.charCodeAt(i) === 10 ? { label, bodyStart: i + 1 } : undefined;
}

/** `Name: value` lines at the start of a block's body (RFC 1421 encapsulated headers), and the rest. */
function splitHeaders(body: string): { headers: Record<string, string>; base64: string } {
  const headers: Record<string, string> = {};
  const lines = body.split(/\r?\n/);
  let i = 0;
  for (; i < lines.length; i++) {
    const h = /^([A-Za-z-]+):\s*(.*)$/.exec(lines[i]!);
    if (!h) break;
    headers[h[1]!] = h[2]!;
  }
  return { headers, base64: lines.slice(i).join("") };
}

/**
 * Every PEM block in a text, in order. Comments and text between blocks are ignored, and so is a
 * block without its `-----END` line. A plain scan (no regular expression with a back reference):
 * this runs at every credential-process start, where a cold regular expression costs more than
 * the whole scan.
 * @public
 */
export function parsePemBlocks(data: Uint8Array | string): PemBlock[] {
  const text = typeof data === "string" ? data : Buffer.from(data).toString("latin1");
  const blocks: PemBlock[] = [];
  for (let at = text.indexOf(BEGIN); at >= 0; ) {
    const header = headerAt(text, at);
    const endLine = header ? `-----END ${header.label}-----` : "";
    const end = header ? text.indexOf(endLine, header.bodyStart) : -1;
    if (!header || end < 0) {
      at = text.indexOf(BEGIN, at + 1);
      continue;
    }
    const body = text.slice(header.bodyStart, end);
    // Headers come first, and a header line has a colon, which base64 never does.
    const firstLine = body.split("\n", 1)[0] ?? "";
    const { headers, base64 } = firstLine.includes(":") ? splitHeaders(body) : { headers: {}, base64: body };
    blocks.push({
      label: header.label,
      headers,
      der: Buffer.from(base64.replace(/\s+/g, ""), "base64"),
      text: text.slice(at, end + endLine.length),
    });
    at = text.indexOf(BEGIN, end + endLine.length);
  }
  return blocks;
}

/** Encodes DER as PEM with 64-character lines and a trailing newline. @public */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}
