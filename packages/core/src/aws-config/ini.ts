/**
 * A byte-preserving editor for the AWS shared config and credentials files.
 *
 * The INI libraries on npm (`ini`, `@aws-sdk/shared-ini-file-loader`, …) parse into objects and
 * write them back re-formatted: comments, blank lines, CRLF endings, key order and spacing are lost.
 * These files are hand-edited by people and other tools, so here every original line is kept as
 * text and an edit only touches the lines it has to; everything else comes back byte for byte.
 *
 * Lines are classified the way botocore reads them (Python `configparser` with `=`/`:` delimiters,
 * full-line `#`/`;` comments, and continuation lines indented deeper than their key, which is how
 * nested settings such as `s3 =` / `  max_concurrent_requests = 10` are written).
 * @module
 */
import { IamRaError } from "../errors.ts";
import { splitShellWords } from "./shell.ts";

/**
 * Which shared file: `config` names profiles `[profile NAME]` (except `[default]`), `credentials`
 * names them `[NAME]`.
 * @public
 */
export type AwsFileKind = "config" | "credentials";

/**
 * What a line is, as botocore would read it. `other` is a line no reader understands (kept as is).
 * @public
 */
export type AwsIniLineKind = "blank" | "comment" | "section" | "key" | "continuation" | "other";

/**
 * One line of the file, with its original text and line ending.
 * @public
 */
export interface AwsIniLine {
  /** The line without its line ending. */
  readonly text: string;
  /** `"\n"`, `"\r\n"`, or `""` for a last line that has no line ending. */
  readonly eol: "" | "\n" | "\r\n";
  readonly kind: AwsIniLineKind;
  /** For `section` lines: the text between `[` and the last `]`, untrimmed (as botocore reads it). */
  readonly header?: string;
  /** For `key` lines: the key as written. */
  readonly key?: string;
  /** For `key` lines: the value, trimmed. */
  readonly value?: string;
  /** For `key` lines: where the value starts in `text`. */
  readonly valueStart?: number;
}

/**
 * A section: its header line and every line up to the next header.
 * @public
 */
export interface AwsIniSection {
  /** The text between the brackets. */
  readonly header: string;
  /** Index of the header line in {@link AwsIniDocument.lines}. */
  readonly start: number;
  /** Index one past the section's last line. */
  readonly end: number;
}

/**
 * A parsed file. {@link stringifyAwsIni} of it gives back the exact input.
 * @public
 */
export interface AwsIniDocument {
  readonly lines: readonly AwsIniLine[];
  /** Sections in file order; lines before the first header belong to none. */
  readonly sections: readonly AwsIniSection[];
  /** The line ending new lines get: the file's first one, `"\n"` when it has none. */
  readonly eol: "\n" | "\r\n";
  /** Whether the file ends with a line ending (true for an empty file). */
  readonly finalNewline: boolean;
}

/**
 * A profile found in a file.
 * @public
 */
export interface AwsProfileEntry {
  name: string;
  /** The first section's keys, lower-cased as botocore reads them; nested settings are left out. */
  keys: Record<string, string>;
  /** 1-based line of the (first) header. */
  line: number;
  /** How many sections name this profile; more than one breaks botocore (`DuplicateSectionError`). */
  sections: number;
}

/**
 * Options of {@link setProfileKeys}.
 * @public
 */
export interface SetProfileKeysOptions {
  kind: AwsFileKind;
  profile: string;
  /** Keys to set, in the order new ones are appended. */
  keys: Readonly<Record<string, string>>;
  /** Keys to delete from the profile with their nested lines, e.g. a stale alias. Default none. */
  removeKeys?: readonly string[] | undefined;
}

/**
 * The outcome of {@link setProfileKeys}.
 * @public
 */
export interface SetProfileKeysResult {
  text: string;
  /** False when every key already had its value (the text is then the input, unchanged). */
  changed: boolean;
  /** True when the profile's section was appended. */
  created: boolean;
  /**
   * How many further sections name the same profile. The first one is edited; the keys being set
   * are removed from the others so that no reader picks up a stale value.
   */
  duplicateSections: number;
}

/**
 * The outcome of {@link removeProfile}.
 * @public
 */
export interface RemoveProfileResult {
  text: string;
  /** How many sections were removed (0 when the profile was not there). */
  removed: number;
}

const KEY_LINE = /^([ \t]*)([^=:]*?)[ \t]*[=:][ \t]*/;
const PROFILE_NAME = /^[\w@+.%:/-]+$/;
const KEY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

