import { join } from "node:path";
import { BaseCommand } from "../base-command.ts";
import { Flags } from "../runtime/flags.ts";
import type { DemoResult } from "../services/demo.ts";

export class Demo extends BaseCommand {
  static override summary =
    "Run the whole Roles Anywhere flow locally, on the emulator: no AWS account needed.";
  static override description =
    "Starts the emulator on loopback, creates a CA, a trust anchor, roles bound to certificate subjects and a profile, issues a client certificate, writes a throw-away AWS config whose credential_process is `iam-ra credential-process …`, and has stock clients (the AWS SDK for JavaScript and, when installed, the aws CLI) call sts:GetCallerIdentity with it.";
  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --keep",
    "<%= config.bin %> <%= command.id %> --json",
  ];
  static override flags = {
    keep: Flags.boolean({
      description: "Keep the demo's directory (certificates, AWS config) for inspection.",
      env: "IAM_RA_DEMO_KEEP",
    }),
  };

  async run(): Promise<DemoResult> {
    const { flags } = await this.parse(Demo);
    let n = 0;
    const { runDemo } = await import("../services/demo.ts");
    const result = await runDemo({
      nodePath: process.execPath,
      binPath: join(this.config.root, "bin", "run.js"),
      keep: flags.keep === true,
      env: process.env,
      onStep: (s) => {
        if (!this.jsonEnabled()) this.log(`${String(++n).padStart(2)}. ${s.step}\n    ${s.detail}`);
      },
      withAwsEnv: async (vars, fn) => {
        const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
        Object.assign(process.env, vars);
        try {
          return await fn();
        } finally {
          for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
          }
        }
      },
    });
    if (!this.jsonEnabled())
      this.log(
        `\nDone: credentials from a certificate, with no AWS account.${result.workDir ? ` Files kept in ${result.workDir}` : ""}`,
      );
    return result;
  }
}
