import { IamRaError } from "@iam-ra/core";
import { readNamespaceState } from "@iam-ra/core/admin";
import { AdminCommand } from "../admin-command.ts";
import { Flags } from "../runtime/flags.ts";
import { inOrder } from "../services/concurrency.ts";
import { formatSerial } from "../services/serial.ts";

/** One finding of the live checks. */
export interface StatusCheck {
  level: "ok" | "warn" | "error";
  subject: string;
  message: string;
}

export interface StatusResult {
  namespace: string;
  region: string;
  initialized: boolean;
  bucket: string | null;
  counts: { scopes: number; roles: number; hosts: number; clusters: number; workloads: number };
  checks: StatusCheck[];
}

export class Status extends AdminCommand {
  static override summary =
    "Show the namespace and check it live: stacks, trust anchors, profiles, expiring certificates.";
  static override examples = [
    "<%= config.bin %> <%= command.id %>",
    "<%= config.bin %> <%= command.id %> --expiring 60 --json",
  ];
  static override flags = {
    expiring: Flags.integer({
      description: "Warn about certificates expiring within N days.",
      default: 30,
      min: 0,
    }),
  };

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(Status);
    const deps = await this.adminDeps(flags);
    let state: Awaited<ReturnType<typeof readNamespaceState>>;
    try {
      state = await readNamespaceState(deps);
    } catch (e) {
      if (e instanceof IamRaError && e.code === "not-initialized") {
        const result: StatusResult = {
          namespace: deps.namespace,
          region: deps.region,
          initialized: false,
          bucket: null,
          counts: { scopes: 0, roles: 0, hosts: 0, clusters: 0, workloads: 0 },
          checks: [],
        };
        if (!this.jsonEnabled())
          this.log(`Namespace ${deps.namespace} is not initialised in ${deps.region}.`);
        return result;
      }
      throw e;
    }
    // Every AWS read at once (a round trip each), the checks kept in the order they are listed.
    const stack = async (name: string, subject: string): Promise<StatusCheck[]> => {
      const s = await deps.cfn.describeStack(name);
      if (!s) return [{ level: "error", subject, message: `stack ${name} is missing` }];
      if (!/_COMPLETE$/.test(s.status) || /ROLLBACK/.test(s.status))
        return [{ level: "error", subject, message: `stack ${name} is ${s.status}` }];
      return [{ level: "ok", subject, message: `stack ${s.status}` }];
    };
    const now = Date.now();
    const soon = flags.expiring * 86_400_000;
    const scopeChecks = async (scope: string, ca: (typeof state.cas)[string]): Promise<StatusCheck[]> => {
      const [stackChecks, ta] = await Promise.all([
        stack(ca.stackName, `ca ${scope}`),
        deps.rolesAnywhere.trustAnchor(ca.trustAnchorArn),
      ]);
      const out = [...stackChecks];
      if (!ta) out.push({ level: "error", subject: `ca ${scope}`, message: "trust anchor not found" });
      else if (!ta.enabled)
        out.push({ level: "error", subject: `ca ${scope}`, message: "trust anchor is disabled" });
      if (ca.certificate && Date.parse(ca.certificate.notAfter) - now < soon)
        out.push({
          level: "warn",
          subject: `ca ${scope}`,
          message: `CA certificate expires ${ca.certificate.notAfter}`,
        });
      return out;
    };
    const roleChecks = async (name: string, role: (typeof state.roles)[string]): Promise<StatusCheck[]> => {
      const [stackChecks, p] = await Promise.all([
        stack(role.stackName, `role ${name}`),
        deps.rolesAnywhere.profile(role.profileArn),
      ]);
      const out = [...stackChecks];
      if (!p) out.push({ level: "error", subject: `role ${name}`, message: "profile not found" });
      else if (!p.enabled)
        out.push({ level: "error", subject: `role ${name}`, message: "profile is disabled" });
      else if (!p.roleArns.includes(role.roleArn))
        out.push({ level: "error", subject: `role ${name}`, message: "profile does not list the role" });
      if (!role.binding)
        out.push({
          level: "warn",
          subject: `role ${name}`,
          message: "not bound to certificates (run `iam-ra role update` to bind it)",
        });
      return out;
    };
    // At most 8 at a time: CloudFormation's and Roles Anywhere's read quotas are a few calls a second
    // per account, and the SDK retries what they throttle.
    const checks: StatusCheck[] = (
      await inOrder(
        [
          ...(state.init ? [() => stack(state.init!.stackName, "init")] : []),
          ...Object.entries(state.cas).map(
            ([scope, ca]) =>
              () =>
                scopeChecks(scope, ca),
          ),
          ...Object.entries(state.roles).map(
            ([name, role]) =>
              () =>
                roleChecks(name, role),
          ),
        ],
        8,
      )
    ).flat();
    for (const [hostname, host] of Object.entries(state.hosts)) {
      const active = host.certificates.filter((c) => c.status === "active");
      if (active.length === 0)
        checks.push({ level: "warn", subject: `host ${hostname}`, message: "no active certificate" });
      for (const c of active) {
        const left = Date.parse(c.notAfter) - now;
        if (left < 0)
          checks.push({
            level: "error",
            subject: `host ${hostname}`,
            message: `certificate ${formatSerial(c.serialNumber)} expired ${c.notAfter}`,
          });
        else if (left < soon)
          checks.push({
            level: "warn",
            subject: `host ${hostname}`,
            message: `certificate expires ${c.notAfter} (iam-ra host rotate ${hostname})`,
          });
      }
    }
    const result: StatusResult = {
      namespace: state.namespace,
      region: state.region,
      initialized: true,
      bucket: state.init?.bucketName ?? null,
      counts: {
        scopes: Object.keys(state.cas).length,
        roles: Object.keys(state.roles).length,
        hosts: Object.keys(state.hosts).length,
        clusters: Object.keys(state.k8s.clusters).length,
        workloads: Object.keys(state.k8s.workloads).length,
      },
      checks,
    };
    if (!this.jsonEnabled()) {
      const c = result.counts;
      this.log(`Namespace ${result.namespace} (${result.region}), bucket ${result.bucket}`);
      this.log(
        `  ${c.scopes} CA scopes, ${c.roles} roles, ${c.hosts} hosts, ${c.clusters} clusters, ${c.workloads} workloads`,
      );
      for (const k of checks)
        if (k.level !== "ok") this.log(`  ${k.level.toUpperCase().padEnd(5)} ${k.subject}: ${k.message}`);
      if (checks.every((k) => k.level === "ok")) this.log("  all checks passed");
    }
    // A failed check fails the command (the report is printed all the same), so `status` can gate CI.
    if (checks.some((k) => k.level === "error")) process.exitCode = 1;
    return result;
  }
}
