// Pure readers for docs-commands.test.ts: the shell commands printed in the docs, the commands and flags
// of docs/cli-reference.md (generated from the oclif metadata and checked by cli-reference.test.ts),
// and the check of one against the other.

/** One `iam-ra …` command printed in a doc. */
export interface DocCommand {
  /** `docs/admin.md:42`: where the command's line starts. */
  where: string;
  /** The command as printed (continuation lines joined). */
  text: string;
  /** Its words after `iam-ra`, with quotes removed. */
  argv: string[];
}

/** A command of docs/cli-reference.md. */
export interface ReferenceCommand {
  /** `host onboard`. */
  id: string;
  /** Long flag names, without `--`. */
  flags: Set<string>;
  /** Short flag characters. */
  chars: Set<string>;
  args: Array<{ name: string; required: boolean; variadic: boolean }>;
}

/** Fence info strings whose blocks are shell a reader pastes. */
const SHELL_INFOS = new Set(["sh", "bash", "shell", "console", "shell-session"]);
/** Words that run the next word as the command. */
const WRAPPERS = new Set(["sudo", "exec", "env", "time", "nohup", "command"]);
/** Stand-ins for what the reader fills in or leaves out. */
const isPlaceholder = (word: string) => word === "…" || word === "...";

/** The fenced code blocks of a markdown file, with their info string and first line number. */
export function readFencedBlocks(markdown: string): Array<{ info: string; line: number; body: string[] }> {
  const blocks: Array<{ info: string; line: number; body: string[] }> = [];
  let open: { fence: string; info: string; line: number; body: string[] } | undefined;
  markdown.split("\n").forEach((text, i) => {
    if (!open) {
      const m = /^\s*(`{3,}|~{3,})\s*([^`\s]*)/.exec(text);
      if (m) open = { fence: m[1]!, info: m[2]!.toLowerCase(), line: i + 2, body: [] };
    } else if (text.trim().startsWith(open.fence) && /^[`~]+$/.test(text.trim())) {
      blocks.push({ info: open.info, line: open.line, body: open.body });
      open = undefined;
    } else open.body.push(text);
  });
  return blocks;
}

/** Shell words and operators of one logical line; `#` comments dropped, quotes removed. */
export function tokenizeShell(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const push = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      const stop = end === -1 ? line.length : end;
      word = (word ?? "") + line.slice(i + 1, stop);
      i = stop;
    } else if (c === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(c)) push();
    else if (c === "#" && word === undefined) break;
    else if ("|&;<>".includes(c)) {
      // A file descriptor before a redirection (`2>&1`) belongs to it, not to the command.
      if ("<>".includes(c) && word !== undefined && /^\d$/.test(word)) word = undefined;
      push();
      const op = /^(\|\||&&|>>|\d?>&\d|[|&;<>])/.exec(line.slice(i))![0];
      words.push(op);
      i += op.length - 1;
    } else word = (word ?? "") + c;
  }
  push();
  return words;
}

/** The `$(…)` command substitutions of a line (outermost first), as lines of their own. */
function substitutions(line: string): string[] {
  const found: string[] = [];
  for (let i = line.indexOf("$("); i !== -1; i = line.indexOf("$(", i + 2)) {
    let depth = 0;
    for (let j = i + 1; j < line.length; j++) {
      if (line[j] === "(") depth++;
      else if (line[j] === ")" && --depth === 0) {
        found.push(line.slice(i + 2, j));
        break;
      }
    }
  }
  return found;
}

/** The `iam-ra` invocations of one logical shell line, each as its words after `iam-ra`. */
export function findIamRaInvocations(line: string): string[][] {
  const found: string[][] = [];
  for (const inner of substitutions(line)) found.push(...findIamRaInvocations(inner));
  let segment: string[] = [];
  const flush = () => {
    let k = 0;
    while (k < segment.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(segment[k]!) || WRAPPERS.has(segment[k]!)))
      k++;
    const program = segment[k];
    if (program !== undefined && /(^|\/)iam-ra$/.test(program)) found.push(segment.slice(k + 1));
    segment = [];
  };
  const words = tokenizeShell(line);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (["|", "||", "&&", ";", "&"].includes(w)) flush();
    else if (/^(\d?>&\d|>>|[<>])$/.test(w)) {
      if (!w.includes("&")) i++; // the redirection's target
    } else segment.push(w);
  }
  flush();
  return found;
}

/**
 * Every `iam-ra …` command in a markdown file: in sh/bash/shell/console fences (console: the `$ `
 * lines only), `credential_process = …` lines of ini fences, and `iam-ra …` inline code when
 * `inline` is set.
 */
