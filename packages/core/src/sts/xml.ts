/**
 * A strict reader for the small XML documents STS answers with (awsQuery protocol): elements,
 * attributes, text, character references, CDATA, comments and the XML declaration. It has no DTD
 * support at all (a DOCTYPE is refused, so no entity can expand) and refuses anything malformed
 * rather than guessing; nesting is capped at 32 levels and the transport caps the body's size. No
 * XML library is a dependency of core (fast-xml-parser only comes with the admin plane's AWS SDK
 * clients): adding one would grow what `fromRolesAnywhere()` installs and what the GitHub Action
 * parses at every start, for two fixed response shapes.
 * @module
 */

/**
 * An element: its name (with any prefix), its child elements in order and its text (the text
 * directly inside it, references decoded).
 * @internal
 */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/** Thrown for a document this reader refuses; the message says where. @internal */
export class XmlSyntaxError extends Error {
  override name = "XmlSyntaxError";
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ATTRIBUTE = /\s+[A-Za-z_][\w.:-]*\s*=\s*("[^"<]*"|'[^'<]*')/y;
const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes `&amp;`-style and numeric references; an unknown or malformed one is an error. */
function decodeText(raw: string, at: number): string {
  if (!raw.includes("&")) return raw;
  return raw.replace(/&([^;]*);?/g, (all, ref: string) => {
    if (!all.endsWith(";")) throw new XmlSyntaxError(`an unterminated reference near offset ${at}`);
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(ref)?.[1] ?? /^#(\d{1,7})$/.exec(ref)?.[1];
    if (code !== undefined) {
      const point = Number.parseInt(code, ref[1] === "x" ? 16 : 10);
      if (point > 0x10ffff || point === 0)
        throw new XmlSyntaxError(`an invalid character reference &${ref};`);
      return String.fromCodePoint(point);
    }
    const named = PREDEFINED[ref];
    if (named === undefined) throw new XmlSyntaxError(`an unknown entity &${ref};`);
    return named;
  });
}

/**
 * Parses a document into its root element.
 * @throws XmlSyntaxError when the text is not a well-formed document of the supported subset.
 * @internal
 */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new XmlSyntaxError(`${what} at offset ${i}`);
  };
  /** Skips whitespace, comments and processing instructions between elements. */
  const skipMisc = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith("<!--", i)) {
        const end = text.indexOf("-->", i + 4);
        if (end < 0) fail("an unterminated comment");
        i = end + 3;
      } else if (text.startsWith("<?", i)) {
        const end = text.indexOf("?>", i + 2);
        if (end < 0) fail("an unterminated declaration");
        i = end + 2;
      } else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) return fail("a missing name");
    i = NAME.lastIndex;
    return m[0];
  };
  /** Parses the element whose `<` is at `i`. */
  const parseElement = (depth: number): XmlElement => {
    if (depth > 32) fail("elements nested too deep");
    i++; // <
    const element: XmlElement = { name: readName(), children: [], text: "" };
    for (ATTRIBUTE.lastIndex = i; ATTRIBUTE.exec(text); ATTRIBUTE.lastIndex = i) i = ATTRIBUTE.lastIndex;
    while (/\s/.test(text[i] ?? "")) i++;
    if (text.startsWith("/>", i)) {
      i += 2;
      return element;
    }
    if (text[i] !== ">") fail(`a malformed start tag <${element.name}>`);
    i++;
    for (;;) {
      const lt = text.indexOf("<", i);
      if (lt < 0) fail(`a missing </${element.name}>`);
      element.text += decodeText(text.slice(i, lt), i);
      i = lt;
      if (text.startsWith("</", i)) {
        i += 2;
        if (readName() !== element.name) fail(`a closing tag that does not match <${element.name}>`);
        while (/\s/.test(text[i] ?? "")) i++;
        if (text[i] !== ">") fail("a malformed end tag");
        i++;
        return element;
      }
      if (text.startsWith("<![CDATA[", i)) {
        const end = text.indexOf("]]>", i + 9);
        if (end < 0) fail("an unterminated CDATA section");
        element.text += text.slice(i + 9, end);
        i = end + 3;
      } else if (text.startsWith("<!--", i)) {
        const end = text.indexOf("-->", i + 4);
        if (end < 0) fail("an unterminated comment");
        i = end + 3;
      } else if (text.startsWith("<!", i) || text.startsWith("<?", i)) {
        fail("a declaration inside an element");
      } else {
        element.children.push(parseElement(depth + 1));
      }
    }
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  skipMisc();
  if (text.startsWith("<!", i)) fail("a DOCTYPE (not supported)");
  if (text[i] !== "<") fail("no root element");
  const root = parseElement(0);
  skipMisc();
  if (i < text.length) fail("content after the root element");
  return root;
}

/** The local part of a name (`sts:Arn` → `Arn`). */
const localName = (name: string) => name.slice(name.indexOf(":") + 1);

/**
 * The child element reached by following `path` (local names) from `element`, or undefined.
 * @internal
 */
export function findElement(element: XmlElement, ...path: string[]): XmlElement | undefined {
  let current: XmlElement | undefined = element;
  for (const name of path) current = current?.children.find((c) => localName(c.name) === name);
  return current;
}
