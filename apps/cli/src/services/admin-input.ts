/**
 * Every admin command's input checked before any AWS call, by what each argument and flag is (a
 * namespace, a role, a Kubernetes name, a path to write into…), so no command reaches AWS with a
 * value AWS or the workflow would refuse later. The workflows check again.
 * @module
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { IamRaError } from "@iam-ra/core";
import { parseK8sDuration, validateAdminInput, validateK8sName } from "@iam-ra/core/admin";
import { validateName } from "@iam-ra/core/cloudformation";

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** A directory iam-ra will write into: absent (made) or a directory, never a file. */
function checkOutputDir(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  let isDirectory: boolean;
  try {
    isDirectory = statSync(resolve(path)).isDirectory();
  } catch {
    return; // made when written
  }
  if (!isDirectory) {
    throw new IamRaError("invalid-input", `--${flag} ${path} exists and is not a directory.`, {
      hint: `Pass a directory (it is created when missing), or remove the file.`,
    });
  }
}

function checkDuration(flag: string, value: string | undefined): void {
  if (value !== undefined && parseK8sDuration(value) === undefined) {
    throw new IamRaError("invalid-input", `--${flag} ${value} is not a duration.`, {
      hint: "Write a Go duration such as 24h, 90m or 2160h.",
    });
  }
}

/**
 * Checks an admin command's parsed arguments and flags by name. Throws an `invalid-input` (or
 * `arn-invalid`, `duration-invalid`) error with a hint.
 */
export function checkAdminInput(args: Record<string, unknown>, flags: Record<string, unknown>): void {
  const namespace = text(flags.namespace) ?? "default";
  const region = text(flags.region);
  if (region !== undefined && !REGION.test(region)) {
    throw new IamRaError("invalid-input", `"${region}" is not an AWS region name.`, {
      hint: "Pass a region such as us-east-1 or eu-west-1.",
    });
  }
  const policies = flags.policy;
  validateAdminInput({
    namespace,
    scope: text(flags.scope),
    // A role is named by --role, or by the NAME of the role commands.
    role: text(flags.role) ?? text(args.name),
    hostname: text(args.hostname),
    policies: Array.isArray(policies) ? policies.map(String) : undefined,
    sessionDurationSeconds:
      typeof flags["session-duration"] === "number" ? flags["session-duration"] : undefined,
    bindingTag: text(flags["binding-tag"]),
    pcaArn: text(flags["pca-arn"]),
    validityDays: typeof flags["validity-days"] === "number" ? flags["validity-days"] : undefined,
    caValidityYears: typeof flags["ca-validity-years"] === "number" ? flags["ca-validity-years"] : undefined,
  });
  const cluster = text(args.cluster) ?? text(flags.cluster);
  if (cluster !== undefined) validateName("cluster", cluster);
  const workload = text(args.workload);
  if (workload !== undefined) validateName("workload", workload);
  for (const flag of ["k8s-namespace", "webhook-namespace"]) {
    const value = text(flags[flag]);
    if (value !== undefined) validateK8sName("namespace", value);
  }
  const deployment = text(flags.deployment);
  if (deployment !== undefined) validateK8sName("deployment", deployment, "subdomain");
  const container = text(flags.container);
  if (container !== undefined) validateK8sName("container", container);
  checkDuration("duration", text(flags.duration));
  checkDuration("renew-before", text(flags["renew-before"]));
  checkOutputDir("output-dir", text(flags["output-dir"]));
  checkOutputDir("output", text(flags.output));
}
