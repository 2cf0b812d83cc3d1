#!/usr/bin/env node
// prepack/postpack of every public package: the repository's LICENSE goes into the package folder
// for `pnpm pack`/`publish`, then is removed again (one LICENSE in git, at the root).
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const license = fileURLToPath(new URL("../LICENSE", import.meta.url));
const target = join(process.cwd(), "LICENSE");
if (process.argv[2] === "--remove") rmSync(target, { force: true });
else copyFileSync(license, target);
