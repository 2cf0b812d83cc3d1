/** Roles: `role create|update` (one stack: IAM role + Roles Anywhere profile) and `role delete`. @module */
import { type DeployResult, deleteStack, deployStack } from "../cloudformation/deploy.ts";
import { iamRoleName, stackName, validateName } from "../cloudformation/names.ts";
import { roleTemplate } from "../cloudformation/templates.ts";
import { IamRaError } from "../errors.ts";
import {
  type AttributeMapping,
  checkAttributeMappings,
  mapsPrincipalTag,
} from "../rolesanywhere/attribute-mappings.ts";
import type { CaScope, Role, State } from "../state/schema.ts";
import { allowedIssuersFor } from "./issuers.ts";
import { deployOptions, eventsFor, nsTags, openNamespace, requireState } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";
import { offboardHost } from "./revoke.ts";

/** Options of {@link putRole}. @public */
export interface RoleOptions {
  /** Required to create; kept from state on update when omitted. */
  scope?: string | undefined;
  /** Managed policy ARNs; omitted on update = keep the current ones (never silently detached). */
  policies?: string[] | undefined;
  sessionDurationSeconds?: number | undefined;
  /** e.g. `x509Subject/OU` (default) or `x509Subject/CN`. */
  bindingTag?: string | undefined;
  /** Default: the role name. */
  bindingValue?: string | undefined;
  /**
   * The profile's attribute mappings (fields listed replace AWS's default rules for those fields);
   * `null`: back to AWS's defaults; omitted on update: keep the current ones.
   */
  attributeMappings?: AttributeMapping[] | null | undefined;
  dryRun?: boolean | undefined;
  /** `create`: refuse if it exists; `update`: refuse if it does not; `put`: either. */
  mode: "create" | "update" | "put";
}

/** What `role create|update` did. @public */
export interface RoleResult {
  outcome: DeployResult["outcome"];
  name: string;
  roleArn: string | null;
  profileArn: string | null;
  scope: string;
  binding: { tag: string; value: string };
  /** The issuer CNs the trust policy admits (null: not bound to issuers, e.g. Private CA scopes). */
  allowedIssuers: string[] | null;
  policies: string[];
  sessionDurationSeconds: number;
  /** The profile's attribute mappings iam-ra set; null: AWS's defaults. */
  attributeMappings: AttributeMapping[] | null;
  changes: DeployResult["changes"];
}

const POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;

/** A validated `role create|update`: what {@link putRole} deploys. @public */
export interface RolePlan {
  /** The role as state has it now (undefined: it is created). */
  current: Role | undefined;
  scope: string;
  ca: CaScope;
  policies: string[];
  sessionDurationSeconds: number;
  binding: { tag: string; value: string };
  stackName: string;
  /** The issuer CNs the trust policy admits (null: not bound to issuers). */
  allowedIssuers: string[] | null;
  /** The profile's attribute mappings; null: AWS's defaults. */
  attributeMappings: AttributeMapping[] | null;
}

/**
 * Checks a role change against state and fills in what is kept (scope, policies, duration,
 * binding); throws what `putRole` would refuse, before any AWS call. Pure.
 * @public
 */