export function extractDocCommands(
  file: string,
  markdown: string,
  options: { inline?: boolean } = {},
): DocCommand[] {
  const commands: DocCommand[] = [];
  const add = (line: number, text: string) => {
    for (const argv of findIamRaInvocations(text)) commands.push({ where: `${file}:${line}`, text, argv });
  };
  for (const block of readFencedBlocks(markdown)) {
    if (block.info === "ini") {
      block.body.forEach((text, i) => {
        const m = /^\s*credential_process\s*=\s*(.*)$/.exec(text);
        if (m) add(block.line + i, m[1]!);
      });
      continue;
    }
    if (!SHELL_INFOS.has(block.info)) continue;
    const consoleBlock = block.info === "console" || block.info === "shell-session";
    for (let i = 0; i < block.body.length; i++) {
      const start = i;
      let text = block.body[i]!;
      while (/\\$/.test(text) && i + 1 < block.body.length)
        text = `${text.slice(0, -1).trimEnd()} ${block.body[++i]!.trim()}`;
      if (consoleBlock) {
        if (!text.startsWith("$ ")) continue;
        text = text.slice(2);
      }
      add(block.line + start, text);
    }
  }
  if (options.inline) {
    const lines = markdown.split("\n");
    lines.forEach((text, i) => {
      for (const m of text.matchAll(/`(iam-ra [^`]+)`/g)) add(i + 1, m[1]!);
    });
  }
  return commands;
}

/** The commands, flags and arguments docs/cli-reference.md documents. */
export function parseCliReference(markdown: string): Map<string, ReferenceCommand> {
  const commands = new Map<string, ReferenceCommand>();
  for (const section of markdown.split(/^## /m).slice(1)) {
    const id = /^iam-ra (.+)$/m.exec(section)?.[1]?.trim();
    if (!id) continue;
    const command: ReferenceCommand = { id, flags: new Set(), chars: new Set(), args: [] };
    const usage = new RegExp(`^iam-ra ${id}( .*)? \\[FLAGS\\]$`, "m").exec(section)?.[1] ?? "";
    for (const arg of usage.trim().split(" ").filter(Boolean)) {
      const name = arg.replace(/[[\]]/g, "");
      command.args.push({
        name: name.replace(/\.\.\.$/, ""),
        required: !arg.startsWith("["),
        variadic: name.endsWith("..."),
      });
    }
    for (const m of section.matchAll(/^\| `--([a-z0-9-]+)`(?: \/ `-(\w)`)?/gm)) {
      command.flags.add(m[1]!);
      if (m[2]) command.chars.add(m[2]);
    }
    commands.set(id, command);
  }
  return commands;
}

/** Flags every command takes (oclif's and BaseCommand's `--json`), besides its own. */
const EVERY_COMMAND = new Set(["help", "json"]);

/** The reference command `iam-ra <argv>` runs (the longest match of its leading words), and the rest. */
export function findCommand(
  argv: string[],
  reference: Map<string, ReferenceCommand>,
): { command: ReferenceCommand; rest: string[] } | undefined {
  const words = argv.filter((w) => !isPlaceholder(w));
  for (let n = Math.min(3, words.length); n >= 1; n--) {
    const command = reference.get(words.slice(0, n).join(" "));
    if (command) return { command, rest: words.slice(n) };
  }
  return undefined;
}

/**
 * What is wrong with `iam-ra <argv>` according to the reference, or an empty list: an unknown
 * command or topic, a flag the command does not have, brackets around an optional flag, or
 * arguments in a number it does not take (counted before the first flag, where the docs put them).
 */
export function checkInvocation(argv: string[], reference: Map<string, ReferenceCommand>): string[] {
  const words = argv.filter((w) => !isPlaceholder(w));
  if (words.length === 0) return ["no command"];
  if (words[0] === "--version" || words[0] === "--help") return [];
  const found = findCommand(argv, reference);
  if (!found) {
    const firstFlag = words.findIndex((w) => w.startsWith("-"));
    const topic = words.slice(0, firstFlag === -1 ? words.length : firstFlag).join(" ");
    const isTopic = [...reference.keys()].some((id) => id.startsWith(`${topic} `));
    if (isTopic && words.includes("--help")) return [];
    return [`no command \`iam-ra ${topic}\` in docs/cli-reference.md`];
  }
  const { command, rest } = found;
  const problems: string[] = [];
  for (const word of rest) {
    if (word === "--") break;
    if (/^\[-/.test(word)) {
      problems.push(
        `\`${word}\`: brackets for an optional flag are not shell (a reader's paste passes them on)`,
      );
    } else if (word.startsWith("--")) {
      const name = word.slice(2).split("=")[0]!;
      if (!command.flags.has(name) && !EVERY_COMMAND.has(name))
        problems.push(`\`iam-ra ${command.id}\` has no flag --${name}`);
    } else if (/^-[A-Za-z]/.test(word)) {
      const char = word[1]!;
      if (!command.chars.has(char) && char !== "h")
        problems.push(`\`iam-ra ${command.id}\` has no flag -${char}`);
    }
  }
  const firstFlag = rest.findIndex((w) => w.startsWith("-"));
  const leading = firstFlag === -1 ? rest.length : firstFlag;
  const required = command.args.filter((a) => a.required).length;
  const omitted = argv.some(isPlaceholder) || rest.includes("--help");
  const variadic = command.args.at(-1)?.variadic === true;
  if (leading > command.args.length && !variadic)
    problems.push(`\`iam-ra ${command.id}\` takes ${command.args.length} argument(s), not ${leading}`);
  else if (leading < required && !omitted)
    problems.push(`\`iam-ra ${command.id}\` needs ${command.args.map((a) => a.name).join(" ")}`);
  return problems;
}
