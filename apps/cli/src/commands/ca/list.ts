import { readNamespaceState } from "@iam-ra/core/admin";
import type { CaScope } from "@iam-ra/core/state";
import { AdminCommand } from "../../admin-command.ts";
import { formatTable } from "../../services/table.ts";

export interface CaListResult {
  namespace: string;
  items: Array<
    { scope: string } & Pick<CaScope, "mode" | "trustAnchorArn" | "pcaArn" | "keyAlgorithm" | "stackName"> & {
        notAfter: string | null;
        revoked: number;
      }
  >;
}

export class CaList extends AdminCommand {
  static override summary = "List CA scopes.";
  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --json",
  ];

  async run(): Promise<CaListResult> {
    const { flags } = await this.parse(CaList);
    const state = await readNamespaceState(await this.adminDeps(flags));
    const items = Object.entries(state.cas).map(([scope, c]) => ({
      scope,
      mode: c.mode,
      trustAnchorArn: c.trustAnchorArn,
      pcaArn: c.pcaArn,
      keyAlgorithm: c.keyAlgorithm,
      stackName: c.stackName,
      notAfter: c.certificate?.notAfter ?? null,
      revoked: c.crl?.revokedSerials.length ?? 0,
    }));
    if (!this.jsonEnabled())
      this.log(
        formatTable(
          ["SCOPE", "MODE", "TRUST ANCHOR ARN"],
          items.map((i) => [i.scope, i.mode, i.trustAnchorArn]),
        ),
      );
    return { namespace: state.namespace, items };
  }
}