export function planRole(state: State, name: string, options: RoleOptions): RolePlan {
  validateName("role", name, state.namespace);
  const current = state.roles[name];
  if (options.mode === "create" && current) {
    throw new IamRaError("already-exists", `Role ${name} already exists.`, {
      hint: `Use \`iam-ra role update ${name}\` to change it.`,
    });
  }
  if (options.mode === "update" && !current) {
    throw new IamRaError("not-found", `There is no role ${name}.`, {
      hint: `Create it with \`iam-ra role create ${name} --scope …\`.`,
    });
  }
  const scope = options.scope ?? current?.scope ?? "default";
  const ca = state.cas[scope];
  if (!ca)
    throw new IamRaError("not-found", `There is no CA scope ${scope}.`, {
      hint: "Create it with `iam-ra ca setup --scope …`, or pass another --scope.",
    });
  const policies = options.policies ?? current?.policies ?? [];
  for (const p of policies) {
    if (!POLICY_ARN.test(p))
      throw new IamRaError("invalid-input", `"${p}" is not a managed policy ARN.`, {
        hint: "Pass e.g. arn:aws:iam::aws:policy/ReadOnlyAccess.",
      });
  }
  const duration = options.sessionDurationSeconds ?? current?.sessionDurationSeconds ?? 3600;
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw new IamRaError("duration-invalid", `Session duration ${duration} is outside 900–43200 seconds.`, {
      hint: "Pass --session-duration between 900 and 43200.",
    });
  }
  const tag = options.bindingTag ?? current?.binding?.tag ?? "x509Subject/OU";
  if (!/^x509(Subject|Issuer|SAN)\/[A-Za-z]+$/.test(tag)) {
    throw new IamRaError("invalid-input", `"${tag}" is not a certificate principal tag.`, {
      hint: "Use x509Subject/OU (default), x509Subject/CN or another x509Subject/<attribute>.",
    });
  }
  const value = options.bindingValue ?? current?.binding?.value ?? name;
  const attributeMappings =
    options.attributeMappings === undefined
      ? (current?.attributeMappings ?? null)
      : options.attributeMappings && checkAttributeMappings(options.attributeMappings);
  const allowedIssuers = allowedIssuersFor(state, name, scope, tag);
  // A trust policy keyed on a tag the profile does not map could never be satisfied.
  for (const key of [tag, ...(allowedIssuers ? ["x509Issuer/CN"] : [])]) {
    if (!mapsPrincipalTag(attributeMappings, key)) {
      throw new IamRaError(
        "invalid-input",
        `The attribute mappings do not map ${key}, which role ${name}'s trust policy requires: no certificate could assume it.`,
        {
          hint: `Add it, e.g. --attribute-mapping ${key.split("/")[0]}=${key.split("/").slice(1).join("/")}, or use --attribute-mapping default.`,
        },
      );
    }
  }
  return {
    current,
    scope,
    ca,
    policies,
    sessionDurationSeconds: duration,
    binding: { tag, value },
    stackName: stackName(state.namespace, "role", name),
    allowedIssuers,
    attributeMappings,
  };
}

