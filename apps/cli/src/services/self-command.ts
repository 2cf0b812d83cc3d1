/**
 * How to run this iam-ra again from another program (a credential_process line, a systemd unit).
 * @module
 */
import { constants } from "node:fs";
import { access, realpath } from "node:fs/promises";
import { join, resolve } from "node:path";

/** Where the running iam-ra is: `process.argv[1]`, the oclif root, `process.execPath`, the cwd. */
export interface SelfLocation {
  argv1: string | undefined;
  root: string;
  execPath: string;
  cwd: string;
}

const isFile = (path: string, mode: number) =>
  access(path, mode).then(
    () => true,
    () => false,
  );

/**
 * The command words that start this iam-ra: the bin as invoked (e.g. `/usr/local/bin/iam-ra`,
 * which survives upgrades) when it is executable, else `node` plus the script.
 */
export async function resolveSelfCommand(self: SelfLocation): Promise<string[]> {
  const script = self.argv1 ? resolve(self.cwd, self.argv1) : join(self.root, "bin", "run.js");
  if (await isFile(script, constants.X_OK)) return [script];
  return [self.execPath, await realpath(script).catch(() => script)];
}

/**
 * The command words for a service manager: the absolute `node` and the real script, because a
 * unit's minimal PATH may not find the `node` of `#!/usr/bin/env node` (nvm, asdf, …).
 */
export async function resolveServiceCommand(self: SelfLocation): Promise<string[]> {
  const script = self.argv1 ? resolve(self.cwd, self.argv1) : join(self.root, "bin", "run.js");
  return [self.execPath, await realpath(script).catch(() => script)];
}