/**
 * Splits a file into classified lines and sections. Never fails: a line no reader understands is
 * kept as `other`.
 * @public
 */
export function parseAwsIni(text: string): AwsIniDocument {
  const lines: AwsIniLine[] = [];
  const sections: AwsIniSection[] = [];
  const pieces = text.split("\n");
  let keyIndent: number | undefined;
  for (let i = 0; i < pieces.length; i++) {
    let piece = pieces[i]!;
    const last = i === pieces.length - 1;
    if (last && piece === "") break;
    let eol: AwsIniLine["eol"] = last ? "" : "\n";
    if (!last && piece.endsWith("\r")) {
      piece = piece.slice(0, -1);
      eol = "\r\n";
    }
    const trimmed = piece.trim();
    const indent = indentOf(piece);
    if (trimmed === "") {
      // configparser keeps a value open across blank lines, so keyIndent survives.
      lines.push({ text: piece, eol, kind: "blank" });
    } else if (trimmed[0] === "#" || trimmed[0] === ";") {
      lines.push({ text: piece, eol, kind: "comment" });
    } else if (keyIndent !== undefined && indent > keyIndent) {
      lines.push({ text: piece, eol, kind: "continuation" });
    } else if (trimmed[0] === "[" && trimmed.lastIndexOf("]") > 1) {
      const header = trimmed.slice(1, trimmed.lastIndexOf("]"));
      lines.push({ text: piece, eol, kind: "section", header });
      keyIndent = undefined;
    } else {
      const m = KEY_LINE.exec(piece);
      if (m && m[2] !== "") {
        lines.push({
          text: piece,
          eol,
          kind: "key",
          key: m[2]!,
          value: piece.slice(m[0].length).trim(),
          valueStart: m[0].length,
        });
        keyIndent = indent;
      } else {
        lines.push({ text: piece, eol, kind: "other" });
        keyIndent = undefined;
      }
    }
  }
  let open: { header: string; start: number } | undefined;
  lines.forEach((line, index) => {
    if (line.kind !== "section") return;
    if (open) sections.push({ ...open, end: index });
    open = { header: line.header!, start: index };
  });
  if (open) sections.push({ ...open, end: lines.length });
  const firstEol = lines.find((l) => l.eol !== "")?.eol;
  return {
    lines,
    sections,
    eol: firstEol === "\r\n" ? "\r\n" : "\n",
    finalNewline: lines.length === 0 || lines.at(-1)!.eol !== "",
  };
}

/**
 * Writes lines back out: the inverse of {@link parseAwsIni}.
 * @public
 */
export function stringifyAwsIni(doc: Pick<AwsIniDocument, "lines">): string {
  let out = "";
  for (const line of doc.lines) out += line.text + line.eol;
  return out;
}

/**
 * The profile a section header names in a file of the given kind, as botocore reads it, or
 * `undefined` for sections that are not profiles (`[sso-session x]`, `[services x]`, a bare `[x]`
 * in the config file).
 * @public
 */
export function profileNameOfHeader(header: string, kind: AwsFileKind): string | undefined {
  if (kind === "credentials") return header;
  if (header === "default") return "default";
  if (!header.startsWith("profile")) return undefined;
  const parts = splitShellWords(header);
  return parts?.length === 2 && parts[0] === "profile" ? parts[1] : undefined;
}

/**
 * The header a new section for `profile` gets: `[default]`, `[profile NAME]` or `[NAME]`.
 * @public
 */
export function sectionHeaderFor(profile: string, kind: AwsFileKind): string {
  return kind === "config" && profile !== "default" ? `[profile ${profile}]` : `[${profile}]`;
}

/**
 * Checks a profile name before a section is written for it. In the config file the name goes in
 * `[profile NAME]` unquoted, so it must be one word of the characters every SDK accepts there. In
 * the credentials file botocore and the AWS CLI also read names with inner spaces (`[my profile]`;
 * the JavaScript SDK does not). Brackets, line breaks, surrounding whitespace and `__proto__` (which
 * the JavaScript SDK refuses) are never allowed.
 * @returns the problem, or `undefined` when the name is fine.
 * @public
 */
