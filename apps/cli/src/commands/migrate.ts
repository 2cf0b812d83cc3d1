import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { IamRaError } from "@iam-ra/core";
import { type MigrateResult, migrateNamespace } from "@iam-ra/core/admin";
import { AdminCommand } from "../admin-command.ts";
import { Flags } from "../runtime/flags.ts";

export class Migrate extends AdminCommand {
  static override summary =
    "Bring the namespace's state up to date, including state written by the Python iam-ra.";
  static override description =
    `Reads the state through the same SSM pointer the Python iam-ra wrote, converts its v1/v2
layout, and writes it back in the current version. --ca-key-file imports a self-signed scope's CA key (which
the Python tool kept only on the machine that ran init) into the bucket, sealed with KMS, after checking it
belongs to the scope's certificate. Roles it left unbound and hosts with its host stacks are listed: bind
them with \`iam-ra role update\`, re-issue with \`iam-ra host rotate\`.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> -n default --dry-run",
    "<%= config.bin %> <%= command.id %> -n default --ca-key-file default=~/.local/share/iam-ra/default/scopes/default/ca-private-key.pem --json",
  ];
  static override flags = {
    "ca-key-file": Flags.string({
      description:
        "SCOPE=PATH of a CA private key to import (repeatable). Default: the Python tool's file for each self-signed scope, if present.",
      multiple: true,
    }),
    "dry-run": Flags.boolean({ description: "Report what would change; write nothing." }),
  };

  async run(): Promise<MigrateResult> {
    const { flags } = await this.parse(Migrate);
    const caKeys: Record<string, string> = {};
    for (const spec of flags["ca-key-file"] ?? []) {
      const m = /^([a-z][a-z0-9-]*)=(.+)$/.exec(spec);
      if (!m)
        throw new IamRaError("invalid-input", `--ca-key-file "${spec}" is not SCOPE=PATH.`, {
          hint: "Pass e.g. --ca-key-file default=./ca-private-key.pem",
        });
      const path = m[2]!.replace(/^~(?=\/)/, homedir());
      try {
        caKeys[m[1]!] = await readFile(path, "utf8");
      } catch {
        throw new IamRaError("file-not-found", `The CA key file ${path} cannot be read.`, {
          hint: "Check the path (it is on the machine that ran the Python iam-ra init).",
        });
      }
    }
    const deps = await this.adminDeps(flags);
    if (!flags["ca-key-file"]) {
      // The Python tool's default location, for each scope, when this is that machine.
      const base = join(
        process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"),
        "iam-ra",
        deps.namespace,
        "scopes",
      );
      for (const scope of ["default"]) {
        const file = join(base, scope, "ca-private-key.pem");
        const pem = await readFile(file, "utf8").catch(() => undefined);
        if (pem) caKeys[scope] = pem;
      }
    }
    const result = await migrateNamespace(deps, { caKeys, dryRun: flags["dry-run"] });
    if (!this.jsonEnabled()) {
      this.log(
        result.migratedFrom
          ? `State migrated from ${result.migratedFrom}${result.written ? "" : " (dry run: not written)"}.`
          : "State is current.",
      );
      for (const s of result.scopes)
        this.log(
          `  scope ${s.scope.padEnd(12)} ${s.mode.padEnd(13)} CA key ${s.keyInBucket ? (s.keyImported ? "imported into the bucket" : "in the bucket") : "NOT in the bucket"}${s.issuerTagProblem ? `\n    WARNING: ${s.issuerTagProblem}` : ""}`,
        );
      for (const r of result.unboundRoles)
        this.log(`  role ${r}: unbound — run \`iam-ra role update ${r}\` to bind it to its certificates`);
      for (const h of result.legacyHosts)
        this.log(`  host ${h}: issued by the Python iam-ra — \`iam-ra host rotate ${h}\` re-issues it`);
    }
    return result;
  }
}
