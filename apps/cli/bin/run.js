#!/usr/bin/env node
// CommonJS (bin/package.json), so a credential-process cache hit never starts Node's ES module
// loader: credential_process runs before every aws CLI call (see bench/). It skips oclif entirely,
// and Node's compile cache (22.1+; absent on 20) spares re-parsing bundles on each run.
"use strict";
require("node:module").enableCompileCache?.();
// A closed pipe (`iam-ra --help | head -1`) ends the output, not the program with an error.
process.stdout.on("error", (error) => {
  if (error.code !== "EPIPE") throw error;
});
const argv = process.argv.slice(2);
// Key text in an argument is readable by every local user (/proc/PID/cmdline, ps) and ends up in
// shell history and debug logs: refuse it on every command, before anything else sees it.
const keyArgument = argv.findIndex((a) =>
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File/.test(a),
);
if (keyArgument !== -1) {
  const flag = /^--?[a-z]/.test(argv[keyArgument]) ? argv[keyArgument].split("=")[0] : argv[keyArgument - 1];
  const message = `A private key was passed on the command line${flag?.startsWith("-") ? ` (${flag})` : ""}; every local user can read a process's arguments.`;
  const hint =
    "Pass the key's file path instead (e.g. --private-key /etc/iam-ra/key.pem or IAM_RA_PRIVATE_KEY=/path), or a pkcs11: URI for a key in hardware.";
  if (argv.includes("--json"))
    process.stdout.write(
      `${JSON.stringify({ error: { name: "IamRaError", code: "invalid-input", message, hint } })}\n`,
    );
  else process.stderr.write(`iam-ra: ${message}\n  hint: ${hint}\n`);
  process.exitCode = 1;
} else if (argv[0] === "credential-process" && !argv.some((a) => a === "--help" || a === "-h")) {
  require("../dist/credential-process.cjs").main(argv.slice(1));
} else if (argv.length === 1 && argv[0] === "--version") {
  // oclif's own format, without loading oclif.
  const { version } = require("../package.json");
  process.stdout.write(
    `@iam-ra/cli/${version} ${process.platform}-${process.arch} node-${process.version}\n`,
  );
} else if (!printSnapshotHelp(argv)) {
  runCommand();
}

/**
 * A known command runs without oclif when the command line is one its parse accepts as it stands
 * (Command.main in src/runtime/command.ts); help, and any command line it leaves, goes to oclif.
 */
function runCommand() {
  const found = findCommand(argv);
  if (!found || argv.some((a) => a === "--help" || a === "-h")) return runOclif(found);
  const root = require("node:path").join(__dirname, "..");
  const config = { root, bin: "iam-ra", version: require("../package.json").version };
  import(`..${found.target.slice(1)}`)
    .then((entry) => entry.COMMANDS[found.id].main(found.id, argv.slice(found.words), config))
    .then(
      (handled) => handled || runOclif(found),
      (error) => reportOutside(error),
    );
}

/** Runs the command line through oclif (`found`: the command it names, when it names one). */
function runOclif(found) {
  const oclif = require("@oclif/core");
  oclif.run(argv, loadOptions(found)).then(
    () => oclif.flush(),
    (error) => {
      // oclif's own exits (help, a command-not-found suggestion) only set the status.
      if (error instanceof oclif.Errors.ExitError) return oclif.handle(error);
      return reportOutside(error);
    },
  );
}

/** Anything that failed outside a command (an unknown command, a hook): the same report as in one. */
async function reportOutside(error) {
  const { reportError } = await import("../dist/index.js");
  const report = reportError(error, { debug: Boolean(process.env.DEBUG) });
  if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(report.json, null, 2)}\n`);
  else process.stderr.write(report.text);
  process.exitCode = report.exit;
}

/**
 * `iam-ra [topic…] [command] --help` (and bare `iam-ra`) from dist/help.json, the pages oclif renders
 * at 80 columns (scripts/help-snapshot.mjs), so help does not load oclif. False when the page is not
 * there (or another width is asked for): oclif renders it.
 */
function printSnapshotHelp(args) {
  if (process.env.IAM_RA_HELP_SNAPSHOT || process.env.OCLIF_COLUMNS) return false;
  const last = args.at(-1);
  const words = args.length === 0 ? [] : last === "--help" || last === "-h" ? args.slice(0, -1) : undefined;
  if (!words || words.some((w) => !/^[a-z][a-z0-9-]*$/.test(w))) return false;
  let pages;
  try {
    ({ pages } = require("../dist/help.json"));
  } catch {
    return false;
  }
  const page = pages[words.join(":")];
  if (page === undefined) return false;
  process.stdout.write(
    page.replaceAll("{{runtime}}", `${process.platform}-${process.arch} node-${process.version}`),
  );
  return true;
}

/**
 * The command a command line names (the longest run of leading words that is a command id in
 * dist/commands.json): its id, its built entry, and how many words name it.
 */
function findCommand(args) {
  let entries;
  try {
    entries = require("../dist/commands.json");
  } catch {
    return undefined;
  }
  const words = [];
  for (const arg of args) {
    if (!/^[a-z][a-z0-9-]*$/.test(arg)) break;
    words.push(arg);
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(":");
    if (entries[id] !== undefined) return { id, target: entries[id], words: n };
  }
  return undefined;
}

/**
 * Where oclif loads from: the package root (one up from bin/), and for a known command its own
 * entry as the explicit target, so only that command's code loads; oclif.manifest.json describes
 * every command, so help, topics and "did you mean" still see all of them.
 */
function loadOptions(found) {
  const root = require("node:path").join(__dirname, "..");
  if (!found) return root;
  const pjson = require("../package.json");
  const commands = { ...pjson.oclif.commands, target: found.target };
  return { root, pjson: { ...pjson, oclif: { ...pjson.oclif, commands } } };
}
