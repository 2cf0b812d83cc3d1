import { putRole, type RoleResult, validateAdminInput } from "@iam-ra/core/admin";
import { parseAttributeMappings } from "@iam-ra/core/rolesanywhere";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";

export const roleFlags = {
  scope: Flags.string({
    char: "s",
    description: "CA scope whose trust anchor the role trusts (default: default).",
  }),
  policy: Flags.string({ description: "Managed policy ARN to attach (repeatable).", multiple: true }),
  "session-duration": Flags.integer({
    description: "Session duration in seconds, 900–43200 (default 3600).",
    min: 900,
    max: 43200,
  }),
  "binding-tag": Flags.string({
    description: "Certificate attribute the trust policy binds (default x509Subject/OU).",
  }),
  "binding-value": Flags.string({ description: "Value that attribute must have (default: the role name)." }),
  "attribute-mapping": Flags.string({
    description:
      "Which certificate attributes the profile maps into session tags, per field: x509Subject=CN,OU, x509Issuer=CN or x509SAN=DNS,URI,Name/* (repeatable; fields not given keep AWS's defaults), or `default`.",
    multiple: true,
  }),
  "dry-run": Flags.boolean({ description: "Show the change set; change nothing." }),
};

export function printRole(log: (s: string) => void, r: RoleResult) {
  log(`Role ${r.name}: ${r.outcome}`);
  if (r.roleArn) log(`  role ARN     ${r.roleArn}\n  profile ARN  ${r.profileArn}`);
  log(`  binding      aws:PrincipalTag/${r.binding.tag} = ${r.binding.value}`);
  if (r.allowedIssuers)
    log(`  issuers      aws:PrincipalTag/x509Issuer/CN in ${r.allowedIssuers.join(" | ")}`);
  log(`  duration     ${r.sessionDurationSeconds} s; policies: ${r.policies.join(", ") || "none"}`);
  if (r.attributeMappings)
    log(
      `  mappings     ${r.attributeMappings.map((m) => `${m.certificateField}=${m.specifiers.join(",")}`).join("; ")} (other fields: AWS's defaults)`,
    );
  for (const c of r.changes)
    log(
      `  change       ${c.action} ${c.logicalResourceId} (${c.resourceType})${c.replacement === "True" ? " REPLACEMENT" : ""}`,
    );
}

/** What role create and role update share: check the input, deploy, print. */
export async function runRoleCommand(
  cmd: AdminCommand,
  name: string,
  flags: {
    namespace: string;
    region?: string | undefined;
    profile?: string | undefined;
    scope?: string | undefined;
    policy?: string[] | undefined;
    "session-duration"?: number | undefined;
    "binding-tag"?: string | undefined;
    "binding-value"?: string | undefined;
    "attribute-mapping"?: string[] | undefined;
    "dry-run"?: boolean | undefined;
  },
  mode: "create" | "update",
  log: (s: string) => void,
): Promise<RoleResult> {
  validateAdminInput({
    namespace: flags.namespace,
    role: name,
    scope: flags.scope,
    policies: flags.policy,
    sessionDurationSeconds: flags["session-duration"],
    bindingTag: flags["binding-tag"],
  });
  const attributeMappings = parseAttributeMappings(flags["attribute-mapping"]);
  const result = await putRole(await cmd.adminDeps(flags), name, {
    mode,
    scope: flags.scope,
    policies: flags.policy,
    sessionDurationSeconds: flags["session-duration"],
    bindingTag: flags["binding-tag"],
    bindingValue: flags["binding-value"],
    attributeMappings,
    dryRun: flags["dry-run"],
  });
  if (!cmd.jsonEnabled()) printRole(log, result);
  return result;
}

export class RoleCreate extends AdminCommand {
  static override summary =
    "Create an IAM role and its Roles Anywhere profile, bound to certificates issued for it.";
  static override description =
    `The role's trust policy admits only the scope's trust anchor and only certificates whose
bound attribute (default: subject OU) equals the role's value, so a certificate issued for one role
cannot assume another.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> web-reader --policy arn:aws:iam::aws:policy/ReadOnlyAccess",
    "<%= config.bin %> <%= command.id %> deployer --scope ci --session-duration 900 --json",
  ];
  static override args = { name: Args.string({ required: true, description: "Role name." }) };
  static override flags = roleFlags;

  async run(): Promise<RoleResult> {
    const { args, flags } = await this.parse(RoleCreate);
    return await runRoleCommand(this, args.name, flags, "create", (l) => this.log(l));
  }
}