/** Creates or updates a role and its profile (one stack); records it. @public */
export async function putRole(deps: AdminDeps, name: string, options: RoleOptions): Promise<RoleResult> {
  validateName("role", name, deps.namespace);
  const ns = await openNamespace(deps);
  const plan = planRole(await requireState(ns), name, options);
  const { current, scope, ca, policies, sessionDurationSeconds: duration, stackName: stack } = plan;
  const { tag, value } = plan.binding;
  // The issuers a trust policy admits come from state, and a deploy takes minutes: should a
  // concurrent `k8s onboard`/`offboard` change them meanwhile, deploy again with the latest list,
  // so the last deploy always matches state (an offboarded namespace never stays trusted).
  let issuers = plan.allowedIssuers;
  for (let round = 1; ; round++) {
    deps.progress(`Deploying ${stack} (IAM role ${iamRoleName(deps.namespace, name)}, profile)`);
    const deployed = await deployStack({
      ...deployOptions(deps),
      stackName: stack,
      template: roleTemplate({
        namespace: deps.namespace,
        role: name,
        bindingTag: tag,
        issuerBinding: issuers !== null,
        attributeMappings: plan.attributeMappings ?? undefined,
      }),
      parameters: {
        TrustAnchorArn: ca.trustAnchorArn,
        BindingValue: value,
        SessionDuration: String(duration),
        MaxSessionDuration: String(Math.max(3600, duration)),
        ManagedPolicyArns: policies.join(","),
        ...(issuers ? { AllowedIssuers: issuers.join(",") } : {}),
      },
      tags: nsTags(deps, { "iam-ra:role": name, "iam-ra:scope": scope }),
      dryRun: options.dryRun,
      onEvent: eventsFor(deps, stack),
    });
    const result: RoleResult = {
      outcome: deployed.outcome,
      name,
      roleArn: deployed.outputs.RoleArn ?? current?.roleArn ?? null,
      profileArn: deployed.outputs.ProfileArn ?? current?.profileArn ?? null,
      scope,
      binding: { tag, value },
      allowedIssuers: issuers,
      policies,
      sessionDurationSeconds: duration,
      attributeMappings: plan.attributeMappings,
      changes: deployed.changes,
    };
    if (deployed.outcome === "dry-run") return result;
    const now = deps.clock.now().toISOString();
    const deployedIssuers = issuers;
    const { result: latest } = await ns.store.update((draft) => {
      const before = draft.roles[name];
      // Deleted (`role delete`) while this update deployed: do not bring the record back.
      if (options.mode === "update" && !before) return "deleted" as const;
      const record: Role = {
        stackName: stack,
        roleArn: result.roleArn!,
        profileArn: result.profileArn!,
        scope,
        policies,
        sessionDurationSeconds: duration,
        binding: { tag, value },
        ...(deployedIssuers ? { allowedIssuers: deployedIssuers } : {}),
        ...(plan.attributeMappings ? { attributeMappings: plan.attributeMappings } : {}),
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
      draft.roles[name] = record;
      return allowedIssuersFor(draft, name, scope, tag);
    });
    if (latest === "deleted") {
      // The deploy may have brought the deleted stack back: take it down again.
      deps.progress(`Role ${name} was deleted meanwhile; deleting ${stack} again`);
      await deleteStack({ ...deployOptions(deps), stackName: stack, onEvent: eventsFor(deps, stack) });
      throw new IamRaError("not-found", `Role ${name} was deleted while this update ran.`, {
        hint: "Nothing is left of it; create it again with `iam-ra role create` if it is still wanted.",
      });
    }
    if (JSON.stringify(latest) === JSON.stringify(issuers)) return result;
    if (round >= 5) {
      throw new IamRaError(
        "state-conflict",
        `The issuers role ${name} must trust kept changing while it was deployed (${round} rounds).`,
        { hint: `Let the other admin commands finish, then run \`iam-ra role update ${name}\`.` },
      );
    }
    deps.progress(`The namespace issuers of role ${name} changed during the deploy; deploying again`);
    issuers = latest;
  }
}

/**
 * Checks a role deletion against state: refuses while workloads use the role, or hosts unless
 * `force`. Returns the role and the hosts `force` offboards. Pure.
 * @public
 */
export function planRoleDelete(
  state: State,
  name: string,
  force = false,
): { role: Role; offboardHosts: string[] } {
  const role = state.roles[name];
  if (!role)
    throw new IamRaError("not-found", `There is no role ${name}.`, { hint: "See `iam-ra role list`." });
  const hosts = Object.entries(state.hosts)
    .filter(([, h]) => h.role === name)
    .map(([n]) => n);
  const workloads = Object.values(state.k8s.workloads)
    .filter((w) => w.role === name)
    .map((w) => `workload ${w.name}`);
  if (workloads.length > 0) {
    throw new IamRaError("in-use", `Role ${name} is used by ${workloads.join(", ")}.`, {
      hint: "Offboard them first (iam-ra k8s offboard): their namespace issuers must leave the trust policies.",
    });
  }
  if (!force && hosts.length > 0) {
    throw new IamRaError("in-use", `Role ${name} is used by ${hosts.map((h) => `host ${h}`).join(", ")}.`, {
      hint: "Offboard them first, or pass --force to offboard them too (their certificates are revoked).",
    });
  }
  return { role, offboardHosts: hosts };
}

/** Deletes a role; refuses while hosts or workloads use it unless `force`. @public */
export async function deleteRole(
  deps: AdminDeps,
  name: string,
  force = false,
): Promise<{ name: string; stackName: string }> {
  const ns = await openNamespace(deps);
  const { role, offboardHosts } = planRoleDelete(await requireState(ns), name, force);
  // --force: the hosts go too (revoked, secrets deleted), so a role re-created under the same name
  // never inherits certificates issued for this one.
  for (const hostname of offboardHosts) await offboardHost(deps, hostname);
  deps.progress(`Deleting ${role.stackName}`);
  await deleteStack({
    ...deployOptions(deps),
    stackName: role.stackName,
    onEvent: eventsFor(deps, role.stackName),
  });
  await ns.store.update((draft) => {
    delete draft.roles[name];
  });
  return { name, stackName: role.stackName };
}
