import { IamRaError } from "@iam-ra/core";
import { type OnboardWorkloadResult, onboardWorkload } from "@iam-ra/core/admin";
import type { K8sObject } from "@iam-ra/core/k8s";
import { AdminCommand } from "../../admin-command.ts";
import { Args, Flags } from "../../runtime/flags.ts";
import { loadK8s, writeManifestFiles } from "../../services/k8s-output.ts";
import { k8sLocationFlags } from "./flags.ts";

/** What `k8s onboard --json` prints: the manifests as objects (null with --output), or the files. */
export type K8sOnboardResult = Omit<OnboardWorkloadResult, "manifests"> & {
  manifests: K8sObject[] | null;
  files: string[] | null;
};

export class K8sOnboard extends AdminCommand {
  static override summary = "Onboard a Kubernetes workload to a role: print (or write) its manifests.";
  static override description =
    `Emits, in apply order: the namespace issuer's Secret and cert-manager Issuer, a Certificate
(ECDSA P-256, client auth, subject bound to the role), a ConfigMap with the ARNs, and a Deployment
with the iam-ra sidecar as a native sidecar (or, with --patch, a strategic-merge patch for an
existing Deployment; with --webhook, no Deployment: the namespace issuer and the webhook's
namespace-roles ConfigMap, so pods annotated iam-ra.dev/role get the sidecar). The YAML goes to stdout for \`kubectl apply -f -\`, or one file per object
with --output. The first object holds the namespace issuer's private key: treat the output as a
secret. Re-onboarding updates the workload and regenerates everything.`;
  static override examples = [
    "<%= config.bin %> <%= command.id %> billing-api --role billing-reader --cluster prod-eu --k8s-namespace billing --app-image registry.example.com/billing/api:4.2.0 | kubectl apply -f -",
    "<%= config.bin %> <%= command.id %> billing-api --role billing-reader -c prod-eu -k billing --patch --deployment billing-api --output ./k8s/billing",
    "<%= config.bin %> <%= command.id %> billing-api -c prod-eu -k billing --duration 12h --renew-before 4h --json",
    "<%= config.bin %> <%= command.id %> billing -R billing-reader -c prod-eu -k billing --webhook | kubectl apply -f -",
  ];
  static override args = {
    workload: Args.string({ required: true, description: "Workload name (a DNS label, e.g. billing-api)." }),
  };
  static override flags = {
    ...k8sLocationFlags,
    role: Flags.string({ char: "R", description: "Role to bind the workload to (kept when re-onboarding)." }),
    duration: Flags.string({ description: "Certificate lifetime, a Go duration 1h–2160h (default 24h)." }),
    "renew-before": Flags.string({ description: "Renew this long before expiry (default 8h)." }),
    image: Flags.string({
      description: "Sidecar image (default ghcr.io/iam-ra/sidecar:<this CLI's version>).",
      env: "IAM_RA_SIDECAR_IMAGE",
    }),
    "app-image": Flags.string({ description: "Emit a whole Deployment running this application image." }),
    patch: Flags.boolean({ description: "Emit a strategic-merge patch for an existing Deployment instead." }),
    deployment: Flags.string({
      description: "Deployment name (default: the workload's); without --app-image it means --patch.",
    }),
    container: Flags.string({ description: "The application container's name (default: the workload's)." }),
    "fs-group": Flags.integer({
      description: "The pod's fsGroup, which owns the token file (default 1000; keep your Deployment's).",
      min: 0,
      max: 2147483647,
    }),
    output: Flags.string({ char: "o", description: "Write one YAML file per object into this directory." }),
    webhook: Flags.boolean({
      description:
        "No Deployment: the admission webhook injects the sidecar into pods annotated iam-ra.dev/role=<role>. Emits the namespace issuer and the webhook's updated namespace-roles ConfigMap.",
      exclusive: ["app-image", "patch", "deployment", "container"],
    }),
    certificates: Flags.string({
      description:
        "secret: a Certificate whose Secret the pods mount; csi: cert-manager's csi-driver makes each pod its own key and certificate on its node (default: csi with --webhook, else secret; kept when re-onboarding).",
      options: ["secret", "csi"],
    }),
    "webhook-namespace": Flags.string({
      description:
        "The webhook's namespace, where its namespace-roles ConfigMap lives (default iam-ra-system).",
    }),
  };

  async run(): Promise<K8sOnboardResult> {
    const { args, flags } = await this.parse(K8sOnboard);
    // The first object holds the issuer's private key: never onto a terminal (its scrollback, a
    // screen share). Refused before anything is issued.
    if (!flags.output && process.stdout.isTTY) {
      throw new IamRaError(
        "invalid-input",
        "The manifests include the namespace issuer's private key, and stdout is a terminal.",
        {
          hint: `Pipe them (\`iam-ra k8s onboard … | kubectl apply -f -\`) or write them 0600 with --output <dir>.`,
        },
      );
    }
    // The input is checked first; the Kubernetes models load only for input that passes.
    const deps = await this.adminDeps(flags);
    const { renderK8sYaml, SIDECAR_IMAGE_REPOSITORY, toK8sObject } = await loadK8s();
    const result = await onboardWorkload(deps, args.workload, {
      cluster: flags.cluster,
      namespace: flags["k8s-namespace"],
      role: flags.role,
      duration: flags.duration,
      renewBefore: flags["renew-before"],
      sidecarImage: flags.image ?? `${SIDECAR_IMAGE_REPOSITORY}:${this.config.version}`,
      appImage: flags["app-image"],
      patch: flags.patch,
      deployment: flags.deployment,
      container: flags.container,
      fsGroup: flags["fs-group"],
      webhook: flags.webhook || undefined,
      certificates: flags.certificates as "secret" | "csi" | undefined,
      webhookNamespace: flags["webhook-namespace"],
    });
    const { manifests, ...rest } = result;
    const files = flags.output ? await writeManifestFiles(flags.output, manifests) : null;
    if (!this.jsonEnabled()) {
      // Without --output stdout is the YAML stream: the summary goes to stderr.
      const say = files ? (s: string) => this.log(s) : (s: string) => this.logToStderr(s);
      if (!files) process.stdout.write(renderK8sYaml(manifests.map((m) => m.object)));
      say(
        `Workload ${result.namespace}/${result.workload} (${result.cluster}) → role ${result.role}: ${result.outcome}`,
      );
      say(`  issuer   ${result.issuer.issuerName} (${result.issuer.commonName}, ${result.issuer.outcome})`);
      say(`  trusted  ${result.allowedIssuers.join(" | ")}`);
      for (const f of files ?? []) say(`  file     ${f}`);
      if (files) say(`Apply: kubectl apply -f ${flags.output}`);
    }
    return {
      ...rest,
      manifests: files ? null : manifests.map((m) => toK8sObject(m.object)),
      files,
    };
  }
}
