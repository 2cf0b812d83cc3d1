import { readNamespaceState } from "@iam-ra/core/admin";
import { AdminCommand } from "../../admin-command.ts";
import { Flags } from "../../runtime/flags.ts";
import { formatSerial } from "../../services/serial.ts";
import { formatTable } from "../../services/table.ts";

export interface HostListResult {
  namespace: string;
  items: Array<{
    hostname: string;
    role: string;
    scope: string;
    serialNumber: string | null;
    notAfter: string | null;
    daysLeft: number | null;
    status: "active" | "revoked" | "none";
    secretArn: string | null;
  }>;
}

export class HostList extends AdminCommand {
  static override summary = "List hosts with their certificate's serial and expiry.";
  static override examples = [
    "<%= config.bin %> <%= command.id %> --expiring 30",
    "<%= config.bin %> <%= command.id %> --json",
  ];
  static override flags = {
    expiring: Flags.integer({ description: "Only hosts whose certificate expires within N days.", min: 0 }),
  };

  async run(): Promise<HostListResult> {
    const { flags } = await this.parse(HostList);
    const state = await readNamespaceState(await this.adminDeps(flags));
    const now = Date.now();
    let items: HostListResult["items"] = Object.entries(state.hosts).map(([hostname, h]) => {
      const active = h.certificates.filter((c) => c.status === "active").at(-1);
      const last = active ?? h.certificates.at(-1);
      return {
        hostname,
        role: h.role,
        scope: h.scope,
        serialNumber: last?.serialNumber ?? null,
        notAfter: last?.notAfter ?? null,
        daysLeft: last ? Math.floor((Date.parse(last.notAfter) - now) / 86_400_000) : null,
        status: active ? "active" : last ? "revoked" : "none",
        secretArn: h.secretArn,
      };
    });
    if (flags.expiring !== undefined)
      items = items.filter((i) => i.daysLeft !== null && i.daysLeft <= flags.expiring!);
    if (!this.jsonEnabled())
      this.log(
        formatTable(
          ["HOST", "ROLE", "STATUS", "SERIAL (HEX)", "EXPIRES", "DAYS LEFT"],
          items.map((i) => [
            i.hostname,
            i.role,
            i.status,
            i.serialNumber ? formatSerial(i.serialNumber) : "-",
            i.notAfter ?? "-",
            i.daysLeft === null ? "-" : String(i.daysLeft),
          ]),
        ),
      );
    return { namespace: state.namespace, items };
  }
}
