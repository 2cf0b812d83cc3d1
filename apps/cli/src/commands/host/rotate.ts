import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { type HostCommandResult, hostIssueFlags, issueHost } from "./onboard.ts";

export class HostRotate extends AdminCommand {
  static override summary =
    "Replace a host's certificate (and key, unless --csr): secret, files and state all updated.";
  static override examples = [
    "<%= config.bin %> <%= command.id %> web-1.example.com --output-dir ./web-1 --revoke-previous",
    "<%= config.bin %> <%= command.id %> build-7 --csr build-7.csr --json",
  ];
  static override args = { hostname: Args.string({ required: true, description: "Host name." }) };
  static override flags = {
    ...hostIssueFlags,
    role: Flags.string({ char: "R", description: "Move the host to another role." }),
    "revoke-previous": Flags.boolean({ description: "Revoke the certificate being replaced." }),
  };

  async run(): Promise<HostCommandResult> {
    const { args, flags } = await this.parse(HostRotate);
    return await issueHost(this, args.hostname, flags, "rotate");
  }
}
