import { Flags } from "../../runtime/flags.ts";

/** The Kubernetes location of a workload. `--namespace` stays the iam-ra namespace, as in every admin command. */
export const k8sLocationFlags = {
  cluster: Flags.string({
    char: "c",
    description: "Cluster name, as given to `k8s setup`.",
    env: "IAM_RA_CLUSTER",
    required: true,
  }),
  "k8s-namespace": Flags.string({
    char: "k",
    description: "The workload's Kubernetes namespace.",
    env: "IAM_RA_K8S_NAMESPACE",
    required: true,
  }),
};
