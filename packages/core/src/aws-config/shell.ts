/**
 * POSIX shell words, as the SDKs read a `credential_process` value: botocore splits it with
 * `shlex.split`, while the JavaScript, Go and Java SDKs hand it to `sh -c`. Single quotes mean the
 * same thing to both, so that is the only quoting {@link quoteShellArg} produces.
 * @module
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument so that `sh -c` and Python's `shlex.split` both read it back unchanged.
 * Plain words are left bare; anything else is single-quoted, with `'` written as `'\''`.
 * @public
 */
export function quoteShellArg(arg: string): string {
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Joins arguments into one command line with {@link quoteShellArg}.
 * @public
 */
export function joinShellArgs(args: readonly string[]): string {
  return args.map(quoteShellArg).join(" ");
}

/**
 * Splits a command line into words the way Python's `shlex.split` (POSIX mode) does, which is how
 * botocore reads `credential_process` and `[profile "name"]` headers.
 * @returns the words, or `undefined` when a quote is not closed (shlex raises there).
 * @public
 */
export function splitShellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\") {
      // A trailing backslash has nothing to escape: shlex raises "No escaped character".
      if (i + 1 >= line.length) return undefined;
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) words.push(word);
  return words;
}