export function validateProfileName(profile: string, kind: AwsFileKind): string | undefined {
  const simple = PROFILE_NAME.test(profile);
  const spaced = kind === "credentials" && /^[^\s[\]#;]([^\r\n\0[\]]*[^\s[\]])?$/.test(profile);
  if (!simple && !spaced) {
    return `"${profile}" is not a usable profile name: use letters, digits and _ - . @ + % : / only.`;
  }
  if (profile === "__proto__") return `"__proto__" is not a usable profile name.`;
  return undefined;
}

/**
 * Checks keys and values before they are written: key names, no line breaks, no surrounding
 * whitespace (readers trim it), and no ` #`/` ;` (the JavaScript SDK cuts a value there as a comment).
 * @returns one message per problem; empty when all is well.
 * @public
 */
export function validateProfileKeys(keys: Readonly<Record<string, string>>): string[] {
  const issues: string[] = [];
  for (const [key, value] of Object.entries(keys)) {
    if (!KEY_NAME.test(key)) issues.push(`"${key}" is not a valid key name.`);
    if (/[\r\n\0]/.test(value)) issues.push(`The value of ${key} contains a line break.`);
    else if (value !== value.trim()) issues.push(`The value of ${key} starts or ends with whitespace.`);
    else if (/\s[#;]/.test(value)) {
      issues.push(
        `The value of ${key} contains " #" or " ;", which the AWS SDK for JavaScript reads as a comment.`,
      );
    }
  }
  return issues;
}

function sectionsOf(doc: AwsIniDocument, profile: string, kind: AwsFileKind): AwsIniSection[] {
  return doc.sections.filter((s) => profileNameOfHeader(s.header, kind) === profile);
}

/** Indices of the continuation lines that belong to the key at `index`. */
function continuationsOf(lines: readonly AwsIniLine[], index: number, end: number): number[] {
  const out: number[] = [];
  for (let j = index + 1; j < end; j++) {
    const kind = lines[j]!.kind;
    if (kind === "continuation") out.push(j);
    else if (kind !== "blank" && kind !== "comment") break;
  }
  return out;
}

/** Gives every line but the last an ending, and the last one the file's convention. */
function finish(lines: AwsIniLine[], doc: AwsIniDocument): string {
  const out = lines.map((line, i): AwsIniLine => {
    if (i === lines.length - 1) {
      const eol: AwsIniLine["eol"] = doc.finalNewline ? line.eol || doc.eol : "";
      return eol === line.eol ? line : { ...line, eol };
    }
    return line.eol === "" ? { ...line, eol: doc.eol } : line;
  });
  return stringifyAwsIni({ lines: out });
}

/**
 * Sets keys of one profile: existing values are replaced in place (key spelling, indentation and
 * spacing around `=` kept; nested lines under a replaced key dropped), missing keys are appended
 * after the section's last setting, and a missing section is appended at the end of the file.
 * Keys match case-insensitively, as botocore reads them. Nothing else changes.
 * @throws IamRaError `invalid-input` for a bad profile name, key or value.
 * @public
 */
export function setProfileKeys(text: string, options: SetProfileKeysOptions): SetProfileKeysResult {
  const removeKeys = options.removeKeys ?? [];
  const issues = [
    validateProfileName(options.profile, options.kind),
    ...validateProfileKeys(options.keys),
    ...removeKeys.filter((k) => !KEY_NAME.test(k)).map((k) => `"${k}" is not a valid key name.`),
  ].filter((m): m is string => m !== undefined);
  if (issues.length > 0) {
    throw new IamRaError("invalid-input", issues.join(" "), {
      hint: "Profile names and keys are plain words; values are one line without ' #' or ' ;'.",
    });
  }
  const doc = parseAwsIni(text);
  const wanted = new Map(
    Object.entries(options.keys).map(([k, v]) => [k.toLowerCase(), { key: k, value: v }]),
  );
  const unwanted = new Set(removeKeys.map((k) => k.toLowerCase()).filter((k) => !wanted.has(k)));
  const touches = (line: AwsIniLine) => {
    const name = line.kind === "key" ? line.key!.toLowerCase() : undefined;
    return name !== undefined && (wanted.has(name) || unwanted.has(name));
  };
  const lines: AwsIniLine[] = [...doc.lines];
  const drop = new Set<number>();
  const dropKey = (i: number, end: number) => {
    drop.add(i);
    for (const j of continuationsOf(lines, i, end)) drop.add(j);
  };
  const [first, ...others] = sectionsOf(doc, options.profile, options.kind);

  if (!first) {
    if (wanted.size === 0) return { text, changed: false, created: false, duplicateSections: 0 };
    const added: AwsIniLine[] = [];
    const push = (t: string, kind: AwsIniLineKind) => added.push({ text: t, eol: doc.eol, kind });
    if (lines.length > 0 && lines.at(-1)!.kind !== "blank") push("", "blank");
    push(sectionHeaderFor(options.profile, options.kind), "section");
    for (const { key, value } of wanted.values()) push(`${key} = ${value}`, "key");
    return {
      text: finish([...lines, ...added], doc),
      changed: true,
      created: true,
      duplicateSections: 0,
    };
  }

  const seen = new Set<string>();
  let lastSetting = first.start;
  let style: { indent: string; sep: string } | undefined;
  for (let i = first.start + 1; i < first.end; i++) {
    const line = lines[i]!;
    if (line.kind === "key" || line.kind === "continuation" || line.kind === "other") lastSetting = i;
    if (line.kind !== "key") continue;
    if (!style && line.value !== "") {
      const m = /^([ \t]*)\S.*?([ \t]*=[ \t]*)$/.exec(line.text.slice(0, line.valueStart));
      style = m ? { indent: m[1]!, sep: m[2]! } : { indent: "", sep: " = " };
    }
    if (!touches(line)) continue;
    const name = line.key!.toLowerCase();
    const target = wanted.get(name);
    if (!target || seen.has(name)) {
      // Removed, or repeated (botocore refuses a repeated key, the JavaScript SDK takes the last).
      dropKey(i, first.end);
      continue;
    }
    seen.add(name);
    const nested = continuationsOf(lines, i, first.end);
    if (line.value === target.value && nested.length === 0) continue;
    const prefix =
      line.value === ""
        ? `${line.text.slice(0, line.valueStart).trimEnd()} `
        : line.text.slice(0, line.valueStart);
    lines[i] = { ...line, text: prefix + target.value, value: target.value };
    for (const j of nested) drop.add(j);
  }
  for (const section of others) {
    for (let i = section.start + 1; i < section.end; i++) {
      if (touches(lines[i]!)) dropKey(i, section.end);
    }
  }
  const { indent, sep } = style ?? { indent: "", sep: " = " };
  const inserted: AwsIniLine[] = [...wanted.entries()]
    .filter(([name]) => !seen.has(name))
    .map(([, { key, value }]) => ({ text: `${indent}${key}${sep}${value}`, eol: doc.eol, kind: "key" }));
  const out: AwsIniLine[] = [];
  lines.forEach((line, i) => {
    if (!drop.has(i)) out.push(line);
    if (i === lastSetting) out.push(...inserted);
  });
  const result = finish(out, doc);
  return { text: result, changed: result !== text, created: false, duplicateSections: others.length };
}

/**
 * Removes every section that names `profile`, with the blank lines that separated it; comments
 * after its last setting (which usually describe the next section) stay.
 * @public
 */
export function removeProfile(
  text: string,
  options: { kind: AwsFileKind; profile: string },
): RemoveProfileResult {
  const doc = parseAwsIni(text);
  const found = sectionsOf(doc, options.profile, options.kind);
  if (found.length === 0) return { text, removed: 0 };
  const { lines } = doc;
  const drop = new Set<number>();
  for (const section of found) {
    let last = section.start;
    for (let i = section.start + 1; i < section.end; i++) {
      const kind = lines[i]!.kind;
      if (kind !== "blank" && kind !== "comment") last = i;
    }
    let after = last + 1;
    while (after < lines.length && lines[after]!.kind === "blank") after++;
    let from = section.start;
    if (after === lines.length) {
      while (from > 0 && lines[from - 1]!.kind === "blank") from--;
    }
    for (let i = from; i < after; i++) drop.add(i);
  }
  const kept = lines.filter((_, i) => !drop.has(i));
  return { text: kept.length === 0 ? "" : finish(kept, doc), removed: found.length };
}

/**
 * Lists the profiles of a file in order of first appearance.
 * @public
 */
export function listProfiles(text: string, kind: AwsFileKind): AwsProfileEntry[] {
  const doc = parseAwsIni(text);
  const byName = new Map<string, AwsProfileEntry>();
  for (const section of doc.sections) {
    const name = profileNameOfHeader(section.header, kind);
    if (name === undefined) continue;
    const existing = byName.get(name);
    if (existing) {
      existing.sections++;
      continue;
    }
    const keys: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (let i = section.start + 1; i < section.end; i++) {
      const line = doc.lines[i]!;
      const key = line.key?.toLowerCase();
      if (line.kind !== "key" || key === undefined || seen.has(key)) continue;
      seen.add(key);
      keys.push([key, line.value!]);
    }
    byName.set(name, { name, keys: Object.fromEntries(keys), line: section.start + 1, sections: 1 });
  }
  return [...byName.values()];
}
