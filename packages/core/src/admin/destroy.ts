/** `iam-ra destroy`: everything a namespace created, in dependency order; safe to re-run. @module */
import { deleteStack } from "../cloudformation/deploy.ts";
import { stackName } from "../cloudformation/names.ts";
import { IamRaError } from "../errors.ts";
import type { State } from "../state/schema.ts";
import { deleteCaStack } from "./ca.ts";
import { deployOptions, eventsFor, type Namespace, openNamespace } from "./namespace.ts";
import type { AdminDeps } from "./ports.ts";

/** What `destroy` removed. @public */
export interface DestroyResult {
  namespace: string;
  stacks: string[];
  secrets: number;
  bucket: "deleted" | "retained" | "absent";
  /**
   * Kubernetes clusters and workloads (`cluster/namespace/workload`) that were still registered and
   * were forgotten (`forgetClusters`); their issuer Secrets and Issuers stay in the clusters.
   */
  forgotten: { clusters: string[]; workloads: string[] };
}

/** What `destroy` removes, in order (from state; empty when the namespace has none). @public */
export interface DestroyPlan {
  forgotten: DestroyResult["forgotten"];
  /** Host secrets, and the Python iam-ra's host stacks. */
  hosts: Array<{ secretArn: string | null; legacyStackName: string | null }>;
  crlStacks: string[];
  roleStacks: string[];
  caStacks: string[];
}

/**
 * Works out what `destroy` deletes; refuses while Kubernetes clusters or workloads are registered
 * unless `forgetClusters` (their issuers' Secrets stay in the clusters). Pure.
 * @public
 */
export function planDestroy(
  state: State | undefined,
  namespace: string,
  options: { forgetClusters?: boolean | undefined } = {},
): DestroyPlan {
  const forgotten = {
    clusters: Object.keys(state?.k8s.clusters ?? {}).sort(),
    workloads: Object.values(state?.k8s.workloads ?? {})
      .map((w) => `${w.cluster}/${w.namespace}/${w.name}`)
      .sort(),
  };
  // Checked before anything is deleted: the clusters hold issuers only offboarding lists.
  if ((forgotten.clusters.length || forgotten.workloads.length) && !options.forgetClusters) {
    const what = [
      forgotten.clusters.length ? `cluster(s) ${forgotten.clusters.join(", ")}` : "",
      forgotten.workloads.length ? `workload(s) ${forgotten.workloads.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" and ");
    throw new IamRaError(
      "in-use",
      `Namespace ${namespace} still has Kubernetes ${what}; destroying it would forget them and leave their issuers' Secrets in the clusters.`,
      {
        hint: "Offboard the workloads and tear down the clusters first (`iam-ra k8s offboard …`, `iam-ra k8s teardown …`: they print what to delete from the clusters), or pass --forget-clusters.",
      },
    );
  }
  const cas = Object.values(state?.cas ?? {});
  return {
    forgotten,
    hosts: Object.values(state?.hosts ?? {}).map((h) => ({
      secretArn: h.secretArn,
      legacyStackName: h.legacy?.stackName ?? null,
    })),
    crlStacks: cas.flatMap((ca) => (ca.crl ? [ca.crl.stackName] : [])),
    roleStacks: Object.values(state?.roles ?? {}).map((r) => r.stackName),
    caStacks: cas.map((ca) => ca.stackName),
  };
}

/**
 * Removes everything the namespace created: host secrets, CRL, role and CA stacks, the init stack
 * (with its SSM parameters and KMS key, scheduled for deletion), and the bucket with every object
 * version — unless `retainBucket`. Safe to re-run after a partial failure.
 * @public
 */
export async function destroyNamespace(
  deps: AdminDeps,
  options: { retainBucket?: boolean | undefined; forgetClusters?: boolean | undefined } = {},
): Promise<DestroyResult> {
  let ns: Namespace | undefined;
  try {
    ns = await openNamespace(deps);
  } catch (e) {
    if (!(e instanceof IamRaError && e.code === "not-initialized")) throw e;
  }
  const state = ns ? (await ns.store.read())?.state : undefined;
  const plan = planDestroy(state, deps.namespace, options);
  const stacks: string[] = [];
  let secrets = 0;
  const del = async (name: string) => {
    deps.progress(`Deleting ${name}`);
    if (
      (await deleteStack({ ...deployOptions(deps), stackName: name, onEvent: eventsFor(deps, name) })) ===
      "deleted"
    )
      stacks.push(name);
  };
  for (const host of plan.hosts) {
    if (host.secretArn) {
      await deps.secrets.remove(host.secretArn);
      secrets++;
    }
    if (host.legacyStackName) await del(host.legacyStackName);
  }
  for (const name of plan.crlStacks) await del(name);
  for (const name of plan.roleStacks) await del(name);
  for (const name of plan.caStacks) await deleteCaStack(deps, name, () => del(name));
  let bucket: DestroyResult["bucket"] = "absent";
  if (ns) {
    if (options.retainBucket) {
      await ns.store.read().then(() => ns!.bucket.remove(`${deps.namespace}/state.json`));
      bucket = "retained";
    } else {
      deps.progress(`Emptying and deleting bucket ${ns.bucketName}`);
      await ns.bucket.destroy();
      bucket = "deleted";
    }
  }
  await del(stackName(deps.namespace, "init"));
  if (ns && !options.retainBucket) {
    deps.progress("Scheduling the namespace's KMS key for deletion (7 days)");
    await deps.retireKey(ns.kmsKeyArn, 7);
  }
  return { namespace: deps.namespace, stacks, secrets, bucket, forgotten: plan.forgotten };
}
