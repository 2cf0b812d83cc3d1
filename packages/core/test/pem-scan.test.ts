import { describe, expect, it } from "vitest";
import { createTestPki } from "../src/testing/index.ts";
import { parsePemBlocks } from "../src/x509/pem.ts";

/**
 * The parser parsePemBlocks replaced: one regular expression with a back reference. It is the
 * oracle here: the scan must find the same blocks, labels, headers, bytes and text in every input.
 */
function regexParse(text: string) {
  const blocks = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g)) {
    const lines = m[2]!.split(/\r?\n/);
    const headers: Record<string, string> = {};
    let i = 0;
    for (; i < lines.length; i++) {
      const h = /^([A-Za-z-]+):\s*(.*)$/.exec(lines[i]!);
      if (!h) break;
      headers[h[1]!] = h[2]!;
    }
    const der = Buffer.from(lines.slice(i).join("").replace(/\s+/g, ""), "base64");
    blocks.push({ label: m[1]!, headers, der, text: m[0] });
  }
  return blocks;
}

const pki = await createTestPki();
const leaf = await pki.issueLeaf({ subject: "CN=pem", issuer: "root" });
const LEGACY = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "Proc-Type: 4,ENCRYPTED",
  "DEK-Info: AES-256-CBC,8C3B5E8D6F7A9B0C1D2E3F4A5B6C7D8E",
  "",
  "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
  "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==",
  "-----END RSA PRIVATE KEY-----",
].join("\n");

/** Inputs that real files and slips give: the scan and the expression must agree on each. */
const CORPUS: Record<string, string> = {
  certificate: leaf.certificatePem,
  key: leaf.privateKeyPem,
  "certificate, key and chain": `${leaf.certificatePem}${leaf.privateKeyPem}${pki.root.certificatePem}`,
  "CRLF line ends": leaf.certificatePem.replace(/\n/g, "\r\n"),
  "legacy encrypted key with headers": LEGACY,
  "headers, CRLF": LEGACY.replace(/\n/g, "\r\n"),
  "text around and between blocks": `subject=CN=pem\n${leaf.certificatePem}\nBag Attributes: x\n${leaf.privateKeyPem}trailing`,
  "no END line": leaf.certificatePem.replace("-----END CERTIFICATE-----", ""),
  "END of another label": leaf.certificatePem.replace("END CERTIFICATE", "END PRIVATE KEY"),
  "first block unterminated, second whole": `-----BEGIN CERTIFICATE-----\nAAAA\n${leaf.privateKeyPem}`,
  "block inside a block": `-----BEGIN A-----\n${leaf.certificatePem}-----END A-----\n`,
  "lower-case label": "-----BEGIN certificate-----\nAAAA\n-----END certificate-----\n",
  "no label": "-----BEGIN -----\nAAAA\n-----END -----\n",
  "label with digits and spaces":
    "-----BEGIN X9 42 DH PARAMETERS-----\nAAAA\n-----END X9 42 DH PARAMETERS-----",
  "nothing after the BEGIN line's dashes": "-----BEGIN CERTIFICATE-----",
  "text on the BEGIN line": "-----BEGIN CERTIFICATE----- x\nAAAA\n-----END CERTIFICATE-----",
  "lone CR after BEGIN": "-----BEGIN CERTIFICATE-----\rAAAA\n-----END CERTIFICATE-----",
  "empty body": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
  "colon in a base64 line": "-----BEGIN CERTIFICATE-----\nAA:AA\nBBBB\n-----END CERTIFICATE-----",
  "colon on a later line": "-----BEGIN CERTIFICATE-----\nAAAA\nName: value\n-----END CERTIFICATE-----",
  "header then a non-header": "-----BEGIN X-----\nName: v\n x: y\nAAAA\n-----END X-----",
  "header line with a lone CR": "-----BEGIN X-----\nName: v\ralue\nAAAA\n-----END X-----",
  "only a header": "-----BEGIN X-----\nName:\n-----END X-----",
  "tabs and spaces in base64": "-----BEGIN X-----\n AA\tAA \n-----END X-----",
  "unicode spaces in base64": "-----BEGIN X-----\nAA\u00a0AA\u2028BB\n-----END X-----",
  "BEGIN repeated": "-----BEGIN -----BEGIN X-----\nAAAA\n-----END X-----",
  "dash-dash in body": "-----BEGIN X-----\nAA--AA\n-----END Y-----\n-----END X-----",
  empty: "",
};

describe("parsePemBlocks: the scan finds what the former regular expression found", () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(name, () => {
      expect(parsePemBlocks(text)).toEqual(regexParse(text));
      // Bytes are read as latin1, as before.
      const bytes = Buffer.from(text, "utf8");
      expect(parsePemBlocks(bytes)).toEqual(regexParse(bytes.toString("latin1")));
    });
  }

  it("agrees on 3,000 inputs spliced from PEM fragments and noise", () => {
    const fragments = [
      "-----BEGIN ",
      "-----END ",
      "CERTIFICATE",
      "PRIVATE KEY",
      "X 1",
      "-----",
      "\n",
      "\r\n",
      "\r",
      "Proc-Type: 4,ENCRYPTED\n",
      "Name:",
      "MIIB",
      "AA==",
      " ",
      "\t",
      ":",
      "-",
      "a",
      leaf.certificatePem,
      LEGACY,
    ];
    // A fixed-seed generator (mulberry32): the same inputs on every run.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    let withBlocks = 0;
    for (let n = 0; n < 3000; n++) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 14) }, () => {
        return fragments[Math.floor(random() * fragments.length)]!;
      });
      const text = parts.join("");
      const expected = regexParse(text);
      if (expected.length > 0) withBlocks++;
      expect(parsePemBlocks(text), JSON.stringify(text)).toEqual(expected);
    }
    // The splices must reach the interesting cases, not only noise.
    expect(withBlocks).toBeGreaterThan(300);
  });
});
