import { IamRaError } from "../errors.ts";

/**
 * The certificate fields a Roles Anywhere profile maps into session tags.
 * @public
 */
export type CertificateField = "x509Subject" | "x509Issuer" | "x509SAN";

/**
 * One field's mapping rules on a profile: which of its attributes become principal tags
 * (`aws:PrincipalTag/<field>/<attribute>`). `*` maps every supported RDN of a subject or issuer.
 * @public
 */
export interface AttributeMapping {
  certificateField: CertificateField;
  specifiers: string[];
}

const FIELDS: readonly CertificateField[] = ["x509Subject", "x509Issuer", "x509SAN"];
/** Subject and issuer: `*` or an RDN's short name; SAN: a type, or `Name/*`, `Name/<RDN>` (directory name). */
const SPECIFIER: Record<CertificateField, RegExp> = {
  x509Subject: /^(\*|[A-Za-z][A-Za-z0-9]{0,59})$/,
  x509Issuer: /^(\*|[A-Za-z][A-Za-z0-9]{0,59})$/,
  x509SAN: /^(DNS|URI|Name|Name\/|Name\/\*|Name\/[A-Za-z][A-Za-z0-9]{0,54})$/,
};

/**
 * The mappings a new profile gets, as Roles Anywhere shows them: every subject and issuer attribute,
 * the SAN's first DNS name, URI and every attribute of its first directory name.
 * @public
 */
export const DEFAULT_ATTRIBUTE_MAPPINGS: readonly AttributeMapping[] = [
  { certificateField: "x509Subject", specifiers: ["*"] },
  { certificateField: "x509Issuer", specifiers: ["*"] },
  { certificateField: "x509SAN", specifiers: ["DNS", "URI", "Name/*"] },
];

/** A specifier as Roles Anywhere stores (and shows) it: the SAN's `Name` and `Name/` are `Name/*`. @public */
export function storedSpecifier(field: string, specifier: string): string {
  return field === "x509SAN" && (specifier === "Name" || specifier === "Name/") ? "Name/*" : specifier;
}

/**
 * Whether one field's specifiers map an attribute of it (`OU`; `DNS`, `Name/CN` in the SAN) into a
 * session tag: the attribute itself; `*` for every subject or issuer attribute; `Name/*` (or `Name`,
 * `Name/`) for every attribute of the SAN's directory name.
 * @public
 */
export function specifiersMap(field: string, specifiers: readonly string[], attribute: string): boolean {
  if (field !== "x509SAN") return specifiers.includes("*") || specifiers.includes(attribute);
  return specifiers.some(
    (s) => s === attribute || (attribute.startsWith("Name/") && storedSpecifier(field, s) === "Name/*"),
  );
}

const HINT =
  "Pass --attribute-mapping <field>=<specifier>[,<specifier>…] (repeatable), field x509Subject, x509Issuer or x509SAN, e.g. --attribute-mapping x509Subject=CN,OU; or --attribute-mapping default.";

/**
 * Parses `--attribute-mapping` values: `x509Subject=CN,OU` (one per field), or `default` alone for
 * the profile's default mappings (returned as `null`). Empty input: `undefined` (keep what is there).
 * @public
 */
export function parseAttributeMappings(
  values: readonly string[] | undefined,
): AttributeMapping[] | null | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length === 1 && values[0]!.trim() === "default") return null;
  const out: AttributeMapping[] = [];
  for (const value of values) {
    const at = value.indexOf("=");
    const field = (at < 0 ? value : value.slice(0, at)).trim() as CertificateField;
    if (value.trim() === "default")
      throw new IamRaError(
        "invalid-input",
        "--attribute-mapping default cannot be combined with field mappings.",
        {
          hint: HINT,
        },
      );
    if (!FIELDS.includes(field))
      throw new IamRaError("invalid-input", `"${value}" does not name a certificate field.`, { hint: HINT });
    const specifiers = (at < 0 ? "" : value.slice(at + 1))
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    out.push({ certificateField: field, specifiers });
  }
  return checkAttributeMappings(out); // a field given twice, specifier counts and forms
}

/**
 * Checks mappings as Roles Anywhere takes them: known fields, each once, at least one specifier each
 * (at most 50), specifiers of the field's form. Returns them as Roles Anywhere stores them: the
 * SAN's `Name` and `Name/` as `Name/*`, specifiers de-duplicated.
 * @public
 */
export function checkAttributeMappings(mappings: readonly AttributeMapping[]): AttributeMapping[] {
  const seen = new Set<string>();
  return mappings.map((m) => {
    if (!FIELDS.includes(m.certificateField))
      throw new IamRaError("invalid-input", `${m.certificateField} is not a certificate field.`, {
        hint: HINT,
      });
    if (seen.has(m.certificateField))
      throw new IamRaError("invalid-input", `${m.certificateField} is mapped twice.`, { hint: HINT });
    seen.add(m.certificateField);
    const specifiers = [...new Set(m.specifiers.map((s) => storedSpecifier(m.certificateField, s)))];
    if (specifiers.length === 0 || specifiers.length > 50)
      throw new IamRaError("invalid-input", `${m.certificateField} needs 1–50 specifiers.`, { hint: HINT });
    const bad = specifiers.find((s) => !SPECIFIER[m.certificateField].test(s));
    if (bad !== undefined)
      throw new IamRaError("invalid-input", `"${bad}" is not a specifier of ${m.certificateField}.`, {
        hint:
          m.certificateField === "x509SAN"
            ? "x509SAN specifiers are DNS, URI, Name/* (or Name) or Name/<RDN> (e.g. Name/CN)."
            : `${m.certificateField} specifiers are * or an attribute's short name (CN, OU, O, C, L, ST, …).`,
      });
    return { certificateField: m.certificateField, specifiers };
  });
}

/**
 * Whether a profile with these mappings (null: AWS's defaults) turns the certificate attribute
 * behind principal tag `tag` (e.g. `x509Subject/OU`, `x509SAN/DNS`) into a session tag. A field the
 * mappings do not list keeps its default rules.
 * @public
 */
export function mapsPrincipalTag(mappings: readonly AttributeMapping[] | null, tag: string): boolean {
  const slash = tag.indexOf("/");
  const field = tag.slice(0, slash) as CertificateField;
  const attribute = tag.slice(slash + 1);
  // A field the mappings do not list keeps AWS's defaults.
  const rules = (
    mappings?.find((m) => m.certificateField === field) ??
    DEFAULT_ATTRIBUTE_MAPPINGS.find((m) => m.certificateField === field)
  )?.specifiers;
  return rules !== undefined && specifiersMap(field, rules, attribute);
}
