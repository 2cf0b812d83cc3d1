// Generates docs/cli-reference.md from the oclif command metadata (summary, description, args,
// flags with their env vars and defaults, examples) of the built CLI. Run after a build:
//   node scripts/cli-reference.mjs > ../../docs/cli-reference.md
// test/cli-reference.test.ts fails when the committed file is out of date.
import { Config } from "@oclif/core";

const config = await Config.load({ root: new URL("..", import.meta.url).pathname });
const bin = config.bin;
const render = (text) => (text ?? "").replaceAll("<%= config.bin %>", bin);
const commands = [...config.commands].filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id));
const out = [
  "# CLI reference",
  "",
  `Generated from the oclif metadata of \`${bin}\` by \`apps/cli/scripts/cli-reference.mjs\`; do not edit by hand.`,
  'Every command also takes `--json` (a typed document on stdout; errors as `{"error": {name, code, message, hint}}`) and `--help` (or `-h`, anywhere on the line).',
  'Without `--json` an error is one line, `iam-ra: <what is wrong>`, then `  hint: <what to do>`, on stderr (set `DEBUG=iam-ra*` for a stack). Exit status: 1 for an error, 2 for a command line iam-ra cannot run (unknown command or flag, missing argument, bad flag value; a mistyped command gets a "did you mean"). Serial numbers are shown to people in lowercase hexadecimal without colons (`openssl x509 -serial`, lowercased); `--json` keeps them in decimal.',
  "",
  ...commands.map(
    (c) => `- [\`${bin} ${c.id.replaceAll(":", " ")}\`](#${`${bin}-${c.id.replaceAll(":", "-")}`})`,
  ),
  "",
];
for (const c of commands) {
  const id = c.id.replaceAll(":", " ");
  out.push(`## ${bin} ${id}`, "");
  if (c.summary) out.push(render(c.summary), "");
  if (c.description) out.push(render(c.description), "");
  const args = Object.entries(c.args ?? {});
  // A command that is not strict takes its last argument any number of times (oclif's `NAME...`).
  const usage = [
    `${bin} ${id}`,
    ...args.map(([name, a], i) => {
      const word = `${name.toUpperCase()}${c.strict === false && i === args.length - 1 ? "..." : ""}`;
      return a.required ? word : `[${word}]`;
    }),
  ];
  out.push("```", `${usage.join(" ")} [FLAGS]`, "```", "");
  for (const [name, a] of args)
    out.push(`- \`${name.toUpperCase()}\`${a.required ? " (required)" : ""}: ${a.description ?? ""}`);
  if (args.length) out.push("");
  const flags = Object.entries(c.flags ?? {}).filter(([name, f]) => !f.hidden && name !== "json");
  if (flags.length) {
    out.push("| flag | env | default | description |", "| --- | --- | --- | --- |");
    for (const [name, f] of flags.sort(([a], [b]) => a.localeCompare(b))) {
      const flag = `\`--${name}\`${f.char ? ` / \`-${f.char}\`` : ""}${f.required ? " (required)" : ""}${f.multiple ? " (repeatable)" : ""}`;
      const options = f.options ? ` One of: ${f.options.join(", ")}.` : "";
      const desc = `${(f.description ?? "").replace(/\s*\[env: [^\]]+\]/, "")}${options}`
        .replaceAll("|", "\\|")
        .replaceAll("\n", " ");
      const def = f.default === undefined || typeof f.default === "function" ? "" : `\`${f.default}\``;
      out.push(`| ${flag} | ${f.env ? `\`${f.env}\`` : ""} | ${def} | ${desc} |`);
    }
    out.push("");
  }
  const examples = (c.examples ?? []).map((e) => (typeof e === "string" ? e : e.command));
  if (examples.length)
    out.push(
      "Examples:",
      "",
      "```sh",
      ...examples.map((e) => render(e).replaceAll("<%= command.id %>", id)),
      "```",
      "",
    );
}
process.stdout.write(`${out.join("\n").trimEnd()}\n`);
